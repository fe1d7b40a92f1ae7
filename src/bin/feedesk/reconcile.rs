//! `feedesk reconcile …` (statements, runs, discrepancies, the workbook) and `feedesk report
//! monthly`. Parses, calls the core, prints.

use std::path::PathBuf;

use clap::Subcommand;
use feedesk::progress::CancelToken;
use feedesk::reconcile::{self, ItemFilter, ReconItem, Resolution, ResolveRequest};
use feedesk::{FeeDesk, Result, reports};

use crate::output;

#[derive(Debug, Subcommand)]
pub enum ReconcileCommand {
    /// Import a statement file: a WeChat Pay trade bill (.csv, or .csv.gz) or an Alipay
    /// business-detail bill (the .csv.zip as downloaded, or its 业务明细 .csv). The same file
    /// again changes nothing.
    Import {
        file: PathBuf,
        /// The WeChat Pay or Alipay collection account it belongs to.
        #[arg(long)]
        account: String,
    },
    /// Download a day's bill through the account's channel and import it.
    Download {
        #[arg(long)]
        account: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: chrono::NaiveDate,
    },
    /// Match the account's statements of a period against the books; classify every line and
    /// payment, total and post the channel fees.
    Run {
        #[arg(long)]
        account: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: chrono::NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: chrono::NaiveDate,
    },
    /// List discrepancies.
    List {
        /// amount_mismatch, ours_only, channel_only or refund_mismatch.
        #[arg(long)]
        class: Option<String>,
        /// open, resolved, follow_up or cleared.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        account: Option<String>,
    },
    /// Resolve a discrepancy: record (the missing payment of a channel-only line), explain, or
    /// follow-up.
    Resolve {
        item: i64,
        #[arg(long)]
        action: String,
        #[arg(long)]
        note: String,
        /// For record, when the order number is not one of FeeDesk's: the bill it pays.
        #[arg(long)]
        bill: Option<i64>,
    },
    /// Run and write the reconciliation workbook (Summary, Matched, Discrepancies, Fees).
    Export {
        #[arg(long)]
        account: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: chrono::NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: chrono::NaiveDate,
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The monthly report workbook of a unit's subtree: a consolidated sheet and one per
    /// region and store, with charts.
    Monthly {
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        #[arg(long, default_value = "HQ")]
        unit: String,
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
    },
}

fn money_cell(m: Option<feedesk::money::Money>) -> String {
    m.map_or("-".into(), |m| m.to_string())
}

fn print_items(items: &[ReconItem]) {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.day.clone(),
                i.class.clone(),
                i.kind.clone(),
                i.out_trade_no
                    .clone()
                    .or(i.out_refund_no.clone())
                    .unwrap_or_else(|| "-".into()),
                money_cell(i.channel_amount),
                money_cell(i.our_amount),
                i.status.clone(),
                i.reason.clone(),
            ]
        })
        .collect();
    output::table(
        &[
            "id",
            "day",
            "class",
            "kind",
            "order/refund",
            "channel",
            "ours",
            "status",
            "reason",
        ],
        &rows,
    );
}

pub async fn reconcile(desk: &FeeDesk, cmd: ReconcileCommand, json: bool) -> Result<()> {
    let cancel = CancelToken::new();
    let bar = output::Bar::new(!json);
    let progress = |p| bar.update(p);
    match cmd {
        ReconcileCommand::Import { file, account } => {
            let r = reconcile::import_statement(desk, &account, &file, &progress, &cancel).await;
            bar.finish();
            let r = r?;
            if json {
                return output::json(&r);
            }
            if r.duplicate_file {
                say!(
                    "{} was already imported (statement {}): nothing changed",
                    r.file,
                    r.statement_id
                );
            } else {
                say!(
                    "Imported {} into {} as statement {}: {} lines read, {} payments and {} refunds, {} new, {} already known ({} to {})",
                    r.file,
                    r.account,
                    r.statement_id,
                    r.lines_read,
                    r.payments,
                    r.refunds,
                    r.new,
                    r.duplicate_lines,
                    r.first_day.as_deref().unwrap_or("-"),
                    r.last_day.as_deref().unwrap_or("-")
                );
            }
        }
        ReconcileCommand::Download { account, date } => {
            let bill = feedesk::channels::accounts::download_bill(
                desk,
                &feedesk::secrets::SecretStore::from_env(),
                &account,
                date,
            )
            .await?;
            let name = bill
                .source
                .clone()
                .unwrap_or_else(|| format!("{}-{}.csv", bill.channel, date.format("%Y%m%d")));
            let r = reconcile::import_statement_bytes(desk, &account, &name, &bill.content).await?;
            if json {
                return output::json(&r);
            }
            say!(
                "Downloaded and imported the {} bill of {date}: {} lines, {} new{}",
                bill.channel,
                r.lines_read,
                r.new,
                if r.duplicate_file {
                    " (already imported)"
                } else {
                    ""
                }
            );
        }
        ReconcileCommand::Run { account, from, to } => {
            let s =
                reconcile::run_reconciliation(desk, &account, from, to, &progress, &cancel).await;
            bar.finish();
            let s = s?;
            if json {
                return output::json(&s);
            }
            say!(
                "Reconciliation {} of {} from {} to {}: {} statement(s), {} lines",
                s.run_id,
                s.account,
                s.from,
                s.to,
                s.statements,
                s.lines
            );
            let rows: Vec<Vec<String>> = [
                ("matched", s.matched),
                ("amount_mismatch", s.amount_mismatch),
                ("ours_only", s.ours_only),
                ("channel_only", s.channel_only),
                ("refund_mismatch", s.refund_mismatch),
            ]
            .into_iter()
            .map(|(name, t)| vec![name.to_string(), t.count.to_string(), t.amount.to_string()])
            .collect();
            output::table(&["class", "count", "amount"], &rows);
            say!(
                "Channel fees {} (posted now: {}); {} discrepancies open",
                s.fees_total,
                s.fees_posted,
                s.open_items
            );
        }
        ReconcileCommand::List {
            class,
            status,
            account,
        } => {
            let items = reconcile::list_items(
                desk,
                &ItemFilter {
                    account,
                    class,
                    status,
                    from: None,
                    to: None,
                },
            )
            .await?;
            if json {
                return output::json(&items);
            }
            print_items(&items);
        }
        ReconcileCommand::Resolve {
            item,
            action,
            note,
            bill,
        } => {
            let req = ResolveRequest {
                item_id: item,
                action: Resolution::parse(&action)?,
                note,
                bill_id: bill,
            };
            let item =
                reconcile::resolve_item(desk, &feedesk::secrets::SecretStore::from_env(), &req)
                    .await?;
            if json {
                return output::json(&item);
            }
            say!(
                "Item {} is {} ({}): {}",
                item.id,
                item.status,
                item.resolution.as_deref().unwrap_or("-"),
                item.note.as_deref().unwrap_or("")
            );
        }
        ReconcileCommand::Export {
            account,
            from,
            to,
            out,
        } => {
            let r = reconcile::export_reconciliation(
                desk, &account, from, to, &out, &progress, &cancel,
            )
            .await;
            bar.finish();
            let r = r?;
            if json {
                return output::json(&r);
            }
            say!(
                "Wrote {}: {} matched, {} discrepancies, {} fee day(s); fees {}",
                r.file,
                r.matched_rows,
                r.discrepancy_rows,
                r.fee_days,
                r.summary.fees_total
            );
        }
    }
    Ok(())
}

pub async fn report(desk: &FeeDesk, cmd: ReportCommand, json: bool) -> Result<()> {
    let cancel = CancelToken::new();
    let bar = output::Bar::new(!json);
    let progress = |p| bar.update(p);
    match cmd {
        ReportCommand::Monthly { month, unit, out } => {
            let secrets = feedesk::secrets::SecretStore::from_env();
            let r = reports::export_monthly_report_anchored(
                desk, &secrets, &month, &unit, &out, &progress, &cancel,
            )
            .await;
            bar.finish();
            let r = r?;
            if json {
                return output::json(&r);
            }
            say!(
                "Wrote {}: {} sheets, {} charts · billed {}, collected {}, refunded {}, outstanding {}, rate {}, channel fees {}",
                r.file,
                r.sheets.len(),
                r.charts,
                r.billed,
                r.collected,
                r.refunded,
                r.outstanding,
                r.collection_rate,
                r.channel_fees
            );
        }
    }
    Ok(())
}
