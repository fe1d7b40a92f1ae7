//! GB 11643-1999 citizen identity numbers: 17 digits (region, birth date, sequence) and a
//! check character computed by ISO 7064 MOD 11-2.

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why an identity number is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    /// Not 18 characters of 17 digits and a digit or X.
    Shape,
    /// A first-generation 15-digit number, invalid since 2013.
    OldFifteenDigit,
    /// The embedded birth date is not a real date.
    BirthDate,
    /// The check character does not match.
    Checksum,
}

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Validates a normalised number (upper-case X, no spaces).
pub fn validate(id: &str) -> Result<(), IdProblem> {
    let bytes = id.as_bytes();
    if bytes.len() == 15 && bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdProblem::OldFifteenDigit);
    }
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return Err(IdProblem::Shape);
    }
    let birth = std::str::from_utf8(&bytes[6..14]).unwrap_or("");
    if NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
        return Err(IdProblem::BirthDate);
    }
    let mut first17 = [0u8; 17];
    first17.copy_from_slice(&bytes[..17]);
    if check_char(&first17) != bytes[17] as char {
        return Err(IdProblem::Checksum);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_numbers() {
        // Published examples of valid numbers.
        assert_eq!(validate("11010519491231002X"), Ok(()));
        assert_eq!(validate("440524188001010014"), Ok(()));
        assert_eq!(validate("110105194912310021"), Err(IdProblem::Checksum));
        assert_eq!(validate("110105194913310029"), Err(IdProblem::BirthDate));
        assert_eq!(validate("110105491231002"), Err(IdProblem::OldFifteenDigit));
        assert_eq!(validate("11010519491231002"), Err(IdProblem::Shape));
    }

    /// An independent formulation of MOD 11-2: the check value `c` makes the weighted sum over
    /// all 18 positions, with weights 2^(17-i) mod 11 and X meaning 10, equal 1 (mod 11).
    fn iso7064_ok(id: &str) -> bool {
        let sum: u32 = id
            .chars()
            .enumerate()
            .map(|(i, ch)| {
                let v = if ch == 'X' {
                    10
                } else {
                    ch.to_digit(10).unwrap()
                };
                let w = (1u32 << (17 - i)) % 11;
                v * w
            })
            .sum();
        sum % 11 == 1
    }

    proptest! {
        #[test]
        fn check_char_agrees_with_iso7064(region in 110000u32..660000, days in 0i64..40000, seq in 0u32..1000) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let body = format!("{region:06}{}{seq:03}", birth.format("%Y%m%d"));
            let mut first17 = [0u8; 17];
            first17.copy_from_slice(body.as_bytes());
            let id = format!("{body}{}", check_char(&first17));
            prop_assert!(iso7064_ok(&id));
            prop_assert_eq!(validate(&id), Ok(()));
            // Every other check character is refused.
            for other in CHECK_CHARS.iter().filter(|c| **c != id.chars().last().unwrap()) {
                let wrong = format!("{body}{other}");
                prop_assert_eq!(validate(&wrong), Err(IdProblem::Checksum));
                prop_assert!(!iso7064_ok(&wrong));
            }
        }
    }
}
