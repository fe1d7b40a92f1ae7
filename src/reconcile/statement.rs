//! A channel statement (对账单) as lines the matcher understands, whichever channel wrote it,
//! and the streaming readers for both formats: one line at a time from any `BufRead`, so a
//! million-line bill costs the memory of one line.
//!
//! Amounts are integer fen; fees are kept in hundred-thousandths of a yuan (`fee_e5`), because
//! WeChat Pay writes them with five decimals and a day's fee is only rounded to the fen once,
//! when it is totalled.

use std::io::{BufRead, Read};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{alipay_bill, wechat_bill};
use crate::{Error, Result};

/// Which channel wrote a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum StatementFormat {
    /// WeChat Pay's trade bill: UTF-8, backtick-prefixed fields, summary rows at the end.
    #[serde(rename = "wechat-trade")]
    WechatTrade,
    /// Alipay's business-detail bill: GBK, `#` comment lines around the detail block.
    #[serde(rename = "alipay-detail")]
    AlipayDetail,
}

impl StatementFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementFormat::WechatTrade => "wechat-trade",
            StatementFormat::AlipayDetail => "alipay-detail",
        }
    }

    /// The collection-account channel whose bills come in this format.
    pub fn channel(self) -> crate::billing::Channel {
        match self {
            StatementFormat::WechatTrade => crate::billing::Channel::Wechat,
            StatementFormat::AlipayDetail => crate::billing::Channel::Alipay,
        }
    }
}

/// A payment or a refund, as a statement line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Payment,
    Refund,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Payment => "payment",
            LineKind::Refund => "refund",
        }
    }
}

/// One payment or refund line of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// The line's number in the file (1-based), for messages and the workbook.
    pub line_no: u64,
    pub kind: LineKind,
    /// When it happened, Beijing time (the day it belongs to).
    pub at: NaiveDateTime,
    /// The channel's transaction id (微信订单号 / 支付宝交易号).
    pub transaction_id: String,
    /// Our order number (商户订单号).
    pub out_trade_no: String,
    /// Our refund number (商户退款单号 / 退款批次号), refunds only.
    pub out_refund_no: String,
    /// The money moved, in fen, always positive (a refund's size).
    pub amount_fen: i64,
    /// The fee charged (positive) or returned (negative), in 1/100000 yuan.
    pub fee_e5: i64,
    /// Whether the channel reports it complete (a refund may still be processing).
    pub settled: bool,
}

impl StatementLine {
    pub fn day(&self) -> NaiveDate {
        self.at.date()
    }

    /// The line's identity, the same in every file that carries it: payments by the channel's
    /// transaction id (or our order number), refunds by our refund number.
    pub fn key(&self) -> String {
        match self.kind {
            LineKind::Payment if !self.transaction_id.is_empty() => {
                format!("pay:{}", self.transaction_id)
            }
            LineKind::Payment => format!("pay-order:{}", self.out_trade_no),
            LineKind::Refund => format!("refund:{}:{}", self.out_trade_no, self.out_refund_no),
        }
    }
}

/// What a whole statement held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementTotals {
    /// Every line of the file, header and summary included.
    pub lines_read: u64,
    pub payments: u64,
    pub refunds: u64,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// The merchant the statement is for, when it says (WeChat Pay's 商户号).
    pub merchant_id: Option<String>,
}

impl StatementTotals {
    pub(crate) fn count(&mut self, line: &StatementLine) {
        match line.kind {
            LineKind::Payment => self.payments += 1,
            LineKind::Refund => self.refunds += 1,
        }
        let day = line.day();
        self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        self.last_day = Some(self.last_day.map_or(day, |d| d.max(day)));
    }
}

/// Tells the format from a file's first bytes: a zip (Alipay's bill as downloaded), a gzip
/// (WeChat Pay's, packed), a UTF-8 text starting with WeChat Pay's header, or a GBK text with
/// Alipay's `#` title.
pub fn detect(head: &[u8]) -> Result<Packing> {
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Packing::Zip);
    }
    if crate::channels::bills::is_gzip(head) {
        return Ok(Packing::Gzip);
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.starts_with("交易时间".as_bytes()) {
        return Ok(Packing::Plain(StatementFormat::WechatTrade));
    }
    if head.starts_with(b"#") {
        return Ok(Packing::Plain(StatementFormat::AlipayDetail));
    }
    Err(Error::ImportFormat(
        "line 1: this is neither a WeChat Pay trade bill (it starts with the header 交易时间,…) \
         nor an Alipay business-detail bill (it starts with #支付宝业务明细查询); \
         download the bill again or pick the right file"
            .into(),
    ))
}

/// How a statement file is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    Plain(StatementFormat),
    Gzip,
    Zip,
}

/// Reads every line of a statement in `format`, handing each payment and refund to `each` in
/// file order. Malformed files are refused naming the line and what is wrong.
pub fn read_statement(
    format: StatementFormat,
    reader: impl BufRead,
    each: impl FnMut(StatementLine) -> Result<()>,
) -> Result<StatementTotals> {
    match format {
        StatementFormat::WechatTrade => wechat_bill::read(reader, each),
        StatementFormat::AlipayDetail => alipay_bill::read(reader, each),
    }
}

/// An error about line `line_no` of the file.
pub(crate) fn bad_line(line_no: u64, what: impl std::fmt::Display) -> Error {
    Error::ImportFormat(format!("line {line_no}: {what}"))
}

/// The longest line a statement may have: real lines are a few hundred bytes, and a line is
/// read whole before it is split.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Reads the next line (without its `\r\n`) into `buf`; `false` at the end of the file.
/// A line longer than [`MAX_LINE_BYTES`] is refused, not buffered.
pub(crate) fn next_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    line_no: u64,
) -> Result<bool> {
    buf.clear();
    let n = (&mut *reader)
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', buf)
        .map_err(|e| Error::Io(format!("line {line_no}: the file could not be read ({e})")))?;
    if n == 0 {
        return Ok(false);
    }
    if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
        return Err(Error::TooLarge(format!(
            "line {line_no} is longer than {} KB (statement lines are a few hundred bytes); this is not a channel statement, or it is damaged: download it again",
            MAX_LINE_BYTES >> 10
        )));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(true)
}

/// A decimal amount in yuan with at most `places` decimals, as an integer of 10^-places yuan.
/// Exact: no floating point, a third decimal on a fen amount is refused rather than rounded.
pub(crate) fn parse_scaled(text: &str, places: u32) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if frac.len() > places as usize
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 13
    {
        return None;
    }
    let mut value: i64 = 0;
    for b in whole.bytes() {
        value = value * 10 + i64::from(b - b'0');
    }
    let mut frac_value: i64 = 0;
    for i in 0..places as usize {
        let d = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        frac_value = frac_value * 10 + d;
    }
    let scaled = value * 10i64.pow(places) + frac_value;
    Some(if negative { -scaled } else { scaled })
}

/// `2026-11-22 10:15:03`.
pub(crate) fn parse_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

/// Finds each named column in a header, by name (the order varies with the bill type).
pub(crate) fn column(header: &[String], name: &str, line_no: u64) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        bad_line(
            line_no,
            format!(
                "the header has no column '{name}'; this is not a complete bill of this channel"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact() {
        assert_eq!(parse_scaled("1234.56", 2), Some(123456));
        assert_eq!(parse_scaled("-0.01", 2), Some(-1));
        assert_eq!(parse_scaled("53.33000", 5), Some(5_333_000));
        assert_eq!(parse_scaled("12", 2), Some(1200));
        assert_eq!(parse_scaled("1.234", 2), None);
        assert_eq!(parse_scaled("1,2", 2), None);
        assert_eq!(parse_scaled("", 2), None);
        assert_eq!(parse_scaled("abc", 2), None);
    }

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(
            detect("交易时间,公众账号ID".as_bytes()).unwrap(),
            Packing::Plain(StatementFormat::WechatTrade)
        );
        assert_eq!(
            detect("\u{feff}交易时间".as_bytes()).unwrap(),
            Packing::Plain(StatementFormat::WechatTrade)
        );
        assert_eq!(
            detect(b"#\xd6\xa7").unwrap(),
            Packing::Plain(StatementFormat::AlipayDetail)
        );
        assert_eq!(detect(b"PK\x03\x04..").unwrap(), Packing::Zip);
        assert!(detect(b"name,amount").is_err());
    }
}
