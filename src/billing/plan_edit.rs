//! Correcting a plan before it is issued: its discounts listed back (for the edit form), the
//! plan rewritten under the same id, or deleted. Once a plan is issued its bills exist and it
//! changes only by reversal (voiding the bills), so both are refused. Also the check that a
//! discount names a member the plan charges: a discount for a member outside the plan's class
//! or term used to be stored and never applied.

use serde::Serialize;
use serde_json::json;

use super::plans::{PlanRequest, plan_in, write_plan};
use super::{DiscountValue, Plan};
use crate::audit::{self, Entry};
use crate::money::Money;
use crate::{Error, FeeDesk, Result};

/// A discount on a plan, as listed for the edit form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanDiscount {
    pub store: String,
    pub member_no: String,
    pub member_name: String,
    /// As written: `10%` or `200.00`.
    pub discount: String,
    pub reason: String,
}

/// The discounts of plan `id`, by store and member number.
pub async fn plan_discounts(desk: &FeeDesk, id: i64) -> Result<Vec<PlanDiscount>> {
    let mut conn = desk.db().pool().acquire().await?;
    plan_in(&mut conn, id).await?;
    let rows: Vec<(String, String, String, String, i64, String)> = sqlx::query_as(
        "SELECT u.code, m.member_no, m.name, d.kind, d.value, d.reason
         FROM plan_discounts d JOIN members m ON m.id = d.member_id JOIN units u ON u.id = m.unit_id
         WHERE d.plan_id = ? ORDER BY u.code, m.member_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(store, member_no, member_name, kind, value, reason)| {
            let value = match kind.as_str() {
                "percent" => DiscountValue::Percent(value),
                _ => DiscountValue::Fixed(Money::from_fen(value)?),
            };
            Ok(PlanDiscount {
                store,
                member_no,
                member_name,
                discount: value.to_string(),
                reason,
            })
        })
        .collect()
}

/// Rewrites unissued plan `id` from `req` (every rule checked as for a new plan); the id stays.
pub async fn edit_plan(desk: &FeeDesk, id: i64, req: &PlanRequest) -> Result<Plan> {
    write_plan(desk, req, Some(id)).await
}

/// Deletes unissued plan `id` with its discounts and its reminder policies.
pub async fn delete_plan(desk: &FeeDesk, id: i64) -> Result<Plan> {
    let mut tx = desk.db().write().await?;
    let plan = plan_in(&mut tx, id).await?;
    let before = take_unissued(&mut tx, id).await?;
    sqlx::query("DELETE FROM reminder_policies WHERE plan_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let now = desk.now_text();
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "plan.delete",
            entity: "fee_plan",
            entity_id: id.to_string(),
            before: Some(before),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}

/// Inside a write transaction: refuses an issued plan, else removes plan `id` and its discounts
/// (foreign keys checked at commit, so the plan can be written again under the same id) and
/// returns what it was, for the audit log.
pub(super) async fn take_unissued(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
) -> Result<serde_json::Value> {
    let plan = plan_in(conn, id).await?;
    if plan.bills > 0 || plan.last_issued_at.is_some() {
        return Err(Error::Conflict(format!(
            "plan {id} is issued ({} bills); an issued plan changes only by reversal: void its \
             bills, then add a corrected plan",
            plan.bills
        )));
    }
    let discounts: Vec<(String, i64, String, i64, String)> = sqlx::query_as(
        "SELECT m.member_no, m.unit_id, d.kind, d.value, d.reason
         FROM plan_discounts d JOIN members m ON m.id = d.member_id WHERE d.plan_id = ?",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM plan_discounts WHERE plan_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM fee_plans WHERE id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(json!({
        "plan": plan,
        "discounts": discounts.iter().map(|(no, _, kind, value, reason)| json!({
            "member_no": no, "kind": kind, "value": value, "reason": reason,
        })).collect::<Vec<_>>(),
    }))
}

/// Refuses a discount for a member the plan does not charge: not enrolled in the plan's class,
/// or in no class of the plan's term. (Outside the plan's unit is refused when it is parsed.)
pub(super) async fn check_discounts_in_target(
    conn: &mut sqlx::SqliteConnection,
    plan_id: i64,
) -> Result<()> {
    let outside: Option<(String, String, String)> = sqlx::query_as(
        "SELECT m.member_no, m.name, p.target_kind
         FROM plan_discounts d JOIN fee_plans p ON p.id = d.plan_id JOIN members m ON m.id = d.member_id
         WHERE d.plan_id = ?1 AND (
             (p.target_kind = 'class' AND m.id NOT IN
                 (SELECT member_id FROM enrolments WHERE class_id = p.class_id))
          OR (p.target_kind = 'term' AND m.id NOT IN
                 (SELECT e.member_id FROM enrolments e JOIN classes c ON c.id = e.class_id
                  WHERE c.term_id = p.term_id)))
         ORDER BY m.member_no LIMIT 1",
    )
    .bind(plan_id)
    .fetch_optional(&mut *conn)
    .await?;
    match outside {
        None => Ok(()),
        Some((no, name, kind)) => Err(Error::Validation(format!(
            "discount for {no} ({name}): the member is not in the {kind} this plan charges, so \
             the discount would never apply; remove it or choose the member's {kind}"
        ))),
    }
}
