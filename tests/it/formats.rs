//! The same messy roster saved by LibreOffice as .xls (BIFF8) and .ods imports exactly like the
//! .xlsx: same header row, same problems on the same rows, same members. The fixtures are
//! committed (see tests/fixtures/README.md for how they were made).

use crate::support::common;

use std::path::PathBuf;

use common::*;
use feedesk::org::{self, MemberFilter};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn import_fixture(path: PathBuf) -> (roster::ImportReport, Vec<org::Member>) {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let req = ImportRequest {
        file: path,
        unit_code: "EAST".into(),
        term_name: Some(TERM.into()),
        sheet: None,
        overrides: vec![],
        create_classes: false,
        mode: ImportMode::Valid,
        dry_run: false,
        errors_out: None,
    };
    let report = roster::import_roster(&desk, &req, &ignore_progress, &CancelToken::new())
        .await
        .unwrap();
    let members = org::list_members(
        &desk,
        &MemberFilter {
            show_pii: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (report, members)
}

#[tokio::test(flavor = "multi_thread")]
async fn xls_ods_and_xlsx_agree() {
    let (xlsx, xlsx_members) = import_fixture(fixture("messy-roster.xlsx")).await;
    let expected = messy_expected_errors();
    for name in ["messy-roster.xls", "messy-roster.ods"] {
        let (report, members) = import_fixture(fixture(name)).await;
        assert_eq!(report.header_row, 2, "{name}");
        let got: Vec<(u32, &str)> = report.errors.iter().map(|e| (e.row, e.code)).collect();
        assert_eq!(got, expected, "{name}");
        assert_eq!(report.imported, xlsx.imported, "{name}");
        assert_eq!(members, xlsx_members, "{name}");
    }
    assert_eq!(xlsx_members.len(), 4);
}

/// Writes the committed fixtures. Run with `cargo test --test it formats:: -- --ignored`, then
/// convert with LibreOffice as tests/fixtures/README.md says.
#[test]
#[ignore]
fn write_fixture_files() {
    write_xlsx(
        &fixture("messy-roster.xlsx"),
        Some("2026秋季学期 华东区学员名单"),
        &messy_rows(),
        &["填表说明"],
    );
    write_xlsx(
        &fixture("fixed-roster.xlsx"),
        Some("2026秋季学期 华东区学员名单"),
        &fixed_rows(),
        &["填表说明"],
    );
}
