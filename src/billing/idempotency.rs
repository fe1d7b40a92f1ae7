//! Idempotency keys: every money call names a key. The first call with a key does the work and
//! stores its result beside the key, in the same transaction; a later call with the same key and
//! the same request gets that first result back and changes nothing; the same key with a
//! different request is refused as a conflict. Write transactions are serialised
//! (`BEGIN IMMEDIATE`), so simultaneous calls with one key cannot both do the work.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

use crate::text::normalize;
use crate::{Error, Result};

/// A checked key and the hash of the request it came with.
pub(crate) struct Claim {
    pub key: String,
    pub operation: &'static str,
    pub request_hash: String,
}

/// Checks `key`: returns the stored result when this exact request already ran, a conflict when
/// the key was used for something else, and otherwise a claim to complete with [`complete`].
pub(crate) async fn check<R: DeserializeOwned>(
    conn: &mut SqliteConnection,
    key: &str,
    operation: &'static str,
    request: &impl Serialize,
) -> Result<std::result::Result<R, Claim>> {
    let key = normalize(key);
    if key.is_empty() || key.chars().count() > 128 {
        return Err(Error::Validation(
            "an idempotency key (--key) of 1-128 characters is required; reuse it only to retry the same call".into(),
        ));
    }
    let request_json = serde_json::to_string(request).map_err(|e| Error::Internal(e.to_string()))?;
    let request_hash = hex::encode(Sha256::digest(format!("{operation}\n{request_json}")));
    let stored: Option<(String, String, String)> = sqlx::query_as(
        "SELECT operation, request_hash, result_json FROM idempotency_keys WHERE key = ?",
    )
    .bind(&key)
    .fetch_optional(&mut *conn)
    .await?;
    match stored {
        None => Ok(Err(Claim {
            key,
            operation,
            request_hash,
        })),
        Some((op, hash, result)) if op == operation && hash == request_hash => {
            Ok(Ok(serde_json::from_str(&result).map_err(|e| {
                Error::Internal(format!("stored result of key {key}: {e}"))
            })?))
        }
        Some((op, _, _)) => Err(Error::Conflict(format!(
            "idempotency key '{key}' was already used for a different {} request; \
             use a new key for a new request",
            op
        ))),
    }
}

/// Stores the result of the claimed call, in its transaction.
pub(crate) async fn complete(
    conn: &mut SqliteConnection,
    claim: Claim,
    result: &impl Serialize,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (key, operation, request_hash, result_json, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&claim.key)
    .bind(claim.operation)
    .bind(&claim.request_hash)
    .bind(serde_json::to_string(result).map_err(|e| Error::Internal(e.to_string()))?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
