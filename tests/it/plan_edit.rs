//! Correcting a fee plan before it is issued (issue 20): edited under the same id with every
//! rule checked again, deleted, both refused once issued; a discount for a member the plan does
//! not charge refused naming the member, instead of being stored and never applied.

use crate::support::billing_support;

use billing_support::*;
use feedesk::billing::{self, Channel, PlanTarget};
use feedesk::{ErrorCode, FeeDesk};

async fn desk() -> (tempfile::TempDir, FeeDesk) {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
    institution(&desk).await;
    roster(
        &desk,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S004", "赵六", "二班", ""),
        ],
    )
    .await;
    account(&desk, "XH", Channel::OfflineCash, "西湖现金").await;
    fee(&desk, "XH", "学费").await;
    (dir, desk)
}

async fn audit_actions(d: &FeeDesk) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_log WHERE entity = 'fee_plan' ORDER BY id")
        .fetch_all(d.db().pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_discount_for_a_member_the_plan_does_not_charge_is_refused() {
    let (_dir, d) = desk().await;
    let before = snapshot(&d).await;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:1000", "西湖现金");
    // S004 is a member of XH, but of 二班: the discount would never apply.
    req.discounts = vec!["S001=10%:兄妹同读".into(), "S004=200:困难补助".into()];
    let err = billing::add_plan(&d, &req).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    assert!(err.to_string().contains("S004 (赵六)"), "{err}");
    // No such member at all.
    req.discounts = vec!["S999=10%:写错学号".into()];
    let err = billing::add_plan(&d, &req).await.unwrap_err();
    assert!(err.to_string().contains("S999"), "{err}");
    assert_eq!(snapshot(&d).await, before, "a refused plan writes nothing");
    assert_eq!(billing::list_plans(&d, None).await.unwrap().len(), 0);

    // Charged through a unit, S004 may have one.
    let mut req = plan_req(
        "XH/学费",
        PlanTarget::Unit("XH".into()),
        "fixed:1000",
        "西湖现金",
    );
    req.discounts = vec!["S004=200:困难补助".into()];
    assert_eq!(billing::add_plan(&d, &req).await.unwrap().discounts, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unissued_plan_is_edited_under_its_id_and_deleted() {
    let (_dir, d) = desk().await;
    let mut req = plan_req("XH/学费", class("一班"), "fixed:1000", "西湖现金");
    req.discounts = vec!["S001=10%:兄妹同读（二孩）".into()];
    let p = plan(&d, req).await;

    let mut fixed = plan_req("XH/学费", class("一班"), "split:1500", "西湖现金");
    fixed.discounts = vec!["S002=50:早报名".into()];
    let edited = billing::edit_plan(&d, p.id, &fixed).await.unwrap();
    assert_eq!(edited.id, p.id, "the id stays");
    assert_eq!(edited.rule, "split:1500.00");
    let discounts = billing::plan_discounts(&d, p.id).await.unwrap();
    assert_eq!(discounts.len(), 1);
    assert_eq!(
        (
            discounts[0].member_no.as_str(),
            discounts[0].member_name.as_str(),
            discounts[0].discount.as_str(),
            discounts[0].reason.as_str()
        ),
        ("S002", "李四", "50.00", "早报名")
    );

    // An edit that breaks a rule changes nothing.
    let before = snapshot(&d).await;
    let plans_before = billing::list_plans(&d, None).await.unwrap();
    let mut bad = fixed.clone();
    bad.discounts = vec!["S004=10%:不在本班".into()];
    assert!(billing::edit_plan(&d, p.id, &bad).await.is_err());
    assert_eq!(snapshot(&d).await, before);
    assert_eq!(billing::list_plans(&d, None).await.unwrap(), plans_before);

    // Issued, it is neither edited nor deleted.
    billing::issue_plan(&d, p.id).await.unwrap();
    let before = snapshot(&d).await;
    let err = billing::edit_plan(&d, p.id, &fixed).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("issued"), "{err}");
    assert_eq!(
        billing::delete_plan(&d, p.id).await.unwrap_err().code(),
        ErrorCode::Conflict
    );
    assert_eq!(snapshot(&d).await, before);

    // Another, unissued, is deleted with its discounts.
    let mut other = plan_req("XH/学费", class("一班"), "fixed:300", "西湖现金");
    other.discounts = vec!["S001=10%:兄妹同读".into()];
    let q = plan(&d, other).await;
    billing::delete_plan(&d, q.id).await.unwrap();
    assert_eq!(
        billing::get_plan(&d, q.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(count(&d, "SELECT count(*) FROM plan_discounts").await, 1);
    assert_eq!(
        audit_actions(&d).await,
        [
            "plan.add",
            "plan.edit",
            "plan.issue",
            "plan.add",
            "plan.delete"
        ]
    );
    assert_books(&d).await;
}
