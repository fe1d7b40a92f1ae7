//! The chart of accounts. Each unit gets the accounts it needs as it first posts to them, with
//! codes that mean the same thing in every unit, so a subtree's books roll up by code:
//!
//! | code          | account                                  | kind           |
//! |---------------|------------------------------------------|----------------|
//! | `1001.<id>`   | 库存现金 (cash), per collection account   | asset          |
//! | `1002.<id>`   | 银行存款 (bank), per collection account   | asset          |
//! | `1012.<id>`   | 渠道清算 (channel clearing), per account  | asset          |
//! | `1122`        | 应收账款 (fees receivable)                | asset          |
//! | `1901`        | 内部往来 (inter-unit: owed by (+) or to (-) other units) | asset |
//! | `6001.<id>`   | 收费收入 (fee income), per fee item       | income         |
//! | `6002`        | 退费 (refunds)                            | contra_income  |
//! | `6003`        | 折扣减免 (discounts)                      | contra_income  |
//! | `6603`        | 渠道手续费 (channel fees)                 | expense        |

use std::collections::HashMap;

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::Result;

/// What an account is, which decides the side its balance normally sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Asset,
    Income,
    ContraIncome,
    Expense,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Asset => "asset",
            AccountKind::Income => "income",
            AccountKind::ContraIncome => "contra_income",
            AccountKind::Expense => "expense",
        }
    }

    pub fn parse(text: &str) -> AccountKind {
        match text {
            "income" => AccountKind::Income,
            "contra_income" => AccountKind::ContraIncome,
            "expense" => AccountKind::Expense,
            _ => AccountKind::Asset,
        }
    }
}

/// Where a collection account's money sits, as the books see it: the books need only this, not
/// the payment channel the money came through (so the ledger does not depend on billing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// Notes and coins in a drawer: 库存现金.
    Cash,
    /// A bank account: 银行存款.
    Bank,
    /// Money held by a payment channel until it settles to the bank: 渠道清算.
    ChannelClearing,
}

/// A ledger account, by meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LedgerCode {
    /// Where the money of a collection account sits: cash, bank or channel clearing.
    Money {
        account_id: i64,
        place: Place,
        name: String,
    },
    Receivable,
    /// Money one unit holds for another: a store's bill paid into HQ's account is owed to the
    /// store by HQ. One code in every unit, so a subtree's inter-unit balances cancel out when
    /// its books are rolled up.
    InterUnit,
    FeeIncome {
        fee_item_id: i64,
        name: String,
    },
    Refunds,
    Discounts,
    ChannelFees,
}

impl LedgerCode {
    /// The account code, the same in every unit's books.
    pub fn code(&self) -> String {
        match self {
            LedgerCode::Money {
                account_id, place, ..
            } => {
                let prefix = match place {
                    Place::Cash => "1001",
                    Place::Bank => "1002",
                    Place::ChannelClearing => "1012",
                };
                format!("{prefix}.{account_id}")
            }
            LedgerCode::Receivable => "1122".into(),
            LedgerCode::InterUnit => "1901".into(),
            LedgerCode::FeeIncome { fee_item_id, .. } => format!("6001.{fee_item_id}"),
            LedgerCode::Refunds => "6002".into(),
            LedgerCode::Discounts => "6003".into(),
            LedgerCode::ChannelFees => "6603".into(),
        }
    }

    /// The account's name in the books.
    pub fn name(&self) -> String {
        match self {
            LedgerCode::Money { place, name, .. } => {
                let what = match place {
                    Place::Cash => "库存现金",
                    Place::Bank => "银行存款",
                    Place::ChannelClearing => "渠道清算",
                };
                format!("{what} · {name}")
            }
            LedgerCode::Receivable => "应收账款".into(),
            LedgerCode::InterUnit => "内部往来".into(),
            LedgerCode::FeeIncome { name, .. } => format!("收费收入 · {name}"),
            LedgerCode::Refunds => "退费".into(),
            LedgerCode::Discounts => "折扣减免".into(),
            LedgerCode::ChannelFees => "渠道手续费".into(),
        }
    }

    pub fn kind(&self) -> AccountKind {
        match self {
            LedgerCode::Money { .. } | LedgerCode::Receivable | LedgerCode::InterUnit => {
                AccountKind::Asset
            }
            LedgerCode::FeeIncome { .. } => AccountKind::Income,
            LedgerCode::Refunds | LedgerCode::Discounts => AccountKind::ContraIncome,
            LedgerCode::ChannelFees => AccountKind::Expense,
        }
    }
}

/// The ledger accounts resolved so far in one write transaction, so a batch of thousands of
/// postings looks each account up once.
#[derive(Debug, Default)]
pub struct Chart {
    ids: HashMap<(i64, String), i64>,
}

impl Chart {
    pub fn new() -> Chart {
        Chart::default()
    }

    /// The id of `code` in `unit_id`'s books, creating the account on first use.
    pub async fn account(
        &mut self,
        conn: &mut SqliteConnection,
        unit_id: i64,
        code: &LedgerCode,
    ) -> Result<i64> {
        let key = (unit_id, code.code());
        if let Some(id) = self.ids.get(&key) {
            return Ok(*id);
        }
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM ledger_accounts WHERE unit_id = ? AND code = ?")
                .bind(unit_id)
                .bind(&key.1)
                .fetch_optional(&mut *conn)
                .await?;
        let id = match existing {
            Some(id) => id,
            None => {
                sqlx::query_scalar(
                    "INSERT INTO ledger_accounts (unit_id, code, name, kind) VALUES (?, ?, ?, ?) RETURNING id",
                )
                .bind(unit_id)
                .bind(&key.1)
                .bind(code.name())
                .bind(code.kind().as_str())
                .fetch_one(&mut *conn)
                .await?
            }
        };
        self.ids.insert(key, id);
        Ok(id)
    }
}
