//! The sandbox's daily bills, made from its own orders and refunds of one Beijing-time day in
//! the channels' formats, so reconciliation can be trained and tested against them.
//!
//! One file per format: [`wechat`] (the trade bill) and [`alipay`] (the business-detail bill).
//!
//! The fee is [`FEE_PER_MILLE`] per mille of the amount, rounded half up to the fen; a refund
//! returns the same share of its amount, never more than the payment's fee left.

mod alipay;
mod wechat;

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};

use super::state::{OrderState, SandboxChannel, SandboxOrder, SandboxRefund, State};
use crate::clock::{LOCAL_OFFSET, local_date};

pub use alipay::{ALIPAY_DETAIL_COLUMNS, ALIPAY_SUMMARY_COLUMNS};
pub(crate) use alipay::{alipay_bill_zip, alipay_pid, alipay_zip_name};
pub(crate) use wechat::wechat_trade_bill;
pub use wechat::{WECHAT_ALL_COLUMNS, WECHAT_SUMMARY_COLUMNS};

/// The sandbox's channel fee: 6‰ (0.6%), the common rate for both channels.
pub const FEE_PER_MILLE: i64 = 6;

/// The fee on `amount_fen`, rounded half up to the fen.
pub fn fee_fen(amount_fen: i64) -> i64 {
    (amount_fen * FEE_PER_MILLE + 500).div_euclid(1000)
}

/// The payer id the sandbox reports (WeChat `用户标识`).
pub(crate) const SANDBOX_OPENID: &str = "oSandboxPayer000000000000000";
/// The payer account the sandbox reports (Alipay `对方账户`, `buyer_logon_id`).
pub(crate) const SANDBOX_BUYER: &str = "159****0000";

fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&LOCAL_OFFSET)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Free text made safe for an unquoted CSV field.
fn text(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            ',' => '，',
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A payment or refund of the day, with its fee.
enum Entry<'a> {
    Payment {
        order: &'a SandboxOrder,
        fee: i64,
    },
    Refund {
        order: &'a SandboxOrder,
        refund: &'a SandboxRefund,
        /// The fee returned.
        fee: i64,
    },
}

impl Entry<'_> {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Entry::Payment { order, .. } => order.paid_at.unwrap_or(order.created_at),
            Entry::Refund { refund, .. } => refund.created_at,
        }
    }

    fn sort_key(&self) -> (DateTime<Utc>, String, u8, String) {
        match self {
            Entry::Payment { order, .. } => {
                (self.at(), order.out_trade_no.clone(), 0, String::new())
            }
            Entry::Refund { order, refund, .. } => (
                self.at(),
                order.out_trade_no.clone(),
                1,
                refund.out_refund_no.clone(),
            ),
        }
    }
}

/// The payments and refunds of `merchant` (mch id or app id) on `channel` that fall on `date`,
/// in time order, with their fees.
fn entries<'a>(
    state: &'a State,
    channel: SandboxChannel,
    merchant: &str,
    date: NaiveDate,
) -> Vec<Entry<'a>> {
    let orders: HashMap<&str, &SandboxOrder> = state
        .orders
        .values()
        .filter(|o| o.channel == channel && o.merchant == merchant && o.state == OrderState::Paid)
        .map(|o| (o.out_trade_no.as_str(), o))
        .collect();
    let mut refunds_of: HashMap<&str, Vec<&SandboxRefund>> = HashMap::new();
    for r in state.refunds.values().filter(|r| r.channel == channel) {
        if orders.contains_key(r.out_trade_no.as_str()) {
            refunds_of
                .entry(r.out_trade_no.as_str())
                .or_default()
                .push(r);
        }
    }
    let mut out = Vec::new();
    for (no, order) in &orders {
        let fee = fee_fen(order.total_fen);
        if order.paid_at.is_some_and(|t| local_date(t) == date) {
            out.push(Entry::Payment { order, fee });
        }
        let Some(refunds) = refunds_of.get_mut(no) else {
            continue;
        };
        refunds.sort_by(|a, b| {
            (a.created_at, &a.out_refund_no).cmp(&(b.created_at, &b.out_refund_no))
        });
        let mut returned = 0;
        for refund in refunds.iter() {
            let back = fee_fen(refund.refund_fen).min(fee - returned).max(0);
            returned += back;
            if local_date(refund.created_at) == date {
                out.push(Entry::Refund {
                    order,
                    refund,
                    fee: back,
                });
            }
        }
    }
    out.sort_by_key(Entry::sort_key);
    out
}

/// Whether `channel` has anything for `merchant` on `date`.
pub(crate) fn has_entries(
    state: &State,
    channel: SandboxChannel,
    merchant: &str,
    date: NaiveDate,
) -> bool {
    !entries(state, channel, merchant, date).is_empty()
}

/// Alters one amount by a fen: the second decimal of the first `d.dd` after the header line.
pub(crate) fn tamper(bill: &mut [u8]) {
    let start = bill.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
    for i in start..bill.len().saturating_sub(3) {
        if bill[i].is_ascii_digit()
            && bill[i + 1] == b'.'
            && bill[i + 2].is_ascii_digit()
            && bill[i + 3].is_ascii_digit()
        {
            bill[i + 3] = if bill[i + 3] == b'9' {
                b'8'
            } else {
                bill[i + 3] + 1
            };
            return;
        }
    }
    // No amount at all: change the last byte, so the digest still fails.
    if let Some(last) = bill.last_mut() {
        *last ^= 0x01;
    }
}

/// Gzip, as WeChat Pay sends a bill asked for with `tar_type=GZIP`.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_half_up() {
        assert_eq!(fee_fen(100_000), 600);
        assert_eq!(fee_fen(888_800), 5333); // 5332.8
        assert_eq!(fee_fen(25), 0); // 0.15
        assert_eq!(fee_fen(84), 1); // 0.504
        assert_eq!(wechat::fee5(5333), "53.33000");
        assert_eq!(wechat::fee5(-1), "-0.01000");
    }

    #[test]
    fn tampering_moves_one_amount_by_a_fen() {
        let mut bill = b"h.1,a\r\n`2026-11-22 10:00:00,`888.00,`0.00\r\n".to_vec();
        tamper(&mut bill);
        assert_eq!(
            bill,
            b"h.1,a\r\n`2026-11-22 10:00:00,`888.01,`0.00\r\n".to_vec()
        );
    }
}
