//! Finding the header row and knowing what each column means.
//!
//! Rosters arrive with a merged title row or two ("2026秋季学期学员名单"), notes above the
//! table, and headers in Chinese or English with decorations ("姓名*", "学号(必填)"). The header
//! row is the first of the top rows that names the most known fields; an explicit mapping from
//! the user overrides the built-in aliases.

use serde::Serialize;

use super::cell::Cell;
use crate::text::{match_key, normalize};
use crate::{Error, Result};

/// How many rows from the top are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 30;

/// A member field a roster column can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    MemberNo,
    Name,
    Store,
    Class,
    GuardianName,
    GuardianPhone,
    GuardianEmail,
    IdNumber,
    EnrolledOn,
    Status,
}

impl Field {
    /// Every field, in the order columns are shown.
    pub const ALL: [Field; 10] = [
        Field::MemberNo,
        Field::Name,
        Field::Store,
        Field::Class,
        Field::GuardianName,
        Field::GuardianPhone,
        Field::GuardianEmail,
        Field::IdNumber,
        Field::EnrolledOn,
        Field::Status,
    ];

    /// The name used in `--map` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::MemberNo => "member_no",
            Field::Name => "name",
            Field::Store => "store",
            Field::Class => "class",
            Field::GuardianName => "guardian_name",
            Field::GuardianPhone => "guardian_phone",
            Field::GuardianEmail => "guardian_email",
            Field::IdNumber => "id_number",
            Field::EnrolledOn => "enrolled_on",
            Field::Status => "status",
        }
    }

    /// The Chinese header finance staff know it by.
    pub fn label_zh(self) -> &'static str {
        match self {
            Field::MemberNo => "学号",
            Field::Name => "姓名",
            Field::Store => "校区",
            Field::Class => "班级",
            Field::GuardianName => "家长姓名",
            Field::GuardianPhone => "家长手机号码",
            Field::GuardianEmail => "家长邮箱",
            Field::IdNumber => "身份证号码",
            Field::EnrolledOn => "入学日期",
            Field::Status => "状态",
        }
    }

    /// Parses a field name as used in `--map` (`member_no`, `guardian_phone`, ...).
    pub fn parse(text: &str) -> Option<Field> {
        let key = match_key(text);
        Field::ALL
            .into_iter()
            .find(|f| match_key(f.as_str()) == key)
            .or_else(|| lookup_alias(&key))
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::MemberNo => &[
                "学号",
                "学员编号",
                "学生编号",
                "学员号",
                "会员号",
                "会员编号",
                "会员卡号",
                "编号",
                "病历号",
                "患者编号",
                "档案号",
                "memberno",
                "membernumber",
                "memberid",
                "studentno",
                "studentid",
                "studentnumber",
                "no",
            ],
            Field::Name => &[
                "姓名",
                "学生姓名",
                "学员姓名",
                "会员姓名",
                "患者姓名",
                "幼儿姓名",
                "孩子姓名",
                "name",
                "studentname",
                "membername",
                "fullname",
                "patientname",
            ],
            Field::Store => &[
                "校区",
                "门店",
                "分店",
                "店铺",
                "诊所",
                "分校",
                "校区名称",
                "门店名称",
                "所属校区",
                "所属门店",
                "校区代码",
                "门店代码",
                "store",
                "campus",
                "branch",
                "storecode",
                "clinic",
            ],
            Field::Class => &[
                "班级",
                "班级名称",
                "班别",
                "所在班级",
                "class",
                "classname",
                "group",
            ],
            Field::GuardianName => &[
                "家长姓名",
                "家长",
                "监护人",
                "监护人姓名",
                "联系人",
                "联系人姓名",
                "guardian",
                "guardianname",
                "parent",
                "parentname",
                "contact",
                "contactname",
            ],
            Field::GuardianPhone => &[
                "家长手机号码",
                "家长手机号",
                "家长手机",
                "家长电话",
                "家长联系电话",
                "监护人电话",
                "监护人手机",
                "联系电话",
                "联系方式",
                "手机号码",
                "手机号",
                "手机",
                "电话",
                "电话号码",
                "guardianphone",
                "parentphone",
                "phone",
                "mobile",
                "mobilephone",
                "contactphone",
                "tel",
                "telephone",
            ],
            Field::GuardianEmail => &[
                "家长邮箱",
                "家长电子邮箱",
                "家长email",
                "监护人邮箱",
                "邮箱",
                "电子邮箱",
                "邮件",
                "email",
                "guardianemail",
                "parentemail",
                "emailaddress",
                "mail",
            ],
            Field::IdNumber => &[
                "身份证号码",
                "身份证号",
                "身份证",
                "证件号码",
                "证件号",
                "学生身份证号",
                "idnumber",
                "idno",
                "idcard",
                "idcardnumber",
                "nationalid",
            ],
            Field::EnrolledOn => &[
                "入学日期",
                "入学时间",
                "报名日期",
                "报名时间",
                "入会日期",
                "入园日期",
                "注册日期",
                "建档日期",
                "enrolmentdate",
                "enrollmentdate",
                "enrolledon",
                "enroldate",
                "enrolldate",
                "joindate",
                "joinedon",
                "startdate",
            ],
            Field::Status => &["状态", "在读状态", "学籍状态", "会员状态", "status"],
        }
    }
}

fn lookup_alias(key: &str) -> Option<Field> {
    Field::ALL.into_iter().find(|f| f.aliases().contains(&key))
}

/// What a column was mapped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Column {
    /// 0-based column index in the sheet.
    pub index: usize,
    /// The header text as written (normalised).
    pub header: String,
    /// The field, or `None` when the column is ignored.
    pub field: Option<Field>,
}

/// A user's override: the column headed `header` carries `field` (or nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapOverride {
    pub header: String,
    pub field: Option<Field>,
}

impl MapOverride {
    /// Parses `HEADER=field` (`field` may be `ignore`).
    pub fn parse(text: &str) -> Result<MapOverride> {
        let (header, field) = text.rsplit_once('=').ok_or_else(|| {
            Error::Validation(format!(
                "mapping '{text}' should look like 'HEADER=field', e.g. '联系电话=guardian_phone'"
            ))
        })?;
        let field = match match_key(field).as_str() {
            "ignore" | "none" | "skip" => None,
            _ => Some(Field::parse(field).ok_or_else(|| {
                Error::Validation(format!(
                    "unknown field '{field}' in mapping '{text}'; fields: {}, or ignore",
                    Field::ALL.map(Field::as_str).join(", ")
                ))
            })?),
        };
        Ok(MapOverride {
            header: normalize(header),
            field,
        })
    }
}

/// Strips decorations people add to headers: a trailing "(必填)", "*", "：".
fn header_key(text: &str) -> String {
    let text = normalize(text);
    let base = match text.find('(') {
        Some(i) if i > 0 => &text[..i],
        _ => &text,
    };
    match_key(base)
}

/// Maps one header row. The user's mapping wins: a field it assigns is not also taken by a
/// column found by its built-in name. Otherwise a field claimed twice goes to the first column
/// and the later ones are listed as ignored.
pub fn map_columns(cells: &[Cell], overrides: &[MapOverride]) -> Vec<Column> {
    let headers: Vec<(usize, String)> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| (i, normalize(&c.to_text())))
        .filter(|(_, h)| !h.is_empty())
        .collect();
    let override_for = |header: &str| {
        let key = header_key(header);
        overrides.iter().find(|o| header_key(&o.header) == key)
    };
    let mut taken: std::collections::HashSet<Field> = headers
        .iter()
        .filter_map(|(_, h)| override_for(h).and_then(|o| o.field))
        .collect();
    headers
        .into_iter()
        .map(|(index, header)| {
            let field = match override_for(&header) {
                Some(o) => o.field,
                None => lookup_alias(&header_key(&header)).filter(|f| taken.insert(*f)),
            };
            Column {
                index,
                header,
                field,
            }
        })
        .collect()
}

/// Whether `header` (as written in the sheet) is the column a `--map` entry names.
pub fn names_column(map_header: &str, header: &str) -> bool {
    header_key(map_header) == header_key(header)
}

/// How many fields a candidate header row maps.
fn score(columns: &[Column]) -> usize {
    columns.iter().filter(|c| c.field.is_some()).count()
}

/// Picks the header row among `rows` (1-based row numbers with cells): the first row that maps
/// the most fields, at least two of them, one being the member number or the name.
pub fn detect(rows: &[(u32, Vec<Cell>)], overrides: &[MapOverride]) -> Option<(u32, Vec<Column>)> {
    let mut best: Option<(u32, Vec<Column>)> = None;
    for (row, cells) in rows.iter().take(HEADER_SEARCH_ROWS) {
        let columns = map_columns(cells, overrides);
        let names_someone = columns
            .iter()
            .any(|c| matches!(c.field, Some(Field::MemberNo | Field::Name)));
        if score(&columns) >= 2
            && names_someone
            && best
                .as_ref()
                .is_none_or(|(_, b)| score(&columns) > score(b))
        {
            best = Some((*row, columns));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_row(cells: &[&str]) -> Vec<Cell> {
        cells.iter().map(|c| Cell::Text(c.to_string())).collect()
    }

    #[test]
    fn finds_header_under_title_rows() {
        let rows = vec![
            (1, text_row(&["2026秋季学期学员名单"])),
            (2, text_row(&["制表：财务部", "", "日期：2026-09-01"])),
            (
                3,
                text_row(&["序号", "学号*", "学生姓名", "家长手机号码(必填)", "班级"]),
            ),
            (4, text_row(&["1", "S001", "张三", "13800138000", "一班"])),
        ];
        let (row, cols) = detect(&rows, &[]).expect("header found");
        assert_eq!(row, 3);
        let fields: Vec<_> = cols.iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            vec![
                None,
                Some(Field::MemberNo),
                Some(Field::Name),
                Some(Field::GuardianPhone),
                Some(Field::Class)
            ]
        );
    }

    #[test]
    fn english_and_full_width_headers_map() {
        let cols = map_columns(
            &text_row(&["Member No", "ＮＡＭＥ", "Guardian Phone", "ID Number"]),
            &[],
        );
        assert_eq!(cols[1].field, Some(Field::Name));
        assert_eq!(cols[3].field, Some(Field::IdNumber));
    }

    #[test]
    fn overrides_win_and_can_ignore() {
        let o = vec![
            MapOverride::parse("备用电话=guardian_phone").unwrap(),
            MapOverride::parse("手机=ignore").unwrap(),
        ];
        let cols = map_columns(&text_row(&["学号", "姓名", "手机", "备用电话"]), &o);
        assert_eq!(cols[2].field, None);
        assert_eq!(cols[3].field, Some(Field::GuardianPhone));
        assert!(MapOverride::parse("x=nonsense").is_err());
    }
}
