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
        let db = Db::open(data_dir).await?;
        Ok(FeeDesk {
            db,
            data_dir: data_dir.to_path_buf(),
            clock,
            actor,
            archive_receipts: true,
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
