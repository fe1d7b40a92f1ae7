//! Helpers for the billing and ledger tests: a clock the test can move, members loaded through
//! the real roster import (CSV), accounts, fee items and plans in a few lines, and the book
//! checks every scenario ends with.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use feedesk::billing::{
    self, Bill, BillFilter, Channel, PaymentRequest, PaymentResult, Plan, PlanRequest, PlanTarget,
    RefundRequest, RefundResult,
};
use feedesk::clock::Clock;
use feedesk::ledger;
use feedesk::money::Money;
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest};
use feedesk::{FeeDesk, org};

pub const TERM: &str = "2026秋季学期";

/// A clock the test sets.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// 2026-09-02 09:00 in Shanghai.
pub fn default_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 2, 1, 0, 0).unwrap()
}

pub fn m(text: &str) -> Money {
    text.parse().unwrap()
}

pub fn fen(f: i64) -> Money {
    Money::from_fen(f).unwrap()
}

pub fn day(y: i32, mo: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, mo, d).unwrap()
}

/// Opens `dir` with a movable clock.
pub async fn open(dir: &Path, clock: Arc<TestClock>) -> FeeDesk {
    FeeDesk::open_with(dir, clock, "test:cashier".into())
        .await
        .expect("open desk")
}

/// HQ -> EAST (XH, BJ), WEST (CD); the term; classes XH 一班/二班, BJ 一班, CD 一班.
pub async fn institution(desk: &FeeDesk) {
    use org::UnitKind::*;
    org::init(desk, "星火教育").await.unwrap();
    for (parent, kind, code, name) in [
        ("HQ", Region, "EAST", "华东区"),
        ("HQ", Region, "WEST", "西南区"),
        ("EAST", Store, "XH", "西湖校区"),
        ("EAST", Store, "BJ", "滨江校区"),
        ("WEST", Store, "CD", "成都校区"),
    ] {
        org::add_unit(desk, parent, kind, code, name).await.unwrap();
    }
    org::add_term(desk, TERM, day(2026, 9, 1), day(2027, 1, 20))
        .await
        .unwrap();
    for (store, class) in [
        ("XH", "一班"),
        ("XH", "二班"),
        ("BJ", "一班"),
        ("CD", "一班"),
    ] {
        org::add_class(desk, store, TERM, class).await.unwrap();
    }
}

/// A roster row: (store, member_no, name, class, status).
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// Imports `rows` through the real roster import (a CSV file), into HQ's subtree.
pub async fn roster(desk: &FeeDesk, rows: &[Row<'_>]) {
    let mut text = String::from("学号,姓名,校区,班级,家长手机号码,状态\n");
    for (i, (store, no, name, class, status)) in rows.iter().enumerate() {
        let status = if status.is_empty() { "在读" } else { status };
        // A distinct valid mainland mobile per member number.
        let digits: u64 = no
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(131).wrapping_add(b as u64))
            % 100_000_000;
        let _ = i;
        text.push_str(&format!(
            "{no},{name},{store},{class},138{digits:08},{status}\n"
        ));
    }
    let file = desk.data_dir().join(format!(
        "roster-{}.csv",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::write(&file, text).unwrap();
    let req = ImportRequest {
        file: file.clone(),
        unit_code: "HQ".into(),
        term_name: Some(TERM.into()),
        sheet: None,
        overrides: vec![],
        create_classes: false,
        mode: ImportMode::All,
        dry_run: false,
        errors_out: None,
    };
    let report = roster::import_roster(desk, &req, &ignore_progress, &CancelToken::new())
        .await
        .unwrap();
    assert!(report.committed, "roster refused: {:?}", report.errors);
    let _ = std::fs::remove_file(file);
}

/// Sets one member's status by importing a one-row roster (`在读` or `退学`).
pub async fn set_status(
    desk: &FeeDesk,
    store: &str,
    no: &str,
    name: &str,
    class: &str,
    status: &str,
) {
    roster(desk, &[(store, no, name, class, status)]).await;
}

pub async fn account(desk: &FeeDesk, unit: &str, channel: Channel, name: &str) -> i64 {
    billing::add_account(desk, unit, channel, name)
        .await
        .unwrap()
        .id
}

pub async fn fee(desk: &FeeDesk, unit: &str, name: &str) -> i64 {
    billing::add_fee(desk, unit, name).await.unwrap().id
}

pub fn plan_req(fee: &str, target: PlanTarget, rule: &str, account: &str) -> PlanRequest {
    PlanRequest {
        fee: fee.into(),
        target,
        rule: rule.into(),
        due_on: day(2026, 9, 30),
        allow_partial: false,
        account: account.into(),
        discounts: vec![],
    }
}

pub async fn plan(desk: &FeeDesk, req: PlanRequest) -> Plan {
    billing::add_plan(desk, &req).await.unwrap()
}

pub fn class(name: &str) -> PlanTarget {
    PlanTarget::Class(name.into())
}

pub async fn bills(desk: &FeeDesk, filter: BillFilter) -> Vec<Bill> {
    billing::list_bills(desk, &filter).await.unwrap()
}

pub async fn plan_bills(desk: &FeeDesk, plan_id: i64) -> Vec<Bill> {
    bills(
        desk,
        BillFilter {
            plan_id: Some(plan_id),
            ..Default::default()
        },
    )
    .await
}

pub async fn bill(desk: &FeeDesk, id: i64) -> Bill {
    billing::get_bill(desk, id).await.unwrap().bill
}

/// The bill of `member_no` on `plan_id`.
pub async fn bill_of(desk: &FeeDesk, plan_id: i64, member_no: &str) -> Bill {
    plan_bills(desk, plan_id)
        .await
        .into_iter()
        .find(|b| b.member_no == member_no)
        .unwrap_or_else(|| panic!("no bill for {member_no} on plan {plan_id}"))
}

pub fn pay_req(bill: i64, amount: &str, account: &str, key: &str) -> PaymentRequest {
    PaymentRequest {
        bill_id: bill,
        amount: m(amount),
        account: account.into(),
        reference: None,
        key: key.into(),
    }
}

pub async fn pay(
    desk: &FeeDesk,
    bill: i64,
    amount: &str,
    account: &str,
    key: &str,
) -> feedesk::Result<PaymentResult> {
    billing::record_payment(desk, &pay_req(bill, amount, account, key)).await
}

pub async fn refund(
    desk: &FeeDesk,
    payment: i64,
    amount: &str,
    reason: &str,
    key: &str,
) -> feedesk::Result<RefundResult> {
    billing::refund(
        desk,
        &RefundRequest {
            payment_id: payment,
            amount: m(amount),
            reason: reason.into(),
            key: key.into(),
        },
    )
    .await
}

pub async fn count(desk: &FeeDesk, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(desk.db().pool())
        .await
        .unwrap()
}

/// Everything a refused call must leave alone: every bill, every trial balance line, the
/// number of payments, refunds, journal entries and lines, and the idempotency keys.
pub async fn snapshot(desk: &FeeDesk) -> String {
    let bills = bills(desk, BillFilter::default()).await;
    let tb = ledger::trial_balance(desk, "HQ", true).await.unwrap();
    let mut out = serde_json::to_string(&bills).unwrap();
    out.push_str(&serde_json::to_string(&tb).unwrap());
    for table in [
        "payments",
        "refunds",
        "journal_entries",
        "journal_lines",
        "idempotency_keys",
        "ledger_accounts",
    ] {
        out.push_str(&format!(
            " {table}={}",
            count(desk, &format!("SELECT count(*) FROM {table}")).await
        ));
    }
    out
}

/// The units' codes, each with its parent's code.
pub async fn units(desk: &FeeDesk) -> Vec<(String, Option<String>)> {
    let all = org::list_units(desk).await.unwrap();
    all.iter()
        .map(|u| {
            let parent = u
                .parent_id
                .and_then(|p| all.iter().find(|x| x.id == p))
                .map(|p| p.code.clone());
            (u.code.clone(), parent)
        })
        .collect()
}

/// The books every scenario must end with, checked independently of `ledger::verify` as well
/// as through it:
/// - `verify` finds nothing;
/// - every unit's own trial balance and rolled-up trial balance balance to the fen;
/// - a unit's rollup is exactly its own books plus its children's rollups, account by account;
/// - the receivable (1122) in each unit's own books equals the outstanding of its open and
///   partial bills; its money accounts hold what was paid into them less what was refunded;
///   its inter-unit account (1901) what others hold for it less what it holds for others, and
///   over the whole institution the inter-unit balances cancel;
/// - per bill: paid <= due, refunded <= paid, outstanding = due - paid when open or partial.
pub async fn assert_books(desk: &FeeDesk) {
    let check = ledger::verify(desk).await.unwrap();
    assert!(check.ok(), "ledger verify: {:?}", check.problems);

    let units = units(desk).await;
    let all_bills = bills(desk, BillFilter::default()).await;
    for b in &all_bills {
        assert!(
            b.amount_paid <= b.amount_due,
            "bill {} paid above due",
            b.id
        );
        assert!(
            b.amount_refunded <= b.amount_paid,
            "bill {} refunded above paid",
            b.id
        );
        let open = matches!(b.status.as_str(), "open" | "partial");
        let expect = if open {
            b.amount_due.checked_sub(b.amount_paid).unwrap()
        } else {
            Money::ZERO
        };
        assert_eq!(b.outstanding, expect, "bill {} outstanding", b.id);
        assert!(
            ["open", "partial", "paid", "voided", "refunded"].contains(&b.status.as_str()),
            "{}",
            b.status
        );
    }
    let owner: BTreeMap<i64, String> = billing::list_accounts(desk)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.unit_code))
        .collect();
    let mut rolled: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
    for (code, _) in &units {
        let own = ledger::trial_balance(desk, code, false).await.unwrap();
        let up = ledger::trial_balance(desk, code, true).await.unwrap();
        for tb in [&own, &up] {
            assert!(tb.balanced, "{code} not balanced: {tb:?}");
            assert_eq!(tb.total_debit, tb.total_credit, "{code}");
            let (d, c) = tb.lines.iter().fold((0, 0), |(d, c), l| {
                assert_eq!(
                    l.balance.fen(),
                    l.debit.fen() - l.credit.fen(),
                    "{code} {}",
                    l.code
                );
                (d + l.debit.fen(), c + l.credit.fen())
            });
            assert_eq!((d, c), (tb.total_debit.fen(), tb.total_credit.fen()));
        }
        // Receivable and money in the unit's own books, against its bills.
        let receivable = own
            .lines
            .iter()
            .find(|l| l.code == "1122")
            .map_or(0, |l| l.balance.fen());
        let outstanding: i64 = all_bills
            .iter()
            .filter(|b| &b.unit_code == code)
            .map(|b| b.outstanding.fen())
            .sum();
        assert_eq!(receivable, outstanding, "{code}: receivable vs open bills");
        // Money sits in the books of the unit that owns the collection account (central
        // collection): what was paid into its accounts, less what was refunded from them.
        let held = |b: &Bill| b.amount_paid.fen() - b.amount_refunded.fen();
        let money: i64 = own
            .lines
            .iter()
            .filter(|l| {
                ["1001.", "1002.", "1012."]
                    .iter()
                    .any(|p| l.code.starts_with(p))
            })
            .map(|l| l.balance.fen())
            .sum();
        let net: i64 = all_bills
            .iter()
            .filter(|b| &owner[&b.account_id] == code)
            .map(held)
            .sum();
        assert_eq!(
            money, net,
            "{code}: money accounts vs paid less refunded into them"
        );
        // Inter-unit (1901): what other units hold for this unit's bills, less what this unit
        // holds for other units' bills.
        let inter = own
            .lines
            .iter()
            .find(|l| l.code == "1901")
            .map_or(0, |l| l.balance.fen());
        let owed_to: i64 = all_bills
            .iter()
            .filter(|b| &b.unit_code == code && &owner[&b.account_id] != code)
            .map(held)
            .sum();
        let owed_by: i64 = all_bills
            .iter()
            .filter(|b| &b.unit_code != code && &owner[&b.account_id] == code)
            .map(held)
            .sum();
        assert_eq!(inter, owed_to - owed_by, "{code}: inter-unit balance");
        let lines: BTreeMap<String, (i64, i64)> = up
            .lines
            .iter()
            .map(|l| (l.code.clone(), (l.debit.fen(), l.credit.fen())))
            .collect();
        rolled.insert(code.clone(), lines);
        let mut own_lines: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for l in &own.lines {
            own_lines.insert(l.code.clone(), (l.debit.fen(), l.credit.fen()));
        }
        rolled.insert(format!("own:{code}"), own_lines);
    }
    // A rollup is its own books plus its children's rollups, account by account.
    for (code, _) in &units {
        let mut sum: BTreeMap<String, (i64, i64)> = rolled[&format!("own:{code}")].clone();
        for (child, parent) in &units {
            if parent.as_deref() == Some(code.as_str()) {
                for (acct, (d, c)) in &rolled[child] {
                    let e = sum.entry(acct.clone()).or_insert((0, 0));
                    e.0 += d;
                    e.1 += c;
                }
            }
        }
        sum.retain(|_, v| *v != (0, 0));
        let mut up = rolled[code].clone();
        up.retain(|_, v| *v != (0, 0));
        assert_eq!(up, sum, "{code}: rollup is not own books plus children's");
    }
    // Over the whole institution the inter-unit balances cancel out.
    let root = units
        .iter()
        .find(|(_, parent)| parent.is_none())
        .map(|(c, _)| c.clone());
    if let Some(root) = root {
        let (d, c) = rolled[&root].get("1901").copied().unwrap_or((0, 0));
        assert_eq!(d, c, "inter-unit balances do not cancel at {root}");
    }
}
