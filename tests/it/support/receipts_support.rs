//! Helpers for the receipt tests: an institution with guardians on file (imported through the
//! real roster import), a class plan at XH paid in cash, and PDF text through `pdftotext`.

use std::path::Path;

use feedesk::FeeDesk;
use feedesk::billing::{self, Channel, PaymentRequest, PaymentResult};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest};

pub use super::billing_support::*;

/// The institution of the billing tests, with members at XH 一班 (S001 张三, guardian 张建国;
/// S002 李四, guardian 李娜; S003 王五, no guardian name), XH 二班 (S004 赵六), BJ 一班 (B001
/// 陈七); a cash account at XH and a bank account at BJ; 学费 at HQ; plans: XH 一班 2800 with
/// partial payment, XH 二班 1234.56, BJ 一班 100.05. Returns the plan ids.
pub async fn school(desk: &FeeDesk) -> (i64, i64, i64) {
    institution(desk).await;
    let csv = "学号,姓名,家长姓名,校区,班级,家长手机号码\n\
               S001,张三,张建国,XH,一班,13800000001\n\
               S002,李四,李娜,XH,一班,13800000002\n\
               S003,王五,,XH,一班,13800000003\n\
               S004,赵六,赵敏,XH,二班,13800000004\n\
               B001,陈七,陈红,BJ,一班,13800000005\n";
    let file = desk.data_dir().join("roster.csv");
    std::fs::write(&file, csv).unwrap();
    let report = roster::import_roster(
        desk,
        &ImportRequest {
            file: file.clone(),
            unit_code: "HQ".into(),
            term_name: Some(TERM.into()),
            sheet: None,
            overrides: vec![],
            create_classes: false,
            mode: ImportMode::All,
            dry_run: false,
            errors_out: None,
        },
        &ignore_progress,
        &CancelToken::new(),
    )
    .await
    .unwrap();
    assert!(report.committed, "{:?}", report.errors);
    std::fs::remove_file(file).unwrap();
    account(desk, "XH", Channel::OfflineCash, "西湖前台现金").await;
    account(desk, "BJ", Channel::OfflineBank, "滨江对公户").await;
    fee(desk, "HQ", "学费").await;
    let mut one = plan_req("学费", class("XH/一班"), "fixed:2800", "西湖前台现金");
    one.allow_partial = true;
    let one = plan(desk, one).await.id;
    let two = plan(
        desk,
        plan_req("学费", class("XH/二班"), "fixed:1234.56", "西湖前台现金"),
    )
    .await
    .id;
    let bj = plan(
        desk,
        plan_req("学费", class("BJ/一班"), "fixed:100.05", "滨江对公户"),
    )
    .await
    .id;
    for p in [one, two, bj] {
        billing::issue_plan(desk, p).await.unwrap();
    }
    (one, two, bj)
}

pub async fn cash(desk: &FeeDesk, bill: i64, amount: &str, key: &str) -> PaymentResult {
    pay(desk, bill, amount, "西湖前台现金", key).await.unwrap()
}

pub async fn bank(
    desk: &FeeDesk,
    bill: i64,
    amount: &str,
    key: &str,
    reference: &str,
) -> PaymentResult {
    billing::record_payment(
        desk,
        &PaymentRequest {
            bill_id: bill,
            amount: m(amount),
            account: "滨江对公户".into(),
            reference: Some(reference.into()),
            key: key.into(),
        },
    )
    .await
    .unwrap()
}

/// The text layer of a PDF, as `pdftotext -layout` gives it.
pub fn pdf_text(pdf: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed: {:?}", out);
    String::from_utf8(out.stdout).unwrap()
}

/// Runs SQL as an attacker with the database file would: with sqlx, straight on the file.
pub async fn tamper(desk: &FeeDesk, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(desk.db().pool())
        .await
        .unwrap();
}
