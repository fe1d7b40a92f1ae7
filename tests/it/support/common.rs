//! Shared test helpers: a FeeDesk on a real SQLite file in a temp folder, the built CLI, and
//! roster fixtures written as real workbooks.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use feedesk::FeeDesk;
use feedesk::clock::FixedClock;
use feedesk::org::{self, MemberFilter, UnitKind};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportReport, ImportRequest};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

pub const TERM: &str = "2026秋季学期";

/// An import request for `file` into EAST in the term; tests adjust what they need.
pub fn request(file: &std::path::Path, mode: ImportMode) -> ImportRequest {
    ImportRequest {
        file: file.to_path_buf(),
        unit_code: "EAST".into(),
        term_name: Some(TERM.into()),
        sheet: None,
        overrides: vec![],
        create_classes: false,
        mode,
        dry_run: false,
        errors_out: None,
    }
}

pub async fn import(desk: &FeeDesk, req: &ImportRequest) -> feedesk::Result<ImportReport> {
    roster::import_roster(desk, req, &ignore_progress, &CancelToken::new()).await
}

pub async fn members(desk: &FeeDesk) -> Vec<org::Member> {
    org::list_members(
        desk,
        &MemberFilter {
            show_pii: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

pub async fn audit_len(desk: &FeeDesk) -> usize {
    feedesk::audit::verify(desk.db().pool()).await.unwrap()
}

/// A temp data folder.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub async fn desk(&self) -> FeeDesk {
        let clock = Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 9, 2, 1, 0, 0).unwrap(),
        ));
        FeeDesk::open_with(&self.data_dir(), clock, "test:alice".into())
            .await
            .expect("open desk")
    }

    /// Runs the built `feedesk` binary against this data folder.
    pub fn cli(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_feedesk"))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .env_remove("FEEDESK_DATA_DIR")
            .output()
            .expect("run feedesk")
    }
}

/// HQ -> EAST (XH 西湖校区, BJ 滨江校区), WEST (CD 成都校区); the term; classes XH 一班/二班, BJ 一班.
pub async fn institution(desk: &FeeDesk) {
    org::init(desk, "星火教育").await.unwrap();
    org::add_unit(desk, "HQ", UnitKind::Region, "EAST", "华东区")
        .await
        .unwrap();
    org::add_unit(desk, "HQ", UnitKind::Region, "WEST", "西南区")
        .await
        .unwrap();
    org::add_unit(desk, "EAST", UnitKind::Store, "XH", "西湖校区")
        .await
        .unwrap();
    org::add_unit(desk, "EAST", UnitKind::Store, "BJ", "滨江校区")
        .await
        .unwrap();
    org::add_unit(desk, "WEST", UnitKind::Store, "CD", "成都校区")
        .await
        .unwrap();
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    org::add_term(
        desk,
        TERM,
        d(9, 1),
        chrono::NaiveDate::from_ymd_opt(2027, 1, 20).unwrap(),
    )
    .await
    .unwrap();
    org::add_class(desk, "XH", TERM, "一班").await.unwrap();
    org::add_class(desk, "XH", TERM, "二班").await.unwrap();
    org::add_class(desk, "BJ", TERM, "一班").await.unwrap();
}

/// A cell in a fixture.
#[derive(Debug, Clone)]
pub enum V {
    S(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

pub fn s(text: &str) -> V {
    V::S(text.to_string())
}

/// Writes an .xlsx: optional sheets before the roster, a merged title row, then `rows`.
pub fn write_xlsx(path: &Path, title: Option<&str>, rows: &[Vec<V>], sheets_before: &[&str]) {
    let mut book = Workbook::new();
    for name in sheets_before {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        sheet
            .write_string(0, 0, "请在下一个工作表填写学员名单")
            .unwrap();
    }
    let sheet = book.add_worksheet();
    sheet.set_name("学员名单").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut r = 0u32;
    if let Some(title) = title {
        let width = rows.first().map(Vec::len).unwrap_or(1).max(2) as u16;
        sheet
            .merge_range(0, 0, 0, width - 1, title, &Format::new().set_bold())
            .unwrap();
        r = 1;
    }
    for row in rows {
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                V::S(t) => {
                    sheet.write_string(r, c, t).unwrap();
                }
                V::N(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
                V::D(y, m, d) => {
                    sheet
                        .write_datetime_with_format(
                            r,
                            c,
                            ExcelDateTime::from_ymd(*y, *m, *d).unwrap(),
                            &date,
                        )
                        .unwrap();
                }
                V::E => {}
            }
        }
        r += 1;
    }
    book.save(path).unwrap();
}

pub fn header() -> Vec<V> {
    [
        "学号",
        "学生姓名",
        "校区",
        "班级",
        "家长姓名",
        "家长手机号码",
        "身份证号码",
        "入学日期",
    ]
    .iter()
    .map(|h| s(h))
    .collect()
}

/// A messy real-world roster for --unit EAST: a merged title, full-width characters, phones
/// written every way, dates as cells, serials and text, and one row for every problem class.
/// Sheet rows: title 1, header 2, data from 3; row 13 is blank.
pub fn messy_rows() -> Vec<Vec<V>> {
    use V::*;
    let row =
        |no: V, name: &str, store: &str, class: &str, guardian: &str, phone: V, id: V, date: V| {
            vec![
                no,
                s(name),
                s(store),
                s(class),
                s(guardian),
                phone,
                id,
                date,
            ]
        };
    vec![
        header(),
        row(
            s("S001"),
            "张 三",
            "XH",
            "一班",
            "张父",
            s("+86 138-0013-8000"),
            s("11010519491231002X"),
            D(2026, 9, 1),
        ), // 3
        row(
            s("S002"),
            "李四",
            "西湖校区",
            "一班",
            "李母",
            N(13900139000.0),
            E,
            s("2026/9/1"),
        ), // 4
        row(
            s("Ｓ００３"),
            "王五",
            "xh",
            "二班",
            "",
            s("139 0013 9001"),
            E,
            s("2026年9月1日"),
        ), // 5
        row(s("S004"), "赵六", "XH", "一班", "", s("12345"), E, E), // 6 phone_invalid
        row(
            s("S005"),
            "孙七",
            "XH",
            "一班",
            "",
            N(13700137000.0),
            N(110105194912310000.0),
            E,
        ), // 7 id lost digits
        row(
            s("S006"),
            "周八",
            "XH",
            "一班",
            "",
            s("13700137001"),
            s("110105194912310021"),
            E,
        ), // 8 id checksum
        row(
            s("S007"),
            "吴九",
            "钱塘校区",
            "一班",
            "",
            s("13700137002"),
            E,
            E,
        ), // 9 unknown store
        row(s("S008"), "郑十", "XH", "三班", "", s("13700137003"), E, E), // 10 unknown class
        row(s("S001"), "重复", "XH", "一班", "", s("13800138009"), E, E), // 11 duplicate
        row(E, "无号", "XH", "一班", "", s("13800138010"), E, E),   // 12 required member_no
        vec![E, E, E, E, E, E, E, E],                               // 13 blank
        row(
            s("S009"),
            "=HYPERLINK(\"http://x\")",
            "BJ",
            "一班",
            "",
            s("13800138011"),
            E,
            N(46266.0),
        ), // 14 valid, inert
        row(
            s("S010"),
            "=1+2",
            "XH",
            "一班",
            "",
            s("13800138012"),
            E,
            s("明天"),
        ), // 15 date_invalid
        row(
            s("S011"),
            "Li  Wei",
            "CD",
            "一班",
            "",
            s("13800138013"),
            E,
            E,
        ), // 16 store outside EAST
    ]
}

/// The problems `messy_rows` must produce: (sheet row, code).
pub fn messy_expected_errors() -> Vec<(u32, &'static str)> {
    vec![
        (6, "phone_invalid"),
        (7, "id_number_lost_digits"),
        (8, "id_number_invalid"),
        (9, "unknown_store"),
        (10, "unknown_class"),
        (11, "duplicate_in_file"),
        (12, "required"),
        (15, "date_invalid"),
        (16, "store_outside_unit"),
    ]
}

/// `messy_rows` with every problem fixed, as staff would after reading the error workbook.
pub fn fixed_rows() -> Vec<Vec<V>> {
    let mut rows = messy_rows();
    let fix =
        |rows: &mut Vec<Vec<V>>, sheet_row: usize, col: usize, v: V| rows[sheet_row - 2][col] = v;
    fix(&mut rows, 6, 5, s("13600136000"));
    fix(&mut rows, 7, 6, s("440524188001010014"));
    fix(&mut rows, 8, 6, V::E);
    fix(&mut rows, 9, 2, s("BJ"));
    fix(&mut rows, 10, 3, s("二班"));
    fix(&mut rows, 11, 0, s("S012"));
    fix(&mut rows, 12, 0, s("S013"));
    fix(&mut rows, 15, 7, s("2026-09-03"));
    fix(&mut rows, 16, 2, s("BJ"));
    rows
}

/// A CLI run that succeeded: its stdout (the stderr is shown when it did not).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A CLI run that succeeded and printed JSON.
pub fn json(out: &Output) -> serde_json::Value {
    let text = ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A refusal: a non-zero exit, exactly one line on stderr (returned), nothing on stdout.
pub fn refused(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a refusal, got success: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {stderr:?}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    lines[0].to_string()
}
