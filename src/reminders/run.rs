//! One reminder run, the same for `feedesk remind run` (cron, Task Scheduler) and the desktop
//! app's scheduler: declare stale claims uncertain, queue what is due (approved at once with
//! `--approve` or a policy's automatic sending), then send what is approved and due, outside
//! quiet hours and within each sender's rate, each row claimed in its own transaction first.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use serde::Serialize;

use super::channel::ReminderChannel;
use super::due::{DuePlan, Senders, plan_due};
use super::notify::load_rows;
use super::outbox::{self, Claim, MAX_ATTEMPTS, OutboxRow, Outcome};
use super::senders::{self, Outgoing, SendFailure, Sender};
use crate::clock::LOCAL_OFFSET;
use crate::secrets::SecretStore;
use crate::{Error, FeeDesk, Result, fault};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Approve every queued row (a person has looked at the preview).
    pub approve: bool,
    /// How long one send may take.
    pub send_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            approve: false,
            send_timeout: senders::SEND_TIMEOUT,
        }
    }
}

/// Counts for one tier and channel (or in all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Counts {
    /// New rows queued by this run.
    pub queued: u32,
    /// New rows that cannot be sent (no address, channel not configured).
    pub skipped: u32,
    /// Rows waiting for a person to approve them.
    pub awaiting_approval: u32,
    pub sent: u32,
    /// Approved rows held back because it is within quiet hours.
    pub waiting_quiet_hours: u32,
    /// Approved rows held back by the sender's rate limit.
    pub waiting_rate_limit: u32,
    /// Sends refused this run (retried later when the refusal allows).
    pub failed: u32,
    /// Sends whose outcome is unknown (timeout after sending).
    pub uncertain: u32,
    /// Rows cancelled because the bill was paid, voided, paused or stopped.
    pub cancelled: u32,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.queued += o.queued;
        self.skipped += o.skipped;
        self.awaiting_approval += o.awaiting_approval;
        self.sent += o.sent;
        self.waiting_quiet_hours += o.waiting_quiet_hours;
        self.waiting_rate_limit += o.waiting_rate_limit;
        self.failed += o.failed;
        self.uncertain += o.uncertain;
        self.cancelled += o.cancelled;
    }
}

/// Counts of one tier and channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TierChannelCounts {
    pub tier: u32,
    pub channel: ReminderChannel,
    #[serde(flatten)]
    pub counts: Counts,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunReport {
    pub at: String,
    /// The institution's day.
    pub day: String,
    /// Whether it is within the default quiet hours (21:00-08:00) now.
    pub quiet_now: bool,
    /// Rows found still `sending` from a run that died: now uncertain, waiting for a person.
    pub became_uncertain: u32,
    /// Bills newly handed to the follow-up list.
    pub escalated: u32,
    pub by_tier: Vec<TierChannelCounts>,
    pub total: Counts,
}

/// Whether local time `t` is within quiet hours `start`-`end` (which may wrap midnight).
pub fn in_quiet_hours(now: DateTime<Utc>, start: &str, end: &str) -> bool {
    let t = now.with_timezone(&LOCAL_OFFSET).time();
    let parse = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").ok();
    let (Some(a), Some(b)) = (parse(start), parse(end)) else {
        return false;
    };
    let t = NaiveTime::from_hms_opt(t.hour(), t.minute(), 0).unwrap_or(t);
    match a.cmp(&b) {
        std::cmp::Ordering::Less => a <= t && t < b,
        std::cmp::Ordering::Greater => t >= a || t < b,
        std::cmp::Ordering::Equal => false,
    }
}

/// What `remind preview` shows: what this run would queue, what already waits for approval.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Preview {
    pub at: String,
    /// Whether it is quiet hours now for any reminder of the batch (each policy has its own).
    pub quiet_now: bool,
    /// New reminders that are due, with their rendered messages.
    pub due: DuePlan,
    /// Reminders queued before and still waiting for approval.
    pub awaiting_approval: Vec<OutboxRow>,
}

/// Computes the next batch without writing anything.
pub async fn preview(desk: &FeeDesk) -> Result<Preview> {
    let now = desk.clock().now();
    let due = plan_due(desk, now).await?;
    // Quiet now for any of the batch: the due messages' policies, or the queued rows'.
    let queued: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT quiet_start, quiet_end FROM reminder_outbox WHERE status = 'pending'",
    )
    .fetch_all(desk.db().pool())
    .await?;
    let quiet_now = due
        .messages
        .iter()
        .map(|m| &m.quiet)
        .chain(due.groups.iter().map(|g| &g.quiet))
        .chain(queued.iter())
        .any(|(start, end)| in_quiet_hours(now, start, end));
    Ok(Preview {
        at: desk.now_text(),
        quiet_now,
        due,
        awaiting_approval: outbox::awaiting_approval(desk).await?,
    })
}

#[derive(sqlx::FromRow)]
struct Ready {
    id: i64,
    tier: i64,
    channel: String,
    class_id: Option<i64>,
    quiet_start: String,
    quiet_end: String,
}

/// Runs once: queue what is due, then send what may go now.
pub async fn run(desk: &FeeDesk, secrets: &SecretStore, options: &RunOptions) -> Result<RunReport> {
    // First ask the channels about every open QR order: a parent who paid from a code (the
    // class's QR workbook, a code left open) is recorded now, and so never chased. A bill
    // whose open order could not be checked is held back from this run.
    let (_, held) = crate::collection::sync_all(desk, secrets).await?;
    let now = desk.clock().now();
    let became_uncertain = outbox::recover_stale(desk).await? as u32;
    let mut plan = plan_due(desk, now).await?;
    hold_back(&mut plan, &held);
    let queued = outbox::queue(desk, &plan, options.approve).await?;
    if options.approve {
        outbox::approve(desk, None).await?;
    }
    let mut counts: BTreeMap<(u32, ReminderChannel), Counts> = BTreeMap::new();
    for (tier, channel, status) in &queued.rows {
        let c = counts.entry((*tier, *channel)).or_default();
        if *status == "skipped" {
            c.skipped += 1;
        } else {
            c.queued += 1;
        }
    }
    send_ready(desk, secrets, options, now, &held, &mut counts).await?;
    let waiting: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT tier, channel, count(*) FROM reminder_outbox
         WHERE status = 'pending' AND approved_at IS NULL GROUP BY tier, channel",
    )
    .fetch_all(desk.db().pool())
    .await?;
    for (tier, channel, n) in waiting {
        if let Some(channel) = ReminderChannel::parse(&channel) {
            counts
                .entry((u32::try_from(tier).unwrap_or(0), channel))
                .or_default()
                .awaiting_approval += u32::try_from(n).unwrap_or(0);
        }
    }
    let mut total = Counts::default();
    let by_tier = counts
        .into_iter()
        .map(|((tier, channel), counts)| {
            total.add(&counts);
            TierChannelCounts {
                tier,
                channel,
                counts,
            }
        })
        .collect();
    Ok(RunReport {
        at: desk.now_text(),
        day: plan.day.clone(),
        quiet_now: in_quiet_hours(now, super::policy::QUIET_START, super::policy::QUIET_END),
        became_uncertain,
        escalated: queued.escalated as u32,
        by_tier,
        total,
    })
}

/// Leaves the bills in `held` out of what this run queues.
fn hold_back(plan: &mut DuePlan, held: &[i64]) {
    if held.is_empty() {
        return;
    }
    plan.messages.retain(|m| !held.contains(&m.bill_id));
    plan.escalations.retain(|e| !held.contains(&e.bill_id));
    for g in &mut plan.groups {
        g.bill_ids.retain(|id| !held.contains(id));
    }
    plan.groups.retain(|g| !g.bill_ids.is_empty());
}

async fn send_ready(
    desk: &FeeDesk,
    secrets: &SecretStore,
    options: &RunOptions,
    now: DateTime<Utc>,
    held: &[i64],
    counts: &mut BTreeMap<(u32, ReminderChannel), Counts>,
) -> Result<()> {
    let now_text = desk.now_text();
    let held_json = serde_json::to_string(held).map_err(|e| Error::Internal(e.to_string()))?;
    let ready: Vec<Ready> = sqlx::query_as(
        "SELECT id, tier, channel, class_id, quiet_start, quiet_end FROM reminder_outbox o
         WHERE channel <> 'call'
           AND ((status = 'pending' AND approved_at IS NOT NULL)
             OR (status = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?
                 AND attempts < ?))
           AND NOT EXISTS (SELECT 1 FROM json_each(?) h
                           WHERE h.value = o.bill_id
                              OR h.value IN (SELECT g.bill_id FROM reminder_outbox_bills g
                                             WHERE g.outbox_id = o.id))
         ORDER BY id",
    )
    .bind(&now_text)
    .bind(MAX_ATTEMPTS)
    .bind(&held_json)
    .fetch_all(desk.db().pool())
    .await?;
    if ready.is_empty() {
        return Ok(());
    }
    let senders_list = Senders::load(desk).await?;
    let references: HashMap<i64, Option<crate::secrets::SecretRef>> = load_rows(desk)
        .await?
        .into_iter()
        .map(|(c, r)| (c.id, r))
        .collect();
    let mut opened: HashMap<i64, Sender> = HashMap::new();
    let minute_ago =
        (now - chrono::Duration::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for row in ready {
        let Some(channel) = ReminderChannel::parse(&row.channel) else {
            continue;
        };
        let c = counts
            .entry((u32::try_from(row.tier).unwrap_or(0), channel))
            .or_default();
        if in_quiet_hours(now, &row.quiet_start, &row.quiet_end) {
            c.waiting_quiet_hours += 1;
            continue;
        }
        let Some(config) = senders_list.find(channel, row.class_id) else {
            // Configured when queued, removed since: nothing can send it.
            if let Claim::Claimed(_) = outbox::claim(desk, row.id, None).await? {
                outbox::record(
                    desk,
                    row.id,
                    Outcome::Failed(format!("{channel} is no longer configured")),
                )
                .await?;
                c.failed += 1;
            }
            continue;
        };
        let recent: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reminder_outbox WHERE sender_id = ? AND claimed_at > ?",
        )
        .bind(config.id)
        .bind(&minute_ago)
        .fetch_one(desk.db().pool())
        .await?;
        if recent >= i64::from(config.rate_per_minute) {
            c.waiting_rate_limit += 1;
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = opened.entry(config.id) {
            let reference = references.get(&config.id).cloned().flatten();
            slot.insert(
                Sender::open(config, reference.as_ref(), secrets, options.send_timeout).await?,
            );
        }
        let sender = opened
            .get(&config.id)
            .ok_or_else(|| Error::Internal("sender vanished".into()))?;
        let claimed = match outbox::claim(desk, row.id, Some(config.id)).await? {
            Claim::Claimed(claimed) => claimed,
            Claim::Cancelled => {
                c.cancelled += 1;
                continue;
            }
            Claim::Taken => continue,
        };
        fault::point("remind.before_send");
        let result = sender
            .send(
                &Outgoing {
                    recipient: claimed.recipient.clone(),
                    subject: claimed.subject.clone(),
                    body: claimed.body.clone(),
                    sms_params: claimed.sms_params.clone(),
                },
                now.timestamp_millis(),
            )
            .await;
        fault::point("remind.after_send");
        let outcome = match result {
            Ok(provider) => {
                c.sent += 1;
                Outcome::Sent(provider)
            }
            Err(SendFailure::Retry { message, after }) => {
                c.failed += 1;
                Outcome::Retry {
                    message,
                    after_seconds: after.map(|d| d.as_secs() as i64).unwrap_or(0),
                }
            }
            Err(SendFailure::Permanent(message)) => {
                c.failed += 1;
                Outcome::Failed(message)
            }
            Err(SendFailure::Uncertain(message)) => {
                c.uncertain += 1;
                Outcome::Uncertain(message)
            }
        };
        outbox::record(desk, claimed.id, outcome).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // Local (UTC+8) h:m on 2026-09-10.
        LOCAL_OFFSET
            .with_ymd_and_hms(2026, 9, 10, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        assert!(in_quiet_hours(at(21, 0), "21:00", "08:00"));
        assert!(in_quiet_hours(at(23, 59), "21:00", "08:00"));
        assert!(in_quiet_hours(at(7, 59), "21:00", "08:00"));
        assert!(!in_quiet_hours(at(8, 0), "21:00", "08:00"));
        assert!(!in_quiet_hours(at(20, 59), "21:00", "08:00"));
        assert!(in_quiet_hours(at(12, 30), "12:00", "13:00"));
        assert!(!in_quiet_hours(at(13, 0), "12:00", "13:00"));
    }
}
