//! The Fees page: collection accounts, fee items, fee plans, and issuing a plan (preview first).

use chrono::NaiveDate;
use feedesk::billing::{
    self, Channel, CollectionAccount, FeeItem, IssueReport, Plan, PlanRequest, PlanTarget,
};
use serde::Deserialize;
use tauri::State;

use crate::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// A new plan as the form sends it: the core's [`PlanRequest`] with the due date as typed, so
/// a mistyped date is a validation error the window can show.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct PlanForm {
    /// The fee item: `NAME` or `UNIT/NAME`.
    pub fee: String,
    pub target: PlanTarget,
    /// The amount rule as written: `fixed:1200`, `split:100`, `tiers:2026-08-15=2800,3000`,
    /// `declared:50-500`.
    pub rule: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    pub allow_partial: bool,
    /// The designated collection account: its id or name.
    pub account: String,
    /// `MEMBER_NO=10%:REASON` or `MEMBER_NO=200:REASON`, one per discount.
    pub discounts: Vec<String>,
}

fn due_date(text: &str) -> Result<NaiveDate, IpcError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        IpcError::new(
            ErrorCode::Validation,
            format!("due date '{text}' is not a date; use YYYY-MM-DD"),
        )
    })
}

impl PlanForm {
    fn into_request(self) -> Result<PlanRequest, IpcError> {
        Ok(PlanRequest {
            due_on: due_date(&self.due_on)?,
            fee: self.fee,
            target: self.target,
            rule: self.rule,
            allow_partial: self.allow_partial,
            account: self.account,
            discounts: self
                .discounts
                .into_iter()
                .filter(|d| !d.trim().is_empty())
                .collect(),
        })
    }
}

/// Every collection account (the window shows those of the unit it looks at).
#[tauri::command]
pub async fn account_list(state: State<'_, AppState>) -> Result<Vec<CollectionAccount>, IpcError> {
    Ok(billing::list_accounts(state.desk()?).await?)
}

/// Adds a collection account; `channel` is wechat, alipay, unionpay, offline-cash or offline-bank.
#[tauri::command]
pub async fn account_add(
    state: State<'_, AppState>,
    unit: String,
    channel: String,
    name: String,
) -> Result<CollectionAccount, IpcError> {
    let channel = Channel::parse(&channel)?;
    Ok(billing::add_account(state.desk()?, &unit, channel, &name).await?)
}

/// Archives an account (by id or name): no new plan may name it.
#[tauri::command]
pub async fn account_archive(
    state: State<'_, AppState>,
    account: String,
) -> Result<CollectionAccount, IpcError> {
    Ok(billing::archive_account(state.desk()?, &account).await?)
}

#[tauri::command]
pub async fn fee_list(state: State<'_, AppState>) -> Result<Vec<FeeItem>, IpcError> {
    Ok(billing::list_fees(state.desk()?).await?)
}

#[tauri::command]
pub async fn fee_add(
    state: State<'_, AppState>,
    unit: String,
    name: String,
) -> Result<FeeItem, IpcError> {
    Ok(billing::add_fee(state.desk()?, &unit, &name).await?)
}

/// Plans of `unit`'s subtree (every plan without one), newest first.
#[tauri::command]
pub async fn plan_list(
    state: State<'_, AppState>,
    unit: Option<String>,
) -> Result<Vec<Plan>, IpcError> {
    let unit = unit.filter(|u| !u.trim().is_empty());
    Ok(billing::list_plans(state.desk()?, unit.as_deref()).await?)
}

/// Adds a plan; nothing is billed until it is issued.
#[tauri::command]
pub async fn plan_add(state: State<'_, AppState>, plan: PlanForm) -> Result<Plan, IpcError> {
    Ok(billing::add_plan(state.desk()?, &plan.into_request()?).await?)
}

/// What issuing the plan now would do; writes nothing.
#[tauri::command]
pub async fn plan_preview(
    state: State<'_, AppState>,
    plan_id: i64,
) -> Result<IssueReport, IpcError> {
    Ok(billing::preview_issue(state.desk()?, plan_id).await?)
}

/// Issues the plan: the missing bills, and voids for members who left (idempotent).
#[tauri::command]
pub async fn plan_issue(state: State<'_, AppState>, plan_id: i64) -> Result<IssueReport, IpcError> {
    Ok(billing::issue_plan(state.desk()?, plan_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(due_on: &str) -> PlanForm {
        PlanForm {
            fee: "材料费".into(),
            target: PlanTarget::Class("XH/一班".into()),
            rule: "fixed:1200".into(),
            due_on: due_on.into(),
            allow_partial: false,
            account: "1".into(),
            discounts: vec!["M001=10%:兄弟姐妹".into(), "  ".into()],
        }
    }

    #[test]
    fn the_form_becomes_the_core_request() {
        let request = form("2026-12-15").into_request().unwrap();
        assert_eq!(request.due_on.to_string(), "2026-12-15");
        assert_eq!(
            request.discounts,
            vec!["M001=10%:兄弟姐妹".to_string()],
            "blank lines dropped"
        );
        let error = form("2026/12/15").into_request().unwrap_err();
        assert_eq!(error.code, ErrorCode::Validation);
    }
}
