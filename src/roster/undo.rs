//! Undoing an import batch while nothing depends on it: the members it created are removed,
//! the members it changed get their earlier state back, its enrolments and classes go.
//! A later batch that touched the same members, or any record pointing at them (bills, later),
//! makes the undo refuse rather than break history.

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::{Error, FeeDesk, Result};

/// What an undo removed and restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UndoReport {
    pub batch_id: i64,
    pub members_removed: u64,
    pub members_restored: u64,
    pub enrolments_removed: u64,
    pub classes_removed: u64,
}

/// Undoes batch `batch_id`.
pub async fn undo_batch(desk: &FeeDesk, batch_id: i64) -> Result<UndoReport> {
    let mut tx = desk.db().write().await?;
    let undone: Option<Option<String>> =
        sqlx::query_scalar("SELECT undone_at FROM import_batches WHERE id = ?")
            .bind(batch_id)
            .fetch_optional(&mut *tx)
            .await?;
    match undone {
        None => {
            return Err(Error::NotFound(format!(
                "no import batch {batch_id}; `feedesk import list` shows them"
            )));
        }
        Some(Some(at)) => {
            return Err(Error::Conflict(format!(
                "import batch {batch_id} was already undone at {at}"
            )));
        }
        Some(None) => {}
    }

    // A later batch changed a member this batch wrote.
    let touched: Option<(String, i64)> = sqlx::query_as(
        "SELECT m.member_no, m.last_batch_id FROM members m
         WHERE (m.created_batch_id = ?1 OR m.id IN (SELECT member_id FROM import_batch_updates WHERE batch_id = ?1))
           AND m.last_batch_id IS NOT ?1
         LIMIT 1",
    )
    .bind(batch_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((member_no, later)) = touched {
        return Err(Error::Conflict(format!(
            "cannot undo batch {batch_id}: member {member_no} was changed later by batch {later}; undo that batch first"
        )));
    }
    // Another batch enrolled a member or filled a class this batch created.
    let depends: Option<(String, Option<i64>)> = sqlx::query_as(
        "SELECT m.member_no, e.created_batch_id FROM enrolments e JOIN members m ON m.id = e.member_id
         WHERE e.created_batch_id IS NOT ?1
           AND (m.created_batch_id = ?1 OR e.class_id IN (SELECT id FROM classes WHERE created_batch_id = ?1))
         LIMIT 1",
    )
    .bind(batch_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((member_no, other)) = depends {
        let by = other
            .map(|b| format!("batch {b}"))
            .unwrap_or_else(|| "a manual enrolment".into());
        return Err(Error::Conflict(format!(
            "cannot undo batch {batch_id}: {by} enrolled member {member_no} in what this batch created; undo that first"
        )));
    }

    let enrolments_removed = sqlx::query("DELETE FROM enrolments WHERE created_batch_id = ?")
        .bind(batch_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let befores: Vec<(i64, String)> = sqlx::query_as(
        "SELECT member_id, before_json FROM import_batch_updates WHERE batch_id = ?",
    )
    .bind(batch_id)
    .fetch_all(&mut *tx)
    .await?;
    for (member_id, before) in &befores {
        let b: serde_json::Value = serde_json::from_str(before)
            .map_err(|e| Error::Internal(format!("stored member snapshot unreadable: {e}")))?;
        sqlx::query(
            "UPDATE members SET name = ?, guardian_name = ?, guardian_phone = ?, guardian_email = ?,
                 id_number = ?, enrolled_on = ?, status = ?, last_batch_id = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(b["name"].as_str())
        .bind(b["guardian_name"].as_str())
        .bind(b["guardian_phone"].as_str())
        .bind(b["guardian_email"].as_str())
        .bind(b["id_number"].as_str())
        .bind(b["enrolled_on"].as_str())
        .bind(b["status"].as_str())
        .bind(b["last_batch_id"].as_i64())
        .bind(b["updated_at"].as_str())
        .bind(member_id)
        .execute(&mut *tx)
        .await?;
    }
    // The snapshots have done their work; keeping them would pin members a later undo removes.
    sqlx::query("DELETE FROM import_batch_updates WHERE batch_id = ?")
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
    let members_removed = sqlx::query("DELETE FROM members WHERE created_batch_id = ?")
        .bind(batch_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| dependent(batch_id, e))?
        .rows_affected();
    let classes_removed = sqlx::query("DELETE FROM classes WHERE created_batch_id = ?")
        .bind(batch_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| dependent(batch_id, e))?
        .rows_affected();
    let now = desk.now_text();
    sqlx::query("UPDATE import_batches SET undone_at = ?, undone_by = ? WHERE id = ?")
        .bind(&now)
        .bind(desk.actor())
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
    let report = UndoReport {
        batch_id,
        members_removed,
        members_restored: befores.len() as u64,
        enrolments_removed,
        classes_removed,
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "roster.undo",
            entity: "import_batch",
            entity_id: batch_id.to_string(),
            before: Some(json!({"undone": false})),
            after: Some(json!(report)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

fn dependent(batch_id: i64, err: sqlx::Error) -> Error {
    match Error::from(err) {
        Error::Conflict(_) => Error::Conflict(format!(
            "cannot undo batch {batch_id}: other records (such as bills) now depend on its members or classes"
        )),
        other => other,
    }
}
