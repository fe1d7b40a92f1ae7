//! Writing an import inside one `BEGIN IMMEDIATE` transaction, chunk by chunk while the file is
//! still being read: the batch record, new classes, new and changed members, enrolments, and
//! one audit entry at the end. The transaction commits only in [`Writer::finish`]; dropping the
//! writer rolls everything back, so a batch is all or nothing. Bulk rows go through
//! [`crate::db::bulk`].

use std::collections::HashMap;

use serde_json::json;

use super::plan::{Fields, MemberRef, Plan, Totals};
use crate::audit::{self, Entry};
use crate::db::WriteTx;
use crate::db::bulk::{Bind, execute_each};
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::{Error, FeeDesk, Result};

/// What the batch record says about the import.
#[derive(Debug, Clone)]
pub struct BatchInfo {
    pub file_name: String,
    pub file_sha256: String,
    pub sheet: String,
    pub mode: &'static str,
    pub rows_read: u64,
    pub rejected: u64,
}

/// An open import transaction.
pub struct Writer {
    tx: WriteTx,
    batch_id: i64,
    term_id: Option<i64>,
    now: String,
    /// The id the next new member gets: ours to hand out while we hold the write lock.
    next_id: i64,
    class_ids: HashMap<(i64, String), i64>,
    written: u64,
}

impl Writer {
    /// Takes the write lock and records the batch (its counts are filled in by `finish`).
    pub async fn begin(
        desk: &FeeDesk,
        unit_id: i64,
        term_id: Option<i64>,
        mode: &str,
    ) -> Result<Writer> {
        let now = desk.now_text();
        let mut tx = desk.db().write().await?;
        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO import_batches (file_name, file_sha256, sheet, unit_id, term_id, mode, rows_read,
                 imported, updated, unchanged, rejected, actor, created_at)
             VALUES ('', '', '', ?, ?, ?, 0, 0, 0, 0, 0, ?, ?) RETURNING id",
        )
        .bind(unit_id)
        .bind(term_id)
        .bind(mode)
        .bind(desk.actor())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let next_id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM members")
            .fetch_one(&mut *tx)
            .await?;
        let classes: Vec<(i64, i64, String)> = match term_id {
            Some(t) => {
                sqlx::query_as("SELECT id, unit_id, name FROM classes WHERE term_id = ?")
                    .bind(t)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => Vec::new(),
        };
        Ok(Writer {
            tx,
            batch_id,
            term_id,
            now,
            next_id,
            class_ids: classes
                .into_iter()
                .map(|(id, unit, name)| ((unit, name), id))
                .collect(),
            written: 0,
        })
    }

    /// Writes one chunk's plan.
    pub async fn write(
        &mut self,
        plan: &Plan,
        progress: ProgressFn<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        cancel.check()?;
        let (batch, now) = (self.batch_id, self.now.as_str());
        for (unit, name) in &plan.new_classes {
            let term_id = self
                .term_id
                .ok_or_else(|| Error::Internal("a class without a term".into()))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO classes (unit_id, term_id, name, created_at, created_batch_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(unit)
            .bind(term_id)
            .bind(name)
            .bind(now)
            .bind(batch)
            .fetch_one(&mut *self.tx)
            .await?;
            self.class_ids.insert((*unit, name.clone()), id);
        }

        let first_id = self.next_id;
        execute_each(
            &mut self.tx,
            "INSERT INTO members (id, unit_id, member_no, name, guardian_name, guardian_phone,
                 guardian_email, id_number, enrolled_on, status, created_at, updated_at,
                 created_batch_id, last_batch_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            plan.creates.iter().enumerate().map(|(i, c)| {
                let [name, guardian, phone, email, id_number, enrolled_on, status] =
                    field_binds(&c.fields);
                [
                    Bind::Int(first_id + i as i64),
                    Bind::Int(c.unit_id),
                    c.member_no.as_str().into(),
                    name,
                    guardian,
                    phone,
                    email,
                    id_number,
                    enrolled_on,
                    status,
                    now.into(),
                    now.into(),
                    Bind::Int(batch),
                    Bind::Int(batch),
                ]
            }),
        )
        .await?;
        self.next_id += plan.creates.len() as i64;

        execute_each(
            &mut self.tx,
            "UPDATE members SET name = ?, guardian_name = ?, guardian_phone = ?, guardian_email = ?,
                 id_number = ?, enrolled_on = ?, status = ?, updated_at = ?, last_batch_id = ?
             WHERE id = ?",
            plan.updates.iter().map(|u| {
                let [name, guardian, phone, email, id_number, enrolled_on, status] =
                    field_binds(&u.fields);
                [
                    name,
                    guardian,
                    phone,
                    email,
                    id_number,
                    enrolled_on,
                    status,
                    now.into(),
                    Bind::Int(batch),
                    Bind::Int(u.member_id),
                ]
            }),
        )
        .await?;
        let befores: Vec<String> = plan.updates.iter().map(|u| u.before.to_string()).collect();
        execute_each(
            &mut self.tx,
            "INSERT INTO import_batch_updates (batch_id, member_id, before_json) VALUES (?, ?, ?)",
            plan.updates
                .iter()
                .zip(&befores)
                .map(|(u, b)| [Bind::Int(batch), Bind::Int(u.member_id), b.as_str().into()]),
        )
        .await?;

        let mut enrolments = Vec::with_capacity(plan.enrolments.len());
        for (member, unit_id, class) in &plan.enrolments {
            let member_id = match member {
                MemberRef::Existing(id) => *id,
                MemberRef::New(i) => first_id + *i as i64,
            };
            let class_id = self
                .class_ids
                .get(&(*unit_id, class.clone()))
                .copied()
                .ok_or_else(|| {
                    Error::Internal("an enrolment lost its class during import".into())
                })?;
            enrolments.push((member_id, class_id));
        }
        execute_each(
            &mut self.tx,
            "INSERT INTO enrolments (member_id, class_id, created_at, created_batch_id) VALUES (?, ?, ?, ?)",
            enrolments.iter().map(|(m, c)| [Bind::Int(*m), Bind::Int(*c), now.into(), Bind::Int(batch)]),
        )
        .await?;
        self.written += (plan.creates.len() + plan.updates.len() + plan.enrolments.len()) as u64;
        progress(Progress {
            phase: "commit",
            done: self.written,
            total: None,
        });
        Ok(())
    }

    /// Completes the batch record, writes the audit entry and commits; returns the batch id.
    pub async fn finish(
        mut self,
        desk: &FeeDesk,
        info: &BatchInfo,
        totals: &Totals,
    ) -> Result<i64> {
        sqlx::query(
            "UPDATE import_batches SET file_name = ?, file_sha256 = ?, sheet = ?, rows_read = ?,
                 imported = ?, updated = ?, unchanged = ?, rejected = ? WHERE id = ?",
        )
        .bind(&info.file_name)
        .bind(&info.file_sha256)
        .bind(&info.sheet)
        .bind(info.rows_read as i64)
        .bind(totals.imported as i64)
        .bind(totals.updated as i64)
        .bind(totals.unchanged as i64)
        .bind(info.rejected as i64)
        .bind(self.batch_id)
        .execute(&mut *self.tx)
        .await?;
        audit::append(
            &mut self.tx,
            &self.now,
            Entry {
                actor: desk.actor(),
                action: "roster.import",
                entity: "import_batch",
                entity_id: self.batch_id.to_string(),
                before: None,
                after: Some(json!({
                    "file": info.file_name, "sha256": info.file_sha256, "sheet": info.sheet,
                    "mode": info.mode, "rows_read": info.rows_read, "rejected": info.rejected,
                    "imported": totals.imported, "updated": totals.updated,
                    "unchanged": totals.unchanged, "classes_created": totals.classes_created,
                    "enrolments_added": totals.enrolments_added,
                })),
            },
        )
        .await?;
        self.tx.commit().await?;
        Ok(self.batch_id)
    }
}

/// The member fields an import writes, in the column order both statements use.
fn field_binds(f: &Fields) -> [Bind<'_>; 7] {
    [
        f.name.as_str().into(),
        f.guardian_name.as_deref().into(),
        f.guardian_phone.as_deref().into(),
        f.guardian_email.as_deref().into(),
        f.id_number.as_deref().into(),
        f.enrolled_on.as_deref().into(),
        f.status.as_str().into(),
    ]
}
