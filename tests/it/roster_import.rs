//! Roster import on a real SQLite file: every normalisation, every error class, both commit
//! modes, dry runs, idempotent re-import, undo, and the error workbook read back.

use crate::support::common;

use calamine::{Data, Reader, Xlsx, open_workbook};
use common::*;
use feedesk::ErrorCode;
use feedesk::org;
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest, MapOverride};

#[tokio::test(flavor = "multi_thread")]
async fn all_mode_rejects_the_whole_file_and_names_every_problem() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = env.path("messy.xlsx");
    write_xlsx(
        &file,
        Some("2026秋季学期 华东区学员名单"),
        &messy_rows(),
        &["说明"],
    );
    let before = audit_len(&desk).await;

    let report = import(&desk, &request(&file, ImportMode::All))
        .await
        .unwrap();

    assert_eq!(
        report.sheet, "学员名单",
        "the instructions sheet is skipped"
    );
    assert_eq!(
        report.header_row, 2,
        "header found under the merged title row"
    );
    assert!(!report.committed);
    assert_eq!(report.batch_id, None);
    let got: Vec<(u32, &str)> = report.errors.iter().map(|e| (e.row, e.code)).collect();
    assert_eq!(got, messy_expected_errors());
    assert_eq!(report.rejected, 9);
    assert_eq!(report.rows_read, 14, "rows 3..=16");
    assert_eq!(report.blank, 1);
    assert_eq!(report.imported, 4, "what would have been imported");
    let phone = report
        .errors
        .iter()
        .find(|e| e.code == "phone_invalid")
        .unwrap();
    assert_eq!(phone.column, "家长手机号码");
    assert!(phone.message.contains("12345"));
    let dup = report
        .errors
        .iter()
        .find(|e| e.code == "duplicate_in_file")
        .unwrap();
    assert!(dup.message.contains("row 3"), "{}", dup.message);
    assert!(members(&desk).await.is_empty(), "nothing written");
    assert_eq!(audit_len(&desk).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_mode_imports_normalised_rows_and_reimport_changes_nothing() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = env.path("messy.xlsx");
    write_xlsx(&file, Some("名单"), &messy_rows(), &[]);

    let dry = import(
        &desk,
        &ImportRequest {
            dry_run: true,
            ..request(&file, ImportMode::Valid)
        },
    )
    .await
    .unwrap();
    assert!(!dry.committed && dry.dry_run);
    assert_eq!(dry.imported, 4);
    assert!(members(&desk).await.is_empty(), "a dry run writes nothing");

    let report = import(&desk, &request(&file, ImportMode::Valid))
        .await
        .unwrap();
    assert!(report.committed);
    assert!(report.batch_id.is_some());
    assert_eq!(
        (
            report.imported,
            report.updated,
            report.unchanged,
            report.rejected
        ),
        (4, 0, 0, 9)
    );

    let all = members(&desk).await;
    let by_no = |no: &str| {
        all.iter()
            .find(|m| m.member_no == no)
            .unwrap_or_else(|| panic!("{no} missing"))
    };
    let s001 = by_no("S001");
    assert_eq!(s001.name, "张三", "space inside a Chinese name removed");
    assert_eq!(
        s001.guardian_phone.as_deref(),
        Some("13800138000"),
        "+86 and dashes removed"
    );
    assert_eq!(s001.id_number.as_deref(), Some("11010519491231002X"));
    assert_eq!(s001.enrolled_on.as_deref(), Some("2026-09-01"), "date cell");
    assert_eq!(s001.unit, "XH");
    assert_eq!(s001.classes, vec!["一班"]);
    let s002 = by_no("S002");
    assert_eq!(
        s002.guardian_phone.as_deref(),
        Some("13900139000"),
        "phone stored as a number"
    );
    assert_eq!(s002.unit, "XH", "store given by name");
    assert_eq!(s002.enrolled_on.as_deref(), Some("2026-09-01"), "2026/9/1");
    let s003 = by_no("S003");
    assert_eq!(
        s003.unit, "XH",
        "full-width member number folded, store code case-insensitive"
    );
    assert_eq!(
        s003.enrolled_on.as_deref(),
        Some("2026-09-01"),
        "2026年9月1日"
    );
    assert_eq!(s003.classes, vec!["二班"]);
    let s009 = by_no("S009");
    assert_eq!(
        s009.name, "=HYPERLINK(\"http://x\")",
        "formula-like text kept as inert text"
    );
    assert_eq!(
        s009.enrolled_on.as_deref(),
        Some("2026-09-01"),
        "serial number 46266"
    );
    assert_eq!(s009.unit, "BJ");
    assert_eq!(all.len(), 4);

    // The same file again: nothing changes, no batch, no audit entry.
    let audit_before = audit_len(&desk).await;
    let again = import(&desk, &request(&file, ImportMode::Valid))
        .await
        .unwrap();
    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 4));
    assert_eq!(again.batch_id, None);
    assert_eq!(members(&desk).await, all);
    assert_eq!(audit_len(&desk).await, audit_before);

    // The fixed file: the rest arrive, everyone exactly once.
    let fixed = env.path("fixed.xlsx");
    write_xlsx(&fixed, Some("名单"), &fixed_rows(), &[]);
    let report = import(&desk, &request(&fixed, ImportMode::All))
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.committed);
    assert_eq!((report.imported, report.unchanged), (9, 4));
    let all = members(&desk).await;
    assert_eq!(all.len(), 13);
    let mut keys: Vec<(String, String)> = all
        .iter()
        .map(|m| (m.unit.clone(), m.member_no.clone()))
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 13);
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_keep_what_the_roster_leaves_empty_and_undo_restores() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let first = env.path("first.csv");
    std::fs::write(&first, "学号,姓名,家长手机号码,身份证号码,班级\nS1,甲,13800000001,440524188001010014,一班\nS2,乙,13800000002,,一班\n").unwrap();
    let mut req = request(&first, ImportMode::All);
    req.unit_code = "XH".into();
    let b1 = import(&desk, &req).await.unwrap().batch_id.unwrap();

    // A later roster without the ID column, a new phone for S1, S2 withdrawn and moved to 二班.
    let second = env.path("second.csv");
    std::fs::write(&second, "学号,姓名,家长手机号码,状态,班级\nS1,甲,13900000001,在读,一班\nS2,乙,13800000002,退学,二班\nS3,丙,13800000003,,一班\n").unwrap();
    let r2 = import(
        &desk,
        &ImportRequest {
            file: second.clone(),
            ..req.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!((r2.imported, r2.updated, r2.unchanged), (1, 2, 0));
    let b2 = r2.batch_id.unwrap();
    let all = members(&desk).await;
    let s1 = all.iter().find(|m| m.member_no == "S1").unwrap();
    assert_eq!(s1.guardian_phone.as_deref(), Some("13900000001"));
    assert_eq!(
        s1.id_number.as_deref(),
        Some("440524188001010014"),
        "absent column keeps the stored ID"
    );
    let s2 = all.iter().find(|m| m.member_no == "S2").unwrap();
    assert_eq!(s2.status, "withdrawn");
    assert_eq!(s2.classes, vec!["一班", "二班"]);

    // The first batch cannot be undone while the second depends on it.
    let err = roster::undo_batch(&desk, b1).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains(&format!("batch {b2}")), "{err}");

    let undo = roster::undo_batch(&desk, b2).await.unwrap();
    assert_eq!(
        (
            undo.members_removed,
            undo.members_restored,
            undo.enrolments_removed
        ),
        (1, 2, 2)
    );
    let all = members(&desk).await;
    assert_eq!(all.len(), 2);
    let s1 = all.iter().find(|m| m.member_no == "S1").unwrap();
    assert_eq!(
        s1.guardian_phone.as_deref(),
        Some("13800000001"),
        "phone restored"
    );
    assert_eq!(
        all.iter().find(|m| m.member_no == "S2").unwrap().status,
        "active"
    );
    assert_eq!(
        roster::undo_batch(&desk, b2).await.unwrap_err().code(),
        ErrorCode::Conflict,
        "undo twice"
    );

    let undo1 = roster::undo_batch(&desk, b1).await.unwrap();
    assert_eq!(undo1.members_removed, 2);
    assert!(members(&desk).await.is_empty());
    let history = roster::list_batches(&desk).await.unwrap();
    assert!(history.iter().all(|b| b.undone_at.is_some()));
    feedesk::audit::verify(desk.db().pool()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn error_workbook_repeats_rejected_rows_with_reasons_and_inert_text() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = env.path("messy.xlsx");
    write_xlsx(&file, Some("名单"), &messy_rows(), &[]);
    let out = env.path("errors.xlsx");
    let report = import(
        &desk,
        &ImportRequest {
            errors_out: Some(out.clone()),
            ..request(&file, ImportMode::All)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        report.errors_workbook.as_deref(),
        Some(out.to_str().unwrap())
    );

    let mut book: Xlsx<_> = open_workbook(&out).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows.len(), 1 + 9, "header and the nine rejected rows");
    assert_eq!(rows[0][2], Data::String("学生姓名".into()));
    let last = rows[0].len() - 1;
    assert!(rows[0][last].to_string().contains("问题"));
    let sheet_rows: Vec<String> = rows[1..].iter().map(|r| sheet_row(&r[0])).collect();
    assert_eq!(
        sheet_rows,
        ["6", "7", "8", "9", "10", "11", "12", "15", "16"]
    );
    assert_eq!(rows[1][6], Data::String("12345".into()));
    assert!(rows[1][last].to_string().contains("phone_invalid"));
    // The truncated ID is repeated as the number Excel kept.
    assert!(matches!(rows[2][7], Data::Float(_)));
    // "=1+2" (row 15) is text, not a formula.
    let r15 = rows.iter().find(|r| sheet_row(&r[0]) == "15").unwrap();
    assert_eq!(r15[2], Data::String("=1+2".into()));
    let formulas = book.worksheet_formula(&sheet).unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formulas in the error workbook"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_in_gbk_with_english_headers_and_an_explicit_mapping() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let text = "Member No,Name,Store,Backup Phone,Mobile,Enrolment Date\r\nA1,陈小明,西湖校区,13800000001,x,2026-09-01\r\nA2,林 小 红,BJ,13800000002,,20260902\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let file = env.path("roster.csv");
    std::fs::write(&file, &gbk).unwrap();
    let mut req = request(&file, ImportMode::All);
    req.term_name = None;
    req.overrides = vec![
        MapOverride::parse("Backup Phone=guardian_phone").unwrap(),
        MapOverride::parse("Mobile=ignore").unwrap(),
    ];
    let report = import(&desk, &req).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.imported, 2, "{report:#?}");
    let all = members(&desk).await;
    assert_eq!(all[0].name, "林小红");
    assert_eq!(all[0].enrolled_on.as_deref(), Some("2026-09-02"));
    assert_eq!(all[1].name, "陈小明");

    // A mapping naming a column that is not there is refused, and so is a missing phone column.
    req.overrides = vec![MapOverride::parse("Nope=name").unwrap()];
    assert_eq!(
        import(&desk, &req).await.unwrap_err().code(),
        ErrorCode::ImportFormat
    );
    req.overrides = vec![
        MapOverride::parse("Backup Phone=ignore").unwrap(),
        MapOverride::parse("Mobile=ignore").unwrap(),
    ];
    let err = import(&desk, &req).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportFormat);
    assert!(err.to_string().contains("家长手机号码"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn file_level_problems_are_refused_with_a_reason() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;

    let none = env.path("none.csv");
    std::fs::write(&none, "a,b,c\n1,2,3\n").unwrap();
    let err = import(&desk, &request(&none, ImportMode::All))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportFormat);
    assert!(err.to_string().contains("no header row"), "{err}");

    let classes = env.path("classes.csv");
    std::fs::write(&classes, "学号,姓名,手机,班级\nS1,甲,13800000001,一班\n").unwrap();
    let mut req = request(&classes, ImportMode::All);
    req.term_name = None;
    req.unit_code = "XH".into();
    let err = import(&desk, &req).await.unwrap_err();
    assert!(err.to_string().contains("--term"), "{err}");

    let mut req = request(&classes, ImportMode::All);
    req.unit_code = "EAST".into();
    let r = import(&desk, &req).await.unwrap_err();
    assert!(r.to_string().contains("store column"), "{r}");

    let html = env.path("export.xls");
    std::fs::write(&html, "<html><table><tr><td>学号</td></tr></table></html>").unwrap();
    assert!(
        import(&desk, &request(&html, ImportMode::All))
            .await
            .unwrap_err()
            .to_string()
            .contains("web page")
    );

    let missing = env.path("missing.xlsx");
    assert_eq!(
        import(&desk, &request(&missing, ImportMode::All))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Io
    );

    let file = env.path("r.xlsx");
    write_xlsx(&file, None, &messy_rows(), &[]);
    let err = import(
        &desk,
        &ImportRequest {
            sheet: Some("Sheet9".into()),
            ..request(&file, ImportMode::All)
        },
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("学员名单"),
        "lists the sheets: {err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_classes_adds_them_and_undo_removes_them() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = env.path("c.csv");
    std::fs::write(
        &file,
        "学号,姓名,手机,班级\nS1,甲,13800000001,钢琴A班\nS2,乙,13800000002,钢琴A班、一班\n",
    )
    .unwrap();
    let mut req = request(&file, ImportMode::All);
    req.unit_code = "XH".into();
    let refused = import(&desk, &req).await.unwrap();
    assert_eq!(
        refused
            .errors
            .iter()
            .filter(|e| e.code == "unknown_class")
            .count(),
        2
    );
    req.create_classes = true;
    let r = import(&desk, &req).await.unwrap();
    assert_eq!((r.imported, r.classes_created), (2, 1));
    let classes = org::list_classes(&desk, Some(TERM)).await.unwrap();
    let piano = classes.iter().find(|c| c.name == "钢琴A班").unwrap();
    assert_eq!(piano.members, 2);
    roster::undo_batch(&desk, r.batch_id.unwrap())
        .await
        .unwrap();
    assert!(
        org::list_classes(&desk, Some(TERM))
            .await
            .unwrap()
            .iter()
            .all(|c| c.name != "钢琴A班")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_writes_nothing() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = env.path("r.xlsx");
    write_xlsx(&file, None, &fixed_rows(), &[]);
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = roster::import_roster(
        &desk,
        &request(&file, ImportMode::All),
        &ignore_progress,
        &cancel,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert!(members(&desk).await.is_empty());
}

/// Rows are written chunk by chunk while the file is read; a problem in the last row of a big
/// file must still leave nothing behind in all-or-nothing mode.
#[tokio::test(flavor = "multi_thread")]
async fn a_late_problem_in_a_big_file_rolls_back_every_chunk() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let mut text = String::from("学号,姓名,家长手机号码,班级\n");
    for i in 0..20_000 {
        text.push_str(&format!("N{i:05},学员{i},138{i:08},一班\n"));
    }
    text.push_str("N99999,坏号码,12345,一班\n");
    let file = env.path("big.csv");
    std::fs::write(&file, text).unwrap();
    let mut req = request(&file, ImportMode::All);
    req.unit_code = "XH".into();

    let report = import(&desk, &req).await.unwrap();
    assert!(!report.committed);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].row, 20_002);
    assert!(
        members(&desk).await.is_empty(),
        "earlier chunks were rolled back"
    );
    assert!(roster::list_batches(&desk).await.unwrap().is_empty());

    let report = import(
        &desk,
        &ImportRequest {
            mode: ImportMode::Valid,
            ..req
        },
    )
    .await
    .unwrap();
    assert_eq!((report.imported, report.rejected), (20_000, 1));
    let all = members(&desk).await;
    assert_eq!(all.len(), 20_000);
    assert!(all.iter().all(|m| m.classes == ["一班"]));
}

/// Two imports at once (two windows, or the desktop and a cron job): the write lock queues the
/// second behind the first; both land whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_imports_both_land_whole() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let write = |name: &str, prefix: &str| {
        let mut text = String::from("学号,姓名,家长手机号码\n");
        for i in 0..3_000 {
            text.push_str(&format!("{prefix}{i:04},学员{i},139{i:08}\n"));
        }
        let path = env.path(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (a, b) = (write("a.csv", "A"), write("b.csv", "B"));
    let mut req_a = request(&a, ImportMode::All);
    req_a.unit_code = "XH".into();
    let req_b = ImportRequest {
        file: b,
        ..req_a.clone()
    };
    let spawn = |req: ImportRequest| {
        let desk = desk.clone();
        tokio::spawn(async move { import(&desk, &req).await })
    };
    let (ta, tb) = (spawn(req_a), spawn(req_b));
    let (ra, rb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
    assert_eq!((ra.imported, rb.imported), (3_000, 3_000));
    assert_ne!(ra.batch_id, rb.batch_id);
    assert_eq!(members(&desk).await.len(), 6_000);
    feedesk::audit::verify(desk.db().pool()).await.unwrap();
}

/// The sheet row number in an error workbook's first column, as text (a number cell).
fn sheet_row(cell: &Data) -> String {
    cell.to_string()
}
