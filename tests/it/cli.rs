//! The built `feedesk` binary, run as a user or a script would, on a temp data folder.

use crate::support::common;

use common::{Env, json, ok};
use serde_json::Value;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The CLI tour's story (docs/cli.md): an institution with two regions and three stores, a messy roster,
/// the rejected rows explained, the fixed roster, every member exactly once.
#[test]
fn new_user_story() {
    let env = Env::new();
    ok(&env.cli(&["init", "--name", "星火教育"]));
    for args in [
        [
            "--parent",
            "HQ",
            "--kind",
            "region",
            "--code",
            "EAST",
            "--name",
            "华东区",
        ],
        [
            "--parent",
            "HQ",
            "--kind",
            "region",
            "--code",
            "WEST",
            "--name",
            "西南区",
        ],
        [
            "--parent",
            "EAST",
            "--kind",
            "store",
            "--code",
            "XH",
            "--name",
            "西湖校区",
        ],
        [
            "--parent",
            "EAST",
            "--kind",
            "store",
            "--code",
            "BJ",
            "--name",
            "滨江校区",
        ],
        [
            "--parent",
            "WEST",
            "--kind",
            "store",
            "--code",
            "CD",
            "--name",
            "成都校区",
        ],
    ] {
        let mut a = vec!["org", "add"];
        a.extend(args);
        ok(&env.cli(&a));
    }
    let tree = json(&env.cli(&["org", "list", "--json"]));
    assert_eq!(tree["code"], "HQ");
    assert_eq!(tree["kind"], "hq");
    assert_eq!(tree["children"][0]["code"], "EAST");
    assert_eq!(tree["children"][0]["children"][1]["code"], "BJ");
    assert_eq!(tree["children"][0]["children"][1]["kind"], "store");
    assert_eq!(tree["children"][1]["children"][0]["name"], "成都校区");

    ok(&env.cli(&[
        "term",
        "add",
        "--name",
        "2026秋季学期",
        "--start",
        "2026-09-01",
        "--end",
        "2027-01-20",
    ]));
    for (unit, class) in [("XH", "一班"), ("XH", "二班"), ("BJ", "一班")] {
        ok(&env.cli(&[
            "class",
            "add",
            "--unit",
            unit,
            "--term",
            "2026秋季学期",
            "--name",
            class,
        ]));
    }

    // The messy roster: nothing committed, every problem named, exit 2.
    let errors_xlsx = env.path("errors.xlsx");
    let out = env.cli(&[
        "import",
        "roster",
        &fixture("messy-roster.xlsx"),
        "--unit",
        "EAST",
        "--term",
        "2026秋季学期",
        "--errors-out",
        errors_xlsx.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "file",
        "sheet",
        "header_row",
        "batch_id",
        "rows_read",
        "imported",
        "updated",
        "unchanged",
        "blank",
        "committed",
        "errors",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["committed"], false);
    assert_eq!(report["header_row"], 2);
    assert_eq!(report["batch_id"], Value::Null);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 9);
    let first = &errors[0];
    assert_eq!(
        (
            first["row"].as_u64(),
            first["column"].as_str(),
            first["field"].as_str(),
            first["code"].as_str()
        ),
        (
            Some(6),
            Some("家长手机号码"),
            Some("guardian_phone"),
            Some("phone_invalid")
        )
    );
    assert!(!first["message"].as_str().unwrap().is_empty());
    assert!(errors_xlsx.exists());
    assert!(
        json(&env.cli(&["member", "list", "--json"]))
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Human output names rows too.
    let out = env.cli(&[
        "import",
        "roster",
        &fixture("messy-roster.xlsx"),
        "--unit",
        "EAST",
        "--term",
        "2026秋季学期",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0), "a dry run finishes with 0");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("phone_invalid") && text.contains("Dry run"),
        "{text}"
    );

    // The fixed roster goes in whole; re-importing changes nothing.
    let fixed = json(&env.cli(&[
        "import",
        "roster",
        &fixture("fixed-roster.xlsx"),
        "--unit",
        "EAST",
        "--term",
        "2026秋季学期",
        "--json",
    ]));
    assert_eq!(fixed["committed"], true);
    assert_eq!(fixed["imported"], 13);
    let batch = fixed["batch_id"].as_i64().unwrap();
    let again = json(&env.cli(&[
        "import",
        "roster",
        &fixture("fixed-roster.xlsx"),
        "--unit",
        "EAST",
        "--term",
        "2026秋季学期",
        "--json",
    ]));
    assert_eq!(
        (again["imported"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(13))
    );

    let members = json(&env.cli(&["member", "list", "--json"]));
    let members = members.as_array().unwrap();
    assert_eq!(members.len(), 13);
    let s001 = members.iter().find(|m| m["member_no"] == "S001").unwrap();
    assert_eq!(s001["guardian_phone"], "138****8000", "masked by default");
    assert_eq!(s001["id_number"], "1101**********002X");
    assert_eq!(s001["unit"], "XH");
    assert_eq!(s001["classes"], serde_json::json!(["一班"]));
    assert_eq!(s001["enrolled_on"], "2026-09-01");
    assert_eq!(s001["status"], "active");
    assert_eq!(s001["guardian_name"], "张父");
    let pii = json(&env.cli(&[
        "member",
        "list",
        "--unit",
        "XH",
        "--class",
        "一班",
        "--show-pii",
        "--json",
    ]));
    let s001 = pii
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member_no"] == "S001")
        .unwrap();
    assert_eq!(s001["guardian_phone"], "13800138000");
    assert!(pii.as_array().unwrap().iter().all(|m| m["unit"] == "XH"));

    // Undo takes the batch back.
    ok(&env.cli(&["import", "undo", &batch.to_string()]));
    assert!(
        json(&env.cli(&["member", "list", "--json"]))
            .as_array()
            .unwrap()
            .is_empty()
    );
    let verify = json(&env.cli(&["audit", "verify", "--json"]));
    assert_eq!(verify["intact"], true);
}

#[test]
fn valid_mode_commits_and_exits_zero() {
    let env = Env::new();
    ok(&env.cli(&["init", "--name", "一家诊所"]));
    ok(&env.cli(&[
        "org", "add", "--parent", "HQ", "--kind", "store", "--code", "C1", "--name", "总店",
    ]));
    let roster = env.path("r.csv");
    std::fs::write(
        &roster,
        "病历号,患者姓名,联系电话\nP1,甲,13800000001\nP2,乙,bad\n",
    )
    .unwrap();
    let out = env.cli(&[
        "import",
        "roster",
        roster.to_str().unwrap(),
        "--unit",
        "C1",
        "--mode",
        "valid",
        "--json",
    ]);
    let r = json(&out);
    assert_eq!(
        (r["committed"].as_bool(), r["imported"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(r["errors"][0]["row"], 3);
}

#[test]
fn failures_print_one_line_and_exit_non_zero() {
    let env = Env::new();
    let out = env.cli(&["org", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("init"), "{err}");

    ok(&env.cli(&["init", "--name", "X"]));
    ok(&env.cli(&[
        "org", "add", "--parent", "HQ", "--kind", "region", "--code", "R1", "--name", "R",
    ]));
    ok(&env.cli(&[
        "org", "add", "--parent", "R1", "--kind", "region", "--code", "R2", "--name", "R2",
    ]));
    for args in [
        vec!["org", "move", "R1", "--parent", "R2"],
        vec![
            "org", "add", "--parent", "NOPE", "--kind", "store", "--code", "S", "--name", "S",
        ],
        vec![
            "import",
            "roster",
            "/nonexistent/roster.xlsx",
            "--unit",
            "HQ",
        ],
        vec!["import", "undo", "42"],
        vec![
            "term",
            "add",
            "--name",
            "T",
            "--start",
            "2026-09-01",
            "--end",
            "2026-01-01",
        ],
    ] {
        let out = env.cli(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}

#[test]
fn demo_builds_a_sample_institution_through_the_real_import() {
    let env = Env::new();
    let report = json(&env.cli(&["demo", "--json"]));
    assert_eq!(
        (report["regions"].as_u64(), report["stores"].as_u64()),
        (Some(2), Some(5))
    );
    assert_eq!(report["import"]["imported"], 2000);
    let codes: Vec<&str> = report["import"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["phone_invalid", "id_number_invalid", "unknown_class"]
    );
    let members = json(&env.cli(&["member", "list", "--unit", "EAST", "--json"]));
    assert_eq!(
        members.as_array().unwrap().len(),
        1200,
        "three of the five stores"
    );
    // A second demo in the same folder is refused rather than mixed in.
    assert_eq!(env.cli(&["demo"]).status.code(), Some(1));
}
