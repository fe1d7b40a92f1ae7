//! WeChat Pay API v3 messages FeeDesk sends and reads. Amounts are integer fen on the wire.

use serde::{Deserialize, Deserializer, Serialize};

/// A Native (QR code) order to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeOrder {
    /// Ours, unique per attempt: 6-32 characters of letters, digits, `_-|*`.
    pub out_trade_no: String,
    /// What the payer sees (at most 127 characters).
    pub description: String,
    pub total_fen: i64,
    /// When the QR code stops working (RFC 3339), if it should before WeChat's default.
    pub time_expire: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct NativeOrderBody<'a> {
    pub appid: &'a str,
    pub mchid: &'a str,
    pub description: &'a str,
    pub out_trade_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<&'a str>,
    pub notify_url: &'a str,
    pub amount: AmountOut,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AmountOut {
    pub total: i64,
    pub currency: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CodeUrl {
    pub code_url: String,
}

/// A trade's state (`trade_state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    /// Paid.
    Success,
    /// Paid, then (partly) refunded.
    Refund,
    /// Not paid yet.
    NotPay,
    Closed,
    Revoked,
    /// The payer is entering a password.
    UserPaying,
    /// Payment failed (bank refused ...).
    PayError,
    /// A state this version does not know; treated as unresolved.
    Other(String),
}

impl TradeState {
    pub fn parse(text: &str) -> TradeState {
        match text {
            "SUCCESS" => TradeState::Success,
            "REFUND" => TradeState::Refund,
            "NOTPAY" => TradeState::NotPay,
            "CLOSED" => TradeState::Closed,
            "REVOKED" => TradeState::Revoked,
            "USERPAYING" => TradeState::UserPaying,
            "PAYERROR" => TradeState::PayError,
            other => TradeState::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TradeState::Success => "SUCCESS",
            TradeState::Refund => "REFUND",
            TradeState::NotPay => "NOTPAY",
            TradeState::Closed => "CLOSED",
            TradeState::Revoked => "REVOKED",
            TradeState::UserPaying => "USERPAYING",
            TradeState::PayError => "PAYERROR",
            TradeState::Other(s) => s,
        }
    }

    /// Whether the money arrived (a refunded trade was paid first).
    pub fn is_paid(&self) -> bool {
        matches!(self, TradeState::Success | TradeState::Refund)
    }
}

impl<'de> Deserialize<'de> for TradeState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TradeState, D::Error> {
        Ok(TradeState::parse(&String::deserialize(d)?))
    }
}

/// A trade as `query` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    /// WeChat Pay's id, once paid.
    pub transaction_id: Option<String>,
    pub trade_type: Option<String>,
    pub trade_state: TradeState,
    pub trade_state_desc: Option<String>,
    /// When it was paid (RFC 3339, +08:00).
    pub success_time: Option<String>,
    pub amount: Option<TransactionAmount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TransactionAmount {
    /// The order's total, fen.
    pub total: Option<i64>,
    /// What the payer paid, fen (less any coupon).
    pub payer_total: Option<i64>,
    pub currency: Option<String>,
}

impl Transaction {
    /// The order total in fen, if reported.
    pub fn total_fen(&self) -> Option<i64> {
        self.amount.as_ref().and_then(|a| a.total)
    }

    /// Refuses a paid trade whose total is not the `expected` fen of our order: a forged or
    /// mixed-up answer must never record a payment.
    pub fn confirm_total(&self, expected_fen: i64) -> crate::Result<()> {
        match self.total_fen() {
            Some(total) if total == expected_fen => Ok(()),
            other => Err(crate::Error::Channel(format!(
                "WeChat Pay answer refused: order {} is for {} fen, but the channel reports {}",
                self.out_trade_no,
                expected_fen,
                other.map_or("no amount".to_string(), |t| format!("{t} fen"))
            ))),
        }
    }
}

/// A refund to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub out_trade_no: String,
    /// Ours, unique per refund: reused on retry, so the refund happens once.
    pub out_refund_no: String,
    pub reason: Option<String>,
    pub refund_fen: i64,
    /// The original order's total, fen.
    pub total_fen: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct RefundBody<'a> {
    pub out_trade_no: &'a str,
    pub out_refund_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    pub amount: RefundAmountOut,
}

#[derive(Debug, Serialize)]
pub(crate) struct RefundAmountOut {
    pub refund: i64,
    pub total: i64,
    pub currency: &'static str,
}

/// A refund's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundStatus {
    Success,
    Closed,
    /// Not final: query again later.
    Processing,
    /// The payer's account cannot take it; needs a person.
    Abnormal,
    Other(String),
}

impl RefundStatus {
    pub fn parse(text: &str) -> RefundStatus {
        match text {
            "SUCCESS" => RefundStatus::Success,
            "CLOSED" => RefundStatus::Closed,
            "PROCESSING" => RefundStatus::Processing,
            "ABNORMAL" => RefundStatus::Abnormal,
            other => RefundStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RefundStatus::Success => "SUCCESS",
            RefundStatus::Closed => "CLOSED",
            RefundStatus::Processing => "PROCESSING",
            RefundStatus::Abnormal => "ABNORMAL",
            RefundStatus::Other(s) => s,
        }
    }

    /// Whether the refund is settled one way or the other.
    pub fn is_final(&self) -> bool {
        matches!(self, RefundStatus::Success | RefundStatus::Closed)
    }
}

impl<'de> Deserialize<'de> for RefundStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RefundStatus, D::Error> {
        Ok(RefundStatus::parse(&String::deserialize(d)?))
    }
}

/// A refund as WeChat Pay reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: Option<String>,
    pub out_trade_no: String,
    pub status: RefundStatus,
    pub success_time: Option<String>,
    pub create_time: Option<String>,
    pub amount: RefundAmount,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundAmount {
    pub total: i64,
    pub refund: i64,
    pub payer_refund: Option<i64>,
    pub currency: Option<String>,
}

/// An error body: `{"code": "ORDER_NOT_EXIST", "message": "..."}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// One entry of `GET /v3/certificates`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateEntry {
    pub serial_no: String,
    pub effective_time: String,
    pub expire_time: String,
    pub encrypt_certificate: EncryptedResource,
}

/// An AEAD_AES_256_GCM resource (certificates, notifications).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub associated_data: Option<String>,
    pub ciphertext: String,
    pub nonce: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateList {
    pub data: Vec<CertificateEntry>,
}

/// The answer to `GET /v3/bill/tradebill`: where to fetch the bill, and the digest the file
/// must have (over the bill itself, after any gunzip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLink {
    /// `SHA1`.
    pub hash_type: String,
    pub hash_value: String,
    /// Valid for a few minutes; the download is a signed GET whose answer is not signed.
    pub download_url: String,
}
