//! The reconciliation workbook an accountant opens: **Summary** (per account and day: counts and
//! amounts per class, what the channel received and refunded, fees, net), **Matched** (every
//! matched line and how it matched), **Discrepancies** (one row per item, coloured by class,
//! with the reason, the suggested action and its resolution) and **Fees** (per day, as the
//! statements say and as posted to the books). Totals are SUM formulas carrying their values.
//!
//! Exporting runs the reconciliation first (a run is idempotent), so the workbook, the items
//! and the books always tell the same story.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use rust_xlsxwriter::Workbook;
use serde::Serialize;

use super::matching::{Finding, MatchClass, Outcome, fee_fen};
use super::run::{RunSummary, run_scope, scope};
use super::statement::LineKind;
use crate::progress::{CancelToken, ProgressFn};
use crate::reports::sheet::{Cell, Kind, Table, xlsx_error};
use crate::{Error, FeeDesk, Result};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReconExport {
    pub file: String,
    pub summary: RunSummary,
    pub matched_rows: u64,
    pub discrepancy_rows: u64,
    pub fee_days: u64,
}

/// The sheets, in order.
pub const SHEETS: [&str; 4] = ["Summary", "Matched", "Discrepancies", "Fees"];

/// Excel's row limit, less the header and totals rows.
const MAX_ROWS: usize = 1_048_576 - 2;

/// The fill of a discrepancy row, by class.
pub fn class_fill(class: MatchClass) -> &'static str {
    match class {
        MatchClass::Matched => "#FFFFFF",
        MatchClass::AmountMismatch => "#FFF2CC",
        MatchClass::OursOnly => "#F8CBAD",
        MatchClass::ChannelOnly => "#DDEBF7",
        MatchClass::RefundMismatch => "#E4DFEC",
    }
}

/// The class as the workbook words it.
pub fn class_label(class: MatchClass) -> &'static str {
    match class {
        MatchClass::Matched => "已匹配",
        MatchClass::AmountMismatch => "金额不符",
        MatchClass::OursOnly => "我方有渠道无(严重)",
        MatchClass::ChannelOnly => "渠道有我方无",
        MatchClass::RefundMismatch => "退款不符",
    }
}

fn kind_label(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Payment => "收款",
        LineKind::Refund => "退款",
    }
}

/// Runs the reconciliation of `account` over `[from, to]` and writes the workbook to `out`.
pub async fn export_reconciliation(
    desk: &FeeDesk,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
    out: &Path,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<ReconExport> {
    let scope = scope(desk, account, from, to).await?;
    let (summary, outcome) = run_scope(desk, &scope, true, progress, cancel).await?;
    if outcome.matched.len() > MAX_ROWS || outcome.findings.len() > MAX_ROWS {
        return Err(Error::TooLarge(format!(
            "{} matched lines do not fit one worksheet; export a shorter period",
            outcome.matched.len()
        )));
    }
    let items = item_states(desk, scope.account.id).await?;
    let posted = posted_fees(desk, scope.account.id, from, to).await?;
    let fail = xlsx_error(out);
    let mut book = Workbook::new();
    summary_sheet(&mut book, &summary, &outcome, &fail)?;
    matched_sheet(&mut book, &outcome, &fail)?;
    discrepancy_sheet(&mut book, &outcome.findings, &items, &fail)?;
    fees_sheet(&mut book, &summary.account, &outcome, &posted, &fail)?;
    cancel.check()?;
    let tmp = out.with_extension("xlsx.part");
    book.save(&tmp).map_err(&fail)?;
    std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))?;
    Ok(ReconExport {
        file: out.display().to_string(),
        matched_rows: outcome.matched.len() as u64,
        discrepancy_rows: outcome.findings.len() as u64,
        fee_days: outcome.fee_days.len() as u64,
        summary,
    })
}

/// An item's id, status, resolution and note, by key.
type ItemState = (i64, String, Option<String>, Option<String>);

async fn item_states(desk: &FeeDesk, account_id: i64) -> Result<HashMap<String, ItemState>> {
    type Row = (String, i64, String, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT item_key, id, status, resolution, note FROM recon_items WHERE account_id = ?",
    )
    .bind(account_id)
    .fetch_all(desk.db().pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(k, id, s, r, n)| (k, (id, s, r, n)))
        .collect())
}

async fn posted_fees(
    desk: &FeeDesk,
    account_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT day, posted_fen FROM channel_fee_days WHERE account_id = ? AND day BETWEEN ? AND ?",
    )
    .bind(account_id)
    .bind(from.format("%Y-%m-%d").to_string())
    .bind(to.format("%Y-%m-%d").to_string())
    .fetch_all(desk.db().pool())
    .await?;
    Ok(rows.into_iter().collect())
}

type Fail<'a> = dyn Fn(rust_xlsxwriter::XlsxError) -> Error + 'a;

/// Per day: [count, fen] for each class, in MatchClass::ALL order.
fn per_day(outcome: &Outcome) -> BTreeMap<NaiveDate, [(i64, i64); 5]> {
    let mut days: BTreeMap<NaiveDate, [(i64, i64); 5]> = BTreeMap::new();
    for day in outcome.fee_days.keys() {
        days.entry(*day).or_default();
    }
    for m in &outcome.matched {
        let slot = &mut days.entry(m.at.date()).or_default()[0];
        slot.0 += 1;
        slot.1 += m.amount_fen;
    }
    for f in &outcome.findings {
        let i = MatchClass::ALL
            .iter()
            .position(|c| *c == f.class)
            .unwrap_or(0);
        let slot = &mut days.entry(f.day).or_default()[i];
        slot.0 += 1;
        slot.1 += f.channel_fen.or(f.ours_fen).unwrap_or(0);
    }
    days
}

fn summary_sheet(
    book: &mut Workbook,
    summary: &RunSummary,
    outcome: &Outcome,
    fail: &Fail<'_>,
) -> Result<()> {
    let sheet = book.add_worksheet();
    sheet.set_name(SHEETS[0]).map_err(fail)?;
    let mut columns: Vec<(&str, Kind)> = vec![("账户", Kind::Text), ("日期", Kind::Text)];
    let labels = [
        ("已匹配笔数", "已匹配金额"),
        ("金额不符笔数", "金额不符金额"),
        ("我方独有笔数", "我方独有金额"),
        ("渠道独有笔数", "渠道独有金额"),
        ("退款不符笔数", "退款不符金额"),
    ];
    for (count, amount) in labels {
        columns.push((count, Kind::Count));
        columns.push((amount, Kind::Money));
    }
    columns.extend([
        ("渠道收款", Kind::Money),
        ("渠道退款", Kind::Money),
        ("手续费", Kind::Money),
        ("净额", Kind::Money),
    ]);
    let mut table = Table::new(sheet, 0, &columns, fail)?;
    let mut sums = vec![0i64; columns.len()];
    for (day, classes) in per_day(outcome) {
        let fee = outcome.fee_days.get(&day).copied().unwrap_or_default();
        let fee_fen_day = fee_fen(fee.fee_e5);
        let mut cells = vec![
            Cell::Text(summary.account.clone()),
            Cell::Text(day.format("%Y-%m-%d").to_string()),
        ];
        let mut values = vec![0, 0];
        for (count, fen) in classes {
            cells.push(Cell::Count(count));
            cells.push(Cell::Fen(fen));
            values.extend([count, fen]);
        }
        let net = fee.received_fen - fee.refunded_fen - fee_fen_day;
        for v in [fee.received_fen, fee.refunded_fen, fee_fen_day, net] {
            cells.push(Cell::Fen(v));
            values.push(v);
        }
        for (s, v) in sums.iter_mut().zip(values) {
            *s += v;
        }
        table.push(&cells, None)?;
    }
    let end = table.next_row().saturating_sub(1);
    let totals: Vec<(u16, i64)> = (2..columns.len()).map(|c| (c as u16, sums[c])).collect();
    table.totals("合计", &totals)?;
    table.finish(end)
}

fn matched_sheet(book: &mut Workbook, outcome: &Outcome, fail: &Fail<'_>) -> Result<()> {
    let sheet = book.add_worksheet();
    sheet.set_name(SHEETS[1]).map_err(fail)?;
    let columns = [
        ("时间", Kind::Text),
        ("类型", Kind::Text),
        ("商户订单号", Kind::Text),
        ("渠道交易号", Kind::Text),
        ("退款单号", Kind::Text),
        ("金额", Kind::Money),
        ("手续费", Kind::Money),
        ("我方付款", Kind::Text),
        ("我方退款", Kind::Text),
        ("匹配方式", Kind::Text),
    ];
    let mut table = Table::new(sheet, 0, &columns, fail)?;
    let (mut amount, mut fees) = (0i64, 0i64);
    let id = |v: Option<i64>| v.map_or(Cell::Empty, |v| Cell::Text(v.to_string()));
    for m in &outcome.matched {
        let fee = fee_fen(m.fee_e5);
        amount += m.amount_fen;
        fees += fee;
        let by = match m.by {
            "order_no" => "商户订单号",
            "transaction_id" => "渠道交易号",
            "refund_no" => "退款单号",
            _ => "金额+日期",
        };
        table.push(
            &[
                Cell::Text(m.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                Cell::Text(kind_label(m.kind).into()),
                Cell::Text(m.out_trade_no.clone()),
                Cell::Text(m.transaction_id.clone()),
                Cell::Text(m.out_refund_no.clone()),
                Cell::Fen(m.amount_fen),
                Cell::Fen(fee),
                id(m.payment_id),
                id(m.refund_id),
                Cell::Text(by.into()),
            ],
            None,
        )?;
    }
    let end = table.next_row().saturating_sub(1);
    table.totals("合计", &[(5, amount), (6, fees)])?;
    table.finish(end)
}

fn discrepancy_sheet(
    book: &mut Workbook,
    findings: &[Finding],
    items: &HashMap<String, ItemState>,
    fail: &Fail<'_>,
) -> Result<()> {
    let sheet = book.add_worksheet();
    sheet.set_name(SHEETS[2]).map_err(fail)?;
    let columns = [
        ("编号", Kind::Text),
        ("日期", Kind::Text),
        ("类别", Kind::Text),
        ("类型", Kind::Text),
        ("商户订单号", Kind::Text),
        ("渠道交易号", Kind::Text),
        ("退款单号", Kind::Text),
        ("渠道金额", Kind::Money),
        ("我方金额", Kind::Money),
        ("差额", Kind::Money),
        ("原因", Kind::Wrap),
        ("建议操作", Kind::Wrap),
        ("状态", Kind::Text),
        ("处理备注", Kind::Wrap),
    ];
    let mut table = Table::new(sheet, 0, &columns, fail)?;
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| (a.class, a.day, &a.key).cmp(&(b.class, b.day, &b.key)));
    let (mut channel, mut ours, mut diff) = (0i64, 0i64, 0i64);
    let text = |v: &Option<String>| v.clone().map_or(Cell::Empty, Cell::Text);
    let money = |v: Option<i64>| v.map_or(Cell::Empty, Cell::Fen);
    for f in sorted {
        let state = items.get(&f.key);
        let d = f.channel_fen.unwrap_or(0) - f.ours_fen.unwrap_or(0);
        channel += f.channel_fen.unwrap_or(0);
        ours += f.ours_fen.unwrap_or(0);
        diff += d;
        let status = match state.map(|s| s.1.as_str()) {
            Some("resolved") => match state.and_then(|s| s.2.as_deref()) {
                Some("record") => "已补记",
                _ => "已说明",
            },
            Some("follow_up") => "跟进中",
            _ => "待处理",
        };
        table.push(
            &[
                state.map_or(Cell::Empty, |s| Cell::Text(s.0.to_string())),
                Cell::Text(f.day.format("%Y-%m-%d").to_string()),
                Cell::Text(format!("{} {}", class_label(f.class), f.class.as_str())),
                Cell::Text(kind_label(f.kind).into()),
                text(&f.out_trade_no),
                text(&f.transaction_id),
                text(&f.out_refund_no),
                money(f.channel_fen),
                money(f.ours_fen),
                Cell::Fen(d),
                Cell::Text(f.reason.clone()),
                Cell::Text(super::items::suggestion(f.class.as_str()).into()),
                Cell::Text(status.into()),
                state
                    .and_then(|s| s.3.clone())
                    .map_or(Cell::Empty, Cell::Text),
            ],
            Some(class_fill(f.class)),
        )?;
    }
    let end = table.next_row().saturating_sub(1);
    table.totals("合计", &[(7, channel), (8, ours), (9, diff)])?;
    table.finish(end)
}

fn fees_sheet(
    book: &mut Workbook,
    account: &str,
    outcome: &Outcome,
    posted: &HashMap<String, i64>,
    fail: &Fail<'_>,
) -> Result<()> {
    let sheet = book.add_worksheet();
    sheet.set_name(SHEETS[3]).map_err(fail)?;
    let columns = [
        ("账户", Kind::Text),
        ("日期", Kind::Text),
        ("笔数", Kind::Count),
        ("手续费", Kind::Money),
        ("已入账(6603)", Kind::Money),
    ];
    let mut table = Table::new(sheet, 0, &columns, fail)?;
    let (mut lines, mut fees, mut booked) = (0i64, 0i64, 0i64);
    for (day, fee) in &outcome.fee_days {
        let day = day.format("%Y-%m-%d").to_string();
        let f = fee_fen(fee.fee_e5);
        let p = posted.get(&day).copied().unwrap_or(0);
        lines += fee.lines as i64;
        fees += f;
        booked += p;
        table.push(
            &[
                Cell::Text(account.into()),
                Cell::Text(day),
                Cell::Count(fee.lines as i64),
                Cell::Fen(f),
                Cell::Fen(p),
            ],
            None,
        )?;
    }
    let end = table.next_row().saturating_sub(1);
    table.totals("合计", &[(2, lines), (3, fees), (4, booked)])?;
    table.finish(end)
}
