//! Collection accounts: where a unit receives money, per channel (WeChat Pay, Alipay, UnionPay,
//! cash, bank). Archived, never deleted: payments and books keep pointing at them.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqliteConnection;

use crate::audit::{self, Entry};
use crate::ledger::Place;
use crate::org::find_unit;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// How money reaches a collection account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Wechat,
    Alipay,
    Unionpay,
    OfflineCash,
    OfflineBank,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Wechat,
        Channel::Alipay,
        Channel::Unionpay,
        Channel::OfflineCash,
        Channel::OfflineBank,
    ];

    /// Where the books keep this channel's money.
    pub fn ledger_place(self) -> Place {
        match self {
            Channel::OfflineCash => Place::Cash,
            Channel::OfflineBank => Place::Bank,
            Channel::Wechat | Channel::Alipay | Channel::Unionpay => Place::ChannelClearing,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Wechat => "wechat",
            Channel::Alipay => "alipay",
            Channel::Unionpay => "unionpay",
            Channel::OfflineCash => "offline-cash",
            Channel::OfflineBank => "offline-bank",
        }
    }

    pub fn parse(text: &str) -> Result<Channel> {
        let text = normalize(text).to_ascii_lowercase();
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                Error::Validation(format!(
                    "'{text}' is not a channel; use wechat, alipay, unionpay, offline-cash or offline-bank"
                ))
            })
    }

    /// Whether money arrives outside any channel API (recorded by hand).
    pub fn is_offline(self) -> bool {
        matches!(self, Channel::OfflineCash | Channel::OfflineBank)
    }
}

/// A collection account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CollectionAccount {
    pub id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    pub channel: Channel,
    pub name: String,
    pub archived: bool,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    unit_id: i64,
    unit_code: String,
    channel: String,
    name: String,
    archived_at: Option<String>,
}

impl TryFrom<AccountRow> for CollectionAccount {
    type Error = Error;
    fn try_from(r: AccountRow) -> Result<CollectionAccount> {
        Ok(CollectionAccount {
            id: r.id,
            unit_id: r.unit_id,
            unit_code: r.unit_code,
            channel: Channel::parse(&r.channel)
                .map_err(|_| Error::Internal(format!("stored channel '{}'", r.channel)))?,
            name: r.name,
            archived: r.archived_at.is_some(),
        })
    }
}

const SELECT: &str = "SELECT a.id, a.unit_id, u.code AS unit_code, a.channel, a.name, a.archived_at
     FROM collection_accounts a JOIN units u ON u.id = a.unit_id";

/// Adds a collection account to a unit.
pub async fn add_account(
    desk: &FeeDesk,
    unit_code: &str,
    channel: Channel,
    name: &str,
) -> Result<CollectionAccount> {
    let mut tx = desk.db().write().await?;
    let account = insert_account(desk, &mut tx, unit_code, channel, name, None).await?;
    tx.commit().await?;
    Ok(account)
}

/// Checks and inserts an account inside the caller's write transaction, with its audit entry.
/// `secret_ref` names the channel secrets in the OS keyring (channel accounts only).
pub(crate) async fn insert_account(
    desk: &FeeDesk,
    tx: &mut SqliteConnection,
    unit_code: &str,
    channel: Channel,
    name: &str,
    secret_ref: Option<&str>,
) -> Result<CollectionAccount> {
    let name = normalize(name);
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::Validation(
            "account name must be 1-60 characters".into(),
        ));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::Validation(
            "an account name cannot be only digits (digits name accounts by id)".into(),
        ));
    }
    if channel == Channel::Unionpay {
        return Err(Error::Validation(
            "refused: FeeDesk cannot collect through UnionPay yet (it has no UnionPay client), so \
             nothing could ever be paid into this account; record UnionPay transfers in a bank \
             account (offline-bank) with their reference"
                .into(),
        ));
    }
    let unit = find_unit(desk, unit_code).await?;
    if unit.archived {
        return Err(Error::Validation(format!("{} is archived", unit.code)));
    }
    let clash: Option<i64> =
        sqlx::query_scalar("SELECT id FROM collection_accounts WHERE unit_id = ? AND name = ?")
            .bind(unit.id)
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
    if clash.is_some() {
        return Err(Error::Conflict(format!(
            "{} already has an account named '{name}'",
            unit.code
        )));
    }
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO collection_accounts (unit_id, channel, name, secret_ref, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(unit.id)
    .bind(channel.as_str())
    .bind(&name)
    .bind(secret_ref)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let account = CollectionAccount {
        id,
        unit_id: unit.id,
        unit_code: unit.code,
        channel,
        name,
        archived: false,
    };
    audit::append(
        &mut *tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "account.add",
            entity: "collection_account",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!(account)),
        },
    )
    .await?;
    Ok(account)
}

/// Archives an account: no new plan may name it; its history stays.
pub async fn archive_account(desk: &FeeDesk, account: &str) -> Result<CollectionAccount> {
    let found = find_account(desk, account).await?;
    if found.archived {
        return Ok(found);
    }
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    sqlx::query("UPDATE collection_accounts SET archived_at = ? WHERE id = ?")
        .bind(&now)
        .bind(found.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "account.archive",
            entity: "collection_account",
            entity_id: found.id.to_string(),
            before: Some(json!(found)),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CollectionAccount {
        archived: true,
        ..found
    })
}

/// Every account, by unit then name.
pub async fn list_accounts(desk: &FeeDesk) -> Result<Vec<CollectionAccount>> {
    let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} ORDER BY u.code, a.name"
    )))
    .fetch_all(desk.db().pool())
    .await?;
    rows.into_iter().map(CollectionAccount::try_from).collect()
}

/// Every account, for resolving many names in memory.
pub(crate) async fn all_accounts(conn: &mut SqliteConnection) -> Result<Vec<CollectionAccount>> {
    let rows: Vec<AccountRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY a.id")))
            .fetch_all(&mut *conn)
            .await?;
    rows.into_iter().map(CollectionAccount::try_from).collect()
}

/// The accounts in `all` named `text`, or the one whose id it is.
pub(crate) fn named<'a>(all: &'a [CollectionAccount], text: &str) -> Vec<&'a CollectionAccount> {
    let text = normalize(text);
    match text.parse::<i64>() {
        Ok(id) => all.iter().filter(|a| a.id == id).collect(),
        Err(_) => all.iter().filter(|a| a.name == text).collect(),
    }
}

/// Every account named `text`, or the one whose id it is.
pub(crate) async fn accounts_named(
    conn: &mut SqliteConnection,
    text: &str,
) -> Result<Vec<CollectionAccount>> {
    let text = normalize(text);
    let rows: Vec<AccountRow> = if let Ok(id) = text.parse::<i64>() {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = ?")))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
    } else {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE a.name = ? ORDER BY a.id"
        )))
        .bind(&text)
        .fetch_all(&mut *conn)
        .await?
    };
    rows.into_iter().map(CollectionAccount::try_from).collect()
}

/// The account with id or name `text`; a name several units use must be given as an id.
pub async fn find_account(desk: &FeeDesk, text: &str) -> Result<CollectionAccount> {
    let mut conn = desk.db().pool().acquire().await?;
    let mut found = accounts_named(&mut conn, text).await?;
    match found.len() {
        0 => Err(no_account(text)),
        1 => Ok(found.remove(0)),
        n => Err(ambiguous_account(text, n)),
    }
}

pub(crate) fn no_account(text: &str) -> Error {
    Error::NotFound(format!(
        "no collection account '{}'; `feedesk account list` shows them",
        normalize(text)
    ))
}

pub(crate) fn ambiguous_account(text: &str, n: usize) -> Error {
    Error::Validation(format!(
        "{n} accounts are named '{}'; give the account's id instead (`feedesk account list`)",
        normalize(text)
    ))
}
