//! Anchors for the two hash chains (the audit log and the receipts). A chain catches an edit
//! or a removal in its middle, but not a deleted tail, nor a history rebuilt and re-chained by
//! someone who can write the file. An anchor is the chains' heads at one moment (how many
//! entries, and the hash of the last), signed with a key kept in the OS keyring, and written
//! to a file kept elsewhere (with each backup, or by hand). Verifying the book against an
//! anchor catches both: fewer entries than anchored is a deleted tail; another hash at the
//! anchored position is a re-chained history. Without the key nobody can make an anchor that
//! verifies.

use std::path::Path;

use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::secrets::{SecretRef, SecretStore, Sensitive, random_hex};
use crate::{Error, FeeDesk, Result};

/// One chain's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// How many entries the chain held.
    pub entries: i64,
    /// The hash of the last of them (empty for an empty chain).
    pub head: String,
}

/// The chains' heads at one moment, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub feedesk_anchor: u32,
    pub made_at: String,
    pub audit: Head,
    pub receipts: Head,
    /// HMAC-SHA256 (hex) over the fields above, with the book's anchor key.
    pub signature: String,
}

/// What verifying against an anchor found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AnchorCheck {
    pub audit_entries: i64,
    pub receipts: i64,
    /// One sentence per problem; empty when the book still holds everything anchored.
    pub problems: Vec<String>,
}

impl AnchorCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn signed_text(made_at: &str, audit: &Head, receipts: &Head) -> String {
    format!(
        "feedesk-anchor-v1\n{made_at}\n{}\n{}\n{}\n{}\n",
        audit.entries, audit.head, receipts.entries, receipts.head
    )
}

async fn key_ref(desk: &FeeDesk) -> Result<Option<SecretRef>> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT anchor_key_ref FROM book_identity WHERE id = 1")
            .fetch_one(desk.db().pool())
            .await?;
    text.as_deref().map(SecretRef::parse).transpose()
}

/// The book's anchor key, made (and filed in the keyring) the first time.
async fn key(desk: &FeeDesk, secrets: &SecretStore, create: bool) -> Result<hmac::Key> {
    let reference = match key_ref(desk).await? {
        Some(r) => r,
        None if create => {
            let r = SecretRef::generate("anchor");
            secrets.put(&r, &Sensitive::new(random_hex(32))).await?;
            let mut tx = desk.db().write().await?;
            sqlx::query(
                "UPDATE book_identity SET anchor_key_ref = ? WHERE id = 1 AND anchor_key_ref IS NULL",
            )
            .bind(r.as_str())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            // Another FeeDesk may have made one first: use whichever is on record.
            key_ref(desk).await?.unwrap_or(r)
        }
        None => {
            return Err(Error::Validation(
                "this book has never been anchored (no anchor key); `feedesk audit anchor --out FILE` makes one"
                    .into(),
            ));
        }
    };
    let secret = secrets.get(&reference).await?;
    let bytes = hex::decode(secret.expose())
        .map_err(|_| Error::Keyring("the anchor key in the OS keyring is damaged".into()))?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

async fn heads(desk: &FeeDesk) -> Result<(Head, Head)> {
    let pool = desk.db().pool();
    let (audit_n, audit_head): (i64, Option<String>) = sqlx::query_as(
        "SELECT count(*), (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) FROM audit_log",
    )
    .fetch_one(pool)
    .await?;
    let (receipt_n, receipt_head): (i64, Option<String>) = sqlx::query_as(
        "SELECT count(*), (SELECT hash FROM receipts ORDER BY id DESC LIMIT 1) FROM receipts",
    )
    .fetch_one(pool)
    .await?;
    Ok((
        Head {
            entries: audit_n,
            head: audit_head.unwrap_or_default(),
        },
        Head {
            entries: receipt_n,
            head: receipt_head.unwrap_or_default(),
        },
    ))
}

/// Anchors the chains as they stand now.
pub async fn make(desk: &FeeDesk, secrets: &SecretStore) -> Result<Anchor> {
    let key = key(desk, secrets, true).await?;
    let (audit, receipts) = heads(desk).await?;
    let made_at = desk.now_text();
    let tag = hmac::sign(&key, signed_text(&made_at, &audit, &receipts).as_bytes());
    Ok(Anchor {
        feedesk_anchor: 1,
        made_at,
        audit,
        receipts,
        signature: hex::encode(tag.as_ref()),
    })
}

/// Anchors the chains and writes the anchor to `path` (JSON).
pub async fn write(desk: &FeeDesk, secrets: &SecretStore, path: &Path) -> Result<Anchor> {
    let anchor = make(desk, secrets).await?;
    let text = serde_json::to_string_pretty(&anchor).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    Ok(anchor)
}

/// Reads an anchor file.
pub fn read(path: &Path) -> Result<Anchor> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|_| {
        Error::ImportFormat(format!("{} is not a FeeDesk anchor file", path.display()))
    })
}

/// Checks the book against `anchor`: its signature, then that each chain still holds, at the
/// anchored position, the entry anchored (and the chain itself verifies).
pub async fn verify(desk: &FeeDesk, secrets: &SecretStore, anchor: &Anchor) -> Result<AnchorCheck> {
    let key = key(desk, secrets, false).await?;
    let mut check = AnchorCheck::default();
    let text = signed_text(&anchor.made_at, &anchor.audit, &anchor.receipts);
    let signature = hex::decode(&anchor.signature).unwrap_or_default();
    if hmac::verify(&key, text.as_bytes(), &signature).is_err() {
        check.problems.push(
            "the anchor's signature does not verify: it was altered, or it is another book's"
                .into(),
        );
        return Ok(check);
    }
    let pool = desk.db().pool();
    for (what, table, head) in [
        ("audit log", "audit_log", &anchor.audit),
        ("receipts", "receipts", &anchor.receipts),
    ] {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(pool)
                .await?;
        if what == "audit log" {
            check.audit_entries = count;
        } else {
            check.receipts = count;
        }
        if head.entries == 0 {
            continue;
        }
        if count < head.entries {
            check.problems.push(format!(
                "the {what} holds {count} entries, but {} were anchored at {}: its tail was deleted",
                head.entries, anchor.made_at
            ));
            continue;
        }
        let at: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT hash FROM {table} ORDER BY id LIMIT 1 OFFSET ?"
        )))
        .bind(head.entries - 1)
        .fetch_optional(pool)
        .await?;
        if at.as_deref() != Some(head.head.as_str()) {
            check.problems.push(format!(
                "entry {} of the {what} is not the one anchored at {}: the history was rewritten and re-chained",
                head.entries, anchor.made_at
            ));
        }
    }
    if let Err(e) = crate::audit::verify(pool).await {
        check.problems.push(e.to_string());
    }
    let receipts = crate::receipts::verify(desk).await?;
    check.problems.extend(receipts.problems);
    Ok(check)
}
