//! `feedesk remind`: reminder policies, the next batch's preview, a run (for cron), the
//! delivery log, contacts, the stop list and paused bills, the call list.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Subcommand;
use feedesk::clock::{FixedClock, LOCAL_OFFSET};
use feedesk::reminders::{self, LogFilter, PolicyRequest, RunOptions};
use feedesk::{Error, FeeDesk, Result};
use serde_json::json;

use crate::channels::secret_store;
use crate::output::{self, table};

#[derive(Debug, Subcommand)]
pub enum RemindCommand {
    /// Reminder policies of units and plans.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// What the next run would queue (with the rendered messages) and what waits for approval.
    Preview {
        #[command(flatten)]
        now: NowArg,
    },
    /// Queue what is due, then send what is approved, outside quiet hours, within rate limits.
    Run {
        #[command(flatten)]
        now: NowArg,
        /// Approve the batch (everything queued and waiting) so it goes out now.
        #[arg(long)]
        approve: bool,
        /// Seconds one send may take before its outcome counts as unknown.
        #[arg(long, default_value_t = 20)]
        send_timeout: u64,
    },
    /// Approve reminders waiting for approval (all, or the given ids).
    Approve {
        #[arg(long = "id")]
        ids: Vec<i64>,
        #[command(flatten)]
        now: NowArg,
    },
    /// The delivery log, newest first.
    Log {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        bill: Option<i64>,
        #[arg(long, default_value_t = 500)]
        limit: u32,
    },
    /// Settle an uncertain or failed reminder after checking with the recipient.
    Resolve {
        id: i64,
        /// It did reach them (else it is sent again by the next run).
        #[arg(
            long,
            conflicts_with = "not_delivered",
            required_unless_present = "not_delivered"
        )]
        delivered: bool,
        #[arg(long)]
        not_delivered: bool,
    },
    /// A guardian's email and preferred channels (email, sms).
    Contact {
        /// STORE/NO, or a member number unique across stores.
        #[arg(long)]
        member: String,
        /// The guardian's email ('' clears it).
        #[arg(long)]
        email: Option<String>,
        /// Preferred personal channels, e.g. 'sms' or 'email,sms' ('' clears).
        #[arg(long)]
        channels: Option<String>,
    },
    /// Never remind this member's guardian (the stop list), with a reason.
    Stop {
        #[arg(long)]
        member: String,
        #[arg(long)]
        reason: String,
    },
    /// Take a member off the stop list.
    Unstop {
        #[arg(long)]
        member: String,
    },
    /// Pause one bill's reminders, with a reason.
    Pause {
        #[arg(long)]
        bill: i64,
        #[arg(long)]
        reason: String,
    },
    /// Resume a paused bill's reminders.
    Resume {
        #[arg(long)]
        bill: i64,
    },
    /// The stop list and the paused bills.
    Holds,
    /// Export the call list (approved call reminders and open follow-ups) as a workbook.
    CallList {
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Set a unit's or a plan's policy; unset options keep what it had.
    Set {
        #[arg(long, conflicts_with = "plan", required_unless_present = "plan")]
        unit: Option<String>,
        #[arg(long)]
        plan: Option<i64>,
        /// Tiers, e.g. '1:email,7:email+sms,14:email+sms+call' (DAYS:CHANNELS[:TONE]).
        #[arg(long)]
        tiers: Option<String>,
        /// Days after the last tier before the bill goes to the follow-up list (default 7).
        #[arg(long)]
        escalate_after: Option<i64>,
        /// Send batches without approval (true/false).
        #[arg(long)]
        auto_send: Option<bool>,
        /// Quiet hours, e.g. '21:00-08:00'.
        #[arg(long)]
        quiet_hours: Option<String>,
        /// Where to pay: a URL (with {bill} for the bill number) or words.
        #[arg(long)]
        payment_link: Option<String>,
        /// The store's phone for questions.
        #[arg(long)]
        contact_phone: Option<String>,
    },
    /// The stored policies (anything without one uses the default 1/7/14 days).
    List,
}

/// `--now`: the run's clock (tests and dry runs).
#[derive(Debug, clap::Args)]
pub struct NowArg {
    /// Act at this time: RFC 3339 (2026-09-10T10:00:00+08:00) or local '2026-09-10T10:00'.
    #[arg(long)]
    now: Option<String>,
}

fn parse_now(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text.trim(), format)
            && let Some(t) = local.and_local_timezone(LOCAL_OFFSET).single()
        {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(Error::Validation(format!(
        "--now '{text}' is not a time; write 2026-09-10T10:00:00+08:00 or 2026-09-10T10:00 (local)"
    )))
}

fn at(desk: &FeeDesk, now: &NowArg) -> Result<FeeDesk> {
    Ok(match &now.now {
        Some(t) => desk.with_clock(Arc::new(FixedClock(parse_now(t)?))),
        None => desk.clone(),
    })
}

pub async fn remind(desk: &FeeDesk, cmd: RemindCommand, json: bool) -> Result<()> {
    match cmd {
        RemindCommand::Policy(PolicyCommand::Set {
            unit,
            plan,
            tiers,
            escalate_after,
            auto_send,
            quiet_hours,
            payment_link,
            contact_phone,
        }) => {
            let policy = reminders::set_policy(
                desk,
                &PolicyRequest {
                    unit_code: unit,
                    plan_id: plan,
                    tiers,
                    escalate_days: escalate_after,
                    auto_send,
                    quiet_hours,
                    payment_link,
                    contact_phone,
                },
            )
            .await?;
            if json {
                return output::json(&policy);
            }
            say!(
                "Policy for {}: {} then a person after {} more day(s); quiet {}-{}; {}",
                policy.scope,
                reminders::policy::tiers_text(&policy.tiers),
                policy.escalate_days,
                policy.quiet_start,
                policy.quiet_end,
                if policy.auto_send {
                    "sent automatically"
                } else {
                    "each batch approved by a person"
                }
            );
        }
        RemindCommand::Policy(PolicyCommand::List) => {
            let list = reminders::list_policies(desk).await?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.scope.clone(),
                        reminders::policy::tiers_text(&p.tiers),
                        p.escalate_days.to_string(),
                        format!("{}-{}", p.quiet_start, p.quiet_end),
                        if p.auto_send { "auto" } else { "approve" }.into(),
                    ]
                })
                .collect();
            table(&["scope", "tiers", "escalate", "quiet", "sending"], &rows);
        }
        RemindCommand::Preview { now } => {
            let desk = at(desk, &now)?;
            let preview = reminders::preview(&desk).await?;
            if json {
                return output::json(&preview);
            }
            for m in &preview.due.messages {
                say!(
                    "bill {} · {} · tier {} ({} days) · {} → {}{}",
                    m.bill_id,
                    m.member,
                    m.tier,
                    m.tier_days,
                    m.channel,
                    m.recipient.as_deref().unwrap_or("-"),
                    m.skip_reason
                        .as_deref()
                        .map(|r| format!(" · cannot send: {r}"))
                        .unwrap_or_default()
                );
                say!("    {}", m.body);
            }
            for g in &preview.due.groups {
                say!(
                    "class {} · tier {} · {} · {} bill(s)",
                    g.class_name,
                    g.tier,
                    g.channel,
                    g.bill_ids.len()
                );
                say!("    {}", g.body);
            }
            for e in &preview.due.escalations {
                say!(
                    "bill {} · {} · {} days overdue → follow-up list",
                    e.bill_id,
                    e.member,
                    e.days_overdue
                );
            }
            say!(
                "{} message(s), {} group message(s), {} to the follow-up list; {} queued before wait for approval{}",
                preview.due.messages.len(),
                preview.due.groups.len(),
                preview.due.escalations.len(),
                preview.awaiting_approval.len(),
                if preview.quiet_now {
                    "; it is quiet hours now"
                } else {
                    ""
                }
            );
        }
        RemindCommand::Run {
            now,
            approve,
            send_timeout,
        } => {
            let desk = at(desk, &now)?;
            let report = reminders::run(
                &desk,
                &secret_store(),
                &RunOptions {
                    approve,
                    send_timeout: std::time::Duration::from_secs(send_timeout.max(1)),
                },
            )
            .await?;
            if json {
                return output::json(&report);
            }
            let rows: Vec<Vec<String>> = report
                .by_tier
                .iter()
                .map(|t| {
                    let c = &t.counts;
                    vec![
                        t.tier.to_string(),
                        t.channel.to_string(),
                        c.queued.to_string(),
                        c.sent.to_string(),
                        c.awaiting_approval.to_string(),
                        c.waiting_quiet_hours.to_string(),
                        c.waiting_rate_limit.to_string(),
                        c.failed.to_string(),
                        c.uncertain.to_string(),
                        c.skipped.to_string(),
                        c.cancelled.to_string(),
                    ]
                })
                .collect();
            table(
                &[
                    "tier",
                    "channel",
                    "queued",
                    "sent",
                    "approval",
                    "quiet",
                    "rate",
                    "failed",
                    "uncertain",
                    "skipped",
                    "cancelled",
                ],
                &rows,
            );
            say!(
                "{} sent, {} failed, {} uncertain; {} bill(s) to the follow-up list{}",
                report.total.sent,
                report.total.failed,
                report.total.uncertain,
                report.escalated,
                if report.became_uncertain > 0 {
                    format!(
                        "; {} interrupted send(s) are now uncertain (see `feedesk remind log --status uncertain`)",
                        report.became_uncertain
                    )
                } else {
                    String::new()
                }
            );
        }
        RemindCommand::Approve { ids, now } => {
            let desk = at(desk, &now)?;
            let n = reminders::approve(&desk, (!ids.is_empty()).then_some(ids.as_slice())).await?;
            if json {
                return output::json(&json!({"approved": n}));
            }
            say!("Approved {n} reminder(s); the next run sends them");
        }
        RemindCommand::Log {
            status,
            bill,
            limit,
        } => {
            let rows = reminders::log(
                desk,
                &LogFilter {
                    status,
                    bill_id: bill,
                    limit: Some(limit),
                },
            )
            .await?;
            if json {
                return output::json(&rows);
            }
            let lines: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.bill_id.map(|b| b.to_string()).unwrap_or_default(),
                        r.about.clone(),
                        r.tier.to_string(),
                        r.channel.clone(),
                        r.status.clone(),
                        r.attempts.to_string(),
                        r.sent_at
                            .as_deref()
                            .map(feedesk::clock::local_display)
                            .unwrap_or_default(),
                        r.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &[
                    "id", "bill", "about", "tier", "channel", "status", "tries", "sent", "note",
                ],
                &lines,
            );
        }
        RemindCommand::Resolve { id, delivered, .. } => {
            reminders::resolve(desk, id, delivered).await?;
            if json {
                return output::json(&json!({"id": id, "delivered": delivered}));
            }
            say!(
                "Reminder {id} {}",
                if delivered {
                    "recorded as delivered"
                } else {
                    "will be sent again by the next run"
                }
            );
        }
        RemindCommand::Contact {
            member,
            email,
            channels,
        } => {
            reminders::set_contact(desk, &member, email.as_deref(), channels.as_deref()).await?;
            if json {
                return output::json(&json!({"member": member, "updated": true}));
            }
            say!("Updated the contact of {member}");
        }
        RemindCommand::Stop { member, reason } => {
            reminders::set_stop(desk, &member, true, &reason).await?;
            done(json, &format!("{member} is on the stop list"))?;
        }
        RemindCommand::Unstop { member } => {
            reminders::set_stop(desk, &member, false, "").await?;
            done(json, &format!("{member} is off the stop list"))?;
        }
        RemindCommand::Pause { bill, reason } => {
            reminders::set_pause(desk, bill, true, &reason).await?;
            done(json, &format!("Reminders of bill {bill} are paused"))?;
        }
        RemindCommand::Resume { bill } => {
            reminders::set_pause(desk, bill, false, "").await?;
            done(json, &format!("Reminders of bill {bill} resume"))?;
        }
        RemindCommand::Holds => {
            let holds = reminders::list_holds(desk).await?;
            if json {
                return output::json(&holds);
            }
            let rows: Vec<Vec<String>> = holds
                .iter()
                .map(|h| {
                    vec![
                        h.kind.clone(),
                        h.target.clone(),
                        h.reason.clone(),
                        h.actor.clone(),
                        feedesk::clock::local_display(&h.created_at),
                    ]
                })
                .collect();
            table(&["kind", "target", "reason", "by", "since"], &rows);
        }
        RemindCommand::CallList { out } => {
            let export = reminders::export_call_list(desk, &out).await?;
            if json {
                return output::json(&export);
            }
            say!(
                "Wrote {} call(s) and {} follow-up(s) to {}",
                export.calls,
                export.followups,
                export.file
            );
        }
    }
    Ok(())
}

fn done(json: bool, message: &str) -> Result<()> {
    if json {
        return output::json(&json!({"ok": true, "message": message}));
    }
    say!("{message}");
    Ok(())
}
