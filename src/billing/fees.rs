//! Fee items: what is charged (学费 tuition, 材料费 materials, 考试费 exam fee, 押金 deposit).
//! A unit's fee item can be charged anywhere in its subtree; its income has its own account in
//! the books.

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::org::find_unit;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A fee item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeeItem {
    pub id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    pub name: String,
}

const SELECT: &str = "SELECT f.id, f.unit_id, u.code AS unit_code, f.name
     FROM fee_items f JOIN units u ON u.id = f.unit_id";

/// Adds a fee item to a unit.
pub async fn add_fee(desk: &FeeDesk, unit_code: &str, name: &str) -> Result<FeeItem> {
    crate::org::refuse_control(name, "fee item")?;
    let name = normalize(name);
    if name.is_empty() || name.chars().count() > 60 || name.contains('/') {
        return Err(Error::Validation(
            "fee item name must be 1-60 characters, without '/'".into(),
        ));
    }
    let unit = find_unit(desk, unit_code).await?;
    if unit.archived {
        return Err(Error::Validation(format!("{} is archived", unit.code)));
    }
    let mut tx = desk.db().write().await?;
    let clash: Option<i64> =
        sqlx::query_scalar("SELECT id FROM fee_items WHERE unit_id = ? AND name = ?")
            .bind(unit.id)
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
    if clash.is_some() {
        return Err(Error::Conflict(format!(
            "{} already has a fee item named '{name}'",
            unit.code
        )));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fee_items (unit_id, name, created_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(unit.id)
    .bind(&name)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let fee = FeeItem {
        id,
        unit_id: unit.id,
        unit_code: unit.code,
        name,
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "fee.add",
            entity: "fee_item",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!(fee)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(fee)
}

/// Every fee item, by unit then name.
pub async fn list_fees(desk: &FeeDesk) -> Result<Vec<FeeItem>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} ORDER BY u.code, f.name"
    )))
    .fetch_all(desk.db().pool())
    .await?)
}

/// The fee item named `text` (`学费`), or `UNIT/NAME` (`XH/学费`) when several units have one.
pub async fn find_fee(desk: &FeeDesk, text: &str) -> Result<FeeItem> {
    let text = normalize(text);
    let (unit, name) = match text.split_once('/') {
        Some((unit, name)) => (Some(normalize(unit).to_ascii_uppercase()), normalize(name)),
        None => (None, text.clone()),
    };
    let mut found: Vec<FeeItem> = list_fees(desk)
        .await?
        .into_iter()
        .filter(|f| f.name == name && unit.as_ref().is_none_or(|u| &f.unit_code == u))
        .collect();
    match found.len() {
        0 => Err(Error::NotFound(format!(
            "no fee item '{text}'; add it with `feedesk fee add --unit CODE --name NAME`"
        ))),
        1 => Ok(found.swap_remove(0)),
        n => Err(Error::Validation(format!(
            "{n} units have a fee item '{name}'; write it as UNIT/NAME, e.g. {}/{name}",
            found[0].unit_code
        ))),
    }
}
