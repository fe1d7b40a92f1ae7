//! Archiving: each receipt's PDF rendered from its record and written under the data folder
//! (`receipts/XH/2026/XH-2026-000123.pdf`), then its SHA-256 recorded once.
//!
//! Why after commit, not inside the payment's transaction: the record already freezes
//! everything the PDF shows and the rendering is deterministic, so the PDF adds no fact that
//! could be lost; typesetting thousands of receipts would hold the write lock for seconds, and
//! a missing font must never refuse a payment. A receipt whose PDF is not archived yet is
//! `pending` (the process died between commit and archive, or no font was installed): archived
//! by the next reprint, export or `feedesk receipt archive`, and reported by verify apart from
//! tampering.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::content::ReceiptContent;
use super::render::{Paper, render_pdf};
use super::settings::receipt_settings;
use crate::audit::{self, Entry};
use crate::db::bulk::{Bind, execute_each};
use crate::{Error, FeeDesk, Result};

/// What an archive run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ArchiveReport {
    /// PDFs rendered and archived now.
    pub archived: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A receipt to archive.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Pending {
    id: i64,
    number: String,
    year: i64,
    content_json: String,
    hash: String,
}

/// An archived file, to record.
struct Archived {
    id: i64,
    number: String,
    path: String,
    sha256: String,
    bytes: i64,
}

/// Receipts rendered per write transaction: each chunk's files are recorded as it finishes.
const CHUNK: usize = 256;

/// Right after a payment's (or refund's) commit: archive what it issued. Errors are not the
/// payment's: the receipts stay `pending` (visible in lists and in verify) until archived.
pub(crate) async fn archive_after_commit(desk: &FeeDesk, ids: Vec<i64>) {
    if !ids.is_empty() && desk.archives_receipts() {
        crate::fault::point("receipt.before_archive");
        let _ = archive_ids(desk, Some(&ids), None).await;
    }
}

/// Archives every receipt whose PDF is not archived yet.
pub async fn archive_pending(desk: &FeeDesk) -> Result<ArchiveReport> {
    archive_ids(desk, None, None).await
}

/// Archives the oldest `limit` pending receipts (the demo archives a sample).
pub(crate) async fn archive_oldest(desk: &FeeDesk, limit: i64) -> Result<ArchiveReport> {
    archive_ids(desk, None, Some(limit)).await
}

async fn archive_ids(
    desk: &FeeDesk,
    ids: Option<&[i64]>,
    limit: Option<i64>,
) -> Result<ArchiveReport> {
    let ids_json = ids
        .map(|ids| serde_json::to_string(ids).map_err(|e| Error::Internal(e.to_string())))
        .transpose()?;
    let pending: Vec<Pending> = sqlx::query_as(
        "SELECT r.id, r.number, r.year, r.content_json, r.hash FROM receipts r
         WHERE NOT EXISTS (SELECT 1 FROM receipt_files f WHERE f.receipt_id = r.id)
           AND (?1 IS NULL OR r.id IN (SELECT value FROM json_each(?1)))
         ORDER BY r.id LIMIT ?2",
    )
    .bind(ids_json)
    .bind(limit.unwrap_or(-1))
    .fetch_all(desk.db().pool())
    .await?;
    let paper = receipt_settings(desk).await?.paper;
    let mut report = ArchiveReport {
        archived: 0,
        bytes: 0,
    };
    for chunk in pending.chunks(CHUNK) {
        let dir = desk.data_dir().to_path_buf();
        let chunk = chunk.to_vec();
        let files = tokio::task::spawn_blocking(move || render_all(&dir, &chunk, paper))
            .await
            .map_err(|e| Error::Internal(format!("receipt rendering stopped: {e}")))??;
        record_files(desk, &files, paper).await?;
        report.archived += files.len() as u64;
        report.bytes += files.iter().map(|f| f.bytes as u64).sum::<u64>();
    }
    Ok(report)
}

/// Renders and writes a chunk, on every core.
fn render_all(data_dir: &Path, chunk: &[Pending], paper: Paper) -> Result<Vec<Archived>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(chunk.len().max(1));
    let per = chunk.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunk
            .chunks(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| render_one(data_dir, p, paper))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(chunk.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| Error::Internal("receipt rendering panicked".into()))??,
            );
        }
        Ok(out)
    })
}

fn render_one(data_dir: &Path, p: &Pending, paper: Paper) -> Result<Archived> {
    let content: ReceiptContent = serde_json::from_str(&p.content_json)
        .map_err(|e| Error::Internal(format!("receipt {}: unreadable record: {e}", p.number)))?;
    let pdf = render_pdf(&content, &p.hash, paper)?;
    let rel = relative_path(&content.issuer_code, p.year, &p.number);
    write_atomically(&data_dir.join(&rel), &pdf)?;
    Ok(Archived {
        id: p.id,
        number: p.number.clone(),
        path: rel,
        sha256: hex::encode(Sha256::digest(&pdf)),
        bytes: pdf.len() as i64,
    })
}

/// Where a receipt's PDF lives, relative to the data folder.
fn relative_path(store: &str, year: i64, number: &str) -> String {
    format!("{}/{store}/{year}/{number}.pdf", super::ARCHIVE_DIR)
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it into place, so a
/// crash leaves either no file or the whole one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no folder", path.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp: PathBuf = path.with_extension("pdf.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    Ok(())
}

async fn record_files(desk: &FeeDesk, files: &[Archived], paper: Paper) -> Result<()> {
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    // Another process may have archived the same receipt meanwhile (the same bytes: rendering
    // is deterministic); the first record stands.
    execute_each(
        &mut tx,
        "INSERT OR IGNORE INTO receipt_files (receipt_id, path, paper, sha256, bytes, archived_at)
         VALUES (?, ?, ?, ?, ?, ?)",
        files.iter().map(|f| {
            [
                Bind::Int(f.id),
                Bind::Text(&f.path),
                Bind::Text(paper.as_str()),
                Bind::Text(&f.sha256),
                Bind::Int(f.bytes),
                Bind::Text(&now),
            ]
        }),
    )
    .await?;
    // The files' hashes also go to the audit log, a second chain: changing a PDF and its
    // recorded hash together is still caught by verify.
    if let (Some(first), Some(last)) = (files.first(), files.last()) {
        let hashes: serde_json::Map<String, serde_json::Value> = files
            .iter()
            .map(|f| (f.number.clone(), serde_json::json!(f.sha256)))
            .collect();
        audit::append(
            &mut tx,
            &now,
            Entry {
                actor: desk.actor(),
                action: "receipt.archive",
                entity: "receipt_file",
                entity_id: if files.len() == 1 {
                    first.number.clone()
                } else {
                    format!("{}..{}", first.number, last.number)
                },
                before: None,
                after: Some(serde_json::json!({"paper": paper.as_str(), "files": hashes})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A receipt's archived PDF (archiving it first if it is still pending), checked against the
/// SHA-256 recorded when it was archived: a reprint is always the archived original.
pub async fn receipt_pdf(desk: &FeeDesk, number: &str) -> Result<Vec<u8>> {
    let number = crate::text::normalize(number).to_ascii_uppercase();
    let id: i64 = sqlx::query_scalar("SELECT id FROM receipts WHERE number = ?")
        .bind(&number)
        .fetch_optional(desk.db().pool())
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no receipt {number}; `feedesk receipt list` shows them"
            ))
        })?;
    let mut file: Option<(String, String)> =
        sqlx::query_as("SELECT path, sha256 FROM receipt_files WHERE receipt_id = ?")
            .bind(id)
            .fetch_optional(desk.db().pool())
            .await?;
    if file.is_none() {
        archive_ids(desk, Some(&[id]), None).await?;
        file = sqlx::query_as("SELECT path, sha256 FROM receipt_files WHERE receipt_id = ?")
            .bind(id)
            .fetch_optional(desk.db().pool())
            .await?;
    }
    let (path, sha256) =
        file.ok_or_else(|| Error::Internal(format!("receipt {number} could not be archived")))?;
    let full = desk.data_dir().join(&path);
    let bytes = std::fs::read(&full).map_err(|e| {
        Error::Conflict(format!(
            "the archived PDF of {number} ({}) cannot be read: {e}; run `feedesk receipt verify`",
            full.display()
        ))
    })?;
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Err(Error::Conflict(format!(
            "the archived PDF of {number} ({}) was changed after it was archived; \
             run `feedesk receipt verify`",
            full.display()
        )));
    }
    Ok(bytes)
}
