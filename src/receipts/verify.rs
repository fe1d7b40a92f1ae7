//! Verifying the receipts as an auditor would: every record's hash and its link to the store's
//! record before it, the numbering (1..N per store and year with nothing skipped, the counter
//! at N), the audit log's anchors (each batch's chain heads must still exist: catches a deleted
//! newest receipt with a rewound counter), and every archived PDF against its SHA-256. A PDF
//! not archived yet is reported as pending, apart from problems.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::content::{GENESIS, HashedFields, ReceiptContent, format_number, record_hash};
use crate::{FeeDesk, Result};

/// What verify found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VerifyReport {
    /// Whether everything checked is intact.
    pub intact: bool,
    pub receipts: u64,
    /// Issuing stores with receipts.
    pub stores: u64,
    /// PDFs checked against their SHA-256.
    pub files_checked: u64,
    /// Receipts whose PDF is not archived yet (not a problem: `feedesk receipt archive`).
    pub pending: Vec<String>,
    /// Every problem, the first broken link first.
    pub problems: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct Record {
    id: i64,
    number: String,
    unit_id: i64,
    year: i64,
    seq: i64,
    kind: String,
    payment_id: i64,
    original_id: Option<i64>,
    amount_fen: i64,
    issued_at: String,
    actor: String,
    content_json: String,
    prev_hash: String,
    hash: String,
}

/// Checks everything; never changes anything.
pub async fn verify(desk: &FeeDesk) -> Result<VerifyReport> {
    let pool = desk.db().pool();
    let records: Vec<Record> = sqlx::query_as(
        "SELECT id, number, unit_id, year, seq, kind, payment_id, original_id, amount_fen,
                issued_at, actor, content_json, prev_hash, hash
         FROM receipts ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    let mut problems = vec![];
    let mut heads: HashMap<i64, (String, String)> = HashMap::new();
    let mut seqs: HashMap<(i64, i64), (i64, String)> = HashMap::new();
    let mut hashes = HashSet::with_capacity(records.len());
    for r in &records {
        check_record(r, &mut heads, &mut seqs, &mut problems);
        hashes.insert(r.hash.clone());
    }

    // The counters say how many numbers each store used each year.
    let counters: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT c.unit_id, c.year, c.last_seq, u.code FROM receipt_counters c
         JOIN units u ON u.id = c.unit_id ORDER BY u.code, c.year",
    )
    .fetch_all(pool)
    .await?;
    let mut counted = HashSet::new();
    for (unit, year, last, code) in counters {
        counted.insert((unit, year));
        let (seen, last_number) = seqs
            .get(&(unit, year))
            .cloned()
            .unwrap_or((0, String::new()));
        if seen < last {
            problems.push(format!(
                "{code} {year}: {last} number(s) were issued but the last receipt on record is {}; \
                 {} was deleted",
                if last_number.is_empty() {
                    "none".into()
                } else {
                    last_number
                },
                format_number(&code, year as i32, seen + 1)
            ));
        }
    }
    for ((unit, year), (_, number)) in &seqs {
        if !counted.contains(&(*unit, *year)) {
            problems.push(format!(
                "{number}: its store's number counter for {year} is missing (deleted)"
            ));
        }
    }

    // The audit log's anchors: each issuing batch named the chain heads it left.
    let anchors: Vec<String> = sqlx::query_scalar(
        "SELECT after_json FROM audit_log WHERE action = 'receipt.issue' ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    for after in anchors {
        let value: serde_json::Value = serde_json::from_str(&after).unwrap_or_default();
        if let Some(map) = value.get("heads").and_then(|h| h.as_object()) {
            for (number, hash) in map {
                if hash.as_str().is_some_and(|h| !hashes.contains(h)) {
                    problems.push(format!(
                        "{number}: the audit log records it as issued, but no receipt with its \
                         hash exists (deleted or altered)"
                    ));
                }
            }
        }
    }

    // The archived PDFs: their recorded hashes against the audit log's, then the files.
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT after_json FROM audit_log WHERE action = 'receipt.archive' ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    let mut anchored: HashMap<String, String> = HashMap::new();
    for after in recorded {
        let value: serde_json::Value = serde_json::from_str(&after).unwrap_or_default();
        if let Some(map) = value.get("files").and_then(|f| f.as_object()) {
            for (number, sha) in map {
                if let Some(sha) = sha.as_str() {
                    // The first archive of a receipt stands (a concurrent second one is ignored).
                    anchored
                        .entry(number.clone())
                        .or_insert_with(|| sha.to_string());
                }
            }
        }
    }
    let files: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT f.receipt_id, r.number, f.path, f.sha256 FROM receipt_files f
         JOIN receipts r ON r.id = f.receipt_id ORDER BY f.receipt_id",
    )
    .fetch_all(pool)
    .await?;
    let archived: HashSet<i64> = files.iter().map(|f| f.0).collect();
    for (_, number, path, sha256) in &files {
        if anchored.get(number).is_some_and(|a| a != sha256) {
            problems.push(format!(
                "{number}: the SHA-256 recorded for its archived PDF was changed (the audit log \
                 recorded {} when it was archived)",
                anchored[number]
            ));
        }
        let full = desk.data_dir().join(path);
        if path.contains("..") {
            problems.push(format!(
                "{number}: its archived PDF path '{path}' leaves the archive"
            ));
            continue;
        }
        match std::fs::read(&full) {
            Err(_) => problems.push(format!(
                "{number}: its archived PDF {} is missing",
                full.display()
            )),
            Ok(bytes) => {
                let actual = hex::encode(Sha256::digest(&bytes));
                if &actual != sha256 {
                    problems.push(format!(
                        "{number}: its archived PDF {} was changed (SHA-256 {actual}, archived \
                         as {sha256})",
                        full.display()
                    ));
                }
            }
        }
    }
    let pending = records
        .iter()
        .filter(|r| !archived.contains(&r.id))
        .map(|r| r.number.clone())
        .collect();
    Ok(VerifyReport {
        intact: problems.is_empty(),
        receipts: records.len() as u64,
        stores: heads.len() as u64,
        files_checked: files.len() as u64,
        pending,
        problems,
    })
}

/// One record against the one before it in its store and its own content.
fn check_record(
    r: &Record,
    heads: &mut HashMap<i64, (String, String)>,
    seqs: &mut HashMap<(i64, i64), (i64, String)>,
    problems: &mut Vec<String>,
) {
    let (prev, prev_number) = heads
        .get(&r.unit_id)
        .cloned()
        .unwrap_or_else(|| (GENESIS.to_string(), String::new()));
    if r.prev_hash != prev {
        problems.push(if prev_number.is_empty() {
            format!(
                "{}: it should start its store's chain but follows a record that is gone \
                 (an earlier receipt was deleted)",
                r.number
            )
        } else {
            format!(
                "{}: it does not follow {prev_number}, the record before it in its store (a \
                 receipt between them was deleted, or {prev_number} was altered)",
                r.number
            )
        });
    }
    let expected = record_hash(&HashedFields {
        prev_hash: &r.prev_hash,
        number: &r.number,
        unit_id: r.unit_id,
        year: r.year,
        seq: r.seq,
        kind: &r.kind,
        payment_id: r.payment_id,
        original_id: r.original_id,
        amount_fen: r.amount_fen,
        issued_at: &r.issued_at,
        actor: &r.actor,
        content_json: &r.content_json,
    });
    if expected != r.hash {
        problems.push(format!(
            "{}: its record was changed after it was issued (hash mismatch)",
            r.number
        ));
    }
    match serde_json::from_str::<ReceiptContent>(&r.content_json) {
        Ok(c) => {
            if c.number != r.number
                || c.amount.fen() != r.amount_fen
                || c.kind.as_str() != r.kind
                || c.issued_at != r.issued_at
                || format_number(&c.issuer_code, r.year as i32, r.seq) != r.number
            {
                problems.push(format!(
                    "{}: what it prints disagrees with its record (number, amount, kind or date)",
                    r.number
                ));
            }
        }
        Err(_) => problems.push(format!("{}: its content cannot be read", r.number)),
    }
    let (last, last_number) = seqs
        .get(&(r.unit_id, r.year))
        .cloned()
        .unwrap_or((0, String::new()));
    if r.seq != last + 1 {
        problems.push(if r.seq > last + 1 {
            format!(
                "{}: numbers jump from {} to it; {} number(s) are missing (deleted)",
                r.number,
                if last_number.is_empty() {
                    "the start of the year".into()
                } else {
                    last_number
                },
                r.seq - last - 1
            )
        } else {
            format!(
                "{}: its number repeats or goes back (sequence {})",
                r.number, r.seq
            )
        });
    }
    seqs.insert((r.unit_id, r.year), (r.seq.max(last), r.number.clone()));
    heads.insert(r.unit_id, (r.hash.clone(), r.number.clone()));
}
