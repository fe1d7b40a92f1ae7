//! What the institution holds, at a glance: the dashboard's first tiles before money arrives.

use serde::Serialize;

use crate::{FeeDesk, Result};

/// Counts for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overview {
    /// The institution's name; `None` before `init`.
    pub institution: Option<String>,
    pub regions: u64,
    pub stores: u64,
    pub terms: u64,
    pub classes: u64,
    pub members: u64,
    pub active_members: u64,
    pub import_batches: u64,
}

/// Counts everything that is not archived (members: every status, and the active ones).
pub async fn overview(desk: &FeeDesk) -> Result<Overview> {
    let pool = desk.db().pool();
    let institution: Option<String> =
        sqlx::query_scalar("SELECT name FROM units WHERE kind = 'hq'")
            .fetch_optional(pool)
            .await?;
    let (regions, stores, terms, classes, members, active, batches): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(
        "SELECT
                (SELECT count(*) FROM units WHERE kind = 'region' AND archived_at IS NULL),
                (SELECT count(*) FROM units WHERE kind = 'store' AND archived_at IS NULL),
                (SELECT count(*) FROM terms),
                (SELECT count(*) FROM classes),
                (SELECT count(*) FROM members),
                (SELECT count(*) FROM members WHERE status = 'active'),
                (SELECT count(*) FROM import_batches WHERE undone_at IS NULL)",
    )
    .fetch_one(pool)
    .await?;
    let n = |v: i64| v.max(0) as u64;
    Ok(Overview {
        institution,
        regions: n(regions),
        stores: n(stores),
        terms: n(terms),
        classes: n(classes),
        members: n(members),
        active_members: n(active),
        import_batches: n(batches),
    })
}
