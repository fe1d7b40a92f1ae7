//! The `channel_orders` table: what FeeDesk asked a channel to collect, and what became of it.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::money::Money;
use crate::{Error, FeeDesk, Result};

/// An order as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChannelOrder {
    pub id: i64,
    pub bill_id: i64,
    pub account_id: i64,
    pub account: String,
    pub channel: String,
    pub order_no: String,
    pub amount: Money,
    /// open, paid, closed, failed or unapplied.
    pub status: String,
    pub code_url: Option<String>,
    pub transaction_id: Option<String>,
    pub payment_id: Option<i64>,
    pub note: Option<String>,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub id: i64,
    pub bill_id: i64,
    pub account_id: i64,
    pub account: String,
    pub channel: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub status: String,
    pub code_url: Option<String>,
    pub transaction_id: Option<String>,
    pub payment_id: Option<i64>,
    pub note: Option<String>,
    pub created_at: String,
    pub expires_at: String,
}

impl TryFrom<OrderRow> for ChannelOrder {
    type Error = Error;
    fn try_from(r: OrderRow) -> Result<ChannelOrder> {
        Ok(ChannelOrder {
            id: r.id,
            bill_id: r.bill_id,
            account_id: r.account_id,
            account: r.account,
            channel: r.channel,
            order_no: r.out_trade_no,
            amount: Money::from_fen(r.amount_fen)?,
            status: r.status,
            code_url: r.code_url,
            transaction_id: r.transaction_id,
            payment_id: r.payment_id,
            note: r.note,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

pub(crate) const SELECT: &str =
    "SELECT o.id, o.bill_id, o.account_id, a.name AS account, a.channel,
        o.out_trade_no, o.amount_fen, o.status, o.code_url, o.transaction_id, o.payment_id,
        o.note, o.created_at, o.expires_at
     FROM channel_orders o JOIN collection_accounts a ON a.id = o.account_id";

/// Orders, newest first: all of them, or one bill's.
pub async fn list_orders(desk: &FeeDesk, bill_id: Option<i64>) -> Result<Vec<ChannelOrder>> {
    let rows: Vec<OrderRow> = match bill_id {
        Some(bill) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE o.bill_id = ? ORDER BY o.id DESC"
            )))
            .bind(bill)
            .fetch_all(desk.db().pool())
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY o.id DESC")))
                .fetch_all(desk.db().pool())
                .await?
        }
    };
    rows.into_iter().map(ChannelOrder::try_from).collect()
}

pub(crate) async fn open_orders(desk: &FeeDesk) -> Result<Vec<OrderRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE o.status = 'open' ORDER BY o.id"
    )))
    .fetch_all(desk.db().pool())
    .await?)
}

pub(crate) async fn open_order_of(
    conn: &mut SqliteConnection,
    bill_id: i64,
) -> Result<Option<OrderRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE o.bill_id = ? AND o.status = 'open'"
    )))
    .bind(bill_id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub(crate) async fn order_by_no(desk: &FeeDesk, out_trade_no: &str) -> Result<OrderRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE o.out_trade_no = ?"
    )))
    .bind(out_trade_no)
    .fetch_optional(desk.db().pool())
    .await?
    .ok_or_else(|| Error::NotFound(format!("no channel order {out_trade_no}")))
}

/// The order a channel statement names, when it is one of FeeDesk's: its id, its bill and
/// its status. For reconciliation, which may read orders only through here.
pub async fn statement_order(
    desk: &FeeDesk,
    out_trade_no: &str,
) -> Result<Option<(i64, i64, String)>> {
    Ok(
        sqlx::query_as("SELECT id, bill_id, status FROM channel_orders WHERE out_trade_no = ?")
            .bind(out_trade_no)
            .fetch_optional(desk.db().pool())
            .await?,
    )
}

/// Marks order `id` paid by a payment recorded elsewhere (reconciliation recording a payment
/// the channel confirmed), once: an order already paid is left as it is.
pub async fn mark_paid_by_statement(
    desk: &FeeDesk,
    id: i64,
    transaction_id: &str,
    payment_id: i64,
) -> Result<()> {
    let mut tx = desk.db().write().await?;
    sqlx::query(
        "UPDATE channel_orders SET status = 'paid', transaction_id = ?, payment_id = ?,
             note = 'recorded by reconciliation', updated_at = ? WHERE id = ? AND status <> 'paid'",
    )
    .bind(transaction_id)
    .bind(payment_id)
    .bind(desk.now_text())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets an order's outcome (only while it is still open: a settled order never changes).
pub(crate) async fn finish(
    desk: &FeeDesk,
    id: i64,
    status: &str,
    transaction_id: Option<&str>,
    payment_id: Option<i64>,
    note: Option<&str>,
) -> Result<()> {
    let mut tx = desk.db().write().await?;
    sqlx::query(
        "UPDATE channel_orders SET status = ?, transaction_id = coalesce(?, transaction_id),
                payment_id = coalesce(?, payment_id), note = coalesce(?, note), updated_at = ?
         WHERE id = ? AND status = 'open'",
    )
    .bind(status)
    .bind(transaction_id)
    .bind(payment_id)
    .bind(note)
    .bind(desk.now_text())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
