//! Consistent copies of the database file (`VACUUM INTO`), taken before every migration of an
//! existing file so that an upgrade can always be rolled back by hand.

use std::path::{Path, PathBuf};

use super::Db;
use crate::{Error, Result};

/// Writes a consistent copy of the database to `target` (which must not exist).
pub async fn backup_to(db: &Db, target: &Path) -> Result<()> {
    if target.exists() {
        return Err(Error::Conflict(format!(
            "{} already exists; choose another backup file",
            target.display()
        )));
    }
    let target_text = target
        .to_str()
        .ok_or_else(|| Error::Validation(format!("{} is not a UTF-8 path", target.display())))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target_text)
        .execute(db.pool())
        .await?;
    // A copy of the book is as private as the book.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(target, e))?;
    }
    forget_home(target).await
}

/// A backup belongs to no folder: whoever restores it opens it as a book seen for the first
/// time, which takes a fresh order-number prefix (orders made after the backup was taken are
/// not in it, and their numbers must never be used again).
async fn forget_home(target: &Path) -> Result<()> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(target)
        .connect()
        .await
        .map_err(|e| Error::Storage(format!("cannot open the backup {}: {e}", target.display())))?;
    let has_identity: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'book_identity'",
    )
    .fetch_optional(&mut conn)
    .await?;
    if has_identity.is_some() {
        sqlx::query("UPDATE book_identity SET home = NULL")
            .execute(&mut conn)
            .await?;
    }
    use sqlx::Connection;
    conn.close().await?;
    Ok(())
}

/// Backs up an existing database into `<data>/backups/` before migrations touch it.
pub(super) async fn backup_before_migrate(db: &Db) -> Result<PathBuf> {
    let dir = db
        .path()
        .parent()
        .map(|p| p.join("backups"))
        .ok_or_else(|| Error::Internal("database path has no folder".into()))?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let target = dir.join(format!("feedesk-before-migrate-{stamp}.sqlite"));
    backup_to(db, &target).await?;
    Ok(target)
}
