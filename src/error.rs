//! One error type for the core, with a stable machine code.
//!
//! Surfaces branch on [`ErrorCode`], never on message text. Messages are written for the person
//! at the keyboard: they say what is wrong and what to do. Database text never reaches them raw.

use serde::Serialize;

/// Stable, machine-readable class of an error; the desktop UI and scripts branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or breaks a rule; fix the input.
    Validation,
    /// Something named in the request does not exist.
    NotFound,
    /// The request clashes with what exists (duplicates, dependencies, idempotency).
    Conflict,
    /// An import file cannot be used at all (format, encoding, missing header).
    ImportFormat,
    /// An input exceeds a safety bound (file size, cell count, compression ratio).
    TooLarge,
    /// The user cancelled long work; nothing was written.
    Cancelled,
    /// The data folder or a file could not be read or written.
    Io,
    /// The database failed in a way the user cannot fix by changing the input.
    Storage,
    /// The OS keyring (channel secrets) is unavailable, locked, or refused access.
    Keyring,
    /// A payment channel (WeChat Pay, Alipay, the sandbox) failed, refused the request, or
    /// answered something that cannot be trusted (bad signature, skewed time, unknown key).
    Channel,
    /// A bug: should never happen.
    Internal,
}

/// The core's error. Each variant carries a message meant for a person.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    ImportFormat(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("cancelled; nothing was written")]
    Cancelled,
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Storage(String),
    #[error("{0}")]
    Keyring(String),
    #[error("{0}")]
    Channel(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Validation(_) => ErrorCode::Validation,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::ImportFormat(_) => ErrorCode::ImportFormat,
            Error::TooLarge(_) => ErrorCode::TooLarge,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Io(_) => ErrorCode::Io,
            Error::Storage(_) => ErrorCode::Storage,
            Error::Keyring(_) => ErrorCode::Keyring,
            Error::Channel(_) => ErrorCode::Channel,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Wraps an I/O failure on `path` with a message naming the file.
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Error {
        Error::Io(format!("{}: {}", path.display(), err))
    }
}

impl From<sqlx::Error> for Error {
    /// Keeps SQLite's wording away from users: constraint failures become conflicts (callers
    /// check the rules first and give precise messages; this is the last line of defence).
    fn from(err: sqlx::Error) -> Error {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict("this record already exists".into())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::Conflict(
                "other records depend on this one, so it cannot be changed or removed".into(),
            ),
            sqlx::Error::Database(db) if db.message().contains("append-only") => {
                Error::Conflict("audit and ledger records are append-only".into())
            }
            sqlx::Error::Database(db) if is_busy(db.code().as_deref()) => {
                Error::Storage(BUSY.into())
            }
            sqlx::Error::PoolTimedOut => Error::Storage(BUSY.into()),
            sqlx::Error::Io(e) => {
                Error::Storage(format!("the database file could not be used: {e}"))
            }
            _ => Error::Storage(format!("database failure ({})", sqlx_kind(&err))),
        }
    }
}

/// What a writer that waited out the busy timeout is told.
const BUSY: &str = "another FeeDesk is busy writing to this book; try again in a moment";

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), with or without their extended codes (e.g. 517
/// BUSY_SNAPSHOT, 262 LOCKED_SHAREDCACHE): sqlx gives the extended code as text.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

fn sqlx_kind(err: &sqlx::Error) -> &'static str {
    match err {
        sqlx::Error::Database(_) => "database rejected the statement",
        sqlx::Error::RowNotFound => "row not found",
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => "unexpected stored value",
        sqlx::Error::Migrate(_) => "migration failed",
        _ => "connection",
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Error {
        Error::Storage(format!("could not bring the database up to date: {err}"))
    }
}
