//! Hostile and messy spreadsheets (generated here, never committed): each is refused or read
//! with a clear message, by the real CLI, and within the memory bound
//! ([`hostile_support::PEAK_RSS_BOUND_KIB`], 300 MB of peak resident memory).

use crate::support::common;
use crate::support::hostile_support;

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
    // A row holding nothing but the far cell is a row with problems, not a blank one.
    sheet.write_string(rows + 1, 16_383, "only far").unwrap();
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
    assert_eq!(report["rejected"], u64::from(rows) + 1);
    assert_eq!(report["blank"], 0);
    // The error workbook holds the mapped columns, not 16,384 of them.
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&errors).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut book, 0)
        .unwrap()
        .unwrap();
    assert_eq!(range.get_size(), (rows as usize + 2, 5));
}

/// Writes a CSV roster: the header, then `rows` of (member no, name, phone).
fn csv_roster(rows: impl Iterator<Item = String>) -> String {
    let mut text = String::from("学号,学生姓名,家长手机号码\n");
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stray_quote_in_a_big_csv_is_refused_naming_its_row() {
    let env = ready().await;
    let file = env.path("stray.csv");
    let text = csv_roster((1..=200_000).map(|i| {
        // Row 4 (the third member) has a name typed with an opening quote.
        let name = if i == 3 {
            "\"王五".to_string()
        } else {
            format!("学员{i}")
        };
        format!("S{i:06},{name},138{i:08}")
    }));
    std::fs::write(&file, text).unwrap();
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("stray.csv row 4"), "{line}");
    assert!(line.contains("column B"), "{line}");
    assert!(line.contains("stray quote"), "{line}");
    assert!(line.contains("nothing was imported"), "{line}");
    assert!(
        line.chars().count() < 600,
        "the swallowed text is not echoed: {line}"
    );
    let desk = env.desk().await;
    assert!(members(&desk).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_few_swallowed_lines_in_many_are_still_noticed() {
    let env = ready().await;
    let file = env.path("quotes.csv");
    // Every record opens a quote two lines further close: two lines in three vanish into
    // fields, though no field runs over more than three lines.
    let text = csv_roster((1..=60).map(|i| match i % 3 {
        1 => format!("S{i:06},\"学员{i}"),
        2 => "x".to_string(),
        _ => format!("y\",138{i:08}"),
    }));
    std::fs::write(&file, text).unwrap();
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("61 lines but only 21 records"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_csv_field_is_refused_and_not_echoed() {
    let env = ready().await;
    let file = env.path("long.csv");
    let long = "长".repeat(10 << 20);
    std::fs::write(
        &file,
        csv_roster(
            [
                "S000001,张三,13800138000".to_string(),
                format!("S000002,{long},13800138001"),
            ]
            .into_iter(),
        ),
    )
    .unwrap();
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("long.csv row 3, column B"), "{line}");
    assert!(line.contains("32767"), "{line}");
    assert!(line.chars().count() < 600, "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_are_refused_with_row_and_column_and_values_are_clipped() {
    let env = ready().await;
    let file = env.path("control.csv");
    let long_phone = "1".repeat(30_000);
    std::fs::write(
        &file,
        csv_roster(
            [
                "S000001,张\u{0}三,13800138000".to_string(),
                "S000002,李\u{202E}四,13800138001".to_string(),
                format!("S000003,王五,{long_phone}"),
                "S000004,赵六,13800138003".to_string(),
            ]
            .into_iter(),
        ),
    )
    .unwrap();
    let (out, peak) = run_measured(
        &env.data_dir(),
        &import_args(file.to_str().unwrap(), &["--mode", "valid", "--json"]),
    );
    within_bound(peak);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let errors = report["errors"].as_array().unwrap();
    let find = |row: u64| {
        errors
            .iter()
            .find(|e| e["row"] == row)
            .unwrap_or_else(|| panic!("no error for row {row}: {errors:?}"))
    };
    assert_eq!(find(2)["code"], "control_character");
    assert_eq!(find(2)["column"], "学生姓名");
    assert!(find(2)["message"].as_str().unwrap().contains("U+0000"));
    assert!(find(2)["message"].as_str().unwrap().contains("B2"));
    assert_eq!(find(3)["code"], "control_character");
    assert_eq!(find(4)["code"], "phone_invalid");
    assert!(find(4)["message"].as_str().unwrap().chars().count() < 250);
    assert_eq!(report["imported"], 1);
    let desk = env.desk().await;
    let names: Vec<String> = members(&desk).await.into_iter().map(|m| m.name).collect();
    assert_eq!(names, vec!["赵六".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_formula_never_calculated_is_reported_as_such() {
    let env = ready().await;
    let plain = env.path("formula-plain.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["学号", "学生姓名", "家长手机号码"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "S000001").unwrap();
    sheet.write_formula(1, 1, "=\"张\"&\"三\"").unwrap();
    sheet.write_string(1, 2, "13800138000").unwrap();
    book.save(&plain).unwrap();
    // As a script writes it: the formula, and no cached value.
    let file = env.path("formula.xlsx");
    rewrite_zip(&plain, &file, |name, bytes| {
        if !name.ends_with("sheet1.xml") {
            return bytes;
        }
        String::from_utf8(bytes)
            .unwrap()
            .replace("</f><v>0</v>", "</f>")
            .into_bytes()
    });
    let (out, peak) = run_measured(
        &env.data_dir(),
        &import_args(file.to_str().unwrap(), &["--json"]),
    );
    within_bound(peak);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "formula_not_calculated");
    assert_eq!(errors[0]["row"], 2);
    assert_eq!(errors[0]["column"], "学生姓名");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("B2") && message.contains("never calculated"),
        "{message}"
    );
    assert!(message.contains("open and save the file in Excel or WPS, or paste values"));
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_are_refused_in_names_typed_by_hand() {
    let env = ready().await;
    let desk = env.desk().await;
    let err = feedesk::org::add_class(&desk, "XH", TERM, "三班\u{0}")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("U+0000"), "{err}");
    let err = feedesk::org::add_unit(
        &desk,
        "EAST",
        feedesk::org::UnitKind::Store,
        "NEW",
        "新\u{202E}校区",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("U+202E"), "{err}");
    let err = feedesk::billing::add_fee(&desk, "HQ", "学费\u{7}")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("U+0007"), "{err}");
}

/// A minimal compound file (.xls container) holding `workbook` as its Workbook stream; with
/// `looping_directory` the directory's sector chain points back at itself.
fn compound_file(workbook: &[u8], looping_directory: bool) -> Vec<u8> {
    const END: u32 = 0xFFFF_FFFE;
    let mut stream = workbook.to_vec();
    stream.resize(stream.len().max(4096).div_ceil(512) * 512, 0);
    let n = stream.len() / 512;
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    put(&mut header, 0x18, &0x3Eu16.to_le_bytes());
    put(&mut header, 0x1A, &3u16.to_le_bytes());
    put(&mut header, 0x1C, &0xFFFEu16.to_le_bytes());
    put(&mut header, 0x1E, &9u16.to_le_bytes());
    put(&mut header, 0x20, &6u16.to_le_bytes());
    put(&mut header, 0x2C, &1u32.to_le_bytes());
    put(&mut header, 0x30, &1u32.to_le_bytes());
    put(&mut header, 0x38, &4096u32.to_le_bytes());
    put(&mut header, 0x3C, &END.to_le_bytes());
    put(&mut header, 0x44, &END.to_le_bytes());
    for i in 0..109 {
        put(&mut header, 0x4C + 4 * i, &u32::MAX.to_le_bytes());
    }
    put(&mut header, 0x4C, &0u32.to_le_bytes());
    let mut fat = vec![u32::MAX; 128];
    fat[0] = 0xFFFF_FFFD;
    fat[1] = if looping_directory { 1 } else { END };
    for i in 0..n {
        fat[2 + i] = if i + 1 == n { END } else { (3 + i) as u32 };
    }
    let fat: Vec<u8> = fat.iter().flat_map(|v| v.to_le_bytes()).collect();
    let entry = |name: &str, kind: u8, child: u32, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u16> = name.encode_utf16().chain([0]).collect();
        for (i, u) in units.iter().enumerate() {
            e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[64..66].copy_from_slice(&((units.len() * 2) as u16).to_le_bytes());
        e[66] = kind;
        e[67] = 1;
        e[68..72].copy_from_slice(&u32::MAX.to_le_bytes());
        e[72..76].copy_from_slice(&u32::MAX.to_le_bytes());
        e[76..80].copy_from_slice(&child.to_le_bytes());
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
        e
    };
    let mut dir = entry("Root Entry", 5, 1, END, 0);
    dir.extend(entry("Workbook", 2, u32::MAX, 2, stream.len() as u32));
    dir.resize(512, 0);
    let mut out = header;
    out.extend(fat);
    out.extend(dir);
    out.extend(stream);
    out
}

/// A BIFF8 workbook stream: BOF, then a Dimensions record of `rows` x `cols`.
fn biff_with_dimensions(rows: u32, cols: u16) -> Vec<u8> {
    let mut s = vec![0x09, 0x08, 16, 0, 0x00, 0x06, 0x05, 0x00];
    s.extend([0u8; 12]);
    s.extend([0x00, 0x02, 14, 0]);
    s.extend(0u32.to_le_bytes());
    s.extend(rows.to_le_bytes());
    s.extend(0u16.to_le_bytes());
    s.extend(cols.to_le_bytes());
    s.extend([0, 0]);
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xls_declaring_a_huge_sheet_is_refused_before_reading() {
    let env = ready().await;
    let file = env.path("huge.xls");
    std::fs::write(
        &file,
        compound_file(&biff_with_dimensions(65_536, 65_535), false),
    )
    .unwrap();
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("huge.xls"), "{line}");
    assert!(line.contains("declares 4294901760 cells"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xls_whose_sector_chain_loops_is_refused() {
    let env = ready().await;
    let file = env.path("loop.xls");
    std::fs::write(&file, compound_file(&biff_with_dimensions(10, 3), true)).unwrap();
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    assert!(
        line.contains("loop.xls is a damaged .xls workbook"),
        "{line}"
    );
    assert!(line.contains("loops"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sound_xls_container_passes_the_scan() {
    let env = ready().await;
    let file = env.path("small.xls");
    std::fs::write(&file, compound_file(&biff_with_dimensions(10, 3), false)).unwrap();
    let (out, peak) = run_measured(&env.data_dir(), &import_args(file.to_str().unwrap(), &[]));
    let line = refused_within_bound(&out, peak);
    // The container is sound; what it lacks (sheets, a header) is the reader's to say.
    assert!(
        !line.contains("damaged .xls") && !line.contains("declares"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_million_bad_rows_are_counted_not_all_kept() {
    let env = ready().await;
    let file = env.path("bad.csv");
    let rows = 1_000_000u64;
    std::fs::write(
        &file,
        csv_roster((1..=rows).map(|i| format!("S{i:07},x,1"))),
    )
    .unwrap();
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
    assert_eq!(report["rejected"], rows, "every bad row is counted");
    let listed = report["errors"].as_array().unwrap();
    let last = listed.last().unwrap();
    assert_eq!(last["code"], "too_many_problems");
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .contains("1000000 rows have problems; only the first 20000"),
        "{last}"
    );
}
