//! What the window needs to know about the application itself.

use serde::Serialize;

use crate::error::IpcError;

/// Environment variable that turns on test-only hooks in the window (see tests/e2e/README.md).
pub const E2E_ENV: &str = "FEEDESK_E2E";

/// Whether the test-only hooks are on: only in a debug build (the e2e tests drive the debug
/// app built by `cargo test --workspace --no-run`) started with `FEEDESK_E2E=1`. In a release
/// build (`tauri build`, the installers) this is the constant `false`, so the hooks are
/// compiled out and no environment variable can turn them on.
pub fn e2e_hooks() -> bool {
    cfg!(debug_assertions) && std::env::var(E2E_ENV).as_deref() == Ok("1")
}

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
    let data_dir = feedesk::desk::data_dir()?;
    Ok(AppInfo {
        name: "FeeDesk".to_owned(),
        version: feedesk::VERSION.to_owned(),
        data_dir: data_dir.display().to_string(),
        e2e: e2e_hooks(),
    })
}
