//! Spreadsheet columns as people name them (A, B, …, Z, AA, …): the roster's problems, the
//! error workbook and the exported workbooks all point at cells the way Excel and WPS show them.

/// Column letters of a 0-based column: 0 -> A, 27 -> AB.
pub fn column_letter(mut col: u16) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Column letters of a 0-based column index of any size (past XFD, Excel's last, it still
/// names a column rather than failing).
pub fn column_letter_of(index: usize) -> String {
    column_letter(u16::try_from(index).unwrap_or(u16::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_as_excel_shows_them() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(16383), "XFD");
        assert_eq!(column_letter_of(1 << 40), column_letter(u16::MAX));
    }
}
