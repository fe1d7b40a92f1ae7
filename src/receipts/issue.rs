//! Issuing receipt records inside the caller's write transaction (a payment's, a refund's, a
//! void's): numbered gap-free per issuing store and year, chained per store, everything printed
//! frozen in the record. The transaction is `BEGIN IMMEDIATE`, so issuers queue and the counter
//! read here is the one this transaction writes back; a rollback takes the numbers with it.

use std::collections::HashMap;

use chrono::{DateTime, Datelike};
use serde_json::json;
use sqlx::SqliteConnection;

use super::content::{
    GENESIS, HashedFields, ReceiptContent, ReceiptKind, channel_label, format_number, record_hash,
};
use crate::audit::{self, Entry};
use crate::clock::LOCAL_OFFSET;
use crate::db::bulk::{Bind, execute_each};
use crate::money::{Money, chinese_capitals};
use crate::{Error, Result};

/// A receipt record to issue.
#[derive(Debug, Clone)]
pub(crate) enum ToIssue {
    /// A payment's receipt, for what is left of it after refunds (all of it, when new).
    Payment {
        payment_id: i64,
        /// The receipt this one replaces (a reissue after 红冲).
        replaces: Option<String>,
        note: Option<String>,
    },
    /// The reversal (红冲) of a receipt.
    Reversal { original_id: i64, reason: String },
}

/// An issued record.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub id: i64,
    pub payment_id: i64,
    pub number: String,
}

/// What a payment's receipt shows, loaded in one query per batch.
#[derive(Debug, sqlx::FromRow)]
struct PaymentFacts {
    payment_id: i64,
    bill_id: i64,
    amount_fen: i64,
    refunded_fen: i64,
    reference: Option<String>,
    channel: String,
    account: String,
    unit_id: i64,
    unit_code: String,
    unit_name: String,
    member_id: i64,
    member_no: String,
    member_name: String,
    guardian_name: Option<String>,
    fee: String,
    class_id: Option<i64>,
    class_name: Option<String>,
    term_id: Option<i64>,
    term_name: Option<String>,
}

// A class plan names its class; a term plan's receipt names the member's class in that term
// (the first, when enrolled in several); a unit-wide plan names neither.
const PAYMENT_FACTS: &str = "
WITH base AS (
    SELECT p.id AS payment_id, p.bill_id, p.amount_fen, p.refunded_fen, p.reference,
           a.channel, a.name AS account, b.unit_id, u.code AS unit_code, u.name AS unit_name,
           m.id AS member_id, m.member_no, m.name AS member_name, m.guardian_name,
           f.name AS fee, fp.term_id AS term_id,
           coalesce(fp.class_id, (SELECT min(e.class_id) FROM enrolments e
                                  JOIN classes c ON c.id = e.class_id
                                  WHERE e.member_id = m.id AND c.term_id = fp.term_id)) AS class_id
    FROM payments p
    JOIN bills b ON b.id = p.bill_id
    JOIN units u ON u.id = b.unit_id
    JOIN members m ON m.id = b.member_id
    JOIN fee_plans fp ON fp.id = b.plan_id
    JOIN fee_items f ON f.id = fp.fee_item_id
    JOIN collection_accounts a ON a.id = p.account_id
    WHERE p.id IN (SELECT value FROM json_each(?))
)
SELECT base.payment_id, base.bill_id, base.amount_fen, base.refunded_fen, base.reference,
       base.channel, base.account, base.unit_id, base.unit_code, base.unit_name, base.member_id,
       base.member_no, base.member_name, base.guardian_name, base.fee, base.class_id,
       c.name AS class_name, coalesce(base.term_id, c.term_id) AS term_id, t.name AS term_name
FROM base
LEFT JOIN classes c ON c.id = base.class_id
LEFT JOIN terms t ON t.id = coalesce(base.term_id, c.term_id)";

/// The stored record a reversal copies from.
#[derive(Debug, sqlx::FromRow)]
struct Original {
    id: i64,
    number: String,
    kind: String,
    unit_id: i64,
    payment_id: i64,
    bill_id: i64,
    member_id: i64,
    class_id: Option<i64>,
    term_id: Option<i64>,
    amount_fen: i64,
    content_json: String,
    reversed: bool,
}

/// A record ready to insert.
struct Row {
    id: i64,
    number: String,
    unit_id: i64,
    seq: i64,
    kind: ReceiptKind,
    payment_id: i64,
    original_id: Option<i64>,
    bill_id: i64,
    member_id: i64,
    class_id: Option<i64>,
    term_id: Option<i64>,
    amount_fen: i64,
    content_json: String,
    prev_hash: String,
    hash: String,
}

/// The institution's calendar year at `now` (RFC 3339 UTC): receipts are numbered per year.
pub(crate) fn local_year(now: &str) -> Result<i32> {
    DateTime::parse_from_rfc3339(now)
        .map(|t| t.with_timezone(&LOCAL_OFFSET).year())
        .map_err(|e| Error::Internal(format!("unreadable time {now}: {e}")))
}

/// Numbers and counters of the stores touched by one batch.
struct Sequencer {
    year: i32,
    next_id: i64,
    counters: HashMap<i64, i64>,
    heads: HashMap<i64, String>,
}

impl Sequencer {
    async fn next(&mut self, conn: &mut SqliteConnection, unit_id: i64) -> Result<(i64, i64)> {
        if !self.counters.contains_key(&unit_id) {
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT last_seq FROM receipt_counters WHERE unit_id = ? AND year = ?",
            )
            .bind(unit_id)
            .bind(self.year)
            .fetch_optional(&mut *conn)
            .await?;
            self.counters.insert(unit_id, last.unwrap_or(0));
        }
        let seq = self.counters.entry(unit_id).or_insert(0);
        *seq += 1;
        let id = self.next_id;
        self.next_id += 1;
        Ok((id, *seq))
    }

    async fn head(&mut self, conn: &mut SqliteConnection, unit_id: i64) -> Result<String> {
        if let Some(h) = self.heads.get(&unit_id) {
            return Ok(h.clone());
        }
        let head: Option<String> = sqlx::query_scalar(
            "SELECT hash FROM receipts WHERE unit_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(unit_id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(head.unwrap_or_else(|| GENESIS.to_string()))
    }
}

/// Issues `items` in the caller's transaction, in order; returns them with their numbers.
pub(crate) async fn issue(
    conn: &mut SqliteConnection,
    now: &str,
    actor: &str,
    items: &[ToIssue],
) -> Result<Vec<Issued>> {
    if items.is_empty() {
        return Ok(vec![]);
    }
    let payment_ids: Vec<i64> = items
        .iter()
        .filter_map(|i| match i {
            ToIssue::Payment { payment_id, .. } => Some(*payment_id),
            ToIssue::Reversal { .. } => None,
        })
        .collect();
    let facts = payment_facts(conn, &payment_ids).await?;
    let institution: String = sqlx::query_scalar("SELECT name FROM units WHERE kind = 'hq'")
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_default();
    let mut seq = Sequencer {
        year: local_year(now)?,
        next_id: sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM receipts")
            .fetch_one(&mut *conn)
            .await?,
        counters: HashMap::new(),
        heads: HashMap::new(),
    };
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let row = match item {
            ToIssue::Payment {
                payment_id,
                replaces,
                note,
            } => {
                let f = facts.get(payment_id).ok_or_else(|| {
                    Error::Internal(format!(
                        "payment {payment_id} vanished while issuing its receipt"
                    ))
                })?;
                let amount_fen = f.amount_fen - f.refunded_fen;
                let (id, n) = seq.next(conn, f.unit_id).await?;
                let number = format_number(&f.unit_code, seq.year, n);
                let amount = Money::from_fen(amount_fen)?;
                let content = ReceiptContent {
                    number: number.clone(),
                    kind: ReceiptKind::Receipt,
                    institution: institution.clone(),
                    issuer_code: f.unit_code.clone(),
                    issuer_name: f.unit_name.clone(),
                    issued_at: now.to_string(),
                    payer: f
                        .guardian_name
                        .clone()
                        .filter(|g| !g.trim().is_empty())
                        .unwrap_or_else(|| f.member_name.clone()),
                    member_no: f.member_no.clone(),
                    member_name: f.member_name.clone(),
                    class: f.class_name.clone(),
                    term: f.term_name.clone(),
                    fee_item: f.fee.clone(),
                    amount,
                    amount_capitals: chinese_capitals(amount),
                    channel: channel_label(&f.channel).to_string(),
                    account: f.account.clone(),
                    reference: f.reference.clone(),
                    payment_id: f.payment_id,
                    bill_id: f.bill_id,
                    operator: actor.to_string(),
                    original: replaces.clone(),
                    note: note.clone(),
                };
                Row {
                    id,
                    number,
                    unit_id: f.unit_id,
                    seq: n,
                    kind: ReceiptKind::Receipt,
                    payment_id: f.payment_id,
                    original_id: None,
                    bill_id: f.bill_id,
                    member_id: f.member_id,
                    class_id: f.class_id,
                    term_id: f.term_id,
                    amount_fen,
                    content_json: content.to_json()?,
                    prev_hash: String::new(),
                    hash: String::new(),
                }
            }
            ToIssue::Reversal {
                original_id,
                reason,
            } => reversal(conn, &mut seq, *original_id, reason, now, actor).await?,
        };
        rows.push(row);
    }
    for row in &mut rows {
        row.prev_hash = seq.head(conn, row.unit_id).await?;
        row.hash = record_hash(&HashedFields {
            prev_hash: &row.prev_hash,
            number: &row.number,
            unit_id: row.unit_id,
            year: i64::from(seq.year),
            seq: row.seq,
            kind: row.kind.as_str(),
            payment_id: row.payment_id,
            original_id: row.original_id,
            amount_fen: row.amount_fen,
            issued_at: now,
            actor,
            content_json: &row.content_json,
        });
        seq.heads.insert(row.unit_id, row.hash.clone());
    }
    write(conn, &rows, seq.year, now, actor).await?;
    write_counters(conn, &seq).await?;
    anchor(conn, &rows, &seq, now, actor).await?;
    Ok(rows
        .into_iter()
        .map(|r| Issued {
            id: r.id,
            payment_id: r.payment_id,
            number: r.number,
        })
        .collect())
}

async fn payment_facts(
    conn: &mut SqliteConnection,
    ids: &[i64],
) -> Result<HashMap<i64, PaymentFacts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let json = serde_json::to_string(ids).map_err(|e| Error::Internal(e.to_string()))?;
    let rows: Vec<PaymentFacts> = sqlx::query_as(PAYMENT_FACTS)
        .bind(json)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|f| (f.payment_id, f)).collect())
}

/// The reversal of a stored receipt: its content copied, the amount negated, a new number from
/// the same store's sequence.
async fn reversal(
    conn: &mut SqliteConnection,
    seq: &mut Sequencer,
    original_id: i64,
    reason: &str,
    now: &str,
    actor: &str,
) -> Result<Row> {
    let original: Original = sqlx::query_as(
        "SELECT r.id, r.number, r.kind, r.unit_id, r.payment_id, r.bill_id, r.member_id,
                r.class_id, r.term_id, r.amount_fen, r.content_json,
                EXISTS (SELECT 1 FROM receipts v WHERE v.original_id = r.id) AS reversed
         FROM receipts r WHERE r.id = ?",
    )
    .bind(original_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no receipt with id {original_id}")))?;
    if original.kind != ReceiptKind::Receipt.as_str() {
        return Err(Error::Validation(format!(
            "{} is itself a reversal (红冲); it cannot be voided",
            original.number
        )));
    }
    if original.reversed {
        return Err(Error::Validation(format!(
            "{} is already voided (红冲)",
            original.number
        )));
    }
    let mut content: ReceiptContent =
        serde_json::from_str(&original.content_json).map_err(|e| {
            Error::Internal(format!(
                "receipt {}: unreadable record: {e}",
                original.number
            ))
        })?;
    let (id, n) = seq.next(conn, original.unit_id).await?;
    let number = format_number(&content.issuer_code, seq.year, n);
    let amount = Money::from_fen(-original.amount_fen)?;
    content.number = number.clone();
    content.kind = ReceiptKind::Reversal;
    content.issued_at = now.to_string();
    content.amount = amount;
    content.amount_capitals = chinese_capitals(amount);
    content.operator = actor.to_string();
    content.original = Some(original.number.clone());
    content.note = Some(reason.to_string());
    Ok(Row {
        id,
        number,
        unit_id: original.unit_id,
        seq: n,
        kind: ReceiptKind::Reversal,
        payment_id: original.payment_id,
        original_id: Some(original.id),
        bill_id: original.bill_id,
        member_id: original.member_id,
        class_id: original.class_id,
        term_id: original.term_id,
        amount_fen: -original.amount_fen,
        content_json: content.to_json()?,
        prev_hash: String::new(),
        hash: String::new(),
    })
}

async fn write(
    conn: &mut SqliteConnection,
    rows: &[Row],
    year: i32,
    now: &str,
    actor: &str,
) -> Result<()> {
    let year = i64::from(year);
    execute_each(
        conn,
        "INSERT INTO receipts (id, number, unit_id, year, seq, kind, payment_id, original_id,
                bill_id, member_id, class_id, term_id, amount_fen, issued_at, actor, content_json,
                prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.iter().map(|r| {
            [
                Bind::Int(r.id),
                Bind::Text(&r.number),
                Bind::Int(r.unit_id),
                Bind::Int(year),
                Bind::Int(r.seq),
                Bind::Text(r.kind.as_str()),
                Bind::Int(r.payment_id),
                r.original_id.map_or(Bind::Null, Bind::Int),
                Bind::Int(r.bill_id),
                Bind::Int(r.member_id),
                r.class_id.map_or(Bind::Null, Bind::Int),
                r.term_id.map_or(Bind::Null, Bind::Int),
                Bind::Int(r.amount_fen),
                Bind::Text(now),
                Bind::Text(actor),
                Bind::Text(&r.content_json),
                Bind::Text(&r.prev_hash),
                Bind::Text(&r.hash),
            ]
        }),
    )
    .await?;
    Ok(())
}

async fn write_counters(conn: &mut SqliteConnection, seq: &Sequencer) -> Result<()> {
    let year = i64::from(seq.year);
    execute_each(
        conn,
        "INSERT INTO receipt_counters (unit_id, year, last_seq) VALUES (?, ?, ?)
         ON CONFLICT (unit_id, year) DO UPDATE SET last_seq = excluded.last_seq",
        seq.counters
            .iter()
            .map(|(unit, last)| [Bind::Int(*unit), Bind::Int(year), Bind::Int(*last)]),
    )
    .await?;
    Ok(())
}

/// One audit entry per batch, naming each store's new chain head: an anchor in a second,
/// independent chain, so that even deleting a store's newest receipts and rewinding its
/// counter is caught by `verify`.
async fn anchor(
    conn: &mut SqliteConnection,
    rows: &[Row],
    seq: &Sequencer,
    now: &str,
    actor: &str,
) -> Result<()> {
    let heads: serde_json::Map<String, serde_json::Value> = seq
        .heads
        .iter()
        .map(|(unit, hash)| {
            let number = rows
                .iter()
                .rev()
                .find(|r| r.unit_id == *unit)
                .map(|r| r.number.clone())
                .unwrap_or_default();
            (number, json!(hash))
        })
        .collect();
    let first = &rows[0].number;
    let last = &rows[rows.len() - 1].number;
    let entity_id = if rows.len() == 1 {
        first.clone()
    } else {
        format!("{first}..{last}")
    };
    audit::append(
        conn,
        now,
        Entry {
            actor,
            action: "receipt.issue",
            entity: "receipt",
            entity_id,
            before: None,
            after: Some(json!({
                "count": rows.len(),
                "numbers": rows.iter().take(20).map(|r| &r.number).collect::<Vec<_>>(),
                "reversals": rows.iter().filter(|r| r.kind == ReceiptKind::Reversal).count(),
                "heads": heads,
            })),
        },
    )
    .await
}

/// After a refund of `payment_id` (its `refunded_fen` already updated in this transaction):
/// the reversal (红冲) of its live receipt and, when money is left on the payment, a new
/// receipt for what remains. A payment recorded before receipts existed has none to reverse.
/// Returns the ids issued.
pub(crate) async fn after_refund(
    conn: &mut SqliteConnection,
    now: &str,
    actor: &str,
    payment_id: i64,
    reason: &str,
) -> Result<Vec<i64>> {
    let live: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.id, r.number FROM receipts r
         WHERE r.payment_id = ? AND r.kind = 'receipt'
           AND NOT EXISTS (SELECT 1 FROM receipts v WHERE v.original_id = r.id)
         ORDER BY r.id DESC LIMIT 1",
    )
    .bind(payment_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((original_id, number)) = live else {
        return Ok(vec![]);
    };
    let left: i64 =
        sqlx::query_scalar("SELECT amount_fen - refunded_fen FROM payments WHERE id = ?")
            .bind(payment_id)
            .fetch_one(&mut *conn)
            .await?;
    let mut items = vec![ToIssue::Reversal {
        original_id,
        reason: format!("退费：{reason}"),
    }];
    if left > 0 {
        items.push(ToIssue::Payment {
            payment_id,
            replaces: Some(number),
            note: Some(format!("部分退费后重开：{reason}")),
        });
    }
    Ok(issue(conn, now, actor, &items)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}
