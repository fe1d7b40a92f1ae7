//! Organisation units: one headquarters, regions (which may nest), and stores. Units are
//! renamed, moved and archived, never deleted, so their history always has a home.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// The kind of a unit. Headquarters is the root; stores are leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Hq,
    Region,
    Store,
}

impl UnitKind {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Hq => "hq",
            UnitKind::Region => "region",
            UnitKind::Store => "store",
        }
    }

    /// Parses `hq`, `region` or `store`.
    pub fn parse(text: &str) -> Result<UnitKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "hq" => Ok(UnitKind::Hq),
            "region" => Ok(UnitKind::Region),
            "store" => Ok(UnitKind::Store),
            other => Err(Error::Validation(format!(
                "unknown unit kind '{other}': use region or store"
            ))),
        }
    }

    /// Whether a unit of this kind may sit directly under a unit of kind `parent`.
    /// Regions nest (a chain may group regions); stores hold no units.
    fn may_sit_under(self, parent: UnitKind) -> bool {
        matches!(
            (self, parent),
            (UnitKind::Region, UnitKind::Hq | UnitKind::Region)
                | (UnitKind::Store, UnitKind::Hq | UnitKind::Region)
        )
    }
}

/// One organisation unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub archived: bool,
}

/// A unit with its children, for showing the tree.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnitNode {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub archived: bool,
    pub children: Vec<UnitNode>,
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<i64>,
    archived_at: Option<String>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = Error;
    fn try_from(r: UnitRow) -> Result<Unit> {
        Ok(Unit {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: UnitKind::parse(&r.kind)?,
            parent_id: r.parent_id,
            archived: r.archived_at.is_some(),
        })
    }
}

fn unit_json(u: &Unit) -> serde_json::Value {
    json!({"code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id, "archived": u.archived})
}

/// A unit code: 1-16 ASCII letters, digits, `-` or `_`, stored upper case (receipt numbers
/// start with it).
fn clean_code(code: &str) -> Result<String> {
    let code = normalize(code).to_ascii_uppercase();
    let ok = !code.is_empty()
        && code.len() <= 16
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(code)
    } else {
        Err(Error::Validation(format!(
            "unit code '{code}' is not valid: use 1-16 letters, digits, '-' or '_' (e.g. XH or EAST-1)"
        )))
    }
}

fn clean_name(name: &str, what: &str) -> Result<String> {
    refuse_control(name, what)?;
    let name = normalize(name);
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Validation(format!(
            "{what} name must be 1-100 characters"
        )));
    }
    Ok(name)
}

/// Refuses a name holding a control character or an invisible direction override.
pub fn refuse_control(name: &str, what: &str) -> Result<()> {
    match crate::text::forbidden_char(name) {
        Some(c) => Err(Error::Validation(format!(
            "the {what} name holds the invisible control character U+{:04X}; retype it",
            c as u32
        ))),
        None => Ok(()),
    }
}

/// Creates the institution: its headquarters, code `HQ`.
pub async fn init(desk: &FeeDesk, name: &str) -> Result<Unit> {
    let name = clean_name(name, "institution")?;
    let mut tx = desk.db().write().await?;
    let existing: Option<String> = sqlx::query_scalar("SELECT name FROM units WHERE kind = 'hq'")
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(existing) = existing {
        return Err(Error::Conflict(format!(
            "this data folder already holds the institution '{existing}'"
        )));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO units (code, name, kind, parent_id, created_at) VALUES ('HQ', ?, 'hq', NULL, ?) RETURNING id",
    )
    .bind(&name)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let unit = Unit {
        id,
        code: "HQ".into(),
        name,
        kind: UnitKind::Hq,
        parent_id: None,
        archived: false,
    };
    audit::append(&mut tx, &now, entry(desk, "unit.init", &unit, None)).await?;
    tx.commit().await?;
    Ok(unit)
}

fn entry<'a>(desk: &'a FeeDesk, action: &'a str, after: &Unit, before: Option<&Unit>) -> Entry<'a> {
    Entry {
        actor: desk.actor(),
        action,
        entity: "unit",
        entity_id: after.code.clone(),
        before: before.map(unit_json),
        after: Some(unit_json(after)),
    }
}

/// Adds a region or store under `parent_code`.
pub async fn add_unit(
    desk: &FeeDesk,
    parent_code: &str,
    kind: UnitKind,
    code: &str,
    name: &str,
) -> Result<Unit> {
    if kind == UnitKind::Hq {
        return Err(Error::Validation(
            "there is exactly one headquarters; it is created by init".into(),
        ));
    }
    let code = clean_code(code)?;
    let name = clean_name(name, "unit")?;
    let mut tx = desk.db().write().await?;
    let parent = find_unit_in(&mut tx, parent_code).await?;
    check_parent(&parent, kind)?;
    if find_unit_opt(&mut tx, &code).await?.is_some() {
        return Err(Error::Conflict(format!(
            "unit code {code} is already used; choose another"
        )));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO units (code, name, kind, parent_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&code)
    .bind(&name)
    .bind(kind.as_str())
    .bind(parent.id)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let unit = Unit {
        id,
        code,
        name,
        kind,
        parent_id: Some(parent.id),
        archived: false,
    };
    audit::append(&mut tx, &now, entry(desk, "unit.add", &unit, None)).await?;
    tx.commit().await?;
    Ok(unit)
}

fn check_parent(parent: &Unit, kind: UnitKind) -> Result<()> {
    if parent.archived {
        return Err(Error::Validation(format!(
            "{} is archived; choose an active parent",
            parent.code
        )));
    }
    if !kind.may_sit_under(parent.kind) {
        return Err(Error::Validation(format!(
            "a {} cannot sit under the {} {}: regions go under HQ or a region, stores under HQ or a region",
            kind.as_str(),
            parent.kind.as_str(),
            parent.code
        )));
    }
    Ok(())
}

/// Renames a unit; its code (and so its history) stays.
pub async fn rename_unit(desk: &FeeDesk, code: &str, name: &str) -> Result<Unit> {
    let name = clean_name(name, "unit")?;
    let mut tx = desk.db().write().await?;
    let before = find_unit_in(&mut tx, code).await?;
    sqlx::query("UPDATE units SET name = ? WHERE id = ?")
        .bind(&name)
        .bind(before.id)
        .execute(&mut *tx)
        .await?;
    let after = Unit {
        name,
        ..before.clone()
    };
    let now = desk.now_text();
    audit::append(
        &mut tx,
        &now,
        entry(desk, "unit.rename", &after, Some(&before)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Moves a unit (with its subtree) under another parent. Refuses cycles and kind disorder.
pub async fn move_unit(desk: &FeeDesk, code: &str, new_parent_code: &str) -> Result<Unit> {
    let mut tx = desk.db().write().await?;
    let before = find_unit_in(&mut tx, code).await?;
    if before.kind == UnitKind::Hq {
        return Err(Error::Validation("headquarters cannot be moved".into()));
    }
    let parent = find_unit_in(&mut tx, new_parent_code).await?;
    check_parent(&parent, before.kind)?;
    let all = all_units(&mut tx).await?;
    if subtree(&all, before.id).contains(&parent.id) {
        return Err(Error::Validation(format!(
            "cannot move {} under {}: {} is inside {}'s own subtree",
            before.code, parent.code, parent.code, before.code
        )));
    }
    sqlx::query("UPDATE units SET parent_id = ? WHERE id = ?")
        .bind(parent.id)
        .bind(before.id)
        .execute(&mut *tx)
        .await?;
    let after = Unit {
        parent_id: Some(parent.id),
        ..before.clone()
    };
    let now = desk.now_text();
    audit::append(
        &mut tx,
        &now,
        entry(desk, "unit.move", &after, Some(&before)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Archives a unit: it keeps its history but takes no new children, classes or members.
/// A unit with active children must have them moved or archived first.
pub async fn archive_unit(desk: &FeeDesk, code: &str) -> Result<Unit> {
    let mut tx = desk.db().write().await?;
    let before = find_unit_in(&mut tx, code).await?;
    if before.kind == UnitKind::Hq {
        return Err(Error::Validation("headquarters cannot be archived".into()));
    }
    if before.archived {
        return Err(Error::Conflict(format!(
            "{} is already archived",
            before.code
        )));
    }
    let active_children: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM units WHERE parent_id = ? AND archived_at IS NULL",
    )
    .bind(before.id)
    .fetch_one(&mut *tx)
    .await?;
    if active_children > 0 {
        return Err(Error::Conflict(format!(
            "{} still has {active_children} active unit(s); move or archive them first",
            before.code
        )));
    }
    let now = desk.now_text();
    sqlx::query("UPDATE units SET archived_at = ? WHERE id = ?")
        .bind(&now)
        .bind(before.id)
        .execute(&mut *tx)
        .await?;
    let after = Unit {
        archived: true,
        ..before.clone()
    };
    audit::append(
        &mut tx,
        &now,
        entry(desk, "unit.archive", &after, Some(&before)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn find_unit_opt(conn: &mut sqlx::SqliteConnection, code: &str) -> Result<Option<Unit>> {
    let code = normalize(code).to_ascii_uppercase();
    let row: Option<UnitRow> = sqlx::query_as(
        "SELECT id, code, name, kind, parent_id, archived_at FROM units WHERE code = ?",
    )
    .bind(&code)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Unit::try_from).transpose()
}

async fn find_unit_in(conn: &mut sqlx::SqliteConnection, code: &str) -> Result<Unit> {
    find_unit_opt(conn, code)
        .await?
        .ok_or_else(|| not_found(code))
}

fn not_found(code: &str) -> Error {
    Error::NotFound(format!(
        "no unit with code '{}'; `feedesk org list` shows the codes",
        normalize(code)
    ))
}

/// Finds a unit by code (case-insensitive).
pub async fn find_unit(desk: &FeeDesk, code: &str) -> Result<Unit> {
    let mut conn = desk.db().pool().acquire().await?;
    find_unit_in(&mut conn, code).await
}

async fn all_units(conn: &mut sqlx::SqliteConnection) -> Result<Vec<Unit>> {
    let rows: Vec<UnitRow> = sqlx::query_as(
        "SELECT id, code, name, kind, parent_id, archived_at FROM units ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(Unit::try_from).collect()
}

/// Every unit, in creation order.
pub async fn list_units(desk: &FeeDesk) -> Result<Vec<Unit>> {
    let mut conn = desk.db().pool().acquire().await?;
    all_units(&mut conn).await
}

/// The ids of `root` and everything below it, among `all` units (callers that already hold the
/// list avoid reading it again).
pub fn subtree(all: &[Unit], root: i64) -> Vec<i64> {
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for u in all {
        if let Some(p) = u.parent_id {
            children.entry(p).or_default().push(u.id);
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            out.extend(kids);
        }
        i += 1;
    }
    out
}

/// The ids of the unit `code` and of every unit below it.
pub async fn subtree_ids(desk: &FeeDesk, code: &str) -> Result<Vec<i64>> {
    let all = list_units(desk).await?;
    let root = all
        .iter()
        .find(|u| u.code == normalize(code).to_ascii_uppercase())
        .ok_or_else(|| not_found(code))?;
    Ok(subtree(&all, root.id))
}

/// The whole tree from headquarters; `None` before `init`.
pub async fn tree(desk: &FeeDesk) -> Result<Option<UnitNode>> {
    let all = list_units(desk).await?;
    let Some(hq) = all.iter().find(|u| u.kind == UnitKind::Hq) else {
        return Ok(None);
    };
    Ok(Some(node(&all, hq)))
}

fn node(all: &[Unit], unit: &Unit) -> UnitNode {
    UnitNode {
        code: unit.code.clone(),
        name: unit.name.clone(),
        kind: unit.kind,
        archived: unit.archived,
        children: all
            .iter()
            .filter(|u| u.parent_id == Some(unit.id))
            .map(|u| node(all, u))
            .collect(),
    }
}
