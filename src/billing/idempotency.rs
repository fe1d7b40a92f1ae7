//! Idempotency keys: every money call names a key. The first call with a key does the work and
//! stores its result beside the key, in the same transaction; a later call with the same key and
//! the same request gets that first result back and changes nothing; the same key with a
//! different request is refused as a conflict. Write transactions are serialised
//! (`BEGIN IMMEDIATE`), so simultaneous calls with one key cannot both do the work.
//!
//! A batch loads all its keys in one query ([`Keys::load`]), decides each request in memory,
//! and writes the new keys together ([`Keys::write`]).

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

use crate::db::bulk::{Bind, execute_each};
use crate::text::normalize;
use crate::{Error, Result};

struct Stored {
    operation: String,
    request_hash: String,
    result_json: String,
    fresh: bool,
}

/// The keys of one batch of calls of one operation.
pub(crate) struct Keys {
    operation: &'static str,
    stored: HashMap<String, Stored>,
}

/// A key not used before, with its request's hash, to complete with [`Keys::complete`].
pub(crate) struct Claim {
    key: String,
    request_hash: String,
}

fn checked(key: &str) -> Result<String> {
    let key = normalize(key);
    if key.is_empty() || key.chars().count() > 128 {
        return Err(Error::Validation(
            "an idempotency key (--key) of 1-128 characters is required; reuse it only to retry the same call".into(),
        ));
    }
    Ok(key)
}

impl Keys {
    /// Loads what is stored for `keys`.
    pub async fn load<'k>(
        conn: &mut SqliteConnection,
        operation: &'static str,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<Keys> {
        let keys = keys.into_iter().map(checked).collect::<Result<Vec<_>>>()?;
        let json = serde_json::to_string(&keys).map_err(|e| Error::Internal(e.to_string()))?;
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT key, operation, request_hash, result_json FROM idempotency_keys
             WHERE key IN (SELECT value FROM json_each(?))",
        )
        .bind(json)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Keys {
            operation,
            stored: rows
                .into_iter()
                .map(|(key, operation, request_hash, result_json)| {
                    (
                        key,
                        Stored {
                            operation,
                            request_hash,
                            result_json,
                            fresh: false,
                        },
                    )
                })
                .collect(),
        })
    }

    /// The first result when this exact request already ran under `key`; a conflict when the key
    /// was used for something else; otherwise a claim on the key.
    pub fn check<R: DeserializeOwned>(
        &self,
        key: &str,
        request: &impl Serialize,
    ) -> Result<std::result::Result<R, Claim>> {
        let key = checked(key)?;
        let json = serde_json::to_string(request).map_err(|e| Error::Internal(e.to_string()))?;
        let request_hash = hex::encode(Sha256::digest(format!("{}\n{json}", self.operation)));
        match self.stored.get(&key) {
            None => Ok(Err(Claim { key, request_hash })),
            Some(s) if s.operation == self.operation && s.request_hash == request_hash => {
                Ok(Ok(serde_json::from_str(&s.result_json).map_err(|e| {
                    Error::Internal(format!("stored result of key {key}: {e}"))
                })?))
            }
            Some(s) => Err(Error::Conflict(format!(
                "idempotency key '{key}' was already used for a different {} request; \
                 use a new key for a new request",
                s.operation
            ))),
        }
    }

    /// Records the result of a claimed call (written by [`Keys::write`]).
    pub fn complete(&mut self, claim: Claim, result: &impl Serialize) -> Result<()> {
        let result_json =
            serde_json::to_string(result).map_err(|e| Error::Internal(e.to_string()))?;
        self.stored.insert(
            claim.key,
            Stored {
                operation: self.operation.to_string(),
                request_hash: claim.request_hash,
                result_json,
                fresh: true,
            },
        );
        Ok(())
    }

    /// Replaces the result of a key completed in this batch (not yet written), once the rest of
    /// the transaction has filled in what the result reports (a receipt number).
    pub fn restate(&mut self, key: &str, result: &impl Serialize) -> Result<()> {
        let key = checked(key)?;
        if let Some(stored) = self.stored.get_mut(&key).filter(|s| s.fresh) {
            stored.result_json =
                serde_json::to_string(result).map_err(|e| Error::Internal(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes the keys completed in this batch, in the caller's transaction.
    pub async fn write(&self, conn: &mut SqliteConnection, now: &str) -> Result<()> {
        execute_each(
            conn,
            "INSERT INTO idempotency_keys (key, operation, request_hash, result_json, created_at) VALUES (?, ?, ?, ?, ?)",
            self.stored.iter().filter(|(_, s)| s.fresh).map(|(key, s)| {
                [
                    Bind::Text(key),
                    Bind::Text(&s.operation),
                    Bind::Text(&s.request_hash),
                    Bind::Text(&s.result_json),
                    Bind::Text(now),
                ]
            }),
        )
        .await?;
        Ok(())
    }
}
