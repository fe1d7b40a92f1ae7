//! Injected crash points, for the crash-safety tests: when the environment variable
//! `FEEDESK_FAULT` names a point, the process aborts there, mid-transaction, exactly as a power
//! cut or a killed process would stop it. Unset (always, in real use) a point costs one cached
//! lookup.

use std::sync::OnceLock;

/// The environment variable that names the point to abort at.
pub const FAULT_ENV: &str = "FEEDESK_FAULT";

/// Aborts the process if `FEEDESK_FAULT` names `point`.
pub fn point(point: &str) {
    static TARGET: OnceLock<Option<String>> = OnceLock::new();
    let target = TARGET.get_or_init(|| std::env::var(FAULT_ENV).ok());
    if target.as_deref() == Some(point) {
        eprintln!("feedesk: injected fault at {point}; aborting");
        std::process::abort();
    }
}
