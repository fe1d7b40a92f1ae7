//! Collection when the channel misbehaves, through the core API against the in-process sandbox:
//! forged or mismatched answers (bad signature, skewed timestamp, unknown serial, unsigned,
//! wrong amount, wrong merchant) never record a payment: the sync reports a problem, the order
//! stays open, nothing is written; once the fault clears the next sync records it exactly
//! once. Duplicated, reordered and delayed answers never record twice, and concurrent syncs on
//! the same paid order record one payment.
//!
//! Needs a Secret Service: run under tests/keyring-session.sh (as `make test` does). Elsewhere
//! the tests say they were skipped; with FEEDESK_KEYRING_TESTS=1 a missing keyring fails them.

use crate::support::billing_support;
use crate::support::channels_support;
use crate::support::collection_support;

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use billing_support::*;
use channels_support::keyring_or_skip;
use chrono::Duration;
use collection_support::{channel_accounts, channel_plans};
use feedesk::billing;
use feedesk::channels::sandbox::{Fault, FaultRule, OrderState, Sandbox};
use feedesk::collection::{self, SyncReport};
use feedesk::secrets::{SecretRef, SecretStore};
use feedesk::{ErrorCode, FeeDesk};

const SERVICE: &str = "cn.feedesk.app.test.collection-faults";

struct World {
    _dir: tempfile::TempDir,
    desk: FeeDesk,
    clock: Arc<TestClock>,
    secrets: SecretStore,
    sandbox: Sandbox,
    /// XH 一班 (S001..S020) 学费 fixed 2800 into XH's WeChat Pay account.
    wechat_plan: i64,
    /// BJ 一班 (B001..B020) 学费 fixed 1500.50 into HQ's Alipay account.
    alipay_plan: i64,
}

async fn world(test: &str) -> Option<World> {
    let secrets = keyring_or_skip(SERVICE, test).await?;
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(default_time());
    let desk = open(&dir.path().join("data"), clock.clone()).await;
    institution(&desk).await;
    let members: Vec<(String, String)> = (1..=20)
        .flat_map(|i| {
            [
                ("XH".to_string(), format!("S{i:03}")),
                ("BJ".to_string(), format!("B{i:03}")),
            ]
        })
        .collect();
    let rows: Vec<Row> = members
        .iter()
        .map(|(store, no)| (store.as_str(), no.as_str(), "张三", "一班", ""))
        .collect();
    roster(&desk, &rows).await;
    let sandbox = channel_accounts(&desk, &secrets).await;
    let (wechat_plan, alipay_plan) = channel_plans(&desk).await;
    Some(World {
        _dir: dir,
        desk,
        clock,
        secrets,
        sandbox,
        wechat_plan,
        alipay_plan,
    })
}

impl World {
    async fn finish(self) {
        assert_books(&self.desk).await;
        let refs: Vec<String> = sqlx::query_scalar(
            "SELECT secret_ref FROM collection_accounts WHERE secret_ref IS NOT NULL",
        )
        .fetch_all(self.desk.db().pool())
        .await
        .unwrap();
        for r in refs {
            self.secrets
                .delete(&SecretRef::parse(&r).unwrap())
                .await
                .unwrap();
        }
        self.sandbox.shutdown().await;
    }

    async fn sync(&self) -> SyncReport {
        collection::sync_orders(&self.desk, &self.secrets)
            .await
            .unwrap()
    }

    fn inject(&self, fault: Fault, times: u32, order: Option<&str>) {
        self.sandbox.handle().inject(FaultRule {
            fault,
            times,
            order: order.map(str::to_string),
        });
    }

    fn advance(&self, minutes: i64) {
        let now = feedesk::clock::Clock::now(&*self.clock);
        self.clock.set(now + Duration::minutes(minutes));
    }

    /// The bill of `member` on the channel's plan.
    async fn bill(&self, wechat: bool, member: &str) -> i64 {
        let plan = if wechat {
            self.wechat_plan
        } else {
            self.alipay_plan
        };
        bill_of(&self.desk, plan, member).await.id
    }

    /// Opens an order for the bill and has the sandbox pay it; returns (order no, transaction id).
    async fn paid_order(&self, bill_id: i64) -> (String, String) {
        let order = collection::collect(&self.desk, &self.secrets, bill_id)
            .await
            .unwrap();
        let txn = self
            .sandbox
            .handle()
            .pay(&order.order_no)
            .unwrap()
            .transaction_id
            .unwrap();
        (order.order_no, txn)
    }
}

/// (payment id, reference) of each payment on a bill.
async fn payments(desk: &FeeDesk, bill_id: i64) -> Vec<(i64, Option<String>)> {
    sqlx::query_as("SELECT id, reference FROM payments WHERE bill_id = ? ORDER BY id")
        .bind(bill_id)
        .fetch_all(desk.db().pool())
        .await
        .unwrap()
}

async fn status_of(desk: &FeeDesk, no: &str) -> (String, Option<i64>) {
    let o = collection::list_orders(desk, None)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.order_no == no)
        .unwrap();
    (o.status, o.payment_id)
}

/// Asserts the bill was recorded exactly once, under `txn`, and its order is paid.
async fn recorded_once(w: &World, bill_id: i64, no: &str, txn: &str) {
    let p = payments(&w.desk, bill_id).await;
    assert_eq!(p.len(), 1, "bill {bill_id}: exactly one payment, got {p:?}");
    assert_eq!(p[0].1.as_deref(), Some(txn));
    assert_eq!(
        status_of(&w.desk, no).await,
        ("paid".to_string(), Some(p[0].0))
    );
    assert_eq!(
        billing::get_bill(&w.desk, bill_id)
            .await
            .unwrap()
            .bill
            .status,
        "paid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_mismatched_answers_never_record_and_the_next_clean_sync_records_once() {
    let Some(w) = world("forged").await else {
        return;
    };
    let d = &w.desk;
    let wechat_faults = [
        (Fault::BadSignature, "signature does not verify"),
        (Fault::SkewTimestamp { seconds: 400 }, "clock"),
        (Fault::SkewTimestamp { seconds: -400 }, "clock"),
        (Fault::UnknownSerial, "does not know"),
        (Fault::Unsigned, "Wechatpay-Signature"),
        (Fault::WrongAmount, "280001 fen"),
        (Fault::WrongMerchant, "merchant"),
    ];
    let alipay_faults = [
        (Fault::BadSignature, "signature does not verify"),
        (Fault::Unsigned, "without a signature"),
        (Fault::WrongAmount, "150051 fen"),
        (Fault::WrongMerchant, "asked about"),
    ];
    let cases = wechat_faults
        .iter()
        .map(|f| (true, f))
        .chain(alipay_faults.iter().map(|f| (false, f)));
    for (i, (wechat, (fault, needle))) in cases.enumerate() {
        let member = if wechat {
            format!("S{:03}", i + 1)
        } else {
            format!("B{:03}", i + 1)
        };
        let bill_id = w.bill(wechat, &member).await;
        let (no, txn) = w.paid_order(bill_id).await;
        // Forged twice in a row: two syncs in a row refuse it.
        w.inject(fault.clone(), 2, Some(&no));
        let before = snapshot(d).await;
        for _ in 0..2 {
            let report = w.sync().await;
            assert_eq!(
                (report.checked, report.paid, report.still_open),
                (1, 0, 1),
                "{fault:?}: {report:?}"
            );
            assert_eq!(report.problems.len(), 1, "{fault:?}: {report:?}");
            let problem = &report.problems[0];
            assert!(
                problem.contains(&no),
                "{fault:?}: the problem names the order: {problem}"
            );
            assert!(
                problem.contains(needle),
                "{fault:?}: expected '{needle}' in: {problem}"
            );
            assert_eq!(
                snapshot(d).await,
                before,
                "{fault:?}: a forged answer recorded something"
            );
            assert_eq!(
                status_of(d, &no).await,
                ("open".to_string(), None),
                "{fault:?}"
            );
            assert!(payments(d, bill_id).await.is_empty());
        }
        // The fault is spent: the genuine answer is believed, once.
        let report = w.sync().await;
        assert!(report.problems.is_empty(), "{fault:?}: {report:?}");
        assert_eq!((report.checked, report.paid), (1, 1), "{fault:?}");
        recorded_once(&w, bill_id, &no, &txn).await;
        assert_eq!(w.sync().await.checked, 0);
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_answer_about_one_order_does_not_hold_up_the_others() {
    let Some(w) = world("others").await else {
        return;
    };
    let d = &w.desk;
    let a = w.bill(true, "S001").await;
    let b = w.bill(false, "B001").await;
    let c = w.bill(true, "S002").await;
    let (no_a, txn_a) = w.paid_order(a).await;
    let (no_b, txn_b) = w.paid_order(b).await;
    let (no_c, txn_c) = w.paid_order(c).await;
    w.inject(Fault::BadSignature, 1, Some(&no_b));
    let report = w.sync().await;
    assert_eq!(
        (report.checked, report.paid, report.still_open),
        (3, 2, 1),
        "{report:?}"
    );
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].contains(&no_b));
    recorded_once(&w, a, &no_a, &txn_a).await;
    recorded_once(&w, c, &no_c, &txn_c).await;
    assert!(payments(d, b).await.is_empty());
    let report = w.sync().await;
    assert_eq!((report.checked, report.paid), (1, 1));
    recorded_once(&w, b, &no_b, &txn_b).await;

    // An expired order whose query answer is forged is neither recorded nor closed: it stays
    // open until the channel's genuine answer says what it is.
    for wechat in [true, false] {
        let bill_id = w.bill(wechat, if wechat { "S003" } else { "B003" }).await;
        let order = collection::collect(d, &w.secrets, bill_id).await.unwrap();
        w.advance(collection::ORDER_MINUTES + 1);
        w.inject(Fault::BadSignature, 1, Some(&order.order_no));
        let report = w.sync().await;
        assert_eq!(
            (report.closed, report.still_open, report.problems.len()),
            (0, 1, 1),
            "{report:?}"
        );
        assert_eq!(status_of(d, &order.order_no).await.0, "open");
        assert_eq!(
            w.sandbox.handle().order(&order.order_no).unwrap().state,
            OrderState::Open
        );
        let report = w.sync().await;
        assert!(report.problems.is_empty(), "{report:?}");
        assert_eq!(report.closed, 1);
        assert_eq!(status_of(d, &order.order_no).await.0, "closed");
        assert_eq!(
            w.sandbox.handle().order(&order.order_no).unwrap().state,
            OrderState::Closed
        );
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_answers_never_record_twice_nor_invent_a_payment() {
    let Some(w) = world("duplicate").await else {
        return;
    };
    let d = &w.desk;
    for wechat in [true, false] {
        let p = if wechat { "S" } else { "B" };

        // Duplicated "not paid": the replay (same bytes, same signature) arrives after the
        // payer paid. It is genuine but stale: nothing is recorded, nothing is closed.
        let bill_id = w.bill(wechat, &format!("{p}001")).await;
        let order = collection::collect(d, &w.secrets, bill_id).await.unwrap();
        w.inject(Fault::Duplicate, 1, Some(&order.order_no));
        assert_eq!(w.sync().await.still_open, 1);
        let txn = w
            .sandbox
            .handle()
            .pay(&order.order_no)
            .unwrap()
            .transaction_id
            .unwrap();
        let before = snapshot(d).await;
        let report = w.sync().await;
        assert_eq!(
            (report.paid, report.still_open),
            (0, 1),
            "the replayed answer says not paid"
        );
        assert_eq!(snapshot(d).await, before);
        let report = w.sync().await;
        assert_eq!(report.paid, 1, "{report:?}");
        recorded_once(&w, bill_id, &order.order_no, &txn).await;

        // Reordered: an older "not paid" arrives after the newer "paid" was sent.
        let bill_id = w.bill(wechat, &format!("{p}002")).await;
        let order = collection::collect(d, &w.secrets, bill_id).await.unwrap();
        w.sync().await;
        w.sync().await;
        let txn = w
            .sandbox
            .handle()
            .pay(&order.order_no)
            .unwrap()
            .transaction_id
            .unwrap();
        w.inject(Fault::Reorder, 1, Some(&order.order_no));
        let report = w.sync().await;
        assert_eq!((report.paid, report.still_open), (0, 1), "{report:?}");
        let report = w.sync().await;
        assert_eq!(report.paid, 1, "{report:?}");
        recorded_once(&w, bill_id, &order.order_no, &txn).await;

        // Reordered on an expired order: the stale "not paid" leads to a close, which the
        // channel refuses (it is paid); the payment is recorded, not lost, and the order is not
        // marked closed.
        let bill_id = w.bill(wechat, &format!("{p}003")).await;
        let order = collection::collect(d, &w.secrets, bill_id).await.unwrap();
        w.sync().await;
        w.sync().await;
        let txn = w
            .sandbox
            .handle()
            .pay(&order.order_no)
            .unwrap()
            .transaction_id
            .unwrap();
        w.advance(collection::ORDER_MINUTES + 1);
        w.inject(Fault::Reorder, 1, Some(&order.order_no));
        let report = w.sync().await;
        assert!(report.problems.is_empty(), "{report:?}");
        assert_eq!((report.paid, report.closed), (1, 0), "{report:?}");
        recorded_once(&w, bill_id, &order.order_no, &txn).await;
        assert_eq!(
            w.sandbox.handle().order(&order.order_no).unwrap().state,
            OrderState::Paid
        );

        // Duplicated "paid", consumed by two syncs at once: both settle it, one payment.
        let bill_id = w.bill(wechat, &format!("{p}004")).await;
        let (no, txn) = w.paid_order(bill_id).await;
        w.inject(Fault::Duplicate, 1, Some(&no));
        let (a, b) = tokio::join!(
            collection::sync_orders(d, &w.secrets),
            collection::sync_orders(d, &w.secrets)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.problems.is_empty() && b.problems.is_empty(),
            "{a:?} {b:?}"
        );
        assert!(a.paid + b.paid >= 1);
        recorded_once(&w, bill_id, &no, &txn).await;
        assert_eq!(w.sync().await.checked, 0);
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_answers_and_concurrent_syncs_record_one_payment() {
    let Some(w) = world("concurrent").await else {
        return;
    };
    let d = &w.desk;
    for wechat in [true, false] {
        let p = if wechat { "S" } else { "B" };
        // A slow answer: the sync waits for it and records once.
        let bill_id = w.bill(wechat, &format!("{p}010")).await;
        let (no, txn) = w.paid_order(bill_id).await;
        w.inject(Fault::Delay { ms: 1200 }, 1, Some(&no));
        let started = Instant::now();
        let report = w.sync().await;
        assert!(started.elapsed() >= StdDuration::from_millis(1200));
        assert_eq!(report.paid, 1, "{report:?}");
        recorded_once(&w, bill_id, &no, &txn).await;

        // Two syncs as tokio tasks on the same paid order, the first one's answer held back so
        // the second settles it first; the first then settles it again, late.
        let bill_id = w.bill(wechat, &format!("{p}011")).await;
        let (no, txn) = w.paid_order(bill_id).await;
        w.inject(Fault::Delay { ms: 800 }, 1, Some(&no));
        let (desk1, secrets1) = (d.clone(), w.secrets.clone());
        let slow = tokio::spawn(async move { collection::sync_orders(&desk1, &secrets1).await });
        tokio::time::sleep(StdDuration::from_millis(150)).await;
        let (desk2, secrets2) = (d.clone(), w.secrets.clone());
        let fast = tokio::spawn(async move { collection::sync_orders(&desk2, &secrets2).await });
        let fast = fast.await.unwrap().unwrap();
        assert_eq!(fast.paid, 1, "{fast:?}");
        recorded_once(&w, bill_id, &no, &txn).await;
        let slow = slow.await.unwrap().unwrap();
        assert!(slow.problems.is_empty(), "{slow:?}");
        recorded_once(&w, bill_id, &no, &txn).await;

        // Many paid orders, four syncs racing over them: each bill is paid exactly once.
        let mut paid = vec![];
        for n in 12..=16 {
            let bill_id = w.bill(wechat, &format!("{p}{n:03}")).await;
            let (no, txn) = w.paid_order(bill_id).await;
            paid.push((bill_id, no, txn));
        }
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (desk, secrets) = (d.clone(), w.secrets.clone());
                tokio::spawn(async move { collection::sync_orders(&desk, &secrets).await })
            })
            .collect();
        for t in tasks {
            let report = t.await.unwrap().unwrap();
            assert!(report.problems.is_empty(), "{report:?}");
        }
        for (bill_id, no, txn) in &paid {
            recorded_once(&w, *bill_id, no, txn).await;
        }
        assert_eq!(w.sync().await.checked, 0);
        assert_books(d).await;
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_answer_to_opening_an_order_leaves_one_payable_order_and_loses_nothing() {
    let Some(w) = world("open").await else {
        return;
    };
    let d = &w.desk;
    for wechat in [true, false] {
        let p = if wechat { "S" } else { "B" };
        for (n, fault) in [
            (1, Fault::BadSignature),
            (2, Fault::Unsigned),
            (3, Fault::WrongMerchant),
        ] {
            if wechat && fault == Fault::WrongMerchant {
                continue; // WeChat Pay's order answer names no merchant
            }
            let bill_id = w.bill(wechat, &format!("{p}{:03}", 5 + n)).await;
            w.inject(fault.clone(), 1, None);
            let err = collection::collect(d, &w.secrets, bill_id)
                .await
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::Channel, "{fault:?}: {err}");
            // The retry gives a payable order; only one order of this bill is open, here and
            // at the channel.
            let order = collection::collect(d, &w.secrets, bill_id).await.unwrap();
            assert!(!order.qr_text.is_empty());
            let ours: Vec<_> = collection::list_orders(d, Some(bill_id)).await.unwrap();
            assert_eq!(
                ours.iter().filter(|o| o.status == "open").count(),
                1,
                "{fault:?}: {ours:?}"
            );
            let nos: Vec<String> = ours.iter().map(|o| o.order_no.clone()).collect();
            let at_channel: Vec<_> = w
                .sandbox
                .handle()
                .orders()
                .into_iter()
                .filter(|o| nos.contains(&o.out_trade_no) && o.state == OrderState::Open)
                .collect();
            assert_eq!(
                at_channel.len(),
                1,
                "{fault:?}: one payable order at the channel"
            );
            assert_eq!(at_channel[0].out_trade_no, order.order_no);
            let txn = w
                .sandbox
                .handle()
                .pay(&order.order_no)
                .unwrap()
                .transaction_id
                .unwrap();
            assert_eq!(w.sync().await.paid, 1);
            recorded_once(&w, bill_id, &order.order_no, &txn).await;
        }

        // The answer to opening the order was forged, but the payer paid it anyway (say the
        // genuine answer reached a screen): the retry finds it paid, records it, and opens
        // nothing new.
        let bill_id = w.bill(wechat, &format!("{p}009")).await;
        w.inject(Fault::BadSignature, 1, None);
        collection::collect(d, &w.secrets, bill_id)
            .await
            .unwrap_err();
        let no = collection::list_orders(d, Some(bill_id)).await.unwrap()[0]
            .order_no
            .clone();
        let txn = w.sandbox.handle().pay(&no).unwrap().transaction_id.unwrap();
        match collection::collect(d, &w.secrets, bill_id).await {
            Err(e) => assert_eq!(e.code(), ErrorCode::Conflict, "{e}"),
            Ok(o) => panic!("a paid bill got a new order {o:?}"),
        }
        recorded_once(&w, bill_id, &no, &txn).await;
        assert_eq!(
            collection::list_orders(d, Some(bill_id))
                .await
                .unwrap()
                .len(),
            1
        );
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collects_at_once_for_one_bill_make_one_payable_order() {
    let Some(w) = world("double click").await else {
        return;
    };
    let d = &w.desk;
    for wechat in [true, false] {
        let bill_id = w.bill(wechat, if wechat { "S020" } else { "B020" }).await;
        let (a, b) = tokio::join!(
            collection::collect(d, &w.secrets, bill_id),
            collection::collect(d, &w.secrets, bill_id)
        );
        let ok: Vec<_> = [&a, &b]
            .into_iter()
            .filter_map(|r| r.as_ref().ok())
            .collect();
        assert!(!ok.is_empty(), "{a:?} {b:?}");
        for r in [&a, &b] {
            if let Err(e) = r {
                // The second click is told the first one is opening it, in words.
                assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
                assert!(e.to_string().contains("being opened"), "{e}");
            }
        }
        let no = &ok[0].order_no;
        assert!(ok.iter().all(|o| &o.order_no == no), "{a:?} {b:?}");
        let ours = collection::list_orders(d, Some(bill_id)).await.unwrap();
        assert_eq!(ours.len(), 1, "{ours:?}");
        let txn = w.sandbox.handle().pay(no).unwrap().transaction_id.unwrap();
        w.sync().await;
        recorded_once(&w, bill_id, no, &txn).await;
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_answers_about_a_refund_never_record_it() {
    let Some(w) = world("refund forged").await else {
        return;
    };
    let d = &w.desk;
    for wechat in [true, false] {
        let bill_id = w.bill(wechat, if wechat { "S019" } else { "B019" }).await;
        let (no, _) = w.paid_order(bill_id).await;
        assert_eq!(w.sync().await.paid, 1);
        let payment = payments(d, bill_id).await[0].0;
        let req = feedesk::billing::RefundRequest {
            payment_id: payment,
            amount: m("200"),
            reason: "缺课退费".into(),
            key: format!("forged-refund-{no}"),
        };
        // The answer to the refund itself is forged: nothing recorded, the refund is pending.
        w.inject(Fault::BadSignature, 1, None);
        let before = snapshot(d).await;
        let err = collection::refund_via_channel(d, &w.secrets, &req)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Channel, "{err}");
        assert_eq!(snapshot(d).await, before);
        let (refund_no, status): (String, String) = sqlx::query_as(
            "SELECT out_refund_no, status FROM channel_refunds ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(d.db().pool())
        .await
        .unwrap();
        assert_eq!(status, "pending");
        // Every answer about it forged, one way after another: still pending, nothing recorded.
        let faults: &[Fault] = if wechat {
            &[
                Fault::BadSignature,
                Fault::Unsigned,
                Fault::UnknownSerial,
                Fault::SkewTimestamp { seconds: -400 },
            ]
        } else {
            &[Fault::BadSignature, Fault::Unsigned]
        };
        for fault in faults {
            w.inject(fault.clone(), 1, Some(&refund_no));
            let report = w.sync().await;
            assert_eq!(
                (report.refunds_done, report.refunds_pending),
                (0, 1),
                "{fault:?}: {report:?}"
            );
            assert_eq!(report.problems.len(), 1, "{fault:?}: {report:?}");
            assert!(report.problems[0].contains(&refund_no), "{report:?}");
            assert_eq!(snapshot(d).await, before, "{fault:?}");
        }
        // Genuine again: recorded once; the retry is the same refund.
        let report = w.sync().await;
        assert_eq!(
            (report.refunds_done, report.refunds_pending),
            (1, 0),
            "{report:?}"
        );
        let done = collection::refund_via_channel(d, &w.secrets, &req)
            .await
            .unwrap();
        assert_eq!(done.amount, m("200"));
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM refunds WHERE payment_id = ?")
            .bind(payment)
            .fetch_one(d.db().pool())
            .await
            .unwrap();
        assert_eq!(rows, 1);
        let at_channel = w
            .sandbox
            .handle()
            .refunds()
            .into_iter()
            .filter(|r| r.out_trade_no == no)
            .count();
        assert_eq!(at_channel, 1);
    }
    w.finish().await;
}
