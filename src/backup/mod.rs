//! Backups and restore: each backup one zip archive holding a consistent copy of the database
//! and every file the book needs (receipt PDFs, imported statements), with a manifest of
//! SHA-256s ([`archive`]); taken on demand, daily with rotation ([`schedule`]); restored only
//! after the archive and the book inside it verify ([`restore`]).
//!
//! Zip, not tar: a finance officer can open it with the file manager on Windows and macOS
//! without extra tools, entries are read one at a time without unpacking the rest, and the
//! `zip` crate is already a dependency (receipt exports, statements).

mod archive;
mod restore;
mod schedule;

use std::path::Path;

pub use archive::{BOOK_FOLDERS, MANIFEST, Manifest, ManifestEntry};
pub use restore::{CheckReport, RestoreReport, check_backup, restore};
pub use schedule::{
    BACKUP_DIR, BackupInfo, BackupKind, BackupStatus, Rotation, RunReport, STALE_AFTER_HOURS,
    backup_now, backup_status, list_backups, rotation, run_scheduled, set_rotation,
};

use crate::{FeeDesk, Result};

/// Writes a backup archive of the whole book to `out` (which must not exist).
pub async fn backup_to_file(desk: &FeeDesk, out: &Path) -> Result<Manifest> {
    archive::write_archive(
        desk.db(),
        desk.data_dir(),
        out,
        &desk.now_text(),
        BackupKind::Manual.as_str(),
    )
    .await
}
