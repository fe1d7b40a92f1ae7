//! The sandbox's Alipay business-detail bill (业务明细, `bill_type=trade`): a zip holding
//! `<pid>_<yyyyMMdd>_业务明细.csv` and `<pid>_<yyyyMMdd>_业务明细(汇总).csv` (names in GBK),
//! both GBK, lines ending `\r\n`. The detail file: `#` comment lines (title, account, period,
//! the start marker), the header [`ALIPAY_DETAIL_COLUMNS`], one row per payment (`业务类型`
//! 交易) and per refund (退款, amounts negative), then `#` lines: the end marker, the trade
//! and refund totals, the export time. Id-like fields carry a trailing tab, as Alipay writes
//! them. `服务费（元）` is negative on a payment (charged) and positive on a refund (returned).

use chrono::{DateTime, NaiveDate, Utc};
use std::io::Write;

use super::*;
use crate::channels::crypto::fen_to_yuan;
use crate::channels::sandbox::AlipayApp;
use crate::channels::sandbox::state::{SandboxChannel, State};
use crate::clock::LOCAL_OFFSET;

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

pub(super) const ALIPAY_DETAIL_START: &str = "#-----------------------------------------业务明细列表----------------------------------------";

pub(super) const ALIPAY_DETAIL_END: &str = "#-----------------------------------------业务明细列表结束------------------------------------";

pub(super) const ALIPAY_SUMMARY_START: &str = "#-----------------------------------------业务汇总列表----------------------------------------";

pub(super) const ALIPAY_SUMMARY_END: &str = "#-----------------------------------------业务汇总列表结束------------------------------------";

/// The Alipay partner id (2088 and 12 digits) the sandbox reports for an app.
pub(crate) fn alipay_pid(app: &AlipayApp) -> String {
    let digits: String = app.app_id.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(12)..];
    format!("2088{tail:0>12}")
}

pub(super) fn chinese_day(date: NaiveDate) -> String {
    date.format("%Y年%m月%d日").to_string()
}

pub(super) fn gbk(text: &str) -> Vec<u8> {
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
