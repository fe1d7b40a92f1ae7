//! The exported call list (电话催缴名单): an xlsx workbook of guardians for a person to phone,
//! the approved `call` reminders plus the open follow-up list. Writing the file delivers the
//! call reminders: they are marked sent in one transaction once the workbook is saved, so a
//! second export lists only what is new (follow-ups stay until closed).

use std::path::Path;

use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::Serialize;
use serde_json::json;

use super::followup::list_followups;
use crate::audit::{self, Entry};
use crate::money::Money;
use crate::{Error, FeeDesk, Result};

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallListExport {
    pub file: String,
    /// Call reminders delivered into the file.
    pub calls: u32,
    /// Open follow-ups listed.
    pub followups: u32,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: i64,
    bill_id: i64,
    store: String,
    member_no: String,
    member: String,
    guardian: Option<String>,
    phone: Option<String>,
    fee: String,
    owed_fen: i64,
    due_on: String,
    tier: i64,
    tier_days: i64,
}

struct Line {
    store: String,
    member_no: String,
    member: String,
    guardian: String,
    phone: String,
    fee: String,
    owed: Money,
    due_on: String,
    why: String,
    assignee: String,
}

/// Writes the call list to `out`.
pub async fn export_call_list(desk: &FeeDesk, out: &Path) -> Result<CallListExport> {
    let calls: Vec<CallRow> = sqlx::query_as(
        "SELECT o.id, b.id AS bill_id, u.code AS store, m.member_no, m.name AS member,
                m.guardian_name AS guardian, o.recipient AS phone, f.name AS fee,
                b.due_fen - b.paid_fen AS owed_fen, b.due_on, o.tier, o.tier_days
         FROM reminder_outbox o JOIN bills b ON b.id = o.bill_id
         JOIN members m ON m.id = b.member_id JOIN units u ON u.id = b.unit_id
         JOIN fee_plans p ON p.id = b.plan_id JOIN fee_items f ON f.id = p.fee_item_id
         WHERE o.channel = 'call' AND o.status = 'pending' AND o.approved_at IS NOT NULL
           AND b.status IN ('open', 'partial')
         ORDER BY u.code, m.member_no",
    )
    .fetch_all(desk.db().pool())
    .await?;
    let followups = list_followups(desk, false).await?;
    let mut lines: Vec<Line> = Vec::with_capacity(calls.len() + followups.len());
    for c in &calls {
        lines.push(Line {
            store: c.store.clone(),
            member_no: c.member_no.clone(),
            member: c.member.clone(),
            guardian: c.guardian.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            fee: c.fee.clone(),
            owed: Money::from_fen(c.owed_fen)?,
            due_on: c.due_on.clone(),
            why: format!("第{}级提醒（逾期{}天）", c.tier, c.tier_days),
            assignee: String::new(),
        });
    }
    for f in &followups {
        if calls.iter().any(|c| c.bill_id == f.bill_id) {
            continue;
        }
        lines.push(Line {
            store: f.store.clone(),
            member_no: f.member_no.clone(),
            member: f.member.clone(),
            guardian: f.guardian.clone().unwrap_or_default(),
            phone: f.guardian_phone.clone().unwrap_or_default(),
            fee: f.fee.clone(),
            owed: f.outstanding,
            due_on: f.due_date.clone(),
            why: format!(
                "人工跟进（逾期{}天）{}",
                f.days_overdue,
                f.outcome
                    .as_deref()
                    .map(|o| format!("：{o}"))
                    .unwrap_or_default()
            ),
            assignee: f.assignee.clone().unwrap_or_default(),
        });
    }
    write_workbook(out, &lines)?;
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    for c in &calls {
        sqlx::query(
            "UPDATE reminder_outbox SET status = 'sent', sent_at = ?, claimed_at = ?, attempts = attempts + 1,
                 updated_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(&now)
        .bind(&now)
        .bind(&now)
        .bind(c.id)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "reminder.call_list",
            entity: "reminder_outbox",
            entity_id: out.display().to_string(),
            before: None,
            after: Some(json!({"calls": calls.len(), "followups": followups.len()})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CallListExport {
        file: out.display().to_string(),
        calls: calls.len() as u32,
        followups: followups.len() as u32,
    })
}

fn write_workbook(out: &Path, lines: &[Line]) -> Result<()> {
    let fail =
        |e: rust_xlsxwriter::XlsxError| Error::Io(format!("cannot write {}: {e}", out.display()));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("电话催缴").map_err(fail)?;
    let header = Format::new().set_bold().set_background_color("#E6F0EE");
    let text = Format::new().set_align(FormatAlign::VerticalCenter);
    let money = Format::new().set_num_format("¥#,##0.00");
    let columns = [
        ("校区", 8.0),
        ("学号", 10.0),
        ("学员", 10.0),
        ("家长", 10.0),
        ("电话", 14.0),
        ("收费项目", 14.0),
        ("欠费金额", 12.0),
        ("到期日", 12.0),
        ("原因", 26.0),
        ("负责人", 10.0),
        ("通话结果", 24.0),
    ];
    for (c, (title, width)) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *title, &header)
            .map_err(fail)?;
        sheet.set_column_width(c as u16, *width).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0).map_err(fail)?;
    for (i, l) in lines.iter().enumerate() {
        let r = (i + 1) as u32;
        for (c, value) in [
            &l.store,
            &l.member_no,
            &l.member,
            &l.guardian,
            &l.phone,
            &l.fee,
        ]
        .into_iter()
        .enumerate()
        {
            sheet
                .write_string_with_format(r, c as u16, value, &text)
                .map_err(fail)?;
        }
        // Excel keeps numbers as binary floats: converted here, at the edge, once.
        let yuan =
            l.owed.yuan().to_f64().ok_or_else(|| {
                Error::Internal(format!("amount {} has no spreadsheet form", l.owed))
            })?;
        sheet
            .write_number_with_format(r, 6, yuan, &money)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 7, &l.due_on, &text)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 8, &l.why, &text)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 9, &l.assignee, &text)
            .map_err(fail)?;
    }
    if !lines.is_empty() {
        sheet
            .autofilter(0, 0, lines.len() as u32, (columns.len() - 1) as u16)
            .map_err(fail)?;
    }
    book.save(out).map_err(fail)?;
    Ok(())
}
