//! Writing a plan in one `BEGIN IMMEDIATE` transaction: the batch record, new classes, new and
//! changed members, enrolments, and one audit entry. Either all of it lands or none of it.
//! Rows go in as multi-row INSERTs so a 100k-member roster commits in seconds.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{QueryBuilder, Sqlite};

use super::plan::{MemberRef, Plan};
use crate::audit::{self, Entry};
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::{FeeDesk, Result};

/// SQLite allows 32766 bound parameters per statement; stay well below.
const MAX_PARAMS: usize = 30_000;

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
    let mut class_ids: HashMap<(i64, String), i64> = HashMap::new();
    if let Some(term_id) = info.term_id {
        for (unit_id, name) in &plan.new_classes {
            sqlx::query(
                "INSERT INTO classes (unit_id, term_id, name, created_at, created_batch_id) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(unit_id)
            .bind(term_id)
            .bind(name)
            .bind(&now)
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        }
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT id, unit_id, name FROM classes WHERE term_id = ?")
                .bind(term_id)
                .fetch_all(&mut *tx)
                .await?;
        class_ids.extend(rows.into_iter().map(|(id, unit, name)| ((unit, name), id)));
    }

    // New members, many per statement; RETURNING gives their ids by (store, member number).
    let mut new_ids: HashMap<(i64, String), i64> = HashMap::with_capacity(plan.creates.len());
    for chunk in plan.creates.chunks(MAX_PARAMS / 12) {
        cancel.check()?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO members (unit_id, member_no, name, guardian_name, guardian_phone, id_number,
                 enrolled_on, status, created_at, updated_at, created_batch_id, last_batch_id) ",
        );
        q.push_values(chunk, |mut b, c| {
            b.push_bind(c.unit_id)
                .push_bind(&c.member_no)
                .push_bind(&c.fields.name)
                .push_bind(&c.fields.guardian_name)
                .push_bind(&c.fields.guardian_phone)
                .push_bind(&c.fields.id_number)
                .push_bind(&c.fields.enrolled_on)
                .push_bind(&c.fields.status)
                .push_bind(&now)
                .push_bind(&now)
                .push_bind(batch_id)
                .push_bind(batch_id);
        });
        q.push(" RETURNING id, unit_id, member_no");
        let rows: Vec<(i64, i64, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
        new_ids.extend(rows.into_iter().map(|(id, unit, no)| ((unit, no), id)));
        done += chunk.len() as u64;
        report(done);
    }

    for (i, u) in plan.updates.iter().enumerate() {
        if i % 1024 == 0 {
            cancel.check()?;
            report(done);
        }
        sqlx::query(
            "UPDATE members SET name = ?, guardian_name = ?, guardian_phone = ?, id_number = ?,
                 enrolled_on = ?, status = ?, updated_at = ?, last_batch_id = ? WHERE id = ?",
        )
        .bind(&u.fields.name)
        .bind(&u.fields.guardian_name)
        .bind(&u.fields.guardian_phone)
        .bind(&u.fields.id_number)
        .bind(&u.fields.enrolled_on)
        .bind(&u.fields.status)
        .bind(&now)
        .bind(batch_id)
        .bind(u.member_id)
        .execute(&mut *tx)
        .await?;
        done += 1;
    }
    for chunk in plan.updates.chunks(MAX_PARAMS / 3) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO import_batch_updates (batch_id, member_id, before_json) ",
        );
        q.push_values(chunk, |mut b, u| {
            b.push_bind(batch_id)
                .push_bind(u.member_id)
                .push_bind(u.before.to_string());
        });
        q.build().execute(&mut *tx).await?;
    }

    let mut enrolments = Vec::with_capacity(plan.enrolments.len());
    for (member, unit_id, class) in &plan.enrolments {
        let member_id = match member {
            MemberRef::Existing(id) => Some(*id),
            MemberRef::New(i) => plan
                .creates
                .get(*i)
                .and_then(|c| new_ids.get(&(c.unit_id, c.member_no.clone())).copied()),
        };
        let class_id = class_ids.get(&(*unit_id, class.clone())).copied();
        match (member_id, class_id) {
            (Some(m), Some(c)) => enrolments.push((m, c)),
            _ => {
                return Err(crate::Error::Internal(
                    "an enrolment lost its member or class during import".into(),
                ));
            }
        }
    }
    for chunk in enrolments.chunks(MAX_PARAMS / 4) {
        cancel.check()?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO enrolments (member_id, class_id, created_at, created_batch_id) ",
        );
        q.push_values(chunk, |mut b, (m, c)| {
            b.push_bind(m)
                .push_bind(c)
                .push_bind(&now)
                .push_bind(batch_id);
        });
        q.build().execute(&mut *tx).await?;
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
