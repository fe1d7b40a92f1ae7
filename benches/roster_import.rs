//! Roster import benchmark: end-to-end import (parse, validate, commit to SQLite) against
//! calamine's bare parse of the same file, timed in the same run, each phase in its own child
//! process so that its peak memory (VmHWM) is its own.
//!
//! `cargo bench --bench roster_import` runs 100k and 1M rows; `FEEDESK_BENCH_ROWS=100000`
//! picks sizes. 100k-row rosters carry 7 columns (学号, 学生姓名, 班级, 家长姓名, 家长手机号码,
//! 身份证号码, 入学日期); 1M-row rosters carry 4 (学号, 姓名, 班级, 家长手机号码), because a
//! sheet over 5 million cells is refused by design.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use calamine::{Data, Reader, Xlsx, open_workbook};
use feedesk::FeeDesk;
use feedesk::clock::SystemClock;
use feedesk::org::{self, UnitKind};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const TERM: &str = "2026秋季学期";
const CLASSES: usize = 40;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("child") => child(&args[1], Path::new(&args[2]), args.get(3).map(Path::new)),
        // `generate FILE ROWS`: write a roster to try by hand.
        Some("generate") => {
            let rows: usize = args[2].parse().expect("ROWS");
            generate(Path::new(&args[1]), rows, rows <= 200_000);
        }
        _ => parent(),
    }
}

fn parent() {
    let sizes: Vec<usize> = std::env::var("FEEDESK_BENCH_ROWS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "| rows | columns | file MB | bare parse s | bare parse peak MB | import s | import peak MB | import / parse |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for rows in sizes {
        let wide = rows <= 200_000;
        let file = dir.path().join(format!("roster-{rows}.xlsx"));
        generate(&file, rows, wide);
        let mb = file.metadata().map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
        let runs = if rows <= 200_000 { 3 } else { 1 };
        let parse = median((0..runs).map(|_| run_child("parse", &file, None)).collect());
        let import = median(
            (0..runs)
                .map(|i| {
                    run_child(
                        "import",
                        &file,
                        Some(&dir.path().join(format!("data-{rows}-{i}"))),
                    )
                })
                .collect(),
        );
        println!(
            "| {rows} | {} | {mb:.1} | {:.2} | {:.0} | {:.2} | {:.0} | {:.2}x |",
            if wide { 7 } else { 4 },
            parse.0,
            parse.1,
            import.0,
            import.1,
            import.0 / parse.0
        );
    }
}

/// Median by time, with the largest peak memory seen.
fn median(mut runs: Vec<(f64, f64)>) -> (f64, f64) {
    let peak = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    (runs[runs.len() / 2].0, peak)
}

fn run_child(phase: &str, file: &Path, data: Option<&Path>) -> (f64, f64) {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.arg("child").arg(phase).arg(file);
    if let Some(d) = data {
        cmd.arg(d);
    }
    let out = cmd.output().expect("child ran");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{phase} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().expect("number"));
    (it.next().expect("secs"), it.next().expect("peak"))
}

fn child(phase: &str, file: &Path, data: Option<&Path>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let desk = data.map(|d| runtime.block_on(setup(d)));
    let start = Instant::now();
    match phase {
        "parse" => {
            let mut book: Xlsx<_> = open_workbook(file).expect("open");
            let sheet = book.sheet_names()[0].clone();
            let range = book.worksheet_range(&sheet).expect("range");
            let cells = range
                .used_cells()
                .filter(|(_, _, c)| **c != Data::Empty)
                .count();
            assert!(cells > 0);
        }
        "import" => {
            let desk = desk.expect("data dir");
            let req = ImportRequest {
                file: file.to_path_buf(),
                unit_code: "S1".into(),
                term_name: Some(TERM.into()),
                sheet: None,
                overrides: vec![],
                create_classes: false,
                mode: ImportMode::All,
                dry_run: false,
                errors_out: None,
            };
            let report = runtime
                .block_on(roster::import_roster(
                    &desk,
                    &req,
                    &ignore_progress,
                    &CancelToken::new(),
                ))
                .expect("import");
            assert!(
                report.committed && report.errors.is_empty(),
                "{:?}",
                &report.errors[..report.errors.len().min(3)]
            );
            assert!(report.imported > 0);
        }
        other => panic!("unknown phase {other}"),
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{secs} {}", peak_mb());
}

async fn setup(data: &Path) -> FeeDesk {
    let desk = FeeDesk::open_with(data, Arc::new(SystemClock), "bench".into())
        .await
        .expect("open");
    org::init(&desk, "基准教育").await.expect("init");
    org::add_unit(&desk, "HQ", UnitKind::Store, "S1", "基准校区")
        .await
        .expect("store");
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).expect("date");
    org::add_term(&desk, TERM, d(2026, 9, 1), d(2027, 1, 20))
        .await
        .expect("term");
    for c in 0..CLASSES {
        org::add_class(&desk, "S1", TERM, &class_name(c))
            .await
            .expect("class");
    }
    desk
}

/// Peak resident memory of this process, in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn class_name(i: usize) -> String {
    format!("{}年级{}班", i / 8 + 1, i % 8 + 1)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
    "超", "秀英", "子涵", "梓轩", "一诺", "欣怡",
];

/// A realistic roster: unique member numbers, Chinese names, valid phones and ID numbers.
fn generate(path: &Path, rows: usize, wide: bool) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().expect("sheet");
    let headers: &[&str] = if wide {
        &[
            "学号",
            "学生姓名",
            "班级",
            "家长姓名",
            "家长手机号码",
            "身份证号码",
            "入学日期",
        ]
    } else {
        &["学号", "姓名", "班级", "家长手机号码"]
    };
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let enrol = ExcelDateTime::from_ymd(2026, 9, 1).expect("date");
    for i in 0..rows {
        let r = (i + 1) as u32;
        let name = format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
        );
        let phone = format!("13{}{:08}", 5 + i % 5, i);
        let class = class_name(i % CLASSES);
        sheet
            .write_string(r, 0, format!("M{:07}", i + 1))
            .expect("cell");
        sheet.write_string(r, 1, &name).expect("cell");
        sheet.write_string(r, 2, &class).expect("cell");
        if wide {
            sheet
                .write_string(r, 3, format!("{}家长", &name))
                .expect("cell");
            sheet.write_string(r, 4, &phone).expect("cell");
            sheet.write_string(r, 5, id_number(i)).expect("cell");
            sheet
                .write_datetime_with_format(r, 6, &enrol, &date)
                .expect("cell");
        } else {
            sheet.write_string(r, 3, &phone).expect("cell");
        }
    }
    book.save(path).expect("save");
}

fn id_number(i: usize) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(2010, 1, 1).expect("date")
        + chrono::Duration::days(((i / 1000) % 3000) as i64);
    let body = format!("330106{}{:03}", birth.format("%Y%m%d"), i % 1000);
    let mut first17 = [0u8; 17];
    first17.copy_from_slice(body.as_bytes());
    format!("{body}{}", feedesk::roster::id_number::check_char(&first17))
}

/// The same allocator as the `feedesk` binary, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
