//! Settling orders: ask the channel about an order, record it if paid (once), close it if it
//! should be closed. [`sync_orders`] does this for every open order, and finishes refunds still
//! being processed; the desktop runs it at start-up and while a QR code is on screen, the CLI as
//! `feedesk orders sync` (for cron).

use serde::Serialize;

use super::orders::{OrderRow, finish, open_orders};
use super::refund::finish_pending_refunds;
use crate::billing::{self, PaymentRequest};
use crate::channels::accounts::{ChannelClient, client};
use crate::channels::alipay::{AlipayCloseOutcome, TradeStatus};
use crate::channels::wechatpay::{CloseOutcome, TradeState};
use crate::money::Money;
use crate::secrets::SecretStore;
use crate::{Error, FeeDesk, Result};

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    pub checked: u64,
    pub paid: u64,
    pub closed: u64,
    pub still_open: u64,
    /// Paid at the channel, but the bill could not take it: a person must refund it.
    pub unapplied: u64,
    pub refunds_done: u64,
    pub refunds_pending: u64,
    /// One sentence per order or refund that could not be checked now (tried again next sync).
    pub problems: Vec<String>,
}

/// What became of one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Paid(i64),
    StillOpen,
    Closed,
    Unapplied,
}

/// What the channel says of an order: paid (with its transaction id), or not; or that it has
/// no such order (never received it; for Alipay also: nobody scanned it yet); or that it ended
/// unpaid and can no longer be paid (the status to give it, and why).
enum Seen {
    Paid(String),
    Unpaid,
    Unknown,
    Ended(&'static str, String),
}

async fn look(order: &OrderRow, channel: &ChannelClient) -> Result<Seen> {
    match channel {
        ChannelClient::Wechat(c) => match c.query(&order.out_trade_no).await? {
            Some(t) if t.trade_state.is_paid() => {
                t.confirm_total(order.amount_fen)?;
                let id = t.transaction_id.clone().ok_or_else(|| {
                    Error::Channel(format!(
                        "WeChat Pay reports order {} paid without a transaction id",
                        order.out_trade_no
                    ))
                })?;
                Ok(Seen::Paid(id))
            }
            // Final and unpaid: WeChat Pay asks for a new order after these.
            Some(t) if matches!(t.trade_state, TradeState::PayError | TradeState::Revoked) => {
                let why = format!(
                    "WeChat Pay reports the payment failed ({:?})",
                    t.trade_state
                );
                Ok(Seen::Ended("failed", why))
            }
            Some(t) if t.trade_state == TradeState::Closed => {
                Ok(Seen::Ended("closed", "WeChat Pay reports it closed".into()))
            }
            Some(_) => Ok(Seen::Unpaid),
            None => Ok(Seen::Unknown),
        },
        ChannelClient::Alipay(c) => match c.query(&order.out_trade_no).await? {
            Some(t) if t.status.is_paid() => {
                t.confirm_total(order.amount_fen)?;
                let id = t.trade_no.clone().ok_or_else(|| {
                    Error::Channel(format!(
                        "Alipay reports order {} paid without a trade number",
                        order.out_trade_no
                    ))
                })?;
                Ok(Seen::Paid(id))
            }
            Some(t) if matches!(t.status, TradeStatus::TradeClosed) => Ok(Seen::Ended(
                "closed",
                "Alipay reports the trade closed unpaid".into(),
            )),
            Some(_) => Ok(Seen::Unpaid),
            None => Ok(Seen::Unknown),
        },
    }
}

/// What closing an order at the channel achieved.
enum Closing {
    /// The channel confirms it closed: nobody can pay it.
    Closed,
    /// Too late: the payer has paid (or is paying).
    TooLate,
    /// The channel has no trade to close yet: Alipay creates one only when someone scans the
    /// code, and the code stays payable until its time_expire; WeChat Pay answers a close of
    /// an order it never received like any other. Nothing proves it cannot still be paid.
    NoTrade,
}

/// Closes an unpaid order at the channel, and believes it closed only when the channel says so
/// in a verified answer.
async fn close(order: &OrderRow, channel: &ChannelClient) -> Result<Closing> {
    Ok(match channel {
        ChannelClient::Wechat(c) => {
            if c.close(&order.out_trade_no).await? == CloseOutcome::AlreadyPaid {
                return Ok(Closing::TooLate);
            }
            // The 204 proves nothing about the order: ask for it.
            match c.query(&order.out_trade_no).await? {
                Some(t) if t.trade_state == TradeState::Closed => Closing::Closed,
                Some(t) if t.trade_state.is_paid() => Closing::TooLate,
                Some(t) => {
                    return Err(Error::Channel(format!(
                        "WeChat Pay took the close of order {} but still reports it {:?}; it is checked again at the next sync",
                        order.out_trade_no, t.trade_state
                    )));
                }
                None => Closing::NoTrade,
            }
        }
        ChannelClient::Alipay(c) => match c.close(&order.out_trade_no).await? {
            AlipayCloseOutcome::Closed => Closing::Closed,
            AlipayCloseOutcome::NotClosable => Closing::TooLate,
            AlipayCloseOutcome::NeverScanned => Closing::NoTrade,
        },
    })
}

/// Records a paid order as a payment (once: the key is the order number) and marks it paid;
/// if the bill cannot take it, marks it unapplied with the reason.
async fn settle(desk: &FeeDesk, order: &OrderRow, transaction_id: &str) -> Result<Outcome> {
    let req = PaymentRequest {
        bill_id: order.bill_id,
        amount: Money::from_fen(order.amount_fen)?,
        account: order.account_id.to_string(),
        reference: Some(transaction_id.to_string()),
        key: format!("order:{}", order.out_trade_no),
    };
    // The payer was offered the order's amount on the day it was opened: that day prices an
    // early-bird tier, even when the money arrives after midnight.
    let opened = chrono::DateTime::parse_from_rfc3339(&order.created_at)
        .map(|t| crate::clock::local_date(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| crate::clock::local_date(desk.clock().now()));
    match billing::record_channel_payment(desk, &req, opened).await {
        Ok(paid) => {
            crate::fault::point("collect.after_payment_before_order");
            finish(
                desk,
                order.id,
                "paid",
                Some(transaction_id),
                Some(paid.payment_id),
                None,
            )
            .await?;
            Ok(Outcome::Paid(paid.payment_id))
        }
        Err(e @ (Error::Validation(_) | Error::NotFound(_))) => {
            let note =
                format!("paid at the channel but not recorded: {e}; refund it at the channel");
            finish(
                desk,
                order.id,
                "unapplied",
                Some(transaction_id),
                None,
                Some(&note),
            )
            .await?;
            Ok(Outcome::Unapplied)
        }
        Err(e) => Err(e),
    }
}

/// Asks the channel about `order`; records it if paid; closes it when `close_unpaid` (or when
/// it has expired).
pub(crate) async fn check_order(
    desk: &FeeDesk,
    secrets: &SecretStore,
    order: &OrderRow,
    close_unpaid: bool,
) -> Result<Outcome> {
    let (_, channel) = client(desk, secrets, &order.account_id.to_string()).await?;
    let seen = look(order, &channel).await?;
    if let Seen::Paid(id) = &seen {
        return settle(desk, order, id).await;
    }
    // It can no longer be paid: settle it as such, so the bill can be collected again.
    if let Seen::Ended(status, why) = &seen {
        finish(desk, order.id, status, None, None, Some(why)).await?;
        return Ok(Outcome::Closed);
    }
    let expired = order.expires_at.as_str() <= desk.now_text().as_str();
    if !(close_unpaid || expired) {
        return Ok(Outcome::StillOpen);
    }
    // WeChat Pay never received this order (FeeDesk stopped between writing it down and asking
    // for it) and cannot close what it does not have; now that it has expired it never will
    // take it (it was asked with this time_expire), so it is closed here.
    if let (Seen::Unknown, true, ChannelClient::Wechat(_)) = (&seen, expired, &channel) {
        let note = "WeChat Pay never received this order; closed when it expired";
        finish(desk, order.id, "closed", None, None, Some(note)).await?;
        return Ok(Outcome::Closed);
    }
    match close(order, &channel).await? {
        Closing::Closed => {
            finish(desk, order.id, "closed", None, None, None).await?;
            return Ok(Outcome::Closed);
        }
        // Nobody has scanned the code yet: it stays payable until it expires (its time_expire
        // at the channel), so the order stays open here and is asked about at every sync; once
        // expired with still no trade, nobody can pay it any more.
        Closing::NoTrade if expired => {
            let note = "the channel never had a trade for it; closed when its code expired";
            finish(desk, order.id, "closed", None, None, Some(note)).await?;
            return Ok(Outcome::Closed);
        }
        Closing::NoTrade => return Ok(Outcome::StillOpen),
        Closing::TooLate => {}
    }
    // Too late to close: the payer has just paid. Record it.
    match look(order, &channel).await? {
        Seen::Paid(id) => settle(desk, order, &id).await,
        Seen::Unpaid | Seen::Unknown | Seen::Ended(..) => Err(Error::Channel(format!(
            "order {} can neither be closed nor is it paid yet; it is checked again at the next sync",
            order.out_trade_no
        ))),
    }
}

/// Asks the channel about one order now (the window polls this while a QR code is shown) and
/// returns it as it stands: paid and recorded, still open, or closed.
pub async fn check_order_now(
    desk: &FeeDesk,
    secrets: &SecretStore,
    order_no: &str,
) -> Result<super::ChannelOrder> {
    let order = super::orders::order_by_no(desk, order_no).await?;
    if order.status == "open" {
        check_order(desk, secrets, &order, false).await?;
    }
    super::orders::order_by_no(desk, order_no).await?.try_into()
}

/// Closes one open order (the cashier closed the QR dialog): recorded instead if it was paid.
pub async fn close_order(
    desk: &FeeDesk,
    secrets: &SecretStore,
    order_no: &str,
) -> Result<super::ChannelOrder> {
    let order = super::orders::order_by_no(desk, order_no).await?;
    if order.status == "open" {
        check_order(desk, secrets, &order, true).await?;
    }
    super::orders::order_by_no(desk, order_no).await?.try_into()
}

/// Asks the channel behind `account` whether order `out_trade_no` was paid, as transaction
/// `transaction_id`, for exactly `fen`: the only proof a line of an imported statement (a file
/// anyone could have edited) is allowed to book money on. Every answer is signed and checked
/// against the account's merchant (the clients refuse anything else).
pub(crate) async fn confirm_paid(
    desk: &FeeDesk,
    secrets: &SecretStore,
    account: &str,
    out_trade_no: &str,
    transaction_id: &str,
    fen: i64,
) -> Result<()> {
    let (_, channel) = client(desk, secrets, account).await?;
    let unconfirmed = |why: String| {
        Error::Conflict(format!(
            "refused: the channel does not confirm order {out_trade_no} as paid ({why}); nothing was recorded — \
             check the statement file against the channel's own"
        ))
    };
    let (paid, id, total) = match channel {
        ChannelClient::Wechat(c) => match c.query(out_trade_no).await? {
            Some(t) => (
                t.trade_state.is_paid(),
                t.transaction_id.clone(),
                t.confirm_total(fen).err(),
            ),
            None => return Err(unconfirmed("it has no such order".into())),
        },
        ChannelClient::Alipay(c) => match c.query(out_trade_no).await? {
            Some(t) => (
                t.status.is_paid(),
                t.trade_no.clone(),
                t.confirm_total(fen).err(),
            ),
            None => return Err(unconfirmed("it has no such trade".into())),
        },
    };
    if !paid {
        return Err(unconfirmed("it is not paid".into()));
    }
    if id.as_deref() != Some(transaction_id) {
        return Err(unconfirmed(format!(
            "its transaction is {}, the statement says {transaction_id}",
            id.as_deref().unwrap_or("none")
        )));
    }
    if let Some(e) = total {
        return Err(unconfirmed(e.to_string()));
    }
    Ok(())
}

/// Checks every open order and every refund still being processed.
pub async fn sync_orders(desk: &FeeDesk, secrets: &SecretStore) -> Result<SyncReport> {
    Ok(sync_all(desk, secrets).await?.0)
}

/// [`sync_orders`], and the bills whose open order could not be checked now (the channel did
/// not answer, or not believably): a reminder run holds those bills back, since the parent
/// may have paid.
pub(crate) async fn sync_all(
    desk: &FeeDesk,
    secrets: &SecretStore,
) -> Result<(SyncReport, Vec<i64>)> {
    let mut report = SyncReport::default();
    let mut unchecked = vec![];
    for order in open_orders(desk).await? {
        report.checked += 1;
        match check_order(desk, secrets, &order, false).await {
            Ok(Outcome::Paid(_)) => report.paid += 1,
            Ok(Outcome::Closed) => report.closed += 1,
            Ok(Outcome::StillOpen) => report.still_open += 1,
            Ok(Outcome::Unapplied) => report.unapplied += 1,
            Err(e) => {
                report.still_open += 1;
                unchecked.push(order.bill_id);
                report
                    .problems
                    .push(format!("order {}: {e}", order.out_trade_no));
            }
        }
    }
    let (done, pending, problems) = finish_pending_refunds(desk, secrets).await?;
    report.refunds_done = done;
    report.refunds_pending = pending;
    report.problems.extend(problems);
    Ok((report, unchecked))
}
