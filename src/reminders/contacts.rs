//! Who may be reminded, and how: a guardian's email and preferred channels, the stop list
//! (members whose guardians are never reminded) and paused bills, each with a reason.

use serde::Serialize;
use serde_json::json;

use super::channel::ReminderChannel;
use crate::audit::{self, Entry};
pub use crate::org::check_email;
use crate::org::{find_member_ref, set_member_contact};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// Parses `email,sms` into personal channels.
pub fn parse_preferred(text: &str) -> Result<Vec<ReminderChannel>> {
    let mut out = vec![];
    for part in normalize(text)
        .split([',', '+'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match ReminderChannel::parse(part) {
            Some(c) if c.is_personal() => {
                if !out.contains(&c) {
                    out.push(c)
                }
            }
            _ => {
                return Err(Error::Validation(format!(
                    "'{part}' is not a personal channel; a guardian can prefer email and/or sms"
                )));
            }
        }
    }
    Ok(out)
}

/// Sets a member's guardian email and preferred channels (`None` keeps, empty clears).
pub async fn set_contact(
    desk: &FeeDesk,
    member: &str,
    email: Option<&str>,
    channels: Option<&str>,
) -> Result<()> {
    let (id, label) = find_member_ref(desk, member).await?;
    let email = match email.map(normalize) {
        Some(e) if e.is_empty() => Some(None),
        Some(e) => Some(Some(check_email(&e).ok_or_else(|| {
            Error::Validation(format!("'{e}' is not an email address"))
        })?)),
        None => None,
    };
    let channels = match channels {
        Some(c) => {
            let list = parse_preferred(c)?;
            Some((!list.is_empty()).then(|| {
                list.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }))
        }
        None => None,
    };
    set_member_contact(desk, id, &label, email, channels).await
}

/// A stopped member or a paused bill, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hold {
    /// `member` or `bill`.
    pub kind: String,
    /// `STORE/NO` for a member, the bill id for a bill.
    pub target: String,
    pub reason: String,
    pub actor: String,
    pub created_at: String,
}

fn reason_of(reason: &str, what: &str) -> Result<String> {
    let r = normalize(reason);
    if r.is_empty() {
        return Err(Error::Validation(format!(
            "{what} needs a reason (--reason)"
        )));
    }
    Ok(r)
}

/// Puts a member on the stop list (`stop = true`) or takes them off.
pub async fn set_stop(desk: &FeeDesk, member: &str, stop: bool, reason: &str) -> Result<()> {
    let (id, label) = find_member_ref(desk, member).await?;
    set_hold(desk, &STOP, id, label, stop, reason).await
}

/// Pauses a bill's reminders (`pause = true`) or resumes them.
pub async fn set_pause(desk: &FeeDesk, bill_id: i64, pause: bool, reason: &str) -> Result<()> {
    crate::billing::get_bill(desk, bill_id).await?;
    set_hold(desk, &PAUSE, bill_id, bill_id.to_string(), pause, reason).await
}

/// A kind of hold on reminders: the stop list (per member) or a pause (per bill). Both are a
/// row with a reason while they hold, and an audit entry each time they change.
struct HoldKind {
    /// Starts the hold, or replaces its reason: binds id, reason, actor, created_at.
    insert: &'static str,
    /// Ends the hold: binds id.
    delete: &'static str,
    entity: &'static str,
    /// What the reason is for, in the refusal when it is missing.
    why: &'static str,
    /// The audit actions when the hold starts and when it ends, and the field they record.
    on: &'static str,
    off: &'static str,
    field: &'static str,
}

const STOP: HoldKind = HoldKind {
    insert: "INSERT INTO reminder_stops (member_id, reason, actor, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (member_id) DO UPDATE SET reason = excluded.reason",
    delete: "DELETE FROM reminder_stops WHERE member_id = ?",
    entity: "member",
    why: "stopping reminders",
    on: "reminder.stop",
    off: "reminder.unstop",
    field: "stopped",
};

const PAUSE: HoldKind = HoldKind {
    insert: "INSERT INTO reminder_pauses (bill_id, reason, actor, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (bill_id) DO UPDATE SET reason = excluded.reason",
    delete: "DELETE FROM reminder_pauses WHERE bill_id = ?",
    entity: "bill",
    why: "pausing a bill's reminders",
    on: "reminder.pause",
    off: "reminder.resume",
    field: "paused",
};

/// Starts (`hold = true`, a reason required) or ends a hold on `id`, audited when it changed.
async fn set_hold(
    desk: &FeeDesk,
    kind: &HoldKind,
    id: i64,
    label: String,
    hold: bool,
    reason: &str,
) -> Result<()> {
    let reason = if hold {
        reason_of(reason, kind.why)?
    } else {
        normalize(reason)
    };
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let changed = if hold {
        sqlx::query(kind.insert)
            .bind(id)
            .bind(&reason)
            .bind(desk.actor())
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    } else {
        sqlx::query(kind.delete)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    };
    if changed > 0 {
        audit::append(
            &mut tx,
            &now,
            Entry {
                actor: desk.actor(),
                action: if hold { kind.on } else { kind.off },
                entity: kind.entity,
                entity_id: label,
                before: None,
                after: Some(json!({kind.field: hold, "reason": reason})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The stop list and the paused bills.
pub async fn list_holds(desk: &FeeDesk) -> Result<Vec<Hold>> {
    let mut out: Vec<Hold> = sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT u.code || '/' || m.member_no, s.reason, s.actor, s.created_at
         FROM reminder_stops s JOIN members m ON m.id = s.member_id JOIN units u ON u.id = m.unit_id
         ORDER BY s.created_at",
    )
    .fetch_all(desk.db().pool())
    .await?
    .into_iter()
    .map(|(target, reason, actor, created_at)| Hold {
        kind: "member".into(),
        target,
        reason,
        actor,
        created_at,
    })
    .collect();
    out.extend(
        sqlx::query_as::<_, (i64, String, String, String)>(
            "SELECT bill_id, reason, actor, created_at FROM reminder_pauses ORDER BY created_at",
        )
        .fetch_all(desk.db().pool())
        .await?
        .into_iter()
        .map(|(bill, reason, actor, created_at)| Hold {
            kind: "bill".into(),
            target: bill.to_string(),
            reason,
            actor,
            created_at,
        }),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_channels() {
        assert_eq!(
            check_email(" Zhang.Fu@Example.CN ").as_deref(),
            Some("zhang.fu@example.cn")
        );
        for bad in ["zhang", "a@b", "a b@c.cn", "a@@c.cn", "@c.cn"] {
            assert_eq!(check_email(bad), None, "{bad}");
        }
        assert_eq!(
            parse_preferred("sms, email").unwrap(),
            vec![ReminderChannel::Sms, ReminderChannel::Email]
        );
        assert!(parse_preferred("wecom").is_err());
    }
}
