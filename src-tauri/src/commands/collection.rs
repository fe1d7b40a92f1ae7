//! Bills → Collect: a QR-code order for a bill in its plan's WeChat Pay or Alipay account, its
//! live status (the window polls [`collect_check`] while the QR code is on screen), closing it
//! when the cashier gives up, refunds through the channel, a class's payment QR codes as a
//! workbook, and the start-up sync of every unresolved order.

use feedesk::billing::{RefundRequest, RefundResult};
use feedesk::collection::{self, ChannelOrder, CollectOrder, QrExport, SyncReport};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};

use crate::commands::bills::RefundForm;
use crate::commands::save_dialog::save_path;
use crate::error::IpcError;
use crate::state::AppState;

/// The event that tells the window the start-up sync settled orders or refunds.
pub const SYNC_EVENT: &str = "orders-synced";

/// The QR code's drawn width in pixels (the SVG scales; this is its minimum).
pub const QR_SIZE: u32 = 240;

/// An order to show: what it is, and its QR code as an SVG drawing.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CollectView {
    pub order: CollectOrder,
    /// `<svg …>` of `order.qr_text`; the window shows it as an image (never as markup).
    pub qr_svg: String,
}

/// Opens the QR-code order for what the bill still owes (or returns its open one, on retry).
#[tauri::command]
pub async fn collect_start(
    state: State<'_, AppState>,
    bill_id: i64,
) -> Result<CollectView, IpcError> {
    let order = collection::collect(state.desk()?, state.secrets(), bill_id).await?;
    let qr_svg = collection::qr_svg(&order.qr_text, QR_SIZE)?;
    Ok(CollectView { order, qr_svg })
}

/// Asks the channel about the order now: paid (and recorded, once), still open, or closed.
#[tauri::command]
pub async fn collect_check(
    state: State<'_, AppState>,
    order_no: String,
) -> Result<ChannelOrder, IpcError> {
    Ok(collection::check_order_now(state.desk()?, state.secrets(), &order_no).await?)
}

/// Closes the order (the cashier closed the QR dialog unpaid); recorded instead if it was paid.
#[tauri::command]
pub async fn collect_close(
    state: State<'_, AppState>,
    order_no: String,
) -> Result<ChannelOrder, IpcError> {
    Ok(collection::close_order(state.desk()?, state.secrets(), &order_no).await?)
}

/// A bill's channel orders, newest first.
#[tauri::command]
pub async fn order_list(
    state: State<'_, AppState>,
    bill_id: i64,
) -> Result<Vec<ChannelOrder>, IpcError> {
    Ok(collection::list_orders(state.desk()?, Some(bill_id)).await?)
}

/// Refunds all or part of a channel payment through its channel, then records it (under the
/// submission's idempotency key, which also names the channel's refund).
#[tauri::command]
pub async fn refund_channel(
    state: State<'_, AppState>,
    refund: RefundForm,
) -> Result<RefundResult, IpcError> {
    let request = RefundRequest {
        payment_id: refund.payment_id,
        amount: refund.amount.parse::<feedesk::money::Money>()?,
        reason: refund.reason,
        key: refund.key,
    };
    Ok(collection::refund_via_channel(state.desk()?, state.secrets(), &request).await?)
}

/// Asks where to save (native save dialog) and writes a workbook with a payment QR code for
/// every open bill of `class` (`STORE/NAME`) collected through WeChat Pay or Alipay. `None`
/// when the user cancels. `e2e_out` replaces the dialog, only when the app runs with
/// `FEEDESK_E2E=1` (WebDriver cannot drive native dialogs).
#[tauri::command]
pub async fn qr_export_class(
    app: AppHandle,
    state: State<'_, AppState>,
    class: String,
    title: String,
    e2e_out: Option<String>,
) -> Result<Option<QrExport>, IpcError> {
    let desk = state.desk()?;
    let name = format!("{}-扫码缴费.xlsx", class.replace(['/', '\\'], "-"));
    let Some(out) = save_path(&app, title, name, "xlsx", e2e_out)? else {
        return Ok(None);
    };
    Ok(Some(
        collection::export_class_qr(desk, state.secrets(), &class, &out).await?,
    ))
}

/// How often open orders are synced while the window is open: a parent who pays from a code
/// printed in the class's QR workbook is recorded within this time, not at the next start.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Queries every unresolved order and refund in the background at start-up, then every
/// [`SYNC_EVERY`] while the app is open, and settles what the channels say is done; tells the
/// window (`orders-synced`) when something changed.
pub fn sync_on_timer(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            sync_once(&app).await;
            tokio::time::sleep(SYNC_EVERY).await;
        }
    });
}

async fn sync_once(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Ok(desk) = state.desk() else {
        return;
    };
    match collection::sync_orders(desk, state.secrets()).await {
        Ok(report) => {
            if changed(&report) || report.refunds_pending > 0 {
                eprintln!(
                    "FeeDesk order sync: {} order(s) checked, {} paid, {} closed, {} still open, {} unapplied; {} refund(s) done, {} pending",
                    report.checked,
                    report.paid,
                    report.closed,
                    report.still_open,
                    report.unapplied,
                    report.refunds_done,
                    report.refunds_pending
                );
            }
            for problem in &report.problems {
                eprintln!("FeeDesk order sync: {problem}");
            }
            if changed(&report) {
                let _ = app.emit(SYNC_EVENT, report);
            }
        }
        Err(error) => eprintln!("FeeDesk order sync failed: {error}"),
    }
}

fn changed(report: &SyncReport) -> bool {
    report.paid + report.closed + report.unapplied + report.refunds_done > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_work_is_announced() {
        let mut report = SyncReport {
            checked: 3,
            still_open: 3,
            ..Default::default()
        };
        assert!(!changed(&report));
        report.paid = 1;
        assert!(changed(&report));
    }

    #[test]
    fn the_qr_drawing_is_svg() {
        let svg = collection::qr_svg("weixin://wxpay/bizpayurl?pr=abc", QR_SIZE).unwrap();
        assert!(svg.contains("<svg"));
    }
}
