//! Collecting through the channels: `collect`, `orders sync|list`, `refund --via-channel`.

use feedesk::billing::RefundRequest;
use feedesk::collection;
use feedesk::{FeeDesk, Result};

use crate::channels::secret_store;
use crate::cli::{OrdersCommand, RefundArgs};
use crate::output::{self, table};

pub async fn collect(desk: &FeeDesk, bill: i64, json: bool) -> Result<()> {
    let order = collection::collect(desk, &secret_store(), bill).await?;
    if json {
        return output::json(&order);
    }
    say!(
        "Order {} for bill {}: {} into {} ({}){}",
        order.order_no,
        order.bill_id,
        order.amount,
        order.account,
        order.channel,
        if order.reused {
            ", the open order from before"
        } else {
            ""
        }
    );
    say!("Scan: {}", order.qr_text);
    say!(
        "Payable until {}; `feedesk orders sync` records it once paid",
        feedesk::clock::local_display(&order.expires_at)
    );
    Ok(())
}

pub async fn export_qr(
    desk: &FeeDesk,
    class: &str,
    out: &std::path::Path,
    json: bool,
) -> Result<()> {
    let export = collection::export_class_qr(desk, &secret_store(), class, out).await?;
    if json {
        return output::json(&export);
    }
    say!(
        "Wrote {} payment QR code(s) to {}{}",
        export.bills,
        export.file,
        if export.offline > 0 {
            format!(" ({} bill(s) collected offline left out)", export.offline)
        } else {
            String::new()
        }
    );
    Ok(())
}

pub async fn orders(desk: &FeeDesk, cmd: OrdersCommand, json: bool) -> Result<()> {
    match cmd {
        OrdersCommand::Sync => {
            let report = collection::sync_orders(desk, &secret_store()).await?;
            if json {
                return output::json(&report);
            }
            say!(
                "Checked {} open order(s): {} paid, {} closed, {} still open, {} paid but not applicable; refunds: {} done, {} pending",
                report.checked,
                report.paid,
                report.closed,
                report.still_open,
                report.unapplied,
                report.refunds_done,
                report.refunds_pending
            );
            for p in &report.problems {
                say!("  {p}");
            }
        }
        OrdersCommand::List { bill } => {
            let orders = collection::list_orders(desk, bill).await?;
            if json {
                return output::json(&orders);
            }
            let rows: Vec<Vec<String>> = orders
                .iter()
                .map(|o| {
                    vec![
                        o.order_no.clone(),
                        o.bill_id.to_string(),
                        o.account.clone(),
                        o.amount.to_string(),
                        o.status.clone(),
                        o.transaction_id.clone().unwrap_or_default(),
                        feedesk::clock::local_display(&o.created_at),
                    ]
                })
                .collect();
            table(
                &[
                    "order",
                    "bill",
                    "account",
                    "amount",
                    "status",
                    "transaction",
                    "at",
                ],
                &rows,
            );
        }
    }
    Ok(())
}

pub async fn refund(desk: &FeeDesk, args: RefundArgs, json: bool) -> Result<()> {
    let result = collection::refund_via_channel(
        desk,
        &secret_store(),
        &RefundRequest {
            payment_id: args.payment,
            amount: args.amount.parse()?,
            reason: args.reason,
            key: args.key,
        },
    )
    .await?;
    if json {
        return output::json(&result);
    }
    say!(
        "Refund {} through the channel: {} of payment {}; bill {} is {}; {} left to refund",
        result.refund_id,
        result.amount,
        result.payment_id,
        result.bill_id,
        result.status,
        result.refundable
    );
    Ok(())
}
