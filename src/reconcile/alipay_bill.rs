//! Reads an Alipay business-detail bill (业务明细): GBK, `#` comment lines (title, account,
//! period), the `#----业务明细列表----` marker, the header, one row per trade (`业务类型` 交易)
//! or refund (退款, amounts negative), the end marker, and the totals footer
//! (`#交易合计：N笔，商家实收共X元…`, `#退款合计：M笔，商家实收退款共-Y元…`). Id fields end
//! in a tab, as Alipay writes them. The footer is checked against the rows.

use std::io::BufRead;

use super::statement::{
    LineKind, StatementLine, StatementTotals, bad_line, column, next_line, parse_scaled, parse_time,
};
use crate::Result;
use crate::text::clip;

struct Columns {
    count: usize,
    transaction_id: usize,
    out_trade_no: usize,
    kind: usize,
    finished: usize,
    order_amount: usize,
    received: usize,
    out_refund_no: usize,
    fee: usize,
}

impl Columns {
    fn find(header: &[String], line_no: u64) -> Result<Columns> {
        Ok(Columns {
            count: header.len(),
            transaction_id: column(header, "支付宝交易号", line_no)?,
            out_trade_no: column(header, "商户订单号", line_no)?,
            kind: column(header, "业务类型", line_no)?,
            finished: column(header, "完成时间", line_no)?,
            order_amount: column(header, "订单金额（元）", line_no)?,
            received: column(header, "商家实收（元）", line_no)?,
            out_refund_no: column(header, "退款批次号/请求号", line_no)?,
            fee: column(header, "服务费（元）", line_no)?,
        })
    }
}

fn gbk(buf: &[u8], line_no: u64) -> Result<std::borrow::Cow<'_, str>> {
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(buf)
        .ok_or_else(|| bad_line(line_no, "not GBK text; an Alipay bill is GBK"))
}

fn split(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| f.trim_matches(|c| c == '\t' || c == ' '))
        .collect()
}

#[derive(Default)]
struct Sums {
    trades: i64,
    refunds: i64,
    trade_received_fen: i64,
    refund_received_fen: i64,
}

enum Stage {
    Preamble,
    Header,
    Rows,
    Footer,
}

pub(crate) fn read(
    mut reader: impl BufRead,
    mut each: impl FnMut(StatementLine) -> Result<()>,
) -> Result<StatementTotals> {
    let mut totals = StatementTotals::default();
    let mut buf = Vec::with_capacity(512);
    let mut line_no: u64 = 0;
    let mut stage = Stage::Preamble;
    let mut cols: Option<Columns> = None;
    let mut sums = Sums::default();
    // (#交易合计, #退款合计) as (lines, fen).
    let mut footer: [Option<(i64, i64)>; 2] = [None, None];
    loop {
        line_no += 1;
        if !next_line(&mut reader, &mut buf, line_no)? {
            break;
        }
        if buf.is_empty() {
            continue;
        }
        let text = gbk(&buf, line_no)?;
        let text = text.trim_start_matches('\u{feff}');
        match stage {
            Stage::Preamble | Stage::Header if text.starts_with('#') => {
                // `#账号：[20880000000000010156]`: whose bill this is.
                if let Some(rest) = text.strip_prefix("#账号：")
                    && totals.merchant_id.is_none()
                {
                    let account = rest.trim().trim_start_matches('[').trim_end_matches(']');
                    if !account.is_empty() {
                        totals.merchant_id = Some(account.trim().to_string());
                    }
                }
                if text.contains("业务明细列表") && !text.contains("结束") {
                    stage = Stage::Header;
                }
            }
            Stage::Preamble | Stage::Header => {
                let header: Vec<String> = split(text).into_iter().map(String::from).collect();
                cols = Some(Columns::find(&header, line_no)?);
                stage = Stage::Rows;
            }
            Stage::Rows if text.starts_with('#') => {
                if !text.contains("业务明细列表结束") {
                    return Err(bad_line(
                        line_no,
                        "a comment line inside the detail block, before its end marker",
                    ));
                }
                stage = Stage::Footer;
            }
            Stage::Rows => {
                let Some(cols) = cols.as_ref() else {
                    return Err(bad_line(line_no, "a row before the header"));
                };
                let line = row(&split(text), cols, line_no, &mut sums)?;
                totals.count(&line);
                each(line)?;
            }
            Stage::Footer => {
                if let Some(rest) = text.strip_prefix("#交易合计：") {
                    footer[0] = Some(total(rest, line_no)?);
                } else if let Some(rest) = text.strip_prefix("#退款合计：") {
                    footer[1] = Some(total(rest, line_no)?);
                } else if !text.starts_with('#') {
                    return Err(bad_line(
                        line_no,
                        "text after the detail block that is not a # line",
                    ));
                }
            }
        }
    }
    if !matches!(stage, Stage::Footer) {
        return Err(bad_line(
            line_no,
            "the file ends before the detail block's end marker (#----业务明细列表结束----): \
             it was cut short, or is not an Alipay business-detail bill",
        ));
    }
    let checks = [
        (
            "交易合计",
            footer[0],
            (sums.trades, sums.trade_received_fen),
        ),
        (
            "退款合计",
            footer[1],
            (sums.refunds, sums.refund_received_fen),
        ),
    ];
    for (name, stated, added) in checks {
        let Some(stated) = stated else {
            return Err(bad_line(
                line_no,
                format!("the footer line #{name}：… is missing"),
            ));
        };
        if stated.0 != added.0 || stated.1.abs() != added.1.abs() {
            return Err(bad_line(
                line_no,
                format!(
                    "#{name} says {} lines and {} yuan but the rows add up to {} lines and {} yuan: \
                     the file is incomplete or was altered; download it again",
                    stated.0,
                    rust_decimal::Decimal::new(stated.1, 2),
                    added.0,
                    rust_decimal::Decimal::new(added.1, 2)
                ),
            ));
        }
    }
    totals.lines_read = line_no - 1;
    Ok(totals)
}

/// `N笔，商家实收共X元，…` -> (N, X in fen).
fn total(rest: &str, line_no: u64) -> Result<(i64, i64)> {
    let bad = || {
        bad_line(
            line_no,
            format!("the totals line '{}' cannot be read", clip(rest)),
        )
    };
    let (count, rest) = rest.split_once('笔').ok_or_else(bad)?;
    let count: i64 = count.trim().parse().map_err(|_| bad())?;
    let start = rest.find('共').ok_or_else(bad)? + '共'.len_utf8();
    let end = rest[start..].find('元').ok_or_else(bad)? + start;
    let fen = parse_scaled(&rest[start..end], 2).ok_or_else(bad)?;
    Ok((count, fen))
}

fn row(parts: &[&str], cols: &Columns, line_no: u64, sums: &mut Sums) -> Result<StatementLine> {
    if parts.len() != cols.count {
        return Err(bad_line(
            line_no,
            format!(
                "{} fields where the header has {}; the line is damaged",
                parts.len(),
                cols.count
            ),
        ));
    }
    let money = |i: usize, name: &str, places: u32| {
        parse_scaled(parts[i], places).ok_or_else(|| {
            bad_line(
                line_no,
                format!("{name} '{}' is not an amount in yuan", clip(parts[i])),
            )
        })
    };
    let at = parse_time(parts[cols.finished]).ok_or_else(|| {
        bad_line(
            line_no,
            format!(
                "完成时间 '{}' is not a time like 2026-11-22 10:15:03",
                clip(parts[cols.finished])
            ),
        )
    })?;
    let order = money(cols.order_amount, "订单金额（元）", 2)?;
    let received = money(cols.received, "商家实收（元）", 2)?;
    // 服务费 is negative when charged; the statement line keeps fees charged as positive.
    let fee_e5 = -money(cols.fee, "服务费（元）", 2)? * 1000;
    let (kind, amount_fen, out_refund_no) = match parts[cols.kind] {
        "交易" => {
            sums.trades += 1;
            sums.trade_received_fen += received;
            (LineKind::Payment, order, "")
        }
        "退款" => {
            sums.refunds += 1;
            sums.refund_received_fen += received;
            let no = parts[cols.out_refund_no];
            if no.is_empty() {
                return Err(bad_line(line_no, "a refund without its 退款批次号/请求号"));
            }
            (LineKind::Refund, -order, no)
        }
        other => {
            return Err(bad_line(
                line_no,
                format!(
                    "业务类型 '{other}' is not 交易 or 退款",
                    other = clip(other)
                ),
            ));
        }
    };
    if amount_fen <= 0 {
        return Err(bad_line(
            line_no,
            "the amount has the wrong sign (a trade is positive, a refund negative)",
        ));
    }
    let out_trade_no = parts[cols.out_trade_no];
    let transaction_id = parts[cols.transaction_id];
    if out_trade_no.is_empty() && transaction_id.is_empty() {
        return Err(bad_line(
            line_no,
            "neither 商户订单号 nor 支付宝交易号 is given",
        ));
    }
    Ok(StatementLine {
        line_no,
        kind,
        at,
        transaction_id: transaction_id.to_string(),
        out_trade_no: out_trade_no.to_string(),
        out_refund_no: out_refund_no.to_string(),
        amount_fen,
        fee_e5,
        settled: true,
    })
}
