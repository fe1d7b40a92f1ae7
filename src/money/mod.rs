//! Money: yuan as `rust_decimal::Decimal` with exactly two places, integer fen at the edges
//! (the database, the channels' wire formats), and exact allocation so that a split never loses
//! or invents a fen; and amounts in Chinese capitals for receipts ([`chinese_capitals`]).
//! Never `f64`.

mod capitals;

pub use capitals::chinese_capitals;

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// An amount of money in yuan, always with two decimal places (fen precision). Crosses every
/// boundary (JSON, IPC) as a decimal string: `"33.34"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Money(Decimal);

/// The largest amount FeeDesk handles: 999,999,999,999.99 yuan, far beyond any fee, and well
/// inside `i64` fen.
const MAX_FEN: i64 = 99_999_999_999_999;

impl Money {
    /// Zero yuan.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// From integer fen (the database's and WeChat Pay's unit).
    pub fn from_fen(fen: i64) -> Result<Money> {
        if fen.unsigned_abs() > MAX_FEN as u64 {
            return Err(Error::Validation(format!(
                "{fen} fen is beyond the largest amount FeeDesk handles"
            )));
        }
        Ok(Money(Decimal::new(fen, 2)))
    }

    /// To integer fen. Exact: every `Money` has at most two decimal places.
    pub fn fen(self) -> i64 {
        let mut d = self.0;
        d.rescale(2);
        // Within MAX_FEN by construction, so the mantissa fits i64.
        i64::try_from(d.mantissa()).unwrap_or(if d.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    /// The decimal value in yuan.
    pub fn yuan(self) -> Decimal {
        self.0
    }

    /// Whether the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// `self + other`, refusing amounts beyond the supported range.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        Money::from_fen(self.fen().checked_add(other.fen()).ok_or_else(overflow)?)
    }

    /// `self - other`, refusing amounts beyond the supported range.
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        Money::from_fen(self.fen().checked_sub(other.fen()).ok_or_else(overflow)?)
    }
}

fn overflow() -> Error {
    Error::Validation("the amount is beyond the largest amount FeeDesk handles".into())
}

impl FromStr for Money {
    type Err = Error;

    /// Parses `1234.5`, `1234.56`, `¥1,234.56` or `-0.01`. Strict, because a misread amount
    /// is money: a comma only between groups of three digits (`1,50` is refused, not 150), no
    /// exponent (`1e2`), no third decimal place (refused rather than rounded away), nothing
    /// beyond the largest amount.
    fn from_str(text: &str) -> Result<Money> {
        let shown = crate::text::clip(text);
        let not_amount = || {
            Error::Validation(format!(
                "'{shown}' is not an amount; write it like 1234.56 (a comma only between groups of three digits, as in 1,234.56)"
            ))
        };
        let t = text.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let t = t.strip_prefix(['¥', '￥']).unwrap_or(t);
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (t, None),
        };
        let digits = grouped_digits(whole).ok_or_else(not_amount)?;
        let frac = frac.unwrap_or("");
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (digits.is_empty() && frac.is_empty()) {
            return Err(not_amount());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 {
            return Err(Error::Validation(format!(
                "'{shown}' has more than two decimal places; amounts are in yuan to the fen"
            )));
        }
        let digits = digits.trim_start_matches('0');
        if digits.len() > 12 {
            return Err(Error::Validation(format!(
                "'{shown}' is beyond the largest amount FeeDesk handles (999,999,999,999.99 yuan)"
            )));
        }
        let fen = format!("{digits}{frac:0<2}")
            .parse::<i64>()
            .map_err(|_| not_amount())?;
        Money::from_fen(if negative { -fen } else { fen })
    }
}

/// The digits of a whole part written plain (`1234`) or grouped by commas in threes
/// (`1,234,567`); `None` for anything else (`1,50`, `12,34,567`, `1e2`).
fn grouped_digits(whole: &str) -> Option<String> {
    if !whole.contains(',') {
        return whole
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| whole.to_string());
    }
    let mut groups = whole.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

impl fmt::Display for Money {
    /// `1234.50`: always two places, no grouping (the form JSON and exports use).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0;
        d.rescale(2);
        write!(f, "{d}")
    }
}

impl Serialize for Money {
    /// As a decimal string (`"33.34"`), never a JSON number that a reader could turn into a float.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Money, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Splits `total` into `parts` amounts that differ by at most one fen and sum exactly to
/// `total` (largest remainder). The leftover fen go to the first parts, in order:
/// 100.00 / 3 = 33.34, 33.33, 33.33. Callers order the parts deterministically (e.g. by member
/// number) so that the same split always charges the same people the extra fen.
pub fn allocate(total: Money, parts: usize) -> Result<Vec<Money>> {
    allocate_by_weights(total, &vec![1; parts])
}

/// Splits `total` in proportion to `weights` by the largest-remainder method: each part gets
/// the floor of its exact share, and the fen left over go one each to the parts with the
/// largest remainders, ties to the earlier part. The parts sum exactly to `total`.
pub fn allocate_by_weights(total: Money, weights: &[u64]) -> Result<Vec<Money>> {
    if weights.is_empty() {
        return Err(Error::Validation(
            "there is no one to split the amount between".into(),
        ));
    }
    if total.is_negative() {
        return Err(Error::Validation(
            "only a positive amount can be split".into(),
        ));
    }
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if sum == 0 {
        return Err(Error::Validation(
            "the split's weights add up to zero".into(),
        ));
    }
    let fen = total.fen() as u128;
    let mut shares: Vec<(usize, u128, u128)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let exact = fen * u128::from(*w);
            (i, exact / sum, exact % sum)
        })
        .collect();
    let given: u128 = shares.iter().map(|s| s.1).sum();
    let mut leftover = fen - given;
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2).then(a.cmp(b)));
    for i in order {
        if leftover == 0 {
            break;
        }
        shares[i].1 += 1;
        leftover -= 1;
    }
    shares
        .into_iter()
        .map(|(_, f, _)| Money::from_fen(i64::try_from(f).map_err(|_| overflow())?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_to_the_fen() {
        assert_eq!(m("1234.5").to_string(), "1234.50");
        assert_eq!(m("¥1,234.56").fen(), 123456);
        assert_eq!(m("-0.01").fen(), -1);
        assert_eq!(m("10").to_string(), "10.00");
        assert_eq!(m("0.10").to_string(), "0.10");
        assert_eq!(
            m("1.230").fen(),
            123,
            "a trailing zero is not a third place"
        );
        assert!("1.234".parse::<Money>().is_err());
        assert!("abc".parse::<Money>().is_err());
        assert_eq!(m("1,234,567.89").fen(), 123_456_789);
        assert_eq!(m("-¥1,000").fen(), -100_000);
        assert_eq!(m("+5").fen(), 500);
        assert_eq!(m(".5").fen(), 50);
        for bad in [
            "1,50",
            "1,5",
            "12,34,567",
            ",123",
            "1,234,",
            "1,,234",
            "1e2",
            "1E2",
            "0x10",
            "1 000",
            "NaN",
            "inf",
            "",
            "-",
            ".",
            "1.2.3",
            "--1",
            "1,234.5,6",
        ] {
            let err = bad.parse::<Money>().unwrap_err().to_string();
            assert!(err.contains("not an amount"), "{bad}: {err}");
        }
        let err = "1000000000000".parse::<Money>().unwrap_err().to_string();
        assert!(err.contains("beyond the largest amount"), "{err}");
        let err = "99999999999999999999999999999999"
            .parse::<Money>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("beyond the largest amount"), "{err}");
        assert_eq!(m("999,999,999,999.99").fen(), MAX_FEN);
        assert_eq!(m("000012.50").fen(), 1250);
        let long = "9".repeat(10_000);
        assert!(long.parse::<Money>().unwrap_err().to_string().len() < 300);
        // i64::MIN fen is beyond the range, not a panic.
        assert!("-92233720368547758.08".parse::<Money>().is_err());
        assert!(Money::from_fen(i64::MIN).is_err());
        assert_eq!(serde_json::to_string(&m("33.34")).unwrap(), "\"33.34\"");
        assert_eq!(
            serde_json::from_str::<Money>("\"33.34\"").unwrap(),
            m("33.34")
        );
    }

    #[test]
    fn splits_as_the_product_says() {
        let parts: Vec<String> = allocate(m("100.00"), 3)
            .unwrap()
            .iter()
            .map(Money::to_string)
            .collect();
        assert_eq!(parts, ["33.34", "33.33", "33.33"]);
        let parts: Vec<i64> = allocate(m("0.02"), 3)
            .unwrap()
            .iter()
            .map(|p| p.fen())
            .collect();
        assert_eq!(parts, [1, 1, 0]);
        assert!(allocate(m("1.00"), 0).is_err());
        let weighted: Vec<i64> = allocate_by_weights(m("10.00"), &[1, 2])
            .unwrap()
            .iter()
            .map(|p| p.fen())
            .collect();
        assert_eq!(weighted, [333, 667]);
    }

    proptest! {
        #[test]
        fn equal_splits_sum_exactly_and_differ_by_at_most_one_fen(fen in 0i64..10_000_000_000, parts in 1usize..500) {
            let total = Money::from_fen(fen).unwrap();
            let split = allocate(total, parts).unwrap();
            prop_assert_eq!(split.len(), parts);
            prop_assert_eq!(split.iter().map(|p| p.fen()).sum::<i64>(), fen);
            let max = split.iter().map(|p| p.fen()).max().unwrap();
            let min = split.iter().map(|p| p.fen()).min().unwrap();
            prop_assert!(max - min <= 1);
            // The extra fen go to the first parts.
            prop_assert!(split.windows(2).all(|w| w[0] >= w[1]));
        }

        #[test]
        fn weighted_splits_sum_exactly(fen in 0i64..1_000_000_000, weights in proptest::collection::vec(0u64..1000, 1..50)) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let split = allocate_by_weights(Money::from_fen(fen).unwrap(), &weights).unwrap();
            prop_assert_eq!(split.iter().map(|p| p.fen()).sum::<i64>(), fen);
            let sum = i128::from(weights.iter().sum::<u64>());
            for (p, w) in split.iter().zip(&weights) {
                // Each part is within one fen of its exact share fen * w / sum.
                let off = i128::from(p.fen()) * sum - i128::from(fen) * i128::from(*w);
                prop_assert!(off.abs() < sum);
            }
        }

        #[test]
        fn fen_and_yuan_round_trip(fen in -MAX_FEN..=MAX_FEN) {
            let money = Money::from_fen(fen).unwrap();
            prop_assert_eq!(money.fen(), fen);
            let back: Money = money.to_string().parse().unwrap();
            prop_assert_eq!(back, money);
            prop_assert_eq!(back.fen(), fen);
        }
    }
}
