//! The demo's receipts: every demo payment and refund already issued its receipts (and 红冲
//! records) through the real payment and refund calls; here one receipt is also voided by hand
//! and reissued, as a cashier correcting a payer's name would, so the Receipts page shows every
//! kind of record. The demo's payments left their PDFs pending (a month recorded at once); the
//! oldest [`SAMPLE`] are archived here, the rest by `feedesk receipt archive` or on reprint.

use serde::Serialize;

use crate::receipts::{self, ReceiptFilter};
use crate::{FeeDesk, Result};

/// What the demo's receipts hold.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoReceipts {
    pub receipts: usize,
    pub reversals: usize,
    pub archived: usize,
    /// The receipt voided by hand, and its reissue.
    pub voided: Option<String>,
    pub reissued: Option<String>,
}

/// How many of the demo's receipt PDFs are archived at once.
const SAMPLE: i64 = 60;

pub async fn build(desk: &FeeDesk) -> Result<DemoReceipts> {
    let all = receipts::list_receipts(desk, &ReceiptFilter::default()).await?;
    let mut voided = None;
    let mut reissued = None;
    if let Some(first) = all.iter().find(|r| r.status == "issued") {
        let v =
            receipts::void_receipt(desk, &first.number, "交款人姓名登记有误，更正后重开").await?;
        voided = Some(v.voided);
        reissued = v.reissued;
    }
    receipts::archive_oldest(desk, SAMPLE).await?;
    let all = receipts::list_receipts(desk, &ReceiptFilter::default()).await?;
    Ok(DemoReceipts {
        receipts: all.len(),
        reversals: all.iter().filter(|r| r.status == "reversal").count(),
        archived: all.iter().filter(|r| r.sha256.is_some()).count(),
        voided,
        reissued,
    })
}
