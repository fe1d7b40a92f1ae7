//! Backups and restore on a real book: the archive holds the database, every receipt PDF and
//! a manifest of SHA-256s; a restore brings back exactly what was backed up; a damaged
//! archive, or one whose book does not verify, is refused with nothing replaced; a book open
//! elsewhere is never replaced; the daily backup is idempotent and rotated over a year.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use feedesk::backup::{self, BackupKind, Rotation};
use feedesk::clock::Clock;
use feedesk::receipts::{self, ReceiptFilter};
use feedesk::{ErrorCode, FeeDesk};

use crate::support::common::{Env, json, ok, refused};
use crate::support::receipts_support::*;

/// Everything a restore must bring back: bills, books and counts, the receipts with their
/// hashes, the audit log, and every archived PDF's bytes.
async fn state(desk: &FeeDesk) -> String {
    let mut out = snapshot(desk).await;
    let list = receipts::list_receipts(desk, &ReceiptFilter::default())
        .await
        .unwrap();
    out.push_str(&serde_json::to_string(&list).unwrap());
    let audit = feedesk::audit::list(desk.db().pool()).await.unwrap();
    out.push_str(&format!(" audit={}", audit.len()));
    out.push_str(&format!(
        " files={:?}",
        files(&desk.data_dir().join("receipts"))
    ));
    out
}

/// Every file under `dir` with its SHA-256.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = vec![];
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((
                    p.strip_prefix(base).unwrap().display().to_string(),
                    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

async fn paid_school(data: &Path) -> (FeeDesk, Arc<TestClock>) {
    let clock = TestClock::at(default_time());
    let desk = open(data, clock.clone()).await;
    let (one, two, _) = school(&desk).await;
    let s001 = bill_of(&desk, one, "S001").await;
    cash(&desk, s001.id, "1000", "c1").await;
    let s004 = bill_of(&desk, two, "S004").await;
    cash(&desk, s004.id, "1234.56", "c2").await;
    (desk, clock)
}

async fn close(desk: FeeDesk) {
    desk.db().clone().close().await;
    drop(desk);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_brings_back_exactly_what_was_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("book");
    let (desk, clock) = paid_school(&data).await;
    let archive = dir.path().join("copy.zip");
    let manifest = backup::backup_to_file(&desk, &archive).await.unwrap();
    let names: Vec<&str> = manifest.entries.iter().map(|e| e.path.as_str()).collect();
    assert!(names.contains(&"feedesk.sqlite"), "{names:?}");
    assert!(
        names.contains(&"receipts/XH/2026/XH-2026-000001.pdf"),
        "{names:?}"
    );
    let before = state(&desk).await;

    // The book moves on: another payment, a 红冲.
    clock.set(default_time() + Duration::days(1));
    let s002 = bill_of(&desk, plan_id(&desk, "S002").await, "S002").await;
    cash(&desk, s002.id, "2800", "c3").await;
    receipts::void_receipt(&desk, "XH-2026-000001", "开错了")
        .await
        .unwrap();
    assert_ne!(state(&desk).await, before);

    // Refused while the book is open.
    let err = backup::restore(&data, &archive, clock.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(err.to_string().contains("open"), "{err}");
    close(desk).await;

    let report = backup::restore(&data, &archive, clock.clone())
        .await
        .unwrap();
    assert_eq!(report.receipts, 2);
    assert_eq!(report.files as usize, manifest.entries.len());
    let replaced = report.replaced_book.expect("the replaced book is kept");
    assert_eq!(replaced.kind, BackupKind::BeforeRestore);
    assert!(Path::new(&replaced.path).is_file());

    let desk = open(&data, clock.clone()).await;
    assert_eq!(state(&desk).await, before);
    assert!(receipts::verify(&desk).await.unwrap().intact);
    assert!(feedesk::ledger::verify(&desk).await.unwrap().ok());
    assert!(!data.join("receipts/XH/2026/XH-2026-000003.pdf").exists());
    assert!(!data.join("restore-staging").exists());
    assert!(!data.join("restore-replaced").exists());
    let listed = backup::list_backups(&data).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");

    // And the replaced book, restored in turn, is the changed one: nothing was lost.
    close(desk).await;
    backup::restore(&data, Path::new(&replaced.path), clock.clone())
        .await
        .unwrap();
    let desk = open(&data, clock).await;
    let list = receipts::list_receipts(&desk, &ReceiptFilter::default())
        .await
        .unwrap();
    assert_eq!(
        list.len(),
        5,
        "two receipts, one more, a reversal and a reissue"
    );
}

async fn plan_id(desk: &FeeDesk, member: &str) -> i64 {
    bills(desk, Default::default())
        .await
        .into_iter()
        .find(|b| b.member_no == member)
        .unwrap()
        .plan
}

/// Rewrites `archive` with `change` applied to each entry's bytes (the manifest kept as is).
fn rewrite(archive: &Path, out: &Path, change: impl Fn(&str, &mut Vec<u8>)) {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(archive).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = vec![];
        entry.read_to_end(&mut bytes).unwrap();
        change(&name, &mut bytes);
        zout.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&bytes).unwrap();
    }
    zout.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_archive_is_refused_and_nothing_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("book");
    let (desk, clock) = paid_school(&data).await;
    let archive = dir.path().join("copy.zip");
    backup::backup_to_file(&desk, &archive).await.unwrap();
    // The book moves on after the backup, so a replaced book would show.
    let s002 = bill_of(&desk, plan_id(&desk, "S002").await, "S002").await;
    cash(&desk, s002.id, "2800", "c3").await;
    let before = state(&desk).await;
    close(desk).await;

    // A receipt PDF changed inside the archive.
    let pdf_changed = dir.path().join("pdf-changed.zip");
    rewrite(&archive, &pdf_changed, |name, bytes| {
        if name.ends_with("000002.pdf") {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
        }
    });
    // The file cut short.
    let truncated = dir.path().join("truncated.zip");
    let whole = std::fs::read(&archive).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    // An extra file slipped in.
    let extra = dir.path().join("extra.zip");
    {
        let mut zin = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
        let mut zout = zip::ZipWriter::new(std::fs::File::create(&extra).unwrap());
        for i in 0..zin.len() {
            zout.raw_copy_file(zin.by_index(i).unwrap()).unwrap();
        }
        zout.start_file(
            "receipts/../../evil.txt",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zout.write_all(b"x").unwrap();
        zout.finish().unwrap();
    }
    // Not a zip at all.
    let junk = dir.path().join("junk.zip");
    std::fs::write(&junk, "not an archive").unwrap();

    for (file, expected) in [
        (&pdf_changed, "does not match the SHA-256"),
        (&truncated, "cannot be read as a zip"),
        (&extra, "which its manifest does not list"),
        (&junk, "cannot be read as a zip"),
    ] {
        let err = backup::restore(&data, file, clock.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
        let text = err.to_string();
        assert!(text.contains(expected), "{file:?}: {text}");
        assert!(text.contains("nothing was replaced"), "{text}");
        assert!(!data.join("restore-staging").exists());
        let desk = open(&data, clock.clone()).await;
        assert_eq!(state(&desk).await, before, "{file:?} replaced something");
        close(desk).await;
    }
    assert!(!dir.path().join("evil.txt").exists());
    assert!(backup::list_backups(&data).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_whose_book_does_not_verify_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("book");
    let (desk, clock) = paid_school(&data).await;
    let archive = dir.path().join("copy.zip");
    backup::backup_to_file(&desk, &archive).await.unwrap();
    let before = state(&desk).await;
    close(desk).await;

    // A consistent archive (manifest hashes recomputed) around a receipt PDF that is not the
    // one its record archived: the hashes pass, receipt verify does not.
    let forged = dir.path().join("forged.zip");
    let mut manifest: backup::Manifest = {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
        let mut text = String::new();
        z.by_name(backup::MANIFEST)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let target = "receipts/XH/2026/XH-2026-000001.pdf";
    let mut zin = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(&forged).unwrap());
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        if name == backup::MANIFEST {
            continue;
        }
        let mut bytes = vec![];
        entry.read_to_end(&mut bytes).unwrap();
        if name == target {
            bytes.extend_from_slice(b"\n% appended\n");
            let e = manifest
                .entries
                .iter_mut()
                .find(|e| e.path == target)
                .unwrap();
            e.bytes = bytes.len() as u64;
            e.sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        }
        zout.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&bytes).unwrap();
    }
    zout.start_file(backup::MANIFEST, zip::write::SimpleFileOptions::default())
        .unwrap();
    zout.write_all(&serde_json::to_vec(&manifest).unwrap())
        .unwrap();
    zout.finish().unwrap();

    let err = backup::check_backup(&data, &forged, clock.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the receipts"), "{err}");
    let err = backup::restore(&data, &forged, clock.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    assert!(err.to_string().contains("XH-2026-000001"), "{err}");
    let desk = open(&data, clock.clone()).await;
    assert_eq!(state(&desk).await, before);
    let check = backup::check_backup(&data, &archive, clock).await.unwrap();
    assert_eq!(check.receipts, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_backup_is_idempotent_and_rotated_over_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap();
    let clock = TestClock::at(start);
    let desk = open(dir.path(), clock.clone()).await;
    feedesk::org::init(&desk, "星火教育").await.unwrap();
    assert_eq!(backup::rotation(dir.path()).unwrap(), Rotation::default());
    let mut last = start;
    for i in 0..365 {
        last = start + Duration::days(i);
        clock.set(last);
        let first = backup::run_scheduled(&desk).await.unwrap();
        assert!(first.taken.is_some(), "day {i}");
        // A second run the same day (later that day) takes nothing.
        clock.set(last + Duration::hours(10));
        let again = backup::run_scheduled(&desk).await.unwrap();
        assert!(again.taken.is_none(), "day {i}");
        assert!(again.removed.is_empty());
    }
    let kept: BTreeSet<NaiveDate> = backup::list_backups(dir.path())
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b.kind, BackupKind::Scheduled);
            assert!(b.bytes > 0);
            feedesk::clock::local_date(
                chrono::DateTime::parse_from_rfc3339(&b.taken_at)
                    .unwrap()
                    .to_utc(),
            )
        })
        .collect();
    let today = feedesk::clock::local_date(last);
    let mut expected = BTreeSet::new();
    for d in 0..7 {
        expected.insert(today - Duration::days(d));
    }
    // The newest of each of the last 4 weeks: this week's today, then the previous Sundays.
    let mut sunday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 1);
    for _ in 0..3 {
        expected.insert(sunday);
        sunday -= Duration::days(7);
    }
    // The newest of each of the last 12 months: today, then each earlier month's last day.
    let mut month_end = today.with_day(1).unwrap() - Duration::days(1);
    for _ in 0..11 {
        expected.insert(month_end);
        month_end = month_end.with_day(1).unwrap() - Duration::days(1);
    }
    assert_eq!(kept, expected);

    // A tighter rotation applies at the next run.
    backup::set_rotation(
        dir.path(),
        Rotation {
            daily: 2,
            weekly: 0,
            monthly: 0,
        },
    )
    .unwrap();
    let report = backup::run_scheduled(&desk).await.unwrap();
    assert_eq!(report.kept, 2);
    assert!(
        backup::set_rotation(
            dir.path(),
            Rotation {
                daily: 0,
                weekly: 1,
                monthly: 1
            }
        )
        .is_err()
    );
    // Status: fresh now, stale three days on.
    let status = backup::backup_status(&desk).unwrap();
    assert!(!status.stale);
    clock.set(clock.now() + Duration::days(3));
    assert!(backup::backup_status(&desk).unwrap().stale);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_backs_up_lists_checks_and_restores() {
    let env = Env::new();
    let data = env.data_dir();
    {
        let (desk, _) = paid_school(&data).await;
        close(desk).await;
    }
    let out: PathBuf = env.path("book.zip");
    let taken = json(&env.cli(&["--json", "backup", "--out", out.to_str().unwrap()]));
    assert!(taken["files"].as_u64().unwrap() >= 3, "{taken}");
    // The database alone, as before, for a .sqlite name.
    let db_copy = env.path("copy.sqlite");
    ok(&env.cli(&["backup", "--out", db_copy.to_str().unwrap()]));
    assert!(
        std::fs::read(&db_copy)
            .unwrap()
            .starts_with(b"SQLite format 3")
    );
    let line = refused(&env.cli(&["backup", "--out", out.to_str().unwrap()]));
    assert!(line.contains("already exists"), "{line}");
    refused(&env.cli(&["backup"]));

    let run = json(&env.cli(&["--json", "backup", "run"]));
    assert!(run["taken"].is_object(), "{run}");
    let again = json(&env.cli(&["--json", "backup", "run"]));
    assert!(again["taken"].is_null(), "{again}");
    ok(&env.cli(&["backup", "now"]));
    let list = json(&env.cli(&["--json", "backup", "list"]));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for b in list {
        assert!(b["path"].as_str().unwrap().ends_with(".zip"));
        assert!(b["bytes"].as_u64().unwrap() > 0);
        assert!(b["taken_at"].as_str().is_some());
    }
    let kinds: BTreeSet<&str> = list.iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["manual", "scheduled"]));
    let schedule = json(&env.cli(&["--json", "backup", "schedule", "--daily", "3"]));
    assert_eq!(schedule["daily"], 3);
    assert_eq!(schedule["monthly"], 12);
    let status = json(&env.cli(&["--json", "backup", "status"]));
    assert_eq!(status["stale"], false);
    let check = ok(&env.cli(&["backup", "check", out.to_str().unwrap()]));
    assert!(check.contains("is intact"), "{check}");

    // After a disk failure: a new, empty data folder, restored from the archive.
    let fresh = env.path("new-disk");
    let restored = std::process::Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(&fresh)
        .args(["--json", "restore", out.to_str().unwrap()])
        .output()
        .unwrap();
    let restored = json(&restored);
    assert_eq!(restored["receipts"], 2, "{restored}");
    assert!(restored["replaced_book"].is_null());
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(&fresh)
        .args(["receipt", "verify"])
        .output()
        .unwrap();
    assert!(ok(&verify).contains("Receipts intact: 2"));
    assert!(fresh.join("receipts/XH/2026/XH-2026-000002.pdf").is_file());

    // Refused while another process (here, this test) has the book open.
    let desk = env.desk().await;
    let line = refused(&env.cli(&["restore", out.to_str().unwrap()]));
    assert!(line.contains("another FeeDesk process"), "{line}");
    drop(desk);
    let line = refused(&env.cli(&["restore", env.path("nope.zip").to_str().unwrap()]));
    assert!(line.contains("does not exist"), "{line}");
}
