//! Restoring a book from a backup archive, checked before anything is replaced:
//!
//! 1. the data folder's lock is taken exclusively: refused while any other FeeDesk process
//!    (the window, a scheduled command) has the book open;
//! 2. every entry is extracted into a staging folder inside the data folder, its size and
//!    SHA-256 checked against the manifest as it streams;
//! 3. the staged book is opened (migrated if it came from an older FeeDesk) and the ledger,
//!    the audit log's chain and the receipts (records, numbering, archived PDFs) are verified
//!    by the same verifiers `feedesk ledger verify`, `audit verify` and `receipt verify` run;
//! 4. only then is the current book backed up (`before-restore`) and swapped out for the
//!    staged one, by renames inside the data folder.
//!
//! Any failure before step 4 removes the staging folder and leaves the book untouched.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::archive::{BOOK_FOLDERS, check_and_extract};
use super::schedule::{BackupInfo, BackupKind, take};
use crate::clock::Clock;
use crate::db::{DB_FILE, Db};
use crate::desk::{LockMode, lock_book};
use crate::{Error, FeeDesk, Result};

const STAGING: &str = "restore-staging";
const REPLACED: &str = "restore-replaced";

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RestoreReport {
    pub restored_from: String,
    /// When the restored backup was taken.
    pub taken_at: String,
    /// Files restored, the database included.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub files: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub journal_entries: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub audit_entries: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub receipts: u64,
    /// The book that was replaced, kept as a backup (none when the folder held no book).
    pub replaced_book: Option<BackupInfo>,
}

/// What checking an archive found (nothing replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckReport {
    pub file: String,
    pub taken_at: String,
    pub kind: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub files: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub journal_entries: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub audit_entries: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub receipts: u64,
}

/// Checks `archive` as a restore would (hashes, then the ledger, audit and receipt verifiers
/// on a copy in a temp folder under `data_dir`) without replacing anything.
pub async fn check_backup(
    data_dir: &Path,
    archive: &Path,
    clock: Arc<dyn Clock>,
) -> Result<CheckReport> {
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let staging = data_dir.join(format!("{STAGING}-check-{}", std::process::id()));
    let result = stage_and_verify(archive, &staging, clock).await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Replaces the book in `data_dir` with the one in `archive`, after checking it; the book it
/// replaces is kept in the backups folder. Nothing may have the book open, this process
/// included: drop every `FeeDesk` on it first.
pub async fn restore(
    data_dir: &Path,
    archive: &Path,
    clock: Arc<dyn Clock>,
) -> Result<RestoreReport> {
    if !archive.is_file() {
        return Err(Error::NotFound(format!(
            "{} does not exist; `feedesk backup list` shows the backups",
            archive.display()
        )));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let _lock = lock_book(data_dir, LockMode::Exclusive)?;
    let staging = data_dir.join(STAGING);
    let _ = std::fs::remove_dir_all(&staging);
    let checked = match stage_and_verify(archive, &staging, clock.clone()).await {
        Ok(checked) => checked,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let replaced_book = if data_dir.join(DB_FILE).exists() {
        let db = Db::open(data_dir).await?;
        let taken = take(&db, data_dir, clock.now(), BackupKind::BeforeRestore).await;
        db.close().await;
        match taken {
            Ok(info) => Some(info),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(Error::Io(format!(
                    "the current book could not be backed up before the restore, so nothing \
                     was replaced: {e}"
                )));
            }
        }
    } else {
        None
    };
    swap(data_dir, &staging)?;
    Ok(RestoreReport {
        restored_from: archive.display().to_string(),
        taken_at: checked.taken_at,
        files: checked.files,
        journal_entries: checked.journal_entries,
        audit_entries: checked.audit_entries,
        receipts: checked.receipts,
        replaced_book,
    })
}

async fn stage_and_verify(
    archive: &Path,
    staging: &Path,
    clock: Arc<dyn Clock>,
) -> Result<CheckReport> {
    let (a, s) = (archive.to_path_buf(), staging.to_path_buf());
    let manifest = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&s).map_err(|e| Error::io(&s, e))?;
        check_and_extract(&a, Some(&s))
    })
    .await
    .map_err(|e| Error::Internal(format!("the check stopped: {e}")))??;
    let refuse = |why: String| {
        Error::Validation(format!(
            "the backup {} does not verify: {why}; nothing was replaced",
            archive.display()
        ))
    };
    let desk = FeeDesk::open_with(staging, clock, "restore".into())
        .await
        .map_err(|e| refuse(format!("its database cannot be opened ({e})")))?;
    let verified = async {
        let ledger = crate::ledger::verify(&desk).await?;
        if let Some(problem) = ledger.problems.first() {
            return Err(refuse(format!("the ledger: {problem}")));
        }
        let audit = crate::audit::verify(desk.db().pool())
            .await
            .map_err(|e| refuse(format!("the audit log: {e}")))?;
        let receipts = crate::receipts::verify(&desk).await?;
        if let Some(problem) = receipts.problems.first() {
            return Err(refuse(format!("the receipts: {problem}")));
        }
        Ok(CheckReport {
            file: archive.display().to_string(),
            taken_at: manifest.taken_at.clone(),
            kind: manifest.kind.clone(),
            files: manifest.entries.len() as u64,
            journal_entries: ledger.entries,
            audit_entries: audit as u64,
            receipts: receipts.receipts,
        })
    }
    .await;
    desk.db().clone().close().await;
    drop(desk);
    verified
}

/// Moves the current book aside and the staged one in, by renames inside the data folder;
/// puts the old one back if a move fails midway.
fn swap(data_dir: &Path, staging: &Path) -> Result<()> {
    let replaced = data_dir.join(REPLACED);
    let _ = std::fs::remove_dir_all(&replaced);
    std::fs::create_dir_all(&replaced).map_err(|e| Error::io(&replaced, e))?;
    let wal = format!("{DB_FILE}-wal");
    let shm = format!("{DB_FILE}-shm");
    let current: Vec<&str> = [DB_FILE, wal.as_str(), shm.as_str()]
        .into_iter()
        .chain(BOOK_FOLDERS)
        .collect();
    let mut moved_out: Vec<&str> = vec![];
    let mut moved_in: Vec<&str> = vec![];
    let result = (|| -> Result<()> {
        for name in &current {
            let from = data_dir.join(name);
            if from.exists() {
                rename(&from, &replaced.join(name))?;
                moved_out.push(name);
            }
        }
        for name in [DB_FILE].into_iter().chain(BOOK_FOLDERS) {
            let from = staging.join(name);
            if from.exists() {
                rename(&from, &data_dir.join(name))?;
                moved_in.push(name);
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for name in &moved_in {
            let _ = std::fs::rename(data_dir.join(name), staging.join(name));
        }
        for name in &moved_out {
            let _ = std::fs::rename(replaced.join(name), data_dir.join(name));
        }
        return Err(Error::Io(format!(
            "the restore could not swap the book in and put the old one back: {e}"
        )));
    }
    let _ = std::fs::remove_dir_all(&replaced);
    let _ = std::fs::remove_dir_all(staging);
    Ok(())
}

fn rename(from: &Path, to: &PathBuf) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::io(from, e))
}
