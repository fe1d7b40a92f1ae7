//! The sandbox's Alipay gateway: checks FeeDesk's RSA2 request signatures with the app public
//! key and answers as Alipay would (signed in [`super::finish_alipay`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::bills::{self, SANDBOX_BUYER};
use super::state::{
    BillFile, OrderState, ReplyKind, SandboxChannel, SandboxOrder, SandboxRefund, State,
};
use super::{AlipayApp, Draft, Inner};
use crate::channels::alipay::verify_params;
use crate::channels::crypto::{fen_to_yuan, yuan_to_fen};

fn fail(code: &str, msg: &str, sub_code: &str, sub_msg: &str) -> Value {
    json!({ "code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg })
}

fn business(sub_code: &str, sub_msg: &str) -> Value {
    fail("40004", "Business Failed", sub_code, sub_msg)
}

fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::clock::LOCAL_OFFSET)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Answers one gateway call. `params` holds the form body and query string together.
pub(crate) fn handle(inner: &Inner, params: BTreeMap<String, String>) -> Draft {
    let now = inner.clock.now();
    let method = params.get("method").cloned().unwrap_or_default();
    let biz: Value = params
        .get("biz_content")
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    let no = biz["out_trade_no"].as_str().unwrap_or("").to_string();
    let request_no = biz["out_request_no"].as_str().unwrap_or("").to_string();
    let route = format!("alipay {method} {no} {request_no}");
    let app = params
        .get("app_id")
        .and_then(|id| inner.config.alipay.iter().find(|a| &a.app_id == id));
    let Some(app) = app else {
        let first = inner.config.alipay.first().map(|a| a.app_id.clone());
        let node = fail(
            "40002",
            "Invalid Arguments",
            "isv.invalid-app-id",
            "无效的AppID参数",
        );
        return Draft::alipay(method, node, route, Some(no), first);
    };
    if params.get("sign_type").map(String::as_str) != Some("RSA2")
        || !verify_params(&params, &app.app_public_key)
    {
        let node = fail(
            "40002",
            "Invalid Arguments",
            "isv.invalid-signature",
            "验签出错",
        );
        return Draft::alipay(method, node, route, Some(no), Some(app.app_id.clone()));
    }
    let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(t) = params.get("timestamp") {
        state.alipay_now = Some(t.clone());
    }
    let node = match method.as_str() {
        "alipay.trade.precreate" => precreate(&mut state, app, &biz, now),
        "alipay.trade.query" => query(&state, app, &no),
        "alipay.trade.close" => close(&mut state, app, &no),
        "alipay.trade.refund" => refund(&mut state, app, &biz, now),
        "alipay.trade.fastpay.refund.query" => refund_query(&state, app, &no, &request_no),
        "alipay.data.dataservice.bill.downloadurl.query" => {
            bill_url(inner, &mut state, app, &biz, now)
        }
        _ => fail(
            "40004",
            "Business Failed",
            "isv.invalid-method",
            "不存在的方法名",
        ),
    };
    let order = if request_no.is_empty() {
        no
    } else {
        request_no
    };
    Draft::alipay(method, node, route, Some(order), Some(app.app_id.clone()))
}

fn find<'a>(state: &'a State, app: &AlipayApp, no: &str) -> Option<&'a SandboxOrder> {
    state
        .orders
        .get(&(SandboxChannel::Alipay, no.to_string()))
        .filter(|o| o.merchant == app.app_id)
}

fn precreate(state: &mut State, app: &AlipayApp, biz: &Value, now: DateTime<Utc>) -> Value {
    let (Some(no), Some(amount), Some(subject)) = (
        biz["out_trade_no"].as_str(),
        biz["total_amount"].as_str(),
        biz["subject"].as_str(),
    ) else {
        return fail(
            "40002",
            "Invalid Arguments",
            "isv.missing-parameter",
            "缺少必选参数",
        );
    };
    let Some(total) = yuan_to_fen(amount).filter(|f| *f > 0) else {
        return fail(
            "40002",
            "Invalid Arguments",
            "isv.invalid-parameter",
            "total_amount 格式错误",
        );
    };
    if let Some(order) = find(state, app, no) {
        return match order.state {
            OrderState::Paid => business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
            OrderState::Closed | OrderState::Failed => {
                business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            }
            _ if order.total_fen != total || order.description != subject => {
                business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            }
            _ => {
                json!({ "code": "10000", "msg": "Success", "out_trade_no": no, "qr_code": order.code_url })
            }
        };
    }
    let id = state.next_id();
    let order = SandboxOrder {
        channel: SandboxChannel::Alipay,
        merchant: app.app_id.clone(),
        appid: None,
        out_trade_no: no.to_string(),
        description: subject.to_string(),
        total_fen: total,
        state: OrderState::Open,
        code_url: format!("https://qr.alipay.com/sbx{id:08}"),
        transaction_id: None,
        paid_at: None,
        refunded_fen: 0,
        created_at: now,
        time_expire: biz["time_expire"].as_str().map(str::to_string),
    };
    let node =
        json!({ "code": "10000", "msg": "Success", "out_trade_no": no, "qr_code": order.code_url });
    state
        .orders
        .insert((SandboxChannel::Alipay, no.to_string()), order);
    node
}

/// Alipay creates a precreated trade only when someone scans it: an open (or closed unscanned)
/// order does not exist for the query yet.
fn query(state: &State, app: &AlipayApp, no: &str) -> Value {
    let Some(order) =
        find(state, app, no).filter(|o| matches!(o.state, OrderState::Paid | OrderState::Failed))
    else {
        return business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    };
    let status = match order.state {
        OrderState::Paid if order.refunded_fen >= order.total_fen => "TRADE_CLOSED",
        OrderState::Paid => "TRADE_SUCCESS",
        _ => "TRADE_CLOSED",
    };
    let mut node = json!({
        "code": "10000", "msg": "Success",
        "trade_no": order.transaction_id.clone().unwrap_or_else(|| format!("2026{:024}", 0)),
        "out_trade_no": order.out_trade_no,
        "buyer_logon_id": SANDBOX_BUYER,
        "trade_status": status,
        "total_amount": fen_to_yuan(order.total_fen),
    });
    if order.state == OrderState::Paid {
        node["buyer_pay_amount"] = json!(fen_to_yuan(order.total_fen));
        node["receipt_amount"] = json!(fen_to_yuan(order.total_fen));
        node["send_pay_date"] = json!(order.paid_at.map(beijing));
    }
    node
}

fn close(state: &mut State, app: &AlipayApp, no: &str) -> Value {
    let key = (SandboxChannel::Alipay, no.to_string());
    let alipay_now = state.alipay_now.clone();
    match state
        .orders
        .get_mut(&key)
        .filter(|o| o.merchant == app.app_id)
    {
        Some(order) if order.state == OrderState::Paid => {
            business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        }
        Some(order) if order.state == OrderState::Failed => {
            json!({ "code": "10000", "msg": "Success", "out_trade_no": no, "trade_no": order.transaction_id })
        }
        Some(order) => {
            // Never scanned: Alipay has no trade to close, and the code can still be scanned
            // and paid until its time_expire (after which nobody can pay it).
            if order.expired(alipay_now.as_deref()) {
                order.state = OrderState::Closed;
            }
            business("ACQ.TRADE_NOT_EXIST", "交易不存在")
        }
        None => business("ACQ.TRADE_NOT_EXIST", "交易不存在"),
    }
}

fn refund(state: &mut State, app: &AlipayApp, biz: &Value, now: DateTime<Utc>) -> Value {
    let (Some(no), Some(amount)) = (biz["out_trade_no"].as_str(), biz["refund_amount"].as_str())
    else {
        return fail(
            "40002",
            "Invalid Arguments",
            "isv.missing-parameter",
            "缺少必选参数",
        );
    };
    // Without out_request_no Alipay treats the refund as a full one identified by the trade.
    let request_no = biz["out_request_no"].as_str().unwrap_or(no).to_string();
    let Some(fen) = yuan_to_fen(amount).filter(|f| *f > 0) else {
        return fail(
            "40002",
            "Invalid Arguments",
            "isv.invalid-parameter",
            "refund_amount 格式错误",
        );
    };
    let Some(order) = find(state, app, no).cloned() else {
        return business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    };
    if order.state != OrderState::Paid {
        return business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
    }
    let key = (SandboxChannel::Alipay, format!("{no}/{request_no}"));
    let done = |state: &State, fund_change: &str| {
        let refunded = find(state, app, no).map_or(0, |o| o.refunded_fen);
        json!({
            "code": "10000", "msg": "Success",
            "trade_no": order.transaction_id, "out_trade_no": no,
            "buyer_logon_id": SANDBOX_BUYER, "fund_change": fund_change,
            "refund_fee": fen_to_yuan(refunded), "gmt_refund_pay": beijing(now),
        })
    };
    if let Some(existing) = state.refunds.get(&key) {
        if existing.refund_fen != fen {
            return business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与首次请求不一致");
        }
        return done(state, "N");
    }
    if fen > order.total_fen - order.refunded_fen {
        return business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
    }
    let id = state.next_id();
    state.refunds.insert(
        key,
        SandboxRefund {
            channel: SandboxChannel::Alipay,
            out_trade_no: no.to_string(),
            out_refund_no: request_no,
            refund_id: format!("sbx-refund-{id}"),
            refund_fen: fen,
            settled: true,
            created_at: now,
        },
    );
    if let Some(o) = state
        .orders
        .get_mut(&(SandboxChannel::Alipay, no.to_string()))
    {
        o.refunded_fen += fen;
    }
    done(state, "Y")
}

fn refund_query(state: &State, app: &AlipayApp, no: &str, request_no: &str) -> Value {
    let Some(order) = find(state, app, no) else {
        return business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    };
    let key = (SandboxChannel::Alipay, format!("{no}/{request_no}"));
    match state.refunds.get(&key) {
        Some(r) => json!({
            "code": "10000", "msg": "Success",
            "trade_no": order.transaction_id, "out_trade_no": no, "out_request_no": request_no,
            "total_amount": fen_to_yuan(order.total_fen),
            "refund_amount": fen_to_yuan(r.refund_fen),
            "refund_status": "REFUND_SUCCESS",
        }),
        // Alipay answers success with no refund fields when there is no such refund.
        None => json!({ "code": "10000", "msg": "Success", "out_trade_no": no }),
    }
}

/// Where the sandbox serves Alipay bill files (Alipay's bill centre uses this path).
pub(crate) const BILL_PATH: &str = "/downloadBillFile.resource";

/// `alipay.data.dataservice.bill.downloadurl.query` (`bill_type=trade`, a day): makes the
/// day's bill zip now and answers a link to it.
fn bill_url(
    inner: &Inner,
    state: &mut State,
    app: &AlipayApp,
    biz: &Value,
    now: DateTime<Utc>,
) -> Value {
    if biz["bill_type"].as_str() != Some("trade") {
        return fail(
            "40002",
            "Invalid Arguments",
            "isv.invalid-arguments",
            "沙箱只提供 trade（业务明细）账单",
        );
    }
    let Some(date) = biz["bill_date"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return fail(
            "40002",
            "Invalid Arguments",
            "isv.invalid-arguments",
            "bill_date 格式错误（沙箱只提供日账单 yyyy-MM-dd）",
        );
    };
    if date > crate::clock::local_date(now) {
        return business("isp.bill_not_exist", "账单不存在");
    }
    let Ok(bytes) = bills::alipay_bill_zip(state, app, date, now) else {
        return fail(
            "20000",
            "Service Currently Unavailable",
            "isp.unknow-error",
            "系统繁忙",
        );
    };
    let file_name = bills::alipay_zip_name(app, date);
    let pid = bills::alipay_pid(app);
    let token = state.keep_bill(BillFile {
        channel: SandboxChannel::Alipay,
        merchant: app.app_id.clone(),
        bytes,
        gzip: false,
        file_name: file_name.clone(),
        created_at: now,
    });
    let url = format!(
        "{}{BILL_PATH}?bizType=trade&userId={pid}&fileType=csv.zip&bizDates={}&downloadFileName={file_name}&fileId={token}",
        inner.base_url,
        date.format("%Y%m%d")
    );
    json!({ "code": "10000", "msg": "Success", "bill_download_url": url })
}

/// A bill file by its link; `None` when the link is unknown or expired.
pub(crate) fn download(inner: &Inner, query: &str) -> Option<Draft> {
    let token = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "fileId")
        .map(|(_, v)| v.into_owned())?;
    let state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
    let bill = state
        .bill(&token, inner.clock.now())
        .filter(|b| b.channel == SandboxChannel::Alipay)?
        .clone();
    Some(Draft::file(
        ReplyKind::AlipayBill,
        bill.bytes,
        false,
        "application/zip",
        bill.file_name,
        "alipay bill download".into(),
    ))
}
