//! The monthly report workbook: a consolidated sheet for the chosen unit's subtree, then one
//! sheet per region and store beneath it (tree order). Each sheet: the figures per unit below
//! it (frozen header, filter, totals as formulas), aging, and the month by fee item, class, term
//! and channel; store sheets add the largest overdue bills with personal data masked; charts
//! (collection trend by day, aging, collection rate by store) drawn by plotters beside them.
//! Definitions are in [`super::facts`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, FormatAlign, Formula, Image, Workbook, Worksheet};
use serde::Serialize;

use super::charts;
use super::facts::{Facts, Figures, Row4, aging_labels, gather, mask_name};
use super::sheet::{Cell, Kind, Table, xlsx_error};
use crate::clock::local_date;
use crate::money::Money;
use crate::org::{Unit, UnitKind, list_units, mask_phone, subtree};
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// What the export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonthlyReport {
    pub file: String,
    pub month: String,
    pub unit: String,
    pub sheets: Vec<String>,
    pub charts: u32,
    pub bills: u64,
    pub billed: Money,
    pub collected: Money,
    pub refunded: Money,
    pub outstanding: Money,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub collection_rate: rust_decimal::Decimal,
    pub channel_fees: Money,
}

/// `2026-11` -> (first day, last day).
pub fn parse_month(text: &str) -> Result<(NaiveDate, NaiveDate)> {
    let bad = || Error::Validation(format!("'{text}' is not a month; write it like 2026-11"));
    let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
    let first = NaiveDate::from_ymd_opt(
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        1,
    )
    .ok_or_else(bad)?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .ok_or_else(bad)?;
    Ok((first, next - chrono::Duration::days(1)))
}

fn channel_label(channel: &str) -> &str {
    match channel {
        "wechat" => "微信支付",
        "alipay" => "支付宝",
        "unionpay" => "银联",
        "offline-cash" => "现金",
        "offline-bank" => "银行转账",
        other => other,
    }
}

/// A sheet name Excel accepts: no `[]:*?/\`, at most 31 characters.
fn sheet_name(unit: &Unit) -> String {
    let raw = format!("{} {}", unit.name, unit.code);
    let clean: String = raw.chars().filter(|c| !"[]:*?/\\'".contains(*c)).collect();
    clean.chars().take(31).collect()
}

/// Writes the monthly report of `unit_code`'s subtree for `month` (`YYYY-MM`) to `out`.
pub async fn export_monthly_report(
    desk: &FeeDesk,
    month: &str,
    unit_code: &str,
    out: &Path,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<MonthlyReport> {
    export(desk, month, unit_code, out, progress, cancel, None).await
}

/// [`export_monthly_report`] with the chains' anchor (audit log and receipts, signed with the
/// key in the OS keyring: `anchor`) on a sheet right after the summary, so that the
/// month's report on paper or in a mailbox can later prove the books were not cut short or
/// re-chained (`feedesk audit verify --anchor`). Without a keyring the report is written
/// without it.
pub async fn export_monthly_report_anchored(
    desk: &FeeDesk,
    secrets: &crate::secrets::SecretStore,
    month: &str,
    unit_code: &str,
    out: &Path,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<MonthlyReport> {
    let anchor = crate::anchor::make(desk, secrets).await.ok();
    export(
        desk,
        month,
        unit_code,
        out,
        progress,
        cancel,
        anchor.as_ref(),
    )
    .await
}

/// The anchor as a sheet: each field on its row, and the anchor file's JSON to copy out.
fn anchor_sheet(
    book: &mut Workbook,
    anchor: &crate::anchor::Anchor,
    fail: &impl Fn(rust_xlsxwriter::XlsxError) -> Error,
) -> Result<()> {
    let ws = book.add_worksheet();
    ws.set_name(ANCHOR_SHEET).map_err(fail)?;
    let json = serde_json::to_string(anchor).map_err(|e| Error::Internal(e.to_string()))?;
    let rows = [
        ("校验锚点 (chain anchor)", String::new()),
        ("生成时间 made at", anchor.made_at.clone()),
        (
            "审计日志条数 audit entries",
            anchor.audit.entries.to_string(),
        ),
        ("审计日志链头 audit head", anchor.audit.head.clone()),
        ("电子收据张数 receipts", anchor.receipts.entries.to_string()),
        ("电子收据链头 receipt head", anchor.receipts.head.clone()),
        ("签名 signature", anchor.signature.clone()),
        ("锚点文件 anchor file (feedesk audit verify --anchor)", json),
    ];
    for (r, (label, value)) in rows.iter().enumerate() {
        ws.write_string(r as u32, 0, *label).map_err(fail)?;
        ws.write_string(r as u32, 1, value).map_err(fail)?;
    }
    ws.set_column_width(0, 44).map_err(fail)?;
    ws.set_column_width(1, 70).map_err(fail)?;
    Ok(())
}

/// The name of the anchor sheet.
pub const ANCHOR_SHEET: &str = "校验锚点";

async fn export(
    desk: &FeeDesk,
    month: &str,
    unit_code: &str,
    out: &Path,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
    anchor: Option<&crate::anchor::Anchor>,
) -> Result<MonthlyReport> {
    let (first, last) = parse_month(month)?;
    let today = local_date(desk.clock().now());
    let as_of = last.min(today);
    let all = list_units(desk).await?;
    let code = normalize(unit_code).to_ascii_uppercase();
    let root = all.iter().find(|u| u.code == code).ok_or_else(|| {
        Error::NotFound(format!(
            "no unit with code '{code}'; `feedesk org list` shows the codes"
        ))
    })?;
    let ids = subtree(&all, root.id);
    let facts = gather(desk, &ids, first, last, as_of).await?;
    cancel.check()?;
    let by_id: HashMap<i64, &Unit> = all.iter().map(|u| (u.id, u)).collect();
    let mut order = vec![];
    tree_order(&all, root.id, &mut order);
    let sheets: Vec<&Unit> = order
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .filter(|u| u.kind != UnitKind::Hq)
        .collect();
    let fail = xlsx_error(out);
    let mut book = Workbook::new();
    let ctx = Ctx {
        all: &all,
        facts: &facts,
        first,
        last,
        as_of,
        month,
    };
    let mut names = vec!["合并汇总".to_string()];
    let total = sheets.len() as u64 + 1;
    let mut charts_drawn = write_sheet(&mut book, &ctx, root, "合并汇总", true, &fail)?;
    if let Some(anchor) = anchor {
        anchor_sheet(&mut book, anchor, &fail)?;
        names.push(ANCHOR_SHEET.to_string());
    }
    progress(Progress {
        phase: "sheets",
        done: 1,
        total: Some(total),
    });
    for (i, unit) in sheets.iter().enumerate() {
        cancel.check()?;
        let name = sheet_name(unit);
        charts_drawn += write_sheet(&mut book, &ctx, unit, &name, false, &fail)?;
        names.push(name);
        progress(Progress {
            phase: "sheets",
            done: i as u64 + 2,
            total: Some(total),
        });
    }
    let tmp = out.with_extension("xlsx.part");
    book.save(&tmp).map_err(&fail)?;
    std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))?;
    let sum = ctx.sum(&subtree(&all, root.id));
    Ok(MonthlyReport {
        file: out.display().to_string(),
        month: first.format("%Y-%m").to_string(),
        unit: root.code.clone(),
        sheets: names,
        charts: charts_drawn,
        bills: sum.bills as u64,
        billed: Money::from_fen(sum.billed)?,
        collected: Money::from_fen(sum.collected)?,
        refunded: Money::from_fen(sum.refunded)?,
        outstanding: Money::from_fen(sum.outstanding)?,
        collection_rate: sum.rate(),
        channel_fees: Money::from_fen(sum.fees)?,
    })
}

fn tree_order(all: &[Unit], id: i64, out: &mut Vec<i64>) {
    out.push(id);
    let mut children: Vec<&Unit> = all.iter().filter(|u| u.parent_id == Some(id)).collect();
    children.sort_by(|a, b| a.code.cmp(&b.code));
    for c in children {
        tree_order(all, c.id, out);
    }
}

struct Ctx<'a> {
    all: &'a [Unit],
    facts: &'a Facts,
    first: NaiveDate,
    last: NaiveDate,
    as_of: NaiveDate,
    month: &'a str,
}

impl Ctx<'_> {
    fn sum(&self, ids: &[i64]) -> Figures {
        let mut f = Figures::default();
        for id in ids {
            if let Some(x) = self.facts.figures.get(id) {
                f.add(x);
            }
        }
        f
    }

    fn breakdown(&self, map: &HashMap<(i64, String), Row4>, ids: &[i64]) -> BTreeMap<String, Row4> {
        let mut out: BTreeMap<String, Row4> = BTreeMap::new();
        for id in ids {
            for ((unit, key), row) in map.iter().filter(|((u, _), _)| u == id) {
                let _ = unit;
                let slot = out.entry(key.clone()).or_default();
                for i in 0..4 {
                    slot[i] += row[i];
                }
            }
        }
        out
    }

    fn trend(&self, ids: &[i64]) -> Vec<(String, i64)> {
        let mut day = self.first;
        let mut out = vec![];
        while day <= self.last {
            let text = day.format("%Y-%m-%d").to_string();
            let fen = ids
                .iter()
                .filter_map(|id| self.facts.trend.get(&(*id, text.clone())))
                .sum();
            out.push((text, fen));
            day += chrono::Duration::days(1);
        }
        out
    }
}

type Fail<'a> = dyn Fn(rust_xlsxwriter::XlsxError) -> Error + 'a;

/// Merges block widths into the sheet's widths.
fn merge(widths: &mut Vec<usize>, block: Vec<usize>) {
    for (i, w) in block.into_iter().enumerate() {
        if widths.len() <= i {
            widths.push(w);
        } else {
            widths[i] = widths[i].max(w);
        }
    }
}

fn title(sheet: &mut Worksheet, text: &str, note: &str, fail: &Fail<'_>) -> Result<()> {
    let big = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Left);
    let small = Format::new().set_italic().set_font_color("#666666");
    sheet.merge_range(0, 0, 0, 7, text, &big).map_err(fail)?;
    sheet.merge_range(1, 0, 1, 7, note, &small).map_err(fail)?;
    sheet.set_row_height(0, 24).map_err(fail)?;
    Ok(())
}

fn block_title(sheet: &mut Worksheet, row: u32, text: &str, fail: &Fail<'_>) -> Result<()> {
    let f = Format::new()
        .set_bold()
        .set_font_size(12)
        .set_font_color("#1F7A6E");
    sheet
        .write_string_with_format(row, 0, text, &f)
        .map_err(fail)?;
    Ok(())
}

/// Writes one sheet for `unit`'s subtree; returns the number of charts embedded.
fn write_sheet(
    book: &mut Workbook,
    ctx: &Ctx<'_>,
    unit: &Unit,
    name: &str,
    consolidated: bool,
    fail: &Fail<'_>,
) -> Result<u32> {
    let ids = subtree(ctx.all, unit.id);
    let sheet = book.add_worksheet();
    sheet.set_name(name).map_err(fail)?;
    // Printed as one page wide, landscape, charts included.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    title(
        sheet,
        &format!(
            "{} {}（{}） {} 月度报表",
            if consolidated { "合并" } else { "" },
            unit.name,
            unit.code,
            ctx.month
        ),
        &format!(
            "期间 {} 至 {}；应收余额与账龄截至 {}；收缴率 = 本月账单已收 / 本月开单；个人信息已脱敏",
            ctx.first, ctx.last, ctx.as_of
        ),
        fail,
    )?;
    let mut widths: Vec<usize> = vec![];
    // Block 1: per unit below (or the unit itself), frozen and filtered.
    let rows: Vec<&Unit> = if unit.kind == UnitKind::Store {
        vec![unit]
    } else {
        let mut stores: Vec<&Unit> = ctx
            .all
            .iter()
            .filter(|u| ids.contains(&u.id) && u.id != unit.id && u.kind == UnitKind::Store)
            .collect();
        stores.sort_by(|a, b| a.code.cmp(&b.code));
        stores
    };
    let columns = [
        ("单位", Kind::Text),
        ("开单笔数", Kind::Count),
        ("本月开单", Kind::Money),
        ("本月账单已收", Kind::Money),
        ("本月收款", Kind::Money),
        ("本月退款", Kind::Money),
        ("应收余额", Kind::Money),
        ("收缴率", Kind::Rate),
        ("渠道手续费", Kind::Money),
    ];
    let top = 3;
    let mut table = Table::new(sheet, top, &columns, fail)?;
    let mut rates = vec![];
    for u in &rows {
        let f = ctx.sum(&subtree(ctx.all, u.id));
        rates.push((u.name.clone(), f.rate()));
        table.push(
            &[
                Cell::Text(format!("{} {}", u.code, u.name)),
                Cell::Count(f.bills),
                Cell::Fen(f.billed),
                Cell::Fen(f.billed_paid),
                Cell::Fen(f.collected),
                Cell::Fen(f.refunded),
                Cell::Fen(f.outstanding),
                Cell::Rate(f.rate()),
                Cell::Fen(f.fees),
            ],
            None,
        )?;
    }
    let total = ctx.sum(&ids);
    let end = table.next_row().saturating_sub(1);
    let totals_row = table.totals(
        "合计",
        &[
            (1, total.bills),
            (2, total.billed),
            (3, total.billed_paid),
            (4, total.collected),
            (5, total.refunded),
            (6, total.outstanding),
            (8, total.fees),
        ],
    )?;
    merge(&mut widths, table.widths());
    table.finish(end)?;
    // The total rate as a formula over the totals, with its value.
    let r = totals_row + 1;
    let rate_format = Format::new().set_num_format("0.00%").set_bold();
    sheet
        .write_formula_with_format(
            totals_row,
            7,
            Formula::new(format!("=IF(C{r}=0,0,D{r}/C{r})")).set_result(total.rate().to_string()),
            &rate_format,
        )
        .map_err(fail)?;

    let mut row = totals_row + 2;
    // Aging.
    block_title(sheet, row, &format!("账龄（截至 {}）", ctx.as_of), fail)?;
    let mut t = Table::new(
        sheet,
        row + 1,
        &[("账龄", Kind::Text), ("应收余额", Kind::Money)],
        fail,
    )?;
    let labels = aging_labels();
    for (i, label) in labels.iter().enumerate() {
        t.push(
            &[Cell::Text((*label).into()), Cell::Fen(total.aging[i])],
            None,
        )?;
    }
    row = t.totals("合计", &[(1, total.aging.iter().sum())])? + 2;
    merge(&mut widths, t.widths());

    for (heading, first_col, map) in [
        ("按收费项目", "收费项目", &ctx.facts.by_fee),
        ("按班级", "班级", &ctx.facts.by_class),
        ("按学期", "学期", &ctx.facts.by_term),
    ] {
        block_title(sheet, row, heading, fail)?;
        let mut t = Table::new(
            sheet,
            row + 1,
            &[
                (first_col, Kind::Text),
                ("本月开单", Kind::Money),
                ("本月收款", Kind::Money),
                ("本月退款", Kind::Money),
                ("应收余额", Kind::Money),
            ],
            fail,
        )?;
        let rows = ctx.breakdown(map, &ids);
        let mut sums = [0i64; 4];
        for (key, v) in &rows {
            t.push(
                &[
                    Cell::Text(key.clone()),
                    Cell::Fen(v[0]),
                    Cell::Fen(v[1]),
                    Cell::Fen(v[2]),
                    Cell::Fen(v[3]),
                ],
                None,
            )?;
            for i in 0..4 {
                sums[i] += v[i];
            }
        }
        row = t.totals(
            "合计",
            &[(1, sums[0]), (2, sums[1]), (3, sums[2]), (4, sums[3])],
        )? + 2;
        merge(&mut widths, t.widths());
    }

    block_title(sheet, row, "按收款渠道", fail)?;
    let mut t = Table::new(
        sheet,
        row + 1,
        &[
            ("渠道", Kind::Text),
            ("收款笔数", Kind::Count),
            ("本月收款", Kind::Money),
            ("本月退款", Kind::Money),
            ("渠道手续费", Kind::Money),
        ],
        fail,
    )?;
    let mut sums = [0i64; 4];
    for (key, v) in ctx.breakdown(&ctx.facts.by_channel, &ids) {
        t.push(
            &[
                Cell::Text(channel_label(&key).into()),
                Cell::Count(v[3]),
                Cell::Fen(v[0]),
                Cell::Fen(v[1]),
                Cell::Fen(v[2]),
            ],
            None,
        )?;
        for i in 0..4 {
            sums[i] += v[i];
        }
    }
    row = t.totals(
        "合计",
        &[(1, sums[3]), (2, sums[0]), (3, sums[1]), (4, sums[2])],
    )? + 2;
    merge(&mut widths, t.widths());

    if unit.kind == UnitKind::Store {
        block_title(
            sheet,
            row,
            "逾期欠费（金额最大的 20 笔，个人信息已脱敏）",
            fail,
        )?;
        let mut t = Table::new(
            sheet,
            row + 1,
            &[
                ("学号", Kind::Text),
                ("姓名", Kind::Text),
                ("家长手机", Kind::Text),
                ("收费项目", Kind::Text),
                ("应缴日期", Kind::Text),
                ("逾期天数", Kind::Count),
                ("欠费", Kind::Money),
            ],
            fail,
        )?;
        let mut owed = 0;
        for o in ctx.facts.overdue.get(&unit.id).into_iter().flatten() {
            owed += o.owed;
            t.push(
                &[
                    Cell::Text(o.member_no.clone()),
                    Cell::Text(mask_name(&o.name)),
                    o.phone
                        .as_deref()
                        .map_or(Cell::Empty, |p| Cell::Text(mask_phone(p))),
                    Cell::Text(o.fee.clone()),
                    Cell::Text(o.due_on.clone()),
                    Cell::Count(o.days_late),
                    Cell::Fen(o.owed),
                ],
                None,
            )?;
        }
        t.totals("合计", &[(6, owed)])?;
        merge(&mut widths, t.widths());
    }
    for (c, w) in widths.iter().enumerate() {
        sheet
            .set_column_width(c as u16, (*w as f64 + 1.0).min(40.0))
            .map_err(fail)?;
    }

    // Charts, to the right of the tables.
    let chart_col = (widths.len() as u16).max(9) + 1;
    let mut drawn = 0;
    let trend = ctx.trend(&ids);
    let png = charts::png(720, 300, |a| {
        charts::draw_trend(a, &format!("{} 每日收款", unit.name), &trend)
    })?;
    insert(sheet, 3, chart_col, &png, fail)?;
    drawn += 1;
    let aging: Vec<(String, i64)> = labels
        .iter()
        .zip(total.aging)
        .map(|(l, f)| ((*l).to_string(), f))
        .collect();
    let png = charts::png(720, 300, |a| {
        charts::draw_aging(a, &format!("{} 应收账龄", unit.name), &aging)
    })?;
    insert(sheet, 19, chart_col, &png, fail)?;
    drawn += 1;
    if unit.kind != UnitKind::Store && !rates.is_empty() {
        let png = charts::png(720, 300, |a| {
            charts::draw_rates(a, &format!("{} 各校区收缴率", unit.name), &rates)
        })?;
        insert(sheet, 35, chart_col, &png, fail)?;
        drawn += 1;
    }
    Ok(drawn)
}

fn insert(sheet: &mut Worksheet, row: u32, col: u16, png: &[u8], fail: &Fail<'_>) -> Result<()> {
    let image = Image::new_from_buffer(png).map_err(fail)?;
    sheet.insert_image(row, col, &image).map_err(fail)?;
    Ok(())
}
