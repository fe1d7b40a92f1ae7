//! Which file to read: the native open dialog, and the rule that only files picked there (in
//! this run) may be read. Rosters, statements and key files all come through here, so the
//! window can never make the app read a path the user did not choose.

use std::path::Path;

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use crate::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// Asks for one file in the native dialog, offering `filters` (a name and its extensions);
/// `None` when the user cancels. The file picked is allowed for reading in this run.
pub(crate) fn pick_file(
    app: &AppHandle,
    state: &AppState,
    title: String,
    filters: &[(&str, &[&str])],
) -> Result<Option<String>, IpcError> {
    let mut dialog = app.dialog().file().set_title(title);
    for (name, extensions) in filters {
        dialog = dialog.add_filter(*name, extensions);
    }
    let Some(picked) = dialog.blocking_pick_file() else {
        return Ok(None);
    };
    let path = picked
        .into_path()
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("the chosen file has no path: {e}")))?;
    state.allow_file(&path);
    Ok(Some(path.display().to_string()))
}

/// Refuses a path that was not picked in the dialog in this run.
pub(crate) fn check_picked(state: &AppState, file: &str) -> Result<(), IpcError> {
    if state.is_allowed(Path::new(file)) {
        Ok(())
    } else {
        Err(IpcError::new(
            ErrorCode::Validation,
            format!("{file} was not chosen in the file dialog; choose it again"),
        ))
    }
}
