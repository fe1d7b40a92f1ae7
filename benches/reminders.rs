//! Reminder benchmark, on a real SQLite file: 10 stores, 20,000 members (through the real roster
//! import, with guardian emails), one tuition bill each, all overdue.
//!
//! 1. `remind preview` (what is due, every message rendered) over all the overdue bills, against
//!    a baseline read of the same bills (`bill_page` of all of them) timed in the same run.
//! 2. A day-1 `remind run --approve`: queue 20,000 rows in one transaction, then claim, send and
//!    record each (the senders are the demo outbox, a text file per message, so the figure is
//!    the outbox's own cost, not a network's), against a baseline of the same number of bare
//!    durable write transactions (`BEGIN IMMEDIATE; UPDATE one row; COMMIT`).
//! 3. A second run the same day (nothing new): the cost of a cron tick with nothing to do.
//!
//! `cargo bench --bench reminders`; `FEEDESK_BENCH_MEMBERS=5000` for a smaller run.

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use feedesk::FeeDesk;
use feedesk::billing::{self, BillFilter, Channel, PlanRequest, PlanTarget};
use feedesk::clock::FixedClock;
use feedesk::org::{self, UnitKind};
use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::reminders::{self, ChannelSetup, PolicyRequest, ReminderChannel, RunOptions};
use feedesk::roster::{self, ImportMode, ImportRequest};
use feedesk::secrets::SecretStore;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STORES: usize = 10;
const TERM: &str = "2026秋季学期";

fn main() {
    let members: usize = std::env::var("FEEDESK_BENCH_MEMBERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(members));
}

async fn run(members: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    // 2026-09-02 09:00 in Shanghai: set-up happens before the due date.
    let setup = Utc.with_ymd_and_hms(2026, 9, 2, 1, 0, 0).unwrap();
    let desk = FeeDesk::open_with(
        &dir.path().join("data"),
        Arc::new(FixedClock(setup)),
        "bench".into(),
    )
    .await
    .expect("open");
    org::init(&desk, "基准连锁").await.unwrap();
    org::add_unit(&desk, "HQ", UnitKind::Region, "R1", "华东区")
        .await
        .unwrap();
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    org::add_term(&desk, TERM, day(9, 1), day(12, 31))
        .await
        .unwrap();
    for s in 0..STORES {
        let code = format!("S{:02}", s + 1);
        org::add_unit(&desk, "R1", UnitKind::Store, &code, &format!("门店{s}"))
            .await
            .unwrap();
        org::add_class(&desk, &code, TERM, "一班").await.unwrap();
    }
    let mut csv = String::from("学号,姓名,校区,班级,家长手机号码,家长邮箱\n");
    for i in 0..members {
        csv.push_str(&format!(
            "M{i:06},学员{i},S{:02},一班,138{:08},m{i}@parents.example.cn\n",
            i % STORES + 1,
            i
        ));
    }
    let file = dir.path().join("roster.csv");
    std::fs::write(&file, csv).unwrap();
    let report = roster::import_roster(
        &desk,
        &ImportRequest {
            file,
            unit_code: "HQ".into(),
            term_name: Some(TERM.into()),
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
    assert!(report.committed, "{:?}", report.errors.first());
    billing::add_account(&desk, "HQ", Channel::OfflineCash, "现金")
        .await
        .unwrap();
    billing::add_fee(&desk, "HQ", "学费").await.unwrap();
    let plan = billing::add_plan(
        &desk,
        &PlanRequest {
            fee: "学费".into(),
            target: PlanTarget::Term(TERM.into()),
            rule: "fixed:1000".into(),
            due_on: day(9, 10),
            allow_partial: false,
            account: "现金".into(),
            discounts: vec![],
        },
    )
    .await
    .unwrap();
    billing::issue_plan(&desk, plan.id).await.unwrap();
    reminders::set_policy(
        &desk,
        &PolicyRequest {
            unit_code: Some("HQ".into()),
            tiers: Some("1:email,7:email,14:email".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let outbox = dir.path().join("outbox");
    reminders::add_notify_channel(
        &desk,
        &SecretStore::from_env(),
        ChannelSetup::DemoOutbox {
            channel: ReminderChannel::Email,
            folder: outbox.clone(),
        },
        None,
        Some(u32::MAX),
    )
    .await
    .unwrap();

    // Day 1 after due, 10:00.
    let at = desk.with_clock(Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 9, 11, 2, 0, 0).unwrap(),
    )));
    println!("reminders bench: {members} members, {members} overdue bills");

    let t = Instant::now();
    let page = billing::bill_page(&at, &BillFilter::default(), 0, u32::MAX)
        .await
        .unwrap();
    let baseline_read = t.elapsed();
    assert_eq!(page.bills.len(), members);
    let t = Instant::now();
    let preview = reminders::preview(&at).await.unwrap();
    let preview_time = t.elapsed();
    assert_eq!(preview.due.messages.len(), members);
    println!(
        "preview (due + render {} messages): {:.0} ms; baseline bill_page of all bills: {:.0} ms; ratio {:.2}",
        preview.due.messages.len(),
        preview_time.as_secs_f64() * 1e3,
        baseline_read.as_secs_f64() * 1e3,
        preview_time.as_secs_f64() / baseline_read.as_secs_f64()
    );

    // Baseline: as many bare durable write transactions as messages.
    sqlx::query("CREATE TABLE bench_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        .execute(at.db().pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO bench_counter VALUES (1, 0)")
        .execute(at.db().pool())
        .await
        .unwrap();
    let t = Instant::now();
    for _ in 0..members {
        let mut tx = at.db().write().await.unwrap();
        sqlx::query("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let baseline_writes = t.elapsed();

    let t = Instant::now();
    let report = reminders::run(
        &at,
        &SecretStore::from_env(),
        &RunOptions {
            approve: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let run_time = t.elapsed();
    assert_eq!(report.total.sent as usize, members, "{report:?}");
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), members);
    println!(
        "run (queue {members} rows, claim + send + record each): {:.1} s = {:.2} ms a message; baseline {members} write transactions: {:.1} s = {:.2} ms each; ratio {:.2}",
        run_time.as_secs_f64(),
        run_time.as_secs_f64() * 1e3 / members as f64,
        baseline_writes.as_secs_f64(),
        baseline_writes.as_secs_f64() * 1e3 / members as f64,
        run_time.as_secs_f64() / baseline_writes.as_secs_f64()
    );

    let t = Instant::now();
    let again = reminders::run(&at, &SecretStore::from_env(), &RunOptions::default())
        .await
        .unwrap();
    let idle = t.elapsed();
    assert_eq!(again.total.sent + again.total.queued, 0);
    println!(
        "a second run the same day (nothing new): {:.0} ms; ratio to the baseline read {:.2}",
        idle.as_secs_f64() * 1e3,
        idle.as_secs_f64() / baseline_read.as_secs_f64()
    );
}
