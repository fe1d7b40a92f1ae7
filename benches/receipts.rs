//! Receipts benchmark, on a real SQLite file: HQ, 2 regions, 10 stores, 10,000 members (loaded
//! through the real roster import), one plan billed to all of them, release build.
//!
//! 1. 10,000 payments through `record_payments` in batches of 1,000 with the font hidden, so
//!    each payment's transaction issues its receipt (number, chain, audit anchor) and the PDFs
//!    stay pending: the cost receipts add inside the payment.
//! 2. `archive_pending`: those 10,000 PDFs rendered, written and recorded (both cores): PDFs/s,
//!    and the size of each PDF (bar: under 80 KB).
//! 3. Baseline: krilla typesetting one receipt in memory (`render_pdf`, one thread, no file, no
//!    database), the rate archiving is compared against.
//! 4. 500 more payments one call each, as a cashier's window records them: issue + commit +
//!    render + archive per payment, latency p50/p95.
//! 5. `verify` over everything: chains, numbering, anchors, and every PDF's SHA-256.
//!
//! `cargo bench --bench receipts`; `FEEDESK_BENCH_RECEIPTS=2000` for a smaller run.

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use feedesk::FeeDesk;
use feedesk::billing::{self, Channel, PaymentRequest, PlanRequest, PlanTarget};
use feedesk::clock::FixedClock;
use feedesk::money::Money;
use feedesk::org::{self, UnitKind};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::receipts::{self, Paper, ReceiptContent, ReceiptFilter};
use feedesk::roster::{self, ImportMode, ImportRequest};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STORES: usize = 10;
const SINGLES: usize = 500;

fn main() {
    let n: usize = std::env::var("FEEDESK_BENCH_RECEIPTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(n));
}

fn store(i: usize) -> String {
    format!("S{:02}", i % STORES + 1)
}

async fn run(n: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // 2026-11-20 10:00 in Shanghai.
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
    let desk = FeeDesk::open_with(&data, Arc::new(FixedClock(now)), "bench".into())
        .await
        .expect("open");
    org::init(&desk, "基准教育集团").await.unwrap();
    for r in 1..=2 {
        org::add_unit(
            &desk,
            "HQ",
            UnitKind::Region,
            &format!("R{r}"),
            &format!("区域{r}"),
        )
        .await
        .unwrap();
    }
    for s in 0..STORES {
        let region = format!("R{}", s % 2 + 1);
        org::add_unit(
            &desk,
            &region,
            UnitKind::Store,
            &store(s),
            &format!("第{}校区", s + 1),
        )
        .await
        .unwrap();
    }
    let members = n + SINGLES;
    let csv = dir.path().join("members.csv");
    let mut text = String::from("学号,姓名,家长姓名,校区,家长手机号码\n");
    for i in 0..members {
        text.push_str(&format!("M{i:06},学员{i},家长{i},{},139{i:08}\n", store(i)));
    }
    std::fs::write(&csv, text).unwrap();
    roster::import_roster(
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
    billing::add_account(&desk, "HQ", Channel::OfflineBank, "集团对公户")
        .await
        .unwrap();
    billing::add_fee(&desk, "HQ", "学费").await.unwrap();
    let plan = billing::add_plan(
        &desk,
        &PlanRequest {
            fee: "学费".into(),
            target: PlanTarget::Unit("HQ".into()),
            rule: "fixed:12345.67".into(),
            due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
            allow_partial: false,
            account: "集团对公户".into(),
            discounts: vec![],
        },
    )
    .await
    .unwrap();
    billing::issue_plan(&desk, plan.id).await.unwrap();
    println!("setup: {members} members in {STORES} stores, one bill each");
    let pay = |bill: usize| PaymentRequest {
        bill_id: bill as i64,
        amount: Money::from_fen(1_234_567).unwrap(),
        account: "集团对公户".into(),
        reference: Some(format!("CMB2026112{bill:08}")),
        key: format!("bench-{bill}"),
    };

    // 1. Payments issuing receipts in their transactions; PDFs left pending (the font is hidden
    // and was never loaded in this process yet).
    // SAFETY: the bench's own threads do not read the environment concurrently here.
    unsafe {
        std::env::set_var(
            receipts::FONT_ENV,
            "/nonexistent/hidden-for-the-benchmark.ttc",
        )
    };
    let started = Instant::now();
    for chunk in (1..=n).collect::<Vec<_>>().chunks(1_000) {
        let reqs: Vec<PaymentRequest> = chunk.iter().map(|b| pay(*b)).collect();
        billing::record_payments(&desk, &reqs).await.unwrap();
    }
    let issue = started.elapsed().as_secs_f64();
    unsafe { std::env::remove_var(receipts::FONT_ENV) };
    println!(
        "**{n} payments with their receipts issued in the payment transactions: {issue:.2} s ({:.0} payments/s, batches of 1,000)**",
        n as f64 / issue
    );

    // 2. Archive the pending PDFs.
    let started = Instant::now();
    let report = receipts::archive_pending(&desk).await.unwrap();
    let archive = started.elapsed().as_secs_f64();
    assert_eq!(report.archived as usize, n);
    let sizes: Vec<u64> = receipts::list_receipts(&desk, &ReceiptFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let year_dir = data.join("receipts").join(&r.store).join("2026");
            std::fs::metadata(year_dir.join(format!("{}.pdf", r.number)))
                .unwrap()
                .len()
        })
        .collect();
    let max = *sizes.iter().max().unwrap();
    let min = *sizes.iter().min().unwrap();
    let mean = sizes.iter().sum::<u64>() as f64 / sizes.len() as f64;
    println!(
        "**archive {n} PDFs: {archive:.2} s ({:.0} PDFs/s on {} cores)**",
        n as f64 / archive,
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1),
    );
    println!(
        "**PDF size: mean {:.1} KB, min {:.1} KB, max {:.1} KB (bar: under 80 KB); {:.1} MB in all**",
        mean / 1024.0,
        min as f64 / 1024.0,
        max as f64 / 1024.0,
        report.bytes as f64 / 1_048_576.0
    );
    assert!(max < 80 * 1024, "a PDF is {max} bytes");

    // 3. Baseline: bare typesetting of a representative receipt.
    let sample = ReceiptContent {
        number: "S01-2026-000123".into(),
        kind: receipts::ReceiptKind::Receipt,
        institution: "基准教育集团".into(),
        issuer_code: "S01".into(),
        issuer_name: "第1校区".into(),
        issued_at: "2026-11-20T02:00:00.000Z".into(),
        payer: "家长123".into(),
        member_no: "M000123".into(),
        member_name: "学员123".into(),
        class: None,
        term: None,
        fee_item: "学费".into(),
        amount: Money::from_fen(1_234_567).unwrap(),
        amount_capitals: feedesk::money::chinese_capitals(Money::from_fen(1_234_567).unwrap()),
        channel: "银行转账".into(),
        account: "集团对公户".into(),
        reference: Some("CMB202611200000123".into()),
        payment_id: 123,
        bill_id: 123,
        operator: "bench".into(),
        original: None,
        note: None,
    };
    let hash = "ab".repeat(32);
    let runs = 200;
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(receipts::render_pdf(&sample, &hash, Paper::A5).unwrap());
    }
    let bare = runs as f64 / started.elapsed().as_secs_f64();
    println!(
        "baseline: bare render_pdf in memory, one thread: {bare:.0} PDFs/s; archiving ran at {:.2}x that rate",
        (n as f64 / archive) / bare
    );

    // 4. One payment per call, as the window records them: issue, commit, render, archive.
    let mut latencies = vec![];
    for bill in n + 1..=n + SINGLES {
        let started = Instant::now();
        billing::record_payment(&desk, &pay(bill)).await.unwrap();
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "one payment per call with its receipt archived ({SINGLES} calls): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.95),
        latencies[latencies.len() - 1]
    );

    // 5. Verify everything.
    let started = Instant::now();
    let v = receipts::verify(&desk).await.unwrap();
    assert!(v.intact, "{:?}", v.problems);
    println!(
        "verify {} receipts and {} PDFs: {:.2} s",
        v.receipts,
        v.files_checked,
        started.elapsed().as_secs_f64()
    );
    desk.db().clone().close().await;
}
