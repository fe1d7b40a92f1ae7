//! The monthly report workbook through the core: bills issued, paid, refunded and overdue in
//! four stores under two regions; the workbook read back with calamine cell by cell (figures,
//! totals as formulas with their values, aging, breakdowns, masked personal data) and its
//! charts found as PNG images inside it.

use crate::support::billing_support;

use std::io::Read;

use billing_support::*;
use calamine::{Data, Reader, open_workbook_auto};
use chrono::TimeZone;
use feedesk::billing::{self, Channel};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::reports;

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f:.4}"),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_consolidates_the_tree_with_charts_and_masked_names() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(default_time());
    let desk = open(&dir.path().join("data"), clock.clone()).await;
    institution(&desk).await;
    roster(
        &desk,
        &[
            ("XH", "S001", "张三明", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S003", "王五", "一班", ""),
            ("XH", "S004", "赵六", "二班", ""),
            ("BJ", "B001", "孙七", "一班", ""),
            ("BJ", "B002", "周八", "一班", ""),
            ("CD", "C001", "欧阳小明", "一班", ""),
        ],
    )
    .await;
    for (unit, name) in [("XH", "西湖现金"), ("BJ", "滨江现金"), ("CD", "成都现金")] {
        account(&desk, unit, Channel::OfflineCash, name).await;
    }
    fee(&desk, "HQ", "学费").await;
    fee(&desk, "HQ", "材料费").await;
    let mut plans = vec![];
    for (fee_name, class_name, rule, due, acct) in [
        ("学费", "XH/一班", "fixed:1000", (2026, 9, 30), "西湖现金"),
        ("材料费", "XH/二班", "fixed:500", (2026, 8, 1), "西湖现金"),
        ("学费", "BJ/一班", "fixed:800", (2026, 9, 10), "滨江现金"),
        ("学费", "CD/一班", "fixed:300", (2026, 10, 31), "成都现金"),
    ] {
        let mut req = plan_req(fee_name, class(class_name), rule, acct);
        req.due_on = day(due.0, due.1, due.2);
        let p = plan(&desk, req).await;
        billing::issue_plan(&desk, p.id).await.unwrap();
        plans.push(p.id);
    }
    pay(
        &desk,
        bill_of(&desk, plans[0], "S001").await.id,
        "1000",
        "西湖现金",
        "p1",
    )
    .await
    .unwrap();
    let p2 = pay(
        &desk,
        bill_of(&desk, plans[0], "S002").await.id,
        "1000",
        "西湖现金",
        "p2",
    )
    .await
    .unwrap();
    refund(&desk, p2.payment_id, "200", "缺课", "r1")
        .await
        .unwrap();
    pay(
        &desk,
        bill_of(&desk, plans[2], "B001").await.id,
        "800",
        "滨江现金",
        "p3",
    )
    .await
    .unwrap();
    // Reported after the month: aging at 2026-09-30.
    clock.set(chrono::Utc.with_ymd_and_hms(2026, 10, 5, 2, 0, 0).unwrap());

    let out = dir.path().join("月报.xlsx");
    let r = reports::export_monthly_report(
        &desk,
        "2026-09",
        "HQ",
        &out,
        &ignore_progress,
        &CancelToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.sheets,
        vec![
            "合并汇总",
            "华东区 EAST",
            "滨江校区 BJ",
            "西湖校区 XH",
            "西南区 WEST",
            "成都校区 CD"
        ]
    );
    assert_eq!(
        (r.bills, r.billed.to_string(), r.collected.to_string()),
        (7, "5400.00".into(), "2800.00".into())
    );
    assert_eq!(
        (r.refunded.to_string(), r.outstanding.to_string()),
        ("200.00".into(), "2600.00".into())
    );
    assert_eq!(r.collection_rate.to_string(), "0.5185");
    assert_eq!(r.charts, 3 + 3 + 3 + 2 + 2 + 2);

    keep_for_viewing(&out);
    let mut book = open_workbook_auto(&out).unwrap();
    assert_eq!(book.sheet_names(), r.sheets);
    let sheet = book.worksheet_range("合并汇总").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(text).collect()).collect();
    let at = |label: &str| {
        rows.iter()
            .position(|r| r.first().map(String::as_str) == Some(label))
            .unwrap_or_else(|| panic!("no row {label}"))
    };
    assert!(
        rows[0][0].contains("星火教育") || rows[0][0].contains("合并"),
        "{:?}",
        rows[0]
    );
    let header = at("单位");
    assert_eq!(
        rows[header][..9],
        [
            "单位",
            "开单笔数",
            "本月开单",
            "本月账单已收",
            "本月收款",
            "本月退款",
            "应收余额",
            "收缴率",
            "渠道手续费"
        ]
    );
    assert_eq!(
        rows[header + 1][..8],
        [
            "BJ 滨江校区",
            "2.0000",
            "1600.0000",
            "800.0000",
            "800.0000",
            "0.0000",
            "800.0000",
            "0.5000"
        ]
    );
    assert_eq!(
        rows[header + 2][..8],
        [
            "CD 成都校区",
            "1.0000",
            "300.0000",
            "0.0000",
            "0.0000",
            "0.0000",
            "300.0000",
            "0.0000"
        ]
    );
    assert_eq!(
        rows[header + 3][..8],
        [
            "XH 西湖校区",
            "4.0000",
            "3500.0000",
            "2000.0000",
            "2000.0000",
            "200.0000",
            "1500.0000",
            "0.5714"
        ]
    );
    assert_eq!(
        rows[header + 4][..8],
        [
            "合计",
            "7.0000",
            "5400.0000",
            "2800.0000",
            "2800.0000",
            "200.0000",
            "2600.0000",
            "0.5185"
        ]
    );
    let formulas = book.worksheet_formula("合并汇总").unwrap();
    let total_row = (header + 4) as u32;
    assert_eq!(
        formulas
            .get_value((total_row, 2))
            .cloned()
            .unwrap_or_default(),
        format!("SUM(C{}:C{})", header + 2, header + 4)
    );
    assert_eq!(
        formulas
            .get_value((total_row, 7))
            .cloned()
            .unwrap_or_default(),
        format!("IF(C{0}=0,0,D{0}/C{0})", total_row + 1)
    );
    let aging = at("未到期");
    let aging_rows: Vec<(String, String)> = rows[aging..aging + 5]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        aging_rows,
        vec![
            ("未到期".into(), "1300.0000".into()),
            ("0-30天".into(), "800.0000".into()),
            ("31-60天".into(), "500.0000".into()),
            ("61-90天".into(), "0.0000".into()),
            ("90天以上".into(), "0.0000".into()),
        ]
    );
    let fees = at("收费项目") + 1;
    assert_eq!(
        rows[fees][..5],
        ["学费", "4900.0000", "2800.0000", "200.0000", "2100.0000"]
    );
    assert_eq!(
        rows[fees + 1][..5],
        ["材料费", "500.0000", "0.0000", "0.0000", "500.0000"]
    );
    let classes = at("班级") + 1;
    let class_rows: Vec<(String, String)> = rows[classes..classes + 4]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        class_rows,
        vec![
            ("BJ/一班".into(), "1600.0000".into()),
            ("CD/一班".into(), "300.0000".into()),
            ("XH/一班".into(), "3000.0000".into()),
            ("XH/二班".into(), "500.0000".into()),
        ]
    );
    let channel = at("渠道") + 1;
    assert_eq!(
        rows[channel][..4],
        ["现金", "3.0000", "2800.0000", "200.0000"]
    );

    let xh = book.worksheet_range("西湖校区 XH").unwrap();
    let xh_rows: Vec<Vec<String>> = xh.rows().map(|r| r.iter().map(text).collect()).collect();
    let overdue = xh_rows
        .iter()
        .position(|r| r.first().map(String::as_str) == Some("学号"))
        .unwrap()
        + 1;
    assert_eq!(xh_rows[overdue][..2], ["S004", "赵*"]);
    assert!(
        xh_rows[overdue][2].starts_with("138****"),
        "{:?}",
        xh_rows[overdue]
    );
    assert_eq!(xh_rows[overdue][5..7], ["60.0000", "500.0000"]);
    // No full name or phone anywhere in the workbook.
    let mut all = String::new();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut images = 0;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        if name.starts_with("xl/media/") && name.ends_with(".png") {
            images += 1;
        } else {
            f.read_to_string(&mut all).ok();
        }
    }
    assert_eq!(images, 15, "every chart embedded as a PNG");
    assert!(
        !all.contains("赵六") && !all.contains("张三明"),
        "names are masked"
    );

    // The dashboard's charts: the same drawing code, as SVG, with the titles as text.
    let charts = reports::charts::dashboard_charts(&desk, "EAST", "每日收款", "应收账龄")
        .await
        .unwrap();
    assert_eq!(charts.unit, "EAST");
    for (svg, title) in [
        (&charts.trend_svg, "每日收款"),
        (&charts.aging_svg, "应收账龄"),
    ] {
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains(title) && svg.contains("font-family=\"sans-serif\""));
    }
}

/// With FEEDESK_TEST_OUT=DIR, keeps a copy of the workbook to look at (rendered by LibreOffice).
fn keep_for_viewing(path: &std::path::Path) {
    if let Ok(dir) = std::env::var("FEEDESK_TEST_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            path,
            std::path::Path::new(&dir).join(path.file_name().unwrap()),
        )
        .unwrap();
    }
}
