//! Reconciliation and the monthly report through the built `feedesk` binary, with the exact
//! commands of the issue: their JSON shapes, an idempotent re-import, a malformed file refused
//! in one line naming the line, resolutions, and both workbooks written.

use crate::support::common;
use crate::support::reconcile_support;

use calamine::{Reader, open_workbook_auto};
use common::{Env, json as json_of, ok, refused};
use reconcile_support::{Line, wechat_bill};
use serde_json::json;

#[test]
fn reconcile_and_report_through_the_cli() {
    let env = Env::new();
    ok(&env.cli(&["init", "--name", "星火教育"]));
    ok(&env.cli(&[
        "org",
        "add",
        "--parent",
        "HQ",
        "--kind",
        "region",
        "--code",
        "EAST",
        "--name",
        "华东区",
    ]));
    ok(&env.cli(&[
        "org",
        "add",
        "--parent",
        "EAST",
        "--kind",
        "store",
        "--code",
        "XH",
        "--name",
        "西湖校区",
    ]));
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "wechat",
        "--name",
        "西湖微信",
    ]));
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "offline-cash",
        "--name",
        "西湖现金",
    ]));

    let bill = wechat_bill(
        "1900000109",
        &[
            Line::pay("2026-09-02 10:00:00", "4200000001", "POS-1", 123_456),
            Line::pay("2026-09-02 11:00:00", "4200000002", "POS-2", 123_456),
        ],
    );
    let file = env.path("wx-20260902.csv");
    std::fs::write(&file, &bill).unwrap();
    let file = file.to_str().unwrap();
    let imported = json_of(&env.cli(&[
        "reconcile",
        "import",
        file,
        "--account",
        "西湖微信",
        "--json",
    ]));
    assert_eq!(imported["lines_read"], 5);
    assert_eq!(imported["new"], 2);
    assert_eq!(imported["duplicate_file"], false);
    let again = json_of(&env.cli(&[
        "reconcile",
        "import",
        file,
        "--account",
        "西湖微信",
        "--json",
    ]));
    assert_eq!(
        (again["new"].clone(), again["duplicate_file"].clone()),
        (json!(0), json!(true))
    );
    let line = refused(&env.cli(&["reconcile", "import", file, "--account", "西湖现金"]));
    assert!(line.contains("offline-cash"), "{line}");
    let broken = env.path("broken.csv");
    std::fs::write(
        &broken,
        bill.replace("`10:00:00", "`25:00:00")
            .replace("2026-09-02 10:00:00", "2026-09-02 25:00:00"),
    )
    .unwrap();
    let line = refused(&env.cli(&[
        "reconcile",
        "import",
        broken.to_str().unwrap(),
        "--account",
        "西湖微信",
    ]));
    assert!(
        line.contains("line 2") && line.contains("交易时间"),
        "{line}"
    );

    let run = json_of(&env.cli(&[
        "reconcile",
        "run",
        "--account",
        "西湖微信",
        "--from",
        "2026-09-02",
        "--to",
        "2026-09-02",
        "--json",
    ]));
    assert_eq!(run["matched"], json!({"count": 0, "amount": "0.00"}));
    assert_eq!(
        run["amount_mismatch"],
        json!({"count": 0, "amount": "0.00"})
    );
    assert_eq!(run["ours_only"], json!({"count": 0, "amount": "0.00"}));
    assert_eq!(
        run["channel_only"],
        json!({"count": 2, "amount": "2469.12"})
    );
    assert_eq!(
        run["refund_mismatch"],
        json!({"count": 0, "amount": "0.00"})
    );
    assert_eq!(run["fees_total"], "14.82", "7.41 per 1234.56");

    let items = json_of(&env.cli(&["reconcile", "list", "--class", "channel_only", "--json"]));
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["channel_amount"], "1234.56");
    assert_eq!(items[0]["status"], "open");
    let id = items[0]["id"].as_i64().unwrap().to_string();
    ok(&env.cli(&[
        "reconcile",
        "resolve",
        &id,
        "--action",
        "explain",
        "--note",
        "POS机测试交易，已退回",
    ]));
    let line = refused(&env.cli(&[
        "reconcile",
        "resolve",
        &id,
        "--action",
        "explain",
        "--note",
        "again",
    ]));
    assert!(line.contains("already resolved"), "{line}");
    let line = refused(&env.cli(&[
        "reconcile",
        "resolve",
        &id,
        "--action",
        "shrug",
        "--note",
        "x",
    ]));
    assert!(line.contains("record, explain or follow-up"), "{line}");
    let line = refused(&env.cli(&["reconcile", "list", "--class", "matched"]));
    assert!(line.contains("not a discrepancy class"), "{line}");
    let open = json_of(&env.cli(&["reconcile", "list", "--status", "open", "--json"]));
    assert_eq!(open.as_array().unwrap().len(), 1);

    let out = env.path("对账.xlsx");
    ok(&env.cli(&[
        "reconcile",
        "export",
        "--account",
        "西湖微信",
        "--from",
        "2026-09-02",
        "--to",
        "2026-09-02",
        "--out",
        out.to_str().unwrap(),
    ]));
    let book = open_workbook_auto(&out).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["Summary", "Matched", "Discrepancies", "Fees"]
    );

    let report = env.path("月报.xlsx");
    let r = json_of(&env.cli(&[
        "report",
        "monthly",
        "--month",
        "2026-09",
        "--unit",
        "HQ",
        "--out",
        report.to_str().unwrap(),
        "--json",
    ]));
    // The chains' anchor sheet follows the summary when a keyring is there (issue 15).
    let sheets: Vec<&str> = r["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .filter(|s| *s != "校验锚点")
        .collect();
    assert_eq!(sheets, ["合并汇总", "华东区 EAST", "西湖校区 XH"]);
    assert_eq!(r["channel_fees"], "14.82");
    let line = refused(&env.cli(&[
        "report",
        "monthly",
        "--month",
        "2026-13",
        "--unit",
        "HQ",
        "--out",
        report.to_str().unwrap(),
    ]));
    assert!(line.contains("not a month"), "{line}");

    let verify = ok(&env.cli(&["ledger", "verify"]));
    assert!(!verify.contains("disagree"), "{verify}");
    ok(&env.cli(&["audit", "verify"]));
}
