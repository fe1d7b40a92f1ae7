//! Billing through the built `feedesk` binary, as a store cashier or a script would use it:
//! the exact commands of the billing issue, their JSON shapes, idempotent retries, every
//! refusal as a non-zero exit with one line on stderr that changes nothing, and books that
//! balance to the fen at the store, the region and HQ.

use crate::support::common;

use common::{Env, json, ok, refused};
use serde_json::Value;

const TERM: &str = "2026秋季学期";

/// The institution through the CLI: HQ -> EAST (XH, BJ), WEST (CD), the term, XH 一班 with
/// S003, S001, S002 (imported in that order), BJ 一班 with B001, CD 一班 with C001.
fn institution(env: &Env) {
    ok(&env.cli(&["init", "--name", "星火教育"]));
    for (parent, kind, code, name) in [
        ("HQ", "region", "EAST", "华东区"),
        ("HQ", "region", "WEST", "西南区"),
        ("EAST", "store", "XH", "西湖校区"),
        ("EAST", "store", "BJ", "滨江校区"),
        ("WEST", "store", "CD", "成都校区"),
    ] {
        ok(&env.cli(&[
            "org", "add", "--parent", parent, "--kind", kind, "--code", code, "--name", name,
        ]));
    }
    ok(&env.cli(&[
        "term",
        "add",
        "--name",
        TERM,
        "--start",
        "2026-09-01",
        "--end",
        "2027-01-20",
    ]));
    for unit in ["XH", "BJ", "CD"] {
        ok(&env.cli(&[
            "class", "add", "--unit", unit, "--term", TERM, "--name", "一班",
        ]));
    }
    for (unit, rows) in [
        (
            "XH",
            "S003,王五,一班,13800000003\nS001,张三,一班,13800000001\nS002,李四,一班,13800000002\n",
        ),
        ("BJ", "B001,周八,一班,13800000011\n"),
        ("CD", "C001,郑十,一班,13800000021\n"),
    ] {
        let file = env.path(&format!("{unit}.csv"));
        std::fs::write(&file, format!("学号,姓名,班级,家长手机号码\n{rows}")).unwrap();
        ok(&env.cli(&[
            "import",
            "roster",
            file.to_str().unwrap(),
            "--unit",
            unit,
            "--term",
            TERM,
        ]));
    }
}

fn bills(env: &Env, unit: &str) -> Vec<Value> {
    json(&env.cli(&["bill", "list", "--unit", unit, "--json"]))
        .as_array()
        .expect("an array of bills")
        .clone()
}

fn bill_of<'a>(bills: &'a [Value], member: &str) -> &'a Value {
    bills
        .iter()
        .find(|b| b["member_no"] == member)
        .unwrap_or_else(|| panic!("no bill for {member}"))
}

fn id(v: &Value) -> String {
    v["id"].as_i64().expect("an id").to_string()
}

/// Everything a refusal must leave alone, as the CLI shows it.
fn state(env: &Env) -> String {
    let verify = json(&env.cli(&["ledger", "verify", "--json"]));
    assert_eq!(verify["ok"], true, "ledger verify: {verify}");
    let mut out = ok(&env.cli(&["bill", "list", "--unit", "HQ", "--json"]));
    out.push_str(&ok(&env.cli(&[
        "ledger",
        "trial-balance",
        "--unit",
        "HQ",
        "--rollup",
        "--json",
    ])));
    out.push_str(&ok(&env.cli(&[
        "ledger",
        "trial-balance",
        "--unit",
        "XH",
        "--json",
    ])));
    out.push_str(&verify["check"]["entries"].to_string());
    out.push_str(&verify["check"]["lines"].to_string());
    out
}

fn fen(v: &Value) -> i64 {
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("amounts are decimal strings: {v}"));
    let (yuan, f) = text.split_once('.').expect("two places");
    assert_eq!(f.len(), 2, "{text}");
    let sign = if yuan.starts_with('-') { -1 } else { 1 };
    sign * (yuan.trim_start_matches('-').parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap())
}

fn trial(env: &Env, unit: &str, rollup: bool) -> Value {
    let mut args = vec!["ledger", "trial-balance", "--unit", unit];
    if rollup {
        args.push("--rollup");
    }
    args.push("--json");
    let tb = json(&env.cli(&args));
    assert_eq!(tb["total_debit"], tb["total_credit"], "{unit}: {tb}");
    assert_eq!(tb["balanced"], true);
    let lines = tb["lines"].as_array().expect("lines");
    let debit: i64 = lines.iter().map(|l| fen(&l["debit"])).sum();
    let credit: i64 = lines.iter().map(|l| fen(&l["credit"])).sum();
    assert_eq!(
        debit,
        fen(&tb["total_debit"]),
        "{unit}: lines add up to the total"
    );
    assert_eq!(credit, fen(&tb["total_credit"]));
    tb
}

fn balance(tb: &Value, prefix: &str) -> i64 {
    tb["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            let code = l["code"].as_str().unwrap();
            code == prefix || code.starts_with(&format!("{prefix}."))
        })
        .map(|l| fen(&l["balance"]))
        .sum()
}

/// Done when: a store cashier issues a term's tuition to a class, records payments, refunds
/// one, and the store's, the region's and HQ's books balance to the fen.
#[test]
fn a_store_cashier_bills_a_class_collects_refunds_and_the_books_balance() {
    let env = Env::new();
    institution(&env);
    let account = json(&env.cli(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "offline-cash",
        "--name",
        "西湖现金",
        "--json",
    ]));
    assert_eq!(account["channel"], "offline-cash");
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "BJ",
        "--channel",
        "offline-cash",
        "--name",
        "滨江现金",
    ]));
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "CD",
        "--channel",
        "offline-cash",
        "--name",
        "成都现金",
    ]));
    ok(&env.cli(&["fee", "add", "--unit", "XH", "--name", "学费"]));
    ok(&env.cli(&["fee", "add", "--unit", "BJ", "--name", "学费"]));
    ok(&env.cli(&["fee", "add", "--unit", "CD", "--name", "材料费"]));

    // The issue's own example: 100.00 split over XH 一班.
    let plan = json(&env.cli(&[
        "plan",
        "add",
        "--fee",
        "XH/学费",
        "--class",
        "一班",
        "--rule",
        "split:100",
        "--due",
        "2026-09-30",
        "--account",
        "西湖现金",
        "--json",
    ]));
    assert!(plan.is_object(), "{plan}");
    let plan_id = id(&plan);
    let issued = ok(&env.cli(&["plan", "issue", &plan_id]));
    assert!(issued.contains("3 new bill"), "{issued}");

    let xh = bills(&env, "XH");
    assert_eq!(xh.len(), 3);
    let mut got: Vec<(&str, &str)> = xh
        .iter()
        .map(|b| {
            (
                b["member_no"].as_str().unwrap(),
                b["amount_due"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![("S001", "33.34"), ("S002", "33.33"), ("S003", "33.33")]
    );
    for b in &xh {
        assert!(b["id"].is_i64(), "{b}");
        assert_eq!(b["plan"].as_i64().unwrap().to_string(), plan_id);
        assert_eq!(b["amount_paid"], "0.00", "amounts are decimal strings");
        assert_eq!(b["status"], "open");
        assert_eq!(b["due_date"], "2026-09-30");
    }
    // Issuing again adds nothing.
    let again = ok(&env.cli(&["plan", "issue", &plan_id]));
    assert!(
        again.contains("0 new bill") && again.contains("3 already billed"),
        "{again}"
    );
    assert_eq!(bills(&env, "XH").len(), 3);

    // The term's tuition for BJ 一班 and CD 一班, partial payments allowed in CD.
    let bj_plan = json(&env.cli(&[
        "plan",
        "add",
        "--fee",
        "BJ/学费",
        "--class",
        "BJ/一班",
        "--rule",
        "fixed:3000",
        "--due",
        "2026-09-15",
        "--account",
        "滨江现金",
        "--json",
    ]));
    ok(&env.cli(&["plan", "issue", &id(&bj_plan)]));
    let cd_plan = json(&env.cli(&[
        "plan",
        "add",
        "--fee",
        "材料费",
        "--class",
        "CD/一班",
        "--rule",
        "fixed:450.50",
        "--due",
        "2026-09-15",
        "--account",
        "成都现金",
        "--partial",
        "--json",
    ]));
    ok(&env.cli(&["plan", "issue", &id(&cd_plan)]));

    // Payments.
    let s1 = id(bill_of(&xh, "S001"));
    let paid = json(&env.cli(&[
        "pay",
        "--bill",
        &s1,
        "--amount",
        "33.34",
        "--account",
        "西湖现金",
        "--key",
        "xh-s001",
        "--json",
    ]));
    assert!(paid["payment_id"].is_i64(), "{paid}");
    assert_eq!(paid["bill_id"].as_i64().unwrap().to_string(), s1);
    assert_eq!(paid["amount"], "33.34");
    assert_eq!(paid["status"], "paid");
    let s2 = id(bill_of(&xh, "S002"));
    let paid2 = json(&env.cli(&[
        "pay",
        "--bill",
        &s2,
        "--amount",
        "33.33",
        "--account",
        "西湖现金",
        "--key",
        "xh-s002",
        "--json",
    ]));
    let b1 = id(&bills(&env, "BJ")[0]);
    ok(&env.cli(&[
        "pay",
        "--bill",
        &b1,
        "--amount",
        "3000",
        "--account",
        "滨江现金",
        "--key",
        "bj-b001",
    ]));
    let c1 = id(&bills(&env, "CD")[0]);
    let part = json(&env.cli(&[
        "pay",
        "--bill",
        &c1,
        "--amount",
        "200.25",
        "--account",
        "成都现金",
        "--key",
        "cd-c001",
        "--json",
    ]));
    assert_eq!(part["status"], "partial");

    // A retry with the same key is the same payment.
    let retry = json(&env.cli(&[
        "pay",
        "--bill",
        &s1,
        "--amount",
        "33.34",
        "--account",
        "西湖现金",
        "--key",
        "xh-s001",
        "--json",
    ]));
    assert_eq!(retry["payment_id"], paid["payment_id"]);
    let detail = json(&env.cli(&["bill", "show", &s1, "--json"]));
    assert_eq!(detail["payments"].as_array().unwrap().len(), 1);

    // One refund.
    let refund = json(&env.cli(&[
        "refund",
        "--payment",
        &paid2["payment_id"].to_string(),
        "--amount",
        "33.33",
        "--reason",
        "退学",
        "--key",
        "xh-s002-refund",
        "--json",
    ]));
    assert_eq!(refund["status"], "refunded");
    assert_eq!(refund["amount"], "33.33");
    assert_eq!(refund["refundable"], "0.00");
    let xh = bills(&env, "XH");
    assert_eq!(bill_of(&xh, "S002")["status"], "refunded");
    assert_eq!(bill_of(&xh, "S001")["status"], "paid");
    assert_eq!(bill_of(&xh, "S003")["status"], "open");

    // The books, to the fen.
    let xh_tb = trial(&env, "XH", false);
    assert_eq!(balance(&xh_tb, "1122"), 3333, "S003 still owes 33.33");
    assert_eq!(
        balance(&xh_tb, "1001"),
        3334,
        "33.34 + 33.33 - 33.33 in cash"
    );
    assert_eq!(balance(&xh_tb, "6002"), 3333, "refunds");
    assert_eq!(balance(&xh_tb, "6001"), -10000, "income 100.00");
    let bj_tb = trial(&env, "BJ", false);
    assert_eq!(balance(&bj_tb, "1122"), 0);
    assert_eq!(balance(&bj_tb, "1001"), 300000);
    let cd_tb = trial(&env, "CD", false);
    assert_eq!(balance(&cd_tb, "1122"), 45050 - 20025);
    assert_eq!(balance(&cd_tb, "1001"), 20025);
    let east = trial(&env, "EAST", true);
    let west = trial(&env, "WEST", true);
    let hq = trial(&env, "HQ", true);
    let total = |t: &Value| fen(&t["total_debit"]);
    assert_eq!(
        total(&east),
        total(&xh_tb) + total(&bj_tb),
        "the region is its stores"
    );
    assert_eq!(total(&west), total(&cd_tb));
    assert_eq!(
        total(&hq),
        total(&xh_tb) + total(&bj_tb) + total(&cd_tb),
        "HQ is every store"
    );
    for code in ["1122", "1001", "6001", "6002"] {
        assert_eq!(
            balance(&hq, code),
            balance(&xh_tb, code) + balance(&bj_tb, code) + balance(&cd_tb, code),
            "HQ {code}"
        );
    }
    assert_eq!(
        trial(&env, "EAST", false)["lines"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let verify = json(&env.cli(&["ledger", "verify", "--json"]));
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["check"]["problems"].as_array().unwrap().len(), 0);
    let text = ok(&env.cli(&["ledger", "verify"]));
    assert!(text.contains("Books sound"), "{text}");
}

/// Every refusal exits non-zero with one line on stderr and changes nothing.
#[test]
fn every_refusal_is_one_line_and_changes_nothing() {
    let env = Env::new();
    institution(&env);
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
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "offline-cash",
        "--name",
        "西湖备用金",
    ]));
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "offline-bank",
        "--name",
        "西湖银行",
    ]));
    ok(&env.cli(&["fee", "add", "--unit", "XH", "--name", "学费"]));
    ok(&env.cli(&["fee", "add", "--unit", "XH", "--name", "书费"]));
    let full = json(&env.cli(&[
        "plan",
        "add",
        "--fee",
        "学费",
        "--class",
        "一班",
        "--rule",
        "fixed:3000",
        "--due",
        "2026-09-30",
        "--account",
        "西湖现金",
        "--json",
    ]));
    ok(&env.cli(&["plan", "issue", &id(&full)]));
    let books = json(&env.cli(&[
        "plan",
        "add",
        "--fee",
        "书费",
        "--class",
        "一班",
        "--rule",
        "fixed:80",
        "--due",
        "2026-09-30",
        "--account",
        "西湖银行",
        "--partial",
        "--json",
    ]));
    ok(&env.cli(&["plan", "issue", &id(&books)]));
    let all = bills(&env, "XH");
    let tuition: Vec<&Value> = all.iter().filter(|b| b["plan"] == full["id"]).collect();
    let book: Vec<&Value> = all.iter().filter(|b| b["plan"] == books["id"]).collect();
    let t1 = id(tuition[0]);
    let t2 = id(tuition[1]);
    let k1 = id(book[0]);

    let pay = |bill: &str, amount: &str, account: &str, key: &str| {
        env.cli(&[
            "pay",
            "--bill",
            bill,
            "--amount",
            amount,
            "--account",
            account,
            "--key",
            key,
            "--json",
        ])
    };
    let first = json(&pay(&t1, "3000", "西湖现金", "t1"));
    let before = state(&env);

    let cases: Vec<(Vec<String>, &str)> = vec![
        // Wrong account: another cash account of the same store.
        (
            vec![
                "pay",
                "--bill",
                &t2,
                "--amount",
                "3000",
                "--account",
                "西湖备用金",
                "--key",
                "w1",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "designated account '西湖现金'",
        ),
        (
            vec![
                "pay",
                "--bill",
                &t2,
                "--amount",
                "3000.01",
                "--account",
                "西湖现金",
                "--key",
                "w2",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "overpayment",
        ),
        (
            vec![
                "pay",
                "--bill",
                &t2,
                "--amount",
                "1500",
                "--account",
                "西湖现金",
                "--key",
                "w3",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "partial",
        ),
        (
            vec![
                "pay",
                "--bill",
                &k1,
                "--amount",
                "80",
                "--account",
                "西湖银行",
                "--key",
                "w4",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "reference",
        ),
        (
            vec![
                "pay",
                "--bill",
                &t2,
                "--amount",
                "30.001",
                "--account",
                "西湖现金",
                "--key",
                "w5",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "two decimal places",
        ),
        (
            vec![
                "pay",
                "--bill",
                &t1,
                "--amount",
                "0.01",
                "--account",
                "西湖现金",
                "--key",
                "w6",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "already paid",
        ),
        // The same key with a different request.
        (
            vec![
                "pay",
                "--bill",
                &t1,
                "--amount",
                "2999",
                "--account",
                "西湖现金",
                "--key",
                "t1",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "idempotency key 't1'",
        ),
        (
            vec![
                "pay",
                "--bill",
                &t2,
                "--amount",
                "3000",
                "--account",
                "西湖现金",
                "--key",
                "t1",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "idempotency key 't1'",
        ),
        // Refunds above what was paid, or without a reason.
        (
            vec![
                "refund",
                "--payment",
                &first["payment_id"].to_string(),
                "--amount",
                "3000.01",
                "--reason",
                "退费",
                "--key",
                "w7",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "more than",
        ),
        (
            vec![
                "refund",
                "--payment",
                &first["payment_id"].to_string(),
                "--amount",
                "10",
                "--reason",
                " ",
                "--key",
                "w8",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "reason",
        ),
        (
            vec![
                "refund",
                "--payment",
                "99999",
                "--amount",
                "10",
                "--reason",
                "退费",
                "--key",
                "w9",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "no payment",
        ),
        (
            vec!["bill", "void", &t1, "--reason", "错开"]
                .into_iter()
                .map(String::from)
                .collect(),
            "refund",
        ),
        (
            vec!["ledger", "trial-balance", "--unit", "NOPE"]
                .into_iter()
                .map(String::from)
                .collect(),
            "NOPE",
        ),
    ];
    for (args, needle) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = refused(&env.cli(&args));
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains(needle), "{args:?}: '{line}' lacks '{needle}'");
        assert_eq!(state(&env), before, "{args:?} changed something");
    }

    // A refused key is not burnt: the right request with it goes through once.
    let ok1 = json(&pay(&t2, "3000", "西湖现金", "w1"));
    assert_eq!(ok1["status"], "paid");
    let same = json(&pay(&t2, "3000", "西湖现金", "w1"));
    assert_eq!(same["payment_id"], ok1["payment_id"]);
    let with_ref = json(&env.cli(&[
        "pay",
        "--bill",
        &k1,
        "--amount",
        "30",
        "--account",
        "西湖银行",
        "--key",
        "w4",
        "--reference",
        "ICBC-0902-7",
        "--json",
    ]));
    assert_eq!(with_ref["status"], "partial");
    let detail = json(&env.cli(&["bill", "show", &k1, "--json"]));
    assert_eq!(detail["payments"][0]["reference"], "ICBC-0902-7");
    let verify = json(&env.cli(&["ledger", "verify", "--json"]));
    assert_eq!(verify["ok"], true, "{verify}");
}

/// `ledger verify` exits 3 and names the problem when the books were edited behind its back.
#[test]
fn ledger_verify_fails_on_tampered_books() {
    let env = Env::new();
    institution(&env);
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
    ok(&env.cli(&["fee", "add", "--unit", "XH", "--name", "学费"]));
    let plan = json(&env.cli(&[
        "plan",
        "add",
        "--fee",
        "学费",
        "--class",
        "一班",
        "--rule",
        "split:100",
        "--due",
        "2026-09-30",
        "--account",
        "西湖现金",
        "--json",
    ]));
    ok(&env.cli(&["plan", "issue", &id(&plan)]));
    assert!(env.cli(&["ledger", "verify"]).status.success());

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let desk = feedesk::FeeDesk::open(&env.data_dir()).await.unwrap();
        sqlx::query(
            "UPDATE bills SET due_fen = due_fen + 1 WHERE id = (SELECT min(id) FROM bills)",
        )
        .execute(desk.db().pool())
        .await
        .unwrap();
        desk.db().clone().close().await;
    });
    let out = env.cli(&["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("receivable in the books of unit"), "{text}");
    let out = env.cli(&["ledger", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(!v["check"]["problems"].as_array().unwrap().is_empty());
}
