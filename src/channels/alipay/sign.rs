//! RSA2 (SHA256withRSA) over Alipay's sorted parameters, and verification of the answers.
//!
//! Request: every parameter but `sign` with a non-empty value, sorted by name, joined as
//! `k=v&k=v` (raw, not URL-encoded), signed with the app private key. Answer:
//! `{"<method>_response": {...}, "sign": "..."}`: the signature covers the response node's JSON
//! text exactly as it appears in the body, and verifies with the Alipay public key.

use std::collections::BTreeMap;

use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::value::RawValue;

use crate::channels::crypto;
use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The text a request signature covers.
pub fn sign_content(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, v)| k.as_str() != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs the parameters (adds nothing; returns the `sign` value).
pub fn sign_params(params: &BTreeMap<String, String>, key: &Sensitive<RsaPrivateKey>) -> String {
    crypto::sign(key, sign_content(params).as_bytes())
}

/// Whether the parameters carry a valid `sign` by `key` (the sandbox checks requests so).
pub fn verify_params(params: &BTreeMap<String, String>, key: &RsaPublicKey) -> bool {
    match params.get("sign") {
        Some(sign) => crypto::verify(key, sign_content(params).as_bytes(), sign),
        None => false,
    }
}

/// The name of the response node for `method`: `alipay.trade.query` ->
/// `alipay_trade_query_response`.
pub fn response_node(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// An answer split into its node (raw text, as signed) and signature.
pub struct SignedAnswer<'a> {
    /// The node's JSON exactly as it appeared.
    pub node: &'a str,
    /// `error_response` instead of the method's node.
    pub is_error_node: bool,
    pub sign: Option<String>,
}

/// Finds the response node for `method` (or `error_response`) and the signature in `body`.
pub fn split_answer<'a>(body: &'a str, method: &str) -> Result<SignedAnswer<'a>> {
    let map: BTreeMap<String, &'a RawValue> = serde_json::from_str(body).map_err(|_| {
        Error::Channel("Alipay answered something FeeDesk cannot read (not a JSON object)".into())
    })?;
    let sign =
        match map.get("sign") {
            Some(raw) => Some(serde_json::from_str::<String>(raw.get()).map_err(|_| {
                Error::Channel("Alipay answer refused: its sign is not text".into())
            })?),
            None => None,
        };
    let wanted = response_node(method);
    if let Some(node) = map.get(wanted.as_str()) {
        return Ok(SignedAnswer {
            node: node.get(),
            is_error_node: false,
            sign,
        });
    }
    if let Some(node) = map.get("error_response") {
        return Ok(SignedAnswer {
            node: node.get(),
            is_error_node: true,
            sign,
        });
    }
    Err(Error::Channel(format!(
        "Alipay answered without a {wanted} node"
    )))
}

/// Wraps a signed node the way Alipay does (the sandbox answers with this).
pub fn signed_body(method: &str, node_json: &str, key: &Sensitive<RsaPrivateKey>) -> String {
    let sign = crypto::sign(key, node_json.as_bytes());
    format!(
        "{{\"{}\":{node_json},\"sign\":{}}}",
        response_node(method),
        serde_json::Value::String(sign)
    )
}
