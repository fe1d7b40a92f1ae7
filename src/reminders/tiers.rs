//! Where each bill stands in its reminders, for the bills list: the highest tier sent (or
//! queued) and whether it is on the follow-up list.

use serde::Serialize;

use crate::{FeeDesk, Result};

/// A bill's reminder standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BillTier {
    pub bill_id: i64,
    /// The highest tier that went out (0: none yet).
    pub sent_tier: i64,
    /// The highest tier queued, sent or not.
    pub queued_tier: i64,
    pub followup: bool,
    pub paused: bool,
}

/// The reminder standing of `bill_ids` (bills with no reminder activity are left out).
pub async fn bill_tiers(desk: &FeeDesk, bill_ids: &[i64]) -> Result<Vec<BillTier>> {
    let ids = serde_json::to_string(bill_ids).unwrap_or_else(|_| "[]".into());
    Ok(sqlx::query_as(
        "WITH ids(id) AS (SELECT value FROM json_each(?)),
         touched(bill_id, tier, sent) AS (
             SELECT bill_id, tier, status = 'sent' FROM reminder_outbox
              WHERE bill_id IN (SELECT id FROM ids) AND status NOT IN ('cancelled', 'skipped')
             UNION ALL
             SELECT g.bill_id, g.tier, o.status = 'sent' FROM reminder_outbox_bills g
              JOIN reminder_outbox o ON o.id = g.outbox_id
              WHERE g.bill_id IN (SELECT id FROM ids) AND o.status NOT IN ('cancelled', 'skipped'))
         SELECT i.id AS bill_id,
                coalesce((SELECT max(tier) FROM touched t WHERE t.bill_id = i.id AND t.sent), 0) AS sent_tier,
                coalesce((SELECT max(tier) FROM touched t WHERE t.bill_id = i.id), 0) AS queued_tier,
                EXISTS (SELECT 1 FROM followups w WHERE w.bill_id = i.id AND w.status = 'open') AS followup,
                EXISTS (SELECT 1 FROM reminder_pauses p WHERE p.bill_id = i.id) AS paused
         FROM ids i
         WHERE EXISTS (SELECT 1 FROM touched t WHERE t.bill_id = i.id)
            OR EXISTS (SELECT 1 FROM followups w WHERE w.bill_id = i.id AND w.status = 'open')
            OR EXISTS (SELECT 1 FROM reminder_pauses p WHERE p.bill_id = i.id)",
    )
    .bind(ids)
    .fetch_all(desk.db().pool())
    .await?)
}
