//! `feedesk receipt ...`: list and search, reprint, void (红冲) and reissue, export a class's or a
//! term's PDFs, archive pending PDFs, verify, and the paper setting.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use feedesk::receipts::{self, Paper, ReceiptFilter};
use feedesk::{FeeDesk, Result};

use crate::output::{self, table};

/// Exit code of `receipt verify` when something is broken.
const EXIT_BROKEN: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// List receipts, oldest first: by member, class, term, date range or number.
    List {
        /// A member number.
        #[arg(long)]
        member: Option<String>,
        /// A class: NAME or STORE/NAME.
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        term: Option<String>,
        /// Issued on or after this date (YYYY-MM-DD, local).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Issued on or before this date (YYYY-MM-DD, local).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Part of a receipt number, or a member's name.
        #[arg(long)]
        search: Option<String>,
    },
    /// Write a receipt's archived PDF (the original, checked against its SHA-256): a reprint.
    Pdf {
        number: String,
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
    },
    /// Void a receipt (红冲): a reversal record pointing to it, then a new receipt for the same
    /// payment from today's records. Nothing is edited.
    Void {
        number: String,
        /// Printed on the reversal.
        #[arg(long)]
        reason: String,
    },
    /// Zip the PDFs of a class's or a term's receipts, with a manifest of their SHA-256.
    #[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["class", "term"])))]
    Export {
        /// A class: NAME or STORE/NAME.
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        term: Option<String>,
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
    },
    /// Render and archive every receipt whose PDF is still pending.
    Archive,
    /// Check every record's hash and chain, the numbering, and every archived PDF; exit 0 when
    /// intact, 3 naming the first broken link otherwise.
    Verify,
    /// Show or set the paper new receipts are printed on (a5 landscape, or a4).
    Settings {
        #[arg(long)]
        paper: Option<String>,
    },
}

pub async fn receipt(desk: &FeeDesk, cmd: ReceiptCommand, json: bool) -> Result<ExitCode> {
    match cmd {
        ReceiptCommand::List {
            member,
            class,
            term,
            from,
            to,
            search,
        } => {
            let filter = ReceiptFilter {
                member_no: member,
                class_name: class,
                term_name: term,
                from,
                to,
                search,
                ..Default::default()
            };
            let list = receipts::list_receipts(desk, &filter).await?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|r| {
                        vec![
                            r.number.clone(),
                            feedesk::clock::local_display(&r.issued_at),
                            r.member_no.clone(),
                            r.member_name.clone(),
                            r.fee_item.clone(),
                            r.amount.to_string(),
                            r.status.clone(),
                            r.original.clone().unwrap_or_default(),
                            if r.sha256.is_some() {
                                "archived"
                            } else {
                                "pending"
                            }
                            .into(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "number", "issued", "member", "name", "fee", "amount", "status",
                        "original", "pdf",
                    ],
                    &rows,
                );
            }
        }
        ReceiptCommand::Pdf { number, out } => {
            let pdf = receipts::receipt_pdf(desk, &number).await?;
            std::fs::write(&out, &pdf).map_err(|e| feedesk::Error::io(&out, e))?;
            if json {
                output::json(&serde_json::json!({
                    "number": number.trim().to_ascii_uppercase(),
                    "file": out.display().to_string(),
                    "bytes": pdf.len(),
                }))?;
            } else {
                say!("Wrote {} ({} bytes)", out.display(), pdf.len());
            }
        }
        ReceiptCommand::Void { number, reason } => {
            let v = receipts::void_receipt(desk, &number, &reason).await?;
            if json {
                output::json(&v)?;
            } else {
                say!("Voided {} with reversal {}", v.voided, v.reversal);
                match &v.reissued {
                    Some(n) => say!("Reissued as {n}"),
                    None => say!("Nothing is left of the payment: no receipt reissued"),
                }
            }
        }
        ReceiptCommand::Export { class, term, out } => {
            let filter = ReceiptFilter {
                class_name: class,
                term_name: term,
                ..Default::default()
            };
            let report = receipts::export_zip(desk, &filter, &out).await?;
            if json {
                output::json(&report)?;
            } else {
                say!(
                    "Wrote {} receipt(s) to {} ({} bytes), with receipts.csv",
                    report.receipts,
                    report.file,
                    report.bytes
                );
            }
        }
        ReceiptCommand::Archive => {
            let report = receipts::archive_pending(desk).await?;
            if json {
                output::json(&report)?;
            } else {
                say!(
                    "Archived {} pending receipt PDF(s), {} bytes",
                    report.archived,
                    report.bytes
                );
            }
        }
        ReceiptCommand::Verify => {
            let report = receipts::verify(desk).await?;
            if json {
                output::json(&report)?;
            } else if report.intact {
                say!(
                    "Receipts intact: {} record(s) in {} store chain(s), {} PDF(s) checked{}",
                    report.receipts,
                    report.stores,
                    report.files_checked,
                    if report.pending.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} PDF(s) not archived yet (`feedesk receipt archive`)",
                            report.pending.len()
                        )
                    }
                );
            }
            if let Some(first) = report.problems.first() {
                let more = report.problems.len() - 1;
                eprintln!(
                    "error: receipts broken: {first}{}",
                    if more > 0 {
                        format!(" (and {more} more problem(s); --json lists them)")
                    } else {
                        String::new()
                    }
                );
                return Ok(ExitCode::from(EXIT_BROKEN));
            }
        }
        ReceiptCommand::Settings { paper } => {
            let settings = match paper {
                Some(p) => receipts::set_paper(desk, Paper::parse(&p)?).await?,
                None => receipts::receipt_settings(desk).await?,
            };
            if json {
                output::json(&settings)?;
            } else {
                say!(
                    "Receipts are printed on {}",
                    settings.paper.as_str().to_uppercase()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
