//! WeChat Pay API v3 (微信支付): Native (QR code) orders, query, close, refund and refund
//! query, platform certificates, and the daily trade bill (checked against its SHA1). Requests are signed WECHATPAY2-SHA256-RSA2048 with the
//! merchant's API key; every answer is verified against the WeChat Pay public key (or platform
//! certificate) named by `Wechatpay-Serial` and refused on a bad signature, an unknown key, or a
//! timestamp more than 5 minutes off. Encrypted resources use AEAD_AES_256_GCM with the APIv3
//! key. Amounts are integer fen on the wire.
//!
//! It agrees with the official SDK's test vectors (`tests/fixtures/wechatpay/`).

mod aead;
mod client;
mod model;
mod sign;

use rsa::{RsaPrivateKey, RsaPublicKey};

pub use aead::ApiV3Key;
pub(crate) use client::check_out_no;
pub use client::{CloseOutcome, WechatClient};
pub use model::{
    BillLink, CertificateEntry, CertificateList, EncryptedResource, NativeOrder, Refund,
    RefundAmount, RefundRequest, RefundStatus, TradeState, Transaction, TransactionAmount,
};
pub use sign::{Authorization, MAX_SKEW_SECONDS, PlatformKeys, SCHEME, SignedHeaders};

use crate::channels::crypto;
use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The production API.
pub const PRODUCTION_URL: &str = "https://api.mch.weixin.qq.com";

/// WeChat Pay requires a notification URL on every order. A desktop app has no public
/// address, so FeeDesk polls the order query instead and names this placeholder.
pub const DEFAULT_NOTIFY_URL: &str = "https://localhost/feedesk/wechatpay/notify";

/// One merchant account's settings and keys.
#[derive(Debug, Clone)]
pub struct WechatConfig {
    /// 商户号.
    pub mch_id: String,
    /// The AppID bound to the merchant (公众号/小程序/应用).
    pub appid: String,
    /// The merchant API certificate's serial (商户API证书序列号).
    pub cert_serial: String,
    /// The merchant API private key (apiclient_key.pem).
    pub private_key: Sensitive<RsaPrivateKey>,
    pub apiv3_key: ApiV3Key,
    /// WeChat Pay's keys: the platform public key (by its `PUB_KEY_ID_...`) and/or platform
    /// certificates (by serial).
    pub platform_keys: PlatformKeys,
    /// [`PRODUCTION_URL`], or the sandbox's loopback address.
    pub base_url: String,
    pub notify_url: String,
}

/// A platform certificate from `/v3/certificates`, decrypted and checked.
#[derive(Debug, Clone)]
pub struct PlatformCertificate {
    pub serial: String,
    pub pem: String,
    pub public_key: RsaPublicKey,
    pub expire_time: String,
}

/// Decrypts each certificate with the APIv3 key and checks that the certificate inside has the
/// serial the list claims (a swapped certificate is refused).
pub fn decrypt_certificates(
    list: &CertificateList,
    apiv3_key: &ApiV3Key,
) -> Result<Vec<PlatformCertificate>> {
    list.data
        .iter()
        .map(|entry| {
            let resource = &entry.encrypt_certificate;
            if resource.algorithm != "AEAD_AES_256_GCM" {
                return Err(Error::Channel(format!(
                    "WeChat Pay certificate {} uses {}, not AEAD_AES_256_GCM",
                    entry.serial_no, resource.algorithm
                )));
            }
            let pem = apiv3_key.decrypt_text(
                resource.associated_data.as_deref().unwrap_or(""),
                &resource.nonce,
                &resource.ciphertext,
            )?;
            let info = crypto::certificate(&pem).map_err(|_| {
                Error::Channel(format!(
                    "WeChat Pay certificate {} decrypted to something that is not a certificate",
                    entry.serial_no
                ))
            })?;
            if !info.serial.eq_ignore_ascii_case(&entry.serial_no) {
                return Err(Error::Channel(format!(
                    "WeChat Pay certificate refused: listed as {} but its serial is {}",
                    entry.serial_no, info.serial
                )));
            }
            Ok(PlatformCertificate {
                serial: info.serial,
                pem,
                public_key: info.public_key,
                expire_time: entry.expire_time.clone(),
            })
        })
        .collect()
}

/// A payment or refund notification (回调通知), verified and decrypted. A desktop app polls
/// instead of receiving these, but the same format reaches FeeDesk wherever a relay forwards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS` ...
    pub event_type: String,
    pub summary: String,
    /// The decrypted resource: a transaction or refund as JSON.
    pub resource: String,
}

#[derive(serde::Deserialize)]
struct NotificationBody {
    id: String,
    event_type: String,
    #[serde(default)]
    summary: String,
    resource: EncryptedResource,
}

/// Verifies a notification's `Wechatpay-*` headers over its body, then decrypts its resource
/// with the APIv3 key. Forged, replayed-too-late or altered notifications are refused.
pub fn open_notification(
    keys: &PlatformKeys,
    apiv3_key: &ApiV3Key,
    headers: &SignedHeaders,
    body: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Notification> {
    headers.verify(keys, body, now)?;
    let parsed: NotificationBody = serde_json::from_str(body).map_err(|e| {
        Error::Channel(format!(
            "a WeChat Pay notification FeeDesk cannot read ({e})"
        ))
    })?;
    if parsed.resource.algorithm != "AEAD_AES_256_GCM" {
        return Err(Error::Channel(format!(
            "WeChat Pay notification uses {}, not AEAD_AES_256_GCM",
            parsed.resource.algorithm
        )));
    }
    let resource = apiv3_key.decrypt_text(
        parsed.resource.associated_data.as_deref().unwrap_or(""),
        &parsed.resource.nonce,
        &parsed.resource.ciphertext,
    )?;
    Ok(Notification {
        id: parsed.id,
        event_type: parsed.event_type,
        summary: parsed.summary,
        resource,
    })
}
