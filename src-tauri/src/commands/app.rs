//! What the window needs to know about the application itself.

use serde::Serialize;

use crate::error::IpcError;
use crate::paths;

/// Name, version and data folder, shown on the dashboard and in bug reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub data_dir: String,
}

/// Returns [`AppInfo`]; fails with `internal` when no data folder can be determined.
#[tauri::command]
pub fn app_info() -> Result<AppInfo, IpcError> {
    let data_dir = paths::data_dir()?;
    Ok(AppInfo {
        name: "FeeDesk".to_owned(),
        version: feedesk::VERSION.to_owned(),
        data_dir: data_dir.display().to_string(),
    })
}
