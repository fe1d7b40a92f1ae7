//! Reconciliation through the core API: payments collected through the sandbox into a WeChat Pay
//! and an Alipay account whose keys sit in the real OS keyring, statements written by the test
//! to the documented formats with every discrepancy class planted, imported (once: the same file
//! again changes nothing; malformed files refused naming the line), matched, resolved (audited;
//! resolutions survive re-runs), fees posted to the books once, and the workbook read back with
//! calamine cell by cell.
//!
//! Needs a Secret Service: run under tests/keyring-session.sh (as `make test` does).

use crate::support::billing_support;
use crate::support::channels_support;
use crate::support::collection_support;
use crate::support::reconcile_support;

use std::path::Path;
use std::sync::Arc;

use billing_support::*;
use calamine::{Data, Reader, open_workbook_auto};
use channels_support::{MCH_ID, keyring_or_skip};
use collection_support::{ALIPAY, WECHAT, channel_accounts, channel_plans};
use feedesk::billing::RefundRequest;
use feedesk::channels::sandbox::Sandbox;
use feedesk::collection;
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::reconcile::{self, ItemFilter, Resolution, ResolveRequest, RunSummary};
use feedesk::secrets::{SecretRef, SecretStore};
use feedesk::{ErrorCode, FeeDesk};
use reconcile_support::{Line, alipay_zip, wechat_bill};

const SERVICE: &str = "cn.feedesk.app.test.reconciliation";

struct World {
    dir: tempfile::TempDir,
    desk: FeeDesk,
    clock: Arc<TestClock>,
    secrets: SecretStore,
    sandbox: Sandbox,
    wechat_plan: i64,
    alipay_plan: i64,
}

async fn world(test: &str) -> Option<World> {
    let secrets = keyring_or_skip(SERVICE, test).await?;
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(default_time());
    let desk = open(&dir.path().join("data"), clock.clone()).await;
    institution(&desk).await;
    let names = [
        "张三明",
        "李四",
        "王五",
        "赵六",
        "孙七",
        "周八",
        "吴九",
        "郑十",
    ];
    let nos: Vec<(String, String)> = (1..=8)
        .flat_map(|i| {
            [
                ("XH".to_string(), format!("S{i:03}")),
                ("BJ".to_string(), format!("B{i:03}")),
            ]
        })
        .collect();
    let rows: Vec<Row> = nos
        .iter()
        .enumerate()
        .map(|(i, (store, no))| {
            (
                store.as_str(),
                no.as_str(),
                names[i % names.len()],
                "一班",
                "",
            )
        })
        .collect();
    roster(&desk, &rows).await;
    let sandbox = channel_accounts(&desk, &secrets).await;
    let (wechat, alipay) = channel_plans(&desk).await;
    Some(World {
        dir,
        desk,
        clock,
        secrets,
        sandbox,
        wechat_plan: wechat,
        alipay_plan: alipay,
    })
}

impl World {
    async fn finish(self) {
        let check = feedesk::ledger::verify(&self.desk).await.unwrap();
        assert!(check.ok(), "{:?}", check.problems);
        feedesk::audit::verify(self.desk.db().pool()).await.unwrap();
        let refs: Vec<String> = sqlx::query_scalar(
            "SELECT secret_ref FROM collection_accounts WHERE secret_ref IS NOT NULL",
        )
        .fetch_all(self.desk.db().pool())
        .await
        .unwrap();
        for r in refs {
            self.secrets
                .delete(&SecretRef::parse(&r).unwrap())
                .await
                .unwrap();
        }
        self.sandbox.shutdown().await;
    }

    /// Collects the bill of `member` on `plan` through the sandbox and pays it; returns
    /// (order no, transaction id, payment id).
    async fn collect_paid(&self, plan: i64, member: &str) -> (String, String, i64) {
        let bill = bill_of(&self.desk, plan, member).await;
        let order = collection::collect(&self.desk, &self.secrets, bill.id)
            .await
            .unwrap();
        let paid = self.sandbox.handle().pay(&order.order_no).unwrap();
        let report = collection::sync_orders(&self.desk, &self.secrets)
            .await
            .unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let payment: i64 =
            sqlx::query_scalar("SELECT payment_id FROM channel_orders WHERE out_trade_no = ?")
                .bind(&order.order_no)
                .fetch_one(self.desk.db().pool())
                .await
                .unwrap();
        (order.order_no, paid.transaction_id.unwrap(), payment)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    async fn import(
        &self,
        account: &str,
        path: &Path,
    ) -> feedesk::Result<reconcile::StatementImport> {
        reconcile::import_statement(
            &self.desk,
            account,
            path,
            &ignore_progress,
            &CancelToken::new(),
        )
        .await
    }

    async fn run(&self, account: &str) -> RunSummary {
        self.run_on(account, day(2026, 9, 2)).await
    }

    async fn run_on(&self, account: &str, d: chrono::NaiveDate) -> RunSummary {
        reconcile::run_reconciliation(
            &self.desk,
            account,
            d,
            d,
            &ignore_progress,
            &CancelToken::new(),
        )
        .await
        .unwrap()
    }
}

fn tally(s: &RunSummary) -> Vec<(u64, String)> {
    [
        s.matched,
        s.amount_mismatch,
        s.ours_only,
        s.channel_only,
        s.refund_mismatch,
    ]
    .iter()
    .map(|t| (t.count, t.amount.to_string()))
    .collect()
}

async fn count(desk: &FeeDesk, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(desk.db().pool())
        .await
        .unwrap()
}

async fn fee_balance(desk: &FeeDesk, unit: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(b.debit_fen - b.credit_fen), 0) FROM ledger_balances b
         JOIN ledger_accounts a ON a.id = b.account_id JOIN units u ON u.id = a.unit_id
         WHERE a.code = '6603' AND u.code = ?",
    )
    .bind(unit)
    .fetch_one(desk.db().pool())
    .await
    .unwrap()
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f:.2}"),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_day_with_every_discrepancy_is_matched_explained_and_exported() {
    let Some(w) = world("wechat").await else {
        return;
    };
    let d = &w.desk;
    let mut paid = vec![];
    for member in ["S001", "S002", "S003", "S004", "S005"] {
        paid.push(w.collect_paid(w.wechat_plan, member).await);
    }
    // S006: an order the payer paid at the channel after we had given it up here (closed in
    // our books, never at the channel: we never recorded it). Recording it from the statement
    // asks the channel first (issue 15), which confirms it.
    let s006 = bill_of(d, w.wechat_plan, "S006").await;
    let order6 = collection::collect(d, &w.secrets, s006.id).await.unwrap();
    sqlx::query("UPDATE channel_orders SET status = 'closed' WHERE out_trade_no = ?")
        .bind(&order6.order_no)
        .execute(d.db().pool())
        .await
        .unwrap();
    let txn6 = w
        .sandbox
        .handle()
        .pay(&order6.order_no)
        .unwrap()
        .transaction_id
        .unwrap();
    // Refunds through the channel: 500 on S001 (the bill agrees), 300 on S002 (it says 299).
    let refund = |payment, amount: &str, key: &str| RefundRequest {
        payment_id: payment,
        amount: m(amount),
        reason: "退课".into(),
        key: key.into(),
    };
    collection::refund_via_channel(d, &w.secrets, &refund(paid[0].2, "500", "rf-1"))
        .await
        .unwrap();
    collection::refund_via_channel(d, &w.secrets, &refund(paid[1].2, "300", "rf-2"))
        .await
        .unwrap();
    let refund_nos: Vec<String> =
        sqlx::query_scalar("SELECT out_refund_no FROM channel_refunds ORDER BY id")
            .fetch_all(d.db().pool())
            .await
            .unwrap();

    let t = |hm: &str| format!("2026-09-02 {hm}");
    let lines = vec![
        Line::pay(&t("09:01:00"), &paid[0].1, &paid[0].0, 280_000),
        Line::pay(&t("09:02:00"), &paid[1].1, &paid[1].0, 280_000),
        Line::pay(&t("09:03:00"), &paid[2].1, &paid[2].0, 279_900), // amount mismatch
        // S004's payment is missing from the bill: ours only.
        Line::pay(&t("09:05:00"), &paid[4].1, &paid[4].0, 280_000),
        Line::pay(&t("09:06:00"), &txn6, &order6.order_no, 280_000), // channel only, our order
        Line::pay(
            &t("10:00:00"),
            "4200000000202609027777",
            "POS20260902001",
            12_800,
        ), // channel only, not ours
        Line::refund(
            &t("11:00:00"),
            &paid[0].1,
            &paid[0].0,
            &refund_nos[0],
            50_000,
        ),
        Line::refund(
            &t("11:01:00"),
            &paid[1].1,
            &paid[1].0,
            &refund_nos[1],
            29_900,
        ), // refund mismatch
    ];
    let bill = wechat_bill(MCH_ID, &lines);
    let path = w.file("wx-20260902.csv", bill.as_bytes());

    // Malformed copies are refused, naming the line, and leave nothing behind.
    let cut = bill.split("总交易单数").next().unwrap().to_string();
    let err = w
        .import(WECHAT, &w.file("cut.csv", cut.as_bytes()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportFormat, "{err}");
    assert!(
        err.to_string().contains("line 10") && err.to_string().contains("cut short"),
        "{err}"
    );
    let bad = bill.replacen("`2799.00", "`27,99.00", 1);
    let err = w
        .import(WECHAT, &w.file("bad.csv", bad.as_bytes()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("line 4"), "{err}");
    let altered = bill.replacen("`2800.00,`0.00,`0,`0", "`2801.00,`0.00,`0,`0", 1);
    let err = w
        .import(WECHAT, &w.file("altered.csv", altered.as_bytes()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("应结订单总金额"), "{err}");
    let err = w.import(ALIPAY, &path).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Validation,
        "a WeChat bill into an Alipay account: {err}"
    );
    assert_eq!(count(d, "SELECT count(*) FROM statements").await, 0);
    let leftovers: Vec<_> = std::fs::read_dir(d.data_dir().join("statements"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "nothing left behind: {leftovers:?}");

    let first = w.import(WECHAT, &path).await.unwrap();
    assert_eq!(
        (
            first.payments,
            first.refunds,
            first.new,
            first.duplicate_file
        ),
        (6, 2, 8, false)
    );
    assert_eq!(first.lines_read, 11);
    let audit_len = feedesk::audit::list(d.db().pool()).await.unwrap().len();
    let again = w.import(WECHAT, &path).await.unwrap();
    assert!(again.duplicate_file);
    assert_eq!((again.statement_id, again.new), (first.statement_id, 0));
    assert_eq!(
        feedesk::audit::list(d.db().pool()).await.unwrap().len(),
        audit_len,
        "re-import changes nothing"
    );
    assert_eq!(count(d, "SELECT count(*) FROM statements").await, 1);
    // The same lines in another file (re-downloaded, packed): kept, but nothing new.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, format!("{bill}\r\n").as_bytes()).unwrap();
    let packed = w
        .import(WECHAT, &w.file("wx.csv.gz", &gz.finish().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        (packed.new, packed.duplicate_lines, packed.duplicate_file),
        (0, 8, false)
    );

    let s = w.run(WECHAT).await;
    assert_eq!(
        tally(&s),
        vec![
            (4, "8900.00".into()), // S001, S002, S005 and the 500 refund
            (1, "2799.00".into()),
            (1, "2800.00".into()),
            (2, "2928.00".into()),
            (1, "299.00".into()),
        ]
    );
    assert_eq!(s.duplicate_lines, 8, "the second file's lines count once");
    // 16.80 x 4 + 16.79 + 0.77 (charged) - 3.00 - 1.79 (returned with the refunds).
    assert_eq!(s.fees_total.to_string(), "79.97");
    assert_eq!(s.fees_posted.to_string(), "79.97");
    assert_eq!(fee_balance(d, "XH").await, 7997);
    assert_eq!(s.open_items, 5);

    let items = reconcile::list_items(d, &ItemFilter::default())
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    let by_class = |c: &str| {
        items
            .iter()
            .filter(|i| i.class == c)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(by_class("ours_only")[0].payment_id, Some(paid[3].2));
    let channel_only = by_class("channel_only");
    let ours = channel_only
        .iter()
        .find(|i| i.out_trade_no.as_deref() == Some(order6.order_no.as_str()))
        .unwrap();
    let foreign = channel_only
        .iter()
        .find(|i| i.out_trade_no.as_deref() == Some("POS20260902001"))
        .unwrap();

    // Resolutions: record S006's money (our order: no bill to name), explain the POS line,
    // follow up the rest. Each is audited.
    let resolve = |id, action, note: &str| ResolveRequest {
        item_id: id,
        action,
        note: note.into(),
        bill_id: None,
    };
    let err = reconcile::resolve_item(
        d,
        &w.secrets,
        &resolve(foreign.id, Resolution::Record, "补记"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("--bill"), "{err}");
    let err = reconcile::resolve_item(
        d,
        &w.secrets,
        &resolve(foreign.id, Resolution::Explain, "  "),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    let recorded = reconcile::resolve_item(
        d,
        &w.secrets,
        &resolve(ours.id, Resolution::Record, "家长关单后仍付款，补记"),
    )
    .await
    .unwrap();
    assert_eq!(
        (recorded.status.as_str(), recorded.resolution.as_deref()),
        ("resolved", Some("record"))
    );
    assert_eq!(billing_support::bill(d, s006.id).await.status, "paid");
    reconcile::resolve_item(
        d,
        &w.secrets,
        &resolve(
            foreign.id,
            Resolution::Explain,
            "前台POS机误用商户号，已退回",
        ),
    )
    .await
    .unwrap();
    let ours_only = by_class("ours_only")[0].id;
    reconcile::resolve_item(
        d,
        &w.secrets,
        &resolve(ours_only, Resolution::FollowUp, "联系微信支付核查"),
    )
    .await
    .unwrap();
    let err = reconcile::resolve_item(
        d,
        &w.secrets,
        &resolve(foreign.id, Resolution::Explain, "again"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    let actions: Vec<String> = feedesk::audit::list(d.db().pool())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "reconcile.resolve")
        .map(|r| r.entity_id.unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            ours.id.to_string(),
            foreign.id.to_string(),
            ours_only.to_string()
        ]
    );

    // A re-run: S006 now matches; nothing resolved reopens; no item is duplicated; no fee twice.
    let s2 = w.run(WECHAT).await;
    assert_eq!(s2.matched.count, 5);
    assert_eq!(
        (s2.channel_only.count, s2.channel_only.amount.to_string()),
        (1, "128.00".into())
    );
    assert_eq!(s2.fees_posted.to_string(), "0.00");
    assert_eq!(fee_balance(d, "XH").await, 7997);
    let after = reconcile::list_items(d, &ItemFilter::default())
        .await
        .unwrap();
    assert_eq!(after.len(), 5, "items keep their identity across runs");
    let status = |id| after.iter().find(|i| i.id == id).unwrap().status.clone();
    assert_eq!(
        (status(ours.id), status(foreign.id), status(ours_only)),
        ("resolved".into(), "resolved".into(), "follow_up".into())
    );
    assert_eq!(
        s2.open_items, 3,
        "amount and refund mismatch open, ours-only followed up"
    );
    let open = reconcile::list_items(
        d,
        &ItemFilter {
            class: Some("refund_mismatch".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].channel_amount.map(|m| m.to_string()),
        Some("299.00".into())
    );
    assert_eq!(
        open[0].our_amount.map(|m| m.to_string()),
        Some("300.00".into())
    );

    // The workbook, read back cell by cell.
    let out = w.dir.path().join("对账.xlsx");
    let d2 = day(2026, 9, 2);
    let export = reconcile::export_reconciliation(
        d,
        WECHAT,
        d2,
        d2,
        &out,
        &ignore_progress,
        &CancelToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            export.matched_rows,
            export.discrepancy_rows,
            export.fee_days
        ),
        (5, 4, 1)
    );
    keep_for_viewing(&out);
    let mut book = open_workbook_auto(&out).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["Summary", "Matched", "Discrepancies", "Fees"]
    );
    let disc = book.worksheet_range("Discrepancies").unwrap();
    let rows: Vec<Vec<String>> = disc.rows().map(|r| r.iter().map(text).collect()).collect();
    assert_eq!(
        rows[0][..10],
        [
            "编号",
            "日期",
            "类别",
            "类型",
            "商户订单号",
            "渠道交易号",
            "退款单号",
            "渠道金额",
            "我方金额",
            "差额"
        ]
    );
    assert_eq!(rows.len(), 6, "header, 4 items, totals");
    assert_eq!(rows[1][2], "金额不符 amount_mismatch");
    assert_eq!(
        (
            rows[1][7].as_str(),
            rows[1][8].as_str(),
            rows[1][9].as_str()
        ),
        ("2799.00", "2800.00", "-1.00")
    );
    assert_eq!(rows[2][2], "我方有渠道无(严重) ours_only");
    assert_eq!(
        (
            rows[2][7].as_str(),
            rows[2][8].as_str(),
            rows[2][12].as_str()
        ),
        ("", "2800.00", "跟进中")
    );
    assert_eq!(
        (
            rows[3][4].as_str(),
            rows[3][12].as_str(),
            rows[3][13].as_str()
        ),
        ("POS20260902001", "已说明", "前台POS机误用商户号,已退回")
    );
    assert_eq!(rows[4][2], "退款不符 refund_mismatch");
    assert_eq!(rows[5][0], "合计");
    assert_eq!(
        (
            rows[5][7].as_str(),
            rows[5][8].as_str(),
            rows[5][9].as_str()
        ),
        ("3226.00", "5900.00", "-2674.00")
    );
    let formulas = book.worksheet_formula("Discrepancies").unwrap();
    let f = |r: u32, c: u32| formulas.get_value((r, c)).cloned().unwrap_or_default();
    assert_eq!(f(5, 7), "SUM(H2:H5)");
    assert_eq!(f(5, 9), "SUM(J2:J5)");
    let fees = book.worksheet_range("Fees").unwrap();
    let fee_rows: Vec<Vec<String>> = fees.rows().map(|r| r.iter().map(text).collect()).collect();
    assert_eq!(
        fee_rows[1],
        vec![WECHAT, "2026-09-02", "8.00", "79.97", "79.97"]
    );
    assert_eq!(fee_rows[2][..4], ["合计", "", "8.00", "79.97"]);
    let summary = book.worksheet_range("Summary").unwrap();
    let sum_rows: Vec<Vec<String>> = summary
        .rows()
        .map(|r| r.iter().map(text).collect())
        .collect();
    assert_eq!(sum_rows[1][..4], [WECHAT, "2026-09-02", "5.00", "11700.00"]);
    // received 2800 x 4 + 2799 + 128 = 14127, refunded 799, fees 79.97: net 13248.03.
    assert_eq!(
        sum_rows[1][12..16],
        ["14127.00", "799.00", "79.97", "13248.03"]
    );
    let matched = book.worksheet_range("Matched").unwrap();
    assert_eq!(matched.height(), 7, "header, 5 matched lines, totals");
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alipay_zip_in_gbk_is_reconciled_and_the_sandbox_bill_matches_whole() {
    let Some(w) = world("alipay").await else {
        return;
    };
    let d = &w.desk;
    // The sandbox stamps payments with the real time: so do we, here.
    w.clock.set(chrono::Utc::now());
    let today = feedesk::clock::local_date(chrono::Utc::now());
    let day_text = today.format("%Y-%m-%d").to_string();
    let mut paid = vec![];
    for member in ["B001", "B002", "B003"] {
        paid.push(w.collect_paid(w.alipay_plan, member).await);
    }
    // First the channel's own bill, downloaded through the API: everything matches.
    let (statement, _) = (
        feedesk::channels::accounts::download_bill(d, &w.secrets, ALIPAY, today)
            .await
            .unwrap(),
        (),
    );
    let imported = reconcile::import_statement_bytes(d, ALIPAY, "sandbox.csv", &statement.content)
        .await
        .unwrap();
    assert_eq!((imported.payments, imported.new), (3, 3));
    let s = w.run_on(ALIPAY, today).await;
    assert_eq!(tally(&s)[0], (3, "4501.50".into()));
    assert_eq!(s.open_items, 0);
    assert_eq!(
        s.fees_total.to_string(),
        "27.00",
        "9.00 per payment of 1500.50"
    );

    // Then a test-written zip of the same day with planted classes (its lines supersede none:
    // already-known lines count once).
    let t = |hm: &str| format!("{day_text} {hm}");
    let lines = vec![
        Line::pay(&t("09:01:00"), &paid[0].1, &paid[0].0, 150_050),
        Line::pay(
            &t("09:01:30"),
            "2026090222001499990000000777",
            "MANUAL-77",
            20_000,
        ), // channel only
        Line::refund(
            &t("12:00:00"),
            &paid[1].1,
            &paid[1].0,
            "RF-UNKNOWN-1",
            10_000,
        ), // refund mismatch
    ];
    let zip = alipay_zip("2088000000000001", &day_text, &lines);
    let path = w.file("2088000000000001_20260902.csv.zip", &zip);
    let r = w.import(ALIPAY, &path).await.unwrap();
    assert_eq!(
        (r.payments, r.refunds, r.new, r.duplicate_lines),
        (2, 1, 2, 1)
    );
    assert!(w.import(ALIPAY, &path).await.unwrap().duplicate_file);
    let s = w.run_on(ALIPAY, today).await;
    assert_eq!(
        tally(&s),
        vec![
            (3, "4501.50".into()),
            (0, "0.00".into()),
            (0, "0.00".into()),
            (1, "200.00".into()),
            (1, "100.00".into())
        ]
    );
    // Fees: 27.00 + 1.20 charged - 0.60 returned; the difference only is posted.
    assert_eq!(s.fees_total.to_string(), "27.60");
    assert_eq!(s.fees_posted.to_string(), "0.60");
    assert_eq!(fee_balance(d, "HQ").await, 2760);
    // A GBK file that is not a bill is refused naming the line.
    let broken = reconcile_support::gbk(
        &reconcile_support::alipay_detail("2088", &day_text, &lines).replace("交易\t", "转账\t"),
    );
    let err = w
        .import(ALIPAY, &w.file("broken.csv", &broken))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("line 6") && err.to_string().contains("业务类型"),
        "{err}"
    );
    w.finish().await;
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
