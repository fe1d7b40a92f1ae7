//! Members (students, patients, club members): each has a home store and a member number
//! unique in that store. Personal data is masked unless the caller may see it.

use serde::Serialize;

use crate::{FeeDesk, Result};

/// A member as listed, with the classes they are enrolled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Member {
    pub member_no: String,
    pub name: String,
    /// The home store's code.
    pub unit: String,
    pub classes: Vec<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub id_number: Option<String>,
    pub enrolled_on: Option<String>,
    pub status: String,
}

/// Which members to list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Only members whose home store is in this unit's subtree.
    pub unit_code: Option<String>,
    /// Only members enrolled in a class with this name.
    pub class_name: Option<String>,
    /// Only members with this status.
    pub status: Option<String>,
    /// Free text: a member number prefix, part of a name, or the last digits of a phone.
    pub search: Option<String>,
    /// Show phone and ID number unmasked.
    pub show_pii: bool,
}

/// One page of members and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberPage {
    pub total: u64,
    pub offset: u64,
    pub members: Vec<Member>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    member_no: String,
    name: String,
    unit: String,
    classes: Option<String>,
    guardian_name: Option<String>,
    guardian_phone: Option<String>,
    id_number: Option<String>,
    enrolled_on: Option<String>,
    status: String,
}

/// Separates class names inside one query result; no class name contains it.
const CLASS_SEPARATOR: char = '\u{1f}';

const MATCHING: &str = "FROM members m JOIN units u ON u.id = m.unit_id
     WHERE (?1 IS NULL OR m.unit_id IN (SELECT value FROM json_each(?1)))
       AND (?2 IS NULL OR m.status = ?2)
       AND (?3 IS NULL OR EXISTS (SELECT 1 FROM enrolments e JOIN classes c ON c.id = e.class_id
                                  WHERE e.member_id = m.id AND c.name = ?3))
       AND (?4 IS NULL OR m.member_no LIKE ?4 || '%' OR instr(m.name, ?4) > 0
            OR (length(?4) >= 4 AND m.guardian_phone LIKE '%' || ?4))";

/// Lists every matching member, by store code then member number.
pub async fn list_members(desk: &FeeDesk, filter: &MemberFilter) -> Result<Vec<Member>> {
    Ok(member_page(desk, filter, 0, u64::MAX).await?.members)
}

/// One page of matching members (by store code then member number) and the total count.
pub async fn member_page(
    desk: &FeeDesk,
    filter: &MemberFilter,
    offset: u64,
    limit: u64,
) -> Result<MemberPage> {
    let units = match &filter.unit_code {
        Some(code) => Some(serde_json::json!(super::subtree_ids(desk, code).await?).to_string()),
        None => None,
    };
    let class_name = filter.class_name.as_deref().map(crate::text::normalize);
    let search = filter
        .search
        .as_deref()
        .map(crate::text::normalize)
        .filter(|s| !s.is_empty());
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {MATCHING}")))
        .bind(&units)
        .bind(filter.status.as_deref())
        .bind(class_name.as_deref())
        .bind(search.as_deref())
        .fetch_one(desk.db().pool())
        .await?;
    let rows: Vec<MemberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT m.member_no, m.name, u.code AS unit, m.guardian_name, m.guardian_phone,
                m.id_number, m.enrolled_on, m.status,
                (SELECT group_concat(c.name, char(31) ORDER BY c.name) FROM enrolments e
                   JOIN classes c ON c.id = e.class_id WHERE e.member_id = m.id) AS classes
         {MATCHING} ORDER BY u.code, m.member_no LIMIT ?5 OFFSET ?6"
    )))
    .bind(&units)
    .bind(filter.status.as_deref())
    .bind(class_name.as_deref())
    .bind(search.as_deref())
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(desk.db().pool())
    .await?;
    let members = rows
        .into_iter()
        .map(|r| Member {
            classes: r
                .classes
                .map(|c| c.split(CLASS_SEPARATOR).map(str::to_string).collect())
                .unwrap_or_default(),
            member_no: r.member_no,
            name: r.name,
            unit: r.unit,
            guardian_name: r.guardian_name,
            guardian_phone: r
                .guardian_phone
                .map(|p| if filter.show_pii { p } else { mask_phone(&p) }),
            id_number: r.id_number.map(|i| {
                if filter.show_pii {
                    i
                } else {
                    mask_id_number(&i)
                }
            }),
            enrolled_on: r.enrolled_on,
            status: r.status,
        })
        .collect();
    Ok(MemberPage {
        total: total.max(0) as u64,
        offset,
        members,
    })
}

/// `13800138000` -> `138****8000`.
pub fn mask_phone(phone: &str) -> String {
    mask(phone, 3, 4)
}

/// `330106199001011234` -> `3301**********1234`.
pub fn mask_id_number(id: &str) -> String {
    mask(id, 4, 4)
}

fn mask(text: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..keep_start].iter().collect();
    out.push_str(&"*".repeat(chars.len() - keep_start - keep_end));
    out.extend(&chars[chars.len() - keep_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_finance_staff_expect() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("330106199001011234"), "3301**********1234");
        assert_eq!(mask_phone("123"), "***");
    }
}
