//! The Reminders page: policies, the next batch to approve (with its rendered messages), the
//! delivery log, the follow-up list; and the scheduler that runs the same core `remind run`
//! path as cron while the app is open (claims in write transactions make both safe together).

use std::time::Duration;

use feedesk::reminders::{
    self, BillTier, FollowUp, FollowUpUpdate, Hold, LogFilter, NotifyChannel, OutboxRow, Policy,
    PolicyRequest, Preview, RunOptions, RunReport,
};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::IpcError;
use crate::state::AppState;

/// The event the scheduler emits after a run that changed something.
pub const RUN_EVENT: &str = "reminders-run";
/// How often the scheduler runs while the app is open.
const SCHEDULE_EVERY: Duration = Duration::from_secs(600);
/// The first run waits a little after start-up.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);

#[tauri::command]
pub async fn reminder_policies(state: State<'_, AppState>) -> Result<Vec<Policy>, IpcError> {
    Ok(reminders::list_policies(state.desk()?).await?)
}

#[tauri::command]
pub async fn reminder_policy_set(
    state: State<'_, AppState>,
    request: PolicyRequest,
) -> Result<Policy, IpcError> {
    Ok(reminders::set_policy(state.desk()?, &request).await?)
}

/// What the next run would queue, and what waits for approval.
#[tauri::command]
pub async fn reminder_preview(state: State<'_, AppState>) -> Result<Preview, IpcError> {
    Ok(reminders::preview(state.desk()?).await?)
}

/// Queues what is due (for approval, unless a policy sends automatically) and sends what is
/// already approved.
#[tauri::command]
pub async fn reminder_run(state: State<'_, AppState>) -> Result<RunReport, IpcError> {
    Ok(reminders::run(state.desk()?, state.secrets(), &RunOptions::default()).await?)
}

/// Approves the given queued reminders, then runs (they go unless it is quiet hours).
#[tauri::command]
pub async fn reminder_approve(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<RunReport, IpcError> {
    let desk = state.desk()?;
    reminders::approve(desk, Some(&ids)).await?;
    Ok(reminders::run(desk, state.secrets(), &RunOptions::default()).await?)
}

#[tauri::command]
pub async fn reminder_log(
    state: State<'_, AppState>,
    filter: LogFilter,
) -> Result<Vec<OutboxRow>, IpcError> {
    Ok(reminders::log(state.desk()?, &filter).await?)
}

/// Settles an uncertain or failed reminder: delivered, or to be sent again.
#[tauri::command]
pub async fn reminder_resolve(
    state: State<'_, AppState>,
    id: i64,
    delivered: bool,
) -> Result<(), IpcError> {
    Ok(reminders::resolve(state.desk()?, id, delivered).await?)
}

#[tauri::command]
pub async fn reminder_channels(state: State<'_, AppState>) -> Result<Vec<NotifyChannel>, IpcError> {
    Ok(reminders::list_notify_channels(state.desk()?).await?)
}

#[tauri::command]
pub async fn reminder_holds(state: State<'_, AppState>) -> Result<Vec<Hold>, IpcError> {
    Ok(reminders::list_holds(state.desk()?).await?)
}

/// The reminder standing of the bills on screen.
#[tauri::command]
pub async fn reminder_bill_tiers(
    state: State<'_, AppState>,
    bill_ids: Vec<i64>,
) -> Result<Vec<BillTier>, IpcError> {
    Ok(reminders::bill_tiers(state.desk()?, &bill_ids).await?)
}

#[tauri::command]
pub async fn followup_list(
    state: State<'_, AppState>,
    include_closed: bool,
) -> Result<Vec<FollowUp>, IpcError> {
    Ok(reminders::list_followups(state.desk()?, include_closed).await?)
}

#[tauri::command]
pub async fn followup_update(
    state: State<'_, AppState>,
    bill_id: i64,
    update: FollowUpUpdate,
) -> Result<(), IpcError> {
    Ok(reminders::update_followup(state.desk()?, bill_id, &update).await?)
}

/// Runs reminders every ten minutes while the app is open: queues what is due and sends what
/// is approved (or automatic), outside quiet hours. The same path as `feedesk remind run`.
/// Not under the e2e tests (`FEEDESK_E2E=1`): they drive every run themselves and assert what
/// each one sent.
pub fn schedule(app: &AppHandle) {
    if crate::commands::app::e2e_hooks() {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_RUN_AFTER).await;
        loop {
            let state = app.state::<AppState>();
            if let Ok(desk) = state.desk() {
                match reminders::run(desk, state.secrets(), &RunOptions::default()).await {
                    Ok(report) => {
                        let t = &report.total;
                        if t.queued + t.sent + t.failed + t.uncertain + t.cancelled > 0
                            || report.escalated > 0
                        {
                            let _ = app.emit(RUN_EVENT, report);
                        }
                    }
                    Err(error) => eprintln!("FeeDesk reminders: {error}"),
                }
            }
            tokio::time::sleep(SCHEDULE_EVERY).await;
        }
    });
}
