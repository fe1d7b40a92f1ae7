//! The audit log: who changed what, when, with the state before and after.
//!
//! Rows are append-only (triggers refuse UPDATE and DELETE) and each row's hash covers the
//! previous row's hash, so [`verify`] notices an edited, inserted or deleted row. Entries are
//! written inside the same write transaction as the change they describe.

use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

use crate::{Error, Result};

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Who acted, e.g. `local:alice`.
    pub actor: &'a str,
    /// What was done, e.g. `unit.add`, `roster.import`.
    pub action: &'a str,
    /// The kind of record changed, e.g. `unit`.
    pub entity: &'a str,
    /// Its identity (code or id).
    pub entity_id: String,
    /// State before, as JSON, when there was one.
    pub before: Option<serde_json::Value>,
    /// State after, as JSON, when there is one.
    pub after: Option<serde_json::Value>,
}

/// A stored audit entry.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Record {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Appends `entry` at time `at` (RFC 3339 UTC) in the caller's write transaction.
pub async fn append(conn: &mut SqliteConnection, at: &str, entry: Entry<'_>) -> Result<()> {
    let prev_hash: String =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or_else(|| GENESIS.to_string());
    let before = entry.before.map(|v| v.to_string());
    let after = entry.after.map(|v| v.to_string());
    let hash = chain_hash(
        &prev_hash,
        at,
        entry.actor,
        entry.action,
        entry.entity,
        Some(&entry.entity_id),
        before.as_deref(),
        after.as_deref(),
    );
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.entity)
    .bind(&entry.entity_id)
    .bind(before)
    .bind(after)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The hash of one entry: SHA-256 over the previous hash and every field, length-prefixed so
/// that no two different entries can produce the same input.
#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev: &str,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        Some(prev),
        Some(at),
        Some(actor),
        Some(action),
        Some(entity),
        entity_id,
        before,
        after,
    ] {
        match part {
            Some(text) => {
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            }
            None => h.update(u64::MAX.to_be_bytes()),
        }
    }
    hex::encode(h.finalize())
}

/// Reads the whole log, oldest first.
pub async fn list(pool: &sqlx::SqlitePool) -> Result<Vec<Record>> {
    Ok(sqlx::query_as("SELECT * FROM audit_log ORDER BY id")
        .fetch_all(pool)
        .await?)
}

/// Checks the chain from the first entry; returns the number of entries when intact and a
/// conflict error naming the first broken entry otherwise.
pub async fn verify(pool: &sqlx::SqlitePool) -> Result<usize> {
    let records = list(pool).await?;
    let mut prev = GENESIS.to_string();
    for r in &records {
        let expected = chain_hash(
            &prev,
            &r.at,
            &r.actor,
            &r.action,
            &r.entity,
            r.entity_id.as_deref(),
            r.before_json.as_deref(),
            r.after_json.as_deref(),
        );
        if r.prev_hash != prev {
            return Err(Error::Conflict(format!(
                "audit log broken at entry {}: it does not follow the entry before it (one was removed or inserted)",
                r.id
            )));
        }
        if r.hash != expected {
            return Err(Error::Conflict(format!(
                "audit log broken at entry {}: its content was changed after it was written",
                r.id
            )));
        }
        prev = r.hash.clone();
    }
    Ok(records.len())
}
