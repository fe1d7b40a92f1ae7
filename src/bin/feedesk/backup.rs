//! `feedesk backup ...` and `feedesk restore FILE`: archives of the whole book (database,
//! receipt PDFs, statements), the daily backup with rotation, and a checked restore.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use feedesk::backup::{self, BackupKind, Rotation};
use feedesk::{FeeDesk, Result};
use serde_json::json;

use crate::output::{self, table};

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// The daily backup into DATA_DIR/backups (for cron, Task Scheduler or the app's timer):
    /// at most one a day, then old ones rotated out.
    Run,
    /// Take a backup into DATA_DIR/backups now (kept until deleted by hand).
    Now,
    /// The backups in DATA_DIR/backups, newest first.
    List,
    /// The last backup, its age, and the rotation.
    Status,
    /// Show or set how many scheduled backups are kept.
    Schedule {
        /// The newest of each of this many days.
        #[arg(long)]
        daily: Option<u32>,
        /// The newest of each of this many weeks.
        #[arg(long)]
        weekly: Option<u32>,
        /// The newest of each of this many months.
        #[arg(long)]
        monthly: Option<u32>,
    },
    /// Check an archive as a restore would (hashes, ledger, audit log, receipts), replacing
    /// nothing.
    Check { file: PathBuf },
}

/// `feedesk backup --out FILE`: a `.sqlite` or `.db` file gets the database alone (as before);
/// anything else the whole book as a zip archive.
pub async fn backup_out(desk: &FeeDesk, out: &Path, json: bool) -> Result<()> {
    let database_only = out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("sqlite") || e.eq_ignore_ascii_case("db"));
    if database_only {
        feedesk::db::backup_to(desk.db(), out).await?;
        let anchor = anchor_beside(desk, out, json).await;
        if json {
            output::json(&json!({"backup": out, "anchor": anchor}))?;
        } else {
            say!("Backed up the database to {}", out.display());
        }
        return Ok(());
    }
    let manifest = backup::backup_to_file(desk, out).await?;
    let anchor = anchor_beside(desk, out, json).await;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    if json {
        output::json(&json!({
            "backup": out,
            "taken_at": manifest.taken_at,
            "files": manifest.entries.len(),
            "bytes": bytes,
            "anchor": anchor,
        }))?;
    } else {
        say!(
            "Backed up the book to {} ({} file(s), {} bytes)",
            out.display(),
            manifest.entries.len(),
            bytes
        );
    }
    Ok(())
}

/// The chains' anchor written beside a backup (`FILE.anchor.json`), so a later `feedesk audit
/// verify --anchor` catches a tail deleted or a history re-chained since. Without a keyring
/// the backup still stands: the anchor is skipped and that is said.
async fn anchor_beside(desk: &FeeDesk, out: &Path, json: bool) -> Option<PathBuf> {
    let file = PathBuf::from(format!("{}.anchor.json", out.display()));
    let secrets = feedesk::secrets::SecretStore::from_env();
    match feedesk::anchor::write(desk, &secrets, &file).await {
        Ok(_) => {
            if !json {
                say!("Chains anchored in {}", file.display());
            }
            Some(file)
        }
        Err(e) => {
            eprintln!("No anchor written ({e})");
            None
        }
    }
}

pub async fn backup_command(desk: &FeeDesk, cmd: BackupCommand, json: bool) -> Result<()> {
    match cmd {
        BackupCommand::Run => {
            let report = backup::run_scheduled(desk).await?;
            if json {
                return output::json(&report);
            }
            match &report.taken {
                Some(b) => say!("Backed up to {} ({} bytes)", b.path, b.bytes),
                None => say!("Today's backup was already taken"),
            }
            say!(
                "{} scheduled backup(s) kept, {} removed by the rotation",
                report.kept,
                report.removed.len()
            );
        }
        BackupCommand::Now => {
            let b = backup::backup_now(desk, BackupKind::Manual).await?;
            if json {
                return output::json(&b);
            }
            say!("Backed up to {} ({} bytes)", b.path, b.bytes);
        }
        BackupCommand::List => {
            let list = backup::list_backups(desk.data_dir())?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|b| {
                    vec![
                        feedesk::clock::local_display(&b.taken_at),
                        b.kind.as_str().into(),
                        b.bytes.to_string(),
                        b.path.clone(),
                    ]
                })
                .collect();
            table(&["taken", "kind", "bytes", "file"], &rows);
        }
        BackupCommand::Status => {
            let s = backup::backup_status(desk)?;
            if json {
                return output::json(&s);
            }
            match &s.last {
                Some(b) => say!(
                    "Last backup {} ({} hour(s) ago, {} bytes): {}",
                    feedesk::clock::local_display(&b.taken_at),
                    s.age_hours.unwrap_or(0),
                    b.bytes,
                    b.path
                ),
                None => say!("No backup yet: `feedesk backup run` takes one"),
            }
            if s.stale && s.last.is_some() {
                say!("The last backup is more than two days old: run `feedesk backup run`");
            }
            print_rotation(&s.rotation);
        }
        BackupCommand::Schedule {
            daily,
            weekly,
            monthly,
        } => {
            let mut r = backup::rotation(desk.data_dir())?;
            if daily.is_some() || weekly.is_some() || monthly.is_some() {
                r = backup::set_rotation(
                    desk.data_dir(),
                    Rotation {
                        daily: daily.unwrap_or(r.daily),
                        weekly: weekly.unwrap_or(r.weekly),
                        monthly: monthly.unwrap_or(r.monthly),
                    },
                )?;
            }
            if json {
                return output::json(&r);
            }
            print_rotation(&r);
        }
        BackupCommand::Check { file } => {
            let clock: Arc<dyn feedesk::clock::Clock> = Arc::new(feedesk::clock::SystemClock);
            let report = backup::check_backup(desk.data_dir(), &file, clock).await?;
            if json {
                return output::json(&report);
            }
            say!(
                "{} is intact: taken {}, {} file(s); ledger ({} entries), audit log ({} entries) and {} receipt(s) verify",
                report.file,
                feedesk::clock::local_display(&report.taken_at),
                report.files,
                report.journal_entries,
                report.audit_entries,
                report.receipts
            );
        }
    }
    Ok(())
}

fn print_rotation(r: &Rotation) {
    say!(
        "Scheduled backups kept: the newest of each of the last {} day(s), {} week(s) and {} month(s)",
        r.daily,
        r.weekly,
        r.monthly
    );
}

/// `feedesk restore FILE`, run with no book open in this process.
pub async fn restore(data_dir: &Path, file: &Path, json: bool) -> Result<()> {
    let clock: Arc<dyn feedesk::clock::Clock> = Arc::new(feedesk::clock::SystemClock);
    let report = backup::restore(data_dir, file, clock).await?;
    if json {
        return output::json(&report);
    }
    say!(
        "Restored {} (taken {}): {} file(s); ledger ({} entries), audit log ({} entries) and {} receipt(s) verified",
        report.restored_from,
        feedesk::clock::local_display(&report.taken_at),
        report.files,
        report.journal_entries,
        report.audit_entries,
        report.receipts
    );
    if let Some(b) = &report.replaced_book {
        say!("The book it replaced is kept in {}", b.path);
    }
    Ok(())
}
