//! Turning what people type into spreadsheets into clean values: phone numbers written every
//! way (`+86 138-0013-8000`, `138 0013 8000`, a number cell), dates as date cells, serial
//! numbers or text (`2026/9/1`, `2026年9月1日`), statuses in Chinese or English.

use chrono::{Datelike, NaiveDate};

use super::cell::Cell;
use crate::text::{fold_width, is_invisible, normalize};

/// Normalises a mainland mobile number to its 11 digits, or `None` when it is not one.
/// Separators (spaces, dashes, brackets, dots, slashes) and a `+86`/`0086`/`86` prefix are
/// dropped; any other character makes it not a phone number.
pub fn phone(cell: &Cell) -> Option<String> {
    let text = cell.text();
    let mut digits = String::with_capacity(16);
    let mut seen_plus = false;
    for c in text.chars().map(fold_width) {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !seen_plus => seen_plus = true,
            '-' | '(' | ')' | '.' | '—' | '–' | '/' => {}
            c if c.is_whitespace() || is_invisible(c) => {}
            _ => return None,
        }
    }
    if digits.starts_with("0086") {
        digits.drain(..4);
    } else if digits.len() == 13 && digits.starts_with("86") {
        digits.drain(..2);
    }
    is_mobile(&digits).then_some(digits)
}

/// `1[3-9]` followed by nine digits.
pub fn is_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// Reads a date from a date cell, an Excel serial number, `YYYYMMDD`, or text such as
/// `2026-09-01`, `2026/9/1`, `2026.9.1` and `2026年9月1日` (a time part is ignored).
pub fn date(cell: &Cell) -> Option<NaiveDate> {
    let date = match cell {
        Cell::DateTime(dt) => Some(dt.date()),
        Cell::Int(n) => number_date(*n as f64),
        Cell::Float(f) => number_date(*f),
        Cell::Text(t) => text_date(&normalize(t)),
        _ => None,
    }?;
    (1900..=2100).contains(&date.year()).then_some(date)
}

fn number_date(n: f64) -> Option<NaiveDate> {
    if n.fract() != 0.0 || n < 1.0 {
        return None;
    }
    let n = n as i64;
    if (19000101..=21001231).contains(&n) {
        return yyyymmdd(&n.to_string());
    }
    excel_serial(n)
}

/// Excel's 1900 date system, including its phantom 29 February 1900 (serial 60).
fn excel_serial(n: i64) -> Option<NaiveDate> {
    let base = match n {
        1..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        61..=2_958_465 => NaiveDate::from_ymd_opt(1899, 12, 30)?,
        _ => return None,
    };
    base.checked_add_days(chrono::Days::new(n as u64))
}

fn yyyymmdd(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

fn text_date(text: &str) -> Option<NaiveDate> {
    let text = text.split(['T', ' ']).next().unwrap_or("").trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.len() {
            8 => yyyymmdd(text),
            5 => excel_serial(text.parse().ok()?),
            _ => None,
        };
    }
    let parts: Vec<&str> = text
        .trim_end_matches('日')
        .split(['-', '/', '.', '年', '月'])
        .collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Member status from the words rosters use.
pub fn status(cell: &Cell) -> Option<&'static str> {
    let key = crate::text::match_key(&cell.text());
    match key.as_str() {
        "在读" | "正常" | "在籍" | "有效" | "在册" | "active" | "enrolled" => {
            Some("active")
        }
        "退学" | "离校" | "已退学" | "已退" | "转出" | "注销" | "withdrawn" | "inactive"
        | "left" => Some("withdrawn"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn phones_written_every_way() {
        for raw in [
            "13800138000",
            "138-0013-8000",
            "138 0013 8000",
            "+86 138 0013 8000",
            "+86-13800138000",
            "(+86)13800138000",
            "0086 13800138000",
            "8613800138000",
            "１３８００１３８０００",
        ] {
            assert_eq!(phone(&t(raw)).as_deref(), Some("13800138000"), "{raw}");
        }
        assert_eq!(
            phone(&Cell::Float(13800138000.0)).as_deref(),
            Some("13800138000")
        );
        for bad in [
            "1380013800",
            "23800138000",
            "12800138000",
            "0571-88888888",
            "abc",
        ] {
            assert_eq!(phone(&t(bad)), None, "{bad}");
        }
    }

    #[test]
    fn dates_written_every_way() {
        let sept1 = NaiveDate::from_ymd_opt(2026, 9, 1);
        for raw in [
            "2026-09-01",
            "2026/9/1",
            "2026.9.1",
            "2026年9月1日",
            "2026年09月01日",
            "20260901",
            "2026-09-01 00:00:00",
            "２０２６/９/１",
        ] {
            assert_eq!(date(&t(raw)), sept1, "{raw}");
        }
        assert_eq!(date(&Cell::Float(46266.0)), sept1);
        assert_eq!(date(&Cell::Int(20260901)), sept1);
        assert_eq!(
            date(&Cell::DateTime(
                sept1.unwrap().and_hms_opt(0, 0, 0).unwrap()
            )),
            sept1
        );
        assert_eq!(date(&Cell::Float(60.0)), None);
        for bad in ["2026-13-01", "2026-02-30", "9/1/2026", "明天", "1.5"] {
            assert_eq!(date(&t(bad)), None, "{bad}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(status(&t("在读")), Some("active"));
        assert_eq!(status(&t(" Withdrawn ")), Some("withdrawn"));
        assert_eq!(status(&t("毕业?")), None);
    }

    proptest! {
        #[test]
        fn any_mobile_survives_any_decoration(
            second in 3u8..=9,
            rest in proptest::collection::vec(0u8..=9, 9),
            prefix in prop_oneof![Just(""), Just("+86"), Just("+86 "), Just("0086"), Just("86"), Just("(+86)")],
            sep in prop_oneof![Just(""), Just(" "), Just("-")],
            full_width in any::<bool>(),
        ) {
            let digits: String = std::iter::once('1')
                .chain(std::iter::once(char::from(b'0' + second)))
                .chain(rest.iter().map(|d| char::from(b'0' + d)))
                .collect();
            let grouped = format!("{}{sep}{}{sep}{}", &digits[..3], &digits[3..7], &digits[7..]);
            let mut raw = format!("{prefix}{grouped}");
            if full_width {
                raw = raw.chars().map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c }).collect();
            }
            prop_assert_eq!(phone(&Cell::Text(raw)), Some(digits));
        }

        #[test]
        fn non_mobiles_are_refused(n in 0u64..100_000_000_000) {
            let s = n.to_string();
            prop_assert_eq!(phone(&Cell::Text(s.clone())).is_some(), is_mobile(&s));
        }
    }
}
