//! Payment QR codes for a whole class, as a workbook for the class's parent group: one row per
//! bill still owed, with the member, the fee, the amount and the QR code to scan. Each code is
//! a real order in the plan's designated account (an open one is reused), so paying it settles
//! the right bill once.

use std::path::{Path, PathBuf};

use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, FormatAlign, Image, Workbook};
use serde::Serialize;

use super::collect::collect;
use super::qr::qr_png;
use crate::billing::{self, BillFilter, Channel};
use crate::secrets::SecretStore;
use crate::{Error, FeeDesk, Result};

/// What the export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QrExport {
    pub file: String,
    pub bills: u64,
    /// Bills skipped because their plan collects offline (cash, bank).
    pub offline: u64,
}

/// Writes `out` with a payment QR code for every open or partly paid bill of `class`
/// (`NAME` or `STORE/NAME`) whose plan collects through WeChat Pay or Alipay.
pub async fn export_class_qr(
    desk: &FeeDesk,
    secrets: &SecretStore,
    class: &str,
    out: &Path,
) -> Result<QrExport> {
    let bills = billing::list_bills(
        desk,
        &BillFilter {
            class_name: Some(class.to_string()),
            ..Default::default()
        },
    )
    .await?;
    let mut rows = vec![];
    let mut offline = 0;
    for bill in bills
        .iter()
        .filter(|b| matches!(b.status.as_str(), "open" | "partial"))
    {
        let plan = billing::get_plan(desk, bill.plan).await?;
        if Channel::parse(&plan.channel)?.is_offline() {
            offline += 1;
            continue;
        }
        let order = collect(desk, secrets, bill.id).await?;
        rows.push((bill.clone(), order));
    }
    if rows.is_empty() {
        return Err(Error::Validation(format!(
            "class {class} has no open bill collected through WeChat Pay or Alipay"
        )));
    }
    let fail =
        |e: rust_xlsxwriter::XlsxError| Error::Io(format!("cannot write {}: {e}", out.display()));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("扫码缴费").map_err(fail)?;
    let header = Format::new().set_bold().set_background_color("#E6F0EE");
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let money = Format::new()
        .set_num_format("¥#,##0.00")
        .set_align(FormatAlign::VerticalCenter);
    for (c, (title, width)) in [
        ("学号", 10.0),
        ("姓名", 10.0),
        ("收费项目", 14.0),
        ("金额", 12.0),
        ("收款账户", 14.0),
        ("订单号", 20.0),
        ("有效期至", 18.0),
        ("扫码支付", 26.0),
    ]
    .into_iter()
    .enumerate()
    {
        sheet
            .write_string_with_format(0, c as u16, title, &header)
            .map_err(fail)?;
        sheet.set_column_width(c as u16, width).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    // Printed for the class: landscape, one page wide, the header on every page.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0).map_err(fail)?;
    for (i, (bill, order)) in rows.iter().enumerate() {
        let r = (i + 1) as u32;
        sheet.set_row_height(r, 150).map_err(fail)?;
        sheet
            .write_string_with_format(r, 0, &bill.member_no, &wrap)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 1, &bill.member_name, &wrap)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 2, &bill.fee, &wrap)
            .map_err(fail)?;
        // Excel keeps numbers as binary floats: converted here, at the edge, once. Any amount
        // FeeDesk handles (< 10^12 yuan) shows the same two decimals after the trip.
        let yuan = order.amount.yuan().to_f64().ok_or_else(|| {
            Error::Internal(format!("amount {} has no spreadsheet form", order.amount))
        })?;
        sheet
            .write_number_with_format(r, 3, yuan, &money)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 4, &order.account, &wrap)
            .map_err(fail)?;
        sheet
            .write_string_with_format(r, 5, &order.order_no, &wrap)
            .map_err(fail)?;
        let until = crate::clock::local_display(&order.expires_at);
        sheet
            .write_string_with_format(r, 6, &until, &wrap)
            .map_err(fail)?;
        let image = Image::new_from_buffer(&qr_png(&order.qr_text, 4)?)
            .map_err(fail)?
            .set_scale_width(0.75)
            .set_scale_height(0.75);
        sheet.insert_image(r, 7, &image).map_err(fail)?;
    }
    book.save(out).map_err(fail)?;
    Ok(QrExport {
        file: PathBuf::from(out).display().to_string(),
        bills: rows.len() as u64,
        offline,
    })
}
