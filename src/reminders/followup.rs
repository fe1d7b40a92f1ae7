//! The follow-up list (人工介入): bills past the last reminder tier, for a person to phone.
//! Each has an assignee, notes, an outcome (a promised date, paid, a dispute, a write-off
//! request) and its history; a payment closes it by itself (the bills trigger).

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::clock::local_date;
use crate::money::Money;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// One event in a follow-up's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FollowUpEvent {
    pub at: String,
    pub actor: String,
    /// opened, assigned, note, outcome, closed.
    pub kind: String,
    pub text: String,
}

/// A bill on the follow-up list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FollowUp {
    pub id: i64,
    pub bill_id: i64,
    pub member: String,
    pub member_no: String,
    pub store: String,
    pub guardian: Option<String>,
    /// The number to call: a person on the institution's staff needs it whole.
    pub guardian_phone: Option<String>,
    pub fee: String,
    pub outstanding: Money,
    pub due_date: String,
    pub days_overdue: i64,
    /// open or closed.
    pub status: String,
    pub assignee: Option<String>,
    pub outcome: Option<String>,
    pub promised_on: Option<String>,
    pub opened_at: String,
    pub history: Vec<FollowUpEvent>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    bill_id: i64,
    member: String,
    member_no: String,
    store: String,
    guardian: Option<String>,
    guardian_phone: Option<String>,
    fee: String,
    owed_fen: i64,
    due_on: String,
    status: String,
    assignee: Option<String>,
    outcome: Option<String>,
    promised_on: Option<String>,
    opened_at: String,
}

/// The follow-up list: open ones (or all with `include_closed`), longest overdue first.
pub async fn list_followups(desk: &FeeDesk, include_closed: bool) -> Result<Vec<FollowUp>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT w.id, w.bill_id, m.name AS member, m.member_no, u.code AS store,
                m.guardian_name AS guardian, m.guardian_phone, f.name AS fee,
                CASE WHEN b.status IN ('open', 'partial') THEN b.due_fen - b.paid_fen ELSE 0 END AS owed_fen,
                b.due_on, w.status, w.assignee, w.outcome, w.promised_on, w.opened_at
         FROM followups w JOIN bills b ON b.id = w.bill_id JOIN members m ON m.id = b.member_id
         JOIN units u ON u.id = b.unit_id JOIN fee_plans p ON p.id = b.plan_id
         JOIN fee_items f ON f.id = p.fee_item_id
         WHERE ? OR w.status = 'open'
         ORDER BY w.status DESC, b.due_on, w.id",
    )
    .bind(include_closed)
    .fetch_all(desk.db().pool())
    .await?;
    let today = local_date(desk.clock().now());
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let history: Vec<FollowUpEvent> = sqlx::query_as(
            "SELECT at, actor, kind, text FROM followup_events WHERE followup_id = ? ORDER BY id",
        )
        .bind(r.id)
        .fetch_all(desk.db().pool())
        .await?;
        let days = chrono::NaiveDate::parse_from_str(&r.due_on, "%Y-%m-%d")
            .map(|d| (today - d).num_days())
            .unwrap_or(0);
        out.push(FollowUp {
            id: r.id,
            bill_id: r.bill_id,
            member: r.member,
            member_no: r.member_no,
            store: r.store,
            guardian: r.guardian,
            guardian_phone: r.guardian_phone,
            fee: r.fee,
            outstanding: Money::from_fen(r.owed_fen)?,
            due_date: r.due_on,
            days_overdue: days,
            status: r.status,
            assignee: r.assignee,
            outcome: r.outcome,
            promised_on: r.promised_on,
            opened_at: r.opened_at,
            history,
        });
    }
    Ok(out)
}

/// A change to a follow-up: any of assignee, a note, an outcome.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FollowUpUpdate {
    pub assignee: Option<String>,
    pub note: Option<String>,
    /// promised, paid, dispute, write_off_request.
    pub outcome: Option<String>,
    /// With `promised`: the day the guardian promised to pay (YYYY-MM-DD).
    pub promised_on: Option<String>,
}

const OUTCOMES: [&str; 4] = ["promised", "paid", "dispute", "write_off_request"];

/// Applies `update` to the follow-up of `bill_id`, recording each part in its history.
pub async fn update_followup(desk: &FeeDesk, bill_id: i64, update: &FollowUpUpdate) -> Result<()> {
    let assignee = update
        .assignee
        .as_deref()
        .map(normalize)
        .filter(|a| !a.is_empty());
    let note = update
        .note
        .as_deref()
        .map(normalize)
        .filter(|n| !n.is_empty());
    let outcome = match update
        .outcome
        .as_deref()
        .map(|o| normalize(o).to_ascii_lowercase().replace('-', "_"))
    {
        None => None,
        Some(o) if OUTCOMES.contains(&o.as_str()) => Some(o),
        Some(o) => {
            return Err(Error::Validation(format!(
                "'{o}' is not an outcome; use promised, paid, dispute or write_off_request"
            )));
        }
    };
    let promised_on = match (&outcome, update.promised_on.as_deref()) {
        (Some(o), Some(d)) if o == "promised" => Some(
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| Error::Validation(format!("'{d}' is not a date (YYYY-MM-DD)")))?
                .to_string(),
        ),
        (Some(o), None) if o == "promised" => {
            return Err(Error::Validation(
                "a promise needs the day promised (--promised-on YYYY-MM-DD)".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(Error::Validation(
                "--promised-on goes with --outcome promised".into(),
            ));
        }
        _ => None,
    };
    if assignee.is_none() && note.is_none() && outcome.is_none() {
        return Err(Error::Validation(
            "say what to change: --assignee, --note or --outcome".into(),
        ));
    }
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let (id, before): (i64, Option<String>) =
        sqlx::query_as("SELECT id, assignee FROM followups WHERE bill_id = ?")
            .bind(bill_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "bill {bill_id} is not on the follow-up list; `feedesk followup list` shows it"
                ))
            })?;
    let mut events: Vec<(&str, String)> = vec![];
    if let Some(a) = &assignee {
        sqlx::query("UPDATE followups SET assignee = ?, updated_at = ? WHERE id = ?")
            .bind(a)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        events.push(("assigned", a.clone()));
    }
    if let Some(n) = &note {
        events.push(("note", n.clone()));
    }
    if let Some(o) = &outcome {
        sqlx::query(
            "UPDATE followups SET outcome = ?, promised_on = ?, updated_at = ? WHERE id = ?",
        )
        .bind(o)
        .bind(&promised_on)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        events.push((
            "outcome",
            match &promised_on {
                Some(d) => format!("{o} {d}"),
                None => o.clone(),
            },
        ));
    }
    for (kind, text) in &events {
        sqlx::query(
            "INSERT INTO followup_events (followup_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&now)
        .bind(desk.actor())
        .bind(kind)
        .bind(text)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "followup.update",
            entity: "bill",
            entity_id: bill_id.to_string(),
            before: Some(json!({"assignee": before})),
            after: Some(json!({
                "assignee": assignee, "note": note, "outcome": outcome, "promised_on": promised_on,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
