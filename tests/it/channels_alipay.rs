//! The Alipay client against the sandbox, over real HTTP with real RSA keys: precreate, scan
//! and pay, query, close, refunds, and every forged answer refused.

use crate::support::channels_support;

use channels_support::*;
use feedesk::channels::alipay::{
    AlipayClient, AlipayCloseOutcome, AlipayRefundRequest, PrecreateOrder, TradeStatus,
};
use feedesk::channels::crypto;
use feedesk::channels::sandbox::{Fault, FaultRule, OrderState};

fn order(no: &str, fen: i64) -> PrecreateOrder {
    PrecreateOrder {
        out_trade_no: no.into(),
        subject: "学费 2026秋季学期".into(),
        total_fen: fen,
        timeout_express: Some("15m".into()),
        time_expire: None,
    }
}

fn fault(fault: Fault) -> FaultRule {
    FaultRule {
        fault,
        times: 1,
        order: None,
    }
}

#[tokio::test]
async fn an_order_is_precreated_paid_queried_and_refunded() {
    let sandbox = sandbox().await;
    let client = alipay(&sandbox);
    let qr = client
        .precreate(&order("FD202611220101", 888_888))
        .await
        .unwrap();
    assert!(qr.starts_with("https://qr.alipay.com/"), "{qr}");
    assert_eq!(
        client
            .precreate(&order("FD202611220101", 888_888))
            .await
            .unwrap(),
        qr
    );
    refused(
        client.precreate(&order("FD202611220101", 1)).await,
        "ACQ.CONTEXT_INCONSISTENT",
    );
    // The amount went on the wire as a yuan string.
    assert_eq!(
        sandbox.handle().order("FD202611220101").unwrap().total_fen,
        888_888
    );

    // Until somebody scans and pays, Alipay has no trade.
    assert!(client.query("FD202611220101").await.unwrap().is_none());
    sandbox.handle().pay("FD202611220101").unwrap();
    let paid = client.query("FD202611220101").await.unwrap().unwrap();
    assert_eq!(paid.status, TradeStatus::TradeSuccess);
    assert!(paid.status.is_paid());
    assert_eq!(paid.total_fen, 888_888);
    paid.confirm_total(888_888).unwrap();
    assert!(paid.trade_no.is_some() && paid.send_pay_date.is_some());

    let request = AlipayRefundRequest {
        out_trade_no: "FD202611220101".into(),
        out_request_no: "RF202611220101".into(),
        refund_fen: 88_888,
        reason: Some("缺课退费".into()),
    };
    let refund = client.refund(&request).await.unwrap();
    assert!(refund.fund_change);
    assert_eq!(refund.refund_fee_fen, 88_888);
    // A retry moves no money.
    let again = client.refund(&request).await.unwrap();
    assert!(!again.fund_change);
    assert_eq!(again.refund_fee_fen, 88_888);
    let queried = client
        .query_refund("FD202611220101", "RF202611220101")
        .await
        .unwrap()
        .unwrap();
    assert!(queried.is_success());
    assert_eq!(queried.refund_fen, 88_888);
    assert!(
        client
            .query_refund("FD202611220101", "RF202611229999")
            .await
            .unwrap()
            .is_none()
    );
    let too_much = AlipayRefundRequest {
        out_request_no: "RF202611220102".into(),
        refund_fen: 888_888,
        ..request
    };
    refused(
        client.refund(&too_much).await,
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn closing_and_failed_orders() {
    let sandbox = sandbox().await;
    let client = alipay(&sandbox);
    client
        .precreate(&order("FD202611220110", 100))
        .await
        .unwrap();
    assert_eq!(
        client.close("FD202611220110").await.unwrap(),
        AlipayCloseOutcome::NeverScanned
    );
    // Nobody scanned it, so Alipay had no trade to close: the code can still be scanned and
    // paid until its time_expire (none was given here).
    assert_eq!(
        sandbox.handle().order("FD202611220110").unwrap().state,
        OrderState::Open
    );
    assert!(sandbox.handle().pay("FD202611220110").is_ok());

    client
        .precreate(&order("FD202611220111", 100))
        .await
        .unwrap();
    sandbox.handle().pay("FD202611220111").unwrap();
    assert_eq!(
        client.close("FD202611220111").await.unwrap(),
        AlipayCloseOutcome::NotClosable
    );

    client
        .precreate(&order("FD202611220112", 100))
        .await
        .unwrap();
    sandbox.handle().fail("FD202611220112").unwrap();
    let failed = client.query("FD202611220112").await.unwrap().unwrap();
    assert_eq!(failed.status, TradeStatus::TradeClosed);
    assert!(!failed.status.is_paid());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_forged_answer_is_refused() {
    let sandbox = sandbox().await;
    let client = alipay(&sandbox);
    let handle = sandbox.handle();
    client
        .precreate(&order("FD202611220120", 5_000))
        .await
        .unwrap();
    handle.pay("FD202611220120").unwrap();

    handle.inject(fault(Fault::BadSignature));
    refused(
        client.query("FD202611220120").await,
        "signature does not verify",
    );
    client.query("FD202611220120").await.unwrap().unwrap();

    // Correctly signed, but about another order.
    handle.inject(fault(Fault::WrongMerchant));
    refused(
        client.query("FD202611220120").await,
        "asked about FD202611220120",
    );

    // Correctly signed, but one fen off our order.
    handle.inject(fault(Fault::WrongAmount));
    let wrong = client.query("FD202611220120").await.unwrap().unwrap();
    assert_eq!(wrong.total_fen, 5_001);
    refused(wrong.confirm_total(5_000), "5000 fen");

    // A forged "no such trade" is refused, not taken as an answer.
    handle.inject(fault(Fault::BadSignature));
    refused(client.query("FD000000404").await, "signature");
    handle.inject(fault(Fault::Unsigned));
    refused(client.query("FD000000404").await, "ACQ.TRADE_NOT_EXIST");
    handle.inject(fault(Fault::Unsigned));
    refused(client.query("FD202611220120").await, "without a signature");
    // A forged refusal of a refund, too.
    handle.inject(fault(Fault::BadSignature));
    refused(
        client
            .refund(&AlipayRefundRequest {
                out_trade_no: "FD202611220120".into(),
                out_request_no: "RF202611220120".into(),
                refund_fen: 1,
                reason: None,
            })
            .await,
        "signature",
    );

    // Answers signed by someone else's key.
    let mut config = alipay_config(&sandbox);
    config.alipay_public_key = crypto::public_key(&fixture("alipay/app_public_key.pem")).unwrap();
    refused(
        AlipayClient::new(config)
            .unwrap()
            .query("FD202611220120")
            .await,
        "signature does not verify",
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_refuses_requests_that_are_not_the_apps() {
    let sandbox = sandbox().await;
    let mut config = alipay_config(&sandbox);
    config.private_key = crypto::private_key(&fixture("alipay/alipay_private_key.pem")).unwrap();
    refused(
        AlipayClient::new(config)
            .unwrap()
            .precreate(&order("FD202611220130", 1))
            .await,
        "isv.invalid-signature",
    );
    let mut config = alipay_config(&sandbox);
    config.app_id = "2021999999999999".into();
    refused(
        AlipayClient::new(config)
            .unwrap()
            .precreate(&order("FD202611220130", 1))
            .await,
        "isv.invalid-app-id",
    );
    assert!(sandbox.handle().orders().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn duplicated_and_reordered_answers_never_invent_state() {
    let sandbox = sandbox().await;
    let client = alipay(&sandbox);
    let handle = sandbox.handle();
    client
        .precreate(&order("FD202611220140", 2_000))
        .await
        .unwrap();
    assert!(client.query("FD202611220140").await.unwrap().is_none());
    handle.pay("FD202611220140").unwrap();
    let paid = client.query("FD202611220140").await.unwrap().unwrap();

    handle.inject(fault(Fault::Reorder));
    assert!(client.query("FD202611220140").await.unwrap().is_none());
    assert!(
        client
            .query("FD202611220140")
            .await
            .unwrap()
            .unwrap()
            .status
            .is_paid()
    );

    handle.inject(fault(Fault::Duplicate));
    let first = client.query("FD202611220140").await.unwrap().unwrap();
    let second = client.query("FD202611220140").await.unwrap().unwrap();
    assert_eq!(first, second);
    assert_eq!(first.trade_no, paid.trade_no);
    sandbox.shutdown().await;
}
