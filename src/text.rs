//! Text as people type it into spreadsheets, made comparable: full-width forms folded to ASCII,
//! invisible characters dropped, runs of spaces collapsed.

/// Folds full-width ASCII variants (`ＡＢＣ１２３`, `（`, the ideographic space) to their
/// half-width forms, drops zero-width characters and the BOM, and collapses whitespace.
pub fn normalize(input: &str) -> String {
    // Most cells are plain ASCII words with nothing to fold: copy them as they are.
    let bytes = input.as_bytes();
    if bytes.iter().all(|b| (0x21..0x7f).contains(b)) {
        return input.to_string();
    }
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.chars() {
        let c = fold_width(c);
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Prose a person typed (a refund's or a void's reason, a note): invisible characters dropped
/// and whitespace collapsed as [`normalize`] does, full-width letters and digits folded, but
/// Chinese full-width punctuation (`，（）：；！？`) kept as typed, since in Chinese prose it
/// is the right form and folding it would change what the person wrote.
pub fn normalize_prose(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.chars() {
        let c = if c.is_whitespace() || c.is_alphanumeric() {
            fold_width(c)
        } else {
            c
        };
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Zero-width characters and the BOM, which spreadsheets carry along invisibly.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}')
}

/// A person's name: [`normalize`]d, and with the spaces people type between Chinese characters
/// ("张 三") removed, while Latin names keep their single spaces.
pub fn normalize_name(input: &str) -> String {
    let text = normalize(input);
    if !text.contains(' ') {
        return text;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev_cjk = i > 0 && is_cjk(chars[i - 1]);
            let next_cjk = chars.get(i + 1).is_some_and(|&n| is_cjk(n));
            if prev_cjk || next_cjk {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// A key for matching header texts and names case- and space-insensitively.
pub fn match_key(input: &str) -> String {
    normalize(input)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*' | ':' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folds one full-width ASCII variant (or the ideographic space) to its half-width form.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        _ => c,
    }
}

/// Whether `c` is a CJK ideograph (or the middle dot used in transliterated names).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}' | '·')
}

/// Whether a text would be read as a formula by a spreadsheet. Such text is stored as is and
/// always written back as a string cell, never as a formula.
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@']) && text.len() > 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_spaces() {
        assert_eq!(normalize("  ＡＢ１２\u{3000}３ "), "AB12 3");
        assert_eq!(normalize("a\u{200B}b\t\tc"), "ab c");
        assert_eq!(normalize("（一）班"), "(一)班");
    }

    #[test]
    fn prose_keeps_chinese_punctuation() {
        assert_eq!(
            normalize_prose(" 退学退费（家长申请），见：附件！ "),
            "退学退费（家长申请），见：附件！"
        );
        assert_eq!(normalize_prose("ＡＢ１２\u{3000}\u{200B}x"), "AB12 x");
    }

    #[test]
    fn removes_spaces_inside_chinese_names_only() {
        assert_eq!(normalize_name(" 张 三 "), "张三");
        assert_eq!(normalize_name("欧阳　 娜娜"), "欧阳娜娜");
        assert_eq!(normalize_name("Li  Wei"), "Li Wei");
    }

    #[test]
    fn match_key_ignores_case_space_and_marks() {
        assert_eq!(match_key("Member No *"), "memberno");
        assert_eq!(match_key("member_no"), "memberno");
        assert_eq!(match_key("姓 名："), "姓名");
    }
}
