//! [`FeeDesk`]: an open data folder, the clock, and the person acting. Every use case takes
//! one, so the CLI and the desktop shell call the core the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Result;
use crate::clock::{Clock, SystemClock};
use crate::db::Db;

/// An open FeeDesk data folder.
#[derive(Clone)]
pub struct FeeDesk {
    db: Db,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    actor: String,
    /// Whether a payment's receipt PDFs are rendered and archived right after it commits (the
    /// default). Off for bulk loads such as the demo: their receipts stay pending until
    /// `receipts::archive_pending`.
    archive_receipts: bool,
    /// A shared lock on the data folder's lock file, held while this book is open (by every
    /// clone): a restore takes it exclusively, so it never replaces a book someone has open.
    _lock: Arc<std::fs::File>,
}

impl std::fmt::Debug for FeeDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeeDesk")
            .field("data_dir", &self.data_dir)
            .field("actor", &self.actor)
            .finish()
    }
}

impl FeeDesk {
    /// Opens (creating and migrating as needed) the data folder, acting as the local OS user.
    pub async fn open(data_dir: &Path) -> Result<FeeDesk> {
        Self::open_with(data_dir, Arc::new(SystemClock), local_actor()).await
    }

    /// Opens with an explicit clock and actor (tests, scheduled jobs).
    pub async fn open_with(
        data_dir: &Path,
        clock: Arc<dyn Clock>,
        actor: String,
    ) -> Result<FeeDesk> {
        std::fs::create_dir_all(data_dir).map_err(|e| crate::Error::io(data_dir, e))?;
        let lock = lock_book(data_dir, LockMode::Shared)?;
        let db = Db::open(data_dir).await?;
        Ok(FeeDesk {
            db,
            data_dir: data_dir.to_path_buf(),
            clock,
            actor,
            archive_receipts: true,
            _lock: Arc::new(lock),
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Who is acting, as recorded in the audit log.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The current time as stored: RFC 3339 UTC with milliseconds.
    pub fn now_text(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// The same data folder and actor, acting at the time `clock` tells: the demo backdates its
    /// sample payments; scheduled jobs pin their run time.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> FeeDesk {
        FeeDesk {
            clock,
            ..self.clone()
        }
    }

    /// The same data folder, actor and clock, leaving receipt PDFs pending after each payment
    /// instead of rendering them at once (bulk loads).
    pub fn without_receipt_archiving(&self) -> FeeDesk {
        FeeDesk {
            archive_receipts: false,
            ..self.clone()
        }
    }

    /// Whether receipt PDFs are archived right after their payment commits.
    pub fn archives_receipts(&self) -> bool {
        self.archive_receipts
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The clock, shared (for clients that keep it).
    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
}

/// The lock file in the data folder. Every open book holds a shared OS lock on it (the
/// desktop app for as long as its window is open, each CLI command while it runs); a restore
/// holds it exclusively. OS locks, not a pid file: the system releases them when a process
/// ends, even by a crash, so a lock never goes stale.
pub const LOCK_FILE: &str = "feedesk.lock";

/// How a book's lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Any number of processes working on the book.
    Shared,
    /// One process replacing the book (restore); nobody else may have it open.
    Exclusive,
}

/// Takes the data folder's lock without waiting; the lock lasts as long as the returned file.
pub fn lock_book(data_dir: &Path, mode: LockMode) -> Result<std::fs::File> {
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| crate::Error::io(&path, e))?;
    let taken = match mode {
        LockMode::Shared => file.try_lock_shared(),
        LockMode::Exclusive => file.try_lock(),
    };
    match taken {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(crate::Error::Conflict(match mode {
            LockMode::Shared => format!(
                "the book in {} is being restored from a backup; try again in a minute",
                data_dir.display()
            ),
            LockMode::Exclusive => format!(
                "another FeeDesk process has the book in {} open (the FeeDesk window, or a \
                 command such as a scheduled `feedesk remind run`); close it and try again",
                data_dir.display()
            ),
        })),
        Err(std::fs::TryLockError::Error(e)) => Err(crate::Error::io(&path, e)),
    }
}

/// The local OS user, until FeeDesk has its own users and roles.
pub fn local_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("local:{user}")
}

/// The environment variable that overrides the data folder (tests and the e2e runs point it
/// at a temp folder, so they never touch a user's data). The CLI's `--data-dir` reads it too.
pub const DATA_DIR_ENV: &str = "FEEDESK_DATA_DIR";

/// The default data folder: the platform's per-user data directory.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("feedesk")
}

/// The data folder a window opens: [`DATA_DIR_ENV`] when set and not empty, else the
/// platform's per-user data directory (`~/.local/share/feedesk` on Linux).
pub fn data_dir() -> Result<PathBuf> {
    resolve_data_dir(
        std::env::var_os(DATA_DIR_ENV).map(PathBuf::from),
        dirs::data_dir(),
    )
}

fn resolve_data_dir(from_env: Option<PathBuf>, platform: Option<PathBuf>) -> Result<PathBuf> {
    match (from_env, platform) {
        (Some(dir), _) if !dir.as_os_str().is_empty() => Ok(dir),
        (_, Some(base)) => Ok(base.join("feedesk")),
        _ => Err(crate::Error::Internal(format!(
            "no data folder: set {DATA_DIR_ENV} or a platform data directory"
        ))),
    }
}

#[cfg(test)]
mod data_dir_tests {
    use super::*;

    #[test]
    fn env_override_wins() {
        let dir = resolve_data_dir(Some("/tmp/x".into()), Some("/home/u/.local/share".into()));
        assert_eq!(dir.unwrap(), PathBuf::from("/tmp/x"));
    }

    #[test]
    fn empty_env_falls_back_to_platform() {
        let dir = resolve_data_dir(Some("".into()), Some("/home/u/.local/share".into()));
        assert_eq!(dir.unwrap(), PathBuf::from("/home/u/.local/share/feedesk"));
    }

    #[test]
    fn no_folder_is_an_internal_error() {
        let err = resolve_data_dir(None, None).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Internal);
    }
}
