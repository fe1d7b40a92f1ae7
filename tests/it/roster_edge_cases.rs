//! Roster import edge cases: the rarer problem classes, and the findings of the code review
//! that must stay fixed.

use crate::support::common;

use common::*;
use feedesk::ErrorCode;
use feedesk::org;
use feedesk::roster::{ImportMode, MapOverride};

/// The rarer problem classes, one row each.
#[tokio::test(flavor = "multi_thread")]
async fn every_other_problem_class_is_named() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    // A second store named like an existing one makes the name ambiguous; an archived store
    // takes no members.
    org::add_unit(
        &desk,
        "WEST",
        feedesk::org::UnitKind::Store,
        "XH2",
        "西湖校区",
    )
    .await
    .unwrap();
    org::add_unit(
        &desk,
        "EAST",
        feedesk::org::UnitKind::Store,
        "OLD",
        "旧校区",
    )
    .await
    .unwrap();
    org::archive_unit(&desk, "OLD").await.unwrap();
    let long_name = "长".repeat(51);
    let text = format!(
        "学号,姓名,校区,家长手机号码,身份证号码,状态\n\
         A1,甲,XH,13800000001,11010519491231002X,在读\n\
         A2,乙,XH,13800000002,11010519491231002X,在读\n\
         A3,丙,XH,13800000003,,毕业了\n\
         A4,丁,西湖校区,13800000004,,\n\
         A5,戊,EAST,13800000005,,\n\
         A6,己,OLD,13800000006,,\n\
         A7,{long_name},XH,13800000007,,\n\
         A8,辛,XH,13800000008,110105491231002,\n"
    );
    let file = env.path("rare.csv");
    std::fs::write(&file, text).unwrap();
    let mut req = request(&file, ImportMode::Valid);
    req.unit_code = "HQ".into();
    req.term_name = None;
    let report = import(&desk, &req).await.unwrap();
    let got: Vec<(u32, &str)> = report.errors.iter().map(|e| (e.row, e.code)).collect();
    assert_eq!(
        got,
        vec![
            (3, "duplicate_id_number"),
            (4, "status_invalid"),
            (5, "ambiguous_store"),
            (6, "not_a_store"),
            (7, "store_archived"),
            (8, "too_long"),
            (9, "id_number_invalid"),
        ]
    );
    assert!(
        report.errors[6].message.contains("15-digit"),
        "{}",
        report.errors[6].message
    );
    assert_eq!(report.imported, 1);
}

/// Found in review: CSV rows are numbered as Excel shows them, a title line without commas
/// does not hide the table, a class named twice in one row is one enrolment, an explicit
/// mapping beats a built-in alias and matches decorated headers, and spreadsheet error values
/// are rejected rather than imported.
#[tokio::test(flavor = "multi_thread")]
async fn review_findings_stay_fixed() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let csv = |name: &str, text: &str| {
        let path = env.path(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let xh = |file: std::path::PathBuf| {
        let mut req = request(&file, ImportMode::Valid);
        req.unit_code = "XH".into();
        req
    };

    // A title line with no delimiter, a quoted field spanning lines, and a blank line.
    let file = csv(
        "rows.csv",
        "西湖校区名单\n学号,姓名,家长手机号码,班级\nR1,\"张\n三\",13800000001,一班、一班\n\nR2,李四,138abc00000,一班\n",
    );
    let report = import(&desk, &xh(file)).await.unwrap();
    assert_eq!(report.header_row, 2);
    assert_eq!(report.imported, 1, "{:?}", report.errors);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(
        report.errors[0].row, 5,
        "Excel shows R2 on row 5: title, header, R1, blank, R2"
    );
    assert_eq!((report.rows_read, report.blank), (3, 1));
    let all = members(&desk).await;
    assert_eq!(
        all[0].classes,
        vec!["一班"],
        "one enrolment for a class named twice"
    );

    // The user's mapping wins over a built-in alias, and names decorated headers plainly.
    let file = csv(
        "map.csv",
        "学号(必填),姓名,手机,备用电话\nM1,甲,,13800000002\n",
    );
    let mut req = xh(file);
    req.mode = ImportMode::All;
    req.term_name = None;
    req.overrides = vec![
        MapOverride::parse("备用电话=guardian_phone").unwrap(),
        MapOverride::parse("学号=member_no").unwrap(),
    ];
    let report = import(&desk, &req).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.imported, 1);

    // An error workbook that cannot be written stops the import before anything commits.
    let file = csv(
        "bad.csv",
        "学号,姓名,家长手机号码\nW1,甲,13800000003\nW2,乙,123\n",
    );
    let mut req = xh(file);
    req.term_name = None;
    req.errors_out = Some(env.path("no-such-folder/errors.xlsx"));
    assert_eq!(import(&desk, &req).await.unwrap_err().code(), ErrorCode::Io);
    assert!(
        members(&desk).await.iter().all(|m| m.member_no != "W1"),
        "nothing committed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn spreadsheet_error_values_are_rejected() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    // A real workbook with a formula whose cached result is #N/A in the name column.
    let file = env.path("na.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["学号", "姓名", "家长手机号码"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "E1").unwrap();
    sheet
        .write_formula(
            1,
            1,
            rust_xlsxwriter::Formula::new("=NA()").set_result("#N/A"),
        )
        .unwrap();
    sheet.write_string(1, 2, "13800000004").unwrap();
    book.save(&file).unwrap();
    let mut req = request(&file, ImportMode::Valid);
    req.unit_code = "XH".into();
    req.term_name = None;
    let report = import(&desk, &req).await.unwrap();
    let codes: Vec<&str> = report.errors.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        ["cell_error", "required"],
        "the error value is named, and the name counts as missing"
    );
    assert!(
        report.errors[0].message.contains("#N/A"),
        "{}",
        report.errors[0].message
    );
    assert_eq!(report.imported, 0);
}
