//! The Receipts page: search, a preview drawn from the receipt's record, the archived PDF saved
//! where the user picks (to print or send), void (红冲) with a reason and reissue, a class's or
//! a term's PDFs as a zip, and verify. Every command is one call into `feedesk::receipts`.

use feedesk::receipts::{
    self, ExportReport, Paper, ReceiptDetail, ReceiptFilter, ReceiptPage, ReceiptSettings,
    VerifyReport, VoidResult,
};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::commands::save_dialog::save_path;
use crate::error::IpcError;
use crate::state::AppState;

/// The most receipts one call returns.
pub const MAX_PAGE: u64 = 1000;

/// A receipt to preview: its record, and its QR code drawn as SVG.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReceiptView {
    pub detail: ReceiptDetail,
    /// `<svg …>` of the QR code printed on the receipt; shown as an image, never as markup.
    pub qr_svg: String,
}

#[tauri::command]
pub async fn receipt_page(
    state: State<'_, AppState>,
    filter: ReceiptFilter,
    offset: u64,
    limit: u64,
) -> Result<ReceiptPage, IpcError> {
    Ok(receipts::receipt_page(state.desk()?, &filter, offset, limit.clamp(1, MAX_PAGE)).await?)
}

#[tauri::command]
pub async fn receipt_get(
    state: State<'_, AppState>,
    number: String,
) -> Result<ReceiptView, IpcError> {
    let detail = receipts::receipt_detail(state.desk()?, &number).await?;
    let qr_svg = feedesk::collection::qr_svg(&detail.qr_text, 160)?;
    Ok(ReceiptView { detail, qr_svg })
}

/// Voids a receipt (红冲) with a reason and reissues it for what is left of the payment.
#[tauri::command]
pub async fn receipt_void(
    state: State<'_, AppState>,
    number: String,
    reason: String,
) -> Result<VoidResult, IpcError> {
    Ok(receipts::void_receipt(state.desk()?, &number, &reason).await?)
}

/// The paper receipts are printed on.
#[tauri::command]
pub async fn receipt_settings(state: State<'_, AppState>) -> Result<ReceiptSettings, IpcError> {
    Ok(receipts::receipt_settings(state.desk()?).await?)
}

/// Sets the paper for receipts archived from now on (audited).
#[tauri::command]
pub async fn receipt_set_paper(
    state: State<'_, AppState>,
    paper: Paper,
) -> Result<ReceiptSettings, IpcError> {
    Ok(receipts::set_paper(state.desk()?, paper).await?)
}

/// Checks every receipt record, the numbering and every archived PDF.
#[tauri::command]
pub async fn receipt_verify(state: State<'_, AppState>) -> Result<VerifyReport, IpcError> {
    Ok(receipts::verify(state.desk()?).await?)
}

/// Saves the receipt's archived PDF (the original, checked against its SHA-256) where the user
/// picks, to print or send; returns the path, `None` when cancelled.
#[tauri::command]
pub async fn receipt_save_pdf(
    app: AppHandle,
    state: State<'_, AppState>,
    number: String,
    title: String,
    e2e_out: Option<String>,
) -> Result<Option<String>, IpcError> {
    let desk = state.desk()?;
    let pdf = receipts::receipt_pdf(desk, &number).await?;
    let Some(out) = save_path(
        &app,
        title,
        format!("{}.pdf", number.trim()),
        "pdf",
        e2e_out,
    )?
    else {
        return Ok(None);
    };
    std::fs::write(&out, pdf).map_err(|e| IpcError::from(feedesk::Error::io(&out, e)))?;
    Ok(Some(out.display().to_string()))
}

/// Zips the PDFs of a class's or a term's receipts (with their manifest) where the user picks.
#[tauri::command]
pub async fn receipt_export(
    app: AppHandle,
    state: State<'_, AppState>,
    filter: ReceiptFilter,
    title: String,
    e2e_out: Option<String>,
) -> Result<Option<ExportReport>, IpcError> {
    let desk = state.desk()?;
    let what = filter
        .class_name
        .clone()
        .or(filter.term_name.clone())
        .unwrap_or_default()
        .replace(['/', '\\'], "-");
    let Some(out) = save_path(&app, title, format!("{what}-收据.zip"), "zip", e2e_out)? else {
        return Ok(None);
    };
    Ok(Some(receipts::export_zip(desk, &filter, &out).await?))
}
