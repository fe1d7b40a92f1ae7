//! Reconciliation: a statement file picked in the native dialog (or downloaded through the
//! account's channel) imported, a run over an account and period, the discrepancies and their
//! resolutions, and the reconciliation workbook saved where the user chooses.

use std::path::Path;

use feedesk::progress::{CancelToken, ignore_progress};
use feedesk::reconcile::{
    self, ItemFilter, ReconExport, ReconItem, Resolution, ResolveRequest, RunSummary,
    StatementImport,
};
use serde::Deserialize;
use tauri::{AppHandle, State};

use crate::commands::open_dialog::{check_picked, pick_file};
use crate::commands::save_dialog::save_path;
use crate::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// An account and a period of Beijing days.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ReconPeriod {
    pub account: String,
    /// `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
}

fn day(text: &str, what: &str) -> Result<chrono::NaiveDate, IpcError> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        IpcError::new(
            ErrorCode::Validation,
            format!("{what} '{text}' is not a date like 2026-11-22"),
        )
    })
}

fn period(p: &ReconPeriod) -> Result<(chrono::NaiveDate, chrono::NaiveDate), IpcError> {
    Ok((day(&p.from, "from")?, day(&p.to, "to")?))
}

/// Opens the native file dialog for a statement (WeChat Pay .csv/.csv.gz, Alipay .csv.zip or
/// .csv); the file picked is allowed for import in this run. `None` when cancelled.
#[tauri::command]
pub async fn statement_pick_file(
    app: AppHandle,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<String>, IpcError> {
    pick_file(
        &app,
        &state,
        title,
        &[("对账单 / Statements", &["csv", "zip", "gz"])],
    )
}

/// Imports a picked statement file into `account` (once: the same file again changes nothing).
#[tauri::command]
pub async fn statement_import(
    state: State<'_, AppState>,
    file: String,
    account: String,
) -> Result<StatementImport, IpcError> {
    check_picked(&state, &file)?;
    Ok(reconcile::import_statement(
        state.desk()?,
        &account,
        Path::new(&file),
        &ignore_progress,
        &CancelToken::new(),
    )
    .await?)
}

/// Downloads the bill of `date` through the account's channel and imports it.
#[tauri::command]
pub async fn statement_download(
    state: State<'_, AppState>,
    account: String,
    date: String,
) -> Result<StatementImport, IpcError> {
    let desk = state.desk()?;
    let date = day(&date, "date")?;
    let bill =
        feedesk::channels::accounts::download_bill(desk, state.secrets(), &account, date).await?;
    let name = bill
        .source
        .clone()
        .unwrap_or_else(|| format!("{}-{}.csv", bill.channel, date.format("%Y%m%d")));
    Ok(reconcile::import_statement_bytes(desk, &account, &name, &bill.content).await?)
}

/// Reconciles the account over the period.
#[tauri::command]
pub async fn reconcile_run(
    state: State<'_, AppState>,
    period: ReconPeriod,
) -> Result<RunSummary, IpcError> {
    let (from, to) = self::period(&period)?;
    Ok(reconcile::run_reconciliation(
        state.desk()?,
        &period.account,
        from,
        to,
        &ignore_progress,
        &CancelToken::new(),
    )
    .await?)
}

/// Discrepancies, filtered.
#[tauri::command]
pub async fn reconcile_items(
    state: State<'_, AppState>,
    filter: ItemFilter,
) -> Result<Vec<ReconItem>, IpcError> {
    Ok(reconcile::list_items(state.desk()?, &filter).await?)
}

/// Resolves one discrepancy (record the missing payment, explain, follow up); audited.
#[tauri::command]
pub async fn reconcile_resolve(
    state: State<'_, AppState>,
    item_id: i64,
    action: Resolution,
    note: String,
    bill_id: Option<i64>,
) -> Result<ReconItem, IpcError> {
    let request = ResolveRequest {
        item_id,
        action,
        note,
        bill_id,
    };
    Ok(reconcile::resolve_item(state.desk()?, state.secrets(), &request).await?)
}

/// Runs and writes the reconciliation workbook where the user chooses.
#[tauri::command]
pub async fn reconcile_export(
    app: AppHandle,
    state: State<'_, AppState>,
    period: ReconPeriod,
    title: String,
    e2e_out: Option<String>,
) -> Result<Option<ReconExport>, IpcError> {
    let (from, to) = self::period(&period)?;
    let name = format!("对账-{}-{}-{}.xlsx", period.account, period.from, period.to);
    let Some(out) = save_path(&app, title, name, "xlsx", e2e_out)? else {
        return Ok(None);
    };
    Ok(Some(
        reconcile::export_reconciliation(
            state.desk()?,
            &period.account,
            from,
            to,
            &out,
            &ignore_progress,
            &CancelToken::new(),
        )
        .await?,
    ))
}
