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
