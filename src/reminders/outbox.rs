//! The outbox: every reminder is a row before it is a message. Queuing writes the due plan in
//! one transaction (the unique indexes make a second queue of the same tier a no-op); a send
//! first claims its row in a write transaction that re-checks the bill (so the app's scheduler
//! and a cron `remind run` never both send it, and a bill paid since the preview is not
//! chased), then sends outside any transaction, then records the outcome. A row found still
//! `sending` by a later run means the process died in between: it becomes `uncertain` and waits
//! for a person.

use serde::Serialize;
use serde_json::json;

use super::channel::ReminderChannel;
use super::due::{DuePlan, unpaid_lines};
use super::template;
use crate::audit::{self, Entry};
use crate::{Error, FeeDesk, Result};

/// How many times a failed send is tried in all.
pub const MAX_ATTEMPTS: i64 = 5;
/// The first retry's delay; each further one doubles it.
pub const FIRST_BACKOFF_SECONDS: i64 = 300;
/// How long a claim may stay `sending` before a later run declares it uncertain.
pub const SENDING_LEASE_SECONDS: i64 = 300;

/// A stored outbox row, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxRow {
    pub id: i64,
    pub bill_id: Option<i64>,
    pub class_id: Option<i64>,
    /// The member (personal rows) or the class (group rows).
    pub about: String,
    /// The store (unit code) of the member or the class, for choosing a batch by store.
    pub unit: String,
    pub tier: i64,
    pub tier_days: i64,
    pub channel: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub status: String,
    pub approved: bool,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const ROW_SQL: &str = "SELECT o.id, o.bill_id, o.class_id,
        coalesce(m.name || ' (' || m.member_no || ')', cu.code || '/' || c.name, '') AS about,
        coalesce(mu.code, cu.code, '') AS unit,
        o.tier, o.tier_days, o.channel, o.recipient, o.subject, o.body, o.status,
        o.approved_at IS NOT NULL AS approved, o.attempts, o.next_attempt_at, o.sent_at,
        o.last_error, o.created_at, o.updated_at
     FROM reminder_outbox o
     LEFT JOIN bills b ON b.id = o.bill_id LEFT JOIN members m ON m.id = b.member_id
     LEFT JOIN units mu ON mu.id = m.unit_id
     LEFT JOIN classes c ON c.id = o.class_id LEFT JOIN units cu ON cu.id = c.unit_id";

/// Which rows the log shows.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogFilter {
    pub status: Option<String>,
    pub bill_id: Option<i64>,
    /// Newest first, at most this many (default 500).
    pub limit: Option<u32>,
}

/// The delivery log, newest first.
pub async fn log(desk: &FeeDesk, filter: &LogFilter) -> Result<Vec<OutboxRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ROW_SQL} WHERE (?1 IS NULL OR o.status = ?1)
           AND (?2 IS NULL OR o.bill_id = ?2
                OR o.id IN (SELECT outbox_id FROM reminder_outbox_bills WHERE bill_id = ?2))
         ORDER BY o.id DESC LIMIT ?3"
    )))
    .bind(filter.status.as_deref())
    .bind(filter.bill_id)
    .bind(i64::from(filter.limit.unwrap_or(500)))
    .fetch_all(desk.db().pool())
    .await?)
}

/// Rows queued and waiting for a person's approval, oldest first.
pub async fn awaiting_approval(desk: &FeeDesk) -> Result<Vec<OutboxRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ROW_SQL} WHERE o.status = 'pending' AND o.approved_at IS NULL ORDER BY o.id"
    )))
    .fetch_all(desk.db().pool())
    .await?)
}

/// What one queue wrote.
#[derive(Debug, Default)]
pub struct Queued {
    /// (tier, channel, status) of each new row.
    pub rows: Vec<(u32, ReminderChannel, &'static str)>,
    pub escalated: usize,
}

/// Writes the plan into the outbox and the follow-up list, in one transaction. Rows are
/// approved at once when `approve` or their policy sends automatically.
pub async fn queue(desk: &FeeDesk, plan: &DuePlan, approve: bool) -> Result<Queued> {
    let now = desk.now_text();
    let actor = desk.actor();
    let mut out = Queued::default();
    let mut tx = desk.db().write().await?;
    for m in &plan.messages {
        let status = if m.skip_reason.is_some() {
            "skipped"
        } else {
            "pending"
        };
        let approved = (status == "pending" && (approve || m.auto_send)).then_some(&now);
        let inserted = sqlx::query(
            "INSERT INTO reminder_outbox (bill_id, tier, tier_days, channel, recipient, quiet_start,
                 quiet_end, subject, body, status, approved_at, approved_by, last_error,
                 sms_params, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (bill_id, tier, channel) WHERE bill_id IS NOT NULL DO NOTHING",
        )
        .bind(m.bill_id)
        .bind(m.tier)
        .bind(m.tier_days)
        .bind(m.channel.as_str())
        .bind(&m.recipient)
        .bind(&m.quiet.0)
        .bind(&m.quiet.1)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(status)
        .bind(approved)
        .bind(approved.map(|_| actor))
        .bind(&m.skip_reason)
        .bind(m.sms_params.as_ref().map(|p| p.to_string()))
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 {
            out.rows.push((m.tier, m.channel, status));
        }
    }
    for g in &plan.groups {
        let status = if g.skip_reason.is_some() {
            "skipped"
        } else {
            "pending"
        };
        let approved = (status == "pending" && (approve || g.auto_send)).then_some(&now);
        // Today's message for this class, tier and channel: new, or still waiting to go (then
        // the newly due bills join it); one already sent leaves them for tomorrow's.
        let existing: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, status FROM reminder_outbox
             WHERE class_id = ? AND tier = ? AND channel = ? AND group_day = ?",
        )
        .bind(g.class_id)
        .bind(g.tier)
        .bind(g.channel.as_str())
        .bind(&plan.day)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match existing {
            Some((id, s)) if s == "pending" || s == "skipped" => id,
            Some(_) => continue,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO reminder_outbox (class_id, group_day, tier, tier_days, channel,
                         quiet_start, quiet_end, body, status, approved_at, approved_by, last_error,
                         created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(g.class_id)
                .bind(&plan.day)
                .bind(g.tier)
                .bind(g.tier_days)
                .bind(g.channel.as_str())
                .bind(&g.quiet.0)
                .bind(&g.quiet.1)
                .bind(&g.body)
                .bind(status)
                .bind(approved)
                .bind(approved.map(|_| actor))
                .bind(&g.skip_reason)
                .bind(&now)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?;
                out.rows.push((g.tier, g.channel, status));
                id
            }
        };
        for bill in &g.bill_ids {
            sqlx::query(
                "INSERT INTO reminder_outbox_bills (outbox_id, bill_id, tier, channel)
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(bill)
            .bind(g.tier)
            .bind(g.channel.as_str())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE reminder_outbox SET body = ?, updated_at = ? WHERE id = ? AND status = 'pending'")
            .bind(&g.body)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    for e in &plan.escalations {
        let opened: Option<i64> = sqlx::query_scalar(
            "INSERT INTO followups (bill_id, status, opened_at, updated_at) VALUES (?, 'open', ?, ?)
             ON CONFLICT (bill_id) DO NOTHING RETURNING id",
        )
        .bind(e.bill_id)
        .bind(&now)
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = opened {
            sqlx::query(
                "INSERT INTO followup_events (followup_id, at, actor, kind, text) VALUES (?, ?, ?, 'opened', ?)",
            )
            .bind(id)
            .bind(&now)
            .bind(actor)
            .bind(format!("{} days overdue, past the last reminder", e.days_overdue))
            .execute(&mut *tx)
            .await?;
            out.escalated += 1;
        }
    }
    if !out.rows.is_empty() || out.escalated > 0 {
        audit::append(
            &mut tx,
            &now,
            Entry {
                actor,
                action: "reminder.queue",
                entity: "reminder_outbox",
                entity_id: plan.day.clone(),
                before: None,
                after: Some(json!({
                    "rows": out.rows.len(), "escalated": out.escalated, "approved": approve,
                })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// Approves rows waiting for a person: `ids`, or every waiting row when `None`.
pub async fn approve(desk: &FeeDesk, ids: Option<&[i64]>) -> Result<u64> {
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let ids_json = ids.map(|i| serde_json::to_string(i).unwrap_or_default());
    let n = sqlx::query(
        "UPDATE reminder_outbox SET approved_at = ?1, approved_by = ?2, updated_at = ?1
         WHERE status = 'pending' AND approved_at IS NULL
           AND (?3 IS NULL OR id IN (SELECT value FROM json_each(?3)))",
    )
    .bind(&now)
    .bind(desk.actor())
    .bind(&ids_json)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n > 0 {
        audit::append(
            &mut tx,
            &now,
            Entry {
                actor: desk.actor(),
                action: "reminder.approve",
                entity: "reminder_outbox",
                entity_id: ids
                    .map(|i| format!("{i:?}"))
                    .unwrap_or_else(|| "all".into()),
                before: None,
                after: Some(json!({"approved": n})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// Rows still `sending` after the lease: the process that claimed them died between sending
/// and recording. They become `uncertain` and are never resent automatically.
pub async fn recover_stale(desk: &FeeDesk) -> Result<u64> {
    let now = desk.clock().now();
    let cutoff = (now - chrono::Duration::seconds(SENDING_LEASE_SECONDS))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let now_text = desk.now_text();
    let mut tx = desk.db().write().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE reminder_outbox SET status = 'uncertain', updated_at = ?,
             last_error = 'the sending process stopped before recording the outcome; check with the recipient, then mark it delivered or not'
         WHERE status = 'sending' AND claimed_at < ? RETURNING id",
    )
    .bind(&now_text)
    .bind(&cutoff)
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        audit::append(
            &mut tx,
            &now_text,
            Entry {
                actor: desk.actor(),
                action: "reminder.uncertain",
                entity: "reminder_outbox",
                entity_id: id.to_string(),
                before: Some(json!({"status": "sending"})),
                after: Some(json!({"status": "uncertain"})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids.len() as u64)
}

/// A claimed row, ready to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub sms_params: Option<serde_json::Value>,
}

/// How a claim ended.
pub enum Claim {
    Claimed(Claimed),
    /// The bill was paid, voided, paused or stopped since it was queued (or the group has no
    /// unpaid left): the row is cancelled.
    Cancelled,
    /// Someone else claimed it first (the scheduler and cron running together).
    Taken,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    bill_id: Option<i64>,
    class_id: Option<i64>,
    tier: i64,
    status: String,
    recipient: Option<String>,
    subject: Option<String>,
    body: String,
    sms_params: Option<String>,
    next_attempt_at: Option<String>,
    approved_at: Option<String>,
    attempts: i64,
    class_name: Option<String>,
}

/// Claims row `id` for `sender_id`: re-checks it is still due and its bill still open, then
/// marks it `sending`, all in one write transaction.
pub async fn claim(desk: &FeeDesk, id: i64, sender_id: Option<i64>) -> Result<Claim> {
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let row: ClaimRow = sqlx::query_as(
        "SELECT o.bill_id, o.class_id, o.tier, o.status, o.recipient, o.subject, o.body,
                o.sms_params, o.next_attempt_at, o.approved_at, o.attempts, c.name AS class_name
         FROM reminder_outbox o LEFT JOIN classes c ON c.id = o.class_id WHERE o.id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no reminder {id}")))?;
    let due = match row.status.as_str() {
        "pending" => row.approved_at.is_some(),
        "failed" => {
            row.attempts < MAX_ATTEMPTS
                && row.next_attempt_at.as_deref().is_some_and(|t| *t <= *now)
        }
        _ => false,
    };
    if !due {
        return Ok(Claim::Taken);
    }
    let mut body = row.body.clone();
    let still_owed = match row.bill_id {
        Some(bill) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM bills b JOIN members m ON m.id = b.member_id
             WHERE b.id = ? AND b.status IN ('open', 'partial')
               AND NOT EXISTS (SELECT 1 FROM reminder_pauses x WHERE x.bill_id = b.id)
               AND NOT EXISTS (SELECT 1 FROM reminder_stops s WHERE s.member_id = m.id)",
            )
            .bind(bill)
            .fetch_one(&mut *tx)
            .await?
                > 0
        }
        None => {
            // A group message names only who still owes, as of now.
            let (lines, _, fee) = unpaid_lines(&mut tx, id).await?;
            if let (false, Some(fee), Some(class)) = (lines.is_empty(), fee, &row.class_name) {
                let policy = group_policy(desk, row.class_id).await?;
                body = template::render_group(
                    &policy,
                    tone_of(&policy, row.tier),
                    class,
                    &fee,
                    &lines,
                );
            }
            !lines.is_empty()
        }
    };
    if !still_owed {
        sqlx::query(
            "UPDATE reminder_outbox SET status = 'cancelled', last_error = 'paid, voided, paused or stopped before it went',
                 next_attempt_at = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Claim::Cancelled);
    }
    sqlx::query(
        "UPDATE reminder_outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1,
             sender_id = ?, body = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&now)
    .bind(sender_id)
    .bind(&body)
    .bind(&now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Claim::Claimed(Claimed {
        id,
        recipient: row.recipient,
        subject: row.subject,
        body,
        sms_params: row
            .sms_params
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()),
    }))
}

/// The policy that applies to a class's group messages: its store's.
async fn group_policy(desk: &FeeDesk, class_id: Option<i64>) -> Result<super::policy::Policy> {
    let unit: Option<i64> = sqlx::query_scalar("SELECT unit_id FROM classes WHERE id = ?")
        .bind(class_id)
        .fetch_optional(desk.db().pool())
        .await?;
    let policies = super::policy::Policies::load(desk).await?;
    // A class has no plan of its own here; the store's policy (or the default) speaks.
    Ok(policies.for_bill(-1, unit.unwrap_or(-1)).clone())
}

fn tone_of(policy: &super::policy::Policy, tier: i64) -> super::policy::Tone {
    usize::try_from(tier - 1)
        .ok()
        .and_then(|i| policy.tiers.get(i))
        .map(|t| t.tone)
        .unwrap_or(super::policy::Tone::Firm)
}

/// The outcome of a send, to record.
pub enum Outcome {
    Sent(Option<String>),
    Retry { message: String, after_seconds: i64 },
    Failed(String),
    Uncertain(String),
}

/// Records what happened to claimed row `id`. A row a later run declared uncertain while this
/// send was still going takes the true outcome.
pub async fn record(desk: &FeeDesk, id: i64, outcome: Outcome) -> Result<&'static str> {
    let now = desk.clock().now();
    let now_text = desk.now_text();
    let mut tx = desk.db().write().await?;
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM reminder_outbox WHERE id = ?")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let (status, next, error, provider): (
        &'static str,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = match outcome {
        Outcome::Sent(provider) => ("sent", None, None, provider),
        Outcome::Retry {
            message,
            after_seconds,
        } if attempts < MAX_ATTEMPTS => {
            let backoff = FIRST_BACKOFF_SECONDS << (attempts - 1).clamp(0, 16);
            let at = now + chrono::Duration::seconds(backoff.max(after_seconds));
            (
                "failed",
                Some(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                Some(message),
                None,
            )
        }
        Outcome::Retry { message, .. } => (
            "failed",
            None,
            Some(format!("{message}; gave up after {attempts} attempts")),
            None,
        ),
        Outcome::Failed(message) => ("failed", None, Some(message), None),
        Outcome::Uncertain(message) => ("uncertain", None, Some(message), None),
    };
    let sent_at = (status == "sent").then_some(&now_text);
    sqlx::query(
        "UPDATE reminder_outbox SET status = ?, next_attempt_at = ?, last_error = ?,
             provider_id = coalesce(?, provider_id), sent_at = coalesce(?, sent_at), updated_at = ?
         WHERE id = ? AND status IN ('sending', 'uncertain')",
    )
    .bind(status)
    .bind(&next)
    .bind(&error)
    .bind(&provider)
    .bind(sent_at)
    .bind(&now_text)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &now_text,
        Entry {
            actor: desk.actor(),
            action: match status {
                "sent" => "reminder.sent",
                "uncertain" => "reminder.uncertain",
                _ => "reminder.failed",
            },
            entity: "reminder_outbox",
            entity_id: id.to_string(),
            before: None,
            after: Some(
                json!({"status": status, "attempt": attempts, "error": error, "retry_at": next}),
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(status)
}

/// A person settles an uncertain (or given-up) row: it was delivered, or it was not and may
/// be sent again by the next run.
pub async fn resolve(desk: &FeeDesk, id: i64, delivered: bool) -> Result<()> {
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let status: String = sqlx::query_scalar("SELECT status FROM reminder_outbox WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!("no reminder {id}; `feedesk remind log` lists them"))
        })?;
    if status != "uncertain" && status != "failed" {
        return Err(Error::Validation(format!(
            "reminder {id} is {status}; only uncertain or failed reminders are settled by hand"
        )));
    }
    if delivered {
        sqlx::query("UPDATE reminder_outbox SET status = 'sent', sent_at = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?")
            .bind(&now)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    } else {
        // Approved again by this person: sent by the next run, with a fresh set of attempts.
        sqlx::query(
            "UPDATE reminder_outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL,
                 approved_at = ?, approved_by = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&now)
        .bind(desk.actor())
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "reminder.resolve",
            entity: "reminder_outbox",
            entity_id: id.to_string(),
            before: Some(json!({"status": status})),
            after: Some(json!({"delivered": delivered})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
