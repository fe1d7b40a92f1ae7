//! Classes: a store runs a class in a term; members are enrolled in classes.

use serde::Serialize;
use serde_json::json;

use super::units::{UnitKind, find_unit};
use crate::audit::{self, Entry};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A class, with its store's code and its term's name for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Class {
    pub id: i64,
    pub name: String,
    pub unit_code: String,
    pub term_name: String,
    pub members: i64,
}

/// Adds a class to a store in a term.
pub async fn add_class(
    desk: &FeeDesk,
    unit_code: &str,
    term_name: &str,
    name: &str,
) -> Result<Class> {
    super::units::refuse_control(name, "class")?;
    let name = normalize(name);
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Validation(
            "class name must be 1-100 characters".into(),
        ));
    }
    let unit = find_unit(desk, unit_code).await?;
    if unit.kind != UnitKind::Store {
        return Err(Error::Validation(format!(
            "{} is a {}; classes belong to a store",
            unit.code,
            unit.kind.as_str()
        )));
    }
    if unit.archived {
        return Err(Error::Validation(format!("{} is archived", unit.code)));
    }
    let term = super::find_term(desk, term_name).await?;
    let mut tx = desk.db().write().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT id FROM classes WHERE unit_id = ? AND term_id = ? AND name = ?")
            .bind(unit.id)
            .bind(term.id)
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_some() {
        return Err(Error::Conflict(format!(
            "{} already has a class '{name}' in {}",
            unit.code, term.name
        )));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO classes (unit_id, term_id, name, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(unit.id)
    .bind(term.id)
    .bind(&name)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let class = Class {
        id,
        name,
        unit_code: unit.code,
        term_name: term.name,
        members: 0,
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "class.add",
            entity: "class",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!(class)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(class)
}

const CLASS_SELECT: &str = "SELECT c.id, c.name, u.code AS unit_code, t.name AS term_name,
        (SELECT count(*) FROM enrolments e WHERE e.class_id = c.id) AS members
     FROM classes c JOIN units u ON u.id = c.unit_id JOIN terms t ON t.id = c.term_id";

/// Classes, optionally of one term, ordered by store then name.
pub async fn list_classes(desk: &FeeDesk, term_name: Option<&str>) -> Result<Vec<Class>> {
    let rows = match term_name {
        Some(term) => {
            let term = super::find_term(desk, term).await?;
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{CLASS_SELECT} WHERE c.term_id = ? ORDER BY u.code, c.name"
            )))
            .bind(term.id)
            .fetch_all(desk.db().pool())
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{CLASS_SELECT} ORDER BY t.starts_on DESC, u.code, c.name"
            )))
            .fetch_all(desk.db().pool())
            .await?
        }
    };
    Ok(rows)
}

/// Finds a class by name, optionally narrowed by store and term; refuses ambiguous names.
pub async fn find_class(
    desk: &FeeDesk,
    name: &str,
    unit_code: Option<&str>,
    term_name: Option<&str>,
) -> Result<Class> {
    let name = normalize(name);
    let unit_code = unit_code.map(|c| normalize(c).to_ascii_uppercase());
    let term_name = term_name.map(normalize);
    let found: Vec<Class> = list_classes(desk, None)
        .await?
        .into_iter()
        .filter(|c| c.name == name)
        .filter(|c| unit_code.as_ref().is_none_or(|u| &c.unit_code == u))
        .filter(|c| term_name.as_ref().is_none_or(|t| &c.term_name == t))
        .collect();
    let count = found.len();
    let mut found = found.into_iter();
    match (found.next(), count) {
        (None, _) => Err(Error::NotFound(format!("no class named '{name}'"))),
        (Some(class), 1) => Ok(class),
        (Some(_), n) => Err(Error::Validation(format!(
            "{n} classes are named '{name}'; name the store (--unit) or the term (--term) too"
        ))),
    }
}
