//! How a member's guardian is reached: the email address and the preferred reminder channels
//! kept on the member. The members table is org's, so every read and write of it goes
//! through here; the reminders decide what the values mean.

use serde_json::json;

use crate::audit::{self, Entry};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A member found by `STORE/NO` or a member number unique across stores: its id and its
/// `STORE/NO` label.
pub async fn find_member_ref(desk: &FeeDesk, member: &str) -> Result<(i64, String)> {
    let text = normalize(member);
    let (store, no) = match text.split_once('/') {
        Some((s, n)) => (Some(s.to_ascii_uppercase()), n.to_string()),
        None => (None, text.clone()),
    };
    let found: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.id, u.code FROM members m JOIN units u ON u.id = m.unit_id
         WHERE m.member_no = ? AND (? IS NULL OR u.code = ?)",
    )
    .bind(&no)
    .bind(&store)
    .bind(&store)
    .fetch_all(desk.db().pool())
    .await?;
    match found.as_slice() {
        [] => Err(Error::NotFound(format!(
            "no member '{text}'; `feedesk member list` shows them"
        ))),
        [(id, code)] => Ok((*id, format!("{code}/{no}"))),
        _ => Err(Error::Validation(format!(
            "{} stores have a member '{no}'; write STORE/{no}",
            found.len()
        ))),
    }
}

/// Sets the member's guardian email and preferred channels (each `None`: unchanged;
/// `Some(None)`: cleared), audited as `member.contact` with both values before and after.
pub async fn set_member_contact(
    desk: &FeeDesk,
    id: i64,
    label: &str,
    email: Option<Option<String>>,
    channels: Option<Option<String>>,
) -> Result<()> {
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let before: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT guardian_email, preferred_channels FROM members WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let after = (
        email.unwrap_or(before.0.clone()),
        channels.unwrap_or(before.1.clone()),
    );
    sqlx::query(
        "UPDATE members SET guardian_email = ?, preferred_channels = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&after.0)
    .bind(&after.1)
    .bind(&now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "member.contact",
            entity: "member",
            entity_id: label.to_owned(),
            before: Some(json!({"guardian_email": before.0, "preferred_channels": before.1})),
            after: Some(json!({"guardian_email": after.0, "preferred_channels": after.1})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
