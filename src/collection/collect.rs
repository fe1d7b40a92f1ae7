//! Opening a QR-code order for a bill in its plan's designated channel account.

use chrono::Duration;
use serde::Serialize;

use super::ORDER_MINUTES;
use super::orders::{OrderRow, open_order_of, order_by_no};
use super::sync::{Outcome, check_order};
use crate::billing::{self, AmountRule, Channel};
use crate::channels::accounts::{ChannelClient, client};
use crate::channels::alipay::PrecreateOrder;
use crate::channels::wechatpay::NativeOrder;
use crate::money::Money;
use crate::secrets::SecretStore;
use crate::{Error, FeeDesk, Result};

/// An order for the payer to scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CollectOrder {
    pub order_no: String,
    pub bill_id: i64,
    pub account: String,
    pub account_id: i64,
    pub channel: String,
    pub amount: Money,
    /// WeChat Pay's QR content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_url: Option<String>,
    /// Alipay's QR content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    /// What to draw as the QR code, whichever the channel.
    pub qr_text: String,
    pub expires_at: String,
    /// Whether this is the bill's open order from before (a retry), not a new one.
    pub reused: bool,
}

fn shown(order: &OrderRow, reused: bool) -> Result<CollectOrder> {
    let text = order.code_url.clone().unwrap_or_default();
    let wechat = order.channel == Channel::Wechat.as_str();
    Ok(CollectOrder {
        order_no: order.out_trade_no.clone(),
        bill_id: order.bill_id,
        account: order.account.clone(),
        account_id: order.account_id,
        channel: order.channel.clone(),
        amount: Money::from_fen(order.amount_fen)?,
        code_url: wechat.then(|| text.clone()),
        qr_code: (!wechat).then(|| text.clone()),
        qr_text: text,
        expires_at: order.expires_at.clone(),
        reused,
    })
}

/// Opens (or, on retry, returns) the QR-code order for what `bill_id` still owes, in the
/// plan's designated channel account. A previous open order for a different amount, or one
/// that expired, is closed first (and recorded if it turns out to be paid).
pub async fn collect(desk: &FeeDesk, secrets: &SecretStore, bill_id: i64) -> Result<CollectOrder> {
    let bill = billing::get_bill(desk, bill_id).await?.bill;
    if !matches!(bill.status.as_str(), "open" | "partial") {
        return Err(Error::Validation(format!(
            "bill {bill_id} is {}; there is nothing to collect",
            bill.status
        )));
    }
    let plan = billing::get_plan(desk, bill.plan).await?;
    if plan.rule.parse::<AmountRule>()?.declared_range().is_some() {
        return Err(Error::Validation(format!(
            "bill {bill_id} is a self-declared amount: the payer chooses it, so it is collected at the counter"
        )));
    }
    let channel = Channel::parse(&plan.channel)?;
    if channel.is_offline() {
        return Err(Error::Validation(format!(
            "bill {bill_id} is collected into '{}' ({}); record the payment by hand (`feedesk pay`)",
            plan.account, plan.channel
        )));
    }
    // An early-bird bill costs what it costs today.
    let amount =
        billing::payable_on(desk, bill_id, crate::clock::local_date(desk.clock().now())).await?;

    // A retry returns the open order; a stale one is settled or closed first.
    let existing = {
        let mut conn = desk.db().pool().acquire().await?;
        open_order_of(&mut conn, bill_id).await?
    };
    let what = format!("{} · {} {}", bill.fee, bill.member_no, bill.member_name);
    if let Some(order) = existing {
        let fresh = order.expires_at.as_str() > desk.now_text().as_str();
        if fresh && order.amount_fen == amount {
            if order.code_url.is_some() {
                return shown(&order, true);
            }
            // The channel's answer to opening it never arrived (a crash or a kill before it
            // came, a lost or forged answer): ask again under the same number, which both
            // channels answer with the same code. If they will not (paid, closed meanwhile),
            // it is settled or closed below like a stale order.
            let (_, client) = client(desk, secrets, &order.account_id.to_string()).await?;
            let expires = chrono::DateTime::parse_from_rfc3339(&order.expires_at)
                .map_err(|e| {
                    Error::Internal(format!("order {}: bad expiry: {e}", order.out_trade_no))
                })?
                .with_timezone(&chrono::Utc);
            if let Ok(qr) =
                open_at_channel(&client, &order.out_trade_no, amount, expires, &what).await
            {
                store_code(desk, &order.out_trade_no, &qr).await?;
                return shown(&order_by_no(desk, &order.out_trade_no).await?, true);
            }
        }
        match check_order(desk, secrets, &order, true).await? {
            Outcome::Paid(_) | Outcome::Unapplied => {
                return Err(Error::Conflict(format!(
                    "bill {bill_id}'s earlier order {} was paid meanwhile; it is recorded — check the bill",
                    order.out_trade_no
                )));
            }
            // A second code while the first can still be paid invites paying twice.
            Outcome::StillOpen => {
                return Err(Error::Conflict(format!(
                    "bill {bill_id}'s earlier QR code (order {}) could not be closed at the channel \
                     and can still be paid until {}; show that code again, or collect after it expires",
                    order.out_trade_no, order.expires_at
                )));
            }
            Outcome::Closed => {}
        }
    }

    // Write the order down before the channel hears of it.
    let (_, client) = client(desk, secrets, &plan.account_id.to_string()).await?;
    let now = desk.clock().now();
    let expires = now + Duration::minutes(ORDER_MINUTES);
    let stored =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let out_trade_no = {
        let mut tx = desk.db().write().await?;
        let prefix: String =
            sqlx::query_scalar("SELECT order_prefix FROM book_identity WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let attempt: i64 =
            sqlx::query_scalar("SELECT count(*) + 1 FROM channel_orders WHERE bill_id = ?")
                .bind(bill_id)
                .fetch_one(&mut *tx)
                .await?;
        // The book's random prefix: no other book (another data folder, a restored backup)
        // ever asks a channel about this number.
        let no = format!("FD{prefix}{bill_id:010}A{attempt:03}");
        // Another collect for this bill (a second window, a double click) got here first.
        if let Some(other) = open_order_of(&mut tx, bill_id).await? {
            return Err(Error::Conflict(format!(
                "bill {bill_id}'s order {} is being opened right now; try again in a moment",
                other.out_trade_no
            )));
        }
        sqlx::query(
            "INSERT INTO channel_orders (bill_id, account_id, out_trade_no, amount_fen, status, created_at, expires_at, updated_at)
             VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
        )
        .bind(bill_id)
        .bind(plan.account_id)
        .bind(&no)
        .bind(amount)
        .bind(stored(now))
        .bind(stored(expires))
        .bind(stored(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        no
    };
    crate::fault::point("collect.after_order_written");
    let qr = open_at_channel(&client, &out_trade_no, amount, expires, &what).await?;
    store_code(desk, &out_trade_no, &qr).await?;
    shown(&order_by_no(desk, &out_trade_no).await?, false)
}

/// Asks the channel to open order `out_trade_no` (or, asked again, for its code); returns what
/// the payer scans.
async fn open_at_channel(
    client: &ChannelClient,
    out_trade_no: &str,
    amount: i64,
    expires: chrono::DateTime<chrono::Utc>,
    what: &str,
) -> Result<String> {
    match client {
        ChannelClient::Wechat(c) => {
            c.native_order(&NativeOrder {
                out_trade_no: out_trade_no.to_string(),
                description: what.chars().take(120).collect(),
                total_fen: amount,
                time_expire: Some(
                    expires
                        .with_timezone(&crate::clock::LOCAL_OFFSET)
                        .format("%Y-%m-%dT%H:%M:%S%:z")
                        .to_string(),
                ),
            })
            .await
        }
        ChannelClient::Alipay(c) => {
            c.precreate(&PrecreateOrder {
                out_trade_no: out_trade_no.to_string(),
                subject: what.chars().take(120).collect(),
                total_fen: amount,
                timeout_express: Some(format!("{ORDER_MINUTES}m")),
                // For a precreated code, timeout_express starts at the scan: the absolute end
                // keeps a late scan from paying after FeeDesk has given the order up.
                time_expire: Some(
                    expires
                        .with_timezone(&crate::clock::LOCAL_OFFSET)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                ),
            })
            .await
        }
    }
}

async fn store_code(desk: &FeeDesk, out_trade_no: &str, qr: &str) -> Result<()> {
    let mut tx = desk.db().write().await?;
    sqlx::query("UPDATE channel_orders SET code_url = ?, updated_at = ? WHERE out_trade_no = ?")
        .bind(qr)
        .bind(desk.now_text())
        .bind(out_trade_no)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
