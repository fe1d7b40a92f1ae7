//! `feedesk plan edit ID …` and `feedesk plan delete ID` while a plan is unissued, refused once
//! issued; `--discount` naming a member the plan does not charge refused.

use crate::support::{billing_support, common};

use common::{Env, json, ok, refused};

async fn env() -> Env {
    let env = Env::new();
    let desk = env.desk().await;
    billing_support::institution(&desk).await;
    billing_support::roster(
        &desk,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S004", "赵六", "二班", ""),
        ],
    )
    .await;
    billing_support::account(
        &desk,
        "XH",
        feedesk::billing::Channel::OfflineCash,
        "西湖现金",
    )
    .await;
    billing_support::fee(&desk, "XH", "学费").await;
    drop(desk);
    env
}

const PLAN: [&str; 8] = [
    "--fee",
    "XH/学费",
    "--class",
    "XH/一班",
    "--due",
    "2026-09-30",
    "--account",
    "西湖现金",
];

#[tokio::test(flavor = "multi_thread")]
async fn plans_are_corrected_before_issue_and_not_after() {
    let env = env().await;
    let mut add = vec!["plan", "add"];
    add.extend(PLAN);
    add.extend(["--rule", "fixed:100", "--discount", "S004=10%:不在本班"]);
    let line = refused(&env.cli(&add));
    assert!(line.contains("S004 (赵六)"), "{line}");

    add.truncate(add.len() - 2);
    add.push("--json");
    let plan = json(&env.cli(&add));
    let id = plan["id"].as_i64().unwrap().to_string();

    let mut edit = vec!["plan", "edit", &id];
    edit.extend(PLAN);
    edit.extend([
        "--rule",
        "fixed:120",
        "--discount",
        "S001=20:早报名",
        "--json",
    ]);
    let edited = json(&env.cli(&edit));
    assert_eq!(edited["id"], plan["id"]);
    assert_eq!(edited["rule"], "fixed:120.00");
    assert_eq!(edited["discounts"], 1);

    ok(&env.cli(&["plan", "issue", &id]));
    let line = refused(&env.cli(&edit));
    assert!(line.contains("issued"), "{line}");
    let line = refused(&env.cli(&["plan", "delete", &id]));
    assert!(line.contains("issued"), "{line}");

    let mut other = vec!["plan", "add"];
    other.extend(PLAN);
    other.extend(["--rule", "fixed:5", "--json"]);
    let other = json(&env.cli(&other))["id"].as_i64().unwrap().to_string();
    let out = ok(&env.cli(&["plan", "delete", &other]));
    assert!(out.contains(&format!("Plan {other} deleted")), "{out}");
    let plans = json(&env.cli(&["plan", "list", "--json"]));
    assert_eq!(plans.as_array().unwrap().len(), 1);
}
