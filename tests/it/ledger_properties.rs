//! Property tests of the books: random sequences of issues, payments (right and wrong amounts
//! and accounts), refunds (within and above what is left), voids and roster changes over four
//! plans in three stores. After every step:
//! - a refused call changed nothing, and each call was refused exactly when the rules say so;
//! - debits equal credits in every unit's own books and in every rollup, and each rollup is its
//!   own books plus its children's;
//! - per bill paid <= due and refunded <= paid;
//! - the receivable in each unit's books equals the outstanding of its open and partial bills;
//! - `ledger::verify` finds nothing.
//!
//! (Allocation properties live beside `money::allocate`.)

use crate::support::billing_support;

use std::path::PathBuf;
use std::sync::OnceLock;

use billing_support::*;
use feedesk::billing::{self, Bill, BillFilter, Channel, PlanTarget};
use feedesk::money::Money;
use feedesk::{ErrorCode, FeeDesk};
use proptest::prelude::*;

/// (store, member number, name, class)
const MEMBERS: [(&str, &str, &str, &str); 9] = [
    ("XH", "S001", "张三", "一班"),
    ("XH", "S002", "李四", "一班"),
    ("XH", "S003", "王五", "一班"),
    ("XH", "S004", "赵六", "二班"),
    ("XH", "S005", "孙七", "二班"),
    ("BJ", "B001", "周八", "一班"),
    ("BJ", "B002", "吴九", "一班"),
    ("CD", "C001", "郑十", "一班"),
    ("CD", "C002", "钱一", "一班"),
];

/// Accounts by name, in the order `Op::Pay::account` picks them.
const ACCOUNTS: [&str; 6] = [
    "西湖现金",
    "华东银行",
    "成都现金",
    "总部现金",
    "滨江现金",
    "西湖微信",
];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A database with the institution, members, accounts, fee items and four plans, none issued;
/// each case starts from a copy of it.
/// - plan 1: XH 一班, fixed 100.00, partial allowed, S002 12.5% off, into 西湖现金;
/// - plan 2: all of EAST (XH and BJ), 100.00 split, in full only, into EAST's bank account;
/// - plan 3: CD 一班, self-declared 50.00-500.00, into 成都现金;
/// - plan 4: the term, every store, fixed 33.33, partial allowed, into HQ's cash account.
fn template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("template.sqlite");
            runtime().block_on(async {
                let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
                institution(&desk).await;
                let rows: Vec<Row> = MEMBERS
                    .iter()
                    .map(|(s, n, name, c)| (*s, *n, *name, *c, ""))
                    .collect();
                roster(&desk, &rows).await;
                account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
                account(&desk, "EAST", Channel::OfflineBank, "华东银行").await;
                account(&desk, "CD", Channel::OfflineCash, "成都现金").await;
                account(&desk, "HQ", Channel::OfflineCash, "总部现金").await;
                account(&desk, "BJ", Channel::OfflineCash, "滨江现金").await;
                account(&desk, "XH", Channel::Wechat, "西湖微信").await;
                fee(&desk, "XH", "学费").await;
                fee(&desk, "EAST", "考试费").await;
                fee(&desk, "CD", "学费").await;
                fee(&desk, "HQ", "杂费").await;
                let mut p1 = plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金");
                p1.allow_partial = true;
                p1.discounts = vec!["S002=12.5%:兄弟姐妹".into()];
                let p2 = plan_req(
                    "考试费",
                    PlanTarget::Unit("EAST".into()),
                    "split:100",
                    "华东银行",
                );
                let p3 = plan_req("CD/学费", class("CD/一班"), "declared:50-500", "成都现金");
                let mut p4 = plan_req(
                    "杂费",
                    PlanTarget::Term(TERM.into()),
                    "fixed:33.33",
                    "总部现金",
                );
                p4.allow_partial = true;
                for (i, req) in [p1, p2, p3, p4].into_iter().enumerate() {
                    assert_eq!(plan(&desk, req).await.id, i as i64 + 1);
                }
                feedesk::db::backup_to(desk.db(), &file).await.unwrap();
                desk.db().clone().close().await;
            });
            (dir, file)
        })
        .1
}

#[derive(Debug, Clone)]
enum Op {
    Issue {
        plan: i64,
    },
    Pay {
        bill: usize,
        amount: AmountKind,
        /// Index into ACCOUNTS, or None for the bill's designated account.
        account: Option<usize>,
        reference: bool,
    },
    Refund {
        payment: usize,
        amount: AmountKind,
        reason: bool,
    },
    Void {
        bill: usize,
    },
    /// Withdraw (false) or re-activate (true) a member through a roster import.
    Status {
        member: usize,
        active: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum AmountKind {
    /// All that is left (owed, or refundable).
    All,
    /// Some of it: 1 fen up to all, scaled by the value (0..1000 per mille).
    Part(u16),
    /// More than is left by this many fen.
    Over(u32),
    Zero,
    /// Any amount in fen.
    Any(u32),
}

fn amount_kind() -> impl Strategy<Value = AmountKind> {
    prop_oneof![
        3 => Just(AmountKind::All),
        3 => (0u16..1000).prop_map(AmountKind::Part),
        1 => (1u32..20_000).prop_map(AmountKind::Over),
        1 => Just(AmountKind::Zero),
        1 => (1u32..60_000).prop_map(AmountKind::Any),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..=4).prop_map(|plan| Op::Issue { plan }),
        6 => (0usize..64, amount_kind(), prop::option::weighted(0.15, 0usize..ACCOUNTS.len()), prop::bool::weighted(0.85))
            .prop_map(|(bill, amount, account, reference)| Op::Pay { bill, amount, account, reference }),
        4 => (0usize..64, amount_kind(), prop::bool::weighted(0.9))
            .prop_map(|(payment, amount, reason)| Op::Refund { payment, amount, reason }),
        1 => (0usize..64).prop_map(|bill| Op::Void { bill }),
        1 => (0usize..MEMBERS.len(), any::<bool>()).prop_map(|(member, active)| Op::Status { member, active }),
    ]
}

fn resolve(kind: AmountKind, left: i64) -> i64 {
    match kind {
        AmountKind::All => left,
        AmountKind::Part(pm) => 1 + (left - 1).max(0) * i64::from(pm) / 1000,
        AmountKind::Over(n) => left + i64::from(n),
        AmountKind::Zero => 0,
        AmountKind::Any(n) => i64::from(n),
    }
}

async fn all_bills(desk: &FeeDesk) -> Vec<Bill> {
    let mut b = bills(desk, BillFilter::default()).await;
    b.sort_by_key(|b| b.id);
    b
}

/// A refusal of a payment, refund or void is a rule's refusal worded for a person (validation,
/// or not found): never the database's last line of defence (a CHECK constraint, which surfaces
/// as a conflict or a storage error) nor an internal error. Every step uses a fresh key, so no
/// refusal here is an idempotency conflict.
fn rule_refusal(e: &feedesk::Error) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(e.code(), ErrorCode::Validation | ErrorCode::NotFound),
        "refused by something other than a rule: {:?}",
        e
    );
    Ok(())
}

/// Runs one step, checking that it was accepted exactly when the rules say and that a refused
/// step changed nothing. Returns a label for the statistics.
async fn step(desk: &FeeDesk, op: &Op, n: usize) -> Result<&'static str, TestCaseError> {
    let before = snapshot(desk).await;
    let key = format!("k{n}");
    match op {
        Op::Issue { plan } => {
            let p = billing::get_plan(desk, *plan).await.unwrap();
            match billing::issue_plan(desk, *plan).await {
                Ok(r) => {
                    prop_assert!(r.committed);
                    // No member who left keeps an unpaid bill open.
                    let left: Vec<(String, String)> = feedesk::org::list_members(
                        desk,
                        &feedesk::org::MemberFilter {
                            status: Some("withdrawn".into()),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| (m.unit, m.member_no))
                    .collect();
                    for b in plan_bills(desk, *plan).await {
                        let gone = left.contains(&(b.unit_code.clone(), b.member_no.clone()));
                        prop_assert!(
                            !gone || b.status != "open" || b.amount_paid != Money::ZERO,
                            "bill {} of a member who left is still open",
                            b.id
                        );
                    }
                    // No member has two live bills on the plan (one voided because they left
                    // and a new one after they came back is fine).
                    let live = plan_bills(desk, *plan)
                        .await
                        .into_iter()
                        .filter(|b| b.status != "voided")
                        .count();
                    prop_assert_eq!(
                        live as i64,
                        count(
                            desk,
                            &format!(
                                "SELECT count(DISTINCT member_id) FROM bills
                                 WHERE plan_id = {plan} AND status <> 'voided'"
                            )
                        )
                        .await
                    );
                    prop_assert_eq!(
                        billing::preview_issue(desk, *plan).await.unwrap().new_bills,
                        0
                    );
                    Ok("issue")
                }
                Err(e) => {
                    prop_assert_eq!(e.code(), ErrorCode::Conflict, "{}", e);
                    prop_assert!(
                        p.rule.starts_with("split:"),
                        "only a split refuses newcomers: {}",
                        e
                    );
                    prop_assert_eq!(snapshot(desk).await, before);
                    Ok("issue refused")
                }
            }
        }
        Op::Pay {
            bill: sel,
            amount,
            account,
            reference,
        } => {
            let list = all_bills(desk).await;
            if list.is_empty() {
                return Ok("no bill");
            }
            let b = &list[sel % list.len()];
            let p = billing::get_plan(desk, b.plan).await.unwrap();
            let owed = b.amount_due.fen() - b.amount_paid.fen();
            let declared = p.rule.starts_with("declared:");
            let fen = if declared {
                // Aim at the declared range (50.00-500.00) as well as around it.
                match amount {
                    AmountKind::All => 5000,
                    AmountKind::Part(pm) => 5000 + 45000 * i64::from(*pm) / 1000,
                    AmountKind::Over(n) => 50000 + i64::from(*n),
                    AmountKind::Zero => 0,
                    AmountKind::Any(n) => i64::from(*n),
                }
            } else {
                resolve(*amount, owed)
            };
            let account_name = account.map_or(b.account.clone(), |i| ACCOUNTS[i].to_string());
            let bank = account_name == "华东银行";
            let mut req = pay_req(b.id, &fen_text(fen), &account_name, &key);
            if *reference {
                req.reference = Some(format!("REF-{n}"));
            }
            let open = matches!(b.status.as_str(), "open" | "partial");
            let must = open
                && account_name == b.account
                && (!bank || *reference)
                && fen > 0
                && if declared {
                    b.amount_paid.fen() == 0 && (5000..=50000).contains(&fen)
                } else {
                    fen <= owed && (p.allow_partial || fen == owed)
                };
            match billing::record_payment(desk, &req).await {
                Ok(r) => {
                    prop_assert!(must, "accepted against the rules: {:?} on {:?}", req, b);
                    let after = bill(desk, b.id).await;
                    prop_assert_eq!(after.amount_paid.fen(), b.amount_paid.fen() + fen);
                    let due = if declared {
                        fen.max(b.amount_due.fen())
                    } else {
                        b.amount_due.fen()
                    };
                    prop_assert_eq!(after.amount_due.fen(), due);
                    let status = if after.amount_paid.fen() == due {
                        "paid"
                    } else {
                        "partial"
                    };
                    prop_assert_eq!(after.status.as_str(), status);
                    prop_assert_eq!(r.status.as_str(), status);
                    // The retry is the same payment.
                    prop_assert_eq!(billing::record_payment(desk, &req).await.unwrap(), r);
                    Ok("pay")
                }
                Err(e) => {
                    rule_refusal(&e)?;
                    prop_assert!(
                        !must,
                        "refused against the rules: {:?} on {:?}: {}",
                        req,
                        b,
                        e
                    );
                    prop_assert_eq!(
                        snapshot(desk).await,
                        before,
                        "a refused payment changed something: {}",
                        e
                    );
                    Ok("pay refused")
                }
            }
        }
        Op::Refund {
            payment,
            amount,
            reason,
        } => {
            let payments: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
                "SELECT id, bill_id, amount_fen, refunded_fen FROM payments ORDER BY id",
            )
            .fetch_all(desk.db().pool())
            .await
            .unwrap();
            if payments.is_empty() {
                return Ok("no payment");
            }
            let (pid, bill_id, paid, refunded) = payments[payment % payments.len()];
            let left = paid - refunded;
            let fen = resolve(*amount, left);
            let b = bill(desk, bill_id).await;
            let must = *reason && fen > 0 && fen <= left;
            let why = if *reason { "退费" } else { "" };
            match refund(desk, pid, &fen_text(fen), why, &key).await {
                Ok(r) => {
                    prop_assert!(
                        must,
                        "refund accepted against the rules: {} of {:?}",
                        fen,
                        (pid, paid, refunded)
                    );
                    let after = bill(desk, bill_id).await;
                    prop_assert_eq!(after.amount_refunded.fen(), b.amount_refunded.fen() + fen);
                    prop_assert_eq!(after.amount_paid, b.amount_paid);
                    let closes = after.amount_refunded == after.amount_paid;
                    prop_assert_eq!(after.status == "refunded", closes, "{:?}", after);
                    prop_assert_eq!(r.refundable.fen(), left - fen);
                    Ok("refund")
                }
                Err(e) => {
                    rule_refusal(&e)?;
                    prop_assert!(
                        !must,
                        "refund refused against the rules: {} of {:?}: {}",
                        fen,
                        (pid, paid, refunded),
                        e
                    );
                    prop_assert_eq!(snapshot(desk).await, before);
                    Ok("refund refused")
                }
            }
        }
        Op::Void { bill: sel } => {
            let list = all_bills(desk).await;
            if list.is_empty() {
                return Ok("no bill");
            }
            let b = &list[sel % list.len()];
            let must = b.amount_paid == Money::ZERO && b.status != "refunded";
            match billing::void_bill(desk, b.id, "作废").await {
                Ok(after) => {
                    prop_assert!(must, "voided a bill with money on it: {:?}", b);
                    prop_assert_eq!(after.status.as_str(), "voided");
                    if b.status == "voided" {
                        prop_assert_eq!(snapshot(desk).await, before);
                    }
                    Ok("void")
                }
                Err(e) => {
                    rule_refusal(&e)?;
                    prop_assert!(!must, "void refused against the rules: {:?}: {}", b, e);
                    prop_assert_eq!(snapshot(desk).await, before);
                    Ok("void refused")
                }
            }
        }
        Op::Status { member, active } => {
            let (store, no, name, class) = MEMBERS[*member];
            set_status(
                desk,
                store,
                no,
                name,
                class,
                if *active { "在读" } else { "退学" },
            )
            .await;
            prop_assert_eq!(
                snapshot(desk).await,
                before,
                "a roster change alone moves no money"
            );
            Ok("roster")
        }
    }
}

static STATS: std::sync::Mutex<std::collections::BTreeMap<&'static str, usize>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn fen_text(fen: i64) -> String {
    Money::from_fen(fen).unwrap().to_string()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_shrink_iters: 300,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_books_hold_after_every_step(
        first in prop::collection::vec(prop::bool::weighted(0.75), 4),
        ops in prop::collection::vec(op(), 6..30),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::copy(template(), data.join(feedesk::db::DB_FILE)).unwrap();
        runtime().block_on(async {
            let desk = open(&data, TestClock::at(default_time())).await;
            // Most cases start with most plans issued, so that money moves early; the plans
            // left out are issued (or refused) later, after roster changes.
            let start: Vec<Op> = (1..=4)
                .filter(|p| first[*p as usize - 1])
                .map(|plan| Op::Issue { plan })
                .collect();
            for (n, op) in start.iter().chain(ops.iter()).enumerate() {
                let label = step(&desk, op, n).await?;
                assert_books(&desk).await;
                *STATS.lock().unwrap().entry(label).or_default() += 1;
            }
            // What the cases exercised, cumulatively (shown with --nocapture).
            eprintln!("steps so far: {:?}", STATS.lock().unwrap());
            desk.db().clone().close().await;
            Ok::<(), TestCaseError>(())
        })?;
    }
}
