//! Tiered overdue reminders (催缴提醒): policies per unit or plan, an outbox that sends each
//! reminder at most once per bill, tier and channel (even across crashes), real senders (SMTP
//! email, Aliyun SMS, WeCom and DingTalk group robots, an exported call list), quiet hours,
//! rate limits, approval of each batch, and the manual follow-up list for the stubborn cases.
//!
//! A run ([`run::run`]) is the one path both the CLI (`feedesk remind run`, for cron) and the
//! desktop scheduler take; claims in write transactions make running both at once safe.

pub mod call_list;
pub mod channel;
pub mod contacts;
pub mod due;
pub mod followup;
pub mod notify;
pub mod outbox;
pub mod policy;
pub mod run;
pub mod senders;
pub mod template;
mod tiers;

pub use call_list::{CallListExport, export_call_list};
pub use channel::ReminderChannel;
pub use contacts::{Hold, list_holds, set_contact, set_pause, set_stop};
pub use due::{DuePlan, PlannedEscalation, PlannedGroup, PlannedMessage};
pub use followup::{FollowUp, FollowUpEvent, FollowUpUpdate, list_followups, update_followup};
pub use notify::{
    ChannelConfig, ChannelSetup, NotifyChannel, SmtpSecurity, add_notify_channel, is_loopback_host,
    list_notify_channels,
};
pub use outbox::{LogFilter, OutboxRow, approve, log, resolve};
pub use policy::{Policy, PolicyRequest, Tier, Tone, list_policies, parse_tiers, set_policy};
pub use run::{Counts, Preview, RunOptions, RunReport, TierChannelCounts, preview, run};
pub use tiers::{BillTier, bill_tiers};
