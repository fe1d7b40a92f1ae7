//! The books: every unit keeps its own double-entry ledger (独立核算). Each bill, payment,
//! refund and void posts one balanced journal entry in the books of the bill's unit; entries and
//! their lines are append-only (database triggers refuse UPDATE and DELETE), so a correction is
//! always a new, reversing entry. Balances and trial balances read running totals that a
//! trigger keeps beside the lines, for one unit or rolled up over any subtree; [`verify`]
//! recomputes everything from the lines and the bills.

mod chart;
mod journal;
mod trial_balance;
mod verify;

pub use chart::{AccountKind, Chart, LedgerCode, Place};
pub use journal::{Journal, Line, Posting};
pub use trial_balance::{TrialBalance, TrialLine, trial_balance};
pub use verify::{LedgerCheck, verify};
