//! The senders: email over SMTP, SMS through Aliyun Dysmsapi, and the WeCom / DingTalk group
//! robots. Each tells apart what happened when a send does not succeed, because the outbox
//! acts on it: a refusal that may be retried (5xx, 429, a connection that never opened), a
//! refusal that will not change (a bad address, a rejected template), and an answer that never
//! came after the request left (a timeout: the message may have gone; never resent by itself).

pub mod email;
pub mod robot;
pub mod sign;
pub mod sms;

use std::time::Duration;

use super::channel::ReminderChannel;
use super::notify::{ChannelConfig, NotifyChannel};
use crate::secrets::{SecretRef, SecretStore};
use crate::{Error, Result};

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// An email address or a mobile number; `None` for a group robot.
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// The SMS template's variables (Aliyun sends templates, not free text).
    pub sms_params: Option<serde_json::Value>,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Refused for now (5xx, 429, throttled, not reachable): try again later, no sooner than
    /// `after` when the provider said so.
    Retry {
        message: String,
        after: Option<Duration>,
    },
    /// Refused for good (bad address, bad settings, rejected content): a person must look.
    Permanent(String),
    /// The request left and no answer came: it may have been delivered.
    Uncertain(String),
}

impl SendFailure {
    pub fn message(&self) -> &str {
        match self {
            SendFailure::Retry { message, .. } => message,
            SendFailure::Permanent(m) | SendFailure::Uncertain(m) => m,
        }
    }
}

/// What came back from a successful send: the provider's id for it, when it gives one.
pub type Sent = Option<String>;

/// A sender ready to use: its settings and its secret, read from the keyring once per run.
pub enum Sender {
    /// `feedesk demo`: writes each message into a folder.
    Demo(std::path::PathBuf),
    Email(email::EmailSender),
    Sms(sms::SmsSender),
    Robot(robot::RobotSender),
}

/// How long one send may take before its answer is given up on.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

impl Sender {
    /// Builds the sender for a configured channel, reading its secret from the keyring.
    pub async fn open(
        channel: &NotifyChannel,
        reference: Option<&SecretRef>,
        secrets: &SecretStore,
        timeout: Duration,
    ) -> Result<Sender> {
        let secret = match reference {
            Some(r) => Some(secrets.get(r).await?),
            None => None,
        };
        let need = |what: &str| {
            Error::Keyring(format!(
                "the {} channel has no {what} in the keyring; configure it again with `feedesk notify add`",
                channel.channel
            ))
        };
        Ok(match (&channel.config, channel.channel) {
            (ChannelConfig::DemoOutbox { folder }, _) => Sender::Demo(folder.into()),
            (ChannelConfig::Email { .. }, ReminderChannel::Email) => {
                Sender::Email(email::EmailSender::new(&channel.config, secret, timeout)?)
            }
            (ChannelConfig::Sms { .. }, ReminderChannel::Sms) => Sender::Sms(sms::SmsSender::new(
                &channel.config,
                secret.ok_or_else(|| need("AccessKey secret"))?,
                timeout,
            )?),
            (ChannelConfig::Robot { .. }, ReminderChannel::Wecom | ReminderChannel::Dingtalk) => {
                Sender::Robot(robot::RobotSender::new(
                    channel.channel,
                    &channel.config,
                    secret.ok_or_else(|| need("webhook key"))?,
                    timeout,
                )?)
            }
            _ => {
                return Err(Error::Internal(format!(
                    "the {} channel's stored settings are of another channel",
                    channel.channel
                )));
            }
        })
    }

    /// Sends one message. `now_ms` is the clock's time (DingTalk signs it).
    pub async fn send(&self, msg: &Outgoing, now_ms: i64) -> Result<Sent, SendFailure> {
        match self {
            Sender::Demo(folder) => demo_write(folder, msg, now_ms),
            Sender::Email(s) => s.send(msg).await,
            Sender::Sms(s) => s.send(msg, now_ms).await,
            Sender::Robot(s) => s.send(msg, now_ms).await,
        }
    }
}

/// The demo's "send": the message as a text file, named by time and a random suffix.
fn demo_write(folder: &std::path::Path, msg: &Outgoing, now_ms: i64) -> Result<Sent, SendFailure> {
    let name = format!("{now_ms}-{}.txt", crate::secrets::random_hex(4));
    let text = format!(
        "To: {}\nSubject: {}\n\n{}\n",
        msg.recipient.as_deref().unwrap_or("(group)"),
        msg.subject.as_deref().unwrap_or(""),
        msg.body
    );
    std::fs::write(folder.join(&name), text)
        .map_err(|e| SendFailure::Retry {
            message: format!("cannot write the demo outbox: {e}"),
            after: None,
        })
        .map(|_| Some(name))
}

/// A provider's answer, read in chunks up to [`crate::http::MAX_ANSWER_BYTES`]: a bigger
/// one is not read further (the message may have gone out, so the send is uncertain).
pub(crate) async fn read_answer(
    response: reqwest::Response,
    provider: &str,
) -> Result<Vec<u8>, SendFailure> {
    use crate::http::{BodyError, MAX_ANSWER_BYTES, read_capped};
    read_capped(response, MAX_ANSWER_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge(limit) => SendFailure::Uncertain(format!(
                "{provider}'s answer is larger than {} KB; FeeDesk stopped reading it, and the message may have been delivered",
                limit >> 10
            )),
            BodyError::Transport(e) => http_failure(e, provider),
        })
}

/// A failed HTTP exchange classified. The URL is dropped from the message: it carries a
/// robot's key or the SMS signature.
pub(crate) fn http_failure(e: reqwest::Error, provider: &str) -> SendFailure {
    let timed_out = e.is_timeout();
    let connect = e.is_connect();
    let e = e.without_url();
    if connect {
        SendFailure::Retry {
            message: format!("{provider}: could not connect ({e})"),
            after: None,
        }
    } else if timed_out {
        SendFailure::Uncertain(format!(
            "{provider}: no answer in time; the message may have been delivered"
        ))
    } else {
        SendFailure::Uncertain(format!("{provider}: the request broke off ({e})"))
    }
}

/// An HTTP status that is not success, classified: 429 and 5xx are retried (after
/// `Retry-After` when given), anything else is a refusal.
pub(crate) fn status_failure(
    status: reqwest::StatusCode,
    retry_after: Option<&reqwest::header::HeaderValue>,
    provider: &str,
) -> SendFailure {
    let after = retry_after
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if status.as_u16() == 429 || status.is_server_error() {
        SendFailure::Retry {
            message: format!("{provider} answered HTTP {status}"),
            after,
        }
    } else {
        SendFailure::Permanent(format!("{provider} refused the request: HTTP {status}"))
    }
}
