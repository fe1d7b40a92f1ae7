//! FeeDesk's desktop shell: a Tauri 2 window over the `feedesk` core.
//!
//! The shell holds no business logic. Each command in [`commands`] is a few lines that call
//! the core and map its result to IPC types; errors cross as [`error::IpcError`]
//! (`{ code, message }`) so the UI can branch on `code`. The data folder is opened once at
//! startup and kept in [`state::AppState`].

pub mod bindings;
pub mod commands;
pub mod error;
pub mod state;

use tauri::Manager;

/// Builds and runs the application until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let desk = feedesk::desk::data_dir()
                .and_then(|dir| tauri::async_runtime::block_on(feedesk::FeeDesk::open(&dir)))
                .map_err(error::IpcError::from);
            if let Err(error) = &desk {
                eprintln!("FeeDesk could not open its data folder: {error}");
            }
            app.manage(state::AppState::new(desk));
            // Every order left open (the app was closed or killed with a QR code on screen)
            // is queried and settled, in the background, at start-up and then on a timer
            // while the window is open (a code in the class's QR workbook may be paid any time).
            commands::collection::sync_on_timer(app.handle());
            // Reminders run while the app is open, as `feedesk remind run` does from cron.
            commands::reminders::schedule(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::org::org_overview,
            commands::org::org_tree,
            commands::org::org_init,
            commands::org::org_add_unit,
            commands::org::org_rename,
            commands::org::org_move,
            commands::org::org_archive,
            commands::org::demo_load,
            commands::classes::term_list,
            commands::classes::term_add,
            commands::classes::class_list,
            commands::classes::class_add,
            commands::members::member_page,
            commands::roster::roster_pick_file,
            commands::roster::e2e_use_file,
            commands::roster::roster_preview,
            commands::roster::roster_import,
            commands::roster::roster_history,
            commands::roster::roster_undo,
            commands::roster::job_cancel,
            commands::roster::save_error_workbook,
            commands::fees::account_list,
            commands::fees::account_add,
            commands::fees::account_archive,
            commands::fees::fee_list,
            commands::fees::fee_add,
            commands::fees::plan_list,
            commands::fees::plan_add,
            commands::fees::plan_preview,
            commands::fees::plan_issue,
            commands::bills::bill_page,
            commands::bills::bill_get,
            commands::bills::bill_void,
            commands::bills::payment_record,
            commands::bills::refund_record,
            commands::money::money_summary,
            commands::money::money_tree,
            commands::money::ledger_trial_balance,
            commands::channels::channel_account_list,
            commands::channels::channel_key_pick,
            commands::channels::channel_account_add,
            commands::channels::channel_account_configure,
            commands::channels::channel_account_test,
            commands::collection::collect_start,
            commands::collection::collect_check,
            commands::collection::collect_close,
            commands::collection::order_list,
            commands::collection::refund_channel,
            commands::collection::qr_export_class,
            commands::receipts::receipt_page,
            commands::receipts::receipt_get,
            commands::receipts::receipt_void,
            commands::receipts::receipt_verify,
            commands::receipts::receipt_save_pdf,
            commands::receipts::receipt_export,
            commands::receipts::receipt_settings,
            commands::receipts::receipt_set_paper,
            commands::reconciliation::statement_pick_file,
            commands::reconciliation::statement_import,
            commands::reconciliation::statement_download,
            commands::reconciliation::reconcile_run,
            commands::reconciliation::reconcile_items,
            commands::reconciliation::reconcile_resolve,
            commands::reconciliation::reconcile_export,
            commands::reports::report_monthly_export,
            commands::reports::dashboard_charts,
            commands::reminders::reminder_policies,
            commands::reminders::reminder_policy_set,
            commands::reminders::reminder_preview,
            commands::reminders::reminder_run,
            commands::reminders::reminder_approve,
            commands::reminders::reminder_log,
            commands::reminders::reminder_resolve,
            commands::reminders::reminder_channels,
            commands::reminders::reminder_holds,
            commands::reminders::reminder_bill_tiers,
            commands::reminders::followup_list,
            commands::reminders::followup_update,
        ])
        .run(tauri::generate_context!())
        .expect("FeeDesk could not start its window");
}
