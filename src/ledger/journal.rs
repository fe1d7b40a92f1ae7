//! Posting journal entries. Every posting is checked to balance before anything is written;
//! postings are collected in a [`Journal`] and written together, with ids assigned inside the
//! caller's write transaction, so issuing a plan to 100,000 members writes its 100,000 entries
//! in one pass through the bulk writer.

use sqlx::SqliteConnection;

use super::chart::{Chart, LedgerCode};
use crate::db::bulk::{Bind, execute_each};
use crate::{Error, Result};

/// One side of a posting: an amount in fen to debit or credit an account.
#[derive(Debug, Clone)]
pub struct Line {
    pub account: LedgerCode,
    pub debit_fen: i64,
    pub credit_fen: i64,
}

impl Line {
    pub fn debit(account: LedgerCode, fen: i64) -> Line {
        Line {
            account,
            debit_fen: fen,
            credit_fen: 0,
        }
    }

    pub fn credit(account: LedgerCode, fen: i64) -> Line {
        Line {
            account,
            debit_fen: 0,
            credit_fen: fen,
        }
    }
}

/// A journal entry to post in one unit's books.
#[derive(Debug, Clone)]
pub struct Posting {
    pub unit_id: i64,
    /// `bill.issue`, `bill.void`, `bill.declare`, `bill.close`, `payment`, `refund`.
    pub kind: &'static str,
    pub bill_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub refund_id: Option<i64>,
    pub memo: String,
    pub lines: Vec<Line>,
}

struct EntryRow {
    id: i64,
    unit_id: i64,
    kind: &'static str,
    bill_id: Option<i64>,
    payment_id: Option<i64>,
    refund_id: Option<i64>,
    memo: String,
    total_fen: i64,
}

struct LineRow {
    entry_id: i64,
    account_id: i64,
    debit_fen: i64,
    credit_fen: i64,
}

/// Postings waiting to be written in the caller's write transaction.
pub struct Journal {
    chart: Chart,
    next_id: i64,
    entries: Vec<EntryRow>,
    lines: Vec<LineRow>,
}

impl Journal {
    /// Starts a journal in the caller's write transaction (which fixes the next entry id).
    pub async fn begin(conn: &mut SqliteConnection) -> Result<Journal> {
        let max: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM journal_entries")
            .fetch_one(&mut *conn)
            .await?;
        Ok(Journal {
            chart: Chart::new(),
            next_id: max.unwrap_or(0) + 1,
            entries: Vec::new(),
            lines: Vec::new(),
        })
    }

    /// Adds a posting after checking that it balances; lines of zero are dropped, and a posting
    /// that moves nothing is skipped (returns `None`).
    pub async fn post(
        &mut self,
        conn: &mut SqliteConnection,
        posting: Posting,
    ) -> Result<Option<i64>> {
        let mut debit: i64 = 0;
        let mut credit: i64 = 0;
        for line in &posting.lines {
            if line.debit_fen < 0 || line.credit_fen < 0 {
                return Err(Error::Internal(format!(
                    "{} posting has a negative line",
                    posting.kind
                )));
            }
            debit = debit
                .checked_add(line.debit_fen)
                .ok_or_else(|| Error::Internal("posting overflows".into()))?;
            credit = credit
                .checked_add(line.credit_fen)
                .ok_or_else(|| Error::Internal("posting overflows".into()))?;
        }
        if debit != credit {
            return Err(Error::Internal(format!(
                "{} posting does not balance: debit {debit} fen, credit {credit} fen",
                posting.kind
            )));
        }
        if debit == 0 {
            return Ok(None);
        }
        let entry_id = self.next_id;
        self.next_id += 1;
        for line in posting.lines {
            if line.debit_fen == 0 && line.credit_fen == 0 {
                continue;
            }
            let account_id = self
                .chart
                .account(&mut *conn, posting.unit_id, &line.account)
                .await?;
            self.lines.push(LineRow {
                entry_id,
                account_id,
                debit_fen: line.debit_fen,
                credit_fen: line.credit_fen,
            });
        }
        self.entries.push(EntryRow {
            id: entry_id,
            unit_id: posting.unit_id,
            kind: posting.kind,
            bill_id: posting.bill_id,
            payment_id: posting.payment_id,
            refund_id: posting.refund_id,
            memo: posting.memo,
            total_fen: debit,
        });
        Ok(Some(entry_id))
    }

    /// Writes the postings (entries first, then their lines) in the caller's transaction.
    pub async fn write(self, conn: &mut SqliteConnection, posted_at: &str) -> Result<usize> {
        let count = self.entries.len();
        let opt = |v: Option<i64>| v.map_or(Bind::Null, Bind::Int);
        execute_each(
            &mut *conn,
            "INSERT INTO journal_entries (id, unit_id, posted_at, kind, bill_id, payment_id, refund_id, memo, total_fen)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.entries.iter().map(|e| {
                [
                    Bind::Int(e.id),
                    Bind::Int(e.unit_id),
                    Bind::Text(posted_at),
                    Bind::Text(e.kind),
                    opt(e.bill_id),
                    opt(e.payment_id),
                    opt(e.refund_id),
                    Bind::Text(&e.memo),
                    Bind::Int(e.total_fen),
                ]
            }),
        )
        .await?;
        crate::fault::point("journal.between_entries_and_lines");
        execute_each(
            &mut *conn,
            "INSERT INTO journal_lines (entry_id, account_id, debit_fen, credit_fen) VALUES (?, ?, ?, ?)",
            self.lines.iter().map(|l| {
                [
                    Bind::Int(l.entry_id),
                    Bind::Int(l.account_id),
                    Bind::Int(l.debit_fen),
                    Bind::Int(l.credit_fen),
                ]
            }),
        )
        .await?;
        Ok(count)
    }
}
