//! Safety bounds: oversized files, zip bombs and oversized sheets are refused with a clear
//! message before their content is loaded, and nothing is written.

use crate::support::common;

use std::io::Write;

use common::*;
use feedesk::ErrorCode;
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest};

fn request(file: std::path::PathBuf) -> ImportRequest {
    ImportRequest {
        file,
        unit_code: "XH".into(),
        term_name: None,
        sheet: None,
        overrides: vec![],
        create_classes: false,
        mode: ImportMode::All,
        dry_run: false,
        errors_out: None,
    }
}

async fn refused(env: &Env, file: std::path::PathBuf) -> feedesk::Error {
    let desk = env.desk().await;
    institution(&desk).await;
    roster::import_roster(&desk, &request(file), &ignore_progress, &CancelToken::new())
        .await
        .unwrap_err()
}

#[tokio::test(flavor = "multi_thread")]
async fn files_over_50_mb_are_refused() {
    let env = Env::new();
    let file = env.path("big.csv");
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(50 * 1024 * 1024 + 1).unwrap(); // sparse: costs no disk
    let err = refused(&env, file).await;
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("50 MB"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn zip_bombs_are_refused_before_inflating() {
    let env = Env::new();
    let file = env.path("bomb.xlsx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&file).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/workbook.xml", opts).unwrap();
    zip.write_all(b"<workbook/>").unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&zeros).unwrap(); // 64 MB of spaces deflate to ~64 KB
    }
    zip.finish().unwrap();
    let err = refused(&env, file).await;
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("zip bomb"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sheets_over_5_million_cells_are_refused() {
    let env = Env::new();
    let file = env.path("wide.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "学号").unwrap();
    sheet.write_string(0, 1, "姓名").unwrap();
    sheet.write_string(0, 2, "手机").unwrap();
    // The declared dimension A1:Z200001 is 5.2 million cells; the file itself is tiny.
    sheet.write_string(200_000, 25, "x").unwrap();
    book.save(&file).unwrap();
    let err = refused(&env, file).await;
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("5000000 cells"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_workbook_is_an_import_format_error() {
    let env = Env::new();
    let file = env.path("damaged.xlsx");
    std::fs::write(&file, b"PK\x03\x04 this is not really a zip").unwrap();
    let err = refused(&env, file).await;
    assert_eq!(err.code(), ErrorCode::ImportFormat);
}
