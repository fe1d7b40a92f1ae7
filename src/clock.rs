//! Time as a dependency: production reads the system clock, tests and dry runs pin it.

use chrono::{DateTime, Utc};

/// A source of the current time. Stored times are UTC.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always answers the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The institution's time zone offset: Asia/Shanghai (UTC+8, no daylight saving). A setting
/// per institution arrives with the settings page; until then every surface shows this zone.
pub const LOCAL_OFFSET_SECONDS: i32 = 8 * 3600;

/// The institution's calendar day at `now`: due dates, aging and early-bird tiers count in it.
pub fn local_date(now: DateTime<Utc>) -> chrono::NaiveDate {
    (now + chrono::Duration::seconds(i64::from(LOCAL_OFFSET_SECONDS))).date_naive()
}

/// The institution's offset from UTC, as chrono's type (checked when compiling).
pub const LOCAL_OFFSET: chrono::FixedOffset =
    match chrono::FixedOffset::east_opt(LOCAL_OFFSET_SECONDS) {
        Some(offset) => offset,
        None => panic!("LOCAL_OFFSET_SECONDS is out of range"),
    };

/// A stored UTC timestamp (RFC 3339) as a person in the institution reads it:
/// `2026-09-02 09:00`. Text that is not a timestamp is returned unchanged.
pub fn local_display(utc: &str) -> String {
    match DateTime::parse_from_rfc3339(utc) {
        Ok(t) => t
            .with_timezone(&LOCAL_OFFSET)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => utc.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_shanghai_time() {
        assert_eq!(
            super::local_display("2026-09-02T01:00:00.000Z"),
            "2026-09-02 09:00"
        );
        assert_eq!(super::local_display("not a time"), "not a time");
    }
}
