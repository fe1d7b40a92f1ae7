//! A reconciliation run: one account, a period of Beijing days. Streams the account's stored
//! statements through the [`Matcher`] against our payments and refunds, then, in one write
//! transaction: records the run, updates the discrepancy items (by their stable keys: a
//! resolved item stays resolved, an open one no longer found is marked cleared), records each
//! day's channel fees and posts to the books what they add (6603 channel fees against the
//! account's clearing account: idempotent per account and day, a later change posts only the
//! difference), and writes the audit entry.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::import::{stored_lines, stored_statements};
use super::matching::{
    Finding, MatchClass, Matcher, OurPayment, OurRefund, Outcome, PendingRefund, fee_fen,
};
use super::statement::StatementLine;
use crate::audit::{self, Entry};
use crate::billing::{CollectionAccount, find_account};
use crate::clock::LOCAL_OFFSET;
use crate::db::bulk::{Bind, execute_each, read_each};
use crate::ledger::{Journal, LedgerCode, Line, Posting};
use crate::money::Money;
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::{Error, FeeDesk, Result};

/// Count and money of one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassTotal {
    pub count: u64,
    pub amount: Money,
}

/// A run's result, as `reconcile run --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunSummary {
    pub run_id: i64,
    pub account: String,
    pub channel: String,
    pub from: String,
    pub to: String,
    pub statements: u64,
    /// Statement lines of the period (each counted once).
    pub lines: u64,
    pub duplicate_lines: u64,
    pub matched: ClassTotal,
    pub amount_mismatch: ClassTotal,
    pub ours_only: ClassTotal,
    pub channel_only: ClassTotal,
    pub refund_mismatch: ClassTotal,
    /// Channel fees of the period (手续费), net of fees returned on refunds.
    pub fees_total: Money,
    /// What this run posted to the books for fees (zero when they were posted before).
    pub fees_posted: Money,
    /// Discrepancies of the period nobody has resolved yet.
    pub open_items: u64,
}

/// A period and account, checked.
pub(crate) struct Scope {
    pub account: CollectionAccount,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

pub(crate) async fn scope(
    desk: &FeeDesk,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Scope> {
    if from > to {
        return Err(Error::Validation(format!(
            "the period starts ({from}) after it ends ({to})"
        )));
    }
    if (to - from).num_days() > 366 {
        return Err(Error::Validation(
            "reconcile at most a year at a time".into(),
        ));
    }
    let account = find_account(desk, account).await?;
    Ok(Scope { account, from, to })
}

/// Beijing midnight starting `day`, as stored (UTC text).
fn utc_start(day: NaiveDate) -> String {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let utc = local - chrono::Duration::seconds(i64::from(LOCAL_OFFSET.local_minus_utc()));
    format!("{}Z", utc.format("%Y-%m-%dT%H:%M:%S%.3f"))
}

fn beijing(stored: &str) -> Result<NaiveDateTime> {
    DateTime::parse_from_rfc3339(stored)
        .map(|t| {
            t.with_timezone(&Utc)
                .with_timezone(&LOCAL_OFFSET)
                .naive_local()
        })
        .map_err(|_| Error::Internal(format!("stored time '{stored}'")))
}

/// Our payments, refunds, and refunds still pending at the channel.
type OurSide = (Vec<OurPayment>, Vec<OurRefund>, Vec<PendingRefund>);

/// A stored time (`2026-11-20T02:00:00.000Z`) in Beijing time; read by hand because a day of a
/// large merchant has a million of them, with chrono's parser as the fallback for any other
/// RFC 3339 form.
fn beijing_fast(stored: &str) -> Result<NaiveDateTime> {
    let b = stored.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() >= 20
        && b[4] == b'-'
        && b[10] == b'T'
        && b[b.len() - 1] == b'Z'
        && let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
            num(0..4),
            num(5..7),
            num(8..10),
            num(11..13),
            num(14..16),
            num(17..19),
        )
        && let Some(t) =
            NaiveDate::from_ymd_opt(y as i32, mo, d).and_then(|d| d.and_hms_opt(h, mi, sec))
    {
        return Ok(t + chrono::Duration::seconds(i64::from(LOCAL_OFFSET.local_minus_utc())));
    }
    beijing(stored)
}

/// Our payments and refunds of the account from the day before the period on (a payment is
/// recorded when we learn of it, which may be after the channel's day). Read through SQLite's
/// C API: a busy merchant's day is a million payments.
async fn our_side(desk: &FeeDesk, scope: &Scope, expected: usize) -> Result<OurSide> {
    let since = utc_start(scope.from - chrono::Duration::days(1));
    let mut conn = desk.db().pool().acquire().await?;
    let account = Bind::Int(scope.account.id);
    let mut payments: Vec<OurPayment> = Vec::with_capacity(expected);
    let mut failed = None;
    read_each(
        &mut conn,
        "SELECT id, amount_fen, reference, received_at FROM payments
         WHERE account_id = ? AND received_at >= ?",
        &[account, Bind::Text(&since)],
        |row| {
            let at = match beijing_fast(row.text(3).unwrap_or_default()) {
                Ok(at) => at,
                Err(e) => {
                    failed = Some(e);
                    return Err(Error::Internal("unreadable payment time".into()));
                }
            };
            payments.push(OurPayment {
                id: row.int(0),
                amount_fen: row.int(1),
                out_trade_no: None,
                reference: row.text(2).map(str::to_string),
                at,
            });
            Ok(())
        },
    )
    .await
    .map_err(|e| failed.take().unwrap_or(e))?;
    // A table scan returns them in id order already; sorted to be sure, for the binary search.
    if !payments.is_sorted_by_key(|p| p.id) {
        payments.sort_by_key(|p| p.id);
    }
    // The orders behind them (a second scan, joined in memory: cheaper than a million lookups).
    read_each(
        &mut conn,
        "SELECT payment_id, out_trade_no FROM channel_orders
         WHERE account_id = ? AND payment_id IS NOT NULL AND created_at >= ?",
        &[
            account,
            Bind::Text(&utc_start(scope.from - chrono::Duration::days(30))),
        ],
        |row| {
            if let Ok(i) = payments.binary_search_by_key(&row.int(0), |p| p.id) {
                payments[i].out_trade_no = row.text(1).map(str::to_string);
            }
            Ok(())
        },
    )
    .await?;
    let mut refunds = Vec::new();
    read_each(
        &mut conn,
        "SELECT r.id, r.payment_id, r.amount_fen, r.refunded_at, cr.out_refund_no
         FROM refunds r JOIN payments p ON p.id = r.payment_id
         LEFT JOIN channel_refunds cr ON cr.refund_id = r.id
         WHERE p.account_id = ? AND r.refunded_at >= ?",
        &[account, Bind::Text(&since)],
        |row| {
            refunds.push(OurRefund {
                id: row.int(0),
                payment_id: row.int(1),
                amount_fen: row.int(2),
                out_refund_no: row.text(4).map(str::to_string),
                at: beijing_fast(row.text(3).unwrap_or_default())?,
            });
            Ok(())
        },
    )
    .await?;
    let mut pending = Vec::new();
    read_each(
        &mut conn,
        "SELECT cr.out_refund_no, cr.amount_fen FROM channel_refunds cr
         JOIN channel_orders o ON o.id = cr.order_id
         WHERE o.account_id = ? AND cr.status = 'pending'",
        &[account],
        |row| {
            pending.push(PendingRefund {
                out_refund_no: row.text(0).unwrap_or_default().to_string(),
                amount_fen: row.int(1),
            });
            Ok(())
        },
    )
    .await?;
    Ok((payments, refunds, pending))
}

/// Matches the period without writing anything: what a run and an export share.
pub(crate) async fn match_period(
    desk: &FeeDesk,
    scope: &Scope,
    keep_matched: bool,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<(Outcome, u64)> {
    let statements = stored_statements(desk, scope.account.id, scope.from, scope.to).await?;
    let total = statements.len() as u64;
    // The statements are read on another core while ours are loaded from the database: the
    // two take about as long, so a run costs little more than reading the file.
    let reading = {
        let (desk, statements, cancel) = (desk.clone(), statements.clone(), cancel.clone());
        let (from, to) = (scope.from, scope.to);
        tokio::task::spawn_blocking(move || -> Result<Vec<(i64, StatementLine)>> {
            let expected: u64 = statements.iter().map(|s| s.lines).sum();
            let mut lines = Vec::with_capacity(expected.min(4_000_000) as usize);
            for s in &statements {
                let mut n: u64 = 0;
                stored_lines(&desk, s, |line| {
                    n += 1;
                    if n.is_multiple_of(65_536) {
                        cancel.check()?;
                    }
                    if (from..=to).contains(&line.day()) {
                        lines.push((s.id, line));
                    }
                    Ok(())
                })?;
            }
            Ok(lines)
        })
    };
    let expected: u64 = statements.iter().map(|s| s.lines).sum();
    let ours = our_side(desk, scope, expected.min(4_000_000) as usize).await;
    let lines = reading
        .await
        .map_err(|e| Error::Internal(format!("reading the statements stopped: {e}")))?
        .map_err(|e| {
            if cancel.is_cancelled() {
                Error::Cancelled
            } else {
                e
            }
        })?;
    let (payments, refunds, pending) = ours?;
    cancel.check()?;
    progress(Progress {
        phase: "match",
        done: 0,
        total: Some(lines.len() as u64),
    });
    let mut matcher = Matcher::new(
        scope.from,
        scope.to,
        payments,
        refunds,
        pending,
        statements.len() > 1,
        keep_matched,
    );
    for (id, line) in lines {
        matcher.line(id, line);
    }
    Ok((matcher.finish(), total))
}

fn class_total(outcome: &Outcome, class: MatchClass) -> Result<ClassTotal> {
    let t = outcome.tallies.get(&class).copied().unwrap_or_default();
    Ok(ClassTotal {
        count: t.count,
        amount: Money::from_fen(t.fen)?,
    })
}

/// Reconciles `account` over the Beijing days `[from, to]`.
pub async fn run_reconciliation(
    desk: &FeeDesk,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<RunSummary> {
    let scope = scope(desk, account, from, to).await?;
    Ok(run_scope(desk, &scope, false, progress, cancel).await?.0)
}

/// A run over `scope`; with `keep_matched`, the matched lines are kept for the workbook.
pub(crate) async fn run_scope(
    desk: &FeeDesk,
    scope: &Scope,
    keep_matched: bool,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<(RunSummary, Outcome)> {
    let (from, to) = (scope.from, scope.to);
    let (outcome, statements) = match_period(desk, scope, keep_matched, progress, cancel).await?;
    cancel.check()?;
    let fees_e5: i64 = outcome.fee_days.values().map(|d| d.fee_e5).sum();
    let mut summary = RunSummary {
        run_id: 0,
        account: scope.account.name.clone(),
        channel: scope.account.channel.as_str().into(),
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        statements,
        lines: outcome.lines,
        duplicate_lines: outcome.duplicate_lines,
        matched: class_total(&outcome, MatchClass::Matched)?,
        amount_mismatch: class_total(&outcome, MatchClass::AmountMismatch)?,
        ours_only: class_total(&outcome, MatchClass::OursOnly)?,
        channel_only: class_total(&outcome, MatchClass::ChannelOnly)?,
        refund_mismatch: class_total(&outcome, MatchClass::RefundMismatch)?,
        fees_total: Money::from_fen(fee_fen(fees_e5))?,
        fees_posted: Money::ZERO,
        open_items: 0,
    };
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO recon_runs (account_id, from_day, to_day, at, actor, summary_json)
         VALUES (?, ?, ?, ?, ?, '{}') RETURNING id",
    )
    .bind(scope.account.id)
    .bind(&summary.from)
    .bind(&summary.to)
    .bind(&now)
    .bind(desk.actor())
    .fetch_one(&mut *tx)
    .await?;
    summary.run_id = run_id;
    store_findings(&mut tx, scope, &outcome.findings, run_id, &now).await?;
    let posted = post_fees(&mut tx, &scope.account, &outcome.fee_days, &now).await?;
    summary.fees_posted = Money::from_fen(posted)?;
    summary.open_items = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM recon_items WHERE account_id = ? AND day BETWEEN ? AND ? AND status IN ('open', 'follow_up')",
    )
    .bind(scope.account.id)
    .bind(&summary.from)
    .bind(&summary.to)
    .fetch_one(&mut *tx)
    .await? as u64;
    let summary_json = json!(summary);
    sqlx::query("UPDATE recon_runs SET summary_json = ? WHERE id = ?")
        .bind(summary_json.to_string())
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "reconcile.run",
            entity: "recon_run",
            entity_id: run_id.to_string(),
            before: None,
            after: Some(summary_json),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((summary, outcome))
}

async fn store_findings(
    tx: &mut sqlx::SqliteConnection,
    scope: &Scope,
    findings: &[Finding],
    run_id: i64,
    now: &str,
) -> Result<()> {
    let rows: Vec<(String, Option<(i64, i64)>)> = findings
        .iter()
        .map(|f| {
            (
                f.day.format("%Y-%m-%d").to_string(),
                f.source.map(|(s, l)| (s, l as i64)),
            )
        })
        .collect();
    let opt_int = |v: Option<i64>| v.map_or(Bind::Null, Bind::Int);
    fn opt_text(v: &Option<String>) -> Bind<'_> {
        v.as_deref().map_or(Bind::Null, Bind::Text)
    }
    // Upserted by key: a re-run updates the item, never adds a second one, and keeps a
    // resolution (only an item cleared by an earlier run opens again).
    execute_each(
        &mut *tx,
        "INSERT INTO recon_items (account_id, item_key, day, class, kind, out_trade_no, transaction_id,
             out_refund_no, channel_fen, ours_fen, payment_id, refund_id, statement_id, line_no, reason,
             status, first_run_id, last_run_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'open', ?16, ?16, ?17, ?17)
         ON CONFLICT (account_id, item_key) DO UPDATE SET
             day = excluded.day, class = excluded.class, kind = excluded.kind,
             out_trade_no = excluded.out_trade_no, transaction_id = excluded.transaction_id,
             out_refund_no = excluded.out_refund_no, channel_fen = excluded.channel_fen,
             ours_fen = excluded.ours_fen, payment_id = coalesce(excluded.payment_id, recon_items.payment_id),
             refund_id = excluded.refund_id, statement_id = excluded.statement_id,
             line_no = excluded.line_no, reason = excluded.reason,
             status = CASE WHEN recon_items.status = 'cleared' THEN 'open' ELSE recon_items.status END,
             last_run_id = excluded.last_run_id, updated_at = excluded.updated_at",
        findings.iter().zip(&rows).map(|(f, (day, source))| {
            [
                Bind::Int(scope.account.id),
                Bind::Text(&f.key),
                Bind::Text(day),
                Bind::Text(f.class.as_str()),
                Bind::Text(f.kind.as_str()),
                opt_text(&f.out_trade_no),
                opt_text(&f.transaction_id),
                opt_text(&f.out_refund_no),
                opt_int(f.channel_fen),
                opt_int(f.ours_fen),
                opt_int(f.payment_id),
                opt_int(f.refund_id),
                opt_int(source.map(|s| s.0)),
                opt_int(source.map(|s| s.1)),
                Bind::Text(&f.reason),
                Bind::Int(run_id),
                Bind::Text(now),
            ]
        }),
    )
    .await?;
    // Open items of the period this run did not find any more matched meanwhile.
    sqlx::query(
        "UPDATE recon_items SET status = 'cleared', updated_at = ?
         WHERE account_id = ? AND day BETWEEN ? AND ? AND status = 'open' AND last_run_id <> ?",
    )
    .bind(now)
    .bind(scope.account.id)
    .bind(scope.from.format("%Y-%m-%d").to_string())
    .bind(scope.to.format("%Y-%m-%d").to_string())
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records each day's fee and posts what the books do not carry yet; returns the fen posted.
async fn post_fees(
    tx: &mut sqlx::SqliteConnection,
    account: &CollectionAccount,
    days: &BTreeMap<NaiveDate, super::matching::FeeDay>,
    now: &str,
) -> Result<i64> {
    let mut journal = Journal::begin(&mut *tx).await?;
    let mut posted_total = 0;
    for (day, fee_day) in days {
        let day_text = day.format("%Y-%m-%d").to_string();
        let fee = fee_fen(fee_day.fee_e5);
        let posted: i64 = sqlx::query_scalar(
            "SELECT posted_fen FROM channel_fee_days WHERE account_id = ? AND day = ?",
        )
        .bind(account.id)
        .bind(&day_text)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(0);
        let delta = fee - posted;
        if delta != 0 {
            let money = LedgerCode::Money {
                account_id: account.id,
                place: account.channel.ledger_place(),
                name: account.name.clone(),
            };
            let lines = if delta > 0 {
                vec![
                    Line::debit(LedgerCode::ChannelFees, delta),
                    Line::credit(money, delta),
                ]
            } else {
                vec![
                    Line::debit(money, -delta),
                    Line::credit(LedgerCode::ChannelFees, -delta),
                ]
            };
            journal
                .post(
                    &mut *tx,
                    Posting {
                        unit_id: account.unit_id,
                        kind: "channel.fee",
                        bill_id: None,
                        payment_id: None,
                        refund_id: None,
                        memo: format!("渠道手续费 · {} · {day_text}", account.name),
                        lines,
                    },
                )
                .await?;
            posted_total += delta;
        }
        sqlx::query(
            "INSERT INTO channel_fee_days (account_id, day, lines, fee_fen, posted_fen, updated_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (account_id, day) DO UPDATE SET lines = excluded.lines,
                 fee_fen = excluded.fee_fen, posted_fen = excluded.posted_fen, updated_at = excluded.updated_at",
        )
        .bind(account.id)
        .bind(&day_text)
        .bind(fee_day.lines as i64)
        .bind(fee)
        .bind(fee)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    journal.write(&mut *tx, now).await?;
    Ok(posted_total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_read_in_beijing_time() {
        let t = beijing_fast("2026-11-20T16:30:05.123Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-21 00:30:05");
        // Other RFC 3339 forms go through chrono.
        let t = beijing_fast("2026-11-20T16:30:05+00:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-21 00:30:05");
        assert!(beijing_fast("yesterday").is_err());
        assert_eq!(
            utc_start(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()),
            "2026-11-20T16:00:00.000Z"
        );
    }
}
