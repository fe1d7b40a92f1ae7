//! One spreadsheet cell as the roster importer sees it, whatever file it came from.
//!
//! Numbers stay `f64` here only because that is what spreadsheets store; roster fields are
//! text, dates and phone numbers, never money.

use chrono::NaiveDateTime;

/// A cell value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    /// A spreadsheet error value such as `#N/A`.
    Error(String),
    /// A formula with no calculated value saved (files written by scripts, not by a
    /// spreadsheet application): there is no value to read, and it is not an empty cell.
    Uncalculated,
}

impl Cell {
    /// Whether the cell holds nothing but whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => crate::text::normalize(t).is_empty(),
            _ => false,
        }
    }

    /// The cell as text, borrowed when it already is text.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Text(t) => std::borrow::Cow::Borrowed(t),
            other => std::borrow::Cow::Owned(other.to_text()),
        }
    }

    /// The cell as text a person would read: integral numbers without `.0`, dates as ISO dates.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => float_text(*f),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Cell::DateTime(dt) => {
                if dt.time() == chrono::NaiveTime::MIN {
                    dt.date().to_string()
                } else {
                    dt.to_string()
                }
            }
            Cell::Error(e) => e.clone(),
            Cell::Uncalculated => String::new(),
        }
    }

    /// Whether the cell is a number (a phone or ID typed into a number cell).
    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Float(_))
    }
}

/// Integral floats print without a fraction (`13800138000`), others as Rust prints them.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e17 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

impl From<calamine::DataRef<'_>> for Cell {
    fn from(value: calamine::DataRef<'_>) -> Cell {
        use calamine::DataRef as D;
        match value {
            D::Int(i) => Cell::Int(i),
            D::Float(f) => Cell::Float(f),
            D::String(s) => Cell::Text(s),
            D::SharedString(s) => Cell::Text(s.to_string()),
            D::Bool(b) => Cell::Bool(b),
            D::DateTime(dt) => excel_datetime(&dt),
            D::DateTimeIso(s) => iso_datetime(s),
            D::DurationIso(s) => Cell::Text(s),
            D::Error(e) => Cell::Error(e.to_string()),
            D::Empty => Cell::Empty,
        }
    }
}

impl From<&calamine::Data> for Cell {
    fn from(value: &calamine::Data) -> Cell {
        use calamine::Data as D;
        match value {
            D::Int(i) => Cell::Int(*i),
            D::Float(f) => Cell::Float(*f),
            D::String(s) => Cell::Text(s.clone()),
            D::Bool(b) => Cell::Bool(*b),
            D::DateTime(dt) => excel_datetime(dt),
            D::DateTimeIso(s) => iso_datetime(s.clone()),
            D::DurationIso(s) => Cell::Text(s.clone()),
            D::Error(e) => Cell::Error(e.to_string()),
            D::Empty => Cell::Empty,
        }
    }
}

fn excel_datetime(dt: &calamine::ExcelDateTime) -> Cell {
    match dt.as_datetime() {
        Some(d) if dt.is_datetime() => Cell::DateTime(d),
        _ => Cell::Float(dt.as_f64()),
    }
}

fn iso_datetime(text: String) -> Cell {
    if let Ok(dt) = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Cell::DateTime(dt);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return Cell::DateTime(d.and_time(chrono::NaiveTime::MIN));
    }
    Cell::Text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_see_them() {
        assert_eq!(Cell::Float(13800138000.0).to_text(), "13800138000");
        assert_eq!(Cell::Float(1.5).to_text(), "1.5");
        assert_eq!(Cell::Int(42).to_text(), "42");
    }
}
