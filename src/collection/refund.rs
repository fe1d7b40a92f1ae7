//! Refunds through the channel: the money goes back the way it came, then the refund is recorded
//! in the books through the billing core's refund call, under the same idempotency key.
//!
//! Our refund number derives from the key, so a retry (or a crash and a retry) asks the channel
//! for the same refund, which it performs once; a refund the channel is still processing is
//! left pending and finished by [`super::sync_orders`].

use sha2::{Digest, Sha256};

use crate::billing::{self, RefundRequest, RefundResult, RefundRoute};
use crate::channels::accounts::{ChannelClient, client};
use crate::channels::alipay::AlipayRefundRequest;
use crate::channels::wechatpay::{RefundRequest as WechatRefund, RefundStatus};
use crate::secrets::SecretStore;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// How often a refund still processing is asked about before it is left to the next sync.
const POLLS: u32 = 5;

/// Where a refund stands at the channel.
enum Standing {
    Done,
    Pending,
    Failed(String),
}

struct RefundRow {
    id: i64,
    out_refund_no: String,
    amount_fen: i64,
    reason: String,
    out_trade_no: String,
    order_amount_fen: i64,
    account_id: i64,
    payment_id: i64,
    key: String,
}

/// Refunds all or part of a channel payment through its channel, then records it.
pub async fn refund_via_channel(
    desk: &FeeDesk,
    secrets: &SecretStore,
    req: &RefundRequest,
) -> Result<RefundResult> {
    let reason = crate::text::normalize_prose(&req.reason);
    if reason.is_empty() {
        return Err(Error::Validation(
            "a refund needs a reason (--reason)".into(),
        ));
    }
    let order: Option<(i64, String, i64, i64)> = sqlx::query_as(
        "SELECT id, out_trade_no, amount_fen, account_id FROM channel_orders
         WHERE payment_id = ? AND status = 'paid'",
    )
    .bind(req.payment_id)
    .fetch_optional(desk.db().pool())
    .await?;
    let Some((order_id, out_trade_no, order_amount_fen, account_id)) = order else {
        return Err(Error::Validation(format!(
            "payment {} was not collected through a channel; refund it by hand (without --via-channel)",
            req.payment_id
        )));
    };
    let already_recorded: Option<String> =
        sqlx::query_scalar("SELECT operation FROM idempotency_keys WHERE key = ?")
            .bind(normalize(&req.key))
            .fetch_optional(desk.db().pool())
            .await?;
    if already_recorded.is_some() {
        // Done before (or a conflicting reuse of the key): the billing core answers either way.
        return billing::refund_by(desk, req, RefundRoute::Channel).await;
    }
    let (paid, refunded): (i64, i64) =
        sqlx::query_as("SELECT amount_fen, refunded_fen FROM payments WHERE id = ?")
            .bind(req.payment_id)
            .fetch_one(desk.db().pool())
            .await?;
    if req.amount.fen() <= 0 || req.amount.fen() > paid - refunded {
        // The billing core words the refusal (above what is left, or not above zero).
        return billing::refund_by(desk, req, RefundRoute::Channel).await;
    }
    let out_refund_no = refund_no(&req.key);
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    // Under the write lock: what is left to refund counts the refunds the channel is still
    // processing (asked, not yet recorded), so two refunds asked at once never both pass.
    let (paid, refunded): (i64, i64) =
        sqlx::query_as("SELECT amount_fen, refunded_fen FROM payments WHERE id = ?")
            .bind(req.payment_id)
            .fetch_one(&mut *tx)
            .await?;
    let pending: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(amount_fen), 0) FROM channel_refunds
         WHERE order_id = ? AND status = 'pending' AND out_refund_no <> ?",
    )
    .bind(order_id)
    .bind(&out_refund_no)
    .fetch_one(&mut *tx)
    .await?;
    if req.amount.fen() > paid - refunded - pending {
        return Err(Error::Validation(format!(
            "refused: {} is more than the {} left to refund on payment {}: {} is still being refunded through the channel (`feedesk orders sync` finishes it)",
            req.amount,
            crate::money::Money::from_fen((paid - refunded - pending).max(0))?,
            req.payment_id,
            crate::money::Money::from_fen(pending)?
        )));
    }
    sqlx::query(
        "INSERT INTO channel_refunds (order_id, out_refund_no, key, amount_fen, reason, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (out_refund_no) DO NOTHING",
    )
    .bind(order_id)
    .bind(&out_refund_no)
    // The key and reason as asked, so that the sync records the refund under the very request
    // a retry repeats (the billing core matches a retry by the request as given).
    .bind(&req.key)
    .bind(req.amount.fen())
    .bind(&req.reason)
    .bind(&now)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let row = RefundRow {
        id: 0,
        out_refund_no,
        amount_fen: req.amount.fen(),
        reason: req.reason.clone(),
        out_trade_no,
        order_amount_fen,
        account_id,
        payment_id: req.payment_id,
        key: req.key.clone(),
    };
    let row = RefundRow {
        id: refund_row_id(desk, &row.out_refund_no).await?,
        ..row
    };
    match ask(desk, secrets, &row, true).await? {
        Standing::Done => record(desk, &row).await,
        Standing::Pending => Err(Error::Channel(format!(
            "the channel is still processing refund {}; `feedesk orders sync` records it when it is done",
            row.out_refund_no
        ))),
        Standing::Failed(why) => Err(Error::Channel(format!(
            "the channel refused refund {}: {why}",
            row.out_refund_no
        ))),
    }
}

fn refund_no(key: &str) -> String {
    let digest = hex::encode(Sha256::digest(normalize(key).as_bytes()));
    format!("FR{}", &digest[..24].to_uppercase())
}

async fn refund_row_id(desk: &FeeDesk, out_refund_no: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT id FROM channel_refunds WHERE out_refund_no = ?")
            .bind(out_refund_no)
            .fetch_one(desk.db().pool())
            .await?,
    )
}

/// Asks the channel for the refund (`request`) or only about it, polling a few times while it
/// is processing.
async fn ask(
    desk: &FeeDesk,
    secrets: &SecretStore,
    row: &RefundRow,
    request: bool,
) -> Result<Standing> {
    let (_, channel) = client(desk, secrets, &row.account_id.to_string()).await?;
    let reason = crate::text::normalize_prose(&row.reason);
    match channel {
        ChannelClient::Wechat(c) => {
            let mut status = if request {
                Some(
                    c.refund(&WechatRefund {
                        out_trade_no: row.out_trade_no.clone(),
                        out_refund_no: row.out_refund_no.clone(),
                        reason: Some(reason.clone()),
                        refund_fen: row.amount_fen,
                        total_fen: row.order_amount_fen,
                    })
                    .await?
                    .status,
                )
            } else {
                None
            };
            for _ in 0..POLLS {
                match status {
                    Some(RefundStatus::Success) => return Ok(Standing::Done),
                    Some(RefundStatus::Closed) => return Ok(Standing::Failed("closed".into())),
                    Some(RefundStatus::Abnormal) => {
                        return Ok(Standing::Failed(
                            "abnormal: the payer's account cannot take it".into(),
                        ));
                    }
                    _ => {}
                }
                if status.is_some() {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
                let answer = c.query_refund(&row.out_refund_no).await?;
                if let Some(r) = &answer
                    && r.amount.refund != row.amount_fen
                {
                    return Ok(Standing::Failed(format!(
                        "WeChat Pay reports {} refunded, not the {} asked; nothing was recorded — check it at WeChat Pay",
                        crate::money::Money::from_fen(r.amount.refund)?,
                        crate::money::Money::from_fen(row.amount_fen)?
                    )));
                }
                status = answer.map(|r| r.status);
                if status.is_none() && !request {
                    return Ok(Standing::Failed("the channel has no such refund".into()));
                }
            }
            Ok(Standing::Pending)
        }
        ChannelClient::Alipay(c) => {
            if request {
                c.refund(&AlipayRefundRequest {
                    out_trade_no: row.out_trade_no.clone(),
                    out_request_no: row.out_refund_no.clone(),
                    refund_fen: row.amount_fen,
                    reason: Some(reason.clone()),
                })
                .await?;
            }
            for n in 0..POLLS {
                match c
                    .query_refund(&row.out_trade_no, &row.out_refund_no)
                    .await?
                {
                    // The amount Alipay says it refunded must be the amount asked: a forged or
                    // confused answer never books another amount.
                    Some(q) if q.is_success() && q.refund_fen != row.amount_fen => {
                        return Ok(Standing::Failed(format!(
                            "Alipay reports {} refunded, not the {} asked; nothing was recorded — check it at Alipay",
                            crate::money::Money::from_fen(q.refund_fen)?,
                            crate::money::Money::from_fen(row.amount_fen)?
                        )));
                    }
                    Some(q) if q.is_success() => return Ok(Standing::Done),
                    None if !request => {
                        return Ok(Standing::Failed("the channel has no such refund".into()));
                    }
                    _ if n + 1 < POLLS => {
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await
                    }
                    _ => {}
                }
            }
            Ok(Standing::Pending)
        }
    }
}

/// Records a refund the channel completed, and marks it done.
async fn record(desk: &FeeDesk, row: &RefundRow) -> Result<RefundResult> {
    let result = billing::refund_by(
        desk,
        &RefundRequest {
            payment_id: row.payment_id,
            amount: crate::money::Money::from_fen(row.amount_fen)?,
            reason: row.reason.clone(),
            key: row.key.clone(),
        },
        RefundRoute::Channel,
    )
    .await?;
    let mut tx = desk.db().write().await?;
    sqlx::query(
        "UPDATE channel_refunds SET status = 'done', refund_id = ?, updated_at = ? WHERE id = ?",
    )
    .bind(result.refund_id)
    .bind(desk.now_text())
    .bind(row.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(result)
}

/// Finishes refunds still processing: (done, still pending, problems).
pub(crate) async fn finish_pending_refunds(
    desk: &FeeDesk,
    secrets: &SecretStore,
) -> Result<(u64, u64, Vec<String>)> {
    // The refund's (id, out_refund_no, key, amount, reason) and its order's (out_trade_no,
    // amount, account, payment).
    type PendingRow = (i64, String, String, i64, String, String, i64, i64, i64);
    let rows: Vec<PendingRow> = sqlx::query_as(
        "SELECT r.id, r.out_refund_no, r.key, r.amount_fen, r.reason, o.out_trade_no, o.amount_fen,
                o.account_id, o.payment_id
         FROM channel_refunds r JOIN channel_orders o ON o.id = r.order_id
         WHERE r.status = 'pending' ORDER BY r.id",
    )
    .fetch_all(desk.db().pool())
    .await?;
    let (mut done, mut pending, mut problems) = (0, 0, vec![]);
    for (
        id,
        out_refund_no,
        key,
        amount_fen,
        reason,
        out_trade_no,
        order_amount_fen,
        account_id,
        payment_id,
    ) in rows
    {
        let row = RefundRow {
            id,
            key,
            out_refund_no,
            amount_fen,
            reason,
            out_trade_no,
            order_amount_fen,
            account_id,
            payment_id,
        };
        match ask(desk, secrets, &row, false).await {
            Ok(Standing::Done) => match record(desk, &row).await {
                Ok(_) => done += 1,
                Err(e) => problems.push(format!("refund {}: {e}", row.out_refund_no)),
            },
            Ok(Standing::Pending) => pending += 1,
            Ok(Standing::Failed(why)) => {
                let mut tx = desk.db().write().await?;
                sqlx::query(
                    "UPDATE channel_refunds SET status = 'failed', updated_at = ? WHERE id = ?",
                )
                .bind(desk.now_text())
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                problems.push(format!("refund {}: {why}", row.out_refund_no));
            }
            Err(e) => {
                pending += 1;
                problems.push(format!("refund {}: {e}", row.out_refund_no));
            }
        }
    }
    Ok((done, pending, problems))
}
