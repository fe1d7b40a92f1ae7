//! Money calls racing each other: one idempotency key sent at once from many tasks, each with
//! its own open data folder (as several windows or scripts would) or sharing one, takes effect
//! once and every caller gets the same answer; payments with different keys racing on one bill
//! never take more than it owes; refunds racing on one payment never give back more than it
//! took; issues racing on one plan bill each member once. Write transactions serialise the
//! races; nothing here waits on a timer, so the outcome never depends on timing.

use crate::support::billing_support;

use std::path::PathBuf;
use std::sync::Arc;

use billing_support::*;
use feedesk::billing::{self, Channel, PaymentResult};
use feedesk::{ErrorCode, FeeDesk};

const TASKS: usize = 8;

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    desk: FeeDesk,
    /// XH 一班 (S001..S003), fixed 100.00, partial allowed, into 西湖现金.
    plan: i64,
    /// An EAST-wide plan, not yet issued.
    later: i64,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let desk = open(&data, TestClock::at(default_time())).await;
    institution(&desk).await;
    roster(
        &desk,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S003", "王五", "一班", ""),
            ("BJ", "B001", "周八", "一班", ""),
            ("BJ", "B002", "吴九", "一班", ""),
        ],
    )
    .await;
    account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
    account(&desk, "EAST", Channel::OfflineCash, "华东现金").await;
    fee(&desk, "XH", "学费").await;
    fee(&desk, "EAST", "考试费").await;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金");
    req.allow_partial = true;
    let p = plan(&desk, req).await;
    billing::issue_plan(&desk, p.id).await.unwrap();
    let later = plan(
        &desk,
        plan_req(
            "考试费",
            feedesk::billing::PlanTarget::Unit("EAST".into()),
            "split:100",
            "华东现金",
        ),
    )
    .await;
    World {
        _dir: dir,
        data,
        desk,
        plan: p.id,
        later: later.id,
    }
}

/// `TASKS` desks on the same folder, each with its own connection pool.
async fn desks(data: &std::path::Path) -> Vec<FeeDesk> {
    let mut out = vec![];
    for _ in 0..TASKS {
        out.push(open(data, TestClock::at(default_time())).await);
    }
    out
}

/// Starts every task, then releases them together.
async fn race<T, F, Fut>(desks: Vec<FeeDesk>, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, FeeDesk) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let gate = Arc::new(tokio::sync::Barrier::new(desks.len()));
    let mut handles = vec![];
    for (i, desk) in desks.into_iter().enumerate() {
        let gate = gate.clone();
        let fut = f(i, desk);
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            fut.await
        }));
    }
    let mut out = vec![];
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_from_many_desks_pays_once_and_everyone_gets_the_same_payment() {
    let w = world().await;
    let s1 = bill_of(&w.desk, w.plan, "S001").await;
    let results: Vec<feedesk::Result<PaymentResult>> =
        race(desks(&w.data).await, |_, desk| async move {
            pay(&desk, s1.id, "40", "西湖现金", "same-key").await
        })
        .await;
    let results: Vec<PaymentResult> = results
        .into_iter()
        .map(|r| r.expect("every caller succeeds"))
        .collect();
    assert!(results.iter().all(|r| r == &results[0]), "{results:?}");
    assert_eq!(count(&w.desk, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(
        count(&w.desk, "SELECT count(*) FROM idempotency_keys").await,
        1
    );
    let b = bill(&w.desk, s1.id).await;
    assert_eq!((b.amount_paid, b.status.as_str()), (m("40"), "partial"));
    assert_books(&w.desk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_from_clones_of_one_desk_pays_once() {
    let w = world().await;
    let s2 = bill_of(&w.desk, w.plan, "S002").await;
    let clones: Vec<FeeDesk> = (0..TASKS).map(|_| w.desk.clone()).collect();
    let results = race(clones, |_, desk| async move {
        pay(&desk, s2.id, "100", "西湖现金", "clone-key").await
    })
    .await;
    let ids: Vec<i64> = results.into_iter().map(|r| r.unwrap().payment_id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(count(&w.desk, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(bill(&w.desk, s2.id).await.status, "paid");
    assert_books(&w.desk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_with_different_requests_takes_effect_once_and_refuses_the_rest() {
    let w = world().await;
    let s3 = bill_of(&w.desk, w.plan, "S003").await;
    // Eight callers, one key, eight different amounts: exactly one amount is recorded, and
    // every other caller is told the key was used for a different request.
    let results = race(desks(&w.data).await, |i, desk| async move {
        pay(
            &desk,
            s3.id,
            &format!("{}", 10 + i),
            "西湖现金",
            "contested",
        )
        .await
    })
    .await;
    let won: Vec<&PaymentResult> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), ErrorCode::Conflict, "{r}");
    }
    assert_eq!(count(&w.desk, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(bill(&w.desk, s3.id).await.amount_paid, won[0].amount);
    assert_books(&w.desk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payments_with_different_keys_racing_on_one_bill_never_overpay() {
    let w = world().await;
    let s1 = bill_of(&w.desk, w.plan, "S001").await;
    // 8 x 15.00 against 100.00 owed: whatever the order, six fit (90.00) and two are refused.
    let results = race(desks(&w.data).await, |i, desk| async move {
        pay(&desk, s1.id, "15", "西湖现金", &format!("k{i}")).await
    })
    .await;
    let ok: Vec<&PaymentResult> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused: Vec<&feedesk::Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok.len(), 6, "{results:?}");
    for e in &refused {
        assert_eq!(e.code(), ErrorCode::Validation, "{e}");
        assert!(e.to_string().contains("overpayment"), "{e}");
    }
    let total: i64 = ok.iter().map(|r| r.amount.fen()).sum();
    assert_eq!(total, 9000);
    let b = bill(&w.desk, s1.id).await;
    assert_eq!((b.amount_paid.fen(), b.status.as_str()), (9000, "partial"));
    // Each success saw the bill as it was after the ones before it.
    let mut paid: Vec<i64> = ok.iter().map(|r| r.amount_paid.fen()).collect();
    paid.sort();
    assert_eq!(paid, vec![1500, 3000, 4500, 6000, 7500, 9000]);
    assert_eq!(count(&w.desk, "SELECT count(*) FROM payments").await, 6);

    // And racing the rest in full: exactly one takes the last 10.00.
    let results = race(desks(&w.data).await, |i, desk| async move {
        pay(&desk, s1.id, "10", "西湖现金", &format!("last{i}")).await
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let b = bill(&w.desk, s1.id).await;
    assert_eq!((b.amount_paid.fen(), b.status.as_str()), (10000, "paid"));
    assert_books(&w.desk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refunds_racing_on_one_payment_never_give_back_more_than_it_took() {
    let w = world().await;
    let s2 = bill_of(&w.desk, w.plan, "S002").await;
    let p = pay(&w.desk, s2.id, "100", "西湖现金", "to-refund")
        .await
        .unwrap();
    // 8 x 30.00 from a 100.00 payment: three fit.
    let results = race(desks(&w.data).await, |i, desk| async move {
        refund(&desk, p.payment_id, "30", "退费", &format!("r{i}")).await
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        3,
        "{results:?}"
    );
    // The same refund key from every desk: once.
    let results = race(desks(&w.data).await, |_, desk| async move {
        refund(&desk, p.payment_id, "10", "退费", "last-refund").await
    })
    .await;
    let ids: Vec<i64> = results.into_iter().map(|r| r.unwrap().refund_id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(count(&w.desk, "SELECT count(*) FROM refunds").await, 4);
    let b = bill(&w.desk, s2.id).await;
    assert_eq!(
        (b.amount_refunded.fen(), b.status.as_str()),
        (10000, "refunded")
    );
    assert_books(&w.desk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issues_racing_on_one_plan_bill_each_member_once() {
    let w = world().await;
    let later = w.later;
    let results = race(desks(&w.data).await, |_, desk| async move {
        billing::issue_plan(&desk, later).await
    })
    .await;
    let reports: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    let created: u64 = reports.iter().map(|r| r.new_bills).sum();
    assert_eq!(
        created, 5,
        "five EAST members, billed once between all the callers"
    );
    assert_eq!(reports.iter().filter(|r| r.new_bills > 0).count(), 1);
    let bills = plan_bills(&w.desk, later).await;
    assert_eq!(bills.len(), 5);
    let total: i64 = bills.iter().map(|b| b.amount_due.fen()).sum();
    assert_eq!(total, 10000, "the split is still exact");
    assert_books(&w.desk).await;
}

/// The same races between separate `feedesk` processes (several terminals or scripts), each
/// opening the data folder itself while the others write.
#[test]
fn separate_processes_pay_once_per_key_and_never_overpay() {
    let (dir, data, bill_id) = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let w = world().await;
            let s1 = bill_of(&w.desk, w.plan, "S001").await;
            w.desk.db().clone().close().await;
            (w._dir, w.data, s1.id)
        })
    };
    let spawn = |amount: &str, key: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_feedesk"))
            .arg("--data-dir")
            .arg(&data)
            .args([
                "pay",
                "--bill",
                &bill_id.to_string(),
                "--amount",
                amount,
                "--account",
                "西湖现金",
                "--key",
                key,
                "--json",
            ])
            .env_remove("FEEDESK_DATA_DIR")
            .env_remove(feedesk::fault::FAULT_ENV)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn feedesk")
    };
    // One key from eight processes at once: one payment, one answer.
    let children: Vec<_> = (0..TASKS).map(|_| spawn("20", "proc-key")).collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let ids: Vec<serde_json::Value> = outs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["payment_id"].clone()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    // Eight keys of 15.00 each against the 80.00 left: five fit, three are refused.
    let children: Vec<_> = (0..TASKS)
        .map(|i| spawn("15", &format!("proc-{i}")))
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let paid = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(paid, 5, "{outs:?}");
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("overpayment"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let desk = open(&data, TestClock::at(default_time())).await;
        assert_eq!(count(&desk, "SELECT count(*) FROM payments").await, 6);
        assert_eq!(bill(&desk, bill_id).await.amount_paid, m("95.00"));
        assert_books(&desk).await;
        desk.db().clone().close().await;
    });
    drop(dir);
}
