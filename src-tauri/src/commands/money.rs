//! The dashboard's money: tiles for a subtree, the per-unit drill-down tree, and the books'
//! trial balance.

use feedesk::billing::{self, MoneyNode, MoneySummary};
use feedesk::ledger::{self, TrialBalance};
use tauri::State;

use crate::error::IpcError;
use crate::state::AppState;

/// Billed, collected, refunded, outstanding, collection rate, aging and the 30-day trend of
/// `unit`'s subtree, as of the institution's today.
#[tauri::command]
pub async fn money_summary(
    state: State<'_, AppState>,
    unit: String,
) -> Result<MoneySummary, IpcError> {
    Ok(billing::money_summary(state.desk()?, &unit, None).await?)
}

/// The same figures for `unit` and every unit below it, as a tree.
#[tauri::command]
pub async fn money_tree(state: State<'_, AppState>, unit: String) -> Result<MoneyNode, IpcError> {
    Ok(billing::money_tree(state.desk()?, &unit).await?)
}

/// The trial balance of `unit`'s books, or with `rollup` of its whole subtree.
#[tauri::command]
pub async fn ledger_trial_balance(
    state: State<'_, AppState>,
    unit: String,
    rollup: bool,
) -> Result<TrialBalance, IpcError> {
    Ok(ledger::trial_balance(state.desk()?, &unit, rollup).await?)
}
