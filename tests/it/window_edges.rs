//! The rough edges a finance officer met in the window (issue 20) that the core decides: the
//! bill list says how many of its bills are voided (the dashboard counts without them), and
//! reasons typed in Chinese keep their full-width punctuation.

use crate::support::billing_support;

use billing_support::*;
use feedesk::billing::{self, BillFilter, Channel};

async fn desk() -> (tempfile::TempDir, feedesk::FeeDesk) {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
    institution(&desk).await;
    roster(
        &desk,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S003", "王五", "一班", ""),
        ],
    )
    .await;
    account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
    fee(&desk, "XH", "学费").await;
    (dir, desk)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bill_list_counts_its_voided_bills_apart() {
    let (_dir, d) = desk().await;
    let p = plan(
        &d,
        plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金"),
    )
    .await;
    billing::issue_plan(&d, p.id).await.unwrap();
    let s2 = bill_of(&d, p.id, "S002").await;
    billing::void_bill(&d, s2.id, "重复开单").await.unwrap();

    // Only by unit and status: from the running totals.
    let all = billing::bill_page(&d, &BillFilter::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!((all.total, all.voided), (3, 1));
    assert_eq!(
        all.amount_due,
        m("200.00"),
        "the voided bill's amount is not due"
    );
    // With a search: by scanning the bills.
    let filter = BillFilter {
        search: Some("S00".into()),
        ..BillFilter::default()
    };
    let searched = billing::bill_page(&d, &filter, 0, 10).await.unwrap();
    assert_eq!((searched.total, searched.voided), (3, 1));
    let open = BillFilter {
        status: Some("open".into()),
        ..BillFilter::default()
    };
    let open = billing::bill_page(&d, &open, 0, 10).await.unwrap();
    assert_eq!((open.total, open.voided), (2, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn reasons_keep_their_full_width_punctuation() {
    let (_dir, d) = desk().await;
    let p = plan(
        &d,
        plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金"),
    )
    .await;
    billing::issue_plan(&d, p.id).await.unwrap();
    let s1 = bill_of(&d, p.id, "S001").await;
    let s3 = bill_of(&d, p.id, "S003").await;

    let voided = billing::void_bill(&d, s3.id, " 转班（家长申请），见：附件！ ")
        .await
        .unwrap();
    assert_eq!(voided.note.as_deref(), Some("转班（家长申请），见：附件！"));

    let paid = pay(&d, s1.id, "100", "西湖现金", "k-1").await.unwrap();
    refund(
        &d,
        paid.payment_id,
        "30",
        "退还部分材料费（已与家长确认）；ＯＫ",
        "k-2",
    )
    .await
    .unwrap();
    let reason: String = sqlx::query_scalar("SELECT reason FROM refunds")
        .fetch_one(d.db().pool())
        .await
        .unwrap();
    assert_eq!(
        reason, "退还部分材料费（已与家长确认）；OK",
        "full-width letters fold, punctuation stays"
    );
}
