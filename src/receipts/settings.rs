//! Receipt settings: the paper new receipts are archived on (A5 landscape by default, or A4).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::render::Paper;
use crate::audit::{self, Entry};
use crate::{FeeDesk, Result};

/// The receipt settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptSettings {
    pub paper: Paper,
}

/// The current settings.
pub async fn receipt_settings(desk: &FeeDesk) -> Result<ReceiptSettings> {
    let paper: Option<String> =
        sqlx::query_scalar("SELECT value FROM receipt_settings WHERE key = 'paper'")
            .fetch_optional(desk.db().pool())
            .await?;
    Ok(ReceiptSettings {
        paper: paper
            .as_deref()
            .map(Paper::parse)
            .transpose()?
            .unwrap_or_default(),
    })
}

/// Sets the paper for receipts archived from now on (archived PDFs stay as they are: they
/// are the originals).
pub async fn set_paper(desk: &FeeDesk, paper: Paper) -> Result<ReceiptSettings> {
    let before = receipt_settings(desk).await?;
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    sqlx::query(
        "INSERT INTO receipt_settings (key, value) VALUES ('paper', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(paper.as_str())
    .execute(&mut *tx)
    .await?;
    let after = ReceiptSettings { paper };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "receipt.settings",
            entity: "receipt_settings",
            entity_id: "paper".into(),
            before: Some(json!(before)),
            after: Some(json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
