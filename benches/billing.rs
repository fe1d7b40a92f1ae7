//! Billing benchmark, on a real SQLite file with the institution a large chain has: HQ, 5
//! regions, 50 stores, 100,000 members (loaded through the real roster import).
//!
//! 1. Issue one plan to all 100,000 members (bar: under 10 s), and preview it first.
//! 2. Grow to 1,000,000 bills (ten plans, due dates spread over four months) and ~700,000 offline
//!    payments recorded through the real payment call in batches, spread over 30 days.
//! 3. Time the dashboard's roll-up queries for HQ, a region and a store: the money tiles with
//!    aging and trend (`money_summary`) and the drill-down tree (`money_tree`), 200 runs each,
//!    after warm-up (bar: p95 under 100 ms); the rolled-up trial balance for reference.
//!
//! `cargo bench --bench billing`; `FEEDESK_BENCH_BILLS=300000` for a smaller run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use feedesk::FeeDesk;
use feedesk::billing::{self, Channel, PaymentRequest, PlanRequest, PlanTarget};
use feedesk::clock::FixedClock;
use feedesk::money::Money;
use feedesk::org::{self, UnitKind};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::roster::{self, ImportMode, ImportRequest};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MEMBERS: usize = 100_000;
const REGIONS: usize = 5;
const STORES_PER_REGION: usize = 10;
const RUNS: usize = 200;

fn main() {
    let bills: usize = std::env::var("FEEDESK_BENCH_BILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(bills));
}

fn store_code(n: usize) -> String {
    format!("S{:02}", n + 1)
}

async fn run(total_bills: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    // 2026-11-20 10:00 in Shanghai.
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
    let desk = FeeDesk::open_with(
        &dir.path().join("data"),
        Arc::new(FixedClock(now)),
        "bench".into(),
    )
    .await
    .expect("open");
    // Each payment issues its receipt in its transaction (measured here); rendering 700,000
    // receipt PDFs is the receipts benchmark's subject, not this one's: they stay pending.
    let desk = desk.without_receipt_archiving();
    org::init(&desk, "基准连锁").await.unwrap();
    for r in 0..REGIONS {
        let region = format!("R{}", r + 1);
        org::add_unit(
            &desk,
            "HQ",
            UnitKind::Region,
            &region,
            &format!("区域{}", r + 1),
        )
        .await
        .unwrap();
        for s in 0..STORES_PER_REGION {
            let n = r * STORES_PER_REGION + s;
            org::add_unit(
                &desk,
                &region,
                UnitKind::Store,
                &store_code(n),
                &format!("门店{}", n + 1),
            )
            .await
            .unwrap();
        }
    }
    let csv = dir.path().join("members.csv");
    let mut text = String::from("学号,姓名,校区,家长手机号码\n");
    for i in 0..MEMBERS {
        text.push_str(&format!(
            "M{i:06},学员{i},{},139{:08}\n",
            store_code(i % (REGIONS * STORES_PER_REGION)),
            i
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let started = Instant::now();
    let import = roster::import_roster(
        &desk,
        &ImportRequest {
            file: csv,
            unit_code: "HQ".into(),
            term_name: None,
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
    assert_eq!(import.imported as usize, MEMBERS);
    println!(
        "setup: {MEMBERS} members in 50 stores imported in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    billing::add_account(&desk, "HQ", Channel::OfflineBank, "HQ对公户")
        .await
        .unwrap();
    billing::add_fee(&desk, "HQ", "学费").await.unwrap();

    let plans = total_bills.div_ceil(MEMBERS).max(1);
    let price = |k: usize| Money::from_fen(100_000 + k as i64 * 10_000).unwrap();
    let mut issue_times = vec![];
    for k in 0..plans {
        let month = 8 + (k % 4) as u32;
        let plan = billing::add_plan(
            &desk,
            &PlanRequest {
                fee: "学费".into(),
                target: PlanTarget::Unit("HQ".into()),
                rule: format!("fixed:{}", price(k)),
                due_on: chrono::NaiveDate::from_ymd_opt(2026, month, 15).unwrap(),
                allow_partial: false,
                account: "HQ对公户".into(),
                discounts: vec![],
            },
        )
        .await
        .unwrap();
        if k == 0 {
            let started = Instant::now();
            let preview = billing::preview_issue(&desk, plan.id).await.unwrap();
            println!(
                "preview of a plan to {} members: {:.2} s",
                preview.new_bills,
                started.elapsed().as_secs_f64()
            );
        }
        let started = Instant::now();
        let report = billing::issue_plan(&desk, plan.id).await.unwrap();
        let took = started.elapsed();
        assert_eq!(report.new_bills as usize, MEMBERS);
        issue_times.push(took);
        if k == 0 {
            println!(
                "**issue a plan to {MEMBERS} members: {:.2} s** ({:.0} bills/s, one transaction, with journal entries)",
                took.as_secs_f64(),
                MEMBERS as f64 / took.as_secs_f64()
            );
        }
    }
    let slowest = issue_times.iter().max().unwrap();
    println!(
        "issued {} plans = {} bills; slowest issue {:.2} s (with {} bills already in the database)",
        plans,
        plans * MEMBERS,
        slowest.as_secs_f64(),
        (plans - 1) * MEMBERS
    );

    // ~70% of bills paid, spread over the 30 days before now, in batches of 20,000.
    let started = Instant::now();
    let mut batch = vec![];
    let mut paid = 0usize;
    let all_bills = (plans * MEMBERS) as i64;
    for bill in 1..=all_bills {
        if bill % 10 >= 7 {
            continue;
        }
        let k = ((bill - 1) as usize) / MEMBERS;
        batch.push(PaymentRequest {
            bill_id: bill,
            amount: price(k),
            account: "HQ对公户".into(),
            reference: Some(format!("CMB{bill:010}")),
            key: format!("bench-{bill}"),
        });
        if batch.len() == 20_000 || bill == all_bills {
            let day = now - chrono::Duration::days((paid / 20_000 % 30) as i64);
            let at = desk.with_clock(Arc::new(FixedClock(day)));
            paid += billing::record_payments(&at, &batch).await.unwrap().len();
            batch.clear();
        }
    }
    let took = started.elapsed();
    println!(
        "recorded {paid} payments in {:.1} s ({:.0} payments/s, batches of 20,000)",
        took.as_secs_f64(),
        paid as f64 / took.as_secs_f64()
    );

    println!();
    println!(
        "| query ({} bills, {paid} payments) | p50 ms | p95 ms | max ms |",
        plans * MEMBERS
    );
    println!("|---|---:|---:|---:|");
    for unit in ["HQ", "R1", "S01"] {
        let times =
            time(|| async { billing::money_summary(&desk, unit, None).await.unwrap() }).await;
        row(&format!("money tiles + aging + trend, {unit}"), times);
    }
    for unit in ["HQ", "R1"] {
        let times = time(|| async { billing::money_tree(&desk, unit).await.unwrap() }).await;
        row(&format!("drill-down tree, {unit}"), times);
    }
    let times = time(|| async {
        feedesk::ledger::trial_balance(&desk, "HQ", true)
            .await
            .unwrap()
    })
    .await;
    row("trial balance, HQ rolled up", times);
    // Not a dashboard query: the bills page's first 100 rows with the count and totals of
    // everything its filter matches (which scans the matching bills).
    for unit in ["S01", "HQ"] {
        let filter = billing::BillFilter {
            unit_code: Some(unit.into()),
            ..Default::default()
        };
        let times = time_n(20, || async {
            billing::bill_page(&desk, &filter, 0, 100).await.unwrap()
        })
        .await;
        row(&format!("bills page (100 rows + totals), {unit}"), times);
    }
    let summary = billing::money_summary(&desk, "HQ", None).await.unwrap();
    println!();
    println!(
        "HQ: billed {} · collected {} · outstanding {} · rate {}",
        summary.figures.billed,
        summary.figures.collected,
        summary.figures.outstanding,
        summary.figures.collection_rate
    );
    let db = dir.path().join("data").join(feedesk::db::DB_FILE);
    println!(
        "database {:.0} MB; peak memory {} MB",
        std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0,
        peak_mb()
    );
}

async fn time<F, Fut, T>(f: F) -> Vec<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    time_n(RUNS, f).await
}

async fn time_n<F, Fut, T>(runs: usize, f: F) -> Vec<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..3 {
        f().await;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(f().await);
        times.push(started.elapsed());
    }
    times.sort();
    times
}

fn row(name: &str, times: Vec<Duration>) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "| {name} | {:.2} | {:.2} | {:.2} |",
        ms(p(0.5)),
        ms(p(0.95)),
        ms(*times.last().unwrap())
    );
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
