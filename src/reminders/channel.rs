//! The ways a reminder reaches someone: a guardian personally (email, SMS), a class's group
//! chat through its robot (WeCom, DingTalk), or a person on the phone (the call list).

use serde::{Deserialize, Serialize};

/// A reminder channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReminderChannel {
    Email,
    Sms,
    Wecom,
    Dingtalk,
    /// A line on the exported call list: a person phones the guardian.
    Call,
}

impl ReminderChannel {
    pub const ALL: [ReminderChannel; 5] = [
        ReminderChannel::Email,
        ReminderChannel::Sms,
        ReminderChannel::Wecom,
        ReminderChannel::Dingtalk,
        ReminderChannel::Call,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderChannel::Email => "email",
            ReminderChannel::Sms => "sms",
            ReminderChannel::Wecom => "wecom",
            ReminderChannel::Dingtalk => "dingtalk",
            ReminderChannel::Call => "call",
        }
    }

    pub fn parse(text: &str) -> Option<ReminderChannel> {
        let key = text.trim().to_ascii_lowercase();
        ReminderChannel::ALL.into_iter().find(|c| c.as_str() == key)
    }

    /// A class group's robot: one message per class, names masked.
    pub fn is_group(self) -> bool {
        matches!(self, ReminderChannel::Wecom | ReminderChannel::Dingtalk)
    }

    /// Reaches one guardian (email, SMS), so the guardian's preferred channels apply.
    pub fn is_personal(self) -> bool {
        matches!(self, ReminderChannel::Email | ReminderChannel::Sms)
    }

    /// Messages a minute a channel takes unless configured otherwise: the WeCom and DingTalk
    /// robots allow 20; SMS and SMTP providers throttle too, more generously.
    pub fn default_rate_per_minute(self) -> u32 {
        match self {
            ReminderChannel::Wecom | ReminderChannel::Dingtalk => 20,
            ReminderChannel::Sms => 100,
            ReminderChannel::Email => 60,
            ReminderChannel::Call => u32::MAX,
        }
    }
}

impl std::fmt::Display for ReminderChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
