//! Discrepancy items: listing them, and resolving one — record the missing payment (a
//! channel-only line), mark it explained, or open a follow-up — each an audited action. A
//! resolved item keeps its resolution through every later run.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::matching::MatchClass;
use crate::audit::{self, Entry};
use crate::billing::{self, PaymentRequest};
use crate::money::Money;
use crate::secrets::SecretStore;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A discrepancy as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReconItem {
    pub id: i64,
    pub account: String,
    pub day: String,
    pub class: String,
    pub kind: String,
    pub out_trade_no: Option<String>,
    pub transaction_id: Option<String>,
    pub out_refund_no: Option<String>,
    #[sqlx(skip)]
    pub channel_amount: Option<Money>,
    #[sqlx(skip)]
    pub our_amount: Option<Money>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub channel_fen: Option<i64>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub ours_fen: Option<i64>,
    pub payment_id: Option<i64>,
    pub refund_id: Option<i64>,
    pub statement_id: Option<i64>,
    pub line_no: Option<i64>,
    pub reason: String,
    /// What a person should do about it.
    #[sqlx(skip)]
    pub suggestion: String,
    /// open, resolved, follow_up or cleared.
    pub status: String,
    pub resolution: Option<String>,
    pub note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
}

/// Which items to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemFilter {
    pub account: Option<String>,
    /// matched is never an item; amount_mismatch, ours_only, channel_only, refund_mismatch.
    pub class: Option<String>,
    /// open, resolved, follow_up, cleared; `None`: all.
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

const SELECT: &str = "SELECT i.id, a.name AS account, i.day, i.class, i.kind, i.out_trade_no,
        i.transaction_id, i.out_refund_no, i.channel_fen, i.ours_fen, i.payment_id, i.refund_id,
        i.statement_id, i.line_no, i.reason, i.status, i.resolution, i.note, i.resolved_by,
        i.resolved_at
     FROM recon_items i JOIN collection_accounts a ON a.id = i.account_id";

/// What to do about an item of `class`.
pub fn suggestion(class: &str) -> &'static str {
    match class {
        "amount_mismatch" => {
            "compare with the payer's receipt; correct by a refund or an explained note"
        }
        "ours_only" => {
            "critical: find the money (cancelled order? wrong account?) before closing the day"
        }
        "channel_only" => {
            "record the missing payment against its bill, or refund it at the channel"
        }
        "refund_mismatch" => "run `feedesk orders sync`, then check the refund at the channel",
        _ => "",
    }
}

fn finish(mut item: ReconItem) -> Result<ReconItem> {
    item.channel_amount = item.channel_fen.map(Money::from_fen).transpose()?;
    item.our_amount = item.ours_fen.map(Money::from_fen).transpose()?;
    item.suggestion = suggestion(&item.class).into();
    Ok(item)
}

/// Items, in day order, filtered.
pub async fn list_items(desk: &FeeDesk, filter: &ItemFilter) -> Result<Vec<ReconItem>> {
    let class = match filter
        .class
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => match MatchClass::parse(c) {
            Some(MatchClass::Matched) | None => {
                return Err(Error::Validation(format!(
                    "'{c}' is not a discrepancy class; use amount_mismatch, ours_only, channel_only or refund_mismatch"
                )));
            }
            Some(class) => Some(class.as_str()),
        },
    };
    let status = filter
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(s) = status
        && !["open", "resolved", "follow_up", "cleared"].contains(&s)
    {
        return Err(Error::Validation(format!(
            "'{s}' is not a status; use open, resolved, follow_up or cleared"
        )));
    }
    let account_id = match filter.account.as_deref().filter(|a| !a.trim().is_empty()) {
        Some(a) => Some(billing::find_account(desk, a).await?.id),
        None => None,
    };
    let rows: Vec<ReconItem> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (?1 IS NULL OR i.class = ?1) AND (?2 IS NULL OR i.status = ?2)
           AND (?3 IS NULL OR i.account_id = ?3) AND (?4 IS NULL OR i.day >= ?4)
           AND (?5 IS NULL OR i.day <= ?5)
         ORDER BY i.day, i.id"
    )))
    .bind(class)
    .bind(status)
    .bind(account_id)
    .bind(filter.from.as_deref())
    .bind(filter.to.as_deref())
    .fetch_all(desk.db().pool())
    .await?;
    rows.into_iter().map(finish).collect()
}

/// One item.
pub async fn get_item(desk: &FeeDesk, id: i64) -> Result<ReconItem> {
    let row: Option<ReconItem> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE i.id = ?")))
            .bind(id)
            .fetch_optional(desk.db().pool())
            .await?;
    finish(row.ok_or_else(|| {
        Error::NotFound(format!(
            "no reconciliation item {id}; `feedesk reconcile list` shows them"
        ))
    })?)
}

/// What to do with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// Record the payment the channel received and we did not (channel-only items).
    Record,
    /// Mark it explained; the note says why.
    Explain,
    /// Open a follow-up: someone is on it; it stays listed until resolved.
    FollowUp,
}

impl Resolution {
    pub fn parse(text: &str) -> Result<Resolution> {
        match normalize(text)
            .to_ascii_lowercase()
            .replace('_', "-")
            .as_str()
        {
            "record" | "record-payment" => Ok(Resolution::Record),
            "explain" | "explained" => Ok(Resolution::Explain),
            "follow-up" | "followup" => Ok(Resolution::FollowUp),
            other => Err(Error::Validation(format!(
                "'{other}' is not an action; use record, explain or follow-up"
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Resolution::Record => "record",
            Resolution::Explain => "explain",
            Resolution::FollowUp => "follow_up",
        }
    }
}

/// A resolution to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResolveRequest {
    pub item_id: i64,
    pub action: Resolution,
    pub note: String,
    /// For `record` when the channel's order number is not one of ours: the bill it pays.
    pub bill_id: Option<i64>,
}

/// Resolves an item (see [`Resolution`]); returns it as it now stands.
/// `record` asks the channel first (through `secrets`) and books only what it confirms.
pub async fn resolve_item(
    desk: &FeeDesk,
    secrets: &SecretStore,
    req: &ResolveRequest,
) -> Result<ReconItem> {
    let note = normalize(&req.note);
    if note.is_empty() {
        return Err(Error::Validation(
            "a resolution needs a note (--note) saying what was found or done".into(),
        ));
    }
    let before = get_item(desk, req.item_id).await?;
    if matches!(before.status.as_str(), "resolved" | "cleared") {
        return Err(Error::Conflict(format!(
            "item {} is already {} ({}); nothing to do",
            before.id,
            before.status,
            before
                .resolution
                .as_deref()
                .unwrap_or("matched by a later run")
        )));
    }
    let mut recorded = None;
    if req.action == Resolution::Record {
        recorded = Some(record_missing(desk, secrets, &before, req.bill_id).await?);
    }
    let status = if req.action == Resolution::FollowUp {
        "follow_up"
    } else {
        "resolved"
    };
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    sqlx::query(
        "UPDATE recon_items SET status = ?, resolution = ?, note = ?, resolved_by = ?, resolved_at = ?,
             payment_id = coalesce(?, payment_id), updated_at = ?
         WHERE id = ?",
    )
    .bind(status)
    .bind(req.action.as_str())
    .bind(&note)
    .bind(desk.actor())
    .bind(&now)
    .bind(recorded)
    .bind(&now)
    .bind(before.id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "reconcile.resolve",
            entity: "recon_item",
            entity_id: before.id.to_string(),
            before: Some(json!(before)),
            after: Some(json!({"status": status, "resolution": req.action, "note": note, "payment_id": recorded})),
        },
    )
    .await?;
    tx.commit().await?;
    get_item(desk, before.id).await
}

/// Records the payment a channel-only line shows, through the billing core's rules and books:
/// into the bill of our order with that number (settling the order), or into `bill_id`.
async fn record_missing(
    desk: &FeeDesk,
    secrets: &SecretStore,
    item: &ReconItem,
    bill_id: Option<i64>,
) -> Result<i64> {
    if item.class != "channel_only" || item.kind != "payment" {
        return Err(Error::Validation(format!(
            "only a channel-only payment can be recorded; item {} is {} — explain it or open a follow-up",
            item.id, item.class
        )));
    }
    let (Some(fen), Some(transaction_id)) = (item.channel_fen, item.transaction_id.clone()) else {
        return Err(Error::Validation(format!(
            "item {} lacks the channel's amount or transaction id",
            item.id
        )));
    };
    let order: Option<(i64, i64, String)> = match &item.out_trade_no {
        Some(no) => crate::collection::statement_order(desk, no).await?,
        None => None,
    };
    let (bill, key) = match (&order, bill_id) {
        (Some((_, bill, _)), _) => (
            *bill,
            format!("order:{}", item.out_trade_no.clone().unwrap_or_default()),
        ),
        (None, Some(bill)) => (bill, format!("recon:{}:{}", item.account, transaction_id)),
        (None, None) => {
            return Err(Error::Validation(format!(
                "order {} is not one of FeeDesk's; say which bill it pays with --bill",
                item.out_trade_no.as_deref().unwrap_or("-")
            )));
        }
    };
    // A statement is a file: before it books money, the channel itself must say (signed) that
    // this order was paid, as this transaction, for this amount.
    let Some(out_trade_no) = item.out_trade_no.as_deref() else {
        return Err(Error::Validation(format!(
            "item {} has no order number to ask the channel about; it cannot be recorded",
            item.id
        )));
    };
    crate::collection::confirm_paid(
        desk,
        secrets,
        &item.account,
        out_trade_no,
        &transaction_id,
        fen,
    )
    .await?;
    // The statement's day is the day the money was paid: it prices an early-bird tier.
    let price_day = chrono::NaiveDate::parse_from_str(&item.day, "%Y-%m-%d")
        .unwrap_or_else(|_| crate::clock::local_date(desk.clock().now()));
    let paid = billing::record_channel_payment(
        desk,
        &PaymentRequest {
            bill_id: bill,
            amount: Money::from_fen(fen)?,
            account: item.account.clone(),
            reference: Some(transaction_id.clone()),
            key,
        },
        price_day,
    )
    .await?;
    if let Some((order_id, _, status)) = order
        && status != "paid"
    {
        crate::collection::mark_paid_by_statement(desk, order_id, &transaction_id, paid.payment_id)
            .await?;
    }
    Ok(paid.payment_id)
}
