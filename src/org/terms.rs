//! Terms: named date ranges ("2026秋季学期") that classes and fee plans belong to.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Term {
    pub id: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// Adds a term. Names are unique; the end is not before the start.
pub async fn add_term(
    desk: &FeeDesk,
    name: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> Result<Term> {
    let name = normalize(name);
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Validation(
            "term name must be 1-100 characters".into(),
        ));
    }
    if ends_on < starts_on {
        return Err(Error::Validation(format!(
            "term '{name}' ends ({ends_on}) before it starts ({starts_on})"
        )));
    }
    let mut tx = desk.db().write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM terms WHERE name = ?")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_some() {
        return Err(Error::Conflict(format!("term '{name}' already exists")));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO terms (name, starts_on, ends_on, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(&name)
    .bind(starts_on)
    .bind(ends_on)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let term = Term {
        id,
        name,
        starts_on,
        ends_on,
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "term.add",
            entity: "term",
            entity_id: term.name.clone(),
            before: None,
            after: Some(json!(term)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(term)
}

/// Finds a term by name.
pub async fn find_term(desk: &FeeDesk, name: &str) -> Result<Term> {
    let name = normalize(name);
    sqlx::query_as("SELECT id, name, starts_on, ends_on FROM terms WHERE name = ?")
        .bind(&name)
        .fetch_optional(desk.db().pool())
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no term named '{name}'; add it with `feedesk term add`"
            ))
        })
}

/// Every term, latest start first.
pub async fn list_terms(desk: &FeeDesk) -> Result<Vec<Term>> {
    Ok(
        sqlx::query_as(
            "SELECT id, name, starts_on, ends_on FROM terms ORDER BY starts_on DESC, id",
        )
        .fetch_all(desk.db().pool())
        .await?,
    )
}
