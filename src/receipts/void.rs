//! Voiding a receipt by hand: 红冲 — a reversal record that points to the original — and, in
//! the same transaction, a new receipt for the same payment drawn from today's records (the
//! correction: a member's name fixed, a class moved). The original is never edited. A payment
//! refunded in full has its receipt reversed by the refund itself, with nothing to reissue.

use serde::Serialize;
use serde_json::json;

use super::issue::{ToIssue, issue};
use crate::audit::{self, Entry};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// What a void issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoidResult {
    /// The receipt voided.
    pub voided: String,
    /// The reversal (红冲) record's number.
    pub reversal: String,
    /// The receipt reissued in its place; `None` when nothing is left of the payment.
    pub reissued: Option<String>,
}

/// Voids receipt `number` with `reason` and reissues it.
pub async fn void_receipt(desk: &FeeDesk, number: &str, reason: &str) -> Result<VoidResult> {
    let reason = crate::text::normalize_prose(reason);
    if reason.is_empty() {
        return Err(Error::Validation(
            "voiding a receipt needs a reason (--reason); it is printed on the reversal".into(),
        ));
    }
    let number = normalize(number).to_ascii_uppercase();
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let found: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT r.id, r.payment_id, p.amount_fen - p.refunded_fen
         FROM receipts r JOIN payments p ON p.id = r.payment_id WHERE r.number = ?",
    )
    .bind(&number)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, payment_id, left) = found.ok_or_else(|| {
        Error::NotFound(format!(
            "no receipt {number}; `feedesk receipt list` shows them"
        ))
    })?;
    let mut items = vec![ToIssue::Reversal {
        original_id: id,
        reason: reason.clone(),
    }];
    if left > 0 {
        items.push(ToIssue::Payment {
            payment_id,
            replaces: Some(number.clone()),
            note: Some(format!("更正重开：{reason}")),
        });
    }
    let issued = issue(&mut tx, &now, desk.actor(), &items).await?;
    let result = VoidResult {
        voided: number.clone(),
        reversal: issued[0].number.clone(),
        reissued: issued.get(1).map(|r| r.number.clone()),
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "receipt.void",
            entity: "receipt",
            entity_id: number,
            before: None,
            after: Some(json!({"void": result, "reason": reason})),
        },
    )
    .await?;
    crate::fault::point("receipt.void.before_commit");
    tx.commit().await?;
    super::archive_after_commit(desk, issued.iter().map(|r| r.id).collect()).await;
    Ok(result)
}
