//! Where to save a file the user asked for: the native save dialog, or, only when the app runs
//! under the e2e tests (`FEEDESK_E2E=1`), the path the test names (WebDriver cannot drive
//! native dialogs). Every export command goes through here.

use std::path::PathBuf;

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use crate::error::{ErrorCode, IpcError};

/// The path to save to, with `extension` added when the user typed none; `None` when the user
/// cancels the dialog. `e2e_out` outside an e2e run is refused, so a page can never write
/// where the user did not choose.
pub(crate) fn save_path(
    app: &AppHandle,
    title: String,
    name: String,
    extension: &str,
    e2e_out: Option<String>,
) -> Result<Option<PathBuf>, IpcError> {
    let mut out = match e2e_out.filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            if !crate::commands::app::e2e_hooks() {
                return Err(IpcError::new(
                    ErrorCode::Validation,
                    "choose where to save with the save dialog",
                ));
            }
            PathBuf::from(path.trim())
        }
        None => {
            let chosen = app
                .dialog()
                .file()
                .set_title(title)
                .set_file_name(name)
                .add_filter(filter_name(extension), &[extension])
                .blocking_save_file();
            let Some(chosen) = chosen else {
                return Ok(None);
            };
            chosen.into_path().map_err(|e| {
                IpcError::new(ErrorCode::Io, format!("the chosen place has no path: {e}"))
            })?
        }
    };
    if out.extension().is_none() {
        out.set_extension(extension);
    }
    Ok(Some(out))
}

/// The dialog's name for a file type ("Excel" for workbooks, else the extension in capitals).
fn filter_name(extension: &str) -> String {
    match extension {
        "xlsx" => "Excel".into(),
        other => other.to_uppercase(),
    }
}
