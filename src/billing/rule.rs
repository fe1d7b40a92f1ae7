//! Amount rules and discounts, as written on the command line and stored on a plan:
//!
//! - `fixed:3000` — every member is charged 3000.00.
//! - `split:100` — 100.00 split equally, exact to the fen by largest remainder; members are
//!   ordered by store code then member number and the leftover fen go to the first ones
//!   (100.00 / 3 = 33.34, 33.33, 33.33).
//! - `tiers:2026-08-15=2800,2026-08-31=2900,3000` — dated price tiers (early bird): paid on or
//!   before 2026-08-15 it costs 2800.00, up to 2026-08-31 2900.00, later 3000.00. The price is
//!   that of the day the bill is first paid (the day a QR order is opened, for a channel), in
//!   the institution's time zone: bills are issued at the last price (what is owed when paid
//!   late, and what reminders chase) and brought down at payment.
//! - `declared:50-500` — self-declared (自主申报, donations and AA splits): the payer chooses
//!   the amount within [50.00, 500.00] when paying, in one payment; the bill is due the minimum
//!   until then.
//!
//! Discounts are per member: `M001=10%:兄弟姐妹` (a percentage of the gross, rounded half up to
//! the fen) or `M001=200:奖学金` (a fixed amount), always with a reason; a member of a store
//! other than the plan's may be written `XH/M001=...`. A discount never takes a bill below zero.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::money::{Money, allocate};
use crate::text::normalize;
use crate::{Error, Result};

/// How a plan computes what each member owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountRule {
    Fixed(Money),
    Split(Money),
    /// Prices by the last day they apply, ascending, then the price after the last day.
    Tiers {
        tiers: Vec<(NaiveDate, Money)>,
        after: Money,
    },
    Declared {
        min: Money,
        max: Money,
    },
}

fn rule_error(text: &str, why: &str) -> Error {
    Error::Validation(format!(
        "amount rule '{text}': {why}; write fixed:AMOUNT, split:TOTAL, \
         tiers:YYYY-MM-DD=AMOUNT,...,AMOUNT or declared:MIN-MAX"
    ))
}

fn positive(text: &str, amount: &str) -> Result<Money> {
    let m: Money = amount
        .parse()
        .map_err(|e: Error| rule_error(text, &e.to_string()))?;
    if m.is_negative() {
        return Err(rule_error(text, "amounts cannot be negative"));
    }
    Ok(m)
}

impl FromStr for AmountRule {
    type Err = Error;

    fn from_str(input: &str) -> Result<AmountRule> {
        let text = normalize(input);
        let (kind, body) = text
            .split_once(':')
            .ok_or_else(|| rule_error(&text, "the kind of rule is missing"))?;
        let body = body.trim();
        match kind.trim().to_ascii_lowercase().as_str() {
            "fixed" => Ok(AmountRule::Fixed(positive(&text, body)?)),
            "split" => {
                let total = positive(&text, body)?;
                if total == Money::ZERO {
                    return Err(rule_error(&text, "there is nothing to split"));
                }
                Ok(AmountRule::Split(total))
            }
            "tiers" => {
                let parts: Vec<&str> = body.split(',').map(str::trim).collect();
                let (last, dated) = parts
                    .split_last()
                    .ok_or_else(|| rule_error(&text, "no tiers"))?;
                if dated.is_empty() || last.contains('=') {
                    return Err(rule_error(
                        &text,
                        "give at least one DATE=AMOUNT and end with the price after the last date",
                    ));
                }
                let mut tiers = Vec::with_capacity(dated.len());
                for part in dated {
                    let (date, amount) = part.split_once('=').ok_or_else(|| {
                        rule_error(&text, &format!("'{part}' is not DATE=AMOUNT"))
                    })?;
                    let date =
                        NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
                            rule_error(
                                &text,
                                &format!("'{}' is not a date (YYYY-MM-DD)", date.trim()),
                            )
                        })?;
                    if tiers.last().is_some_and(|(d, _)| *d >= date) {
                        return Err(rule_error(&text, "tier dates must ascend"));
                    }
                    tiers.push((date, positive(&text, amount.trim())?));
                }
                Ok(AmountRule::Tiers {
                    tiers,
                    after: positive(&text, last)?,
                })
            }
            "declared" => {
                let (min, max) = body
                    .split_once('-')
                    .ok_or_else(|| rule_error(&text, "write the range as MIN-MAX"))?;
                let (min, max) = (positive(&text, min.trim())?, positive(&text, max.trim())?);
                if max < min || max == Money::ZERO {
                    return Err(rule_error(
                        &text,
                        "the maximum must be above zero and the minimum",
                    ));
                }
                Ok(AmountRule::Declared { min, max })
            }
            other => Err(rule_error(
                &text,
                &format!("'{other}' is not a kind of rule"),
            )),
        }
    }
}

impl fmt::Display for AmountRule {
    /// The canonical form, which parses back to the same rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountRule::Fixed(m) => write!(f, "fixed:{m}"),
            AmountRule::Split(m) => write!(f, "split:{m}"),
            AmountRule::Tiers { tiers, after } => {
                write!(f, "tiers:")?;
                for (date, m) in tiers {
                    write!(f, "{}={m},", date.format("%Y-%m-%d"))?;
                }
                write!(f, "{after}")
            }
            AmountRule::Declared { min, max } => write!(f, "declared:{min}-{max}"),
        }
    }
}

impl AmountRule {
    /// What each of `members` members (in the documented order) is charged before discounts
    /// when the bills are issued (`today`): a tier rule issues at its last price, and the
    /// payment day prices it ([`AmountRule::price_on`]).
    pub fn gross(&self, members: usize, today: NaiveDate) -> Result<Vec<Money>> {
        Ok(match self {
            AmountRule::Fixed(m) => vec![*m; members],
            AmountRule::Split(total) => {
                if members == 0 {
                    return Ok(vec![]);
                }
                allocate(*total, members)?
            }
            AmountRule::Tiers { after, .. } => {
                let _ = today;
                vec![*after; members]
            }
            AmountRule::Declared { min, .. } => vec![*min; members],
        })
    }

    /// The tier price in force on `day` (the fixed price for other rules).
    pub fn price_on(&self, day: NaiveDate) -> Money {
        match self {
            AmountRule::Fixed(m) | AmountRule::Split(m) => *m,
            AmountRule::Tiers { tiers, after } => tiers
                .iter()
                .find(|(last_day, _)| day <= *last_day)
                .map_or(*after, |(_, m)| *m),
            AmountRule::Declared { min, .. } => *min,
        }
    }

    /// A tier rule's prices as people read them on a bill: "¥2,800 until 8/31, then ¥3,000"
    /// (`None` for other rules).
    pub fn schedule(&self) -> Option<String> {
        let AmountRule::Tiers { tiers, after } = self else {
            return None;
        };
        let price = |m: Money| {
            let text = crate::receipts::yuan_figures(m);
            text.strip_suffix(".00").map(str::to_string).unwrap_or(text)
        };
        let mut parts: Vec<String> = tiers
            .iter()
            .map(|(day, m)| format!("{} until {}", price(*m), day.format("%-m/%-d")))
            .collect();
        parts.push(format!("then {}", price(*after)));
        Some(parts.join(", "))
    }

    /// The self-declared range, for declared rules.
    pub fn declared_range(&self) -> Option<(Money, Money)> {
        match self {
            AmountRule::Declared { min, max } => Some((*min, *max)),
            _ => None,
        }
    }
}

/// A discount's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountValue {
    /// In hundredths of a percent: 1000 is 10%.
    Percent(i64),
    Fixed(Money),
}

impl DiscountValue {
    /// The discount on `gross`: a percentage rounded half up to the fen, never above `gross`.
    pub fn on(self, gross: Money) -> Result<Money> {
        let off = match self {
            DiscountValue::Percent(hundredths) => {
                let exact = gross.yuan() * Decimal::new(hundredths, 4);
                exact
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
                    .to_string()
                    .parse::<Money>()?
            }
            DiscountValue::Fixed(m) => m,
        };
        Ok(off.min(gross))
    }

    /// (kind, value) as stored.
    pub fn stored(self) -> (&'static str, i64) {
        match self {
            DiscountValue::Percent(h) => ("percent", h),
            DiscountValue::Fixed(m) => ("fixed", m.fen()),
        }
    }

    pub fn from_stored(kind: &str, value: i64) -> Result<DiscountValue> {
        match kind {
            "percent" => Ok(DiscountValue::Percent(value)),
            _ => Ok(DiscountValue::Fixed(Money::from_fen(value)?)),
        }
    }
}

impl fmt::Display for DiscountValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscountValue::Percent(h) => write!(f, "{}%", Decimal::new(*h, 2).normalize()),
            DiscountValue::Fixed(m) => write!(f, "{m}"),
        }
    }
}

/// A discount for one member, as written: `[STORE/]MEMBER_NO=10%:reason` or `=200:reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub store: Option<String>,
    pub member_no: String,
    pub value: DiscountValue,
    pub reason: String,
}

impl FromStr for Discount {
    type Err = Error;

    fn from_str(input: &str) -> Result<Discount> {
        let text = normalize(input);
        let bad = |why: &str| {
            Error::Validation(format!(
                "discount '{text}': {why}; write MEMBER_NO=10%:REASON or MEMBER_NO=200:REASON"
            ))
        };
        let (who, rest) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
        let (value, reason) = rest
            .split_once(':')
            .ok_or_else(|| bad("a reason is required"))?;
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(bad("a reason is required"));
        }
        let (store, member_no) = match who.split_once('/') {
            Some((s, m)) => (Some(s.trim().to_ascii_uppercase()), m.trim().to_string()),
            None => (None, who.trim().to_string()),
        };
        if member_no.is_empty() {
            return Err(bad("the member number is missing"));
        }
        let value = value.trim();
        let value = if let Some(pct) = value.strip_suffix('%') {
            let d =
                Decimal::from_str(pct.trim()).map_err(|_| bad("the percentage is not a number"))?;
            if d <= Decimal::ZERO
                || d > Decimal::ONE_HUNDRED
                || (d * Decimal::ONE_HUNDRED).fract() != Decimal::ZERO
            {
                return Err(bad(
                    "a percentage must be above 0 and at most 100, to 2 places",
                ));
            }
            let hundredths = (d * Decimal::ONE_HUNDRED)
                .to_i64()
                .ok_or_else(|| bad("the percentage is out of range"))?;
            DiscountValue::Percent(hundredths)
        } else {
            let m: Money = value.parse().map_err(|e: Error| bad(&e.to_string()))?;
            if m.is_negative() || m == Money::ZERO {
                return Err(bad("a discount must be above zero"));
            }
            DiscountValue::Fixed(m)
        };
        Ok(Discount {
            store,
            member_no,
            value,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn rules_parse_and_print_back() {
        for text in [
            "fixed:3000.00",
            "split:100.00",
            "tiers:2026-08-15=2800.00,2026-08-31=2900.00,3000.00",
            "declared:50.00-500.00",
        ] {
            let rule: AmountRule = text.parse().unwrap();
            assert_eq!(rule.to_string(), text);
        }
        assert_eq!(
            "FIXED: 3000".parse::<AmountRule>().unwrap(),
            AmountRule::Fixed(m("3000"))
        );
    }

    #[test]
    fn bad_rules_say_what_to_write() {
        for text in [
            "3000",
            "fixed:abc",
            "fixed:-1",
            "split:0",
            "tiers:3000",
            "tiers:2026-09-01=1,2026-08-01=2,3",
            "tiers:2026-13-01=1,3",
            "declared:500-50",
            "percent:10",
        ] {
            let err = text.parse::<AmountRule>().unwrap_err().to_string();
            assert!(err.contains("fixed:AMOUNT"), "{text}: {err}");
        }
    }

    #[test]
    fn a_tier_schedule_reads_as_on_the_bill() {
        let tiers: AmountRule = "tiers:2026-08-31=2800,3000".parse().unwrap();
        assert_eq!(
            tiers.schedule().as_deref(),
            Some("¥2,800 until 8/31, then ¥3,000")
        );
        let two: AmountRule = "tiers:2026-08-15=2800.50,2026-08-31=2900,3000"
            .parse()
            .unwrap();
        assert_eq!(
            two.schedule().as_deref(),
            Some("¥2,800.50 until 8/15, ¥2,900 until 8/31, then ¥3,000")
        );
        assert_eq!(AmountRule::Fixed(m("1")).schedule(), None);
    }

    #[test]
    fn split_is_exact_and_tiers_follow_the_issue_day() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 8, d).unwrap();
        let split: AmountRule = "split:100".parse().unwrap();
        assert_eq!(
            split.gross(3, day(1)).unwrap(),
            vec![m("33.34"), m("33.33"), m("33.33")]
        );
        let tiers: AmountRule = "tiers:2026-08-15=2800,2026-08-20=2900,3000"
            .parse()
            .unwrap();
        assert_eq!(tiers.price_on(day(15)), m("2800"));
        assert_eq!(tiers.price_on(day(16)), m("2900"));
        assert_eq!(tiers.price_on(day(21)), m("3000"));
    }

    #[test]
    fn discounts_round_half_up_and_never_go_below_zero() {
        let d: Discount = "XH/M001=12.5%:兄弟姐妹".parse().unwrap();
        assert_eq!(d.store.as_deref(), Some("XH"));
        assert_eq!(d.value, DiscountValue::Percent(1250));
        // 12.5% of 0.20 is 0.025: half up to 0.03.
        assert_eq!(d.value.on(m("0.20")).unwrap(), m("0.03"));
        let fixed: Discount = "M002=200:奖学金".parse().unwrap();
        assert_eq!(fixed.value.on(m("150")).unwrap(), m("150"));
        for bad in [
            "M001=10%",
            "M001=0%:x",
            "M001=101%:x",
            "=10%:x",
            "M001=-5:x",
            "M001=1.234%:x",
        ] {
            assert!(bad.parse::<Discount>().is_err(), "{bad}");
        }
    }
}
