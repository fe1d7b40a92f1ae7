//! Reads a WeChat Pay trade bill (交易账单): UTF-8, the header row, one backtick-prefixed row
//! per payment (`交易状态` SUCCESS), refund (REFUND) or revoked order (REVOKED, which moved
//! no money), then the summary header `总交易单数,…` and its row. Columns are found by name,
//! because their order and number vary with the bill type. The summary is checked against the
//! rows, so a cut-short or altered file is refused rather than half-reconciled.

use std::io::BufRead;

use super::statement::{
    LineKind, StatementLine, StatementTotals, bad_line, column, next_line, parse_scaled, parse_time,
};
use crate::Result;
use crate::text::clip;

/// The column indexes this reader needs.
struct Columns {
    count: usize,
    time: usize,
    merchant: usize,
    transaction_id: usize,
    out_trade_no: usize,
    state: usize,
    settle: usize,
    order_total: Option<usize>,
    out_refund_no: usize,
    refund: usize,
    refund_state: usize,
    fee: usize,
}

impl Columns {
    fn find(header: &[String], line_no: u64) -> Result<Columns> {
        Ok(Columns {
            count: header.len(),
            time: column(header, "交易时间", line_no)?,
            merchant: column(header, "商户号", line_no)?,
            transaction_id: column(header, "微信订单号", line_no)?,
            out_trade_no: column(header, "商户订单号", line_no)?,
            state: column(header, "交易状态", line_no)?,
            settle: column(header, "应结订单金额", line_no)?,
            order_total: header.iter().position(|h| h == "订单金额"),
            out_refund_no: column(header, "商户退款单号", line_no)?,
            refund: column(header, "退款金额", line_no)?,
            refund_state: column(header, "退款状态", line_no)?,
            fee: column(header, "手续费", line_no)?,
        })
    }
}

/// Splits a row into its fields, each without its leading backtick.
fn fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    out.extend(line.split(',').map(|f| f.strip_prefix('`').unwrap_or(f)));
}

fn utf8(buf: &[u8], line_no: u64) -> Result<&str> {
    std::str::from_utf8(buf)
        .map_err(|_| bad_line(line_no, "not UTF-8 text; a WeChat Pay bill is UTF-8"))
}

/// Running sums the summary row is checked against.
#[derive(Default)]
struct Sums {
    rows: i64,
    settle_fen: i64,
    refund_fen: i64,
    fee_e5: i64,
}

pub(crate) fn read(
    mut reader: impl BufRead,
    mut each: impl FnMut(StatementLine) -> Result<()>,
) -> Result<StatementTotals> {
    let mut totals = StatementTotals::default();
    let mut buf = Vec::with_capacity(512);
    let mut line_no: u64 = 1;
    if !next_line(&mut reader, &mut buf, line_no)? {
        return Err(bad_line(1, "the file is empty"));
    }
    let text = utf8(&buf, 1)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header: Vec<String> = text
        .split(',')
        .map(|h| h.trim().trim_start_matches('`').to_string())
        .collect();
    let cols = Columns::find(&header, 1)?;
    let mut sums = Sums::default();
    let mut summary_at: Option<u64> = None;
    loop {
        line_no += 1;
        if !next_line(&mut reader, &mut buf, line_no)? {
            break;
        }
        if buf.is_empty() {
            continue;
        }
        let text = utf8(&buf, line_no)?;
        if text.trim_start_matches('`').starts_with("总交易单数") {
            summary_at = Some(line_no);
            break;
        }
        let mut parts: Vec<&str> = Vec::with_capacity(cols.count);
        fields(text, &mut parts);
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
        sums.rows += 1;
        if let Some(line) = row(&parts, &cols, line_no, &mut sums)? {
            if totals.merchant_id.is_none() {
                totals.merchant_id = Some(parts[cols.merchant].trim().to_string());
            }
            totals.count(&line);
            each(line)?;
        }
    }
    let Some(summary_header_line) = summary_at else {
        return Err(bad_line(
            line_no,
            "the file ends without its summary rows (总交易单数,…): it was cut short; \
             download it again",
        ));
    };
    check_summary(&mut reader, &mut buf, summary_header_line, &sums)?;
    totals.lines_read = summary_header_line + 1;
    Ok(totals)
}

fn amount(parts: &[&str], index: usize, name: &str, line_no: u64) -> Result<i64> {
    parse_scaled(parts[index], 2).ok_or_else(|| {
        bad_line(
            line_no,
            format!("{name} '{}' is not an amount in yuan", clip(parts[index])),
        )
    })
}

/// One data row: a payment, a refund, or `None` for a revoked order (no money moved).
fn row(
    parts: &[&str],
    cols: &Columns,
    line_no: u64,
    sums: &mut Sums,
) -> Result<Option<StatementLine>> {
    let at = parse_time(parts[cols.time]).ok_or_else(|| {
        bad_line(
            line_no,
            format!(
                "交易时间 '{}' is not a time like 2026-11-22 10:15:03",
                clip(parts[cols.time])
            ),
        )
    })?;
    let settle = amount(parts, cols.settle, "应结订单金额", line_no)?;
    let refund = amount(parts, cols.refund, "退款金额", line_no)?;
    let fee_e5 = parse_scaled(parts[cols.fee], 5).ok_or_else(|| {
        bad_line(
            line_no,
            format!("手续费 '{}' is not an amount", clip(parts[cols.fee])),
        )
    })?;
    sums.settle_fen += settle;
    sums.refund_fen += refund;
    sums.fee_e5 += fee_e5;
    let out_trade_no = parts[cols.out_trade_no].trim();
    let transaction_id = parts[cols.transaction_id].trim();
    let (kind, amount_fen, out_refund_no, settled) = match parts[cols.state].trim() {
        "SUCCESS" => {
            let total = match cols.order_total {
                Some(i) => amount(parts, i, "订单金额", line_no)?,
                None => settle,
            };
            (LineKind::Payment, total, "", true)
        }
        "REFUND" => {
            let no = parts[cols.out_refund_no].trim();
            if no.is_empty() {
                return Err(bad_line(line_no, "a refund without its 商户退款单号"));
            }
            let settled = parts[cols.refund_state].trim() == "SUCCESS";
            (LineKind::Refund, refund, no, settled)
        }
        "REVOKED" => return Ok(None),
        other => {
            return Err(bad_line(
                line_no,
                format!(
                    "交易状态 '{other}' is not SUCCESS, REFUND or REVOKED",
                    other = clip(other)
                ),
            ));
        }
    };
    if out_trade_no.is_empty() && transaction_id.is_empty() {
        return Err(bad_line(
            line_no,
            "neither 商户订单号 nor 微信订单号 is given",
        ));
    }
    if amount_fen <= 0 {
        return Err(bad_line(line_no, "the amount is not above zero"));
    }
    Ok(Some(StatementLine {
        line_no,
        kind,
        at,
        transaction_id: transaction_id.to_string(),
        out_trade_no: out_trade_no.to_string(),
        out_refund_no: out_refund_no.to_string(),
        amount_fen,
        fee_e5,
        settled,
    }))
}

fn check_summary(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    header_line: u64,
    sums: &Sums,
) -> Result<()> {
    let header: Vec<String> = utf8(buf, header_line)?
        .split(',')
        .map(|h| h.trim().trim_start_matches('`').to_string())
        .collect();
    let line_no = header_line + 1;
    if !next_line(reader, buf, line_no)? || buf.is_empty() {
        return Err(bad_line(
            line_no,
            "the summary row is missing after 总交易单数,…: the file was cut short",
        ));
    }
    let mut parts = vec![];
    fields(utf8(buf, line_no)?, &mut parts);
    if parts.len() != header.len() {
        return Err(bad_line(
            line_no,
            format!(
                "the summary row has {} fields where its header has {}",
                parts.len(),
                header.len()
            ),
        ));
    }
    let get = |name: &str, places: u32| -> Result<i64> {
        let i = column(&header, name, header_line)?;
        parse_scaled(parts[i], places).ok_or_else(|| {
            bad_line(
                line_no,
                format!("{name} '{}' is not a number", clip(parts[i])),
            )
        })
    };
    let checks = [
        ("总交易单数", get("总交易单数", 0)?, sums.rows, 0),
        (
            "应结订单总金额",
            get("应结订单总金额", 2)?,
            sums.settle_fen,
            2,
        ),
        ("退款总金额", get("退款总金额", 2)?, sums.refund_fen, 2),
        ("手续费总金额", get("手续费总金额", 5)?, sums.fee_e5, 5),
    ];
    for (name, stated, added, places) in checks {
        if stated != added {
            let show = |v: i64| {
                if places == 0 {
                    v.to_string()
                } else {
                    let d = rust_decimal::Decimal::new(v, places);
                    d.to_string()
                }
            };
            return Err(bad_line(
                line_no,
                format!(
                    "the summary says {name} {} but the rows add up to {}: the file is \
                     incomplete or was altered; download it again",
                    show(stated),
                    show(added)
                ),
            ));
        }
    }
    let mut trailing = line_no;
    loop {
        trailing += 1;
        if !next_line(reader, buf, trailing)? {
            return Ok(());
        }
        if !buf.is_empty() {
            return Err(bad_line(
                trailing,
                "text after the summary row; a WeChat Pay bill ends with it",
            ));
        }
    }
}
