//! Roster import: preview (dry run), import with progress and cancel, history, undo, and
//! saving the error workbook where the user wants it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use feedesk::progress::CancelToken;
use feedesk::roster::{
    self, Batch, Field, ImportMode, ImportReport, ImportRequest, MapOverride, UndoReport,
};
use serde::Deserialize;
use tauri::{AppHandle, State};

use crate::commands::job_progress::emitter;
use crate::commands::open_dialog::{check_picked, pick_file};
use crate::commands::save_dialog::save_path;
use crate::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// The event that carries import progress to the window.
pub const PROGRESS_EVENT: &str = "import-progress";

/// Where previews and imports write their error workbooks, under the data folder.
pub const IMPORTS_DIR: &str = "imports";

/// A user's mapping of one column: the column headed `header` carries `field` (or nothing).
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ColumnOverride {
    pub header: String,
    #[ts(as = "Option<Field>")]
    pub field: Option<String>,
}

/// What to import, as the wizard sends it.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct RosterRequest {
    /// The roster file the user picked.
    pub file: String,
    /// The unit imported into.
    pub unit_code: String,
    pub term_name: Option<String>,
    pub sheet: Option<String>,
    pub overrides: Vec<ColumnOverride>,
    pub create_classes: bool,
    #[ts(as = "ImportMode")]
    pub mode: String,
}

fn core_request(
    request: RosterRequest,
    dry_run: bool,
    errors_out: PathBuf,
) -> Result<ImportRequest, IpcError> {
    let mode = match request.mode.as_str() {
        "all" => ImportMode::All,
        "valid" => ImportMode::Valid,
        other => {
            return Err(IpcError::new(
                ErrorCode::Validation,
                format!("unknown import mode '{other}': use all or valid"),
            ));
        }
    };
    let overrides = request
        .overrides
        .into_iter()
        .map(|o| {
            let field = match o.field.as_deref() {
                None => None,
                Some(text) => Some(Field::parse(text).ok_or_else(|| {
                    IpcError::new(ErrorCode::Validation, format!("unknown field '{text}'"))
                })?),
            };
            Ok(MapOverride {
                header: o.header,
                field,
            })
        })
        .collect::<Result<Vec<_>, IpcError>>()?;
    Ok(ImportRequest {
        file: PathBuf::from(request.file),
        unit_code: request.unit_code,
        term_name: request.term_name.filter(|t| !t.trim().is_empty()),
        sheet: request.sheet.filter(|s| !s.trim().is_empty()),
        overrides,
        create_classes: request.create_classes,
        mode,
        dry_run,
        errors_out: Some(errors_out),
    })
}

/// A fresh error workbook path under `<data>/imports/`.
fn errors_path(data_dir: &Path, kind: &str) -> Result<PathBuf, IpcError> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = data_dir.join(IMPORTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| feedesk::Error::io(&dir, e))?;
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!("{kind}-{millis}-{seq}-errors.xlsx")))
}

/// Asks for a roster file in the native dialog; `None` when the user cancels. Only files
/// picked here (in this run) can be previewed or imported.
#[tauri::command]
pub async fn roster_pick_file(
    app: AppHandle,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<String>, IpcError> {
    pick_file(
        &app,
        &state,
        title,
        &[(
            "Excel / CSV",
            &["xlsx", "xlsm", "xlsb", "xls", "ods", "csv"],
        )],
    )
}

/// Test-only stand-in for the file dialog, which WebDriver cannot drive: allows `path` as if
/// picked. Refused unless the app was started with `FEEDESK_E2E=1` (tests/e2e/run.sh).
#[tauri::command]
pub fn e2e_use_file(state: State<'_, AppState>, path: String) -> Result<String, IpcError> {
    if !crate::commands::app::e2e_hooks() {
        return Err(IpcError::new(
            ErrorCode::Validation,
            "choose the file with the file dialog",
        ));
    }
    state.allow_file(Path::new(&path));
    Ok(path)
}

/// Checks the file and the mapping without writing anything but the error workbook.
#[tauri::command]
pub async fn roster_preview(
    state: State<'_, AppState>,
    request: RosterRequest,
) -> Result<ImportReport, IpcError> {
    let desk = state.desk()?;
    check_picked(&state, &request.file)?;
    let req = core_request(request, true, errors_path(desk.data_dir(), "preview")?)?;
    Ok(roster::import_roster(desk, &req, &|_| {}, &CancelToken::new()).await?)
}

/// Imports, reporting progress as `import-progress` events; `job_cancel(job_id)` stops it
/// (nothing is written then).
#[tauri::command]
pub async fn roster_import(
    app: AppHandle,
    state: State<'_, AppState>,
    request: RosterRequest,
    job_id: String,
) -> Result<ImportReport, IpcError> {
    let desk = state.desk()?;
    check_picked(&state, &request.file)?;
    let req = core_request(request, false, errors_path(desk.data_dir(), "import")?)?;
    let cancel = state.start_job(&job_id)?;
    let progress = emitter(&app, PROGRESS_EVENT, &job_id);
    let result = roster::import_roster(desk, &req, &progress, &cancel).await;
    state.finish_job(&job_id);
    Ok(result?)
}

/// Asks a running job to stop; `not_found` when it is not running (any more).
#[tauri::command]
pub fn job_cancel(state: State<'_, AppState>, job_id: String) -> Result<(), IpcError> {
    if state.cancel_job(&job_id) {
        Ok(())
    } else {
        Err(IpcError::new(
            ErrorCode::NotFound,
            format!("job {job_id} is not running"),
        ))
    }
}

#[tauri::command]
pub async fn roster_history(state: State<'_, AppState>) -> Result<Vec<Batch>, IpcError> {
    Ok(roster::list_batches(state.desk()?).await?)
}

#[tauri::command]
pub async fn roster_undo(
    state: State<'_, AppState>,
    batch_id: i64,
) -> Result<UndoReport, IpcError> {
    Ok(roster::undo_batch(state.desk()?, batch_id).await?)
}

/// Asks where to save an error workbook (native save dialog) and copies it there from
/// `<data>/imports/` (nothing else can be copied). Returns the path, `None` when cancelled.
#[tauri::command]
pub async fn save_error_workbook(
    app: AppHandle,
    state: State<'_, AppState>,
    from: String,
    title: String,
) -> Result<Option<String>, IpcError> {
    let desk = state.desk()?;
    let name = Path::new(&from).file_name().map_or_else(
        || "errors.xlsx".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let Some(to) = save_path(&app, title, name, "xlsx", None)? else {
        return Ok(None);
    };
    copy_from_imports(desk.data_dir(), Path::new(&from), &to)?;
    Ok(Some(to.display().to_string()))
}

fn copy_from_imports(data_dir: &Path, from: &Path, to: &Path) -> Result<(), IpcError> {
    let refuse = || {
        IpcError::new(
            ErrorCode::Validation,
            format!(
                "{} is not an error workbook of this data folder",
                from.display()
            ),
        )
    };
    let imports = data_dir
        .join(IMPORTS_DIR)
        .canonicalize()
        .map_err(|_| refuse())?;
    let source = from.canonicalize().map_err(|_| refuse())?;
    if source.parent() != Some(imports.as_path()) || !source.is_file() {
        return Err(refuse());
    }
    if to.extension().and_then(|e| e.to_str()) != Some("xlsx") {
        return Err(IpcError::new(
            ErrorCode::Validation,
            "save the error workbook as an .xlsx file",
        ));
    }
    std::fs::copy(&source, to).map_err(|e| feedesk::Error::io(to, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_only_from_the_imports_folder() {
        let data = tempfile::tempdir().unwrap();
        let imports = data.path().join(IMPORTS_DIR);
        std::fs::create_dir_all(&imports).unwrap();
        std::fs::write(imports.join("a-errors.xlsx"), b"x").unwrap();
        std::fs::write(data.path().join("feedesk.db"), b"secret").unwrap();
        let out = tempfile::tempdir().unwrap();

        copy_from_imports(
            data.path(),
            &imports.join("a-errors.xlsx"),
            &out.path().join("mine.xlsx"),
        )
        .unwrap();
        assert_eq!(std::fs::read(out.path().join("mine.xlsx")).unwrap(), b"x");

        for from in [
            data.path().join("feedesk.db"),
            imports.join("../feedesk.db"),
            imports.join("missing.xlsx"),
        ] {
            let err =
                copy_from_imports(data.path(), &from, &out.path().join("b.xlsx")).unwrap_err();
            assert_eq!(err.code, ErrorCode::Validation, "{}", from.display());
        }
        let err = copy_from_imports(
            data.path(),
            &imports.join("a-errors.xlsx"),
            &out.path().join("b.sh"),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
    }

    #[test]
    fn only_picked_files_may_be_read() {
        let state = AppState::new(Err(IpcError::internal("no data folder in this test")));
        let err = check_picked(&state, "/etc/passwd").unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        state.allow_file(Path::new("/home/u/roster.xlsx"));
        assert!(check_picked(&state, "/home/u/roster.xlsx").is_ok());
        assert!(check_picked(&state, "/home/u/other.xlsx").is_err());
    }

    #[test]
    fn request_maps_mode_and_fields() {
        let request = RosterRequest {
            file: "/tmp/r.csv".into(),
            unit_code: "HQ".into(),
            term_name: Some(" ".into()),
            sheet: None,
            overrides: vec![ColumnOverride {
                header: "电话".into(),
                field: Some("guardian_phone".into()),
            }],
            create_classes: false,
            mode: "valid".into(),
        };
        let req = core_request(request.clone(), true, "/tmp/e.xlsx".into()).unwrap();
        assert_eq!(req.mode, ImportMode::Valid);
        assert_eq!(req.term_name, None);
        assert_eq!(req.overrides[0].field, Some(Field::GuardianPhone));
        let bad = RosterRequest {
            mode: "some".into(),
            ..request
        };
        assert!(core_request(bad, true, "/tmp/e.xlsx".into()).is_err());
    }
}
