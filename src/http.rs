//! HTTP to the outside world, one way for every caller (the payment channels, the SMS and
//! robot providers, the sandbox's control API): rustls with the ring provider and the
//! platform's trust store (no OpenSSL, no aws-lc), plain HTTP only to this computer, and
//! answers read in chunks up to a limit, so a misbehaving or hostile server can neither
//! downgrade the connection nor make FeeDesk buffer gigabytes.

use std::time::Duration;

use crate::{Error, Result};

/// How long connecting may take before the call counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read from a channel's or a reminder provider's API (JSON answers are a
/// few KB).
pub const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// The client for calls to `url`, each allowed `timeout`. Plain HTTP is refused unless `url`
/// is on this computer (the sandbox, the tests' servers), which also bypasses any proxy.
pub fn client(url: &str, timeout: Duration) -> Result<reqwest::Client> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| Error::Validation(format!("'{url}' is not a valid web address")))?;
    let loopback = is_loopback(&parsed);
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
        return Err(Error::Validation(format!(
            "'{url}' must be https (plain http is allowed only to this computer, e.g. the sandbox)"
        )));
    }
    // Idempotent: a second install (or one by the host application) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT);
    if loopback {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("cannot set up HTTPS: {e}")))
}

/// Whether `url` names this computer.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Why a response body could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    /// The body is longer than the limit (in bytes).
    TooLarge(u64),
    Transport(reqwest::Error),
}

/// A byte count as people read it: "96 MB", "64 KB".
pub fn human_bytes(n: u64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_computer() {
        assert!(client("https://api.mch.weixin.qq.com", Duration::from_secs(1)).is_ok());
        assert!(client("http://127.0.0.1:8080", Duration::from_secs(1)).is_ok());
        assert!(client("http://localhost:8080", Duration::from_secs(1)).is_ok());
        assert!(client("http://[::1]:8080", Duration::from_secs(1)).is_ok());
        let err = client("http://api.example.cn", Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("must be https"), "{err}");
        let err = client("not a url", Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("not a valid web address"), "{err}");
    }
}
