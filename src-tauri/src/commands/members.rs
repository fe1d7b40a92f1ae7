//! Members, a page at a time, personal data masked.

use feedesk::org::{self, MemberFilter, MemberPage};
use serde::Deserialize;
use tauri::State;

use crate::error::IpcError;
use crate::state::AppState;

/// The most members one call returns.
pub const MAX_PAGE: u64 = 1000;

/// Which members to list (the window never asks for unmasked data in this milestone).
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct MemberQuery {
    pub unit_code: Option<String>,
    pub class_name: Option<String>,
    pub status: Option<String>,
    pub search: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

#[tauri::command]
pub async fn member_page(
    state: State<'_, AppState>,
    filter: MemberQuery,
    offset: u64,
    limit: u64,
) -> Result<MemberPage, IpcError> {
    let filter = MemberFilter {
        unit_code: non_empty(filter.unit_code),
        class_name: non_empty(filter.class_name),
        status: non_empty(filter.status),
        search: non_empty(filter.search),
        show_pii: false,
    };
    Ok(org::member_page(state.desk()?, &filter, offset, limit.clamp(1, MAX_PAGE)).await?)
}
