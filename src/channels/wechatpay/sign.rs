//! WECHATPAY2-SHA256-RSA2048: signing FeeDesk's requests with the merchant private key, and
//! verifying WeChat Pay's responses with the platform public key (or platform certificate)
//! named by `Wechatpay-Serial`.
//!
//! Request message: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` (URL = path with query; BODY empty
//! for GET). Response message: `TIMESTAMP\nNONCE\nBODY\n`.

use chrono::{DateTime, Utc};
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::channels::crypto;
use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The Authorization scheme.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// How far a response's `Wechatpay-Timestamp` may be from our clock, either way.
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// The message a request signature covers.
pub fn request_message(method: &str, url: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The message a response (or notification) signature covers.
pub fn response_message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// The parts of an Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub mch_id: String,
    pub nonce: String,
    pub timestamp: i64,
    pub serial_no: String,
    pub signature: String,
}

impl Authorization {
    /// Signs a request as merchant `mch_id` with its API key (certificate serial `serial_no`).
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        mch_id: &str,
        serial_no: &str,
        key: &Sensitive<RsaPrivateKey>,
        method: &str,
        url: &str,
        body: &str,
        timestamp: i64,
        nonce: &str,
    ) -> Authorization {
        let message = request_message(method, url, timestamp, nonce, body);
        Authorization {
            mch_id: mch_id.to_string(),
            nonce: nonce.to_string(),
            timestamp,
            serial_no: serial_no.to_string(),
            signature: crypto::sign(key, message.as_bytes()),
        }
    }

    /// The header value.
    pub fn header(&self) -> String {
        format!(
            r#"{SCHEME} mchid="{}",nonce_str="{}",signature="{}",timestamp="{}",serial_no="{}""#,
            self.mch_id, self.nonce, self.signature, self.timestamp, self.serial_no
        )
    }

    /// Reads a header value (the sandbox checks FeeDesk's requests with this).
    pub fn parse(header: &str) -> Result<Authorization> {
        let bad = |what: &str| Error::Channel(format!("malformed Authorization header: {what}"));
        let rest = header
            .strip_prefix(SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| bad("not WECHATPAY2-SHA256-RSA2048"))?;
        let mut fields = std::collections::HashMap::new();
        for part in rest.split(',') {
            let (k, v) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| bad("a field without '='"))?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| bad("a field not in quotes"))?;
            fields.insert(k.trim(), v.to_string());
        }
        let mut take = |k: &str| fields.remove(k).ok_or_else(|| bad(&format!("no {k}")));
        Ok(Authorization {
            mch_id: take("mchid")?,
            nonce: take("nonce_str")?,
            timestamp: take("timestamp")?.parse().map_err(|_| bad("timestamp"))?,
            serial_no: take("serial_no")?,
            signature: take("signature")?,
        })
    }

    /// Whether the signature covers this request under `key`.
    pub fn verify(&self, key: &RsaPublicKey, method: &str, url: &str, body: &str) -> bool {
        let message = request_message(method, url, self.timestamp, &self.nonce, body);
        crypto::verify(key, message.as_bytes(), &self.signature)
    }
}

/// WeChat Pay's keys for verifying what it sends: platform public key ids (`PUB_KEY_ID_...`)
/// or platform certificate serials, each with its RSA public key.
#[derive(Debug, Clone, Default)]
pub struct PlatformKeys {
    keys: Vec<(String, RsaPublicKey)>,
}

impl PlatformKeys {
    pub fn new() -> PlatformKeys {
        PlatformKeys::default()
    }

    /// Adds (or replaces) the key known as `id`.
    pub fn insert(&mut self, id: &str, key: RsaPublicKey) {
        self.keys.retain(|(k, _)| k != id);
        self.keys.push((id.to_string(), key));
    }

    pub fn with(mut self, id: &str, key: RsaPublicKey) -> PlatformKeys {
        self.insert(id, key);
        self
    }

    pub fn get(&self, id: &str) -> Option<&RsaPublicKey> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(k, _)| k.as_str())
    }
}

/// The `Wechatpay-*` headers of a response or notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub serial: String,
    pub signature: String,
    pub timestamp: String,
    pub nonce: String,
}

impl SignedHeaders {
    /// Reads the four headers; `None` when any is missing.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<SignedHeaders> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Some(SignedHeaders {
            serial: get("Wechatpay-Serial")?,
            signature: get("Wechatpay-Signature")?,
            timestamp: get("Wechatpay-Timestamp")?,
            nonce: get("Wechatpay-Nonce")?,
        })
    }

    /// Signs `body` as WeChat Pay would (the sandbox answers with this).
    pub fn sign(
        serial: &str,
        key: &Sensitive<RsaPrivateKey>,
        body: &str,
        timestamp: i64,
        nonce: &str,
    ) -> SignedHeaders {
        let timestamp = timestamp.to_string();
        let message = response_message(&timestamp, nonce, body);
        SignedHeaders {
            serial: serial.to_string(),
            signature: crypto::sign(key, message.as_bytes()),
            timestamp,
            nonce: nonce.to_string(),
        }
    }

    /// Accepts `body` only if it is signed by a key in `keys` and was signed within
    /// [`MAX_SKEW_SECONDS`] of `now`. Each refusal says which check failed.
    pub fn verify(&self, keys: &PlatformKeys, body: &str, now: DateTime<Utc>) -> Result<()> {
        let timestamp: i64 = self.timestamp.trim().parse().map_err(|_| {
            Error::Channel("WeChat Pay response refused: its timestamp is not a number".into())
        })?;
        let skew = (now.timestamp() - timestamp).abs();
        if skew > MAX_SKEW_SECONDS {
            return Err(Error::Channel(format!(
                "WeChat Pay response refused: it was signed {skew} s away from this computer's \
                 clock (more than {MAX_SKEW_SECONDS} s); check the clock, or the answer is a replay"
            )));
        }
        let key = keys.get(&self.serial).ok_or_else(|| {
            Error::Channel(format!(
                "WeChat Pay response refused: it is signed with key '{}', which this account does \
                 not know (known: {}); check the platform public key id, or download the platform \
                 certificates again",
                self.serial,
                keys.ids().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let message = response_message(&self.timestamp, &self.nonce, body);
        if !crypto::verify(key, message.as_bytes(), &self.signature) {
            return Err(Error::Channel(
                "WeChat Pay response refused: its signature does not verify with the platform key"
                    .into(),
            ));
        }
        Ok(())
    }
}
