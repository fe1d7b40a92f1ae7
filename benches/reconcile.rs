//! Reconciliation and monthly-report benchmark, on a real SQLite file.
//!
//! 1. **Reconcile**: 1,000,000 WeChat Pay channel payments in the books (bills, payments and
//!    the channel orders that settled them, written by SQL for speed: the payment path itself is
//!    measured by the billing bench) and a 1,000,000-line trade bill of the same day in the
//!    documented format, with discrepancies planted (0.1% each: amount mismatches, payments
//!    missing from the bill, lines we never recorded, refunds we do not know). Timed in child
//!    processes, each with its own peak memory (VmHWM): the **baseline**, the csv crate merely
//!    reading every record of the file; FeeDesk's own streaming parser alone; `import` (hash,
//!    check every line, keep a copy, record); `run` (stream the stored bill against the
//!    million payments, write the items, post the fees). Bar: import + run under 3x the
//!    baseline, peak memory under 1 GB.
//! 2. **Monthly report**: 100,000 bills (70% paid, some refunded) across 50 stores in 5
//!    regions; the whole workbook for HQ (56 sheets, charts). Bar: under 10 s.
//!
//! `cargo bench --bench reconcile`; `FEEDESK_BENCH_LINES=100000` / `FEEDESK_BENCH_REPORT_BILLS`
//! for smaller runs. Needs about 0.6 GB of free disk in the temp folder.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use feedesk::FeeDesk;
use feedesk::billing::{self, Channel, PlanRequest, PlanTarget};
use feedesk::clock::FixedClock;
use feedesk::org::{self, UnitKind};
use feedesk::progress::{CancelToken, ignore_progress};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACCOUNT: &str = "总部微信";
const PHASE: &str = "FEEDESK_BENCH_PHASE";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(phase) = std::env::var(PHASE) {
        let dir = PathBuf::from(std::env::var("FEEDESK_BENCH_DIR").expect("dir"));
        let (secs, detail) = runtime.block_on(child(&phase, &dir));
        println!("{secs:.3} {} {detail}", peak_mb());
        return;
    }
    let lines = env_usize("FEEDESK_BENCH_LINES", 1_000_000);
    let report_bills = env_usize("FEEDESK_BENCH_REPORT_BILLS", 100_000);
    let work = tempfile::tempdir().expect("temp dir");
    runtime.block_on(build_reconcile(work.path(), lines));
    let file = work.path().join("bill.csv");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "Reconcile: {lines} payments in the books, a {lines}-line bill ({:.0} MB)",
        size as f64 / 1e6
    );
    let runs = if lines >= 1_000_000 { 1 } else { 3 };
    let mut results = vec![];
    for phase in ["baseline", "parse", "import", "run"] {
        let mut times = vec![];
        for _ in 0..runs {
            if phase == "import" {
                runtime.block_on(reset_statements(work.path()));
            }
            times.push(spawn(phase, work.path()));
        }
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        let median = times[times.len() / 2].clone();
        println!(
            "  {phase:<9} {:>7.2} s  peak {:>5} MB  {}",
            median.0, median.1, median.2
        );
        results.push(median);
    }
    let (baseline, parse) = (results[0].0, results[1].0);
    let (import, run) = (results[2].0, results[3].0);
    println!(
        "| {lines} | {:.0} MB | {baseline:.2} s | {parse:.2} s | {import:.2} s | {run:.2} s | **{:.2}x** | {:.2}x | {} MB |",
        size as f64 / 1e6,
        run / parse,
        (import + run) / parse,
        results[2].1.max(results[3].1)
    );
    drop(work);

    let work = tempfile::tempdir().expect("temp dir");
    runtime.block_on(build_report(work.path(), report_bills));
    let (secs, peak, detail) = spawn("report", work.path());
    println!(
        "Monthly report: {report_bills} bills, 50 stores: {secs:.2} s, peak {peak} MB, {detail}"
    );
    println!("| {report_bills} bills, 50 stores | {secs:.2} s | {peak} MB |");
}

fn spawn(phase: &str, dir: &Path) -> (f64, u64, String) {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .env(PHASE, phase)
        .env("FEEDESK_BENCH_DIR", dir)
        .output()
        .expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{phase} failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = text.lines().last().unwrap_or_default().to_string();
    let mut parts = last.splitn(3, ' ');
    let secs = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let peak = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (secs, peak, parts.next().unwrap_or_default().to_string())
}

fn now() -> chrono::DateTime<Utc> {
    // 2026-11-21 10:00 in Shanghai, the day after the bill's.
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap()
}

async fn desk(dir: &Path) -> FeeDesk {
    FeeDesk::open_with(
        &dir.join("data"),
        Arc::new(FixedClock(now())),
        "bench".into(),
    )
    .await
    .expect("open")
}

/// Runs one phase; returns its time (the operation alone: opening the data folder, which
/// checkpoints the log, is not part of it) and what it did.
async fn child(phase: &str, dir: &Path) -> (f64, String) {
    let file = dir.join("bill.csv");
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let desk = match phase {
        "baseline" | "parse" => None,
        _ => Some(desk(dir).await),
    };
    let started = Instant::now();
    let detail = match phase {
        "baseline" => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(false)
                .from_path(&file)
                .expect("open");
            let mut record = csv::ByteRecord::new();
            let mut n = 0u64;
            while reader.read_byte_record(&mut record).expect("read") {
                n += record.len() as u64;
            }
            format!("{n} fields")
        }
        "parse" => {
            let reader =
                std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&file).unwrap());
            let mut n = 0u64;
            let totals = feedesk::reconcile::statement::read_statement(
                feedesk::reconcile::StatementFormat::WechatTrade,
                reader,
                |line| {
                    n += line.amount_fen as u64 & 1;
                    Ok(())
                },
            )
            .expect("parse");
            format!("{} lines", totals.lines_read)
        }
        "import" => {
            let desk = desk.expect("desk");
            let r = feedesk::reconcile::import_statement(
                &desk,
                ACCOUNT,
                &file,
                &ignore_progress,
                &CancelToken::new(),
            )
            .await
            .expect("import");
            format!(
                "{} payments, {} refunds, {} new",
                r.payments, r.refunds, r.new
            )
        }
        "run" => {
            let desk = desk.expect("desk");
            let s = feedesk::reconcile::run_reconciliation(
                &desk,
                ACCOUNT,
                day,
                day,
                &ignore_progress,
                &CancelToken::new(),
            )
            .await
            .expect("run");
            format!(
                "matched {} · amount_mismatch {} · ours_only {} · channel_only {} · refund_mismatch {} · fees {}",
                s.matched.count,
                s.amount_mismatch.count,
                s.ours_only.count,
                s.channel_only.count,
                s.refund_mismatch.count,
                s.fees_total
            )
        }
        "report" => {
            let desk = desk.expect("desk");
            let r = feedesk::reports::export_monthly_report(
                &desk,
                "2026-11",
                "HQ",
                &dir.join("report.xlsx"),
                &ignore_progress,
                &CancelToken::new(),
            )
            .await
            .expect("report");
            format!(
                "{} sheets, {} charts, billed {}, collected {}",
                r.sheets.len(),
                r.charts,
                r.billed,
                r.collected
            )
        }
        other => panic!("unknown phase {other}"),
    };
    (started.elapsed().as_secs_f64(), detail)
}

/// Removes what an earlier import run left, so each import run starts alike.
async fn reset_statements(dir: &Path) {
    let desk = desk(dir).await;
    exec(&desk, "DELETE FROM statements").await;
    desk.db().clone().close().await;
    let _ = std::fs::remove_dir_all(dir.join("data").join("statements"));
}

async fn institution(desk: &FeeDesk, stores: usize) -> Vec<String> {
    org::init(desk, "基准连锁").await.unwrap();
    let mut codes = vec![];
    let regions = stores.div_ceil(10);
    for r in 0..regions {
        let region = format!("R{}", r + 1);
        org::add_unit(
            desk,
            "HQ",
            UnitKind::Region,
            &region,
            &format!("区域{}", r + 1),
        )
        .await
        .unwrap();
        for s in 0..10.min(stores - r * 10) {
            let n = r * 10 + s;
            let code = format!("S{:02}", n + 1);
            org::add_unit(
                desk,
                &region,
                UnitKind::Store,
                &code,
                &format!("门店{}", n + 1),
            )
            .await
            .unwrap();
            codes.push(code);
        }
    }
    org::add_term(
        desk,
        "2026秋季学期",
        NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        NaiveDate::from_ymd_opt(2027, 1, 20).unwrap(),
    )
    .await
    .unwrap();
    codes
}

async fn exec(desk: &FeeDesk, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(desk.db().pool())
        .await
        .expect(sql);
}

/// Members, bills, payments and the channel orders behind them, by SQL.
async fn build_reconcile(dir: &Path, n: usize) {
    let desk = desk(dir).await;
    institution(&desk, 1).await;
    billing::add_account(&desk, "HQ", Channel::Wechat, ACCOUNT)
        .await
        .unwrap();
    billing::add_fee(&desk, "HQ", "学费").await.unwrap();
    let plan = billing::add_plan(
        &desk,
        &PlanRequest {
            fee: "学费".into(),
            target: PlanTarget::Unit("S01".into()),
            rule: "fixed:100".into(),
            due_on: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            allow_partial: false,
            account: ACCOUNT.into(),
            discounts: vec![],
        },
    )
    .await
    .unwrap();
    let series =
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})");
    exec(&desk, "PRAGMA synchronous = OFF").await;
    exec(&desk, &format!(
        "{series} INSERT INTO members (id, unit_id, member_no, name, status, created_at, updated_at)
         SELECT i, (SELECT id FROM units WHERE code = 'S01'), 'M' || i, '学员' || i, 'active', '2026-09-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z' FROM n"
    ))
    .await;
    // Amounts vary from 100.00 to 5099.99; a payment's second of the day follows its number.
    let amount = "(10000 + (i * 7919) % 500000)";
    exec(&desk, &format!(
        "{series} INSERT INTO bills (id, plan_id, member_id, unit_id, gross_fen, discount_fen, due_fen, paid_fen, status, due_on, issued_at)
         SELECT i, {}, i, (SELECT id FROM units WHERE code = 'S01'), {amount}, 0, {amount}, {amount}, 'paid', '2026-11-30', '2026-11-01T00:00:00.000Z' FROM n",
        plan.id
    ))
    .await;
    let time = format!(
        "strftime('%Y-%m-%dT%H:%M:%S.000Z', '2026-11-19T16:00:00', '+' || ((i * 86399) / {n}) || ' seconds')"
    );
    exec(&desk, &format!(
        "{series} INSERT INTO payments (id, bill_id, account_id, amount_fen, reference, received_at, actor)
         SELECT i, i, (SELECT id FROM collection_accounts WHERE name = '{ACCOUNT}'), {amount}, '42000' || printf('%017d', i), {time}, 'bench' FROM n"
    ))
    .await;
    exec(&desk, &format!(
        "{series} INSERT INTO channel_orders (id, bill_id, account_id, out_trade_no, amount_fen, status, transaction_id, payment_id, created_at, expires_at, updated_at)
         SELECT i, i, (SELECT id FROM collection_accounts WHERE name = '{ACCOUNT}'), 'FD' || i || 'A001', {amount}, 'paid', '42000' || printf('%017d', i), i, {time}, {time}, {time} FROM n"
    ))
    .await;
    desk.db().clone().close().await;

    // The bill: every payment, in time order, with 0.1% each of amount mismatches (a fen more),
    // payments left out, lines we never recorded, and refunds we do not know.
    let file = dir.join("bill.csv");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&file).unwrap());
    let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
    write!(out, "{header}\r\n").unwrap();
    let (mut rows, mut settle, mut refunded, mut fees) = (0i64, 0i64, 0i64, 0i64);
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    let fee = |f: i64| (f * 6 + 500) / 1000;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for i in 1..=n as i64 {
        let at = start + chrono::Duration::seconds(i * 86399 / n as i64);
        let at = at.format("%Y-%m-%d %H:%M:%S");
        let mut amount = 10000 + (i * 7919) % 500000;
        if i % 1000 == 1 {
            continue; // ours only
        }
        if i % 1000 == 2 {
            amount += 1; // amount mismatch
        }
        let f = fee(amount);
        rows += 1;
        settle += amount;
        fees += f;
        write!(
            out,
            "`{at},`wx8888888888888888,`1900000109,`0,`,`42000{i:017},`FD{i}A001,`oUser,`NATIVE,`SUCCESS,`OTHERS,`CNY,`{a},`0.00,`0,`0,`0.00,`0.00,`,`,`学费,`,`{fy}000,`0.60%,`{a},`0.00,`\r\n",
            a = yuan(amount),
            fy = yuan(f)
        )
        .unwrap();
        if i % 1000 == 3 {
            // A line we never recorded.
            rows += 1;
            settle += 12_800;
            fees += fee(12_800);
            write!(out, "`{at},`wx8888888888888888,`1900000109,`0,`,`43000{i:017},`POS{i},`oUser,`NATIVE,`SUCCESS,`OTHERS,`CNY,`128.00,`0.00,`0,`0,`0.00,`0.00,`,`,`学费,`,`0.77000,`0.60%,`128.00,`0.00,`\r\n").unwrap();
        }
        if i % 1000 == 4 {
            // A refund we have no record of.
            let back = fee(1000);
            rows += 1;
            refunded += 1000;
            fees -= back;
            write!(out, "`{at},`wx8888888888888888,`1900000109,`0,`,`42000{i:017},`FD{i}A001,`oUser,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50{i},`RF{i},`10.00,`0.00,`ORIGINAL,`SUCCESS,`学费,`,`-{}000,`0.60%,`0.00,`10.00,`\r\n", yuan(back)).unwrap();
        }
    }
    write!(out, "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n").unwrap();
    write!(
        out,
        "`{rows},`{},`{},`0.00,`{}000,`{},`{}\r\n",
        yuan(settle),
        yuan(refunded),
        yuan(fees),
        yuan(settle),
        yuan(refunded)
    )
    .unwrap();
    out.flush().unwrap();
    // Warm the page cache the same way for every phase.
    let mut r = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
    let mut line = Vec::new();
    while r.read_until(b'\n', &mut line).unwrap() > 0 {
        line.clear();
    }
}

/// 50 stores, a class and plan each, `bills` bills issued in November (70% paid in November,
/// one in twenty of those partly refunded), by SQL.
async fn build_report(dir: &Path, bills: usize) {
    let desk = desk(dir).await;
    let stores = institution(&desk, 50).await;
    billing::add_fee(&desk, "HQ", "学费").await.unwrap();
    for code in &stores {
        billing::add_account(&desk, code, Channel::OfflineCash, &format!("{code}现金"))
            .await
            .unwrap();
        org::add_class(&desk, code, "2026秋季学期", "一班")
            .await
            .unwrap();
        billing::add_plan(
            &desk,
            &PlanRequest {
                fee: "学费".into(),
                target: PlanTarget::Class(format!("{code}/一班")),
                rule: "fixed:100".into(),
                due_on: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
                allow_partial: true,
                account: format!("{code}现金"),
                discounts: vec![],
            },
        )
        .await
        .unwrap();
    }
    let n = bills;
    let series =
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})");
    exec(&desk, "PRAGMA synchronous = OFF").await;
    // Member i belongs to store (i % 50), the plan of that store's class.
    let store = "(SELECT id FROM units WHERE code = printf('S%02d', (i % 50) + 1))";
    let plan = "(SELECT p.id FROM fee_plans p JOIN classes c ON c.id = p.class_id JOIN units u ON u.id = c.unit_id WHERE u.code = printf('S%02d', (i % 50) + 1))";
    exec(&desk, &format!(
        "{series} INSERT INTO members (id, unit_id, member_no, name, guardian_phone, status, created_at, updated_at)
         SELECT i, {store}, 'M' || i, '学员' || i, '138' || printf('%08d', i), 'active', '2026-09-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z' FROM n"
    ))
    .await;
    let amount = "(50000 + (i * 7919) % 300000)";
    let paid = format!("(CASE WHEN i % 10 < 7 THEN {amount} ELSE 0 END)");
    exec(&desk, &format!(
        "{series} INSERT INTO bills (id, plan_id, member_id, unit_id, gross_fen, discount_fen, due_fen, paid_fen, status, due_on, issued_at)
         SELECT i, {plan}, i, {store}, {amount}, 0, {amount}, {paid}, CASE WHEN i % 10 < 7 THEN 'paid' ELSE 'open' END,
                date('2026-09-01', '+' || (i % 80) || ' days'), strftime('%Y-%m-%dT%H:%M:%S.000Z', '2026-10-31T16:00:00', '+' || (i % 2592000) || ' seconds') FROM n"
    ))
    .await;
    exec(&desk, &format!(
        "{series} INSERT INTO payments (id, bill_id, account_id, amount_fen, refunded_fen, received_at, actor)
         SELECT i, i, (SELECT id FROM collection_accounts WHERE name = printf('S%02d现金', (i % 50) + 1)), {amount},
                CASE WHEN i % 20 = 0 THEN 1000 ELSE 0 END,
                strftime('%Y-%m-%dT%H:%M:%S.000Z', '2026-10-31T16:00:00', '+' || ((i * 7) % 2592000) || ' seconds'), 'bench'
         FROM n WHERE i % 10 < 7"
    ))
    .await;
    exec(&desk, &format!(
        "{series} INSERT INTO refunds (payment_id, amount_fen, reason, refunded_at, actor)
         SELECT i, 1000, '退费', strftime('%Y-%m-%dT%H:%M:%S.000Z', '2026-11-20T02:00:00'), 'bench' FROM n WHERE i % 10 < 7 AND i % 20 = 0"
    ))
    .await;
    desk.db().clone().close().await;
}

fn peak_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb / 1024)
}
