//! Payment channels: the protocols FeeDesk speaks to collect money, and the built-in sandbox
//! that speaks them on loopback (for `feedesk demo`, for training staff, and for tests).
//!
//! - [`wechatpay`]: WeChat Pay API v3 (Native QR orders, query, close, refund, certificates,
//!   the daily trade bill).
//! - [`alipay`]: the Alipay open platform (precreate QR, query, close, refund, refund query,
//!   the daily business-detail bill).
//! - [`sandbox`]: a loopback server speaking both, with controls to pay, fail, delay,
//!   duplicate, reorder or forge its answers.
//! - [`crypto`]: RSA keys and SHA256withRSA signatures both channels use.
//! - [`bills`]: fetching the channels' daily bills whole (WeChat Pay's SHA1, gzip).
//!
//! Every answer from a channel is verified before anything in it is believed. Channel secrets
//! come from the OS keyring ([`crate::secrets`]) and never reach a message or a log.

pub mod accounts;
pub mod alipay;
pub mod bills;
pub mod crypto;
pub mod sandbox;
pub mod wechatpay;

use std::time::Duration;

use crate::{Error, Result};

/// How long one channel call may take before it counts as failed (and is retried or queried).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP client for calls to `base_url` ([`crate::http::client`] with the channels' timeout).
pub fn http_client(base_url: &str) -> Result<reqwest::Client> {
    crate::http::client(base_url, REQUEST_TIMEOUT)
}

/// Reading a channel's answer, bounded: [`crate::http`] serves the channels and the reminder
/// providers alike.
pub use crate::http::{BodyError, MAX_ANSWER_BYTES, read_capped};

impl BodyError {
    /// As a channel error, naming `what` was being read.
    pub fn channel(self, what: &str) -> Error {
        match self {
            BodyError::TooLarge(limit) => Error::TooLarge(format!(
                "{what} is larger than {}; FeeDesk stopped reading it",
                crate::http::human_bytes(limit)
            )),
            BodyError::Transport(e) => transport_error(&e),
        }
    }
}

/// A failed request in words. reqwest names the URL, never a header or the body, so no
/// secret reaches the message.
pub(crate) fn transport_error(e: &reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    Error::Channel(format!("the payment channel request {what}: {e}"))
}
