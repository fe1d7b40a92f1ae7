//! `feedesk demo`: a realistic sample institution, so a new user sees every feature in a
//! minute. It grows with every capability. Today: HQ, two regions, five stores, a term with
//! classes, 2,000 members loaded through the real roster import from a generated workbook
//! (kept in `<data>/demo/`), including a few rows with the mistakes real rosters have; and the
//! money ([`billing`]): accounts, plans, bills, a month of payments, refunds and a void; and
//! collection by QR code through the built-in channel sandbox ([`channels`]); receipts with a
//! 红冲 and a sample of archived PDFs ([`receipts`]); a day's reconciliation against the WeChat
//! Pay bill with every kind of discrepancy ([`reconciliation`]); and overdue reminders with a
//! history and a follow-up list ([`reminders`]).

mod billing;
mod channels;
mod receipts;
mod reconciliation;
mod reminders;

pub use billing::DemoBilling;
pub use channels::{DemoChannels, SANDBOX_PORT};
pub use receipts::DemoReceipts;
pub use reconciliation::DemoReconciliation;
pub use reminders::DemoReminders;

use std::path::PathBuf;

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;

use crate::org::{self, UnitKind};
use crate::progress::{CancelToken, ProgressFn};
use crate::roster::{self, ImportMode, ImportReport, ImportRequest};
use crate::{Error, FeeDesk, Result};

/// The demo term.
pub const TERM: &str = "2026秋季学期";

const REGIONS: [(&str, &str); 2] = [("EAST", "华东区"), ("WEST", "西南区")];
const STORES: [(&str, &str, &str); 5] = [
    ("EAST", "XH", "西湖校区"),
    ("EAST", "BJ", "滨江校区"),
    ("EAST", "GS", "拱墅校区"),
    ("WEST", "CD", "成都锦江校区"),
    ("WEST", "CQ", "重庆渝中校区"),
];
const CLASSES: [&str; 4] = ["钢琴启蒙班", "少儿美术A班", "少儿美术B班", "英语口语班"];
const MEMBERS: usize = 2_000;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "欧阳", "诸葛",
];
const GIVEN: &[&str] = &[
    "子涵", "梓轩", "一诺", "欣怡", "浩然", "雨桐", "宇轩", "诗涵", "俊熙", "可馨", "明哲", "思远",
    "若曦", "嘉怡", "天佑",
];

/// What the demo built.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoReport {
    pub institution: String,
    pub regions: usize,
    pub stores: usize,
    pub classes: usize,
    pub roster: String,
    pub import: ImportReport,
    pub billing: DemoBilling,
    pub channels: DemoChannels,
    pub receipts: receipts::DemoReceipts,
    pub reconciliation: DemoReconciliation,
    pub reminders: DemoReminders,
}

/// Builds the demo institution in an empty data folder.
pub async fn build(
    desk: &FeeDesk,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<DemoReport> {
    if org::tree(desk).await?.is_some() {
        return Err(Error::Conflict(
            "this data folder already holds an institution; run the demo in an empty folder (--data-dir)".into(),
        ));
    }
    let hq = org::init(desk, "星火教育集团").await?;
    for (code, name) in REGIONS {
        org::add_unit(desk, "HQ", UnitKind::Region, code, name).await?;
    }
    for (region, code, name) in STORES {
        org::add_unit(desk, region, UnitKind::Store, code, name).await?;
    }
    let date = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| Error::Internal("bad demo date".into()))
    };
    org::add_term(desk, TERM, date(2026, 9, 1)?, date(2027, 1, 20)?).await?;
    for (_, store, _) in STORES {
        for class in CLASSES {
            org::add_class(desk, store, TERM, class).await?;
        }
    }

    let dir = desk.data_dir().join("demo");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let roster = dir.join("2026秋季学期学员名单.xlsx");
    write_roster(&roster)?;
    let import = roster::import_roster(
        desk,
        &ImportRequest {
            file: roster.clone(),
            unit_code: "HQ".into(),
            term_name: Some(TERM.into()),
            sheet: None,
            overrides: vec![],
            create_classes: false,
            mode: ImportMode::Valid,
            dry_run: false,
            errors_out: Some(dir.join("2026秋季学期学员名单-错误行.xlsx")),
        },
        progress,
        cancel,
    )
    .await?;
    // A month of payments at once: their receipts are issued with them, and a sample of the
    // PDFs archived afterwards (receipts.rs), instead of typesetting thousands on the spot.
    let billing = billing::build(&desk.without_receipt_archiving()).await?;
    let channels = channels::build(desk).await?;
    let receipts = receipts::build(desk).await?;
    let reconciliation = reconciliation::build(desk, channels.skipped.as_deref()).await?;
    let reminders = reminders::build(desk).await?;
    Ok(DemoReport {
        institution: hq.name,
        regions: REGIONS.len(),
        stores: STORES.len(),
        classes: STORES.len() * CLASSES.len(),
        roster: roster.display().to_string(),
        import,
        billing,
        receipts,
        channels,
        reconciliation,
        reminders,
    })
}

/// A roster as a chain's HQ would receive it: a title row, every store, phones written in
/// several ways, and three rows with the usual mistakes (a short phone, a mistyped ID number,
/// a class that does not exist).
fn write_roster(path: &PathBuf) -> Result<()> {
    let fail =
        |e: rust_xlsxwriter::XlsxError| Error::Io(format!("cannot write {}: {e}", path.display()));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("学员名单").map_err(fail)?;
    sheet
        .merge_range(
            0,
            0,
            0,
            7,
            "星火教育集团 2026秋季学期学员名单",
            &Format::new().set_bold(),
        )
        .map_err(fail)?;
    let headers = [
        "学号",
        "学生姓名",
        "校区",
        "班级",
        "家长姓名",
        "家长手机号码",
        "身份证号码",
        "入学日期",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).map_err(fail)?;
    }
    for i in 0..MEMBERS {
        let row = (i + 2) as u32;
        let (_, store, store_name) = STORES[i % STORES.len()];
        let surname = SURNAMES[i % SURNAMES.len()];
        let name = format!("{surname}{}", GIVEN[(i / SURNAMES.len()) % GIVEN.len()]);
        let digits = format!("13{}{:08}", 5 + i % 5, 10_000_000 + i * 37);
        let phone = match i % 3 {
            0 => digits.clone(),
            1 => format!("{}-{}-{}", &digits[..3], &digits[3..7], &digits[7..]),
            _ => format!("+86 {digits}"),
        };
        let class = CLASSES[(i / STORES.len()) % CLASSES.len()];
        let cells = [
            format!("{store}{:04}", i / STORES.len() + 1),
            name.clone(),
            if i % 2 == 0 {
                store.to_string()
            } else {
                store_name.to_string()
            },
            class.to_string(),
            format!("{surname}{}", if i % 2 == 0 { "先生" } else { "女士" }),
            phone,
            String::new(),
            "2026-09-01".to_string(),
        ];
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(row, c as u16, v).map_err(fail)?;
            }
        }
    }
    let mistakes = [
        [
            "XH9001",
            "钱多多",
            "XH",
            "钢琴启蒙班",
            "钱先生",
            "1381234567",
            "",
            "2026-09-01",
        ],
        [
            "BJ9002",
            "孙悟空",
            "BJ",
            "少儿美术A班",
            "孙女士",
            "13812345678",
            "110105194912310021",
            "2026/9/1",
        ],
        [
            "CD9003",
            "唐小僧",
            "CD",
            "围棋班",
            "唐先生",
            "13912345678",
            "",
            "2026年9月1日",
        ],
    ];
    for (n, cells) in mistakes.iter().enumerate() {
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                sheet
                    .write_string((MEMBERS + 2 + n) as u32, c as u16, *v)
                    .map_err(fail)?;
            }
        }
    }
    book.save(path).map_err(fail)
}
