//! The Bills & Collection page: bills a page at a time with their totals, one bill with its
//! payments, offline payments, refunds and voids. Money crosses as decimal strings; every money
//! call carries the idempotency key the window made for that submission.

use feedesk::billing::{
    self, Bill, BillDetail, BillFilter, BillPage, PaymentRequest, PaymentResult, RefundRequest,
    RefundResult,
};
use feedesk::money::Money;
use serde::Deserialize;
use tauri::State;

use crate::error::IpcError;
use crate::state::AppState;

/// The most bills one call returns.
pub const MAX_PAGE: u32 = 1000;

/// An offline payment as the form sends it (the amount as typed: `1200`, `1,200.00`).
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct PaymentForm {
    pub bill_id: i64,
    pub amount: String,
    /// The collection account: its id or name.
    pub account: String,
    pub reference: Option<String>,
    /// The idempotency key of this submission (kept across retries of it).
    pub key: String,
}

/// A refund as the form sends it.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct RefundForm {
    pub payment_id: i64,
    pub amount: String,
    pub reason: String,
    /// The idempotency key of this submission (kept across retries of it).
    pub key: String,
}

fn amount(text: &str) -> Result<Money, IpcError> {
    Ok(text.parse::<Money>()?)
}

#[tauri::command]
pub async fn bill_page(
    state: State<'_, AppState>,
    filter: BillFilter,
    offset: u64,
    limit: u32,
) -> Result<BillPage, IpcError> {
    Ok(billing::bill_page(state.desk()?, &filter, offset, limit.clamp(1, MAX_PAGE)).await?)
}

#[tauri::command]
pub async fn bill_get(state: State<'_, AppState>, bill_id: i64) -> Result<BillDetail, IpcError> {
    Ok(billing::get_bill(state.desk()?, bill_id).await?)
}

/// Voids an unpaid bill, with a reason.
#[tauri::command]
pub async fn bill_void(
    state: State<'_, AppState>,
    bill_id: i64,
    reason: String,
) -> Result<Bill, IpcError> {
    Ok(billing::void_bill(state.desk()?, bill_id, &reason).await?)
}

/// Records an offline payment (cash, or a bank transfer with its reference).
#[tauri::command]
pub async fn payment_record(
    state: State<'_, AppState>,
    payment: PaymentForm,
) -> Result<PaymentResult, IpcError> {
    let request = PaymentRequest {
        bill_id: payment.bill_id,
        amount: amount(&payment.amount)?,
        account: payment.account,
        reference: payment.reference.filter(|r| !r.trim().is_empty()),
        key: payment.key,
    };
    Ok(billing::record_payment(state.desk()?, &request).await?)
}

/// Refunds all or part of a payment, with a reason.
#[tauri::command]
pub async fn refund_record(
    state: State<'_, AppState>,
    refund: RefundForm,
) -> Result<RefundResult, IpcError> {
    let request = RefundRequest {
        payment_id: refund.payment_id,
        amount: amount(&refund.amount)?,
        reason: refund.reason,
        key: refund.key,
    };
    Ok(billing::refund(state.desk()?, &request).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_parsed_by_the_core() {
        assert_eq!(super::amount("1,200.5").unwrap().to_string(), "1200.50");
        assert_eq!(
            super::amount("12.345").unwrap_err().code,
            feedesk::ErrorCode::Validation
        );
    }
}
