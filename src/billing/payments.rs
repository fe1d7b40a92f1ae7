//! Payments. Offline payments (cash, bank transfer with its reference) are recorded here; channel
//! payments arrive through the same core call from the channels module. A payment goes only into
//! the plan's designated collection account; partial payment only where the plan allows it; never
//! more than is owed. Each call carries an idempotency key, so a retry never charges twice.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqliteConnection;

use super::accounts::{CollectionAccount, accounts_named, no_account};
use super::idempotency;
use super::rule::AmountRule;
use crate::audit::{self, Entry};
use crate::ledger::{Journal, LedgerCode, Line, Posting};
use crate::money::Money;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// Money received against a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PaymentRequest {
    pub bill_id: i64,
    pub amount: Money,
    /// The collection account: its id or name.
    pub account: String,
    /// A bank transfer's reference (required for bank accounts), or a receipt number for cash.
    pub reference: Option<String>,
    /// The idempotency key.
    pub key: String,
}

/// A recorded payment and the bill's status right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PaymentResult {
    pub payment_id: i64,
    pub bill_id: i64,
    pub amount: Money,
    /// The bill's status after the payment.
    pub status: String,
    pub amount_paid: Money,
    pub outstanding: Money,
}

/// A bill with what the money rules need from its plan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct BillState {
    pub id: i64,
    pub unit_id: i64,
    pub member_no: String,
    pub status: String,
    pub gross_fen: i64,
    pub discount_fen: i64,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub fee_item_id: i64,
    pub fee: String,
    pub account_id: i64,
    pub account: String,
    pub allow_partial: bool,
    pub rule: String,
}

pub(crate) async fn bill_state(conn: &mut SqliteConnection, bill_id: i64) -> Result<BillState> {
    sqlx::query_as(
        "SELECT b.id, b.unit_id, m.member_no, b.status, b.gross_fen, b.discount_fen, b.due_fen, b.paid_fen,
                b.refunded_fen, p.fee_item_id, f.name AS fee, p.account_id, a.name AS account,
                p.allow_partial = 1 AS allow_partial, p.rule
         FROM bills b
         JOIN members m ON m.id = b.member_id
         JOIN fee_plans p ON p.id = b.plan_id
         JOIN fee_items f ON f.id = p.fee_item_id
         JOIN collection_accounts a ON a.id = p.account_id
         WHERE b.id = ?",
    )
    .bind(bill_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no bill {bill_id}; `feedesk bill list` shows them")))
}

pub(crate) fn fee_code(bill: &BillState) -> LedgerCode {
    LedgerCode::FeeIncome {
        fee_item_id: bill.fee_item_id,
        name: bill.fee.clone(),
    }
}

pub(crate) fn money_code(account: &CollectionAccount) -> LedgerCode {
    LedgerCode::Money {
        account_id: account.id,
        channel: account.channel,
        name: account.name.clone(),
    }
}

/// Records one offline payment.
pub async fn record_payment(desk: &FeeDesk, req: &PaymentRequest) -> Result<PaymentResult> {
    let mut results = record_payments(desk, std::slice::from_ref(req)).await?;
    Ok(results.remove(0))
}

/// Records offline payments in one transaction: all are recorded or, if any is refused, none
/// (the error names the bill). Used for a day's cash sheet or a bank statement.
pub async fn record_payments(
    desk: &FeeDesk,
    reqs: &[PaymentRequest],
) -> Result<Vec<PaymentResult>> {
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    let mut journal = Journal::begin(&mut tx).await?;
    let mut results = Vec::with_capacity(reqs.len());
    let mut fresh = vec![];
    for req in reqs {
        let claim = match idempotency::check(&mut tx, &req.key, "payment", req).await? {
            Ok(first) => {
                results.push(first);
                continue;
            }
            Err(claim) => claim,
        };
        let result = apply_payment(desk, &mut tx, &mut journal, req, &now)
            .await
            .map_err(|e| in_batch(e, reqs.len(), req.bill_id))?;
        idempotency::complete(&mut tx, claim, &result, &now).await?;
        fresh.push(result.clone());
        results.push(result);
    }
    crate::fault::point("payment.before_journal");
    journal.write(&mut tx, &now).await?;
    if !fresh.is_empty() {
        let total = fresh
            .iter()
            .try_fold(Money::ZERO, |a, r| a.checked_add(r.amount))?;
        let (action, entity_id, after) = if fresh.len() == 1 {
            ("payment.record", fresh[0].payment_id.to_string(), json!({"payment": fresh[0], "request": reqs[0]}))
        } else {
            (
                "payment.record_batch",
                format!("{}-{}", fresh[0].payment_id, fresh[fresh.len() - 1].payment_id),
                json!({"payments": fresh.len(), "total": total}),
            )
        };
        audit::append(
            &mut tx,
            &now,
            Entry {
                actor: desk.actor(),
                action,
                entity: "payment",
                entity_id,
                before: None,
                after: Some(after),
            },
        )
        .await?;
    }
    crate::fault::point("payment.before_commit");
    tx.commit().await?;
    Ok(results)
}

fn in_batch(err: Error, batch: usize, bill_id: i64) -> Error {
    if batch == 1 {
        return err;
    }
    let prefix = format!("bill {bill_id}: ");
    let msg = format!("{prefix}{err}; nothing in this batch was recorded");
    match err {
        Error::Validation(_) => Error::Validation(msg),
        Error::NotFound(_) => Error::NotFound(msg),
        Error::Conflict(_) => Error::Conflict(msg),
        other => other,
    }
}

/// The designated account of `bill`, if `text` names it; a refusal naming it otherwise.
async fn designated(
    conn: &mut SqliteConnection,
    bill: &BillState,
    text: &str,
) -> Result<CollectionAccount> {
    let named = accounts_named(conn, text).await?;
    if named.is_empty() {
        return Err(no_account(text));
    }
    match named.into_iter().find(|a| a.id == bill.account_id) {
        Some(a) => Ok(a),
        None => Err(Error::Validation(format!(
            "refused: bill {} ({}) is collected only into its plan's designated account '{}' (id {}); \
             '{}' is not it",
            bill.id,
            bill.fee,
            bill.account,
            bill.account_id,
            normalize(text)
        ))),
    }
}

async fn apply_payment(
    desk: &FeeDesk,
    conn: &mut SqliteConnection,
    journal: &mut Journal,
    req: &PaymentRequest,
    now: &str,
) -> Result<PaymentResult> {
    if req.amount.is_negative() || req.amount == Money::ZERO {
        return Err(Error::Validation("a payment must be above zero".into()));
    }
    let bill = bill_state(conn, req.bill_id).await?;
    let account = designated(conn, &bill, &req.account).await?;
    if !account.channel.is_offline() {
        return Err(Error::Validation(format!(
            "'{}' is a {} account: its payments arrive through the channel, not by hand",
            account.name,
            account.channel.as_str()
        )));
    }
    let reference = req.reference.as_deref().map(normalize).filter(|r| !r.is_empty());
    if account.channel == super::Channel::OfflineBank && reference.is_none() {
        return Err(Error::Validation(
            "a bank transfer needs its reference (--reference) so it can be reconciled".into(),
        ));
    }
    match bill.status.as_str() {
        "voided" => return Err(Error::Validation(format!("refused: bill {} is voided; nothing is owed", bill.id))),
        "refunded" => return Err(Error::Validation(format!("refused: bill {} was refunded and is closed", bill.id))),
        _ => {}
    }
    let amount = req.amount.fen();
    let rule: AmountRule = bill
        .rule
        .parse()
        .map_err(|_| Error::Internal(format!("bill {}: unreadable plan rule", bill.id)))?;
    let mut due = bill.due_fen;
    if let Some((min, max)) = rule.declared_range() {
        if bill.paid_fen > 0 {
            return Err(Error::Validation(format!(
                "refused: bill {} is a self-declared amount and was already paid",
                bill.id
            )));
        }
        if amount < min.fen() || amount > max.fen() {
            return Err(Error::Validation(format!(
                "refused: a self-declared amount for bill {} must be between {min} and {max}",
                bill.id
            )));
        }
        if amount > due {
            // The payer declared more than the minimum the bill was issued at.
            let more = amount - due;
            sqlx::query("UPDATE bills SET gross_fen = gross_fen + ?1, due_fen = due_fen + ?1 WHERE id = ?2")
                .bind(more)
                .bind(bill.id)
                .execute(&mut *conn)
                .await?;
            journal
                .post(
                    conn,
                    Posting {
                        unit_id: bill.unit_id,
                        kind: "bill.declare",
                        bill_id: Some(bill.id),
                        payment_id: None,
                        refund_id: None,
                        memo: format!("{} · {} · declared {}", bill.fee, bill.member_no, req.amount),
                        lines: vec![
                            Line::debit(LedgerCode::Receivable, more),
                            Line::credit(fee_code(&bill), more),
                        ],
                    },
                )
                .await?;
            due = amount;
        }
    }
    let outstanding = due - bill.paid_fen;
    if outstanding == 0 {
        return Err(Error::Validation(format!("refused: bill {} is already paid in full", bill.id)));
    }
    if amount > outstanding {
        return Err(Error::Validation(format!(
            "refused: {} is more than the {} still owed on bill {}; overpayment is not accepted",
            req.amount,
            Money::from_fen(outstanding)?,
            bill.id
        )));
    }
    if amount < outstanding && !bill.allow_partial {
        return Err(Error::Validation(format!(
            "refused: bill {} must be paid in full ({}); its plan does not allow partial payment",
            bill.id,
            Money::from_fen(outstanding)?
        )));
    }
    let paid = bill.paid_fen + amount;
    let status = if paid == due { "paid" } else { "partial" };
    let payment_id: i64 = sqlx::query_scalar(
        "INSERT INTO payments (bill_id, account_id, amount_fen, reference, received_at, actor)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(bill.id)
    .bind(account.id)
    .bind(amount)
    .bind(&reference)
    .bind(now)
    .bind(desk.actor())
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE bills SET paid_fen = ?, status = ?, closed_at = ? WHERE id = ?")
        .bind(paid)
        .bind(status)
        .bind((status == "paid").then_some(now))
        .bind(bill.id)
        .execute(&mut *conn)
        .await?;
    journal
        .post(
            conn,
            Posting {
                unit_id: bill.unit_id,
                kind: "payment",
                bill_id: Some(bill.id),
                payment_id: Some(payment_id),
                refund_id: None,
                memo: format!("{} · {} · {}", bill.fee, bill.member_no, account.name),
                lines: vec![
                    Line::debit(money_code(&account), amount),
                    Line::credit(LedgerCode::Receivable, amount),
                ],
            },
        )
        .await?;
    Ok(PaymentResult {
        payment_id,
        bill_id: bill.id,
        amount: req.amount,
        status: status.into(),
        amount_paid: Money::from_fen(paid)?,
        outstanding: Money::from_fen(due - paid)?,
    })
}
