//! Reports: the monthly report workbook of a month and subtree, written where the user chooses,
//! with progress events (`report-progress`) and cancellation (`job_cancel`).

use feedesk::reports::{self, MonthlyReport};
use tauri::{AppHandle, State};

use crate::commands::job_progress::emitter;
use crate::commands::save_dialog::save_path;
use crate::error::IpcError;
use crate::state::AppState;

/// The event carrying a report's progress.
pub const REPORT_PROGRESS_EVENT: &str = "report-progress";

/// Writes the monthly report of `unit`'s subtree for `month` (`YYYY-MM`). `None` when the user
/// cancels the save dialog.
#[tauri::command]
pub async fn report_monthly_export(
    app: AppHandle,
    state: State<'_, AppState>,
    month: String,
    unit: String,
    title: String,
    job_id: String,
    e2e_out: Option<String>,
) -> Result<Option<MonthlyReport>, IpcError> {
    let desk = state.desk()?;
    let name = format!("月报-{}-{}.xlsx", unit.trim(), month.trim());
    let Some(out) = save_path(&app, title, name, "xlsx", e2e_out)? else {
        return Ok(None);
    };
    let cancel = state.start_job(&job_id)?;
    let progress = emitter(&app, REPORT_PROGRESS_EVENT, &job_id);
    let result = reports::export_monthly_report_anchored(
        desk,
        state.secrets(),
        &month,
        &unit,
        &out,
        &progress,
        &cancel,
    )
    .await;
    state.finish_job(&job_id);
    Ok(Some(result?))
}

/// The dashboard's charts of `unit`'s subtree as SVG, drawn by the report's plotters code.
#[tauri::command]
pub async fn dashboard_charts(
    state: State<'_, AppState>,
    unit: String,
    trend_title: String,
    aging_title: String,
) -> Result<feedesk::reports::charts::DashboardCharts, IpcError> {
    Ok(
        feedesk::reports::charts::dashboard_charts(
            state.desk()?,
            &unit,
            &trend_title,
            &aging_title,
        )
        .await?,
    )
}
