//! Crash safety of money calls, with the real `feedesk` binary:
//! - each injected crash point (`FEEDESK_FAULT`) aborts the process mid-transaction during the
//!   command that reaches it; after reopening nothing of the aborted call is visible, the books
//!   verify, and retrying the same command (same idempotency key) takes effect exactly once;
//! - a seeded simulation kills (`SIGKILL`) the process at a seeded random moment during a
//!   sequence of payments and refunds, checks the books after every reopen, retries every
//!   interrupted call, and ends with every idempotency key having taken effect at most once.
//!
//! Whether a kill lands before, inside or after a transaction varies from run to run; what is
//! asserted holds in every case, so the outcome never depends on timing.

use crate::support::billing_support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use billing_support::*;
use feedesk::billing::{self, Channel};
use serde_json::Value;

const SIGABRT: i32 = 6;
const SIGKILL: i32 = 9;

fn cli(data: &Path, args: &[&str], fault: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("FEEDESK_DATA_DIR")
        .env_remove(feedesk::fault::FAULT_ENV)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = fault {
        cmd.env(feedesk::fault::FAULT_ENV, point);
    }
    cmd
}

fn run(data: &Path, args: &[&str], fault: Option<&str>) -> Output {
    cli(data, args, fault).output().expect("run feedesk")
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The process died by the injected abort at `point`, not by an ordinary error.
fn assert_aborted_at(out: &Output, point: &str) {
    assert!(!out.status.success(), "{point}: the command succeeded");
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "{point}: expected an abort, got {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("injected fault at {point}")),
        "{point}: the fault point was not the one reached: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{point}: nothing was reported as done"
    );
}

/// Reopens the data folder in-process and checks the books end to end.
fn books_sound(data: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let desk = open(data, TestClock::at(default_time())).await;
        assert_books(&desk).await;
        desk.db().clone().close().await;
    });
    let verify = ok_json(&run(data, &["ledger", "verify", "--json"], None));
    assert_eq!(verify["ok"], true, "{verify}");
}

fn query(data: &Path, sql: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let desk = open(data, TestClock::at(default_time())).await;
        let n = count(&desk, sql).await;
        desk.db().clone().close().await;
        n
    })
}

struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    plan: i64,
    /// A plan issued to XH 一班 (S001..S003), fixed 300.00, partial allowed, into 西湖现金.
    issued: i64,
    /// S001's bill on `issued`, with a payment of 300.00 (`paid_payment`) ...
    paid_bill: i64,
    paid_payment: i64,
    /// ... and S002's, unpaid.
    open_bill: i64,
}

/// An institution with members, an account, a fee item, an issued plan with one payment, and
/// a second plan not yet issued; written in-process, then closed.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (plan_id, issued, paid_bill, paid_payment, open_bill) = rt.block_on(async {
        let desk = open(&data, TestClock::at(default_time())).await;
        institution(&desk).await;
        roster(
            &desk,
            &[
                ("XH", "S001", "张三", "一班", ""),
                ("XH", "S002", "李四", "一班", ""),
                ("XH", "S003", "王五", "一班", ""),
                ("BJ", "B001", "周八", "一班", ""),
            ],
        )
        .await;
        account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
        account(&desk, "EAST", Channel::OfflineCash, "华东现金").await;
        fee(&desk, "XH", "学费").await;
        fee(&desk, "EAST", "考试费").await;
        let mut req = plan_req("XH/学费", class("一班"), "fixed:300", "西湖现金");
        req.allow_partial = true;
        let issued = plan(&desk, req).await;
        billing::issue_plan(&desk, issued.id).await.unwrap();
        let s1 = bill_of(&desk, issued.id, "S001").await;
        let s2 = bill_of(&desk, issued.id, "S002").await;
        let p = pay(&desk, s1.id, "300", "西湖现金", "setup-pay")
            .await
            .unwrap();
        let later = plan(
            &desk,
            plan_req(
                "考试费",
                feedesk::billing::PlanTarget::Unit("EAST".into()),
                "split:1000",
                "华东现金",
            ),
        )
        .await;
        assert_books(&desk).await;
        desk.db().clone().close().await;
        (later.id, issued.id, s1.id, p.payment_id, s2.id)
    });
    Fixture {
        _dir: dir,
        data,
        plan: plan_id,
        issued,
        paid_bill,
        paid_payment,
        open_bill,
    }
}

fn bill_json(data: &Path, id: i64) -> Value {
    ok_json(&run(
        data,
        &["bill", "show", &id.to_string(), "--json"],
        None,
    ))
}

#[test]
fn an_issue_aborted_at_any_point_leaves_no_bill_and_retries_once() {
    for point in [
        "journal.between_entries_and_lines",
        "issue.after_bills",
        "issue.before_commit",
    ] {
        let f = fixture();
        let plan = f.plan.to_string();
        let entries = query(&f.data, "SELECT count(*) FROM journal_entries");
        let audit = query(&f.data, "SELECT count(*) FROM audit_log");
        let out = run(&f.data, &["plan", "issue", &plan, "--json"], Some(point));
        assert_aborted_at(&out, point);

        let sql = format!("SELECT count(*) FROM bills WHERE plan_id = {}", f.plan);
        assert_eq!(
            query(&f.data, &sql),
            0,
            "{point}: bills of the aborted issue are visible"
        );
        assert_eq!(
            query(&f.data, "SELECT count(*) FROM journal_entries"),
            entries,
            "{point}"
        );
        assert_eq!(
            query(&f.data, "SELECT count(*) FROM audit_log"),
            audit,
            "{point}"
        );
        books_sound(&f.data);

        let first = ok_json(&run(&f.data, &["plan", "issue", &plan, "--json"], None));
        assert_eq!(
            first["new_bills"], 4,
            "{point}: EAST has four members: {first}"
        );
        assert_eq!(first["new_amount_due"], "1000.00");
        let again = ok_json(&run(&f.data, &["plan", "issue", &plan, "--json"], None));
        assert_eq!(
            (
                again["new_bills"].as_i64(),
                again["already_billed"].as_i64()
            ),
            (Some(0), Some(4))
        );
        assert_eq!(query(&f.data, &sql), 4, "{point}");
        books_sound(&f.data);
    }
}

#[test]
fn a_payment_aborted_at_any_point_is_absent_and_its_key_retries_once() {
    for point in [
        "journal.between_entries_and_lines",
        "payment.before_journal",
        "payment.before_commit",
    ] {
        let f = fixture();
        let bill = f.open_bill.to_string();
        let before = bill_json(&f.data, f.open_bill);
        let args = [
            "pay",
            "--bill",
            &bill,
            "--amount",
            "120.50",
            "--account",
            "西湖现金",
            "--key",
            "crash-pay",
            "--json",
        ];
        let out = run(&f.data, &args, Some(point));
        assert_aborted_at(&out, point);

        assert_eq!(
            bill_json(&f.data, f.open_bill),
            before,
            "{point}: the bill changed"
        );
        assert_eq!(
            query(&f.data, "SELECT count(*) FROM payments"),
            1,
            "{point}: only the setup payment"
        );
        assert_eq!(
            query(
                &f.data,
                "SELECT count(*) FROM idempotency_keys WHERE key = 'crash-pay'"
            ),
            0,
            "{point}: the key was kept although the payment was not"
        );
        books_sound(&f.data);

        let first = ok_json(&run(&f.data, &args, None));
        assert_eq!(
            (first["status"].as_str(), first["amount"].as_str()),
            (Some("partial"), Some("120.50"))
        );
        let again = ok_json(&run(&f.data, &args, None));
        assert_eq!(again["payment_id"], first["payment_id"], "{point}");
        assert_eq!(
            query(&f.data, "SELECT count(*) FROM payments"),
            2,
            "{point}: exactly once"
        );
        assert_eq!(
            bill_json(&f.data, f.open_bill)["bill"]["amount_paid"],
            "120.50"
        );
        books_sound(&f.data);
    }
}

#[test]
fn a_refund_aborted_at_any_point_is_absent_and_its_key_retries_once() {
    for point in [
        "journal.between_entries_and_lines",
        "refund.before_journal",
        "refund.before_commit",
    ] {
        let f = fixture();
        let payment = f.paid_payment.to_string();
        let before = bill_json(&f.data, f.paid_bill);
        let args = [
            "refund",
            "--payment",
            &payment,
            "--amount",
            "300",
            "--reason",
            "退学",
            "--key",
            "crash-refund",
            "--json",
        ];
        let out = run(&f.data, &args, Some(point));
        assert_aborted_at(&out, point);

        assert_eq!(
            bill_json(&f.data, f.paid_bill),
            before,
            "{point}: the bill changed"
        );
        assert_eq!(query(&f.data, "SELECT count(*) FROM refunds"), 0, "{point}");
        assert_eq!(
            query(
                &f.data,
                "SELECT count(*) FROM idempotency_keys WHERE key = 'crash-refund'"
            ),
            0,
            "{point}"
        );
        books_sound(&f.data);

        let first = ok_json(&run(&f.data, &args, None));
        assert_eq!(first["status"], "refunded");
        let again = ok_json(&run(&f.data, &args, None));
        assert_eq!(again["refund_id"], first["refund_id"], "{point}");
        assert_eq!(
            query(&f.data, "SELECT count(*) FROM refunds"),
            1,
            "{point}: exactly once"
        );
        let after = bill_json(&f.data, f.paid_bill);
        assert_eq!(after["bill"]["status"], "refunded");
        assert_eq!(after["payments"][0]["refunded"], "300.00");
        books_sound(&f.data);
    }
    // The issued plan's other bills were never touched by any of it.
    let f = fixture();
    assert_eq!(
        query(
            &f.data,
            &format!("SELECT count(*) FROM bills WHERE plan_id = {}", f.issued)
        ),
        3
    );
}

/// splitmix64: a small seeded generator, so the simulation is the same sequence every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One step of the simulation.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Pay `fen` on the model's bill `bill`.
    Pay { bill: usize, fen: i64 },
    /// Refund `fen` of the model's payment `payment`.
    Refund { payment: usize, fen: i64 },
}

/// The model: what the database must hold.
struct ModelBill {
    id: i64,
    due: i64,
    paid: i64,
    refunded: i64,
    closed: bool,
}

struct ModelPayment {
    id: i64,
    bill: usize,
    fen: i64,
    refunded: i64,
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

#[test]
fn a_seeded_sequence_of_killed_commands_keeps_the_books_and_every_key_once() {
    const SEED: u64 = 0x00FE_ED0E_5C00_2026;
    const STEPS: usize = 40;
    let f = fixture();
    let data = &f.data;
    let mut rng = Rng(SEED);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut bills: Vec<ModelBill> = rt.block_on(async {
        let desk = open(data, TestClock::at(default_time())).await;
        let all = plan_bills(&desk, f.issued).await;
        desk.db().clone().close().await;
        all.iter()
            .map(|b| ModelBill {
                id: b.id,
                due: b.amount_due.fen(),
                paid: b.amount_paid.fen(),
                refunded: 0,
                closed: false,
            })
            .collect()
    });
    let setup_bill = bills.iter().position(|b| b.id == f.paid_bill).unwrap();
    let mut payments = vec![ModelPayment {
        id: f.paid_payment,
        bill: setup_bill,
        fen: 30000,
        refunded: 0,
    }];
    let mut keys_done: Vec<(String, &str)> = vec![];
    let (mut killed, mut finished_first, mut killed_after_commit) = (0, 0, 0);

    for step in 0..STEPS {
        let key = format!("sim-{step}");
        let refundable = payments.iter().any(|p| p.fen > p.refunded);
        let op = if rng.below(3) < 2 || !refundable {
            let bill = rng.below(bills.len() as u64) as usize;
            let owed = bills[bill].due - bills[bill].paid;
            let fen = match rng.below(4) {
                0 => owed + 1 + rng.below(5000) as i64, // overpayment
                1 => owed.max(1),
                _ => 1 + rng.below(owed.max(1) as u64) as i64,
            };
            Op::Pay { bill, fen }
        } else {
            let payment = rng.below(payments.len() as u64) as usize;
            let left = payments[payment].fen - payments[payment].refunded;
            let fen = if rng.below(4) == 0 {
                left + 1
            } else {
                1 + rng.below(left.max(1) as u64) as i64
            };
            Op::Refund { payment, fen }
        };
        // From the model: must it succeed?
        let succeeds = match op {
            Op::Pay { bill, fen } => {
                let b = &bills[bill];
                !b.closed && fen <= b.due - b.paid
            }
            Op::Refund { payment, fen } => {
                fen <= payments[payment].fen - payments[payment].refunded
            }
        };
        let args: Vec<String> = match op {
            Op::Pay { bill, fen } => vec![
                "pay".into(),
                "--bill".into(),
                bills[bill].id.to_string(),
                "--amount".into(),
                yuan(fen),
                "--account".into(),
                "西湖现金".into(),
                "--key".into(),
                key.clone(),
                "--json".into(),
            ],
            Op::Refund { payment, fen } => vec![
                "refund".into(),
                "--payment".into(),
                payments[payment].id.to_string(),
                "--amount".into(),
                yuan(fen),
                "--reason".into(),
                "模拟退费".into(),
                "--key".into(),
                key.clone(),
                "--json".into(),
            ],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();

        // Run it; three times in four kill it after a seeded delay of up to 15 ms (a command
        // takes about 10 ms in all: start, open, transaction, commit, close).
        let kill_after = (rng.below(4) != 0).then(|| Duration::from_micros(rng.below(15_000)));
        let mut child = cli(data, &args, None).spawn().expect("spawn feedesk");
        if let Some(delay) = kill_after {
            std::thread::sleep(delay);
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        let was_killed = out.status.signal() == Some(SIGKILL);
        if was_killed {
            killed += 1;
        } else if kill_after.is_some() {
            finished_first += 1;
        }
        // The books are sound after every reopen, whatever the kill interrupted.
        books_sound(data);
        if was_killed {
            let sql = format!("SELECT count(*) FROM idempotency_keys WHERE key = '{key}'");
            if query(data, &sql) == 1 {
                killed_after_commit += 1;
            }
        }

        // Whatever happened, a retry with the same key gives the one true outcome ...
        let retry = run(data, &args, None);
        if succeeds {
            let v = ok_json(&retry);
            if !was_killed {
                assert_eq!(
                    ok_json(&out),
                    v,
                    "step {step}: the retry differs from the first answer"
                );
            }
            match op {
                Op::Pay { bill, fen } => {
                    bills[bill].paid += fen;
                    payments.push(ModelPayment {
                        id: v["payment_id"].as_i64().unwrap(),
                        bill,
                        fen,
                        refunded: 0,
                    });
                }
                Op::Refund { payment, fen } => {
                    payments[payment].refunded += fen;
                    let b = &mut bills[payments[payment].bill];
                    b.refunded += fen;
                    if b.refunded == b.paid {
                        b.closed = true;
                    }
                }
            }
            keys_done.push((
                key.clone(),
                if matches!(op, Op::Pay { .. }) {
                    "pay"
                } else {
                    "refund"
                },
            ));
            // ... and again: still the same answer, still once.
            assert_eq!(ok_json(&run(data, &args, None)), v, "step {step}");
        } else {
            assert!(
                !retry.status.success(),
                "step {step}: {args:?} should be refused"
            );
            if !was_killed {
                assert!(
                    !out.status.success(),
                    "step {step}: {args:?} should be refused"
                );
            }
        }
        books_sound(data);
    }

    // Every key took effect exactly once; nothing else took effect.
    let pays = keys_done.iter().filter(|k| k.1 == "pay").count() as i64;
    let refunds = keys_done.iter().filter(|k| k.1 == "refund").count() as i64;
    assert_eq!(query(data, "SELECT count(*) FROM payments"), 1 + pays);
    assert_eq!(query(data, "SELECT count(*) FROM refunds"), refunds);
    assert_eq!(
        query(
            data,
            "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'sim-%'"
        ),
        keys_done.len() as i64
    );
    assert_eq!(
        query(
            data,
            "SELECT count(DISTINCT json_extract(result_json, '$.payment_id')) FROM idempotency_keys
             WHERE operation = 'payment' AND key LIKE 'sim-%'"
        ),
        pays,
        "each payment key names its own payment"
    );
    // The model's money is the database's money.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let desk = open(data, TestClock::at(default_time())).await;
        for m in &bills {
            let b = bill(&desk, m.id).await;
            assert_eq!(
                (
                    b.amount_due.fen(),
                    b.amount_paid.fen(),
                    b.amount_refunded.fen()
                ),
                (m.due, m.paid, m.refunded),
                "bill {}",
                m.id
            );
            assert_eq!(b.status == "refunded", m.closed, "bill {}", m.id);
        }
        for p in &payments {
            let (a, r): (i64, i64) =
                sqlx::query_as("SELECT amount_fen, refunded_fen FROM payments WHERE id = ?")
                    .bind(p.id)
                    .fetch_one(desk.db().pool())
                    .await
                    .unwrap();
            assert_eq!((a, r), (p.fen, p.refunded), "payment {}", p.id);
        }
        desk.db().clone().close().await;
    });
    eprintln!(
        "seeded simulation: {STEPS} steps, {killed} killed ({killed_after_commit} of them after their commit), \
         {finished_first} finished before the kill, {} keys took effect",
        keys_done.len()
    );
}
