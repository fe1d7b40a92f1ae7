//! A guardian's email address as typed into a roster or the window, lightly checked. It lives
//! with the members it belongs to, so the roster import and the reminders share one rule.

use crate::text::normalize;

/// An email address, lightly checked: something@domain.tld, no spaces.
pub fn check_email(text: &str) -> Option<String> {
    let t = normalize(text).to_ascii_lowercase();
    let (local, domain) = t.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t.contains(char::is_whitespace)
        && t.matches('@').count() == 1;
    ok.then_some(t)
}
