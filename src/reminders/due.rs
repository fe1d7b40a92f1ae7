//! What is due now: for every open bill past its due date (not paused, its member not on the
//! stop list), the highest tier its policy has reached that it has not had yet, the messages
//! that tier sends through each channel, and whether the bill has gone past the last tier to
//! a person. Reading only: [`super::queue`] writes the plan into the outbox.
//!
//! Only the highest tier reached is planned: a bill first seen 9 days late gets the firm
//! reminder, not the gentle one and the firm one together.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::channel::ReminderChannel;
use super::notify::{NotifyChannel, list_notify_channels};
use super::policy::{Policies, Policy, Tone};
use super::template::{self, BillFacts, GroupLine};
use crate::clock::local_date;
use crate::money::Money;
use crate::{FeeDesk, Result};

#[derive(sqlx::FromRow)]
struct DueRow {
    bill_id: i64,
    plan_id: i64,
    unit_id: i64,
    due_on: String,
    owed_fen: i64,
    member: String,
    member_no: String,
    guardian_name: Option<String>,
    guardian_phone: Option<String>,
    guardian_email: Option<String>,
    preferred_channels: Option<String>,
    fee: String,
    store: String,
    class_id: Option<i64>,
    class_name: Option<String>,
    done_tier: i64,
    escalated: bool,
}

/// One personal message (or call-list line, or a bill that cannot go to its group) to queue.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlannedMessage {
    pub bill_id: i64,
    pub member: String,
    pub member_no: String,
    pub store: String,
    pub tier: u32,
    pub tier_days: i64,
    pub channel: ReminderChannel,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// Why it cannot be sent (no address, channel not configured); queued as skipped.
    pub skip_reason: Option<String>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub sms_params: Option<serde_json::Value>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub quiet: (String, String),
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub auto_send: bool,
}

/// One class group's message for one tier and channel.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlannedGroup {
    pub class_id: i64,
    pub class_name: String,
    pub tier: u32,
    pub tier_days: i64,
    pub channel: ReminderChannel,
    pub bill_ids: Vec<i64>,
    pub body: String,
    pub skip_reason: Option<String>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub quiet: (String, String),
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub auto_send: bool,
}

/// A bill going to the follow-up list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlannedEscalation {
    pub bill_id: i64,
    pub member: String,
    pub days_overdue: i64,
}

/// Everything due at one instant.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DuePlan {
    /// The institution's day it was computed for.
    pub day: String,
    pub messages: Vec<PlannedMessage>,
    pub groups: Vec<PlannedGroup>,
    pub escalations: Vec<PlannedEscalation>,
}

const DUE_SQL: &str = "
    SELECT b.id AS bill_id, b.plan_id, b.unit_id, b.due_on, b.due_fen - b.paid_fen AS owed_fen,
           m.name AS member, m.member_no, m.guardian_name, m.guardian_phone, m.guardian_email,
           m.preferred_channels, f.name AS fee, u.name AS store,
           c.id AS class_id, c.name AS class_name,
           max(coalesce((SELECT max(o.tier) FROM reminder_outbox o WHERE o.bill_id = b.id), 0),
               coalesce((SELECT max(g.tier) FROM reminder_outbox_bills g WHERE g.bill_id = b.id), 0))
               AS done_tier,
           EXISTS (SELECT 1 FROM followups w WHERE w.bill_id = b.id) AS escalated
    FROM bills b
    JOIN members m ON m.id = b.member_id
    JOIN units u ON u.id = b.unit_id
    JOIN fee_plans p ON p.id = b.plan_id
    JOIN fee_items f ON f.id = p.fee_item_id
    LEFT JOIN classes c ON c.id = coalesce(p.class_id,
        (SELECT min(e.class_id) FROM enrolments e WHERE e.member_id = m.id))
    WHERE b.status IN ('open', 'partial') AND b.due_on < ?1 AND b.due_fen > b.paid_fen
      AND NOT EXISTS (SELECT 1 FROM reminder_pauses x WHERE x.bill_id = b.id)
      AND NOT EXISTS (SELECT 1 FROM reminder_stops s WHERE s.member_id = m.id)
    ORDER BY b.id";

/// The configured senders, looked up by channel and class.
pub struct Senders {
    channels: Vec<NotifyChannel>,
}

impl Senders {
    pub async fn load(desk: &FeeDesk) -> Result<Senders> {
        Ok(Senders {
            channels: list_notify_channels(desk).await?,
        })
    }

    /// The sender for `channel` (a group robot: the class's own, else the default one).
    pub fn find(&self, channel: ReminderChannel, class_id: Option<i64>) -> Option<&NotifyChannel> {
        self.channels
            .iter()
            .find(|c| c.channel == channel && c.class_id.is_some() && c.class_id == class_id)
            .or_else(|| {
                self.channels
                    .iter()
                    .find(|c| c.channel == channel && c.class_id.is_none())
            })
    }
}

fn not_configured(channel: ReminderChannel) -> String {
    format!(
        "{channel} is not configured; set it up with `feedesk notify add --channel {channel} ...`"
    )
}

/// A class group's message being gathered.
struct GroupDraft<'a> {
    lines: Vec<GroupLine>,
    bill_ids: Vec<i64>,
    class_name: String,
    fee: String,
    policy: &'a Policy,
    tone: Tone,
    days: i64,
}

/// Computes what is due at `now`.
pub async fn plan_due(desk: &FeeDesk, now: DateTime<Utc>) -> Result<DuePlan> {
    let today = local_date(now);
    let policies = Policies::load(desk).await?;
    let senders = Senders::load(desk).await?;
    let rows: Vec<DueRow> = sqlx::query_as(DUE_SQL)
        .bind(today.to_string())
        .fetch_all(desk.db().pool())
        .await?;
    let mut plan = DuePlan {
        day: today.to_string(),
        ..Default::default()
    };
    // Group lines gathered per (class, tier, channel) before rendering one message each.
    let mut groups: BTreeMap<(i64, u32, ReminderChannel), GroupDraft> = BTreeMap::new();
    for row in rows {
        let Ok(due) = NaiveDate::parse_from_str(&row.due_on, "%Y-%m-%d") else {
            continue;
        };
        let days = (today - due).num_days();
        let policy = policies.for_bill(row.plan_id, row.unit_id);
        if days >= policy.escalate_after() && !row.escalated && !policy.tiers.is_empty() {
            plan.escalations.push(PlannedEscalation {
                bill_id: row.bill_id,
                member: row.member.clone(),
                days_overdue: days,
            });
        }
        let Some((index, tier)) = policy
            .tiers
            .iter()
            .enumerate()
            .rev()
            .find(|(_, t)| t.days <= days)
        else {
            continue;
        };
        let tier_no = index as u32 + 1;
        if i64::from(tier_no) <= row.done_tier {
            continue;
        }
        let facts = BillFacts {
            bill_id: row.bill_id,
            member: row.member.clone(),
            guardian: row.guardian_name.clone(),
            fee: row.fee.clone(),
            amount: Money::from_fen(row.owed_fen)?.to_string(),
            due_date: row.due_on.clone(),
            days_overdue: days,
            store: row.store.clone(),
        };
        let rendered = template::render(policy, tier.tone, &facts);
        let preferred: Vec<ReminderChannel> = row
            .preferred_channels
            .as_deref()
            .map(|p| p.split(',').filter_map(ReminderChannel::parse).collect())
            .unwrap_or_default();
        let personal: Vec<ReminderChannel> = tier
            .channels
            .iter()
            .copied()
            .filter(|c| c.is_personal())
            .collect();
        // The guardian's preferred personal channels, when the tier uses any of them.
        let chosen: Vec<ReminderChannel> = {
            let both: Vec<ReminderChannel> = personal
                .iter()
                .copied()
                .filter(|c| preferred.contains(c))
                .collect();
            if both.is_empty() { personal } else { both }
        };
        let quiet = (policy.quiet_start.clone(), policy.quiet_end.clone());
        for channel in tier.channels.iter().copied() {
            if channel.is_personal() && !chosen.contains(&channel) {
                continue;
            }
            if channel.is_group()
                && let (Some(class_id), Some(class_name)) = (row.class_id, row.class_name.clone())
            {
                let entry = groups
                    .entry((class_id, tier_no, channel))
                    .or_insert_with(|| GroupDraft {
                        lines: vec![],
                        bill_ids: vec![],
                        class_name,
                        fee: row.fee.clone(),
                        policy,
                        tone: tier.tone,
                        days: tier.days,
                    });
                entry.lines.push(GroupLine {
                    member: row.member.clone(),
                    member_no: row.member_no.clone(),
                });
                entry.bill_ids.push(row.bill_id);
                continue;
            }
            let recipient = match channel {
                ReminderChannel::Email => row.guardian_email.clone(),
                ReminderChannel::Sms | ReminderChannel::Call => row.guardian_phone.clone(),
                _ => None,
            };
            let skip_reason = if channel.is_group() {
                Some(format!(
                    "{} is in no class, so no class group to post to",
                    row.member
                ))
            } else if recipient.is_none() {
                Some(match channel {
                    ReminderChannel::Email => {
                        "no guardian email on file (`feedesk member contact --email`)".to_string()
                    }
                    _ => "no guardian phone on file".to_string(),
                })
            } else if channel != ReminderChannel::Call && senders.find(channel, None).is_none() {
                Some(not_configured(channel))
            } else {
                None
            };
            plan.messages.push(PlannedMessage {
                bill_id: row.bill_id,
                member: row.member.clone(),
                member_no: row.member_no.clone(),
                store: row.store.clone(),
                tier: tier_no,
                tier_days: tier.days,
                channel,
                recipient,
                subject: (channel == ReminderChannel::Email).then(|| rendered.subject.clone()),
                body: rendered.body.clone(),
                skip_reason,
                sms_params: (channel == ReminderChannel::Sms).then(|| rendered.sms_params.clone()),
                quiet: quiet.clone(),
                auto_send: policy.auto_send,
            });
        }
    }
    for ((class_id, tier, channel), draft) in groups {
        let policy = draft.policy;
        let body = template::render_group(
            policy,
            draft.tone,
            &draft.class_name,
            &draft.fee,
            &draft.lines,
        );
        plan.groups.push(PlannedGroup {
            class_id,
            class_name: draft.class_name,
            tier,
            tier_days: draft.days,
            channel,
            bill_ids: draft.bill_ids,
            body,
            skip_reason: senders
                .find(channel, Some(class_id))
                .is_none()
                .then(|| not_configured(channel)),
            quiet: (policy.quiet_start.clone(), policy.quiet_end.clone()),
            auto_send: policy.auto_send,
        });
    }
    Ok(plan)
}

/// A class's unpaid bills among `bill_ids`, as group lines (for re-rendering at send time).
pub async fn unpaid_lines(
    conn: &mut sqlx::SqliteConnection,
    outbox_id: i64,
) -> Result<(Vec<GroupLine>, Vec<i64>, Option<String>)> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT b.id, m.name, m.member_no, f.name FROM reminder_outbox_bills g
         JOIN bills b ON b.id = g.bill_id JOIN members m ON m.id = b.member_id
         JOIN fee_plans p ON p.id = b.plan_id JOIN fee_items f ON f.id = p.fee_item_id
         WHERE g.outbox_id = ? AND b.status IN ('open', 'partial')
           AND NOT EXISTS (SELECT 1 FROM reminder_pauses x WHERE x.bill_id = b.id)
           AND NOT EXISTS (SELECT 1 FROM reminder_stops s WHERE s.member_id = m.id)
         ORDER BY b.id",
    )
    .bind(outbox_id)
    .fetch_all(&mut *conn)
    .await?;
    let fee = rows.first().map(|r| r.3.clone());
    let ids = rows.iter().map(|r| r.0).collect();
    let lines = rows
        .into_iter()
        .map(|(_, member, member_no, _)| GroupLine { member, member_no })
        .collect();
    Ok((lines, ids, fee))
}
