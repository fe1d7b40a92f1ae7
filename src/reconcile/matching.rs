//! Matching a channel's statement lines against our payments and refunds, in memory and in one
//! pass over the lines (which stream past; only what is unmatched is kept):
//!
//! 1. a payment line by our order number (商户订单号), then by the channel's transaction id;
//!    a match with another amount is an **amount mismatch**;
//! 2. a refund line by our refund number; another amount, or a refund the channel has not
//!    finished, or one we have not recorded, is a **refund mismatch**;
//! 3. what is left of the payment lines by amount within [`DATE_WINDOW_DAYS`] of one of our
//!    payments that carries no order number (a transfer recorded by hand);
//! 4. payment lines still left are **channel-only** (money we never recorded); our payments of
//!    the period that no line claimed are **ours-only** (critical: money the channel does not
//!    have); our refunds no line claimed are refund mismatches.
//!
//! Fees are totalled per Beijing day from every line of the period.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::statement::{LineKind, StatementLine};

/// How far apart (in days) a statement line and a payment recorded by hand may be and still be
/// matched by amount.
pub const DATE_WINDOW_DAYS: i64 = 3;

/// One of our payments into the account being reconciled.
#[derive(Debug, Clone)]
pub struct OurPayment {
    pub id: i64,
    pub amount_fen: i64,
    /// The channel order it settled, if any.
    pub out_trade_no: Option<String>,
    /// The channel's transaction id (or a transfer's reference).
    pub reference: Option<String>,
    /// When we recorded it, Beijing time.
    pub at: NaiveDateTime,
}

/// One of our refunds out of the account.
#[derive(Debug, Clone)]
pub struct OurRefund {
    pub id: i64,
    pub payment_id: i64,
    pub amount_fen: i64,
    /// Our refund number at the channel (refunds through the channel only).
    pub out_refund_no: Option<String>,
    pub at: NaiveDateTime,
}

/// A refund asked of the channel that we have not recorded yet (still pending here).
#[derive(Debug, Clone)]
pub struct PendingRefund {
    pub out_refund_no: String,
    pub amount_fen: i64,
}

/// The classes every line and payment falls into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MatchClass {
    Matched,
    AmountMismatch,
    OursOnly,
    ChannelOnly,
    RefundMismatch,
}

impl MatchClass {
    pub const ALL: [MatchClass; 5] = [
        MatchClass::Matched,
        MatchClass::AmountMismatch,
        MatchClass::OursOnly,
        MatchClass::ChannelOnly,
        MatchClass::RefundMismatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchClass::Matched => "matched",
            MatchClass::AmountMismatch => "amount_mismatch",
            MatchClass::OursOnly => "ours_only",
            MatchClass::ChannelOnly => "channel_only",
            MatchClass::RefundMismatch => "refund_mismatch",
        }
    }

    pub fn parse(text: &str) -> Option<MatchClass> {
        let text = text.trim().to_ascii_lowercase().replace('-', "_");
        MatchClass::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A line or payment that did not match, with what each side says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable identity across runs.
    pub key: String,
    pub class: MatchClass,
    pub kind: LineKind,
    pub day: NaiveDate,
    pub out_trade_no: Option<String>,
    pub transaction_id: Option<String>,
    pub out_refund_no: Option<String>,
    pub channel_fen: Option<i64>,
    pub ours_fen: Option<i64>,
    pub payment_id: Option<i64>,
    pub refund_id: Option<i64>,
    /// The statement and line it came from (statement lines only).
    pub source: Option<(i64, u64)>,
    pub reason: String,
}

/// A statement line that matched, for the workbook's Matched sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedLine {
    pub kind: LineKind,
    pub at: NaiveDateTime,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub amount_fen: i64,
    pub fee_e5: i64,
    pub payment_id: Option<i64>,
    pub refund_id: Option<i64>,
    /// How it matched: order_no, transaction_id, refund_no or amount_date.
    pub by: &'static str,
}

/// Count and money per class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub fen: i64,
}

/// Fees and lines of one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeeDay {
    pub lines: u64,
    pub fee_e5: i64,
    /// What the channel received and paid back that day, as its lines say.
    pub received_fen: i64,
    pub refunded_fen: i64,
}

/// Everything one matching produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub tallies: BTreeMap<MatchClass, Tally>,
    pub findings: Vec<Finding>,
    /// Kept only when asked (the workbook); a run only counts them.
    pub matched: Vec<MatchedLine>,
    pub fee_days: BTreeMap<NaiveDate, FeeDay>,
    /// Lines seen in more than one statement, counted once.
    pub duplicate_lines: u64,
    pub lines: u64,
}

/// Matches statement lines of the period `[from, to]` fed one at a time to [`Matcher::line`]
/// against our payments and refunds; [`Matcher::finish`] settles what is left.
pub struct Matcher {
    from: NaiveDate,
    to: NaiveDate,
    payments: Vec<OurPayment>,
    claimed: Vec<bool>,
    by_order: KeyIndex,
    by_reference: KeyIndex,
    refunds: Vec<OurRefund>,
    refund_claimed: Vec<bool>,
    refund_by_no: FxHashMap<String, usize>,
    pending: FxHashMap<String, i64>,
    seen: FxHashSet<String>,
    dedupe: bool,
    keep_matched: bool,
    leftover: Vec<(i64, StatementLine)>,
    /// Per class, in [`MatchClass`] order; copied into the outcome at the end.
    counts: [Tally; 5],
    /// The day being totalled and its figures (merged into the outcome when the day changes).
    current_day: Option<(NaiveDate, FeeDay)>,
    out: Outcome,
}

impl Matcher {
    /// `dedupe`: whether lines may repeat across statements (more than one file in the period).
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        payments: Vec<OurPayment>,
        refunds: Vec<OurRefund>,
        pending: Vec<PendingRefund>,
        dedupe: bool,
        keep_matched: bool,
    ) -> Matcher {
        let mut by_order = KeyIndex::with_capacity(payments.len());
        let mut by_reference = KeyIndex::with_capacity(payments.len());
        for (i, p) in payments.iter().enumerate() {
            if let Some(no) = &p.out_trade_no {
                by_order.insert(no, i, |j| payments[j].out_trade_no.as_deref());
            }
            if let Some(r) = &p.reference {
                by_reference.insert(r, i, |j| payments[j].reference.as_deref());
            }
        }
        let refund_by_no = refunds
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.out_refund_no.clone().map(|no| (no, i)))
            .collect();
        Matcher {
            from,
            to,
            claimed: vec![false; payments.len()],
            payments,
            by_order,
            by_reference,
            refund_claimed: vec![false; refunds.len()],
            refunds,
            refund_by_no,
            pending: pending
                .into_iter()
                .map(|p| (p.out_refund_no, p.amount_fen))
                .collect(),
            seen: FxHashSet::default(),
            dedupe,
            keep_matched,
            leftover: Vec::new(),
            counts: [Tally::default(); 5],
            current_day: None,
            out: Outcome::default(),
        }
    }

    fn tally(&mut self, class: MatchClass, fen: i64) {
        let t = &mut self.counts[class as usize];
        t.count += 1;
        t.fen += fen;
    }

    fn matched(
        &mut self,
        line: &StatementLine,
        by: &'static str,
        payment: Option<i64>,
        refund: Option<i64>,
    ) {
        self.tally(MatchClass::Matched, line.amount_fen);
        if self.keep_matched {
            self.out.matched.push(MatchedLine {
                kind: line.kind,
                at: line.at,
                out_trade_no: line.out_trade_no.clone(),
                transaction_id: line.transaction_id.clone(),
                out_refund_no: line.out_refund_no.clone(),
                amount_fen: line.amount_fen,
                fee_e5: line.fee_e5,
                payment_id: payment,
                refund_id: refund,
                by,
            });
        }
    }

    fn finding(
        &mut self,
        statement_id: i64,
        line: &StatementLine,
        class: MatchClass,
        ours: Option<i64>,
        ids: (Option<i64>, Option<i64>),
        reason: String,
    ) {
        self.tally(class, line.amount_fen);
        self.out.findings.push(Finding {
            key: line.key(),
            class,
            kind: line.kind,
            day: line.day(),
            out_trade_no: non_empty(&line.out_trade_no),
            transaction_id: non_empty(&line.transaction_id),
            out_refund_no: non_empty(&line.out_refund_no),
            channel_fen: Some(line.amount_fen),
            ours_fen: ours,
            payment_id: ids.0,
            refund_id: ids.1,
            source: Some((statement_id, line.line_no)),
            reason,
        });
    }

    /// Takes one statement line (of statement `statement_id`); lines outside the period are
    /// ignored, a line already seen in another statement is counted once.
    pub fn line(&mut self, statement_id: i64, line: StatementLine) {
        let day = line.day();
        if day < self.from || day > self.to {
            return;
        }
        if self.dedupe && !self.seen.insert(line.key()) {
            self.out.duplicate_lines += 1;
            return;
        }
        self.out.lines += 1;
        // Lines come in time order: the day's entry is nearly always the one of the line before.
        let fee = match &mut self.current_day {
            Some((d, fee)) if *d == day => fee,
            slot => {
                if let Some((d, fee)) = slot.take() {
                    *self.out.fee_days.entry(d).or_default() += fee;
                }
                &mut slot.insert((day, FeeDay::default())).1
            }
        };
        fee.lines += 1;
        fee.fee_e5 += line.fee_e5;
        match line.kind {
            LineKind::Payment => fee.received_fen += line.amount_fen,
            LineKind::Refund => fee.refunded_fen += line.amount_fen,
        }
        match line.kind {
            LineKind::Payment => self.payment_line(statement_id, line),
            LineKind::Refund => self.refund_line(statement_id, line),
        }
    }

    fn payment_line(&mut self, statement_id: i64, line: StatementLine) {
        let payments = &self.payments;
        let found = self
            .by_order
            .get(&line.out_trade_no, |j| payments[j].out_trade_no.as_deref())
            .map(|i| (i, "order_no"))
            .or_else(|| {
                self.by_reference
                    .get(&line.transaction_id, |j| payments[j].reference.as_deref())
                    .map(|i| (i, "transaction_id"))
            });
        let Some((i, by)) = found else {
            self.leftover.push((statement_id, line));
            return;
        };
        if self.claimed[i] {
            let reason = format!(
                "a second payment for order {} (our payment {} is already matched to another line): \
                 the payer may have paid twice; refund one at the channel or record it",
                line.out_trade_no, self.payments[i].id
            );
            self.finding(
                statement_id,
                &line,
                MatchClass::ChannelOnly,
                None,
                (None, None),
                reason,
            );
            return;
        }
        self.claimed[i] = true;
        let ours = self.payments[i].amount_fen;
        let id = self.payments[i].id;
        if ours == line.amount_fen {
            self.matched(&line, by, Some(id), None);
        } else {
            let reason = format!(
                "the channel says {} for order {}, we recorded {} (payment {id})",
                yuan(line.amount_fen),
                line.out_trade_no,
                yuan(ours)
            );
            self.finding(
                statement_id,
                &line,
                MatchClass::AmountMismatch,
                Some(ours),
                (Some(id), None),
                reason,
            );
        }
    }

    fn refund_line(&mut self, statement_id: i64, line: StatementLine) {
        let Some(i) = self.refund_by_no.get(line.out_refund_no.as_str()).copied() else {
            let (reason, ours) = match self.pending.get(line.out_refund_no.as_str()) {
                Some(fen) => (
                    format!(
                        "the channel refunded {} ({}) but it is still pending here: run `feedesk orders sync`",
                        yuan(line.amount_fen),
                        line.out_refund_no
                    ),
                    Some(*fen),
                ),
                None => (
                    format!(
                        "the channel refunded {} for order {} ({}) and we have no such refund",
                        yuan(line.amount_fen),
                        line.out_trade_no,
                        line.out_refund_no
                    ),
                    None,
                ),
            };
            self.finding(
                statement_id,
                &line,
                MatchClass::RefundMismatch,
                ours,
                (None, None),
                reason,
            );
            return;
        };
        self.refund_claimed[i] = true;
        let ours = self.refunds[i].amount_fen;
        let ids = (Some(self.refunds[i].payment_id), Some(self.refunds[i].id));
        if ours != line.amount_fen {
            let reason = format!(
                "the channel refunded {} for {}, we recorded {} (refund {})",
                yuan(line.amount_fen),
                line.out_refund_no,
                yuan(ours),
                self.refunds[i].id
            );
            self.finding(
                statement_id,
                &line,
                MatchClass::RefundMismatch,
                Some(ours),
                ids,
                reason,
            );
        } else if !line.settled {
            let reason = format!(
                "we recorded refund {} as done, the channel still reports it processing",
                line.out_refund_no
            );
            self.finding(
                statement_id,
                &line,
                MatchClass::RefundMismatch,
                Some(ours),
                ids,
                reason,
            );
        } else {
            self.matched(&line, "refund_no", ids.0, ids.1);
        }
    }

    /// Settles the leftovers: matches by amount and date, then reports what no one claimed.
    pub fn finish(mut self) -> Outcome {
        if let Some((d, fee)) = self.current_day.take() {
            *self.out.fee_days.entry(d).or_default() += fee;
        }
        // Payments recorded by hand (no order number), by amount, oldest first.
        let mut by_amount: FxHashMap<i64, Vec<usize>> = FxHashMap::default();
        for (i, p) in self.payments.iter().enumerate() {
            if !self.claimed[i] && p.out_trade_no.is_none() {
                by_amount.entry(p.amount_fen).or_default().push(i);
            }
        }
        let leftover = std::mem::take(&mut self.leftover);
        for (statement_id, line) in leftover {
            let near = by_amount.get(&line.amount_fen).and_then(|candidates| {
                candidates
                    .iter()
                    .copied()
                    .filter(|i| !self.claimed[*i])
                    .map(|i| (i, (self.payments[i].at - line.at).num_seconds().abs()))
                    .filter(|(_, secs)| *secs <= DATE_WINDOW_DAYS * 86_400)
                    .min_by_key(|(_, secs)| *secs)
            });
            match near {
                Some((i, _)) => {
                    self.claimed[i] = true;
                    let id = self.payments[i].id;
                    self.matched(&line, "amount_date", Some(id), None);
                }
                None => {
                    let reason = format!(
                        "the channel received {} (order {}, transaction {}) and we recorded no such payment",
                        yuan(line.amount_fen),
                        if line.out_trade_no.is_empty() {
                            "-"
                        } else {
                            &line.out_trade_no
                        },
                        line.transaction_id
                    );
                    self.finding(
                        statement_id,
                        &line,
                        MatchClass::ChannelOnly,
                        None,
                        (None, None),
                        reason,
                    );
                }
            }
        }
        for i in 0..self.payments.len() {
            let p = &self.payments[i];
            let day = p.at.date();
            if self.claimed[i] || day < self.from || day > self.to {
                continue;
            }
            let finding = Finding {
                key: format!("ours-pay:{}", p.id),
                class: MatchClass::OursOnly,
                kind: LineKind::Payment,
                day,
                out_trade_no: p.out_trade_no.clone(),
                transaction_id: p.reference.clone(),
                out_refund_no: None,
                channel_fen: None,
                ours_fen: Some(p.amount_fen),
                payment_id: Some(p.id),
                refund_id: None,
                source: None,
                reason: format!(
                    "we recorded payment {} of {} (order {}) and the channel's statement does not have it",
                    p.id,
                    yuan(p.amount_fen),
                    p.out_trade_no.as_deref().unwrap_or("-")
                ),
            };
            self.tally(MatchClass::OursOnly, p.amount_fen);
            self.out.findings.push(finding);
        }
        for i in 0..self.refunds.len() {
            let r = &self.refunds[i];
            let day = r.at.date();
            if self.refund_claimed[i] || day < self.from || day > self.to {
                continue;
            }
            let finding = Finding {
                key: format!("ours-refund:{}", r.id),
                class: MatchClass::RefundMismatch,
                kind: LineKind::Refund,
                day,
                out_trade_no: None,
                transaction_id: None,
                out_refund_no: r.out_refund_no.clone(),
                channel_fen: None,
                ours_fen: Some(r.amount_fen),
                payment_id: Some(r.payment_id),
                refund_id: Some(r.id),
                source: None,
                reason: format!(
                    "we recorded refund {} of {} and the channel's statement does not have it",
                    r.id,
                    yuan(r.amount_fen)
                ),
            };
            self.tally(MatchClass::RefundMismatch, r.amount_fen);
            self.out.findings.push(finding);
        }
        for class in MatchClass::ALL {
            self.out.tallies.insert(class, self.counts[class as usize]);
        }
        self.out
    }
}

/// An index from text keys to positions that keeps 64-bit hashes, not copies of the keys (a
/// million payments have two keys each); a hit is confirmed against the key itself, and the
/// rare keys whose hashes collide with another's go to an exact map. The first position
/// inserted under a key wins.
struct KeyIndex {
    by_hash: FxHashMap<u64, usize>,
    exact: FxHashMap<String, usize>,
}

fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    key.hash(&mut h);
    h.finish()
}

impl KeyIndex {
    fn with_capacity(n: usize) -> KeyIndex {
        let mut by_hash = FxHashMap::default();
        by_hash.reserve(n);
        KeyIndex {
            by_hash,
            exact: FxHashMap::default(),
        }
    }

    fn insert<'a>(&mut self, key: &str, i: usize, key_of: impl Fn(usize) -> Option<&'a str>) {
        match self.by_hash.entry(key_hash(key)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                if key_of(*o.get()) != Some(key) {
                    self.exact.entry(key.to_string()).or_insert(i);
                }
            }
        }
    }

    fn get<'a>(&self, key: &str, key_of: impl Fn(usize) -> Option<&'a str>) -> Option<usize> {
        if key.is_empty() {
            return None;
        }
        match self.by_hash.get(&key_hash(key)) {
            Some(i) if key_of(*i) == Some(key) => Some(*i),
            _ => self.exact.get(key).copied(),
        }
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Fen as `¥1234.56` for reasons.
pub(crate) fn yuan(fen: i64) -> String {
    format!("¥{}", rust_decimal::Decimal::new(fen, 2))
}

/// A day's fee in fen: the five-decimal sum rounded half up (away from zero) once.
pub fn fee_fen(fee_e5: i64) -> i64 {
    let sign = fee_e5.signum();
    sign * ((fee_e5.abs() + 500) / 1000)
}

impl std::ops::AddAssign for FeeDay {
    fn add_assign(&mut self, o: FeeDay) {
        self.lines += o.lines;
        self.fee_e5 += o.fee_e5;
        self.received_fen += o.received_fen;
        self.refunded_fen += o.refunded_fen;
    }
}
