//! Collection through the channels, through the core API against the in-process sandbox, for a
//! WeChat Pay and an Alipay account whose keys sit in the real OS keyring: `collect` opens one
//! order per bill (a retry gets the same one), the sandbox pays it, `sync_orders` records it
//! exactly once into the designated account under the channel's transaction id; refusals;
//! stale orders closed; an expired order paid meanwhile is recorded, not lost; refunds through
//! the channel, idempotent under their key and never above what is left.
//!
//! Needs a Secret Service: run under tests/keyring-session.sh (as `make test` does). Elsewhere
//! the tests say they were skipped; with FEEDESK_KEYRING_TESTS=1 a missing keyring fails them.

use crate::support::billing_support;
use crate::support::channels_support;
use crate::support::collection_support;

use std::sync::Arc;

use billing_support::*;
use channels_support::{keyring_or_skip, sandbox_config};
use chrono::Duration;
use collection_support::{ALIPAY, WECHAT, channel_accounts};
use feedesk::billing::{self, Channel, RefundRequest};
use feedesk::channels::sandbox::{OrderState, Sandbox};
use feedesk::collection::{self, ChannelOrder, SyncReport};
use feedesk::secrets::{SecretRef, SecretStore};
use feedesk::{ErrorCode, FeeDesk};

/// The keyring service these tests file their items under.
const SERVICE: &str = "cn.feedesk.app.test.collection";

struct World {
    _dir: tempfile::TempDir,
    desk: FeeDesk,
    clock: Arc<TestClock>,
    secrets: SecretStore,
    sandbox: Sandbox,
    /// XH 一班 学费 fixed 2800, into XH's WeChat Pay account 西湖微信.
    wechat_plan: i64,
    /// BJ 一班 学费 fixed 1500.50, into HQ's Alipay account 集团支付宝 (central collection).
    alipay_plan: i64,
    /// XH 二班 材料费 fixed 800, into XH's cash account 西湖现金.
    cash_plan: i64,
    /// CD 一班 活动费 declared 50-500, into 成都现金 (a self-declared plan into a channel account
    /// is refused: no one could pay it).
    declared_plan: i64,
}

async fn world(test: &str) -> Option<World> {
    let secrets = keyring_or_skip(SERVICE, test).await?;
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(default_time());
    let desk = open(&dir.path().join("data"), clock.clone()).await;
    institution(&desk).await;
    let mut rows = vec![];
    let names = [
        "张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "郑十",
    ];
    let nos: Vec<(String, String, String)> = (1..=8)
        .flat_map(|i| {
            [
                ("XH".to_string(), format!("S{i:03}"), "一班".to_string()),
                ("BJ".to_string(), format!("B{i:03}"), "一班".to_string()),
            ]
        })
        .chain((1..=2).map(|i| ("XH".to_string(), format!("S1{i:02}"), "二班".to_string())))
        .chain((1..=2).map(|i| ("CD".to_string(), format!("C{i:03}"), "一班".to_string())))
        .collect();
    for (i, (store, no, class)) in nos.iter().enumerate() {
        rows.push((
            store.as_str(),
            no.as_str(),
            names[i % names.len()],
            class.as_str(),
            "",
        ));
    }
    roster(&desk, &rows).await;
    let sandbox = channel_accounts(&desk, &secrets).await;
    account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
    account(&desk, "CD", Channel::OfflineCash, "成都现金").await;
    fee(&desk, "XH", "学费").await;
    fee(&desk, "BJ", "学费").await;
    fee(&desk, "XH", "材料费").await;
    fee(&desk, "CD", "活动费").await;
    let mut ids = vec![];
    for req in [
        plan_req("XH/学费", class("一班"), "fixed:2800", WECHAT),
        plan_req("BJ/学费", class("一班"), "fixed:1500.50", ALIPAY),
        plan_req("XH/材料费", class("二班"), "fixed:800", "西湖现金"),
        plan_req("CD/活动费", class("一班"), "declared:50-500", "成都现金"),
    ] {
        let p = plan(&desk, req).await;
        billing::issue_plan(&desk, p.id).await.unwrap();
        ids.push(p.id);
    }
    Some(World {
        _dir: dir,
        desk,
        clock,
        secrets,
        sandbox,
        wechat_plan: ids[0],
        alipay_plan: ids[1],
        cash_plan: ids[2],
        declared_plan: ids[3],
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

    fn advance(&self, minutes: i64) {
        let now = feedesk::clock::Clock::now(&*self.clock);
        self.clock.set(now + Duration::minutes(minutes));
    }

    async fn sync(&self) -> SyncReport {
        collection::sync_orders(&self.desk, &self.secrets)
            .await
            .unwrap()
    }
}

/// (id, amount fen, reference, account id) of each payment on a bill.
async fn payments(desk: &FeeDesk, bill_id: i64) -> Vec<(i64, i64, Option<String>, i64)> {
    sqlx::query_as(
        "SELECT id, amount_fen, reference, account_id FROM payments WHERE bill_id = ? ORDER BY id",
    )
    .bind(bill_id)
    .fetch_all(desk.db().pool())
    .await
    .unwrap()
}

async fn orders_of(desk: &FeeDesk, bill_id: i64) -> Vec<ChannelOrder> {
    collection::list_orders(desk, Some(bill_id)).await.unwrap()
}

async fn order_row(desk: &FeeDesk, no: &str) -> ChannelOrder {
    collection::list_orders(desk, None)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.order_no == no)
        .unwrap_or_else(|| panic!("no order {no}"))
}

fn clean(report: &SyncReport) {
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_is_collected_paid_and_recorded_once_through_either_channel() {
    let Some(w) = world("collect").await else {
        return;
    };
    let d = &w.desk;
    let accounts = billing::list_accounts(d).await.unwrap();
    let id_of = |name: &str| accounts.iter().find(|a| a.name == name).unwrap().id;
    for (plan_id, member, account, channel, prefix, due) in [
        (
            w.wechat_plan,
            "S001",
            WECHAT,
            "wechat",
            "weixin://wxpay/bizpayurl?pr=",
            280_000,
        ),
        (
            w.alipay_plan,
            "B001",
            ALIPAY,
            "alipay",
            "https://qr.alipay.com/",
            150_050,
        ),
    ] {
        let bill = bill_of(d, plan_id, member).await;
        assert_eq!(bill.amount_due.fen(), due);
        let order = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        assert!(!order.reused);
        assert_eq!(order.bill_id, bill.id);
        assert_eq!(order.amount.fen(), due, "the order is for what is owed");
        assert_eq!(
            (order.account.as_str(), order.account_id),
            (account, id_of(account))
        );
        assert_eq!(order.channel, channel);
        assert!(order.qr_text.starts_with(prefix), "{}", order.qr_text);
        match channel {
            "wechat" => {
                assert_eq!(order.code_url.as_deref(), Some(order.qr_text.as_str()));
                assert!(order.qr_code.is_none());
            }
            _ => {
                assert_eq!(order.qr_code.as_deref(), Some(order.qr_text.as_str()));
                assert!(order.code_url.is_none());
            }
        }
        assert!(order.expires_at.as_str() > d.now_text().as_str());
        // The channel holds the same order, for the same amount, under our number.
        let held = w.sandbox.handle().order(&order.order_no).unwrap();
        assert_eq!((held.total_fen, held.state), (due, OrderState::Open));
        assert_eq!(held.code_url, order.qr_text);

        // A retry (a second click, a reopened dialog) shows the same order.
        let again = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        assert!(again.reused);
        assert_eq!(
            (&again.order_no, &again.qr_text, again.amount),
            (&order.order_no, &order.qr_text, order.amount)
        );
        assert_eq!(orders_of(d, bill.id).await.len(), 1);

        // Nobody has paid yet: a sync records nothing and leaves the order open.
        let before = snapshot(d).await;
        let report = w.sync().await;
        clean(&report);
        assert_eq!((report.checked, report.paid, report.still_open), (1, 0, 1));
        assert_eq!(snapshot(d).await, before);
        assert_eq!(order_status(d, &order.order_no).await, "open");

        let paid = w.sandbox.handle().pay(&order.order_no).unwrap();
        let txn = paid.transaction_id.clone().unwrap();
        let report = w.sync().await;
        clean(&report);
        assert_eq!((report.checked, report.paid, report.still_open), (1, 1, 0));
        let p = payments(d, bill.id).await;
        assert_eq!(p.len(), 1, "exactly one payment");
        assert_eq!(p[0].1, due);
        assert_eq!(
            p[0].2.as_deref(),
            Some(txn.as_str()),
            "the channel's transaction id"
        );
        assert_eq!(p[0].3, id_of(account), "into the designated account");
        let after = billing::get_bill(d, bill.id).await.unwrap();
        assert_eq!(after.bill.status, "paid");
        assert_eq!(after.bill.amount_paid.fen(), due);
        assert_eq!(after.bill.outstanding.fen(), 0);
        assert_eq!(after.payments[0].channel, channel);
        let settled = order_row(d, &order.order_no).await;
        assert_eq!(settled.status, "paid");
        assert_eq!(settled.transaction_id.as_deref(), Some(txn.as_str()));
        assert_eq!(settled.payment_id, Some(p[0].0));
        assert_books(d).await;
        // Its receipt was issued in the same transaction: the channel and its transaction id.
        let receipt = feedesk::receipts::list_receipts(
            d,
            &feedesk::receipts::ReceiptFilter {
                payment_id: Some(p[0].0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(receipt.len(), 1, "one receipt for the channel payment");
        let detail = feedesk::receipts::receipt_detail(d, &receipt[0].number)
            .await
            .unwrap();
        assert_eq!(detail.content.reference.as_deref(), Some(txn.as_str()));
        assert_eq!(
            detail.content.channel,
            if channel == "wechat" {
                "微信支付"
            } else {
                "支付宝"
            }
        );

        // A second sync changes nothing: the order is settled.
        let before = snapshot(d).await;
        let report = w.sync().await;
        clean(&report);
        assert_eq!((report.checked, report.paid), (0, 0));
        assert_eq!(snapshot(d).await, before);

        // A paid bill has nothing to collect.
        let err = collection::collect(d, &w.secrets, bill.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        assert!(
            err.to_string().contains("paid") && err.to_string().contains("nothing to collect"),
            "{err}"
        );
        assert_eq!(snapshot(d).await, before);
        assert_eq!(orders_of(d, bill.id).await.len(), 1);
    }
    // Central collection: BJ's bill was paid into HQ's Alipay account; HQ holds the money,
    // BJ's receivable went down, and the inter-unit balances say so (assert_books checks it).
    let hq = feedesk::ledger::trial_balance(d, "HQ", false)
        .await
        .unwrap();
    assert!(
        hq.lines
            .iter()
            .any(|l| l.code.starts_with("1012.") && l.balance.fen() == 150_050),
        "{hq:?}"
    );
    w.finish().await;
}

async fn order_status(desk: &FeeDesk, no: &str) -> String {
    order_row(desk, no).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_refuses_bills_it_cannot_collect_and_changes_nothing() {
    let Some(w) = world("refusals").await else {
        return;
    };
    let d = &w.desk;
    let cash = bill_of(d, w.cash_plan, "S101").await;
    let declared = bill_of(d, w.declared_plan, "C001").await;
    let wechat = bill_of(d, w.wechat_plan, "S002").await;
    // A paid bill (paid by hand at the counter into its cash account).
    let paid_cash = bill_of(d, w.cash_plan, "S102").await;
    pay(d, paid_cash.id, "800", "西湖现金", "cash-s102")
        .await
        .unwrap();
    // A voided bill.
    billing::void_bill(d, wechat.id, "免收").await.unwrap();

    let before = snapshot(d).await;
    for (bill_id, code, needles) in [
        (
            cash.id,
            ErrorCode::Validation,
            vec!["西湖现金", "offline-cash", "by hand"],
        ),
        (
            paid_cash.id,
            ErrorCode::Validation,
            vec!["is paid", "nothing to collect"],
        ),
        (
            declared.id,
            ErrorCode::Validation,
            vec!["self-declared", "counter"],
        ),
        (
            wechat.id,
            ErrorCode::Validation,
            vec!["voided", "nothing to collect"],
        ),
        (999_999, ErrorCode::NotFound, vec!["999999"]),
    ] {
        let err = collection::collect(d, &w.secrets, bill_id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "bill {bill_id}: {err}");
        let text = err.to_string();
        for needle in needles {
            assert!(
                text.contains(needle),
                "bill {bill_id}: expected '{needle}' in: {text}"
            );
        }
        if bill_id != 999_999 {
            assert!(
                text.contains(&bill_id.to_string()),
                "the message names the bill: {text}"
            );
        }
    }
    assert_eq!(snapshot(d).await, before);
    assert!(collection::list_orders(d, None).await.unwrap().is_empty());
    assert!(
        w.sandbox.handle().orders().is_empty(),
        "the channel heard of nothing"
    );
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_order_is_closed_and_the_next_collect_opens_a_new_one() {
    let Some(w) = world("stale").await else {
        return;
    };
    let d = &w.desk;
    for (plan_id, member) in [(w.wechat_plan, "S003"), (w.alipay_plan, "B003")] {
        let bill = bill_of(d, plan_id, member).await;
        let first = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        // Still payable a minute before it expires.
        w.advance(collection::ORDER_MINUTES - 1);
        let report = w.sync().await;
        clean(&report);
        assert_eq!((report.still_open, report.closed), (1, 0));
        // Expired: the sync closes it at the channel and in the books of orders.
        w.advance(2);
        let report = w.sync().await;
        clean(&report);
        assert_eq!((report.checked, report.closed, report.paid), (1, 1, 0));
        assert_eq!(order_status(d, &first.order_no).await, "closed");
        assert_eq!(
            w.sandbox.handle().order(&first.order_no).unwrap().state,
            OrderState::Closed,
            "closed at the channel too, so nobody can pay it"
        );
        assert!(w.sandbox.handle().pay(&first.order_no).is_err());
        assert!(payments(d, bill.id).await.is_empty());
        assert_eq!(bill_of(d, plan_id, member).await.status, "open");

        // The next collect opens a new order under a new number.
        let second = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        assert!(!second.reused);
        assert_ne!(second.order_no, first.order_no);
        assert_eq!(second.amount, first.amount);
        w.sandbox.handle().pay(&second.order_no).unwrap();
        let report = w.sync().await;
        clean(&report);
        assert_eq!(report.paid, 1);
        assert_eq!(payments(d, bill.id).await.len(), 1);
        let statuses: Vec<String> = orders_of(d, bill.id)
            .await
            .into_iter()
            .map(|o| o.status)
            .collect();
        assert_eq!(statuses, ["paid", "closed"], "newest first");
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_order_is_closed_before_a_new_one_and_if_paid_meanwhile_it_is_recorded() {
    let Some(w) = world("expired").await else {
        return;
    };
    let d = &w.desk;
    for (plan_id, unpaid, paid_meanwhile, synced) in [
        (w.wechat_plan, "S004", "S005", "S006"),
        (w.alipay_plan, "B004", "B005", "B006"),
    ] {
        // Expired and unpaid: collect closes the old order at the channel before it opens a
        // new one, so only one order is ever payable.
        let bill = bill_of(d, plan_id, unpaid).await;
        let old = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        w.advance(collection::ORDER_MINUTES + 1);
        let new = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        assert!(!new.reused);
        assert_ne!(new.order_no, old.order_no);
        assert_eq!(order_status(d, &old.order_no).await, "closed");
        assert_eq!(
            w.sandbox.handle().order(&old.order_no).unwrap().state,
            OrderState::Closed
        );
        assert_eq!(
            w.sandbox.handle().order(&new.order_no).unwrap().state,
            OrderState::Open
        );
        let open: Vec<_> = orders_of(d, bill.id)
            .await
            .into_iter()
            .filter(|o| o.status == "open")
            .collect();
        assert_eq!(open.len(), 1);

        // Expired but paid at the channel meanwhile: collect records it, opens nothing new,
        // and says so.
        let bill = bill_of(d, plan_id, paid_meanwhile).await;
        let old = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        let txn = w
            .sandbox
            .handle()
            .pay(&old.order_no)
            .unwrap()
            .transaction_id
            .unwrap();
        w.advance(collection::ORDER_MINUTES + 1);
        let err = collection::collect(d, &w.secrets, bill.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
        assert!(
            err.to_string().contains(&old.order_no) && err.to_string().contains("paid meanwhile"),
            "{err}"
        );
        let p = payments(d, bill.id).await;
        assert_eq!(p.len(), 1, "recorded, not lost");
        assert_eq!(p[0].2.as_deref(), Some(txn.as_str()));
        assert_eq!(bill_of(d, plan_id, paid_meanwhile).await.status, "paid");
        assert_eq!(order_status(d, &old.order_no).await, "paid");
        assert_eq!(
            orders_of(d, bill.id).await.len(),
            1,
            "no new order for a paid bill"
        );

        // Expired but paid meanwhile, found by a sync instead: recorded, not closed.
        let bill = bill_of(d, plan_id, synced).await;
        let old = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        w.sandbox.handle().pay(&old.order_no).unwrap();
        w.advance(collection::ORDER_MINUTES + 1);
        let report = w.sync().await;
        clean(&report);
        assert_eq!((report.paid, report.closed), (1, 1), "{report:?}");
        assert_eq!(payments(d, bill.id).await.len(), 1);
        assert_eq!(order_status(d, &old.order_no).await, "paid");
        // (The other bill's new order expired too and was closed by the same sync.)
        assert_eq!(w.sync().await.checked, 0);
    }
    w.finish().await;
}

/// A payment was paid at the channel for a bill that can no longer take it (voided while its
/// QR code was on screen): the order is marked unapplied with a note, nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_paid_for_a_bill_voided_meanwhile_is_flagged_not_recorded() {
    let Some(w) = world("unapplied").await else {
        return;
    };
    let d = &w.desk;
    let bill = bill_of(d, w.wechat_plan, "S007").await;
    let order = collection::collect(d, &w.secrets, bill.id).await.unwrap();
    billing::void_bill(d, bill.id, "退学").await.unwrap();
    w.sandbox.handle().pay(&order.order_no).unwrap();
    let before = snapshot(d).await;
    let report = w.sync().await;
    assert_eq!((report.paid, report.unapplied), (0, 1), "{report:?}");
    assert_eq!(
        snapshot(d).await,
        before,
        "nothing recorded against a voided bill"
    );
    let o = collection::list_orders(d, Some(bill.id))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(o.status, "unapplied");
    assert!(o.transaction_id.is_some());
    assert!(
        o.note.as_deref().unwrap_or("").contains("refund it"),
        "{:?}",
        o.note
    );
    assert_eq!(w.sync().await.checked, 0);
    w.finish().await;
}

fn refund_req(payment_id: i64, amount: &str, key: &str) -> RefundRequest {
    RefundRequest {
        payment_id,
        amount: m(amount),
        reason: "缺课退费".into(),
        key: key.into(),
    }
}

async fn channel_refunds(desk: &FeeDesk) -> Vec<(String, i64, String, Option<i64>)> {
    sqlx::query_as(
        "SELECT out_refund_no, amount_fen, status, refund_id FROM channel_refunds ORDER BY id",
    )
    .fetch_all(desk.db().pool())
    .await
    .unwrap()
}

/// Collects, pays and records a bill; returns (payment id, order number).
async fn collected(w: &World, plan_id: i64, member: &str) -> (i64, String) {
    let bill = bill_of(&w.desk, plan_id, member).await;
    let order = collection::collect(&w.desk, &w.secrets, bill.id)
        .await
        .unwrap();
    w.sandbox.handle().pay(&order.order_no).unwrap();
    clean(&w.sync().await);
    let p = payments(&w.desk, bill.id).await;
    assert_eq!(p.len(), 1);
    (p[0].0, order.order_no)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_go_back_through_the_channel_once_and_never_above_what_is_left() {
    let Some(w) = world("refunds").await else {
        return;
    };
    let d = &w.desk;
    let s = &w.secrets;
    for (plan_id, member, total, tag) in [
        (w.wechat_plan, "S008", 280_000, "wx"),
        (w.alipay_plan, "B008", 150_050, "ali"),
    ] {
        let (payment, order_no) = collected(&w, plan_id, member).await;
        let refunds_before = w.sandbox.handle().refunds().len();
        let rows_before = channel_refunds(d).await.len();

        // Partial.
        let first =
            collection::refund_via_channel(d, s, &refund_req(payment, "300", &format!("{tag}-r1")))
                .await
                .unwrap();
        assert_eq!(first.amount, m("300"));
        assert_eq!(first.refundable.fen(), total - 30_000);
        assert_eq!(first.status, "paid", "a partial refund keeps the bill paid");
        let at_channel = w.sandbox.handle().refunds();
        assert_eq!(at_channel.len(), refunds_before + 1);
        let r = at_channel
            .iter()
            .find(|r| r.out_trade_no == order_no)
            .unwrap();
        assert_eq!(r.refund_fen, 30_000);
        assert_eq!(
            w.sandbox.handle().order(&order_no).unwrap().refunded_fen,
            30_000
        );
        let rows = channel_refunds(d).await;
        assert_eq!(rows.len(), rows_before + 1);
        let row = rows.last().unwrap();
        assert_eq!(
            (row.1, row.2.as_str(), row.3),
            (30_000, "done", Some(first.refund_id))
        );
        assert_eq!(row.0, r.out_refund_no, "the channel's refund is ours");

        // The same key again: the same refund, not a second one, here or at the channel.
        let before = snapshot(d).await;
        let again =
            collection::refund_via_channel(d, s, &refund_req(payment, "300", &format!("{tag}-r1")))
                .await
                .unwrap();
        assert_eq!(again, first);
        assert_eq!(snapshot(d).await, before);
        assert_eq!(w.sandbox.handle().refunds().len(), refunds_before + 1);
        assert_eq!(channel_refunds(d).await.len(), rows_before + 1);
        // The same key for another amount is a conflict, and moves nothing.
        let err =
            collection::refund_via_channel(d, s, &refund_req(payment, "301", &format!("{tag}-r1")))
                .await
                .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict, "{err}");

        // Above what is left: refused with the amounts, nothing asked of the channel.
        let left = total - 30_000;
        let too_much = billing_support::fen(left + 1).to_string();
        let err = collection::refund_via_channel(
            d,
            s,
            &refund_req(payment, &too_much, &format!("{tag}-r2")),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        assert!(
            err.to_string()
                .contains(&billing_support::fen(left).to_string()),
            "{err}"
        );
        let err =
            collection::refund_via_channel(d, s, &refund_req(payment, "0", &format!("{tag}-r0")))
                .await
                .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        assert_eq!(snapshot(d).await, before);
        assert_eq!(w.sandbox.handle().refunds().len(), refunds_before + 1);
        assert_eq!(channel_refunds(d).await.len(), rows_before + 1);

        // The rest: the bill closes as refunded.
        let rest = billing_support::fen(left).to_string();
        let last =
            collection::refund_via_channel(d, s, &refund_req(payment, &rest, &format!("{tag}-r3")))
                .await
                .unwrap();
        assert_eq!(last.refundable.fen(), 0);
        assert_eq!(last.status, "refunded");
        assert_eq!(
            w.sandbox.handle().order(&order_no).unwrap().refunded_fen,
            total
        );
        let err = collection::refund_via_channel(
            d,
            s,
            &refund_req(payment, "0.01", &format!("{tag}-r4")),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        assert_eq!(w.sandbox.handle().refunds().len(), refunds_before + 2);
        let refunded: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(amount_fen), 0) FROM refunds WHERE payment_id = ?",
        )
        .bind(payment)
        .fetch_one(d.db().pool())
        .await
        .unwrap();
        assert_eq!(refunded, total, "two refund rows, adding up to the payment");
        assert_books(d).await;
    }

    // A cash payment has no channel to go back through.
    let cash = bill_of(d, w.cash_plan, "S101").await;
    let paid = pay(d, cash.id, "800", "西湖现金", "cash-s101")
        .await
        .unwrap();
    let before = snapshot(d).await;
    let err = collection::refund_via_channel(d, s, &refund_req(paid.payment_id, "100", "cash-r1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    assert!(
        err.to_string().contains("not collected through a channel"),
        "{err}"
    );
    assert_eq!(snapshot(d).await, before);
    w.finish().await;
}

/// A refund whose channel answer never arrived (here: forged, so not believed) stays pending:
/// it holds its amount, so no other refund can take the same money, and the next sync asks the
/// channel and records it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_channel_refund_holds_its_amount_until_sync_records_it() {
    use feedesk::channels::sandbox::{Fault, FaultRule};
    let Some(w) = world("pending refund").await else {
        return;
    };
    let d = &w.desk;
    let s = &w.secrets;
    for (plan_id, member, total, tag) in [
        (w.wechat_plan, "S006", 280_000, "wx"),
        (w.alipay_plan, "B006", 150_050, "ali"),
    ] {
        let (payment, order_no) = collected(&w, plan_id, member).await;
        let count_refunds = || async {
            w.sandbox
                .handle()
                .refunds()
                .into_iter()
                .filter(|r| r.out_trade_no == order_no)
                .count()
        };
        w.sandbox.handle().inject(FaultRule {
            fault: Fault::BadSignature,
            times: 1,
            order: None,
        });
        let before = snapshot(d).await;
        let err = collection::refund_via_channel(
            d,
            s,
            &refund_req(payment, "1000", &format!("{tag}-p1")),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Channel, "{err}");
        assert_eq!(
            snapshot(d).await,
            before,
            "nothing recorded on a forged answer"
        );
        let pending = channel_refunds(d).await;
        assert_eq!(pending.last().unwrap().2, "pending");
        assert_eq!(count_refunds().await, 1, "the channel did take the request");

        // While it is pending, what is left to refund excludes it: more than the rest is
        // refused, and never recorded by hand without the channel.
        let rest = total - 100_000;
        let err = collection::refund_via_channel(
            d,
            s,
            &refund_req(
                payment,
                &billing_support::fen(rest + 1).to_string(),
                &format!("{tag}-p2"),
            ),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        assert!(err.to_string().contains("still being refunded"), "{err}");
        assert_eq!(
            snapshot(d).await,
            before,
            "no refund recorded past the pending one"
        );
        assert_eq!(count_refunds().await, 1);

        // The next sync finishes it, once.
        let report = w.sync().await;
        assert_eq!(
            (report.refunds_done, report.refunds_pending),
            (1, 0),
            "{report:?}"
        );
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT amount_fen FROM refunds WHERE payment_id = ?")
                .bind(payment)
                .fetch_all(d.db().pool())
                .await
                .unwrap();
        assert_eq!(rows, [(100_000,)]);
        assert_eq!(channel_refunds(d).await.last().unwrap().2, "done");
        assert_eq!(w.sync().await.refunds_done, 0);
        // Retrying the first request now answers with the refund the sync recorded.
        let again = collection::refund_via_channel(
            d,
            s,
            &refund_req(payment, "1000", &format!("{tag}-p1")),
        )
        .await
        .unwrap();
        assert_eq!(again.refundable.fen(), rest);
        assert_eq!(count_refunds().await, 1);
        assert_books(d).await;
    }
    w.finish().await;
}

/// The channel was unreachable when the order was opened: the order is written down but the
/// channel never received it. Collecting again asks for it again under the same number; left
/// alone until it expires, the sync closes it (WeChat Pay cannot close what it never received)
/// and the bill can be collected again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_the_channel_never_received_is_asked_again_or_closed_once_expired() {
    let Some(mut w) = world("never received").await else {
        return;
    };
    for (plan_id, again, expire) in [
        (w.wechat_plan, "S001", "S002"),
        (w.alipay_plan, "B001", "B002"),
    ] {
        let port = w.sandbox.addr().port();
        let down = std::mem::replace(
            &mut w.sandbox,
            Sandbox::start(sandbox_config(), 0).await.unwrap(),
        );
        down.shutdown().await;
        let a = bill_of(&w.desk, plan_id, again).await.id;
        let b = bill_of(&w.desk, plan_id, expire).await.id;
        let mut orphans = vec![];
        for bill_id in [a, b] {
            let err = collection::collect(&w.desk, &w.secrets, bill_id)
                .await
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::Channel, "{err}");
            let ours = orders_of(&w.desk, bill_id).await;
            assert_eq!(ours.len(), 1);
            assert_eq!(
                (ours[0].status.as_str(), ours[0].code_url.as_deref()),
                ("open", None)
            );
            orphans.push(ours[0].order_no.clone());
        }
        // The channel is back (knowing nothing of the two orders).
        let up = Sandbox::start(sandbox_config(), port).await.unwrap();
        std::mem::replace(&mut w.sandbox, up).shutdown().await;
        let d = &w.desk;
        assert!(w.sandbox.handle().order(&orphans[0]).is_none());
        let report = w.sync().await;
        clean(&report);
        assert_eq!(
            (report.checked, report.still_open, report.closed),
            (2, 2, 0)
        );

        // Collecting again asks for the same order again.
        let order = collection::collect(d, &w.secrets, a).await.unwrap();
        assert_eq!(order.order_no, orphans[0]);
        assert!(order.reused && !order.qr_text.is_empty());
        assert_eq!(
            w.sandbox.handle().order(&order.order_no).unwrap().state,
            OrderState::Open
        );
        let txn = w
            .sandbox
            .handle()
            .pay(&order.order_no)
            .unwrap()
            .transaction_id
            .unwrap();

        // Left alone past its expiry, the other is closed by the sync, which records the first.
        w.advance(collection::ORDER_MINUTES + 1);
        let report = w.sync().await;
        clean(&report);
        assert_eq!(
            (report.checked, report.paid, report.closed),
            (2, 1, 1),
            "{report:?}"
        );
        let p = payments(d, a).await;
        assert_eq!((p.len(), p[0].2.as_deref()), (1, Some(txn.as_str())));
        assert_eq!(order_status(d, &orphans[1]).await, "closed");
        // And that bill can be collected again, under a new number.
        let fresh = collection::collect(d, &w.secrets, b).await.unwrap();
        assert_ne!(fresh.order_no, orphans[1]);
        assert!(!fresh.reused);
        w.sandbox.handle().pay(&fresh.order_no).unwrap();
        assert_eq!(w.sync().await.paid, 1);
        assert_eq!(payments(d, b).await.len(), 1);
    }
    w.finish().await;
}

/// A reason typed the way people type Chinese (a full-width comma, a stray space) is normalised
/// for the books; retrying the very same request must still be the same refund, whether it was
/// recorded at once or finished by a sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_a_channel_refund_typed_with_full_width_punctuation_is_the_same_refund() {
    use feedesk::channels::sandbox::{Fault, FaultRule};
    let Some(w) = world("full-width").await else {
        return;
    };
    let d = &w.desk;
    let s = &w.secrets;
    for (plan_id, member, tag) in [
        (w.wechat_plan, "S005", "wx"),
        (w.alipay_plan, "B005", "ali"),
    ] {
        let (payment, _) = collected(&w, plan_id, member).await;
        let typed = |amount: &str, key: &str| RefundRequest {
            payment_id: payment,
            amount: m(amount),
            reason: " 缺课，退一半　".into(),
            key: key.into(),
        };
        // Recorded at once.
        let first = collection::refund_via_channel(d, s, &typed("100", &format!("{tag}-fw1")))
            .await
            .unwrap();
        let again =
            collection::refund_via_channel(d, s, &typed("100", &format!("{tag}-fw1"))).await;
        assert_eq!(again.unwrap(), first);
        // Finished by a sync (the channel's first answer was forged).
        w.sandbox.handle().inject(FaultRule {
            fault: Fault::BadSignature,
            times: 1,
            order: None,
        });
        collection::refund_via_channel(d, s, &typed("200", &format!("{tag}-fw2")))
            .await
            .unwrap_err();
        assert_eq!(w.sync().await.refunds_done, 1);
        let again =
            collection::refund_via_channel(d, s, &typed("200", &format!("{tag}-fw2"))).await;
        let again = again.unwrap();
        assert_eq!(again.amount, m("200"));
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM refunds WHERE payment_id = ?")
            .bind(payment)
            .fetch_one(d.db().pool())
            .await
            .unwrap();
        assert_eq!(rows, 2);
        assert_books(d).await;
    }
    w.finish().await;
}

/// The payer's payment failed (WeChat Pay PAYERROR; Alipay closes the trade): the order can no
/// longer be paid, so the sync settles it as not paid and the next collect opens a new,
/// payable order instead of showing the dead QR code again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_payment_frees_the_bill_for_a_new_order() {
    let Some(w) = world("failed").await else {
        return;
    };
    let d = &w.desk;
    for (plan_id, member) in [(w.wechat_plan, "S004"), (w.alipay_plan, "B004")] {
        let bill = bill_of(d, plan_id, member).await;
        let dead = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        w.sandbox.handle().fail(&dead.order_no).unwrap();
        let before = snapshot(d).await;
        let report = w.sync().await;
        clean(&report);
        assert_eq!(
            (report.checked, report.paid, report.still_open),
            (1, 0, 0),
            "{report:?}"
        );
        assert_eq!(snapshot(d).await, before);
        let status = order_status(d, &dead.order_no).await;
        assert!(status == "failed" || status == "closed", "{status}");
        let fresh = collection::collect(d, &w.secrets, bill.id).await.unwrap();
        assert_ne!(fresh.order_no, dead.order_no);
        assert!(!fresh.reused);
        let txn = w
            .sandbox
            .handle()
            .pay(&fresh.order_no)
            .unwrap()
            .transaction_id
            .unwrap();
        assert_eq!(w.sync().await.paid, 1);
        let p = payments(d, bill.id).await;
        assert_eq!((p.len(), p[0].2.as_deref()), (1, Some(txn.as_str())));
    }
    w.finish().await;
}
