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
