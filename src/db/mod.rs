//! The SQLite store: one file in the data folder, opened with the pragmas that make it
//! crash-safe (WAL, `synchronous=FULL`, foreign keys, a busy timeout), migrated on open
//! (after a backup when the file already held data), and written only through
//! `BEGIN IMMEDIATE` transactions so that concurrent writers queue instead of failing midway.

mod backup;
pub mod bulk;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::{Error, Result};

pub use backup::backup_to;

/// The embedded, forward-only migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another before giving up with "another FeeDesk is busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// File name of the database inside the data folder.
pub const DB_FILE: &str = "feedesk.sqlite";

/// Keeps the book from other local users (it holds phones and ID numbers): on Unix the data
/// folder is `0700` and the database file `0600`, created so before SQLite first opens it
/// (SQLite gives its `-wal` and `-shm` files the database file's mode). A file from an older
/// FeeDesk is tightened the same way. Elsewhere the user's profile folder already keeps others
/// out.
pub fn private_files(data_dir: &Path, db_file: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(data_dir, e))?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(db_file)
            .map_err(|e| Error::io(db_file, e))?;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", db_file.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::io(&file, e))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (data_dir, db_file);
    Ok(())
}

/// A write transaction (`BEGIN IMMEDIATE`).
pub type WriteTx = Transaction<'static, Sqlite>;

/// An open, migrated database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database in `data_dir`, backs it up if it holds data
    /// that a pending migration would change, and applies the migrations.
    pub async fn open(data_dir: &Path) -> Result<Db> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        let path = data_dir.join(DB_FILE);
        let existed = path.exists();
        private_files(data_dir, &path)?;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| Error::Internal(e.to_string()))?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // A writer waits this long for another (a second window, the CLI from cron) and is
            // then told plainly that another FeeDesk is busy writing.
            .busy_timeout(BUSY_TIMEOUT)
            // 64 MB of page cache per connection, so a big import does not spill mid-transaction.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            // Checkpoints are ours to schedule (at open, after bulk writes, at close), so that
            // no one's commit pays to copy someone else's 20 MB of WAL into the database file.
            .pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT + Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| Error::Storage(format!("cannot open {}: {e}", path.display())))?;
        let db = Db { pool, path };
        if existed && db.has_pending_migrations().await? {
            backup::backup_before_migrate(&db).await?;
        }
        MIGRATOR.run(&db.pool).await?;
        db.settle_identity(data_dir).await?;
        db.checkpoint().await?;
        Ok(db)
    }

    /// Gives the book a fresh order-number prefix when it is opened from a folder other than
    /// the one it was last opened from (a copied data folder), or for the first time (a new
    /// book, or one restored from a backup, whose copy carries no home): two books never ask a
    /// channel about the same order numbers.
    async fn settle_identity(&self, data_dir: &Path) -> Result<()> {
        let home = std::fs::canonicalize(data_dir)
            .unwrap_or_else(|_| data_dir.to_path_buf())
            .to_string_lossy()
            .into_owned();
        let stored: Option<String> =
            sqlx::query_scalar("SELECT home FROM book_identity WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        if stored.as_deref() == Some(home.as_str()) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE book_identity SET order_prefix = upper(hex(randomblob(4))), home = ?,
                    changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = 1 AND home IS NOT ?",
        )
        .bind(&home)
        .bind(&home)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The book's channel order-number prefix (8 characters, `[0-9A-F]`).
    pub async fn order_prefix(&self) -> Result<String> {
        Ok(
            sqlx::query_scalar("SELECT order_prefix FROM book_identity WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Copies the write-ahead log into the database file and empties it.
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Checkpoints without waiting, after a bulk write: the data is already durable (the WAL
    /// was synced at commit); this only keeps the log short. A checkpoint that cannot finish
    /// now (readers in the way) is simply retried at the next open or close.
    pub fn checkpoint_in_background(&self) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await;
        });
    }

    /// The connection pool, for reads.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a write transaction that holds the write lock from its first statement.
    pub async fn write(&self) -> Result<WriteTx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Checkpoints and closes the pool.
    pub async fn close(self) {
        let _ = self.checkpoint().await;
        self.pool.close().await;
    }

    async fn has_pending_migrations(&self) -> Result<bool> {
        let table: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if table.is_none() {
            // A file that exists but was never migrated: back it up only if it holds anything.
            let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
                .fetch_one(&self.pool)
                .await?;
            return Ok(tables > 0);
        }
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        let latest = MIGRATOR.iter().map(|m| m.version).max();
        Ok(latest > applied)
    }
}
