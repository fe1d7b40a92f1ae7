//! The sandbox's WeChat Pay trade bill (`bill_type=ALL`), UTF-8, lines ending `\r\n`:
//! the header [`WECHAT_ALL_COLUMNS`]; one row per payment (`交易状态` SUCCESS) and one per
//! refund (`交易状态` REFUND), every field prefixed with a backtick; then the summary header
//! [`WECHAT_SUMMARY_COLUMNS`] and one summary row, backtick-prefixed too. Amounts in yuan with
//! two decimals; `手续费` with five (`0.53000`), negative on a refund row (the fee returned);
//! `费率` `0.60%`.

use chrono::NaiveDate;

use super::*;
use crate::channels::crypto::fen_to_yuan;
use crate::channels::sandbox::WechatMerchant;
use crate::channels::sandbox::state::{SandboxChannel, State};

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

/// A fee in WeChat Pay's five-decimal form.
pub(super) fn fee5(fen: i64) -> String {
    format!("{}000", fen_to_yuan(fen))
}

pub(super) fn backtick_line(fields: &[String]) -> String {
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
