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

/// The HTTP client for calls to `base_url`: rustls with the ring provider and the platform's
/// trust store (no OpenSSL, no aws-lc). Plain HTTP only to a loopback address (the sandbox),
/// which also bypasses any configured proxy.
pub fn http_client(base_url: &str) -> Result<reqwest::Client> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|_| Error::Validation(format!("'{base_url}' is not a valid base URL")))?;
    let loopback = is_loopback(&url);
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(Error::Validation(format!(
            "'{base_url}' must be https (plain http is allowed only on this computer, for the sandbox)"
        )));
    }
    // Idempotent: a second install (or one by the host application) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10));
    if loopback {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("cannot set up HTTPS: {e}")))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A failed request in words. reqwest names the URL, never a header or the body, so no
/// secret reaches the message.
/// The largest answer read from a channel's or a reminder provider's API (JSON answers are a
/// few KB): a misbehaving or hostile server cannot make FeeDesk buffer gigabytes.
pub const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// Why a response body could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    /// The body is longer than the limit (in bytes).
    TooLarge(u64),
    Transport(reqwest::Error),
}

impl BodyError {
    /// As a channel error, naming `what` was being read.
    pub fn channel(self, what: &str) -> Error {
        match self {
            BodyError::TooLarge(limit) => Error::TooLarge(format!(
                "{what} is larger than {}; FeeDesk stopped reading it",
                human_bytes(limit)
            )),
            BodyError::Transport(e) => transport_error(&e),
        }
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MB", n >> 20)
    } else {
        format!("{} KB", n >> 10)
    }
}

/// Reads a response body in chunks, refusing it as soon as it passes `limit` bytes (whatever
/// its Content-Length says).
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
) -> std::result::Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

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
