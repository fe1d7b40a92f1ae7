//! What the window needs to know about the application itself.

use serde::Serialize;

use crate::error::IpcError;
use crate::paths;

/// Environment variable that turns on test-only hooks in the window (see tests/e2e/README.md).
pub const E2E_ENV: &str = "FEEDESK_E2E";

/// Name, version and data folder, shown on the dashboard and in bug reports.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub data_dir: String,
    /// The app was started by the e2e tests (`FEEDESK_E2E=1`): the window shows a path field
    /// beside the native file dialog, which WebDriver cannot drive.
    pub e2e: bool,
}

/// Returns [`AppInfo`]; fails with `internal` when no data folder can be determined.
#[tauri::command]
pub fn app_info() -> Result<AppInfo, IpcError> {
    let data_dir = paths::data_dir()?;
    Ok(AppInfo {
        name: "FeeDesk".to_owned(),
        version: feedesk::VERSION.to_owned(),
        data_dir: data_dir.display().to_string(),
        e2e: std::env::var(E2E_ENV).is_ok_and(|v| v == "1"),
    })
}
