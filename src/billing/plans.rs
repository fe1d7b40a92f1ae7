//! Fee plans (定向收费): a fee item charged to a class, a term or a whole unit, by an amount
//! rule, due on a date, into one designated collection account. A fee item of a unit can be
//! charged anywhere in its subtree; the plan is run by the unit it charges (a class's store, the
//! unit; for a term, the fee item's unit), and its account belongs to that unit or one above it
//! (a chain may collect centrally).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::accounts::{CollectionAccount, accounts_named, ambiguous_account, no_account};
use super::fees::find_fee;
use super::rule::{AmountRule, Discount};
use crate::audit::{self, Entry};
use crate::org::{Unit, find_class, find_term, find_unit, list_units};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// What a plan charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum PlanTarget {
    /// A class by name, or `STORE/NAME` when several stores have one.
    Class(String),
    /// Every member enrolled in a class of this term, within the plan's unit.
    Term(String),
    /// Every active member whose home store is in this unit's subtree.
    Unit(String),
}

/// A new plan.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanRequest {
    /// The fee item: `NAME` or `UNIT/NAME`.
    pub fee: String,
    pub target: PlanTarget,
    /// The amount rule as written (see [`AmountRule`]).
    pub rule: String,
    pub due_on: NaiveDate,
    pub allow_partial: bool,
    /// The designated collection account: its id or name.
    pub account: String,
    /// Per-member discounts as written (see [`Discount`]).
    pub discounts: Vec<String>,
}

/// A plan as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Plan {
    pub id: i64,
    pub fee_item_id: i64,
    pub fee: String,
    pub unit_id: i64,
    pub unit_code: String,
    /// class, term or unit.
    pub target_kind: String,
    /// The class, term or unit charged, for people.
    pub target: String,
    pub class_id: Option<i64>,
    pub term_id: Option<i64>,
    pub rule: String,
    pub due_on: String,
    pub allow_partial: bool,
    pub account_id: i64,
    pub account: String,
    pub channel: String,
    pub discounts: i64,
    pub bills: i64,
    pub last_issued_at: Option<String>,
}

const SELECT: &str = "SELECT p.id, p.fee_item_id, f.name AS fee, p.unit_id, u.code AS unit_code,
        p.target_kind,
        CASE p.target_kind
            WHEN 'class' THEN (SELECT cu.code || '/' || c.name FROM classes c JOIN units cu ON cu.id = c.unit_id WHERE c.id = p.class_id)
            WHEN 'term' THEN (SELECT t.name FROM terms t WHERE t.id = p.term_id)
            ELSE u.code END AS target,
        p.class_id, p.term_id, p.rule, p.due_on, p.allow_partial = 1 AS allow_partial,
        p.account_id, a.name AS account, a.channel,
        (SELECT count(*) FROM plan_discounts d WHERE d.plan_id = p.id) AS discounts,
        (SELECT count(*) FROM bills b WHERE b.plan_id = p.id) AS bills,
        p.last_issued_at
     FROM fee_plans p
     JOIN fee_items f ON f.id = p.fee_item_id
     JOIN units u ON u.id = p.unit_id
     JOIN collection_accounts a ON a.id = p.account_id";

/// Whether `unit_id` is `root_id` or lies below it.
pub(crate) fn is_within(all: &[Unit], unit_id: i64, root_id: i64) -> bool {
    let mut current = Some(unit_id);
    while let Some(id) = current {
        if id == root_id {
            return true;
        }
        current = all.iter().find(|u| u.id == id).and_then(|u| u.parent_id);
    }
    false
}

/// Adds a plan (nothing is billed until it is issued).
pub async fn add_plan(desk: &FeeDesk, req: &PlanRequest) -> Result<Plan> {
    write_plan(desk, req, None).await
}

/// Adds a plan, or with `replacing` rewrites that unissued plan under the same id, every rule
/// checked as for a new one (see `plan_edit`).
pub(super) async fn write_plan(
    desk: &FeeDesk,
    req: &PlanRequest,
    replacing: Option<i64>,
) -> Result<Plan> {
    let fee = find_fee(desk, &req.fee).await?;
    let rule: AmountRule = req.rule.parse()?;
    let all = list_units(desk).await?;
    let fee_unit = all
        .iter()
        .find(|u| u.id == fee.unit_id)
        .cloned()
        .ok_or_else(|| Error::Internal("fee item without unit".into()))?;
    let (kind, class_id, term_id, target_unit_id) = match &req.target {
        PlanTarget::Class(text) => {
            let text = normalize(text);
            let (store, name) = match text.split_once('/') {
                Some((s, n)) => (Some(s.to_string()), n.to_string()),
                // A store's fee item charges that store's classes.
                None if fee_unit.kind == crate::org::UnitKind::Store => {
                    (Some(fee_unit.code.clone()), text.clone())
                }
                None => (None, text.clone()),
            };
            let class = find_class(desk, &name, store.as_deref(), None).await?;
            let store = find_unit(desk, &class.unit_code).await?;
            let term = find_term(desk, &class.term_name).await?;
            ("class", Some(class.id), Some(term.id), store.id)
        }
        PlanTarget::Term(name) => {
            let term = find_term(desk, name).await?;
            ("term", None, Some(term.id), fee_unit.id)
        }
        PlanTarget::Unit(code) => {
            let unit = find_unit(desk, code).await?;
            ("unit", None, None, unit.id)
        }
    };
    if !is_within(&all, target_unit_id, fee_unit.id) {
        return Err(Error::Validation(format!(
            "the fee item '{}' belongs to {}, and what the plan charges is outside it; \
             add the fee item to a unit above, or choose a target inside {}",
            fee.name, fee_unit.code, fee_unit.code
        )));
    }
    // The plan is run by the unit it charges (a class's store, a unit), or for a term by the
    // fee item's unit.
    let plan_unit = all
        .iter()
        .find(|u| u.id == target_unit_id)
        .cloned()
        .ok_or_else(|| Error::Internal("target without unit".into()))?;
    if plan_unit.archived {
        return Err(Error::Validation(format!("{} is archived", plan_unit.code)));
    }
    if rule.declared_range().is_some() && req.allow_partial {
        return Err(Error::Validation(
            "a self-declared amount is paid in one payment; drop --partial".into(),
        ));
    }
    if rule.declared_range().is_some() && !req.discounts.is_empty() {
        return Err(Error::Validation(
            "a self-declared amount takes no discounts: the payer chooses it".into(),
        ));
    }
    let discounts = req
        .discounts
        .iter()
        .map(|d| d.parse::<Discount>())
        .collect::<Result<Vec<_>>>()?;

    let mut tx = desk.db().write().await?;
    let before = match replacing {
        Some(id) => Some(super::plan_edit::take_unissued(&mut tx, id).await?),
        None => None,
    };
    let account = designated_account(&mut tx, &all, &req.account, plan_unit.id).await?;
    payable_into(&rule, &account)?;
    let mut discount_rows = Vec::with_capacity(discounts.len());
    for d in &discounts {
        let member_id = discount_member(&mut tx, &all, d, plan_unit.id).await?;
        if discount_rows.iter().any(|(id, _)| *id == member_id) {
            return Err(Error::Validation(format!(
                "member {} has two discounts; give one",
                d.member_no
            )));
        }
        discount_rows.push((member_id, d));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fee_plans (id, fee_item_id, unit_id, target_kind, class_id, term_id, rule, due_on, allow_partial, account_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(replacing)
    .bind(fee.id)
    .bind(plan_unit.id)
    .bind(kind)
    .bind(class_id)
    .bind(term_id)
    .bind(rule.to_string())
    .bind(req.due_on.format("%Y-%m-%d").to_string())
    .bind(req.allow_partial)
    .bind(account.id)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    for (member_id, d) in &discount_rows {
        let (kind, value) = d.value.stored();
        sqlx::query(
            "INSERT INTO plan_discounts (plan_id, member_id, kind, value, reason) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(member_id)
        .bind(kind)
        .bind(value)
        .bind(&d.reason)
        .execute(&mut *tx)
        .await?;
    }
    super::plan_edit::check_discounts_in_target(&mut tx, id).await?;
    let plan = plan_in(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: if replacing.is_some() {
                "plan.edit"
            } else {
                "plan.add"
            },
            entity: "fee_plan",
            entity_id: id.to_string(),
            before,
            after: Some(json!({
                "plan": plan,
                "discounts": discounts.iter().map(|d| json!({
                    "store": d.store, "member_no": d.member_no,
                    "discount": d.value.to_string(), "reason": d.reason,
                })).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}

async fn designated_account(
    conn: &mut sqlx::SqliteConnection,
    all: &[Unit],
    text: &str,
    plan_unit_id: i64,
) -> Result<CollectionAccount> {
    let mut candidates: Vec<CollectionAccount> = accounts_named(conn, text)
        .await?
        .into_iter()
        .filter(|a| is_within(all, plan_unit_id, a.unit_id))
        .collect();
    let plan_unit = all
        .iter()
        .find(|u| u.id == plan_unit_id)
        .map(|u| u.code.as_str());
    let account = match candidates.len() {
        0 => {
            return Err(match accounts_named(conn, text).await?.is_empty() {
                true => no_account(text),
                false => Error::Validation(format!(
                    "account '{}' belongs to a unit outside {}'s line; a plan collects into an \
                     account of its own unit or one above it",
                    normalize(text),
                    plan_unit.unwrap_or("?")
                )),
            });
        }
        1 => candidates.swap_remove(0),
        n => return Err(ambiguous_account(text, n)),
    };
    if account.archived {
        return Err(Error::Validation(format!(
            "account '{}' is archived; choose an active account",
            account.name
        )));
    }
    Ok(account)
}

/// Refuses a plan no one could pay: a self-declared amount is chosen by the payer at the
/// counter (a QR order has a fixed amount), and a payment into a channel account arrives only
/// through a QR order; UnionPay has no client in FeeDesk, so nothing arrives there at all.
fn payable_into(rule: &AmountRule, account: &CollectionAccount) -> Result<()> {
    match account.channel {
        super::Channel::Unionpay => Err(Error::Validation(format!(
            "refused: '{}' is a UnionPay account, and FeeDesk cannot collect through UnionPay yet, \
             so this plan could never be paid; collect into a bank account (UnionPay transfers \
             are recorded there with their reference) or a WeChat Pay / Alipay account",
            account.name
        ))),
        super::Channel::Wechat | super::Channel::Alipay if rule.declared_range().is_some() => {
            Err(Error::Validation(format!(
                "refused: a self-declared amount is chosen by the payer at the counter, but '{}' is \
                 a {} account whose payments arrive only through a QR code for a fixed amount, so \
                 this plan could never be paid; collect it into a cash or bank account",
                account.name,
                account.channel.as_str()
            )))
        }
        _ => Ok(()),
    }
}

async fn discount_member(
    conn: &mut sqlx::SqliteConnection,
    all: &[Unit],
    d: &Discount,
    plan_unit_id: i64,
) -> Result<i64> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT m.id, m.unit_id, u.code FROM members m JOIN units u ON u.id = m.unit_id WHERE m.member_no = ?",
    )
    .bind(&d.member_no)
    .fetch_all(&mut *conn)
    .await?;
    let found: Vec<i64> = rows
        .into_iter()
        .filter(|(_, unit, code)| {
            is_within(all, *unit, plan_unit_id) && d.store.as_ref().is_none_or(|s| s == code)
        })
        .map(|(id, _, _)| id)
        .collect();
    match found.len() {
        0 => Err(Error::NotFound(format!(
            "discount for {}: no such member in the plan's unit",
            d.member_no
        ))),
        1 => Ok(found[0]),
        _ => Err(Error::Validation(format!(
            "discount for {}: several stores have this member number; write STORE/{}",
            d.member_no, d.member_no
        ))),
    }
}

pub(crate) async fn plan_in(conn: &mut sqlx::SqliteConnection, id: i64) -> Result<Plan> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.id = ?")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no plan {id}; `feedesk plan list` shows them")))
}

/// One plan.
pub async fn get_plan(desk: &FeeDesk, id: i64) -> Result<Plan> {
    let mut conn = desk.db().pool().acquire().await?;
    plan_in(&mut conn, id).await
}

/// Every plan whose unit is in `unit_code`'s subtree (all plans without one), newest first.
pub async fn list_plans(desk: &FeeDesk, unit_code: Option<&str>) -> Result<Vec<Plan>> {
    let plans: Vec<Plan> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY p.id DESC")))
            .fetch_all(desk.db().pool())
            .await?;
    let Some(code) = unit_code else {
        return Ok(plans);
    };
    let ids = crate::org::subtree_ids(desk, code).await?;
    Ok(plans
        .into_iter()
        .filter(|p| ids.contains(&p.unit_id))
        .collect())
}
