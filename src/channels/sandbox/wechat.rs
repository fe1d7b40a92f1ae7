//! The sandbox's WeChat Pay API v3: checks FeeDesk's request signatures with the merchant's
//! public key and answers as WeChat Pay would (the signing happens in [`super::finish_wechat`]).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::bills::{self, SANDBOX_OPENID};
use super::state::{
    BillFile, OrderState, ReplyKind, SandboxChannel, SandboxOrder, SandboxRefund, State,
};
use super::{Draft, Inner, WechatMerchant};
use crate::channels::bills::sha1_hex;
use crate::channels::crypto;
use crate::channels::wechatpay::{Authorization, MAX_SKEW_SECONDS};

fn error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({ "code": code, "message": message }))
}

/// Checks the Authorization header: a known merchant, its certificate serial, a fresh
/// timestamp and a signature over exactly this request.
fn authenticate<'a>(
    inner: &'a Inner,
    method: &str,
    path_and_query: &str,
    authorization: Option<&str>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<&'a WechatMerchant, (u16, Value)> {
    let sign_error = |m: &str| error(401, "SIGN_ERROR", m);
    let auth = Authorization::parse(authorization.unwrap_or(""))
        .map_err(|_| sign_error("Authorization header missing or malformed"))?;
    let merchant = inner
        .config
        .wechat
        .iter()
        .find(|m| m.mch_id == auth.mch_id)
        .ok_or_else(|| sign_error("unknown mchid"))?;
    if !auth
        .serial_no
        .eq_ignore_ascii_case(&merchant.merchant_serial)
    {
        return Err(sign_error(
            "serial_no is not the merchant API certificate's serial",
        ));
    }
    if (now.timestamp() - auth.timestamp).abs() > MAX_SKEW_SECONDS {
        return Err(sign_error("timestamp too far from the server's clock"));
    }
    if !auth.verify(&merchant.merchant_public_key, method, path_and_query, body) {
        return Err(sign_error(
            "signature does not verify with the merchant's public key",
        ));
    }
    Ok(merchant)
}

/// Answers one WeChat Pay request.
pub(crate) fn handle(
    inner: &Inner,
    method: &str,
    path_and_query: &str,
    authorization: Option<&str>,
    body: &str,
) -> Draft {
    let now = inner.clock.now();
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let route = format!("wechat {method} {path}");
    let merchant = match authenticate(inner, method, path_and_query, authorization, body, now) {
        Ok(m) => m,
        Err((status, value)) => {
            let merchant = inner.config.wechat.first().map(|m| m.mch_id.clone());
            return Draft::wechat(status, Some(value), route, None, merchant);
        }
    };
    let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
    let param = |name: &str| {
        query
            .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name))
            .map(|(_, v)| v.into_owned())
    };
    if method == "GET" && path == "/v3/billdownload/file" {
        // The file itself, unsigned: its digest was in the signed answer to the application.
        let bill = param("token")
            .and_then(|t| state.bill(&t, now).cloned())
            .filter(|b| b.channel == SandboxChannel::Wechat && b.merchant == merchant.mch_id);
        if let Some(bill) = bill {
            return Draft::file(
                ReplyKind::WechatBill,
                bill.bytes,
                bill.gzip,
                "text/csv; charset=utf-8",
                bill.file_name,
                route,
            );
        }
        let (s, v) = error(
            400,
            "PARAM_ERROR",
            "the download token is unknown or expired",
        );
        return Draft::wechat(s, Some(v), route, None, Some(merchant.mch_id.clone()));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let body_json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let (status, value, order) = match (method, segments.as_slice()) {
        ("POST", ["v3", "pay", "transactions", "native"]) => {
            let no = body_json["out_trade_no"].as_str().map(str::to_string);
            let (s, v) = native(&mut state, merchant, &body_json, now);
            (s, v, no)
        }
        ("GET", ["v3", "pay", "transactions", "out-trade-no", no]) => {
            let mchid = query
                .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "mchid"))
                .map(|(_, v)| v.into_owned());
            let (s, v) = if mchid.as_deref() != Some(merchant.mch_id.as_str()) {
                error(400, "PARAM_ERROR", "mchid is missing or not the caller's")
            } else {
                match find(&state, merchant, no) {
                    Some(order) => (200, transaction_json(order)),
                    None => error(404, "ORDER_NOT_EXIST", "order does not exist"),
                }
            };
            (s, Some(v), Some(no.to_string()))
        }
        ("POST", ["v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
            let key = (SandboxChannel::Wechat, no.to_string());
            let found = state
                .orders
                .get_mut(&key)
                .filter(|o| o.merchant == merchant.mch_id);
            let (s, v) = match found {
                None => (
                    404,
                    Some(error(404, "ORDER_NOT_EXIST", "order does not exist").1),
                ),
                Some(order) => match order.state {
                    OrderState::Paid => (400, Some(error(400, "ORDERPAID", "order is paid").1)),
                    _ => {
                        if order.state == OrderState::Open {
                            order.state = OrderState::Closed;
                        }
                        (204, None)
                    }
                },
            };
            (s, v, Some(no.to_string()))
        }
        ("POST", ["v3", "refund", "domestic", "refunds"]) => {
            let no = body_json["out_refund_no"].as_str().map(str::to_string);
            let (s, v) = refund(&mut state, merchant, &body_json, now);
            (s, Some(v), no)
        }
        ("GET", ["v3", "refund", "domestic", "refunds", no]) => {
            let key = (SandboxChannel::Wechat, no.to_string());
            let (s, v) = match state.refunds.get_mut(&key) {
                Some(r) => {
                    // Processing when asked; settled from the first query on.
                    r.settled = true;
                    let r = r.clone();
                    (200, refund_json(&state, merchant, &r))
                }
                None => error(404, "RESOURCE_NOT_EXISTS", "refund does not exist"),
            };
            (s, Some(v), Some(no.to_string()))
        }
        ("GET", ["v3", "bill", "tradebill"]) => {
            let (s, v) = trade_bill(inner, &mut state, merchant, &param, now);
            (s, Some(v), None)
        }
        ("GET", ["v3", "certificates"]) => {
            let (s, v) = certificates(merchant);
            (s, Some(v), None)
        }
        _ => {
            let (s, v) = error(404, "NOT_FOUND", "no such API in the sandbox");
            (s, Some(v), None)
        }
    };
    Draft::wechat(status, value, route, order, Some(merchant.mch_id.clone()))
}

fn find<'a>(state: &'a State, merchant: &WechatMerchant, no: &str) -> Option<&'a SandboxOrder> {
    state
        .orders
        .get(&(SandboxChannel::Wechat, no.to_string()))
        .filter(|o| o.merchant == merchant.mch_id)
}

fn native(
    state: &mut State,
    merchant: &WechatMerchant,
    body: &Value,
    now: DateTime<Utc>,
) -> (u16, Option<Value>) {
    let (Some(no), Some(total), Some(description)) = (
        body["out_trade_no"].as_str(),
        body["amount"]["total"].as_i64(),
        body["description"].as_str(),
    ) else {
        let (s, v) = error(
            400,
            "PARAM_ERROR",
            "out_trade_no, description and amount.total are required",
        );
        return (s, Some(v));
    };
    if body["mchid"].as_str() != Some(merchant.mch_id.as_str())
        || body["appid"].as_str() != Some(merchant.appid.as_str())
    {
        let (s, v) = error(400, "APPID_MCHID_NOT_MATCH", "appid and mchid do not match");
        return (s, Some(v));
    }
    if total <= 0
        || body["notify_url"]
            .as_str()
            .is_none_or(|u| !u.starts_with("https://"))
    {
        let (s, v) = error(
            400,
            "PARAM_ERROR",
            "amount.total must be positive and notify_url https",
        );
        return (s, Some(v));
    }
    let key = (SandboxChannel::Wechat, no.to_string());
    if let Some(order) = state.orders.get(&key) {
        let (s, v) = match order.state {
            OrderState::Paid => error(400, "ORDERPAID", "order is paid"),
            OrderState::Closed => error(400, "ORDERCLOSED", "order is closed"),
            _ if order.total_fen != total || order.description != description => error(
                400,
                "INVALID_REQUEST",
                "out_trade_no was used with other parameters",
            ),
            _ => (200, json!({ "code_url": order.code_url })),
        };
        return (s, Some(v));
    }
    let id = state.next_id();
    let order = SandboxOrder {
        channel: SandboxChannel::Wechat,
        merchant: merchant.mch_id.clone(),
        appid: Some(merchant.appid.clone()),
        out_trade_no: no.to_string(),
        description: description.to_string(),
        total_fen: total,
        state: OrderState::Open,
        code_url: format!("weixin://wxpay/bizpayurl?pr=SBX{id:08}"),
        transaction_id: None,
        paid_at: None,
        refunded_fen: 0,
        created_at: now,
        time_expire: None,
    };
    let value = json!({ "code_url": order.code_url });
    state.orders.insert(key, order);
    (200, Some(value))
}

fn shanghai(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::clock::LOCAL_OFFSET)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

pub(crate) fn transaction_json(order: &SandboxOrder) -> Value {
    let (trade_state, desc) = match order.state {
        OrderState::Open => ("NOTPAY", "未支付"),
        OrderState::Paid if order.refunded_fen > 0 => ("REFUND", "转入退款"),
        OrderState::Paid => ("SUCCESS", "支付成功"),
        OrderState::Failed => ("PAYERROR", "支付失败"),
        OrderState::Closed => ("CLOSED", "已关闭"),
    };
    let mut value = json!({
        "appid": order.appid,
        "mchid": order.merchant,
        "out_trade_no": order.out_trade_no,
        "trade_type": "NATIVE",
        "trade_state": trade_state,
        "trade_state_desc": desc,
        "amount": { "total": order.total_fen, "currency": "CNY" },
    });
    if order.state == OrderState::Paid {
        value["transaction_id"] = json!(order.transaction_id);
        value["success_time"] = json!(order.paid_at.map(shanghai));
        value["bank_type"] = json!("OTHERS");
        value["payer"] = json!({ "openid": SANDBOX_OPENID });
        value["amount"]["payer_total"] = json!(order.total_fen);
        value["amount"]["payer_currency"] = json!("CNY");
    }
    value
}

fn refund(
    state: &mut State,
    merchant: &WechatMerchant,
    body: &Value,
    now: DateTime<Utc>,
) -> (u16, Value) {
    let (Some(no), Some(refund_no), Some(amount), Some(total)) = (
        body["out_trade_no"].as_str(),
        body["out_refund_no"].as_str(),
        body["amount"]["refund"].as_i64(),
        body["amount"]["total"].as_i64(),
    ) else {
        return error(
            400,
            "PARAM_ERROR",
            "out_trade_no, out_refund_no and amount are required",
        );
    };
    let Some(order) = find(state, merchant, no).cloned() else {
        return error(404, "RESOURCE_NOT_EXISTS", "order does not exist");
    };
    if order.state != OrderState::Paid {
        return error(400, "INVALID_REQUEST", "order is not paid");
    }
    if total != order.total_fen {
        return error(400, "PARAM_ERROR", "amount.total is not the order's total");
    }
    let key = (SandboxChannel::Wechat, refund_no.to_string());
    if let Some(existing) = state.refunds.get(&key).cloned() {
        if existing.out_trade_no != no || existing.refund_fen != amount {
            return error(
                400,
                "INVALID_REQUEST",
                "out_refund_no was used with other parameters",
            );
        }
        return (200, refund_json(state, merchant, &existing));
    }
    if amount <= 0 || amount > order.total_fen - order.refunded_fen {
        return error(
            403,
            "NOT_ENOUGH",
            "refund exceeds what is left of the order",
        );
    }
    let id = state.next_id();
    let refund = SandboxRefund {
        channel: SandboxChannel::Wechat,
        out_trade_no: no.to_string(),
        out_refund_no: refund_no.to_string(),
        refund_id: format!("50300000{id:012}"),
        refund_fen: amount,
        settled: false,
        created_at: now,
    };
    if let Some(o) = state
        .orders
        .get_mut(&(SandboxChannel::Wechat, no.to_string()))
    {
        o.refunded_fen += amount;
    }
    state.refunds.insert(key, refund.clone());
    (200, refund_json(state, merchant, &refund))
}

fn refund_json(state: &State, merchant: &WechatMerchant, refund: &SandboxRefund) -> Value {
    let order = find(state, merchant, &refund.out_trade_no);
    let total = order.map_or(0, |o| o.total_fen);
    let mut value = json!({
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": order.and_then(|o| o.transaction_id.clone()),
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": shanghai(refund.created_at),
        "status": if refund.settled { "SUCCESS" } else { "PROCESSING" },
        "funds_account": "AVAILABLE",
        "amount": {
            "total": total, "refund": refund.refund_fen,
            "payer_total": total, "payer_refund": refund.refund_fen,
            "settlement_total": total, "settlement_refund": refund.refund_fen,
            "discount_refund": 0, "currency": "CNY"
        },
    });
    if refund.settled {
        value["success_time"] = json!(shanghai(refund.created_at));
    }
    value
}

fn certificates(merchant: &WechatMerchant) -> (u16, Value) {
    let Some(pem) = &merchant.platform_certificate_pem else {
        return (200, json!({ "data": [] }));
    };
    let Ok(info) = crypto::certificate(pem) else {
        return error(
            500,
            "SYSTEM_ERROR",
            "the sandbox's platform certificate is unreadable",
        );
    };
    let nonce = crypto::nonce(6);
    match merchant
        .apiv3_key
        .encrypt("certificate", &nonce, pem.as_bytes())
    {
        Ok(ciphertext) => (
            200,
            json!({ "data": [{
                "serial_no": info.serial,
                "effective_time": "2026-01-01T00:00:00+08:00",
                "expire_time": shanghai(info.not_after),
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "associated_data": "certificate",
                    "nonce": nonce,
                    "ciphertext": ciphertext,
                }
            }]}),
        ),
        Err(_) => error(500, "SYSTEM_ERROR", "encryption failed"),
    }
}

/// `GET /v3/bill/tradebill`: makes the `ALL` bill of the day now, keeps it under a token, and
/// answers its SHA1 and download link. No payment or refund that day: NO_STATEMENT_EXIST, as
/// WeChat Pay answers.
fn trade_bill(
    inner: &Inner,
    state: &mut State,
    merchant: &WechatMerchant,
    param: &dyn Fn(&str) -> Option<String>,
    now: DateTime<Utc>,
) -> (u16, Value) {
    let Some(date) =
        param("bill_date").and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
    else {
        return error(400, "PARAM_ERROR", "bill_date must be yyyy-MM-DD");
    };
    if param("bill_type").is_some_and(|t| t != "ALL") {
        return error(400, "PARAM_ERROR", "the sandbox makes ALL bills only");
    }
    let gzip = match param("tar_type").as_deref() {
        None => false,
        Some("GZIP") => true,
        Some(_) => return error(400, "PARAM_ERROR", "tar_type must be GZIP or absent"),
    };
    if date > crate::clock::local_date(now)
        || !bills::has_entries(state, SandboxChannel::Wechat, &merchant.mch_id, date)
    {
        return error(400, "NO_STATEMENT_EXIST", "账单文件不存在");
    }
    let bytes = bills::wechat_trade_bill(state, merchant, date);
    let hash_value = sha1_hex(&bytes);
    let file_name = format!(
        "{}_{}_ALL.csv{}",
        merchant.mch_id,
        date.format("%Y%m%d"),
        if gzip { ".gz" } else { "" }
    );
    let token = state.keep_bill(BillFile {
        channel: SandboxChannel::Wechat,
        merchant: merchant.mch_id.clone(),
        bytes,
        gzip,
        file_name,
        created_at: now,
    });
    (
        200,
        json!({
            "hash_type": "SHA1",
            "hash_value": hash_value,
            "download_url": format!("{}/v3/billdownload/file?token={token}", inner.base_url),
        }),
    )
}
