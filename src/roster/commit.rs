//! Writing a plan in one `BEGIN IMMEDIATE` transaction: the batch record, new classes, new and
//! changed members, enrolments, and one audit entry. Either all of it lands or none of it.
//! The bulk rows go through [`crate::db::bulk`], so a 100k-member roster commits in well under
//! a second.

use std::collections::HashMap;

use serde_json::json;

use super::plan::{MemberRef, Plan};
use crate::audit::{self, Entry};
use crate::db::bulk::{Bind, execute_each};
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::{Error, FeeDesk, Result};

/// Rows written between two progress reports and cancellation checks.
const CHUNK: usize = 10_000;

/// What the batch record says about the import.
#[derive(Debug, Clone)]
pub struct BatchInfo {
    pub file_name: String,
    pub file_sha256: String,
    pub sheet: String,
    pub unit_id: i64,
    pub term_id: Option<i64>,
    pub mode: &'static str,
    pub rows_read: u64,
    pub rejected: u64,
}

/// Applies `plan`; returns the new batch id.
pub async fn apply(
    desk: &FeeDesk,
    plan: &Plan,
    info: &BatchInfo,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<i64> {
    let now = desk.now_text();
    let total = (plan.creates.len() + plan.updates.len() + plan.enrolments.len()) as u64;
    let mut done: u64 = 0;
    let report = |done: u64| {
        progress(Progress {
            phase: "commit",
            done,
            total: Some(total),
        })
    };
    let mut tx = desk.db().write().await?;

    let batch_id: i64 = sqlx::query_scalar(
        "INSERT INTO import_batches (file_name, file_sha256, sheet, unit_id, term_id, mode, rows_read,
             imported, updated, unchanged, rejected, actor, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&info.file_name)
    .bind(&info.file_sha256)
    .bind(&info.sheet)
    .bind(info.unit_id)
    .bind(info.term_id)
    .bind(info.mode)
    .bind(info.rows_read as i64)
    .bind(plan.creates.len() as i64)
    .bind(plan.updated() as i64)
    .bind(plan.unchanged as i64)
    .bind(info.rejected as i64)
    .bind(desk.actor())
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;

    // Classes first: enrolments point at them.
    let term_classes: Vec<(i64, i64, String)> = match info.term_id {
        Some(term_id) => {
            execute_each(
                &mut tx,
                "INSERT INTO classes (unit_id, term_id, name, created_at, created_batch_id) VALUES (?, ?, ?, ?, ?)",
                plan.new_classes.iter().map(|(unit, name)| {
                    [Bind::Int(*unit), Bind::Int(term_id), name.as_str().into(), now.as_str().into(), Bind::Int(batch_id)]
                }),
            )
            .await?;
            sqlx::query_as("SELECT id, unit_id, name FROM classes WHERE term_id = ?")
                .bind(term_id)
                .fetch_all(&mut *tx)
                .await?
        }
        None => Vec::new(),
    };
    let class_ids: HashMap<(i64, &str), i64> = term_classes
        .iter()
        .map(|(id, unit, name)| ((*unit, name.as_str()), *id))
        .collect();

    // The write lock is ours (BEGIN IMMEDIATE), so new member ids are handed out here,
    // consecutively, and enrolments can point at them without reading anything back.
    let first_id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM members")
        .fetch_one(&mut *tx)
        .await?;
    for (n, chunk) in plan.creates.chunks(CHUNK).enumerate() {
        cancel.check()?;
        let offset = first_id + (n * CHUNK) as i64;
        execute_each(
            &mut tx,
            "INSERT INTO members (id, unit_id, member_no, name, guardian_name, guardian_phone, id_number,
                 enrolled_on, status, created_at, updated_at, created_batch_id, last_batch_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            chunk.iter().enumerate().map(|(i, c)| {
                let f = &c.fields;
                [
                    Bind::Int(offset + i as i64),
                    Bind::Int(c.unit_id),
                    c.member_no.as_str().into(),
                    f.name.as_str().into(),
                    f.guardian_name.as_deref().into(),
                    f.guardian_phone.as_deref().into(),
                    f.id_number.as_deref().into(),
                    f.enrolled_on.as_deref().into(),
                    f.status.as_str().into(),
                    now.as_str().into(),
                    now.as_str().into(),
                    Bind::Int(batch_id),
                    Bind::Int(batch_id),
                ]
            }),
        )
        .await?;
        done += chunk.len() as u64;
        report(done);
    }

    let befores: Vec<String> = plan.updates.iter().map(|u| u.before.to_string()).collect();
    for (chunk, befores) in plan.updates.chunks(CHUNK).zip(befores.chunks(CHUNK)) {
        cancel.check()?;
        execute_each(
            &mut tx,
            "UPDATE members SET name = ?, guardian_name = ?, guardian_phone = ?, id_number = ?,
                 enrolled_on = ?, status = ?, updated_at = ?, last_batch_id = ? WHERE id = ?",
            chunk.iter().map(|u| {
                let f = &u.fields;
                [
                    f.name.as_str().into(),
                    f.guardian_name.as_deref().into(),
                    f.guardian_phone.as_deref().into(),
                    f.id_number.as_deref().into(),
                    f.enrolled_on.as_deref().into(),
                    f.status.as_str().into(),
                    now.as_str().into(),
                    Bind::Int(batch_id),
                    Bind::Int(u.member_id),
                ]
            }),
        )
        .await?;
        execute_each(
            &mut tx,
            "INSERT INTO import_batch_updates (batch_id, member_id, before_json) VALUES (?, ?, ?)",
            chunk.iter().zip(befores).map(|(u, before)| {
                [
                    Bind::Int(batch_id),
                    Bind::Int(u.member_id),
                    before.as_str().into(),
                ]
            }),
        )
        .await?;
        done += chunk.len() as u64;
        report(done);
    }

    let mut enrolments = Vec::with_capacity(plan.enrolments.len());
    for (member, unit_id, class) in &plan.enrolments {
        let member_id = match member {
            MemberRef::Existing(id) => *id,
            MemberRef::New(i) => first_id + *i as i64,
        };
        let class_id = class_ids
            .get(&(*unit_id, class.as_str()))
            .copied()
            .ok_or_else(|| Error::Internal("an enrolment lost its class during import".into()))?;
        enrolments.push((member_id, class_id));
    }
    for chunk in enrolments.chunks(CHUNK) {
        cancel.check()?;
        execute_each(
            &mut tx,
            "INSERT INTO enrolments (member_id, class_id, created_at, created_batch_id) VALUES (?, ?, ?, ?)",
            chunk.iter().map(|(m, c)| [Bind::Int(*m), Bind::Int(*c), now.as_str().into(), Bind::Int(batch_id)]),
        )
        .await?;
        done += chunk.len() as u64;
        report(done);
    }

    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "roster.import",
            entity: "import_batch",
            entity_id: batch_id.to_string(),
            before: None,
            after: Some(json!({
                "file": info.file_name, "sha256": info.file_sha256, "sheet": info.sheet,
                "mode": info.mode, "rows_read": info.rows_read, "rejected": info.rejected,
                "imported": plan.creates.len(), "updated": plan.updated(),
                "unchanged": plan.unchanged, "classes_created": plan.new_classes.len(),
                "enrolments_added": plan.enrolments.len(),
            })),
        },
    )
    .await?;
    cancel.check()?;
    tx.commit().await?;
    report(total);
    Ok(batch_id)
}
