//! The Alipay open platform (支付宝开放平台), public-key mode: alipay.trade.precreate (QR
//! code), query, close, refund and refund query, and the daily business-detail bill (a zip of
//! GBK CSVs). Requests are signed RSA2 over the sorted
//! parameters with the app private key; every answer's signature is verified with the Alipay
//! public key before anything in it is believed. Amounts are yuan strings with two decimals.

mod bill;
mod client;
mod sign;

use rsa::{RsaPrivateKey, RsaPublicKey};

pub use bill::{AlipayBillCsv, business_detail_csv, decode_gbk};
pub use client::{
    AlipayClient, AlipayCloseOutcome, AlipayRefund, AlipayRefundQuery, AlipayRefundRequest,
    AlipayTrade, PrecreateOrder, TradeStatus,
};
pub use sign::{
    response_node, sign_content, sign_params, signed_body, split_answer, verify_params,
};

use crate::secrets::Sensitive;

/// The production gateway.
pub const PRODUCTION_URL: &str = "https://openapi.alipay.com/gateway.do";

/// One Alipay app's settings and keys.
#[derive(Debug, Clone)]
pub struct AlipayConfig {
    /// The app's APPID.
    pub app_id: String,
    /// The app private key (应用私钥), RSA2048.
    pub private_key: Sensitive<RsaPrivateKey>,
    /// The Alipay public key (支付宝公钥) shown in the open platform console.
    pub alipay_public_key: RsaPublicKey,
    /// [`PRODUCTION_URL`], or the sandbox's loopback gateway.
    pub base_url: String,
}
