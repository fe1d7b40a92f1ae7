//! The sandbox's daily bills, made from its own orders and refunds of one Beijing-time day in
//! the channels' formats, so reconciliation can be trained and tested against them.
//!
//! **WeChat Pay trade bill** (`bill_type=ALL`), UTF-8, lines ending `\r\n`:
//! the header [`WECHAT_ALL_COLUMNS`]; one row per payment (`交易状态` SUCCESS) and one per
//! refund (`交易状态` REFUND), every field prefixed with a backtick; then the summary header
//! [`WECHAT_SUMMARY_COLUMNS`] and one summary row, backtick-prefixed too. Amounts in yuan with
//! two decimals; `手续费` with five (`0.53000`), negative on a refund row (the fee returned);
//! `费率` `0.60%`.
//!
//! **Alipay business-detail bill** (业务明细, `bill_type=trade`): a zip holding
//! `<pid>_<yyyyMMdd>_业务明细.csv` and `<pid>_<yyyyMMdd>_业务明细(汇总).csv` (names in GBK),
//! both GBK, lines ending `\r\n`. The detail file: `#` comment lines (title, account, period,
//! the start marker), the header [`ALIPAY_DETAIL_COLUMNS`], one row per payment (`业务类型`
//! 交易) and per refund (退款, amounts negative), then `#` lines: the end marker, the trade
//! and refund totals, the export time. Id-like fields carry a trailing tab, as Alipay writes
//! them. `服务费（元）` is negative on a payment (charged) and positive on a refund (returned).
//!
//! The fee is [`FEE_PER_MILLE`] per mille of the amount, rounded half up to the fen; a refund
//! returns the same share of its amount, never more than the payment's fee left.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};

use super::state::{OrderState, SandboxChannel, SandboxOrder, SandboxRefund, State};
use super::{AlipayApp, WechatMerchant};
use crate::channels::crypto::fen_to_yuan;
use crate::clock::{LOCAL_OFFSET, local_date};

/// The sandbox's channel fee: 6‰ (0.6%), the common rate for both channels.
pub const FEE_PER_MILLE: i64 = 6;

/// The fee on `amount_fen`, rounded half up to the fen.
pub fn fee_fen(amount_fen: i64) -> i64 {
    (amount_fen * FEE_PER_MILLE + 500).div_euclid(1000)
}

/// The columns of a WeChat Pay `ALL` trade bill, in order.
pub const WECHAT_ALL_COLUMNS: [&str; 27] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];

/// The summary block's columns.
pub const WECHAT_SUMMARY_COLUMNS: [&str; 7] = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];

/// The columns of an Alipay business-detail bill, in order.
pub const ALIPAY_DETAIL_COLUMNS: [&str; 25] = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
];

/// The summary file's columns.
pub const ALIPAY_SUMMARY_COLUMNS: [&str; 12] = [
    "门店编号",
    "门店名称",
    "交易订单总笔数",
    "退款订单总笔数",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "卡消费金额（元）",
    "服务费（元）",
    "分润（元）",
    "实收净额（元）",
];

const ALIPAY_DETAIL_START: &str = "#-----------------------------------------业务明细列表----------------------------------------";
const ALIPAY_DETAIL_END: &str = "#-----------------------------------------业务明细列表结束------------------------------------";
const ALIPAY_SUMMARY_START: &str = "#-----------------------------------------业务汇总列表----------------------------------------";
const ALIPAY_SUMMARY_END: &str = "#-----------------------------------------业务汇总列表结束------------------------------------";

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

/// A fee in WeChat Pay's five-decimal form.
fn fee5(fen: i64) -> String {
    format!("{}000", fen_to_yuan(fen))
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

fn backtick_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| format!("`{f}"))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The WeChat Pay `ALL` trade bill of `merchant` for `date`.
pub(crate) fn wechat_trade_bill(
    state: &State,
    merchant: &WechatMerchant,
    date: NaiveDate,
) -> Vec<u8> {
    let mut out = WECHAT_ALL_COLUMNS.join(",");
    out.push_str("\r\n");
    let (mut count, mut settle, mut refunded, mut fees, mut ordered, mut applied) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    for entry in entries(state, SandboxChannel::Wechat, &merchant.mch_id, date) {
        count += 1;
        let row: Vec<String> = match &entry {
            Entry::Payment { order, fee } => {
                settle += order.total_fen;
                ordered += order.total_fen;
                fees += fee;
                vec![
                    beijing(entry.at()),
                    order
                        .appid
                        .clone()
                        .unwrap_or_else(|| merchant.appid.clone()),
                    merchant.mch_id.clone(),
                    "0".into(),
                    String::new(),
                    order.transaction_id.clone().unwrap_or_default(),
                    order.out_trade_no.clone(),
                    SANDBOX_OPENID.into(),
                    "NATIVE".into(),
                    "SUCCESS".into(),
                    "OTHERS".into(),
                    "CNY".into(),
                    fen_to_yuan(order.total_fen),
                    "0.00".into(),
                    "0".into(),
                    "0".into(),
                    "0.00".into(),
                    "0.00".into(),
                    String::new(),
                    String::new(),
                    text(&order.description),
                    String::new(),
                    fee5(*fee),
                    "0.60%".into(),
                    fen_to_yuan(order.total_fen),
                    "0.00".into(),
                    String::new(),
                ]
            }
            Entry::Refund { order, refund, fee } => {
                refunded += refund.refund_fen;
                applied += refund.refund_fen;
                fees -= fee;
                vec![
                    beijing(entry.at()),
                    order
                        .appid
                        .clone()
                        .unwrap_or_else(|| merchant.appid.clone()),
                    merchant.mch_id.clone(),
                    "0".into(),
                    String::new(),
                    order.transaction_id.clone().unwrap_or_default(),
                    order.out_trade_no.clone(),
                    SANDBOX_OPENID.into(),
                    "NATIVE".into(),
                    "REFUND".into(),
                    "OTHERS".into(),
                    "CNY".into(),
                    "0.00".into(),
                    "0.00".into(),
                    refund.refund_id.clone(),
                    refund.out_refund_no.clone(),
                    fen_to_yuan(refund.refund_fen),
                    "0.00".into(),
                    "ORIGINAL".into(),
                    if refund.settled {
                        "SUCCESS"
                    } else {
                        "PROCESSING"
                    }
                    .into(),
                    text(&order.description),
                    String::new(),
                    fee5(-fee),
                    "0.60%".into(),
                    "0.00".into(),
                    fen_to_yuan(refund.refund_fen),
                    String::new(),
                ]
            }
        };
        out.push_str(&backtick_line(&row));
    }
    out.push_str(&WECHAT_SUMMARY_COLUMNS.join(","));
    out.push_str("\r\n");
    out.push_str(&backtick_line(&[
        count.to_string(),
        fen_to_yuan(settle),
        fen_to_yuan(refunded),
        "0.00".into(),
        fee5(fees),
        fen_to_yuan(ordered),
        fen_to_yuan(applied),
    ]));
    out.into_bytes()
}

/// The Alipay partner id (2088 and 12 digits) the sandbox reports for an app.
pub(crate) fn alipay_pid(app: &AlipayApp) -> String {
    let digits: String = app.app_id.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(12)..];
    format!("2088{tail:0>12}")
}

fn chinese_day(date: NaiveDate) -> String {
    date.format("%Y年%m月%d日").to_string()
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// The two CSVs of an Alipay bill (detail, summary), as text.
pub(crate) fn alipay_bill_texts(
    state: &State,
    app: &AlipayApp,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> (String, String) {
    let pid = alipay_pid(app);
    let next = date.succ_opt().unwrap_or(date);
    let exported = now
        .with_timezone(&LOCAL_OFFSET)
        .format("%Y年%m月%d日 %H:%M:%S");
    let period = format!(
        "#起始日期：[{} 00:00:00]   终止日期：[{} 00:00:00]\r\n",
        chinese_day(date),
        chinese_day(next)
    );
    let mut detail = String::new();
    detail.push_str("#支付宝业务明细查询\r\n");
    detail.push_str(&format!("#账号：[{pid}0156]\r\n"));
    detail.push_str(&period);
    detail.push_str(ALIPAY_DETAIL_START);
    detail.push_str("\r\n");
    detail.push_str(&ALIPAY_DETAIL_COLUMNS.join(","));
    detail.push_str("\r\n");
    let (mut trades, mut refunds) = (0i64, 0i64);
    let (mut trade_sum, mut refund_sum, mut fee_sum, mut order_sum) = (0i64, 0i64, 0i64, 0i64);
    for entry in entries(state, SandboxChannel::Alipay, &app.app_id, date) {
        let (order, kind, amount, request_no, fee) = match &entry {
            Entry::Payment { order, fee } => {
                trades += 1;
                trade_sum += order.total_fen;
                order_sum += order.total_fen;
                fee_sum -= fee;
                (*order, "交易", order.total_fen, String::new(), -fee)
            }
            Entry::Refund { order, refund, fee } => {
                refunds += 1;
                refund_sum -= refund.refund_fen;
                order_sum -= refund.refund_fen;
                fee_sum += fee;
                (
                    *order,
                    "退款",
                    -refund.refund_fen,
                    refund.out_refund_no.clone(),
                    *fee,
                )
            }
        };
        let row = [
            format!("{}\t", order.transaction_id.clone().unwrap_or_default()),
            format!("{}\t", order.out_trade_no),
            format!("{kind}\t"),
            text(&order.description),
            beijing(order.created_at),
            beijing(entry.at()),
            "\t".into(),
            "\t".into(),
            "\t".into(),
            "\t".into(),
            format!("{SANDBOX_BUYER}\t"),
            fen_to_yuan(amount),
            fen_to_yuan(amount),
            "0.00".into(),
            "0.00".into(),
            "0.00".into(),
            "0.00".into(),
            "0.00".into(),
            String::new(),
            "0.00\t".into(),
            "0.00".into(),
            format!("{request_no}\t"),
            fen_to_yuan(fee),
            "0.00".into(),
            String::new(),
        ];
        detail.push_str(&row.join(","));
        detail.push_str("\r\n");
    }
    detail.push_str(ALIPAY_DETAIL_END);
    detail.push_str("\r\n");
    detail.push_str(&format!(
        "#交易合计：{trades}笔，商家实收共{}元，商家优惠共0.00元\r\n",
        fen_to_yuan(trade_sum)
    ));
    detail.push_str(&format!(
        "#退款合计：{refunds}笔，商家实收退款共{}元，商家优惠退款共0.00元\r\n",
        fen_to_yuan(refund_sum)
    ));
    detail.push_str(&format!("#导出时间：[{exported}]\r\n"));

    let received = trade_sum + refund_sum;
    let totals = [
        trades.to_string(),
        refunds.to_string(),
        fen_to_yuan(order_sum),
        fen_to_yuan(received),
        "0.00".into(),
        "0.00".into(),
        "0.00".into(),
        fen_to_yuan(fee_sum),
        "0.00".into(),
        fen_to_yuan(received + fee_sum),
    ]
    .join(",");
    let mut summary = String::new();
    summary.push_str("#支付宝业务汇总查询\r\n");
    summary.push_str(&format!("#账号：[{pid}0156]\r\n"));
    summary.push_str(&period);
    summary.push_str(ALIPAY_SUMMARY_START);
    summary.push_str("\r\n");
    summary.push_str(&ALIPAY_SUMMARY_COLUMNS.join(","));
    summary.push_str("\r\n");
    summary.push_str(&format!("\t,\t,{totals}\r\n"));
    summary.push_str(&format!("合计,,{totals}\r\n"));
    summary.push_str(ALIPAY_SUMMARY_END);
    summary.push_str("\r\n");
    summary.push_str(&format!("#导出时间：[{exported}]\r\n"));
    (detail, summary)
}

/// The Alipay bill zip of `app` for `date`: `<pid>_<yyyyMMdd>.csv.zip` holding the GBK detail
/// and summary CSVs, their names GBK-encoded as Alipay writes them.
pub(crate) fn alipay_bill_zip(
    state: &State,
    app: &AlipayApp,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> std::io::Result<Vec<u8>> {
    let (detail, summary) = alipay_bill_texts(state, app, date, now);
    let stem = format!("{}_{}", alipay_pid(app), date.format("%Y%m%d"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in [
        (format!("{stem}_业务明细.csv"), detail),
        (format!("{stem}_业务明细(汇总).csv"), summary),
    ] {
        let raw_name = gbk(&name);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .name(&raw_name);
        zip.start_file_with_options(options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&gbk(&content))?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// The name the zip is served under.
pub(crate) fn alipay_zip_name(app: &AlipayApp, date: NaiveDate) -> String {
    format!("{}_{}.csv.zip", alipay_pid(app), date.format("%Y%m%d"))
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
        assert_eq!(fee5(5333), "53.33000");
        assert_eq!(fee5(-1), "-0.01000");
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
