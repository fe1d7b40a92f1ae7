//! The organisation: HQ -> regions -> stores, the dashboard counts, and the demo institution.

use feedesk::demo::{self, DemoReport};
use feedesk::org::{self, Overview, Unit, UnitKind, UnitNode};
use feedesk::progress::{CancelToken, ignore_progress};
use tauri::State;

use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command]
pub async fn org_overview(state: State<'_, AppState>) -> Result<Overview, IpcError> {
    Ok(org::overview(state.desk()?).await?)
}

/// The whole tree, or `None` before the institution exists.
#[tauri::command]
pub async fn org_tree(state: State<'_, AppState>) -> Result<Option<UnitNode>, IpcError> {
    Ok(org::tree(state.desk()?).await?)
}

/// Creates the institution (its HQ).
#[tauri::command]
pub async fn org_init(state: State<'_, AppState>, name: String) -> Result<Unit, IpcError> {
    Ok(org::init(state.desk()?, &name).await?)
}

/// Adds a region or store (`kind`: `region` | `store`) under `parent`.
#[tauri::command]
pub async fn org_add_unit(
    state: State<'_, AppState>,
    parent: String,
    kind: String,
    code: String,
    name: String,
) -> Result<Unit, IpcError> {
    let kind = UnitKind::parse(&kind)?;
    Ok(org::add_unit(state.desk()?, &parent, kind, &code, &name).await?)
}

#[tauri::command]
pub async fn org_rename(
    state: State<'_, AppState>,
    code: String,
    name: String,
) -> Result<Unit, IpcError> {
    Ok(org::rename_unit(state.desk()?, &code, &name).await?)
}

#[tauri::command]
pub async fn org_move(
    state: State<'_, AppState>,
    code: String,
    parent: String,
) -> Result<Unit, IpcError> {
    Ok(org::move_unit(state.desk()?, &code, &parent).await?)
}

#[tauri::command]
pub async fn org_archive(state: State<'_, AppState>, code: String) -> Result<Unit, IpcError> {
    Ok(org::archive_unit(state.desk()?, &code).await?)
}

/// Builds the demo institution; the core refuses when an institution exists.
#[tauri::command]
pub async fn demo_load(state: State<'_, AppState>) -> Result<DemoReport, IpcError> {
    Ok(demo::build(state.desk()?, &ignore_progress, &CancelToken::new()).await?)
}
