//! Amounts in Chinese capitals (大写金额), as accountants write them on receipts and cheques:
//! 1234.56 → 壹仟贰佰叁拾肆元伍角陆分. The rules (《支付结算办法》 and common practice):
//! - a run of zeros inside the yuan figure is written as one 零 (1409 → 壹仟肆佰零玖元);
//!   zeros at the end of a 万 or 亿 section are not written (10,001 → 壹万零壹元);
//! - tens are written with their digit (10 → 壹拾元);
//! - 零 stands between 元 and 分 when there are no 角 (100.05 → 壹佰元零伍分); between 元 and
//!   角 it is optional, and FeeDesk leaves it out (1000.50 → 壹仟元伍角整);
//! - 整 closes an amount without 分; below one yuan there is no 元 (0.10 → 壹角整);
//! - zero is 零元整; a negative amount (a refund shown as such) starts with 负.

use super::Money;

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const PLACES: [&str; 4] = ["", "拾", "佰", "仟"];
const SECTIONS: [&str; 3] = ["", "万", "亿"];

/// The amount in Chinese capitals.
pub fn chinese_capitals(amount: Money) -> String {
    let fen = amount.fen();
    let sign = if fen < 0 { "负" } else { "" };
    let fen = fen.unsigned_abs();
    let (yuan, jiao, fen) = (fen / 100, (fen / 10) % 10, fen % 10);
    if yuan == 0 && jiao == 0 && fen == 0 {
        return "零元整".into();
    }
    let mut out = String::from(sign);
    if yuan > 0 {
        out.push_str(&integer(yuan));
        out.push('元');
    }
    if jiao > 0 {
        out.push(DIGITS[jiao as usize]);
        out.push('角');
    } else if yuan > 0 && fen > 0 {
        out.push('零');
    }
    if fen > 0 {
        out.push(DIGITS[fen as usize]);
        out.push('分');
    } else {
        out.push('整');
    }
    out
}

/// A whole number of yuan (1 ..= 999,999,999,999) in capitals, without 元.
fn integer(n: u64) -> String {
    let groups = [n % 10_000, (n / 10_000) % 10_000, n / 100_000_000];
    let mut out = String::new();
    let mut zero_pending = false;
    for section in (0..groups.len()).rev() {
        let group = groups[section];
        if group == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        // A group with leading zeros (or after an empty group) needs one 零 to bridge the gap.
        if !out.is_empty() && (zero_pending || group < 1000) {
            out.push('零');
        }
        zero_pending = false;
        out.push_str(&four_digits(group));
        out.push_str(SECTIONS[section]);
    }
    out
}

/// 1 ..= 9999 in capitals; inner zeros become one 零, trailing zeros vanish.
fn four_digits(group: u64) -> String {
    let mut out = String::new();
    let mut zero_pending = false;
    for place in (0..4).rev() {
        let digit = (group / 10u64.pow(place as u32)) % 10;
        if digit == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        out.push(DIGITS[digit as usize]);
        out.push_str(PLACES[place]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn caps(text: &str) -> String {
        chinese_capitals(text.parse().unwrap())
    }

    #[test]
    fn accountants_cases() {
        for (amount, expected) in [
            ("0.00", "零元整"),
            ("0.01", "壹分"),
            ("0.10", "壹角整"),
            ("0.15", "壹角伍分"),
            ("1.00", "壹元整"),
            ("10.00", "壹拾元整"),
            ("15.00", "壹拾伍元整"),
            ("100.05", "壹佰元零伍分"),
            ("325.04", "叁佰贰拾伍元零肆分"),
            ("1000.50", "壹仟元伍角整"),
            ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
            ("1409.50", "壹仟肆佰零玖元伍角整"),
            ("6007.14", "陆仟零柒元壹角肆分"),
            ("10001.00", "壹万零壹元整"),
            ("10010.00", "壹万零壹拾元整"),
            ("100000.00", "壹拾万元整"),
            ("107000.53", "壹拾万柒仟元伍角叁分"),
            ("1000000.00", "壹佰万元整"),
            ("10000001.00", "壹仟万零壹元整"),
            ("100000000.00", "壹亿元整"),
            ("100010000.00", "壹亿零壹万元整"),
            ("1000000001.00", "壹拾亿零壹元整"),
            (
                "999999999999.99",
                "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
            ),
            ("-12.30", "负壹拾贰元叁角整"),
            // More of the cases accountants check a converter against.
            ("0.50", "伍角整"),
            ("3.07", "叁元零柒分"),
            ("100.50", "壹佰元伍角整"),
            ("1000.05", "壹仟元零伍分"),
            ("1000.00", "壹仟元整"),
            ("10000.00", "壹万元整"),
            ("100100.00", "壹拾万零壹佰元整"),
            ("100700.00", "壹拾万零柒佰元整"),
            ("1010000.00", "壹佰零壹万元整"),
            ("1000010.00", "壹佰万零壹拾元整"),
            ("20000000.00", "贰仟万元整"),
            ("60036000.00", "陆仟零叁万陆仟元整"),
            ("100000100.00", "壹亿零壹佰元整"),
            ("110000000.00", "壹亿壹仟万元整"),
            ("200000000.07", "贰亿元零柒分"),
        ] {
            assert_eq!(caps(amount), expected, "{amount}");
        }
    }

    /// A second, independent formulation: write every digit with its unit, zeros included,
    /// then apply the reduction rules as text substitutions.
    fn by_substitution(fen: u64) -> String {
        let (yuan, jiao, fen) = (fen / 100, (fen / 10) % 10, fen % 10);
        let units = [
            "", "拾", "佰", "仟", "万", "拾", "佰", "仟", "亿", "拾", "佰", "仟",
        ];
        let digits: Vec<u64> = yuan
            .to_string()
            .chars()
            .map(|c| u64::from(c.to_digit(10).unwrap()))
            .collect();
        let mut text = String::new();
        for (i, d) in digits.iter().enumerate() {
            let place = digits.len() - 1 - i;
            text.push(DIGITS[*d as usize]);
            text.push_str(units[place]);
        }
        let mut prev = String::new();
        while prev != text {
            prev = text.clone();
            for (from, to) in [
                ("零拾", "零"),
                ("零佰", "零"),
                ("零仟", "零"),
                ("零零", "零"),
                ("零万", "万"),
                ("零亿", "亿"),
                ("亿万", "亿零"),
            ] {
                text = text.replace(from, to);
            }
        }
        let mut text = text.trim_end_matches('零').to_string();
        if yuan == 0 {
            text.clear();
        } else {
            text.push('元');
        }
        match (jiao, fen) {
            (0, 0) if yuan == 0 => return "零元整".into(),
            (0, 0) => text.push('整'),
            (0, f) => {
                if yuan > 0 {
                    text.push('零');
                }
                text.push(DIGITS[f as usize]);
                text.push('分');
            }
            (j, 0) => {
                text.push(DIGITS[j as usize]);
                text.push_str("角整");
            }
            (j, f) => {
                text.push(DIGITS[j as usize]);
                text.push('角');
                text.push(DIGITS[f as usize]);
                text.push('分');
            }
        }
        text
    }

    /// A third formulation, digit by digit with a small state machine: walk the yuan figure
    /// from its highest place; a zero after something was written only arms a pending 零,
    /// which the next non-zero digit writes; a section's 万/亿 is written when the section
    /// held a non-zero digit, and disarms the pending 零 (zeros closing a section are silent).
    fn by_state_machine(fen: u64) -> String {
        #[derive(PartialEq)]
        enum State {
            Start,
            Writing,
            ZeroPending,
        }
        let (yuan, jiao, fen) = (fen / 100, (fen / 10) % 10, fen % 10);
        let mut out = String::new();
        let mut state = State::Start;
        let mut section_has_digit = false;
        for pos in (0..12u32).rev() {
            let digit = (yuan / 10u64.pow(pos)) % 10;
            let (place, section) = (pos % 4, pos / 4);
            if digit == 0 {
                if state == State::Writing {
                    state = State::ZeroPending;
                }
            } else {
                if state == State::ZeroPending {
                    out.push('零');
                }
                out.push(DIGITS[digit as usize]);
                out.push_str(["", "拾", "佰", "仟"][place as usize]);
                state = State::Writing;
                section_has_digit = true;
            }
            if place == 0 && section > 0 && section_has_digit {
                out.push_str(["", "万", "亿"][section as usize]);
                state = State::Writing;
                section_has_digit = false;
            }
        }
        let whole = !out.is_empty();
        if whole {
            out.push('元');
        }
        if jiao > 0 {
            out.push(DIGITS[jiao as usize]);
            out.push('角');
        } else if whole && fen > 0 {
            out.push('零');
        }
        if fen > 0 {
            out.push(DIGITS[fen as usize]);
            out.push('分');
        } else if whole || jiao > 0 {
            out.push('整');
        } else {
            return "零元整".into();
        }
        out
    }

    #[test]
    fn the_state_machine_agrees_on_the_accountants_cases() {
        for (amount, expected) in [
            ("0.01", "壹分"),
            ("0.10", "壹角整"),
            ("10.00", "壹拾元整"),
            ("100.05", "壹佰元零伍分"),
            ("1000.50", "壹仟元伍角整"),
            ("10001.00", "壹万零壹元整"),
            ("100000000.00", "壹亿元整"),
            ("107000.53", "壹拾万柒仟元伍角叁分"),
            ("0.00", "零元整"),
        ] {
            let fen = caps_fen(amount);
            assert_eq!(by_state_machine(fen), expected, "{amount}");
        }
    }

    fn caps_fen(text: &str) -> u64 {
        text.parse::<Money>().unwrap().fen() as u64
    }

    proptest! {
        #[test]
        fn agrees_with_the_state_machine(fen in 0u64..100_000_000_000_000) {
            let money = Money::from_fen(fen as i64).unwrap();
            prop_assert_eq!(chinese_capitals(money), by_state_machine(fen));
        }

        #[test]
        fn agrees_with_the_state_machine_on_sparse_amounts(digits in proptest::collection::vec(prop_oneof![Just(0u64), Just(0u64), 1u64..10], 1..15)) {
            let fen = digits.iter().fold(0u64, |acc, d| acc * 10 + d);
            let money = Money::from_fen(fen as i64).unwrap();
            prop_assert_eq!(chinese_capitals(money), by_state_machine(fen));
        }

        #[test]
        fn agrees_with_the_substitution_formulation(fen in 0u64..100_000_000_000_000) {
            let money = Money::from_fen(fen as i64).unwrap();
            prop_assert_eq!(chinese_capitals(money), by_substitution(fen));
        }

        #[test]
        fn agrees_on_sparse_amounts(digits in proptest::collection::vec(prop_oneof![Just(0u64), 1u64..10], 1..15)) {
            // Mostly zeros: where the 零 rules matter.
            let fen = digits.iter().fold(0u64, |acc, d| acc * 10 + d);
            let money = Money::from_fen(fen as i64).unwrap();
            prop_assert_eq!(chinese_capitals(money), by_substitution(fen));
        }
    }
}
