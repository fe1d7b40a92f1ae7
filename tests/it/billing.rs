//! Billing and the books through the core API, on a real SQLite data folder: plans of every
//! amount rule issued to classes and units, idempotent re-issue and roster changes, payments
//! and refunds with every refusal, voids, bill statuses, the append-only journal, trial
//! balances rolled up the tree, and `ledger::verify` both passing and catching tampering.

use crate::support::billing_support;

use billing_support::*;
use chrono::{TimeZone, Utc};
use feedesk::billing::{self, BillFilter, Channel, PlanTarget};
use feedesk::{ErrorCode, FeeDesk, ledger};

struct World {
    _dir: tempfile::TempDir,
    desk: FeeDesk,
    clock: std::sync::Arc<TestClock>,
}

/// The institution, its members and accounts:
/// - XH 一班: S003, S001, S002 (imported in that order); XH 二班: S004, S005;
///   BJ 一班: B001, B002; CD 一班: C001.
/// - Accounts: XH 西湖现金 (cash), XH 西湖银行 (bank), BJ 滨江现金, EAST 华东银行 (bank),
///   CD 成都现金, XH 西湖微信 (wechat).
/// - Fee items: XH 学费, XH 材料费, EAST 考试费, BJ 捐赠, CD 学费.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(default_time());
    let desk = open(&dir.path().join("data"), clock.clone()).await;
    institution(&desk).await;
    roster(
        &desk,
        &[
            ("XH", "S003", "王五", "一班", ""),
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S004", "赵六", "二班", ""),
            ("XH", "S005", "孙七", "二班", ""),
            ("BJ", "B001", "周八", "一班", ""),
            ("BJ", "B002", "吴九", "一班", ""),
            ("CD", "C001", "郑十", "一班", ""),
        ],
    )
    .await;
    account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
    account(&desk, "XH", Channel::OfflineBank, "西湖银行").await;
    account(&desk, "BJ", Channel::OfflineCash, "滨江现金").await;
    account(&desk, "EAST", Channel::OfflineBank, "华东银行").await;
    account(&desk, "CD", Channel::OfflineCash, "成都现金").await;
    account(&desk, "XH", Channel::Wechat, "西湖微信").await;
    fee(&desk, "XH", "学费").await;
    fee(&desk, "XH", "材料费").await;
    fee(&desk, "EAST", "考试费").await;
    fee(&desk, "BJ", "捐赠").await;
    fee(&desk, "CD", "学费").await;
    World {
        _dir: dir,
        desk,
        clock,
    }
}

/// (store, member, amount due) of each bill, by store then member number.
fn amounts(bills: &[feedesk::billing::Bill]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = bills
        .iter()
        .map(|b| {
            (
                b.unit_code.clone(),
                b.member_no.clone(),
                b.amount_due.to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn own(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

async fn entries(desk: &FeeDesk) -> i64 {
    count(desk, "SELECT count(*) FROM journal_entries").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_split_charges_every_fen_in_member_number_order_and_reissue_is_idempotent() {
    let w = world().await;
    let d = &w.desk;
    let p = plan(
        d,
        plan_req("XH/学费", class("一班"), "split:100", "西湖现金"),
    )
    .await;
    assert_eq!(p.bills, 0, "nothing is billed before issue");
    let preview = billing::preview_issue(d, p.id).await.unwrap();
    assert!(!preview.committed);
    assert_eq!(preview.new_bills, 3);
    assert_eq!(plan_bills(d, p.id).await.len(), 0, "preview writes nothing");

    let report = billing::issue_plan(d, p.id).await.unwrap();
    assert!(report.committed);
    assert_eq!((report.targeted, report.new_bills), (3, 3));
    assert_eq!(report.new_amount_due, m("100.00"));
    let got = plan_bills(d, p.id).await;
    assert_eq!(
        amounts(&got),
        own(&[
            ("XH", "S001", "33.34"),
            ("XH", "S002", "33.33"),
            ("XH", "S003", "33.33"),
        ]),
        "the leftover fen goes to the first member number, not the first imported"
    );
    assert!(
        got.iter()
            .all(|b| b.status == "open" && b.due_date == "2026-09-30")
    );
    assert_eq!(report.by_unit.len(), 1);
    assert_eq!(report.by_unit[0].amount_due, m("100.00"));
    assert_eq!(entries(d).await, 3, "one journal entry per bill");
    assert_books(d).await;

    // Issuing again changes nothing.
    let before = snapshot(d).await;
    let again = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!(
        (again.new_bills, again.already_billed, again.voided),
        (0, 3, 0)
    );
    assert_eq!(again.new_amount_due, m("0"));
    assert_eq!(snapshot(d).await, before);

    // A newcomer cannot join a split whose shares are fixed: refused, nothing written.
    roster(d, &[("XH", "S006", "新生", "一班", "")]).await;
    let before = snapshot(d).await;
    let err = billing::issue_plan(d, p.id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(err.to_string().contains("new plan"), "{err}");
    assert_eq!(snapshot(d).await, before);
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_unit_wide_split_orders_by_store_then_member_and_books_each_bill_in_its_store() {
    let w = world().await;
    let d = &w.desk;
    // EAST has 7 active members: BJ B001 B002, XH S001..S005. 100.00 / 7 = 14.28 r 4 fen.
    let p = plan(
        d,
        plan_req(
            "考试费",
            PlanTarget::Unit("EAST".into()),
            "split:100",
            "华东银行",
        ),
    )
    .await;
    let report = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!(report.new_bills, 7);
    assert_eq!(
        amounts(&plan_bills(d, p.id).await),
        own(&[
            ("BJ", "B001", "14.29"),
            ("BJ", "B002", "14.29"),
            ("XH", "S001", "14.29"),
            ("XH", "S002", "14.29"),
            ("XH", "S003", "14.28"),
            ("XH", "S004", "14.28"),
            ("XH", "S005", "14.28"),
        ])
    );
    let by: Vec<(String, u64, String)> = report
        .by_unit
        .iter()
        .map(|u| (u.unit_code.clone(), u.bills, u.amount_due.to_string()))
        .collect();
    assert_eq!(
        by,
        vec![
            ("BJ".to_string(), 2, "28.58".to_string()),
            ("XH".to_string(), 5, "71.42".to_string())
        ]
    );
    let bj = ledger::trial_balance(d, "BJ", false).await.unwrap();
    let receivable = bj.lines.iter().find(|l| l.code == "1122").unwrap();
    assert_eq!(
        receivable.balance,
        m("28.58"),
        "BJ's bills are in BJ's books"
    );
    let east = ledger::trial_balance(d, "EAST", false).await.unwrap();
    assert!(
        east.lines.is_empty(),
        "the region keeps no bills of its own"
    );
    let east_up = ledger::trial_balance(d, "EAST", true).await.unwrap();
    assert_eq!(east_up.total_debit, m("100.00"));
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tiers_price_each_bill_by_its_issue_day_in_shanghai() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req(
        "XH/学费",
        class("一班"),
        "tiers:2026-08-15=2800,2026-08-31=2900,3000",
        "西湖现金",
    );
    req.allow_partial = true;
    let p = plan(d, req).await;

    // 2026-08-15 23:59:59 in Shanghai: still the early-bird day.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 15, 15, 59, 59).unwrap());
    billing::issue_plan(d, p.id).await.unwrap();
    // One second later it is 08-16 in Shanghai (still 08-15 in UTC): the second tier.
    roster(d, &[("XH", "S006", "早鸟后", "一班", "")]).await;
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 15, 16, 0, 0).unwrap());
    let r = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!((r.new_bills, r.already_billed), (1, 3));
    // On 08-31 the second tier still applies; from 09-01 the full price.
    roster(d, &[("XH", "S007", "月末", "一班", "")]).await;
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 31, 15, 0, 0).unwrap());
    billing::issue_plan(d, p.id).await.unwrap();
    roster(d, &[("XH", "S008", "开学", "一班", "")]).await;
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 31, 16, 0, 0).unwrap());
    billing::issue_plan(d, p.id).await.unwrap();

    // Issue 15: a tier bill is issued at the price after the last tier, whatever the issue
    // day; the day it is paid prices it (tests/money_paths.rs).
    assert_eq!(
        amounts(&plan_bills(d, p.id).await),
        own(&[
            ("XH", "S001", "3000.00"),
            ("XH", "S002", "3000.00"),
            ("XH", "S003", "3000.00"),
            ("XH", "S006", "3000.00"),
            ("XH", "S007", "3000.00"),
            ("XH", "S008", "3000.00"),
        ]),
        "issued at the late price"
    );
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declared_amount_is_chosen_within_its_range_in_one_payment() {
    let w = world().await;
    let d = &w.desk;
    let mut bad = plan_req("捐赠", class("一班"), "declared:50-500", "滨江现金");
    bad.allow_partial = true;
    let err = billing::add_plan(d, &bad).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    let mut bad = plan_req("捐赠", class("一班"), "declared:50-500", "滨江现金");
    bad.discounts = vec!["B001=10%:兄弟姐妹".into()];
    assert_eq!(
        billing::add_plan(d, &bad).await.unwrap_err().code(),
        ErrorCode::Validation
    );

    let p = plan(
        d,
        plan_req("捐赠", class("一班"), "declared:50-500", "滨江现金"),
    )
    .await;
    billing::issue_plan(d, p.id).await.unwrap();
    let b1 = bill_of(d, p.id, "B001").await;
    let b2 = bill_of(d, p.id, "B002").await;
    assert_eq!(b1.amount_due, m("50.00"), "due the minimum until declared");
    assert_eq!(b1.unit_code, "BJ");

    for amount in ["49.99", "500.01", "0"] {
        let before = snapshot(d).await;
        let err = pay(d, b1.id, amount, "滨江现金", &format!("d-{amount}"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{amount}: {err}");
        assert_eq!(snapshot(d).await, before, "{amount} changed something");
    }
    let r = pay(d, b1.id, "120.00", "滨江现金", "d-120").await.unwrap();
    assert_eq!((r.status.as_str(), r.amount), ("paid", m("120.00")));
    let b1 = bill(d, b1.id).await;
    assert_eq!((b1.amount_due, b1.amount_paid), (m("120.00"), m("120.00")));
    let err = pay(d, b1.id, "50", "滨江现金", "d-again")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    // The maximum and the minimum are both accepted.
    let r = pay(d, b2.id, "500", "滨江现金", "d-500").await.unwrap();
    assert_eq!(r.status, "paid");
    let income = ledger::trial_balance(d, "BJ", false).await.unwrap();
    let fee = income
        .lines
        .iter()
        .find(|l| l.code.starts_with("6001."))
        .unwrap();
    assert_eq!(fee.credit, m("620.00"), "income follows what was declared");
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn discounts_round_half_up_never_go_below_zero_and_keep_their_reason() {
    let w = world().await;
    let d = &w.desk;
    let mut no_reason = plan_req("XH/学费", class("一班"), "fixed:33.25", "西湖现金");
    no_reason.discounts = vec!["S001=10%".into()];
    assert_eq!(
        billing::add_plan(d, &no_reason).await.unwrap_err().code(),
        ErrorCode::Validation
    );
    let mut elsewhere = plan_req("XH/学费", class("一班"), "fixed:33.25", "西湖现金");
    elsewhere.discounts = vec!["C001=10%:不在本校区".into()];
    assert_eq!(
        billing::add_plan(d, &elsewhere).await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    let mut req = plan_req("XH/学费", class("一班"), "fixed:33.25", "西湖现金");
    req.discounts = vec![
        // 10% of 33.25 is 3.325: half up gives 3.33 (banker's rounding would give 3.32).
        "S001=10%:兄弟姐妹".into(),
        // 200.00 off a 33.25 bill takes it to zero, not below.
        "S002=200:奖学金".into(),
        // 12.5% of 33.25 is 4.15625: 4.16.
        "S003=12.5%:困难补助".into(),
    ];
    let p = plan(d, req).await;
    assert_eq!(p.discounts, 3);
    let report = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!(report.new_gross, m("99.75"));
    assert_eq!(report.new_discounts, m("40.74"));
    assert_eq!(report.new_amount_due, m("59.01"));
    let mut got: Vec<(String, String, String, String)> = plan_bills(d, p.id)
        .await
        .iter()
        .map(|b| {
            (
                b.member_no.clone(),
                b.gross.to_string(),
                b.discount.to_string(),
                b.amount_due.to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = [
        ("S001", "33.25", "3.33", "29.92"),
        ("S002", "33.25", "33.25", "0.00"),
        ("S003", "33.25", "4.16", "29.09"),
    ]
    .iter()
    .map(|(a, b, c, e)| (a.to_string(), b.to_string(), c.to_string(), e.to_string()))
    .collect();
    got.sort();
    assert_eq!(got, want);
    let free = bill_of(d, p.id, "S002").await;
    assert_eq!(free.outstanding, m("0"));
    assert!(
        !matches!(free.status.as_str(), "open" | "partial"),
        "a bill discounted to zero owes nothing: {}",
        free.status
    );
    assert!(pay(d, free.id, "0.01", "西湖现金", "free").await.is_err());

    // The books: income at gross, discounts as contra-income, receivable at what is due.
    let xh = ledger::trial_balance(d, "XH", false).await.unwrap();
    let line = |code: &str| xh.lines.iter().find(|l| l.code == code).cloned();
    assert_eq!(line("1122").unwrap().balance, m("59.01"));
    assert_eq!(line("6003").unwrap().balance, m("40.74"));
    let income = xh
        .lines
        .iter()
        .find(|l| l.code.starts_with("6001."))
        .unwrap();
    assert_eq!(income.credit, m("99.75"));

    // The reasons are in the audit log.
    let after: String = sqlx::query_scalar(
        "SELECT after_json FROM audit_log WHERE action = 'plan.add' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(d.db().pool())
    .await
    .unwrap();
    for reason in ["兄弟姐妹", "奖学金", "困难补助"] {
        assert!(after.contains(reason), "{after}");
    }
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reissue_after_a_roster_change_bills_newcomers_voids_unpaid_leavers_and_keeps_paid_ones() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:3000", "西湖现金");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    let s2 = bill_of(d, p.id, "S002").await;
    let s3 = bill_of(d, p.id, "S003").await;
    pay(d, s1.id, "3000", "西湖现金", "k1").await.unwrap();
    pay(d, s2.id, "1000", "西湖现金", "k2").await.unwrap();

    // Everyone in 一班 leaves; a newcomer joins.
    for (no, name) in [("S001", "张三"), ("S002", "李四"), ("S003", "王五")] {
        set_status(d, "XH", no, name, "一班", "退学").await;
    }
    roster(d, &[("XH", "S006", "新生", "一班", "")]).await;
    let preview = billing::preview_issue(d, p.id).await.unwrap();
    let report = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!(
        (preview.new_bills, preview.voided, preview.kept.len()),
        (report.new_bills, report.voided, report.kept.len()),
        "the preview says what the issue does"
    );
    assert_eq!((report.targeted, report.new_bills), (1, 1));
    assert_eq!(report.voided, 1);
    assert_eq!(report.voided_amount, m("3000.00"));
    let mut kept: Vec<(i64, String)> = report
        .kept
        .iter()
        .map(|k| (k.bill_id, k.status.clone()))
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        vec![(s1.id, "paid".to_string()), (s2.id, "partial".to_string())]
    );
    assert!(report.kept.iter().all(|k| k.note.contains("kept")));

    assert_eq!(bill(d, s3.id).await.status, "voided");
    let s1_after = bill(d, s1.id).await;
    let s2_after = bill(d, s2.id).await;
    assert_eq!(s1_after, s1_with(&s1, "paid", "3000.00"));
    assert_eq!(s2_after.status, "partial");
    assert_eq!(s2_after.amount_paid, m("1000.00"));
    assert_eq!(bill_of(d, p.id, "S006").await.amount_due, m("3000.00"));
    assert_books(d).await;

    // Again: nothing more to do.
    let before = snapshot(d).await;
    let again = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!((again.new_bills, again.voided), (0, 0));
    assert_eq!(snapshot(d).await, before);
}

/// `b` after a payment of `paid` that left it `status`.
fn s1_with(b: &feedesk::billing::Bill, status: &str, paid: &str) -> feedesk::billing::Bill {
    feedesk::billing::Bill {
        status: status.into(),
        amount_paid: m(paid),
        outstanding: m("0"),
        ..b.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn payments_go_only_into_the_designated_account_and_never_overpay() {
    let w = world().await;
    let d = &w.desk;
    let p = plan(
        d,
        plan_req("XH/学费", class("一班"), "fixed:3000", "西湖现金"),
    )
    .await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;

    let refused = |amount: &'static str, account: &'static str, needle: &'static str| {
        let d = d.clone();
        async move {
            let before = snapshot(&d).await;
            let err = pay(&d, s1.id, amount, account, &format!("r-{amount}-{account}"))
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains(needle),
                "{amount} into {account}: '{err}' lacks '{needle}'"
            );
            assert_eq!(snapshot(&d).await, before, "a refusal changed something");
            err
        }
    };
    // Another account of the same store, another store's, a channel account: refused, and
    // the message names the designated account.
    for other in ["西湖银行", "滨江现金", "西湖微信", "华东银行"] {
        let err = refused("3000", other, "designated account '西湖现金'").await;
        assert_eq!(err.code(), ErrorCode::Validation);
    }
    assert_eq!(
        refused("3000", "没有这个账户", "no collection account")
            .await
            .code(),
        ErrorCode::NotFound
    );
    refused("3000.01", "西湖现金", "overpayment").await;
    refused("1000", "西湖现金", "does not allow partial").await;
    refused("0", "西湖现金", "above zero").await;
    refused("-5", "西湖现金", "above zero").await;
    assert_eq!(
        pay(d, 999_999, "1", "西湖现金", "nobill")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );

    // The account may be named by its id.
    let cash = billing::find_account(d, "西湖现金").await.unwrap();
    let r = pay(d, s1.id, "3000", &cash.id.to_string(), "ok-1")
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.amount_paid, r.outstanding),
        ("paid", m("3000"), m("0"))
    );
    let err = pay(d, s1.id, "0.01", "西湖现金", "ok-2").await.unwrap_err();
    assert!(err.to_string().contains("already paid"), "{err}");
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_payments_bank_references_and_closed_bills() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/材料费", class("二班"), "fixed:500", "西湖银行");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s4 = bill_of(d, p.id, "S004").await;
    let s5 = bill_of(d, p.id, "S005").await;

    let before = snapshot(d).await;
    let err = pay(d, s4.id, "200", "西湖银行", "b-1").await.unwrap_err();
    assert!(err.to_string().contains("reference"), "{err}");
    let mut blank = pay_req(s4.id, "200", "西湖银行", "b-1");
    blank.reference = Some("  ".into());
    assert!(
        billing::record_payment(d, &blank).await.is_err(),
        "a blank reference is none"
    );
    assert_eq!(snapshot(d).await, before);

    let mut req = pay_req(s4.id, "200", "西湖银行", "b-1");
    req.reference = Some("CMB-20260902-001".into());
    let r = billing::record_payment(d, &req).await.unwrap();
    assert_eq!((r.status.as_str(), r.outstanding), ("partial", m("300.00")));
    assert_eq!(bill(d, s4.id).await.status, "partial");
    let detail = billing::get_bill(d, s4.id).await.unwrap();
    assert_eq!(
        detail.payments[0].reference.as_deref(),
        Some("CMB-20260902-001")
    );
    let mut over = pay_req(s4.id, "300.01", "西湖银行", "b-2");
    over.reference = Some("CMB-2".into());
    assert!(
        billing::record_payment(d, &over)
            .await
            .unwrap_err()
            .to_string()
            .contains("overpayment")
    );
    let mut rest = pay_req(s4.id, "300", "西湖银行", "b-3");
    rest.reference = Some("CMB-3".into());
    let r = billing::record_payment(d, &rest).await.unwrap();
    assert_eq!(r.status, "paid");
    assert_eq!(bill(d, s4.id).await.amount_paid, m("500"));

    // A voided bill and a refunded bill take no money.
    billing::void_bill(d, s5.id, "转班").await.unwrap();
    let mut req = pay_req(s5.id, "500", "西湖银行", "b-4");
    req.reference = Some("CMB-4".into());
    let err = billing::record_payment(d, &req).await.unwrap_err();
    assert!(err.to_string().contains("voided"), "{err}");
    let paid = billing::get_bill(d, s4.id).await.unwrap().payments;
    for (i, p) in paid.iter().enumerate() {
        refund(
            d,
            p.payment_id,
            &p.amount.to_string(),
            "退学退费",
            &format!("rf-{i}"),
        )
        .await
        .unwrap();
    }
    assert_eq!(bill(d, s4.id).await.status, "refunded");
    let mut req = pay_req(s4.id, "1", "西湖银行", "b-5");
    req.reference = Some("CMB-5".into());
    let err = billing::record_payment(d, &req).await.unwrap_err();
    assert!(err.to_string().contains("refunded"), "{err}");

    // A batch is all or nothing.
    let p2 = plan(
        d,
        plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金"),
    )
    .await;
    billing::issue_plan(d, p2.id).await.unwrap();
    let ids: Vec<i64> = plan_bills(d, p2.id).await.iter().map(|b| b.id).collect();
    let before = snapshot(d).await;
    let err = billing::record_payments(
        d,
        &[
            pay_req(ids[0], "100", "西湖现金", "batch-1"),
            pay_req(ids[1], "99", "西湖现金", "batch-2"),
        ],
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains(&format!("bill {}", ids[1])),
        "{err}"
    );
    assert_eq!(
        snapshot(d).await,
        before,
        "nothing of a refused batch is recorded"
    );
    let ok = billing::record_payments(
        d,
        &[
            pay_req(ids[0], "100", "西湖现金", "batch-1"),
            pay_req(ids[1], "100", "西湖现金", "batch-2"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(ok.len(), 2);
    assert_books(d).await;
}

/// A batch (a day's cash sheet) is decided against the bills as the batch itself leaves them:
/// two payments on one bill cannot together overpay it, and a key repeated inside the batch
/// takes effect once.
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_sees_its_own_payments() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    let s2 = bill_of(d, p.id, "S002").await;

    let before = snapshot(d).await;
    let err = billing::record_payments(
        d,
        &[
            pay_req(s1.id, "60", "西湖现金", "sheet-1"),
            pay_req(s1.id, "60", "西湖现金", "sheet-2"),
        ],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("overpayment"), "{err}");
    assert_eq!(snapshot(d).await, before);
    // The same key twice with different requests: refused, nothing recorded.
    let err = billing::record_payments(
        d,
        &[
            pay_req(s1.id, "60", "西湖现金", "sheet-1"),
            pay_req(s2.id, "60", "西湖现金", "sheet-1"),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert_eq!(snapshot(d).await, before);

    let results = billing::record_payments(
        d,
        &[
            pay_req(s1.id, "60", "西湖现金", "sheet-1"),
            pay_req(s1.id, "40", "西湖现金", "sheet-2"),
            // A line entered twice on the sheet: the same payment.
            pay_req(s1.id, "60", "西湖现金", "sheet-1"),
            pay_req(s2.id, "100", "西湖现金", "sheet-3"),
        ],
    )
    .await
    .unwrap();
    let got: Vec<(String, String)> = results
        .iter()
        .map(|r| (r.status.clone(), r.amount_paid.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("partial".to_string(), "60.00".to_string()),
            ("paid".to_string(), "100.00".to_string()),
            ("partial".to_string(), "60.00".to_string()),
            ("paid".to_string(), "100.00".to_string()),
        ]
    );
    assert_eq!(results[0].payment_id, results[2].payment_id);
    assert_eq!(count(d, "SELECT count(*) FROM payments").await, 3);
    assert_eq!(bill(d, s1.id).await.status, "paid");
    // The whole sheet again: nothing new.
    let before = snapshot(d).await;
    let again = billing::record_payments(
        d,
        &[
            pay_req(s1.id, "60", "西湖现金", "sheet-1"),
            pay_req(s1.id, "40", "西湖现金", "sheet-2"),
            pay_req(s2.id, "100", "西湖现金", "sheet-3"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(again.len(), 3);
    assert_eq!(snapshot(d).await, before);
    assert_books(d).await;
}

/// A term plan of HQ charges every member enrolled in a class of the term, once even when
/// enrolled in two classes, each bill in its own store's books, and collects centrally into
/// HQ's account: the money sits in HQ's books, each store records what HQ holds for it, and
/// refunds go back the same way.
#[tokio::test(flavor = "multi_thread")]
async fn a_term_plan_bills_each_member_once_and_collects_centrally() {
    let w = world().await;
    let d = &w.desk;
    // S001 is in 一班 and now also in 二班; C002 has no class this term.
    roster(d, &[("XH", "S001", "张三", "二班", "")]).await;
    roster(d, &[("CD", "C002", "无班", "", "")]).await;
    account(d, "HQ", Channel::OfflineCash, "总部现金").await;
    fee(d, "HQ", "杂费").await;
    let mut req = plan_req(
        "杂费",
        PlanTarget::Term(TERM.into()),
        "fixed:20",
        "总部现金",
    );
    req.allow_partial = true;
    let p = plan(d, req).await;
    let report = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!(report.new_bills, 8, "every enrolled member once");
    let got = amounts(&plan_bills(d, p.id).await);
    assert_eq!(got.len(), 8);
    assert!(!got.iter().any(|(_, no, _)| no == "C002"));
    assert_eq!(got.iter().filter(|(_, no, _)| no == "S001").count(), 1);

    let s1 = bill_of(d, p.id, "S001").await;
    let c1 = bill_of(d, p.id, "C001").await;
    // Only HQ's account takes the money, not the store's own.
    assert!(pay(d, s1.id, "20", "西湖现金", "t-0").await.is_err());
    let ps = pay(d, s1.id, "20", "总部现金", "t-1").await.unwrap();
    pay(d, c1.id, "12.50", "总部现金", "t-2").await.unwrap();
    refund(d, ps.payment_id, "5", "多收", "t-3").await.unwrap();

    let tb = |code: &'static str, rollup: bool| async move {
        ledger::trial_balance(d, code, rollup).await.unwrap()
    };
    let bal = |t: &feedesk::ledger::TrialBalance, code: &str| {
        t.lines
            .iter()
            .filter(|l| l.code == code || l.code.starts_with(&format!("{code}.")))
            .map(|l| l.balance.fen())
            .sum::<i64>()
    };
    let hq_own = tb("HQ", false).await;
    assert_eq!(
        bal(&hq_own, "1001"),
        2750,
        "20.00 + 12.50 - 5.00 in HQ's cash"
    );
    assert_eq!(bal(&hq_own, "1901"), -2750, "HQ holds it for the stores");
    let xh = tb("XH", false).await;
    assert_eq!(bal(&xh, "1901"), 1500, "HQ holds 15.00 for XH");
    assert_eq!(bal(&xh, "1001"), 0);
    assert_eq!(bal(&xh, "6002"), 500, "the refund is XH's");
    let cd = tb("CD", false).await;
    assert_eq!(bal(&cd, "1901"), 1250);
    assert_eq!(bal(&cd, "1122"), 750, "C001 still owes 7.50");
    let east = tb("EAST", true).await;
    assert_eq!(
        bal(&east, "1901"),
        1500,
        "inside EAST nobody holds it: HQ does"
    );
    let hq = tb("HQ", true).await;
    assert_eq!(bal(&hq, "1901"), 0, "over the institution it cancels");
    assert_eq!(bal(&hq, "1001"), 2750);
    assert!(hq.balanced);
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_takes_effect_once_and_refuses_a_different_request() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:300", "西湖现金");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;

    let first = pay(d, s1.id, "100", "西湖现金", "key-1").await.unwrap();
    let before = snapshot(d).await;
    let again = pay(d, s1.id, "100", "西湖现金", "key-1").await.unwrap();
    assert_eq!(again, first, "a retry gets the first result");
    assert_eq!(snapshot(d).await, before, "and changes nothing");
    for (amount, bill) in [("100.01", s1.id), ("100", s1.id + 1)] {
        let err = pay(d, bill, amount, "西湖现金", "key-1").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
        assert!(err.to_string().contains("key-1"), "{err}");
        assert_eq!(snapshot(d).await, before);
    }
    // A key used for a payment cannot be used for a refund.
    let err = refund(d, first.payment_id, "10", "x", "key-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    // A key is required.
    let err = pay(d, s1.id, "100", "西湖现金", "  ").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    // A refused call does not burn its key.
    let err = pay(d, s1.id, "500", "西湖现金", "key-2").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    let second = pay(d, s1.id, "50", "西湖现金", "key-2").await.unwrap();
    assert_ne!(second.payment_id, first.payment_id);

    let r1 = refund(d, first.payment_id, "40", "多收", "rk-1")
        .await
        .unwrap();
    let before = snapshot(d).await;
    assert_eq!(
        refund(d, first.payment_id, "40", "多收", "rk-1")
            .await
            .unwrap(),
        r1
    );
    assert_eq!(snapshot(d).await, before);
    let err = refund(d, first.payment_id, "41", "多收", "rk-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(count(d, "SELECT count(*) FROM refunds").await, 1);
    assert_eq!(count(d, "SELECT count(*) FROM payments").await, 2);
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refunds_never_exceed_what_was_paid_need_a_reason_and_close_the_bill() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:500", "西湖现金");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    let s2 = bill_of(d, p.id, "S002").await;
    let s3 = bill_of(d, p.id, "S003").await;

    // A paid bill, refunded in two parts.
    let pay1 = pay(d, s1.id, "500", "西湖现金", "p1").await.unwrap();
    let before = snapshot(d).await;
    for (amount, reason, needle) in [
        ("100", "  ", "reason"),
        ("0", "退费", "above zero"),
        ("500.01", "退费", "more than"),
    ] {
        let err = refund(d, pay1.payment_id, amount, reason, &format!("bad-{amount}"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        assert!(err.to_string().contains(needle), "{err}");
        assert_eq!(snapshot(d).await, before);
    }
    assert_eq!(
        refund(d, 999_999, "1", "退费", "nopay")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let r = refund(d, pay1.payment_id, "100", "少上两节课", "r1")
        .await
        .unwrap();
    assert_eq!((r.status.as_str(), r.refundable), ("paid", m("400.00")));
    let b = bill(d, s1.id).await;
    assert_eq!((b.amount_paid, b.amount_refunded), (m("500"), m("100")));
    assert_books(d).await;
    let err = refund(d, pay1.payment_id, "400.01", "退费", "r2")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than"), "{err}");
    let r = refund(d, pay1.payment_id, "400", "退学", "r3")
        .await
        .unwrap();
    assert_eq!((r.status.as_str(), r.refundable), ("refunded", m("0")));
    assert_eq!(bill(d, s1.id).await.status, "refunded");
    assert!(
        refund(d, pay1.payment_id, "0.01", "退费", "r4")
            .await
            .is_err()
    );

    // A partly paid bill fully refunded is closed: the member no longer owes the rest.
    let pay2 = pay(d, s2.id, "200", "西湖现金", "p2").await.unwrap();
    assert_eq!(pay2.status, "partial");
    let r = refund(d, pay2.payment_id, "200", "退学", "r5")
        .await
        .unwrap();
    assert_eq!(r.status, "refunded");
    let b = bill(d, s2.id).await;
    assert_eq!((b.status.as_str(), b.outstanding), ("refunded", m("0")));
    assert_books(d).await;

    // Two payments: each refunds at most itself; the bill closes when both are refunded.
    let a = pay(d, s3.id, "200", "西湖现金", "p3a").await.unwrap();
    let bpay = pay(d, s3.id, "100", "西湖现金", "p3b").await.unwrap();
    let err = refund(d, a.payment_id, "250", "退费", "r6")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than"), "{err}");
    let r = refund(d, a.payment_id, "200", "退费", "r7").await.unwrap();
    assert_eq!(r.status, "partial", "100 of 300 paid is still held");
    assert_books(d).await;
    let r = refund(d, bpay.payment_id, "100", "退费", "r8")
        .await
        .unwrap();
    assert_eq!(r.status, "refunded");
    let b = bill(d, s3.id).await;
    assert_eq!(
        (b.amount_paid, b.amount_refunded, b.outstanding),
        (m("300"), m("300"), m("0"))
    );

    // Nothing is left receivable in XH; the cash account is back to zero.
    let xh = ledger::trial_balance(d, "XH", false).await.unwrap();
    for l in &xh.lines {
        if l.code == "1122" || l.code.starts_with("1001.") {
            assert_eq!(l.balance, m("0"), "{}", l.code);
        }
    }
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_unpaid_bills_are_voided_and_statuses_follow_the_money() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    let s2 = bill_of(d, p.id, "S002").await;
    let s3 = bill_of(d, p.id, "S003").await;
    assert_eq!(s1.status, "open");

    let r = pay(d, s1.id, "40", "西湖现金", "v1").await.unwrap();
    assert_eq!(bill(d, s1.id).await.status, "partial");
    let before = snapshot(d).await;
    let err = billing::void_bill(d, s1.id, "错开").await.unwrap_err();
    assert!(err.to_string().contains("refund"), "{err}");
    assert_eq!(snapshot(d).await, before);
    pay(d, s1.id, "60", "西湖现金", "v2").await.unwrap();
    assert_eq!(bill(d, s1.id).await.status, "paid");
    assert!(billing::void_bill(d, s1.id, "错开").await.is_err());

    assert_eq!(
        billing::void_bill(d, s2.id, " ").await.unwrap_err().code(),
        ErrorCode::Validation
    );
    let voided = billing::void_bill(d, s2.id, "重复开单").await.unwrap();
    assert_eq!(voided.status, "voided");
    assert_eq!(voided.note.as_deref(), Some("重复开单"));
    let before = snapshot(d).await;
    assert_eq!(
        billing::void_bill(d, s2.id, "again").await.unwrap().status,
        "voided"
    );
    assert_eq!(
        snapshot(d).await,
        before,
        "voiding a voided bill changes nothing"
    );

    // Refunded bills stay closed.
    let p3 = pay(d, s3.id, "100", "西湖现金", "v3").await.unwrap();
    refund(d, p3.payment_id, "100", "退学", "v4").await.unwrap();
    assert!(billing::void_bill(d, s3.id, "x").await.is_err());
    let _ = r;

    let mut statuses: Vec<(String, String)> = plan_bills(d, p.id)
        .await
        .iter()
        .map(|b| (b.member_no.clone(), b.status.clone()))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        vec![
            ("S001".into(), "paid".into()),
            ("S002".into(), "voided".into()),
            ("S003".into(), "refunded".into())
        ]
    );
    for status in ["open", "partial", "paid", "voided", "refunded"] {
        let listed = bills(
            d,
            BillFilter {
                status: Some(status.into()),
                ..Default::default()
            },
        )
        .await;
        assert!(listed.iter().all(|b| b.status == status));
    }
    assert!(
        billing::list_bills(
            d,
            &BillFilter {
                status: Some("closed".into()),
                ..Default::default()
            }
        )
        .await
        .is_err()
    );
    // The void reversed the bill: XH's receivable holds nothing now.
    let xh = ledger::trial_balance(d, "XH", false).await.unwrap();
    assert_eq!(
        xh.lines.iter().find(|l| l.code == "1122").unwrap().balance,
        m("0")
    );
    assert_books(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn journal_entries_and_lines_are_append_only() {
    let w = world().await;
    let d = &w.desk;
    let p = plan(
        d,
        plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金"),
    )
    .await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    pay(d, s1.id, "100", "西湖现金", "a1").await.unwrap();
    let before = snapshot(d).await;
    for sql in [
        "UPDATE journal_entries SET memo = 'edited'",
        "UPDATE journal_entries SET total_fen = total_fen + 1",
        "DELETE FROM journal_entries WHERE id = (SELECT max(id) FROM journal_entries)",
        "UPDATE journal_lines SET debit_fen = debit_fen + 1 WHERE debit_fen > 0",
        "DELETE FROM journal_lines",
        "DELETE FROM bills",
    ] {
        let err = sqlx::query(sql).execute(d.db().pool()).await;
        assert!(err.is_err(), "{sql} was allowed");
        let msg = err.unwrap_err().to_string();
        assert!(
            msg.contains("append-only") || msg.contains("never deleted"),
            "{sql}: {msg}"
        );
    }
    // Through a transaction too, and the core's own error mapping names the rule.
    let mut tx = d.db().write().await.unwrap();
    let err = sqlx::query("DELETE FROM journal_lines")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    let mapped: feedesk::Error = err.into();
    assert_eq!(mapped.code(), ErrorCode::Conflict);
    drop(tx);
    assert_eq!(snapshot(d).await, before);
    assert_books(d).await;
}

/// A chain with money in every store: the books balance to the fen per store, per region
/// rolled up, and at HQ, and each level is exactly the sum of the level below.
#[tokio::test(flavor = "multi_thread")]
async fn trial_balances_balance_per_store_region_and_hq_and_roll_up_exactly() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "split:100", "西湖现金");
    req.allow_partial = true;
    let xh = plan(d, req).await;
    let bj = plan(
        d,
        plan_req(
            "考试费",
            PlanTarget::Unit("BJ".into()),
            "fixed:88.88",
            "华东银行",
        ),
    )
    .await;
    let cd = plan(
        d,
        plan_req("CD/学费", class("CD/一班"), "fixed:1999.99", "成都现金"),
    )
    .await;
    for p in [&xh, &bj, &cd] {
        billing::issue_plan(d, p.id).await.unwrap();
    }
    let s1 = bill_of(d, xh.id, "S001").await;
    let s2 = bill_of(d, xh.id, "S002").await;
    let r1 = pay(d, s1.id, "33.34", "西湖现金", "t1").await.unwrap();
    pay(d, s2.id, "0.01", "西湖现金", "t2").await.unwrap();
    refund(d, r1.payment_id, "0.34", "找零", "t3")
        .await
        .unwrap();
    let b1 = bill_of(d, bj.id, "B001").await;
    let mut req = pay_req(b1.id, "88.88", "华东银行", "t4");
    req.reference = Some("ICBC-1".into());
    billing::record_payment(d, &req).await.unwrap();
    let c1 = bill_of(d, cd.id, "C001").await;
    let rc = pay(d, c1.id, "1999.99", "成都现金", "t5").await.unwrap();
    refund(d, rc.payment_id, "1999.99", "退学", "t6")
        .await
        .unwrap();

    let tb = |code: &'static str, rollup: bool| async move {
        ledger::trial_balance(d, code, rollup).await.unwrap()
    };
    let bal = |t: &feedesk::ledger::TrialBalance, code: &str| {
        t.lines
            .iter()
            .find(|l| l.code == code || l.code.starts_with(&format!("{code}.")))
            .map(|l| l.balance.to_string())
            .unwrap_or_default()
    };
    let xh_tb = tb("XH", false).await;
    assert_eq!(
        xh_tb.total_debit,
        m("133.69"),
        "bills 100 + payments 33.35 + refund 0.34"
    );
    assert_eq!(bal(&xh_tb, "1122"), "66.65");
    assert_eq!(bal(&xh_tb, "1001"), "33.01");
    assert_eq!(bal(&xh_tb, "6002"), "0.34");
    assert_eq!(bal(&xh_tb, "6001"), "-100.00");
    // BJ's exam fee is collected centrally into EAST's bank account: the money sits in EAST's
    // books, BJ records what EAST holds for it (内部往来), and the two cancel in the rollup.
    let bj_tb = tb("BJ", false).await;
    assert_eq!(bal(&bj_tb, "1122"), "88.88", "B002 is still owed");
    assert_eq!(bal(&bj_tb, "1002"), "", "no money sits in BJ's books");
    assert_eq!(bal(&bj_tb, "1901"), "88.88", "EAST holds 88.88 for BJ");
    let east_own = tb("EAST", false).await;
    assert_eq!(bal(&east_own, "1002"), "88.88");
    assert_eq!(bal(&east_own, "1901"), "-88.88", "EAST owes it to BJ");
    assert!(east_own.balanced);
    let cd_tb = tb("CD", false).await;
    assert_eq!(bal(&cd_tb, "1122"), "0.00");
    assert_eq!(bal(&cd_tb, "1001"), "0.00");
    assert_eq!(bal(&cd_tb, "6002"), "1999.99");

    let east = tb("EAST", true).await;
    let west = tb("WEST", true).await;
    let hq = tb("HQ", true).await;
    let fen = |t: &feedesk::ledger::TrialBalance| (t.total_debit.fen(), t.total_credit.fen());
    let add = |ts: &[&feedesk::ledger::TrialBalance]| {
        ts.iter().fold((0, 0), |(d, c), t| {
            (d + t.total_debit.fen(), c + t.total_credit.fen())
        })
    };
    assert_eq!(
        fen(&east),
        add(&[&xh_tb, &bj_tb, &east_own]),
        "EAST is its stores and itself"
    );
    assert_eq!(fen(&west), fen(&cd_tb));
    assert_eq!(fen(&hq), add(&[&east, &west]), "HQ is its regions");
    assert_eq!(
        fen(&hq),
        add(&[&xh_tb, &bj_tb, &cd_tb, &east_own]),
        "HQ is every unit's books"
    );
    assert!(hq.balanced && east.balanced && west.balanced);
    assert_eq!(
        bal(&east, "1901"),
        "0.00",
        "inter-unit balances cancel inside EAST"
    );
    assert_eq!(bal(&hq, "1901"), "0.00");
    assert_eq!(bal(&east, "1002"), "88.88");
    assert_eq!(bal(&hq, "1122"), "155.53", "66.65 + 88.88 + 0");
    assert_eq!(bal(&hq, "1001"), "33.01", "cash: XH 33.01, CD 0");
    assert_eq!(bal(&hq, "6002"), "2000.33", "refunds: 0.34 + 1999.99");
    assert!(
        tb("HQ", false).await.lines.is_empty(),
        "HQ has no books of its own here"
    );
    assert!(ledger::trial_balance(d, "NOPE", true).await.is_err());
    assert_books(d).await;
}

/// `verify` is only worth something if it can fail: each deliberate break is reported.
#[tokio::test(flavor = "multi_thread")]
async fn verify_reports_each_deliberate_break() {
    let w = world().await;
    let d = &w.desk;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金");
    req.allow_partial = true;
    let p = plan(d, req).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    let r = pay(d, s1.id, "40", "西湖现金", "x1").await.unwrap();
    assert_books(d).await;
    let pool = d.db().pool();
    let exec = |sql: &'static str| async move {
        sqlx::query(sql).execute(pool).await.unwrap();
    };
    let problems = || async { ledger::verify(d).await.unwrap().problems };

    // The dashboard's totals drift from the bills.
    exec("UPDATE bill_totals SET due_fen = due_fen + 1 WHERE status = 'open'").await;
    let found = problems().await;
    assert!(
        found.iter().any(|p| p.contains("dashboard totals")),
        "{found:?}"
    );
    exec("UPDATE bill_totals SET due_fen = due_fen - 1 WHERE status = 'open'").await;
    assert!(problems().await.is_empty());

    // A running balance drifts from its lines.
    exec("UPDATE ledger_balances SET debit_fen = debit_fen + 1 WHERE account_id = (SELECT min(account_id) FROM ledger_balances)").await;
    let found = problems().await;
    assert!(
        found.iter().any(|p| p.contains("running balance")),
        "{found:?}"
    );
    exec("UPDATE ledger_balances SET debit_fen = debit_fen - 1 WHERE account_id = (SELECT min(account_id) FROM ledger_balances)").await;
    assert!(problems().await.is_empty());

    // A bill claims more than its payments (and its unit's receivable no longer agrees).
    sqlx::query("UPDATE bills SET paid_fen = paid_fen + 1 WHERE id = ?")
        .bind(s1.id)
        .execute(pool)
        .await
        .unwrap();
    let found = problems().await;
    assert!(
        found
            .iter()
            .any(|p| p.contains(&format!("paid on bill {}", s1.id))),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.contains("receivable")), "{found:?}");
    sqlx::query("UPDATE bills SET paid_fen = paid_fen - 1 WHERE id = ?")
        .bind(s1.id)
        .execute(pool)
        .await
        .unwrap();
    assert!(problems().await.is_empty());

    // A status that does not match the money.
    sqlx::query("UPDATE bills SET status = 'paid' WHERE id = ?")
        .bind(s1.id)
        .execute(pool)
        .await
        .unwrap();
    let found = problems().await;
    assert!(
        found
            .iter()
            .any(|p| p.contains(&format!("status of bill {}", s1.id))),
        "{found:?}"
    );
    sqlx::query("UPDATE bills SET status = 'partial' WHERE id = ?")
        .bind(s1.id)
        .execute(pool)
        .await
        .unwrap();
    assert!(problems().await.is_empty());

    // A refund row nobody booked.
    sqlx::query(
        "INSERT INTO refunds (payment_id, amount_fen, reason, refunded_at, actor) VALUES (?, 1, 'x', 'now', 'x')",
    )
    .bind(r.payment_id)
    .execute(pool)
    .await
    .unwrap();
    let found = problems().await;
    assert!(
        found
            .iter()
            .any(|p| p.contains(&format!("refunded on payment {}", r.payment_id))),
        "{found:?}"
    );
    exec("DELETE FROM refunds").await;
    assert!(problems().await.is_empty());

    // Last (the journal cannot be repaired): an entry whose lines do not add up to its total.
    // One debit line of 5.00 under a declared total of 5.00: allowed line by line by the
    // trigger, but the credit side never arrives.
    let unit: i64 = sqlx::query_scalar("SELECT id FROM units WHERE code = 'XH'")
        .fetch_one(pool)
        .await
        .unwrap();
    let account: i64 =
        sqlx::query_scalar("SELECT id FROM ledger_accounts WHERE unit_id = ? AND code = '6002'")
            .bind(unit)
            .fetch_optional(pool)
            .await
            .unwrap()
            .unwrap_or(0);
    let account = if account == 0 {
        sqlx::query_scalar(
            "INSERT INTO ledger_accounts (unit_id, code, name, kind) VALUES (?, '6002', '退费', 'contra_income') RETURNING id",
        )
        .bind(unit)
        .fetch_one(pool)
        .await
        .unwrap()
    } else {
        account
    };
    let entry: i64 = sqlx::query_scalar(
        "INSERT INTO journal_entries (unit_id, posted_at, kind, memo, total_fen) VALUES (?, 'now', 'bogus', 'bogus', 500) RETURNING id",
    )
    .bind(unit)
    .fetch_one(pool)
    .await
    .unwrap();
    // A line past the entry's total is refused outright.
    assert!(
        sqlx::query("INSERT INTO journal_lines (entry_id, account_id, debit_fen, credit_fen) VALUES (?, ?, 501, 0)")
            .bind(entry)
            .bind(account)
            .execute(pool)
            .await
            .is_err()
    );
    sqlx::query("INSERT INTO journal_lines (entry_id, account_id, debit_fen, credit_fen) VALUES (?, ?, 500, 0)")
        .bind(entry)
        .bind(account)
        .execute(pool)
        .await
        .unwrap();
    let found = problems().await;
    assert!(
        found
            .iter()
            .any(|p| p.contains(&format!("journal entry {entry}"))),
        "{found:?}"
    );
    let tb = ledger::trial_balance(d, "XH", false).await.unwrap();
    assert!(!tb.balanced, "the trial balance shows it too");
    let hq = ledger::trial_balance(d, "HQ", true).await.unwrap();
    assert!(!hq.balanced);
}
