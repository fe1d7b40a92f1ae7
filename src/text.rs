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

/// The key under which class names are the same class: [`normalize`]d (full-width forms
/// folded), with brackets of any style (`()（）[]【】〔〕`) and spaces dropped and letters
/// lower-cased, so `三年级(2)班`, `三年级（2）班`, `三年级 (2) 班`, `三年级【2】班` and
/// `三年级2班` are one class. Where a dropped bracket or space stood between two digits it
/// leaves a mark, so `1(2)班` (grade 1, class 2) never becomes `12班` (class 12).
pub fn class_key(name: &str) -> String {
    let text = normalize(name);
    let dropped = |c: char| c.is_whitespace() || is_bracket(c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if dropped(c) {
            let after_digit = out.chars().last().is_some_and(|p| p.is_ascii_digit());
            let before_digit = chars[i + 1..]
                .iter()
                .find(|n| !dropped(**n))
                .is_some_and(|n| n.is_ascii_digit());
            if after_digit && before_digit {
                out.push('|');
            }
            continue;
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn is_bracket(c: char) -> bool {
    matches!(
        c,
        '(' | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '【'
            | '】'
            | '〔'
            | '〕'
            | '〖'
            | '〗'
            | '「'
            | '」'
            | '〈'
            | '〉'
            | '《'
            | '》'
    )
}

/// The first character no stored text may hold: a control character (NUL and the like; tabs
/// and line breaks are only spacing, folded by [`normalize`]) or an invisible direction
/// override that makes a name display differently from what it is.
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|c| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
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

/// How many characters of a value a message quotes.
pub const QUOTE_CHARS: usize = 80;

/// A value as a message quotes it: at most [`QUOTE_CHARS`] characters (then `…`), control
/// characters shown as `\u{..}` escapes, so a hostile cell can neither flood a message (nor
/// the window it crosses to) nor hide in it.
pub fn clip(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == QUOTE_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Longest message sent anywhere whole (a CLI line, the window): values in messages are
/// already [`clip`]ped, this bounds whatever else a message carries.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// A message bounded to [`MAX_MESSAGE_CHARS`] characters (then `…`).
pub fn bound_message(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => message,
        Some((at, _)) => format!("{}…", &message[..at]),
    }
}

/// Whether a spreadsheet opening a CSV file would read the text as a formula (or start one):
/// it begins with `=`, `+`, `-`, `@`, a tab or a carriage return. A plain signed number
/// (`-12.50`) is a number, not a formula. Such text is stored as is; workbooks always write it
/// as a string cell, and CSV files through [`inert_csv_cell`].
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(text)
}

/// A CSV cell that no spreadsheet runs: text that [`looks_like_formula`] gets a leading `'`
/// (which Excel and WPS show as text and hide), everything else is written as it is.
pub fn inert_csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if looks_like_formula(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `-12`, `+3.50`: an optional sign, digits, an optional fraction.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !frac.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
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
    fn class_names_differing_in_brackets_width_or_spacing_share_a_key() {
        let key = class_key("三年级(2)班");
        for same in [
            "三年级（2）班",
            "三年级 (2) 班",
            "三年级2班",
            " 三年级【2】班 ",
            "三年级 2 班",
        ] {
            assert_eq!(class_key(same), key, "{same}");
        }
        assert_eq!(class_key("Piano (A)"), class_key("piano a"));
        assert_ne!(class_key("1(2)班"), class_key("12班"));
        assert_ne!(class_key("1 2班"), class_key("12班"));
        assert_eq!(class_key("1(2)班"), class_key("1（2）班"));
        assert_ne!(class_key("三年级(2)班"), class_key("三年级(3)班"));
        assert_ne!(class_key("三年级二班"), class_key("三年级2班"));
    }

    #[test]
    fn messages_are_bounded() {
        assert_eq!(bound_message("短".into()), "短");
        let long = bound_message("长".repeat(5000));
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn control_characters_are_found() {
        assert_eq!(forbidden_char("张\u{0}三"), Some('\u{0}'));
        assert_eq!(forbidden_char("a\u{202E}b"), Some('\u{202E}'));
        assert_eq!(forbidden_char("张 三\t李\n"), None);
    }

    #[test]
    fn csv_cells_that_would_run_are_neutralised() {
        for hostile in [
            "=HYPERLINK(\"http://x\",\"点我\")",
            "=cmd|' /C calc'!A0",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
        ] {
            assert_eq!(
                inert_csv_cell(hostile),
                format!("'{hostile}"),
                "{hostile:?}"
            );
        }
        for plain in ["张三", "-12.50", "+3", "2800.00", "a=b", ""] {
            assert_eq!(inert_csv_cell(plain), plain);
        }
    }

    #[test]
    fn clip_bounds_and_shows_control_characters() {
        assert_eq!(clip("张三"), "张三");
        assert_eq!(clip("a\u{0}b"), "a\\u{0}b");
        let long = "x".repeat(1000);
        assert_eq!(clip(&long).chars().count(), QUOTE_CHARS + 1);
    }

    #[test]
    fn match_key_ignores_case_space_and_marks() {
        assert_eq!(match_key("Member No *"), "memberno");
        assert_eq!(match_key("member_no"), "memberno");
        assert_eq!(match_key("姓 名："), "姓名");
    }
}
