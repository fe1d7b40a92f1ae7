//! Reminder policies: the tiers (days after due, channels, tone), when a bill escalates to a
//! person, quiet hours, and whether batches need approval. A plan's policy overrides its
//! units'; a unit's is inherited by everything below it; with none anywhere, the default
//! three tiers (1 day gentle, 7 days firm, 14 days final notice) apply.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::channel::ReminderChannel;
use crate::audit::{self, Entry};
use crate::org::find_unit;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// How a tier's message sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Gentle,
    Firm,
    Final,
}

impl Tone {
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Gentle => "gentle",
            Tone::Firm => "firm",
            Tone::Final => "final",
        }
    }

    fn parse(text: &str) -> Option<Tone> {
        match text.trim().to_ascii_lowercase().as_str() {
            "gentle" => Some(Tone::Gentle),
            "firm" => Some(Tone::Firm),
            "final" => Some(Tone::Final),
            _ => None,
        }
    }
}

/// One tier: so many days after the due date, through these channels, in this tone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tier {
    pub days: i64,
    pub channels: Vec<ReminderChannel>,
    pub tone: Tone,
}

/// A policy as it applies to a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Policy {
    /// The stored policy's id; `None` for the built-in default.
    pub id: Option<i64>,
    /// `unit:CODE`, `plan:ID` or `default`.
    pub scope: String,
    pub tiers: Vec<Tier>,
    /// Days after the last tier before the bill is handed to a person.
    pub escalate_days: i64,
    pub auto_send: bool,
    pub quiet_start: String,
    pub quiet_end: String,
    pub payment_link: Option<String>,
    pub contact_phone: Option<String>,
}

/// The default quiet hours: 21:00-08:00 in the institution's zone.
pub const QUIET_START: &str = "21:00";
pub const QUIET_END: &str = "08:00";
/// The default days from the final notice to the follow-up list.
pub const ESCALATE_DAYS: i64 = 7;

impl Policy {
    /// The built-in default: 1 day gentle by email, 7 days firm and 14 days final notice by
    /// email and SMS, then a person after another week; batches wait for approval.
    pub fn default_policy() -> Policy {
        Policy {
            id: None,
            scope: "default".into(),
            tiers: parse_tiers("1:email,7:email+sms,14:email+sms").unwrap_or_else(|_| Vec::new()),
            escalate_days: ESCALATE_DAYS,
            auto_send: false,
            quiet_start: QUIET_START.into(),
            quiet_end: QUIET_END.into(),
            payment_link: None,
            contact_phone: None,
        }
    }

    /// The day (after due) a bill goes to the follow-up list.
    pub fn escalate_after(&self) -> i64 {
        self.tiers.last().map(|t| t.days).unwrap_or(0) + self.escalate_days
    }
}

/// Parses `1:email,7:email+sms,14:email+sms:final`: tiers with days, channels joined by `+`,
/// and an optional tone (by default the first is gentle, the last final, the rest firm).
pub fn parse_tiers(text: &str) -> Result<Vec<Tier>> {
    let text = normalize(text);
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(Error::Validation(
            "--tiers needs at least one tier, e.g. '1:email,7:email+sms,14:email+sms'".into(),
        ));
    }
    let count = parts.len();
    let mut tiers: Vec<Tier> = Vec::with_capacity(count);
    for (i, part) in parts.iter().enumerate() {
        let fields: Vec<&str> = part.split(':').map(str::trim).collect();
        let (days, channels, tone) = match fields.as_slice() {
            [d, c] => (*d, *c, None),
            [d, c, t] => (*d, *c, Some(*t)),
            _ => {
                return Err(Error::Validation(format!(
                    "tier '{part}' should look like DAYS:CHANNEL[+CHANNEL][:TONE], e.g. '7:email+sms'"
                )));
            }
        };
        let days: i64 = days
            .parse()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| {
                Error::Validation(format!(
                    "tier '{part}': days after due must be a whole number from 1 to 365"
                ))
            })?;
        if let Some(prev) = tiers.last()
            && prev.days >= days
        {
            return Err(Error::Validation(format!(
                "tier '{part}': tiers must be in increasing days ({} then {days})",
                prev.days
            )));
        }
        let mut list = Vec::new();
        for c in channels.split('+') {
            let channel = ReminderChannel::parse(c).ok_or_else(|| {
                Error::Validation(format!(
                    "tier '{part}': '{c}' is not a channel; use email, sms, wecom, dingtalk or call"
                ))
            })?;
            if !list.contains(&channel) {
                list.push(channel);
            }
        }
        let tone = match tone {
            Some(t) => Tone::parse(t).ok_or_else(|| {
                Error::Validation(format!(
                    "tier '{part}': '{t}' is not a tone; use gentle, firm or final"
                ))
            })?,
            None if i == 0 => Tone::Gentle,
            None if i + 1 == count => Tone::Final,
            None => Tone::Firm,
        };
        tiers.push(Tier {
            days,
            channels: list,
            tone,
        });
    }
    Ok(tiers)
}

/// The tiers written back as `--tiers` takes them.
pub fn tiers_text(tiers: &[Tier]) -> String {
    tiers
        .iter()
        .map(|t| {
            let channels: Vec<&str> = t.channels.iter().map(|c| c.as_str()).collect();
            format!("{}:{}:{}", t.days, channels.join("+"), t.tone.as_str())
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// What `remind policy set` asks for; unset options keep the current (or default) values.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyRequest {
    /// A unit code; or
    pub unit_code: Option<String>,
    /// a plan id.
    pub plan_id: Option<i64>,
    pub tiers: Option<String>,
    pub escalate_days: Option<i64>,
    pub auto_send: Option<bool>,
    /// Quiet hours as `21:00-08:00`.
    pub quiet_hours: Option<String>,
    pub payment_link: Option<String>,
    pub contact_phone: Option<String>,
}

/// `HH:MM` checked.
fn clock_time(text: &str) -> Result<String> {
    let t = chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
        Error::Validation(format!(
            "'{text}' is not a time of day; write quiet hours as '21:00-08:00'"
        ))
    })?;
    Ok(t.format("%H:%M").to_string())
}

/// Sets (creates or replaces) the policy of a unit or a plan.
pub async fn set_policy(desk: &FeeDesk, req: &PolicyRequest) -> Result<Policy> {
    let (unit_id, plan_id, scope) = match (&req.unit_code, req.plan_id) {
        (Some(code), None) => {
            let unit = find_unit(desk, code).await?;
            (Some(unit.id), None, format!("unit:{}", unit.code))
        }
        (None, Some(plan)) => {
            crate::billing::get_plan(desk, plan).await?;
            (None, Some(plan), format!("plan:{plan}"))
        }
        _ => {
            return Err(Error::Validation(
                "a policy is for one unit (--unit CODE) or one plan (--plan ID)".into(),
            ));
        }
    };
    let current = stored_policies(desk)
        .await?
        .into_iter()
        .find(|p| p.scope == scope)
        .unwrap_or_else(Policy::default_policy);
    let tiers = match &req.tiers {
        Some(t) => parse_tiers(t)?,
        None => current.tiers.clone(),
    };
    let escalate_days = req.escalate_days.unwrap_or(current.escalate_days);
    if !(0..=365).contains(&escalate_days) {
        return Err(Error::Validation(
            "--escalate-after must be 0 to 365 days after the last tier".into(),
        ));
    }
    let (quiet_start, quiet_end) = match &req.quiet_hours {
        Some(q) => {
            let (a, b) = q.split_once('-').ok_or_else(|| {
                Error::Validation(format!("quiet hours '{q}' should look like '21:00-08:00'"))
            })?;
            (clock_time(a)?, clock_time(b)?)
        }
        None => (current.quiet_start.clone(), current.quiet_end.clone()),
    };
    let clean = |v: &Option<String>, old: &Option<String>| match v {
        Some(s) if normalize(s).is_empty() => None,
        Some(s) => Some(normalize(s)),
        None => old.clone(),
    };
    let policy = Policy {
        id: None,
        scope: scope.clone(),
        tiers,
        escalate_days,
        auto_send: req.auto_send.unwrap_or(current.auto_send),
        quiet_start,
        quiet_end,
        payment_link: clean(&req.payment_link, &current.payment_link),
        contact_phone: clean(&req.contact_phone, &current.contact_phone),
    };
    let tiers_json = serde_json::to_string(&policy.tiers)
        .map_err(|e| Error::Internal(format!("tiers not serialisable: {e}")))?;
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let before: Option<String> = sqlx::query_scalar(
        "SELECT tiers_json FROM reminder_policies WHERE unit_id IS ? AND plan_id IS ?",
    )
    .bind(unit_id)
    .bind(plan_id)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM reminder_policies WHERE unit_id IS ? AND plan_id IS ?")
        .bind(unit_id)
        .bind(plan_id)
        .execute(&mut *tx)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reminder_policies (unit_id, plan_id, tiers_json, escalate_days, auto_send,
             quiet_start, quiet_end, payment_link, contact_phone, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(unit_id)
    .bind(plan_id)
    .bind(&tiers_json)
    .bind(policy.escalate_days)
    .bind(policy.auto_send)
    .bind(&policy.quiet_start)
    .bind(&policy.quiet_end)
    .bind(&policy.payment_link)
    .bind(&policy.contact_phone)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "reminder.policy.set",
            entity: "reminder_policy",
            entity_id: scope.clone(),
            before: before.map(|t| json!({"tiers": t})),
            after: Some(json!({
                "tiers": tiers_text(&policy.tiers), "escalate_days": policy.escalate_days,
                "auto_send": policy.auto_send,
                "quiet_hours": format!("{}-{}", policy.quiet_start, policy.quiet_end),
                "payment_link": policy.payment_link, "contact_phone": policy.contact_phone,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Policy {
        id: Some(id),
        ..policy
    })
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: i64,
    unit_id: Option<i64>,
    unit_code: Option<String>,
    plan_id: Option<i64>,
    tiers_json: String,
    escalate_days: i64,
    auto_send: bool,
    quiet_start: String,
    quiet_end: String,
    payment_link: Option<String>,
    contact_phone: Option<String>,
}

/// Every stored policy, units first.
pub async fn list_policies(desk: &FeeDesk) -> Result<Vec<Policy>> {
    stored_policies(desk).await
}

async fn stored_policies(desk: &FeeDesk) -> Result<Vec<Policy>> {
    Ok(stored_rows(desk)
        .await?
        .into_iter()
        .map(|(_, _, p)| p)
        .collect())
}

async fn stored_rows(desk: &FeeDesk) -> Result<Vec<(Option<i64>, Option<i64>, Policy)>> {
    let rows: Vec<PolicyRow> = sqlx::query_as(
        "SELECT r.id, r.unit_id, u.code AS unit_code, r.plan_id, r.tiers_json, r.escalate_days,
                r.auto_send = 1 AS auto_send, r.quiet_start, r.quiet_end, r.payment_link,
                r.contact_phone
         FROM reminder_policies r LEFT JOIN units u ON u.id = r.unit_id
         ORDER BY r.plan_id IS NOT NULL, u.code, r.plan_id",
    )
    .fetch_all(desk.db().pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            let tiers: Vec<Tier> = serde_json::from_str(&r.tiers_json)
                .map_err(|e| Error::Internal(format!("stored reminder tiers unreadable: {e}")))?;
            let scope = match (&r.unit_code, r.plan_id) {
                (Some(code), _) => format!("unit:{code}"),
                (None, Some(plan)) => format!("plan:{plan}"),
                (None, None) => "default".into(),
            };
            Ok((
                r.unit_id,
                r.plan_id,
                Policy {
                    id: Some(r.id),
                    scope,
                    tiers,
                    escalate_days: r.escalate_days,
                    auto_send: r.auto_send,
                    quiet_start: r.quiet_start,
                    quiet_end: r.quiet_end,
                    payment_link: r.payment_link,
                    contact_phone: r.contact_phone,
                },
            ))
        })
        .collect()
}

/// Every policy in force, resolved once per run: a bill's plan's policy, else the nearest
/// unit's up the tree from the bill's unit, else the default.
pub struct Policies {
    by_plan: HashMap<i64, Policy>,
    by_unit: HashMap<i64, Policy>,
    parent: HashMap<i64, Option<i64>>,
    default: Policy,
}

impl Policies {
    pub async fn load(desk: &FeeDesk) -> Result<Policies> {
        let mut by_plan = HashMap::new();
        let mut by_unit = HashMap::new();
        for (unit, plan, policy) in stored_rows(desk).await? {
            match (unit, plan) {
                (Some(u), _) => {
                    by_unit.insert(u, policy);
                }
                (None, Some(p)) => {
                    by_plan.insert(p, policy);
                }
                _ => {}
            }
        }
        let parent = crate::org::list_units(desk)
            .await?
            .into_iter()
            .map(|u| (u.id, u.parent_id))
            .collect();
        Ok(Policies {
            by_plan,
            by_unit,
            parent,
            default: Policy::default_policy(),
        })
    }

    /// The policy for a bill of `plan_id` in the books of `unit_id`.
    pub fn for_bill(&self, plan_id: i64, unit_id: i64) -> &Policy {
        if let Some(p) = self.by_plan.get(&plan_id) {
            return p;
        }
        let mut at = Some(unit_id);
        // The tree is finite and acyclic; the bound only guards a damaged database.
        for _ in 0..64 {
            let Some(id) = at else { break };
            if let Some(p) = self.by_unit.get(&id) {
                return p;
            }
            at = self.parent.get(&id).copied().flatten();
        }
        &self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_parse_with_default_tones() {
        let t = parse_tiers("1:email, 7:email+sms ,14:email+sms+call").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].tone, Tone::Gentle);
        assert_eq!(t[1].tone, Tone::Firm);
        assert_eq!(t[2].tone, Tone::Final);
        assert_eq!(t[2].channels.len(), 3);
        assert_eq!(
            tiers_text(&t),
            "1:email:gentle,7:email+sms:firm,14:email+sms+call:final"
        );
    }

    #[test]
    fn bad_tiers_say_what_is_wrong() {
        for (text, words) in [
            ("", "at least one"),
            ("7:email,1:sms", "increasing"),
            ("1:fax", "'fax' is not a channel"),
            ("x:email", "whole number"),
            ("1:email:angry", "not a tone"),
        ] {
            let e = parse_tiers(text).unwrap_err().to_string();
            assert!(e.contains(words), "{text}: {e}");
        }
    }
}
