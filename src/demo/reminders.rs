//! The demo's reminders: policies (XH by email and its class groups, the other stores by class
//! groups and the call list), guardians' emails for XH, and a reminder history made by the real
//! reminder runs at the tier days of the demo's due dates. Nothing reaches anyone: the demo's
//! senders write each message as a text file into `<data>/demo/outbox/` (a channel only the demo
//! can configure). Today's final notices are left queued, for a person to approve on the
//! Reminders page; the stubborn bills are on the follow-up list, a few already assigned.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::clock::{FixedClock, LOCAL_OFFSET, local_date};
use crate::reminders::{
    self, ChannelSetup, FollowUpUpdate, PolicyRequest, ReminderChannel, RunOptions,
};
use crate::secrets::SecretStore;
use crate::{Error, FeeDesk, Result};

/// What the demo's reminders built.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoReminders {
    /// Messages "sent" into the demo outbox.
    pub sent: u32,
    /// Final notices queued today, waiting for approval.
    pub awaiting_approval: u32,
    pub followups: u32,
    /// Where the demo's messages were written.
    pub outbox: String,
}

/// The days the history runs (10:00 local): the tiers of the tuition (due 09-15) and of the
/// materials (due 10-31), except the materials' final notice, left for today's batch.
const HISTORY: [(u32, u32); 5] = [(9, 16), (9, 22), (9, 29), (11, 1), (11, 7)];

pub async fn build(desk: &FeeDesk) -> Result<DemoReminders> {
    let outbox = desk.data_dir().join("demo").join("outbox");
    guardian_emails(desk).await?;
    reminders::set_policy(
        desk,
        &PolicyRequest {
            unit_code: Some("HQ".into()),
            tiers: Some("7:wecom,14:call".into()),
            ..Default::default()
        },
    )
    .await?;
    reminders::set_policy(
        desk,
        &PolicyRequest {
            unit_code: Some("XH".into()),
            tiers: Some("1:email,7:email+wecom,14:email+call".into()),
            payment_link: Some("https://pay.xinghuo.example.cn/b/{bill}".into()),
            contact_phone: Some("0571-8765 4321".into()),
            ..Default::default()
        },
    )
    .await?;
    let secrets = SecretStore::from_env();
    for channel in [ReminderChannel::Email, ReminderChannel::Wecom] {
        reminders::add_notify_channel(
            desk,
            &secrets,
            ChannelSetup::DemoOutbox {
                channel,
                folder: outbox.clone(),
            },
            None,
            Some(100_000),
        )
        .await?;
    }
    let today = local_date(desk.clock().now());
    let mut sent = 0;
    for (month, day) in HISTORY {
        let Some(date) = NaiveDate::from_ymd_opt(2026, month, day).filter(|d| *d < today) else {
            continue;
        };
        let at = LOCAL_OFFSET
            .from_local_datetime(&date.and_hms_opt(10, 0, 0).unwrap_or_default())
            .single()
            .ok_or_else(|| Error::Internal("bad demo time".into()))?;
        let past = desk.with_clock(Arc::new(FixedClock(at.to_utc())));
        let report = reminders::run(
            &past,
            &secrets,
            &RunOptions {
                approve: true,
                ..Default::default()
            },
        )
        .await?;
        sent += report.total.sent;
    }
    // Today: what is due is queued for a person to approve (the demo's policies are manual).
    let today_run = reminders::run(desk, &secrets, &RunOptions::default()).await?;
    let followups = reminders::list_followups(desk, false).await?;
    for (i, f) in followups.iter().take(3).enumerate() {
        let update = FollowUpUpdate {
            assignee: Some(["王老师", "李老师", "前台小陈"][i].into()),
            note: Some(
                [
                    "家长说月底发工资后缴清",
                    "电话未接通，已发短信",
                    "对材料费有疑问，待校长回复",
                ][i]
                    .into(),
            ),
            outcome: Some(["promised", "dispute", "dispute"][i].into()),
            promised_on: (i == 0).then(|| (today + chrono::Duration::days(8)).to_string()),
        };
        reminders::update_followup(desk, f.bill_id, &update).await?;
    }
    Ok(DemoReminders {
        sent,
        awaiting_approval: today_run.total.awaiting_approval,
        followups: followups.len() as u32,
        outbox: outbox.display().to_string(),
    })
}

/// XH's guardians gave an email address (the demo roster has none): one audited change.
async fn guardian_emails(desk: &FeeDesk) -> Result<()> {
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let n = sqlx::query(
        "UPDATE members SET guardian_email = lower(member_no) || '@parents.example.cn', updated_at = ?
         WHERE unit_id = (SELECT id FROM units WHERE code = 'XH')",
    )
    .bind(&now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "demo.contacts",
            entity: "member",
            entity_id: "XH".into(),
            before: None,
            after: Some(json!({"guardian_emails": n})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
