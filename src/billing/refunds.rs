//! Refunds: all or part of a payment, with a reason, never more than is left of it. When a
//! bill's refunds reach everything paid on it, the bill is closed as `refunded` and whatever was
//! still unpaid is cancelled too (the member no longer owes it). Idempotent under a key, like
//! payments.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::accounts_named;
use super::idempotency::Keys;
use super::payments::{bill_state, fee_code, money_postings};
use crate::audit::{self, Entry};
use crate::ledger::{Journal, LedgerCode, Line, Posting};
use crate::money::Money;
use crate::text::normalize_prose;
use crate::{Error, FeeDesk, Result};

/// Money to give back from a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundRequest {
    pub payment_id: i64,
    pub amount: Money,
    pub reason: String,
    pub key: String,
}

/// A recorded refund and the bill's status right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundResult {
    pub refund_id: i64,
    pub payment_id: i64,
    pub bill_id: i64,
    pub amount: Money,
    /// The bill's status after the refund.
    pub status: String,
    /// What is left of the payment to refund.
    pub refundable: Money,
}

/// How the money went back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefundRoute {
    /// Recorded by a person: only payments into cash and bank accounts. A channel payment's
    /// money goes back only through its channel (which moves it); a refund by hand would credit
    /// the channel's clearing account although the channel never paid anything back.
    ByHand,
    /// The channel confirmed it paid the money back (the collection module).
    Channel,
}

/// Records a refund by hand of a cash or bank payment. A payment that came through a channel
/// is refused: its money goes back through the channel (`collection::refund_via_channel`).
pub async fn refund(desk: &FeeDesk, req: &RefundRequest) -> Result<RefundResult> {
    refund_by(desk, req, RefundRoute::ByHand).await
}

/// Records a refund the way it went back.
pub(crate) async fn refund_by(
    desk: &FeeDesk,
    req: &RefundRequest,
    route: RefundRoute,
) -> Result<RefundResult> {
    let reason = normalize_prose(&req.reason);
    if reason.is_empty() {
        return Err(Error::Validation(
            "a refund needs a reason (--reason)".into(),
        ));
    }
    if req.amount.is_negative() || req.amount == Money::ZERO {
        return Err(Error::Validation("a refund must be above zero".into()));
    }
    let mut tx = desk.db().write().await?;
    let mut keys = Keys::load(&mut tx, "refund", [req.key.as_str()]).await?;
    let claim = match keys.check(&req.key, req)? {
        Ok(first) => return Ok(first),
        Err(claim) => claim,
    };
    let payment: Option<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT bill_id, account_id, amount_fen, refunded_fen FROM payments WHERE id = ?",
    )
    .bind(req.payment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (bill_id, account_id, paid, already) =
        payment.ok_or_else(|| Error::NotFound(format!("no payment {}", req.payment_id)))?;
    let amount = req.amount.fen();
    let refundable = paid - already;
    if amount > refundable {
        return Err(Error::Validation(format!(
            "refused: {} is more than the {} left to refund on payment {} (paid {}, refunded {})",
            req.amount,
            Money::from_fen(refundable)?,
            req.payment_id,
            Money::from_fen(paid)?,
            Money::from_fen(already)?
        )));
    }
    let bill = bill_state(&mut tx, bill_id).await?;
    let account = accounts_named(&mut tx, &account_id.to_string())
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(format!("payment {} without account", req.payment_id)))?;
    if route == RefundRoute::ByHand && !account.channel.is_offline() {
        return Err(Error::Validation(format!(
            "refused: payment {} came in through the {} account '{}'; the money goes back only \
             through the channel (refund it through the channel: `feedesk refund --via-channel`), \
             which records the refund once the channel has paid it",
            req.payment_id,
            account.channel.as_str(),
            account.name
        )));
    }
    if route == RefundRoute::Channel && account.channel.is_offline() {
        return Err(Error::Internal(format!(
            "a channel confirmed a refund of payment {}, which went into '{}', not a channel account",
            req.payment_id, account.name
        )));
    }
    let now = desk.now_text();
    let refund_id: i64 = sqlx::query_scalar(
        "INSERT INTO refunds (payment_id, amount_fen, reason, refunded_at, actor) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(req.payment_id)
    .bind(amount)
    .bind(&reason)
    .bind(&now)
    .bind(desk.actor())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE payments SET refunded_fen = refunded_fen + ? WHERE id = ?")
        .bind(amount)
        .bind(req.payment_id)
        .execute(&mut *tx)
        .await?;
    // The payment's receipt no longer tells what was kept: 红冲 it, and for a partial refund
    // reissue one for what remains, in this transaction.
    let receipts =
        crate::receipts::issue::after_refund(&mut tx, &now, desk.actor(), req.payment_id, &reason)
            .await?;
    let refunded = bill.refunded_fen + amount;
    let closes = refunded == bill.paid_fen;
    let status = if closes {
        "refunded"
    } else {
        bill.status.as_str()
    };
    sqlx::query("UPDATE bills SET refunded_fen = ?, status = ?, closed_at = coalesce(?, closed_at) WHERE id = ?")
        .bind(refunded)
        .bind(status)
        .bind(closes.then_some(&now))
        .bind(bill.id)
        .execute(&mut *tx)
        .await?;
    let mut journal = Journal::begin(&mut tx).await?;
    for posting in money_postings(
        "refund",
        &bill,
        &account,
        Some(req.payment_id),
        Some(refund_id),
        format!("{} · {} · {reason}", bill.fee, bill.member_no),
        LedgerCode::Refunds,
        amount,
    ) {
        journal.post(&mut tx, posting).await?;
    }
    let unpaid = bill.due_fen - bill.paid_fen;
    if closes && unpaid > 0 {
        journal
            .post(
                &mut tx,
                Posting {
                    unit_id: bill.unit_id,
                    kind: "bill.close",
                    bill_id: Some(bill.id),
                    payment_id: None,
                    refund_id: Some(refund_id),
                    memo: format!(
                        "{} · {} · unpaid rest cancelled on refund",
                        bill.fee, bill.member_no
                    ),
                    lines: vec![
                        Line::debit(fee_code(&bill), unpaid),
                        Line::credit(LedgerCode::Receivable, unpaid),
                    ],
                },
            )
            .await?;
    }
    crate::fault::point("refund.before_journal");
    journal.write(&mut tx, &now).await?;
    let result = RefundResult {
        refund_id,
        payment_id: req.payment_id,
        bill_id: bill.id,
        amount: req.amount,
        status: status.to_string(),
        refundable: Money::from_fen(refundable - amount)?,
    };
    keys.complete(claim, &result)?;
    keys.write(&mut tx, &now).await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "refund.record",
            entity: "refund",
            entity_id: refund_id.to_string(),
            before: None,
            after: Some(json!({"refund": result, "reason": reason})),
        },
    )
    .await?;
    crate::fault::point("refund.before_commit");
    tx.commit().await?;
    crate::receipts::archive_after_commit(desk, receipts).await;
    // Checkpoints are ours to schedule (db/mod.rs): keep the log short through a day of
    // payments in a window that stays open.
    desk.db().checkpoint_in_background();
    Ok(result)
}
