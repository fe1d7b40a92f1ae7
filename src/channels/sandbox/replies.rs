//! The sandbox's answers: what a route decided (a [`Draft`]), then made into the reply on the
//! wire: signed as WeChat Pay or Alipay sign theirs, or misbehaving on purpose as the test's
//! [`Fault`](super::Fault) rules ask (delayed, duplicated, reordered, or forged: a bad
//! signature, a skewed timestamp, an unknown key, altered ciphertext, a wrong amount or
//! merchant). Kept apart from the server so the forgeries read as one list.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::Inner;
use super::bills;
use super::state::{Fault, ReplyKind, SentReply, delay_of};
use crate::channels::crypto;
use crate::channels::wechatpay::SignedHeaders;

/// A protocol answer before faults and signing.
pub(crate) struct Draft {
    kind: DraftKind,
    route: String,
    order: Option<String>,
    merchant: Option<String>,
}

pub(super) enum DraftKind {
    Wechat {
        status: u16,
        body: Option<Value>,
    },
    Alipay {
        method: String,
        node: Value,
    },
    /// A bill file: sent as is (unsigned), gzipped if asked.
    File {
        kind: ReplyKind,
        body: Vec<u8>,
        gzip: bool,
        content_type: &'static str,
        file_name: String,
    },
}

impl Draft {
    pub(super) fn file(
        kind: ReplyKind,
        body: Vec<u8>,
        gzip: bool,
        content_type: &'static str,
        file_name: String,
        route: String,
    ) -> Draft {
        Draft {
            kind: DraftKind::File {
                kind,
                body,
                gzip,
                content_type,
                file_name,
            },
            route,
            order: None,
            merchant: None,
        }
    }

    pub(super) fn reply_kind(&self) -> ReplyKind {
        match &self.kind {
            DraftKind::File { kind, .. } => *kind,
            _ => ReplyKind::Api,
        }
    }

    pub(super) fn wechat(
        status: u16,
        body: Option<Value>,
        route: String,
        order: Option<String>,
        merchant: Option<String>,
    ) -> Draft {
        Draft {
            kind: DraftKind::Wechat { status, body },
            route,
            order,
            merchant,
        }
    }

    pub(super) fn alipay(
        method: String,
        node: Value,
        route: String,
        order: Option<String>,
        merchant: Option<String>,
    ) -> Draft {
        Draft {
            kind: DraftKind::Alipay { method, node },
            route,
            order,
            merchant,
        }
    }
}

/// Applies faults, signs, and keeps the reply for later duplicates and reorders.
pub(super) fn respond(inner: &Inner, draft: Draft) -> (Option<std::time::Duration>, SentReply) {
    let kind = draft.reply_kind();
    let faults = {
        let mut state = inner.state();
        if let Some(replay) = state.replay.remove(&draft.route) {
            return (None, replay);
        }
        state.take_faults(draft.order.as_deref(), kind)
    };
    let fresh = match draft.kind {
        DraftKind::Wechat { status, body } => {
            finish_wechat(inner, draft.merchant.as_deref(), status, body, &faults)
        }
        DraftKind::Alipay { method, node } => {
            finish_alipay(inner, draft.merchant.as_deref(), &method, node, &faults)
        }
        DraftKind::File {
            body,
            gzip,
            content_type,
            file_name,
            ..
        } => {
            // Files are neither remembered nor replayed: only delays and tampering reach them.
            return (
                delay_of(&faults),
                finish_file(body, gzip, content_type, &file_name, &faults),
            );
        }
    };
    let mut state = inner.state();
    let sent = if faults.contains(&Fault::Reorder) {
        state.older(&draft.route).unwrap_or_else(|| fresh.clone())
    } else {
        fresh.clone()
    };
    state.remember(&draft.route, &fresh);
    if faults.contains(&Fault::Duplicate) {
        state.replay.insert(draft.route, sent.clone());
    }
    (delay_of(&faults), sent)
}

/// A bill file as sent: tampered with if told, then gzipped if asked. Unsigned, as the
/// channels send files.
pub(super) fn finish_file(
    mut body: Vec<u8>,
    gzip: bool,
    content_type: &str,
    file_name: &str,
    faults: &[Fault],
) -> SentReply {
    if faults.contains(&Fault::TamperBill) {
        bills::tamper(&mut body);
    }
    let (body, content_type) = if gzip {
        (bills::gzip(&body), "application/x-gzip")
    } else {
        (body, content_type)
    };
    // The header value must be ASCII: the name percent-encoded, as RFC 5987 has it.
    let encoded: String = form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
    SentReply {
        status: 200,
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            (
                "Content-Disposition".into(),
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
            (
                "Request-ID".to_string(),
                format!("sandbox-{}", crypto::nonce(8)),
            ),
        ],
        body,
    }
}

/// A signature with one bit flipped: still base64, never valid.
pub(super) fn corrupt(signature: &str) -> String {
    let mut bytes = B64.decode(signature).unwrap_or_else(|_| vec![0; 256]);
    if let Some(b) = bytes.get_mut(10) {
        *b ^= 0x01;
    }
    B64.encode(bytes)
}

pub(super) fn finish_wechat(
    inner: &Inner,
    merchant: Option<&str>,
    status: u16,
    mut body: Option<Value>,
    faults: &[Fault],
) -> SentReply {
    if let Some(v) = &mut body {
        if faults.contains(&Fault::WrongAmount)
            && let Some(total) = v["amount"]["total"].as_i64()
        {
            v["amount"]["total"] = Value::from(total + 1);
        }
        if faults.contains(&Fault::WrongMerchant) && v.get("mchid").is_some() {
            v["mchid"] = Value::from("1900000000");
        }
        if faults.contains(&Fault::AlterCiphertext)
            && let Some(list) = v.get_mut("data").and_then(Value::as_array_mut)
        {
            for entry in list {
                if let Some(c) = entry["encrypt_certificate"]["ciphertext"].as_str() {
                    let mut altered = c.to_string();
                    let first = if altered.starts_with('A') { "B" } else { "A" };
                    altered.replace_range(0..1, first);
                    entry["encrypt_certificate"]["ciphertext"] = Value::from(altered);
                }
            }
        }
    }
    let text = body.map(|v| v.to_string()).unwrap_or_default();
    let mut headers = vec![(
        "Request-ID".to_string(),
        format!("sandbox-{}", crypto::nonce(8)),
    )];
    if !text.is_empty() {
        headers.push((
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ));
    }
    let merchant = inner
        .config
        .wechat
        .iter()
        .find(|m| Some(m.mch_id.as_str()) == merchant)
        .or(inner.config.wechat.first());
    if let Some(m) = merchant.filter(|_| !faults.contains(&Fault::Unsigned)) {
        let skew = faults
            .iter()
            .find_map(|f| match f {
                Fault::SkewTimestamp { seconds } => Some(*seconds),
                _ => None,
            })
            .unwrap_or(0);
        let serial = if faults.contains(&Fault::UnknownSerial) {
            "PUB_KEY_ID_0000000000000000SANDBOXUNKNOWN".to_string()
        } else {
            m.platform_key_id.clone()
        };
        let timestamp = inner.clock.now().timestamp() + skew;
        let mut signed = SignedHeaders::sign(
            &serial,
            &m.platform_private_key,
            &text,
            timestamp,
            &crypto::nonce(16),
        );
        if faults.contains(&Fault::BadSignature) {
            signed.signature = corrupt(&signed.signature);
        }
        headers.extend([
            ("Wechatpay-Serial".to_string(), signed.serial),
            ("Wechatpay-Signature".to_string(), signed.signature),
            ("Wechatpay-Timestamp".to_string(), signed.timestamp),
            ("Wechatpay-Nonce".to_string(), signed.nonce),
            (
                "Wechatpay-Signature-Type".to_string(),
                "WECHATPAY2-SHA256-RSA2048".to_string(),
            ),
        ]);
    }
    SentReply {
        status,
        headers,
        body: text.into_bytes(),
    }
}

pub(super) fn finish_alipay(
    inner: &Inner,
    app: Option<&str>,
    method: &str,
    mut node: Value,
    faults: &[Fault],
) -> SentReply {
    if faults.contains(&Fault::WrongAmount)
        && let Some(fen) = node["total_amount"].as_str().and_then(crypto::yuan_to_fen)
    {
        node["total_amount"] = Value::from(crypto::fen_to_yuan(fen + 1));
    }
    // A refund query's amount too.
    if faults.contains(&Fault::WrongAmount)
        && let Some(fen) = node["refund_amount"].as_str().and_then(crypto::yuan_to_fen)
    {
        node["refund_amount"] = Value::from(crypto::fen_to_yuan(fen + 1));
    }
    if faults.contains(&Fault::WrongMerchant)
        && let Some(no) = node["out_trade_no"].as_str()
    {
        node["out_trade_no"] = Value::from(format!("{no}X"));
    }
    let text = node.to_string();
    let node_name = crate::channels::alipay::response_node(method);
    let app = inner
        .config
        .alipay
        .iter()
        .find(|a| Some(a.app_id.as_str()) == app)
        .or(inner.config.alipay.first());
    let body = match app.filter(|_| !faults.contains(&Fault::Unsigned)) {
        Some(app) => {
            let mut sign = crypto::sign(&app.alipay_private_key, text.as_bytes());
            if faults.contains(&Fault::BadSignature) {
                sign = corrupt(&sign);
            }
            format!("{{\"{node_name}\":{text},\"sign\":{}}}", Value::from(sign))
        }
        None => format!("{{\"{node_name}\":{text}}}"),
    };
    SentReply {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: body.into_bytes(),
    }
}
