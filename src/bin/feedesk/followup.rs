//! `feedesk followup`: the follow-up list (人工介入) of bills past the last reminder.

use clap::Subcommand;
use feedesk::reminders::{self, FollowUpUpdate};
use feedesk::{FeeDesk, Result};
use serde_json::json;

use crate::output::{self, table};

#[derive(Debug, Subcommand)]
pub enum FollowupCommand {
    /// The open follow-ups, longest overdue first.
    List {
        /// Closed ones too.
        #[arg(long)]
        all: bool,
    },
    /// Assign a follow-up, add a note, or record its outcome.
    Update {
        #[arg(long)]
        bill: i64,
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// promised, paid, dispute or write_off_request.
        #[arg(long)]
        outcome: Option<String>,
        /// With --outcome promised: the day promised (YYYY-MM-DD).
        #[arg(long)]
        promised_on: Option<String>,
    },
}

pub async fn followup(desk: &FeeDesk, cmd: FollowupCommand, json: bool) -> Result<()> {
    match cmd {
        FollowupCommand::List { all } => {
            let list = reminders::list_followups(desk, all).await?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|f| {
                    vec![
                        f.bill_id.to_string(),
                        format!("{}/{}", f.store, f.member_no),
                        f.member.clone(),
                        f.guardian_phone.clone().unwrap_or_default(),
                        f.outstanding.to_string(),
                        f.days_overdue.to_string(),
                        f.status.clone(),
                        f.assignee.clone().unwrap_or_default(),
                        f.outcome.clone().unwrap_or_default(),
                        f.history.last().map(|e| e.text.clone()).unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &[
                    "bill", "member", "name", "phone", "owed", "days", "status", "assignee",
                    "outcome", "last",
                ],
                &rows,
            );
            say!("{} follow-up(s)", list.len());
        }
        FollowupCommand::Update {
            bill,
            assignee,
            note,
            outcome,
            promised_on,
        } => {
            reminders::update_followup(
                desk,
                bill,
                &FollowUpUpdate {
                    assignee,
                    note,
                    outcome,
                    promised_on,
                },
            )
            .await?;
            if json {
                return output::json(&json!({"bill": bill, "updated": true}));
            }
            say!("Updated the follow-up of bill {bill}");
        }
    }
    Ok(())
}
