//! What a receipt says, frozen at issue, and the hash that chains it to the record before it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::money::Money;

/// A receipt, or the reversal (红冲) of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Receipt,
    Reversal,
}

impl ReceiptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptKind::Receipt => "receipt",
            ReceiptKind::Reversal => "reversal",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<ReceiptKind> {
        match text {
            "receipt" => Some(ReceiptKind::Receipt),
            "reversal" => Some(ReceiptKind::Reversal),
            _ => None,
        }
    }
}

/// Everything a receipt shows. Stored as canonical JSON (this field order) in the record, so
/// the hash covers it and the PDF is rendered from it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptContent {
    pub number: String,
    pub kind: ReceiptKind,
    /// The institution (headquarters' name).
    pub institution: String,
    /// The issuing store.
    pub issuer_code: String,
    pub issuer_name: String,
    /// RFC 3339 UTC.
    pub issued_at: String,
    /// Who paid: the guardian, or the member when no guardian is on file.
    pub payer: String,
    pub member_no: String,
    pub member_name: String,
    pub class: Option<String>,
    pub term: Option<String>,
    pub fee_item: String,
    /// Negative on a reversal.
    pub amount: Money,
    /// The amount in Chinese capitals (大写).
    pub amount_capitals: String,
    /// The channel as printed: 现金, 银行转账, 微信支付, 支付宝, 银联.
    pub channel: String,
    /// The collection account.
    pub account: String,
    /// The channel's transaction id, or a bank transfer's (or cash slip's) reference.
    pub reference: Option<String>,
    pub payment_id: i64,
    pub bill_id: i64,
    /// Who issued it (the cashier recording the payment or refund).
    pub operator: String,
    /// A reversal: the receipt it cancels. A reissue: the receipt it replaces.
    pub original: Option<String>,
    /// Why: a reversal's reason, a reissue's note.
    pub note: Option<String>,
}

impl ReceiptContent {
    pub(crate) fn to_json(&self) -> crate::Result<String> {
        serde_json::to_string(self).map_err(|e| crate::Error::Internal(e.to_string()))
    }
}

/// The channel as printed on a receipt.
pub(crate) fn channel_label(channel: &str) -> &'static str {
    match channel {
        "wechat" => "微信支付",
        "alipay" => "支付宝",
        "unionpay" => "银联",
        "offline-cash" => "现金",
        "offline-bank" => "银行转账",
        _ => "其他",
    }
}

/// The number a store prints: `XH-2026-000123`.
pub(crate) fn format_number(store_code: &str, year: i32, seq: i64) -> String {
    format!("{store_code}-{year}-{seq:06}")
}

/// The hash that precedes a store's first receipt.
pub(crate) const GENESIS: &str = crate::audit::GENESIS;

/// The columns a record's hash covers: every stored field, so editing any of them (or the
/// content) breaks the chain.
#[derive(Clone, Copy)]
pub(crate) struct HashedFields<'a> {
    pub prev_hash: &'a str,
    pub number: &'a str,
    pub unit_id: i64,
    pub year: i64,
    pub seq: i64,
    pub kind: &'a str,
    pub payment_id: i64,
    pub original_id: Option<i64>,
    pub amount_fen: i64,
    pub issued_at: &'a str,
    pub actor: &'a str,
    pub content_json: &'a str,
}

/// SHA-256 over the fields, each length-prefixed (as the audit log does), so that no two
/// different records hash alike.
pub(crate) fn record_hash(f: &HashedFields<'_>) -> String {
    let ints = [
        f.unit_id.to_string(),
        f.year.to_string(),
        f.seq.to_string(),
        f.payment_id.to_string(),
        f.original_id.map(|i| i.to_string()).unwrap_or_default(),
        f.amount_fen.to_string(),
    ];
    let mut h = Sha256::new();
    h.update(b"feedesk-receipt-v1");
    for part in [f.prev_hash, f.number, f.kind, f.issued_at, f.actor]
        .into_iter()
        .chain(ints.iter().map(String::as_str))
        .chain([f.content_json])
    {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// What the receipt's QR code carries: its number and its record hash, so a phone scan shows
/// both and an auditor can look the hash up.
pub(crate) fn qr_text(number: &str, hash: &str) -> String {
    format!("FEEDESK-RECEIPT:{number}:{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_zero_padded_per_store_and_year() {
        assert_eq!(format_number("XH", 2026, 123), "XH-2026-000123");
        assert_eq!(format_number("BJ", 2027, 1), "BJ-2027-000001");
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = HashedFields {
            prev_hash: GENESIS,
            number: "XH-2026-000001",
            unit_id: 4,
            year: 2026,
            seq: 1,
            kind: "receipt",
            payment_id: 1,
            original_id: None,
            amount_fen: 100,
            issued_at: "2026-09-02T01:00:00.000Z",
            actor: "local:a",
            content_json: "{}",
        };
        let h = record_hash(&base);
        let variants = [
            HashedFields {
                amount_fen: 101,
                ..base
            },
            HashedFields { seq: 2, ..base },
            HashedFields {
                content_json: "{ }",
                ..base
            },
            HashedFields {
                original_id: Some(1),
                ..base
            },
            HashedFields {
                prev_hash: "00",
                ..base
            },
        ];
        for v in variants {
            assert_ne!(record_hash(&v), h);
        }
    }
}
