//! The WeChat Pay client against the sandbox, over real HTTP with real RSA keys (the official
//! test vectors): orders, payment, close, refunds, and every forged answer refused.

use crate::support::channels_support;

use std::sync::Arc;

use channels_support::*;
use feedesk::channels::crypto;
use feedesk::channels::sandbox::{Fault, FaultRule, OrderState};
use feedesk::channels::wechatpay::{
    CloseOutcome, NativeOrder, RefundRequest, RefundStatus, TradeState, WechatClient,
};
use feedesk::clock::FixedClock;

fn order(no: &str, fen: i64) -> NativeOrder {
    NativeOrder {
        out_trade_no: no.into(),
        description: "学费 2026秋季学期 一班".into(),
        total_fen: fen,
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
async fn an_order_is_placed_paid_queried_and_refunded() {
    let sandbox = sandbox().await;
    let client = wechat(&sandbox);
    let code_url = client
        .native_order(&order("FD202611220001", 888_800))
        .await
        .unwrap();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );
    // Placing the same order again (a retry) gives the same code.
    assert_eq!(
        client
            .native_order(&order("FD202611220001", 888_800))
            .await
            .unwrap(),
        code_url
    );
    // The same number with another amount is refused.
    refused(
        client.native_order(&order("FD202611220001", 1)).await,
        "INVALID_REQUEST",
    );

    let open = client.query("FD202611220001").await.unwrap().unwrap();
    assert_eq!(open.trade_state, TradeState::NotPay);
    assert!(!open.trade_state.is_paid() && open.transaction_id.is_none());
    assert_eq!(open.total_fen(), Some(888_800));

    sandbox.handle().pay("FD202611220001").unwrap();
    let paid = client.query("FD202611220001").await.unwrap().unwrap();
    assert_eq!(paid.trade_state, TradeState::Success);
    assert!(paid.transaction_id.as_deref().unwrap().starts_with("42000"));
    assert!(paid.success_time.as_deref().unwrap().ends_with("+08:00"));
    paid.confirm_total(888_800).unwrap();
    refused(
        client.native_order(&order("FD202611220001", 888_800)).await,
        "ORDERPAID",
    );

    let request = RefundRequest {
        out_trade_no: "FD202611220001".into(),
        out_refund_no: "RF202611220001".into(),
        reason: Some("缺课退费".into()),
        refund_fen: 30_000,
        total_fen: 888_800,
    };
    let refund = client.refund(&request).await.unwrap();
    assert_eq!(refund.status, RefundStatus::Processing);
    assert_eq!(
        (refund.amount.refund, refund.amount.total),
        (30_000, 888_800)
    );
    // A retry is the same refund, not a second one.
    let again = client.refund(&request).await.unwrap();
    assert_eq!(again.refund_id, refund.refund_id);
    assert_eq!(sandbox.handle().refunds().len(), 1);
    let settled = client
        .query_refund("RF202611220001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settled.status, RefundStatus::Success);
    assert!(settled.status.is_final());
    assert_eq!(
        client
            .query("FD202611220001")
            .await
            .unwrap()
            .unwrap()
            .trade_state,
        TradeState::Refund
    );
    // More than is left is refused.
    let too_much = RefundRequest {
        out_refund_no: "RF202611220002".into(),
        refund_fen: 888_800,
        ..request
    };
    refused(client.refund(&too_much).await, "NOT_ENOUGH");
    assert!(
        client
            .query_refund("RF202611229999")
            .await
            .unwrap()
            .is_none()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn closing_unknown_and_failed_orders() {
    let sandbox = sandbox().await;
    let client = wechat(&sandbox);
    assert!(client.query("FD000000404").await.unwrap().is_none());

    client
        .native_order(&order("FD202611220010", 100))
        .await
        .unwrap();
    assert_eq!(
        client.close("FD202611220010").await.unwrap(),
        CloseOutcome::Closed
    );
    assert_eq!(
        client
            .query("FD202611220010")
            .await
            .unwrap()
            .unwrap()
            .trade_state,
        TradeState::Closed
    );
    // A closed order cannot be paid.
    assert!(sandbox.handle().pay("FD202611220010").is_err());
    refused(
        client.native_order(&order("FD202611220010", 100)).await,
        "ORDERCLOSED",
    );

    client
        .native_order(&order("FD202611220011", 100))
        .await
        .unwrap();
    sandbox.handle().pay("FD202611220011").unwrap();
    assert_eq!(
        client.close("FD202611220011").await.unwrap(),
        CloseOutcome::AlreadyPaid
    );

    client
        .native_order(&order("FD202611220012", 100))
        .await
        .unwrap();
    sandbox.handle().fail("FD202611220012").unwrap();
    let failed = client.query("FD202611220012").await.unwrap().unwrap();
    assert_eq!(failed.trade_state, TradeState::PayError);
    assert!(!failed.trade_state.is_paid());

    // Our numbers are checked before anything is sent.
    let err = client.query("bad no/../x").await.unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::Validation);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_forged_answer_is_refused() {
    let sandbox = sandbox().await;
    let client = wechat(&sandbox);
    let handle = sandbox.handle();
    client
        .native_order(&order("FD202611220020", 5_000))
        .await
        .unwrap();
    handle.pay("FD202611220020").unwrap();

    for (fault_kind, needle) in [
        (Fault::BadSignature, "signature does not verify"),
        (Fault::SkewTimestamp { seconds: 301 }, "clock"),
        (Fault::SkewTimestamp { seconds: -301 }, "clock"),
        (Fault::UnknownSerial, "does not know"),
        (Fault::WrongMerchant, "merchant"),
    ] {
        handle.inject(fault(fault_kind.clone()));
        refused(client.query("FD202611220020").await, needle);
        // The fault is spent: the next answer is genuine and believed.
        let genuine = client.query("FD202611220020").await.unwrap().unwrap();
        assert_eq!(
            genuine.trade_state,
            TradeState::Success,
            "after {fault_kind:?}"
        );
    }
    // Within the 5 minutes, an answer is still fine.
    handle.inject(fault(Fault::SkewTimestamp { seconds: 290 }));
    client.query("FD202611220020").await.unwrap().unwrap();

    // A correctly signed answer with another amount is caught against our order.
    handle.inject(fault(Fault::WrongAmount));
    let wrong = client.query("FD202611220020").await.unwrap().unwrap();
    refused(wrong.confirm_total(5_000), "5000 fen");

    // A forged "no such order" or "closed" is refused too, not taken as an answer; so is an
    // unsigned one, and an unsigned success.
    handle.inject(fault(Fault::BadSignature));
    refused(client.query("FD000000404").await, "signature");
    handle.inject(fault(Fault::Unsigned));
    refused(client.query("FD000000404").await, "unsigned");
    handle.inject(fault(Fault::Unsigned));
    refused(
        client.query("FD202611220020").await,
        "no Wechatpay-Signature",
    );
    client
        .native_order(&order("FD202611220021", 5_000))
        .await
        .unwrap();
    handle.inject(fault(Fault::BadSignature));
    refused(client.close("FD202611220021").await, "signature");
    assert_eq!(
        handle.order("FD202611220021").unwrap().state,
        OrderState::Closed
    );

    // Platform certificates: genuine ones decrypt; altered ciphertext is refused even when the
    // answer is correctly signed.
    let certs = client.certificates().await.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial, PLATFORM_SERIAL);
    handle.inject(fault(Fault::AlterCiphertext));
    refused(client.certificates().await, "ciphertext");
    handle.inject(fault(Fault::UnknownSerial));
    refused(client.certificates().await, "does not know");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_refuses_requests_that_are_not_the_merchants() {
    let sandbox = sandbox().await;
    // Signed with another key.
    let mut config = wechat_config(&sandbox);
    config.private_key =
        crypto::private_key(&fixture("wechatpay/wechat_pay_private_key.pem")).unwrap();
    refused(
        WechatClient::new(config)
            .unwrap()
            .native_order(&order("FD202611220030", 1))
            .await,
        "SIGN_ERROR",
    );
    // Naming another certificate serial.
    let mut config = wechat_config(&sandbox);
    config.cert_serial = PLATFORM_SERIAL.into();
    refused(
        WechatClient::new(config)
            .unwrap()
            .native_order(&order("FD202611220030", 1))
            .await,
        "SIGN_ERROR",
    );
    // With a clock ten minutes slow: the sandbox refuses the request, and its answer is too
    // far from the client's clock to be believed either way.
    let slow = chrono::Utc::now() - chrono::Duration::minutes(10);
    let client = wechat(&sandbox).with_clock(Arc::new(FixedClock(slow)));
    let err = client
        .native_order(&order("FD202611220030", 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::Channel);
    assert!(sandbox.handle().orders().is_empty());
    // Plain http is only for this computer.
    let mut config = wechat_config(&sandbox);
    config.base_url = "http://api.mch.weixin.qq.com".into();
    assert_eq!(
        WechatClient::new(config).unwrap_err().code(),
        feedesk::ErrorCode::Validation
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn duplicated_delayed_and_reordered_answers_still_verify_and_never_invent_state() {
    let sandbox = sandbox().await;
    let client = wechat(&sandbox);
    let handle = sandbox.handle();
    client
        .native_order(&order("FD202611220040", 2_000))
        .await
        .unwrap();
    let before = client.query("FD202611220040").await.unwrap().unwrap();
    assert_eq!(before.trade_state, TradeState::NotPay);
    handle.pay("FD202611220040").unwrap();
    let paid = client.query("FD202611220040").await.unwrap().unwrap();
    assert_eq!(paid.trade_state, TradeState::Success);

    // Reordered: an older (genuine) answer arrives after a newer one. It is still genuine, so
    // it verifies; the caller must treat "paid" as final.
    handle.inject(fault(Fault::Reorder));
    let stale = client.query("FD202611220040").await.unwrap().unwrap();
    assert_eq!(stale.trade_state, TradeState::NotPay);
    assert_eq!(
        client
            .query("FD202611220040")
            .await
            .unwrap()
            .unwrap()
            .trade_state,
        TradeState::Success
    );

    // Duplicated: the same answer, byte for byte, twice: the same transaction both times.
    handle.inject(fault(Fault::Duplicate));
    let first = client.query("FD202611220040").await.unwrap().unwrap();
    let second = client.query("FD202611220040").await.unwrap().unwrap();
    assert_eq!(first, second);
    assert_eq!(first.transaction_id, paid.transaction_id);

    // Delayed: a slow answer to the first of two concurrent queries arrives last.
    handle.inject(FaultRule {
        fault: Fault::Delay { ms: 400 },
        times: 1,
        order: Some("FD202611220040".into()),
    });
    client
        .native_order(&order("FD202611220041", 2_000))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (slow, fast) = tokio::join!(
        async {
            let r = client.query("FD202611220040").await;
            (r, started.elapsed())
        },
        async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let r = client.query("FD202611220041").await;
            (r, started.elapsed())
        }
    );
    assert!(slow.1 >= std::time::Duration::from_millis(400));
    assert!(fast.1 < slow.1);
    assert_eq!(slow.0.unwrap().unwrap().trade_state, TradeState::Success);
    assert_eq!(fast.0.unwrap().unwrap().trade_state, TradeState::NotPay);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_control_api_drives_the_sandbox_over_http() {
    let sandbox = sandbox().await;
    let client = wechat(&sandbox);
    client
        .native_order(&order("FD202611220050", 3_000))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = sandbox.wechat_base_url();
    let orders: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{base}/sandbox/orders"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(orders[0]["out_trade_no"], "FD202611220050");
    assert_eq!(orders[0]["state"], "open");
    let response = http
        .post(format!("{base}/sandbox/faults"))
        .body(r#"{"fault":{"kind":"bad_signature"},"times":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    refused(client.query("FD202611220050").await, "signature");
    let paid = http
        .post(format!("{base}/sandbox/orders/FD202611220050/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    assert_eq!(
        client
            .query("FD202611220050")
            .await
            .unwrap()
            .unwrap()
            .trade_state,
        TradeState::Success
    );
    // Paying twice is refused; unknown orders are 404.
    let again = http
        .post(format!("{base}/sandbox/orders/FD202611220050/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let unknown = http
        .post(format!("{base}/sandbox/orders/NOPE000/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let cleared = http
        .delete(format!("{base}/sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn production_clients_use_https_with_rustls_on_ring() {
    // No network here: this checks that the production client (rustls, ring provider, the
    // platform's trust store) can be built, and that only https is accepted off this computer.
    let sandbox = sandbox().await;
    let mut config = wechat_config(&sandbox);
    config.base_url = feedesk::channels::wechatpay::PRODUCTION_URL.into();
    WechatClient::new(config).unwrap();
    let mut config = alipay_config(&sandbox);
    config.base_url = feedesk::channels::alipay::PRODUCTION_URL.into();
    feedesk::channels::alipay::AlipayClient::new(config).unwrap();
    for bad in [
        "ftp://api.mch.weixin.qq.com",
        "not a url",
        "http://10.0.0.1",
    ] {
        let err = feedesk::channels::http_client(bad).unwrap_err();
        assert_eq!(err.code(), feedesk::ErrorCode::Validation, "{bad}");
    }
    feedesk::channels::http_client("http://localhost:8080").unwrap();
    feedesk::channels::http_client("http://[::1]:8080").unwrap();
    sandbox.shutdown().await;
}
