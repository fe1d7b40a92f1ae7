//! Two behaviours on their own: a member who leaves and comes back is billed again (but one a
//! person exempted by voiding is not), and the dashboard's money figures — tiles, aging
//! buckets, the collection trend and the drill-down tree — add up to the bills behind them.

use crate::support::billing_support;

use billing_support::*;
use chrono::{Duration, TimeZone, Utc};
use feedesk::billing::{self, Channel, MoneyNode, PlanTarget};

#[tokio::test(flavor = "multi_thread")]
async fn a_member_who_comes_back_is_billed_again_but_an_exempted_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
    let d = &desk;
    institution(d).await;
    roster(
        d,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S003", "王五", "一班", ""),
        ],
    )
    .await;
    account(d, "XH", Channel::OfflineCash, "西湖现金").await;
    fee(d, "XH", "学费").await;
    let p = plan(d, plan_req("学费", class("一班"), "fixed:3000", "西湖现金")).await;
    billing::issue_plan(d, p.id).await.unwrap();
    let s1 = bill_of(d, p.id, "S001").await;
    let s2 = bill_of(d, p.id, "S002").await;

    // S001 leaves: its unpaid bill is voided. A person exempts S002 by voiding its bill.
    set_status(d, "XH", "S001", "张三", "一班", "退学").await;
    let left = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!((left.new_bills, left.voided), (0, 1));
    billing::void_bill(d, s2.id, "助学减免").await.unwrap();

    // S001 comes back: a new bill; the voided one stays voided. S002 stays exempt.
    set_status(d, "XH", "S001", "张三", "一班", "在读").await;
    let preview = billing::preview_issue(d, p.id).await.unwrap();
    let back = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!((preview.new_bills, back.new_bills), (1, 1));
    assert_eq!(back.sample[0].member_no, "S001");
    assert_eq!((back.targeted, back.already_billed, back.voided), (3, 2, 0));
    let s001: Vec<_> = plan_bills(d, p.id)
        .await
        .into_iter()
        .filter(|b| b.member_no == "S001")
        .map(|b| (b.id, b.status))
        .collect();
    assert_eq!(s001.len(), 2, "{s001:?}");
    assert!(s001.contains(&(s1.id, "voided".to_string())));
    assert!(
        s001.iter()
            .any(|(id, status)| *id != s1.id && status == "open")
    );
    assert_eq!(bill(d, s2.id).await.status, "voided");

    // Issuing again changes nothing.
    let again = billing::issue_plan(d, p.id).await.unwrap();
    assert_eq!((again.new_bills, again.voided), (0, 0));
    assert_books(d).await;
}

fn find<'a>(node: &'a MoneyNode, code: &str) -> Option<&'a MoneyNode> {
    if node.code == code {
        return Some(node);
    }
    node.children.iter().find_map(|c| find(c, code))
}

/// Every node's figures are its own bills' plus its children's.
fn assert_tree_adds_up(node: &MoneyNode, own: &dyn Fn(&str) -> [i64; 3]) {
    let mut sum = own(&node.code);
    for child in &node.children {
        assert_tree_adds_up(child, own);
        sum[0] += child.figures.billed.fen();
        sum[1] += child.figures.collected.fen();
        sum[2] += child.figures.outstanding.fen();
    }
    let f = &node.figures;
    assert_eq!(
        [f.billed.fen(), f.collected.fen(), f.outstanding.fen()],
        sum,
        "{}",
        node.code
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_figures_aging_and_tree_add_up_to_the_bills() {
    let dir = tempfile::tempdir().unwrap();
    // 2026-09-02 09:00 in Shanghai.
    let clock = TestClock::at(default_time());
    let desk = open(&dir.path().join("data"), clock.clone()).await;
    let d = &desk;
    institution(d).await;
    roster(
        d,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S003", "王五", "一班", ""),
            ("BJ", "B001", "周八", "一班", ""),
            ("BJ", "B002", "吴九", "一班", ""),
            ("CD", "C001", "郑十", "一班", ""),
        ],
    )
    .await;
    account(d, "HQ", Channel::OfflineCash, "总部现金").await;
    fee(d, "HQ", "学费").await;
    // Due on three dates, so the aging buckets fill differently.
    let mut plans = vec![];
    for (store, due, rule) in [
        ("XH", day(2026, 9, 1), "fixed:1000"),
        ("BJ", day(2026, 10, 15), "fixed:500"),
        ("CD", day(2026, 12, 31), "fixed:800"),
    ] {
        let mut req = plan_req(
            "学费",
            PlanTarget::Class(format!("{store}/一班")),
            rule,
            "总部现金",
        );
        req.due_on = due;
        req.allow_partial = true;
        let p = plan(d, req).await;
        billing::issue_plan(d, p.id).await.unwrap();
        plans.push(p.id);
    }
    // Payments on two days; a refund; a void.
    let s1 = bill_of(d, plans[0], "S001").await;
    let s2 = bill_of(d, plans[0], "S002").await;
    let s3 = bill_of(d, plans[0], "S003").await;
    let b1 = bill_of(d, plans[1], "B001").await;
    let p1 = pay(d, s1.id, "1000", "总部现金", "k1").await.unwrap();
    clock.set(default_time() + Duration::days(3));
    pay(d, s2.id, "400", "总部现金", "k2").await.unwrap();
    pay(d, b1.id, "500", "总部现金", "k3").await.unwrap();
    refund(d, p1.payment_id, "100", "缺课", "r1").await.unwrap();
    billing::void_bill(d, s3.id, "转班").await.unwrap();

    // As of 2026-11-20 (local): XH's rest (600, due 09-01) is 80 days late; BJ's B002 (500,
    // due 10-15) 36 days; CD's C001 (800, due 12-31) not yet due.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap());
    let hq = billing::money_summary(d, "HQ", None).await.unwrap();
    assert_eq!(hq.as_of, "2026-11-20");
    let f = &hq.figures;
    // Billed: 2 x 1000 (S003 voided) + 2 x 500 + 800.
    assert_eq!(f.billed, m("3800.00"));
    assert_eq!(f.bills, 5);
    assert_eq!(f.collected, m("1900.00"));
    assert_eq!(f.refunded, m("100.00"));
    assert_eq!(f.outstanding, m("1900.00"));
    assert_eq!(f.collection_rate.to_string(), "0.5000");
    let aging: Vec<(String, u64, String)> = hq
        .aging
        .iter()
        .map(|a| (a.bucket.clone(), a.bills, a.amount.to_string()))
        .collect();
    assert_eq!(
        aging,
        vec![
            ("not_due".to_string(), 1, "800.00".to_string()),
            ("0_30".to_string(), 0, "0.00".to_string()),
            ("31_60".to_string(), 1, "500.00".to_string()),
            ("61_90".to_string(), 1, "600.00".to_string()),
            ("90_plus".to_string(), 0, "0.00".to_string()),
        ]
    );
    let aged: i64 = hq.aging.iter().map(|a| a.amount.fen()).sum();
    assert_eq!(
        aged,
        f.outstanding.fen(),
        "aging covers exactly what is outstanding"
    );
    // The trend covers the last 30 days: the payments were in early September, outside it.
    assert_eq!(hq.trend.len(), 30);
    assert_eq!(hq.trend.last().unwrap().day, "2026-11-20");
    assert!(hq.trend.iter().all(|t| t.payments == 0));
    // Seen on 2026-09-10 the trend has them, on their local days.
    let early = billing::money_summary(d, "HQ", Some(day(2026, 9, 10)))
        .await
        .unwrap();
    let days: Vec<(String, u64, String)> = early
        .trend
        .iter()
        .filter(|t| t.payments > 0)
        .map(|t| (t.day.clone(), t.payments, t.amount.to_string()))
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-09-02".to_string(), 1, "1000.00".to_string()),
            ("2026-09-05".to_string(), 2, "900.00".to_string()),
        ]
    );

    // A region sees only its stores.
    let east = billing::money_summary(d, "EAST", None).await.unwrap();
    assert_eq!(east.figures.billed, m("3000.00"));
    assert_eq!(east.figures.outstanding, m("1100.00"));

    // The tree: each node is its own bills plus its children's; HQ equals the tiles.
    let tree = billing::money_tree(d, "HQ").await.unwrap();
    assert_eq!(tree.figures, hq.figures);
    let own = |code: &str| -> [i64; 3] {
        match code {
            "XH" => [200_000, 140_000, 60_000],
            "BJ" => [100_000, 50_000, 50_000],
            "CD" => [80_000, 0, 80_000],
            _ => [0, 0, 0],
        }
    };
    assert_tree_adds_up(&tree, &own);
    assert_eq!(find(&tree, "WEST").unwrap().figures.billed, m("800.00"));
    assert_eq!(
        find(&tree, "BJ")
            .unwrap()
            .figures
            .collection_rate
            .to_string(),
        "0.5000"
    );
    assert_books(d).await;
}
