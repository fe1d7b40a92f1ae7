//! Hostile and messy spreadsheets (generated here, never committed): each is refused or read
//! with a clear message, by the real CLI, and within the memory bound
//! ([`hostile_support::PEAK_RSS_BOUND_KIB`], 300 MB of peak resident memory).

mod common;
mod hostile_support;

use common::*;
use hostile_support::*;

/// A data folder with the institution (HQ, EAST with XH and BJ, the term and its classes).
async fn ready() -> Env {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    drop(desk);
    env
}

fn import_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["import", "roster", file, "--unit", "XH", "--term", TERM];
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread")]
async fn an_absurd_shared_string_count_is_refused_not_an_abort() {
    let env = ready().await;
    let plain = env.path("plain.xlsx");
    write_xlsx(&plain, None, &[header(), fixed_rows()[0].clone()], &[]);
    let file = env.path("sst.xlsx");
    rewrite_zip(&plain, &file, |name, bytes| {
        if !name.ends_with("sharedStrings.xml") {
            return bytes;
        }
        let text = String::from_utf8(bytes).unwrap();
        let start = text.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = start + text[start..].find('"').unwrap();
        format!("{}1000000000000000{}", &text[..start], &text[end..]).into_bytes()
    });
    assert!(std::fs::metadata(&file).unwrap().len() < 16 * 1024);
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("sst.xlsx"), "{line}");
    assert!(line.contains("declares 1000000000000000 strings"), "{line}");
    assert!(line.contains("save it again"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_rows_with_a_far_cell_stay_small() {
    let env = ready().await;
    let plain = env.path("far-plain.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["学号", "学生姓名", "家长手机号码"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    // Every row is rejected (a bad phone) and holds one cell in the last column, XFD.
    let rows = 4000u32;
    for r in 1..=rows {
        sheet.write_string(r, 0, format!("S{r:05}")).unwrap();
        sheet.write_string(r, 1, "张三").unwrap();
        sheet.write_string(r, 2, "12345").unwrap();
        sheet.write_string(r, 16_383, "far").unwrap();
    }
    book.save(&plain).unwrap();
    // Without its <dimension> the sheet declares no size to refuse it by.
    let file = env.path("far.xlsx");
    rewrite_zip(&plain, &file, |name, bytes| {
        if !name.ends_with("sheet1.xml") {
            return bytes;
        }
        let text = String::from_utf8(bytes).unwrap();
        let start = text.find("<dimension").unwrap();
        let end = start + text[start..].find("/>").unwrap() + 2;
        format!("{}{}", &text[..start], &text[end..]).into_bytes()
    });
    let errors = env.path("errors.xlsx");
    let (out, peak) = run_measured(
        &env.data_dir(),
        &import_args(
            file.to_str().unwrap(),
            &["--errors-out", errors.to_str().unwrap(), "--json"],
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    within_bound(peak);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rejected"], u64::from(rows));
    // The error workbook holds the mapped columns, not 16,384 of them.
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&errors).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut book, 0)
        .unwrap()
        .unwrap();
    assert_eq!(range.get_size(), (rows as usize + 1, 5));
}
