//! What the sandbox remembers: orders, refunds, the faults it was told to inject, and the
//! replies it sent (so it can duplicate or reorder them).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which protocol an order came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxChannel {
    Wechat,
    Alipay,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Waiting for the payer.
    Open,
    Paid,
    /// The payment failed (WeChat PAYERROR; Alipay closes the trade).
    Failed,
    Closed,
}

/// An order the sandbox holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxOrder {
    pub channel: SandboxChannel,
    /// The merchant id (WeChat) or app id (Alipay) that placed it.
    pub merchant: String,
    pub appid: Option<String>,
    pub out_trade_no: String,
    pub description: String,
    pub total_fen: i64,
    pub state: OrderState,
    /// The code a payer scans.
    pub code_url: String,
    /// The channel's transaction id, once paid.
    pub transaction_id: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub refunded_fen: i64,
    pub created_at: DateTime<Utc>,
    /// Alipay: the absolute `time_expire` asked for at precreate (Beijing time,
    /// `yyyy-MM-dd HH:mm:ss`): neither the QR code nor a trade made by scanning it can be paid
    /// from then on. Judged against the time the client's requests carry (the sandbox has no
    /// clock of its own that tests move).
    pub time_expire: Option<String>,
}

impl SandboxOrder {
    /// Whether an Alipay order's `time_expire` has passed by `alipay_now` (both Beijing time,
    /// `yyyy-MM-dd HH:mm:ss`, so they compare as text).
    pub fn expired(&self, alipay_now: Option<&str>) -> bool {
        matches!((self.time_expire.as_deref(), alipay_now), (Some(t), Some(n)) if n >= t)
    }
}

/// A refund the sandbox holds: `processing` when asked, `success` from the first query on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxRefund {
    pub channel: SandboxChannel,
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_fen: i64,
    pub settled: bool,
    pub created_at: DateTime<Utc>,
}

/// Something the sandbox does wrong on purpose, to test that FeeDesk copes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Wait before answering.
    Delay { ms: u64 },
    /// Answer, then answer the next request on the same route with the very same bytes
    /// (a replayed reply: same signature, same nonce).
    Duplicate,
    /// Answer with the reply sent before the latest one on this route (an older state arriving
    /// after a newer one).
    Reorder,
    /// Sign correctly, then corrupt the signature.
    BadSignature,
    /// Sign with a timestamp this many seconds off (WeChat Pay).
    SkewTimestamp { seconds: i64 },
    /// Name a key FeeDesk does not know in `Wechatpay-Serial` (WeChat Pay).
    UnknownSerial,
    /// Corrupt encrypted resources, then sign the result (WeChat Pay certificates).
    AlterCiphertext,
    /// Leave the answer unsigned (no `Wechatpay-*` headers; no Alipay `sign`).
    Unsigned,
    /// Report an amount one fen off, correctly signed.
    WrongAmount,
    /// Report another merchant (WeChat Pay) or another order (Alipay), correctly signed.
    WrongMerchant,
    /// Alter one amount (by a fen) in the next WeChat Pay trade bill download, after its
    /// SHA1 was announced: the file no longer matches its digest.
    TamperBill,
}

/// What kind of reply a fault is offered to: API answers, or bill files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyKind {
    Api,
    WechatBill,
    AlipayBill,
}

impl Fault {
    /// Parses the CLI's spelling: `bad-signature`, `delay:500`, `skew:-400`, `duplicate` ...
    pub fn parse(text: &str) -> Option<Fault> {
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (text, None),
        };
        let name = name.replace('_', "-");
        Some(match (name.as_str(), arg) {
            ("delay", Some(ms)) => Fault::Delay {
                ms: ms.parse().ok()?,
            },
            ("duplicate", None) => Fault::Duplicate,
            ("reorder", None) => Fault::Reorder,
            ("bad-signature", None) => Fault::BadSignature,
            ("skew", Some(s)) | ("skew-timestamp", Some(s)) => Fault::SkewTimestamp {
                seconds: s.parse().ok()?,
            },
            ("unknown-serial", None) => Fault::UnknownSerial,
            ("alter-ciphertext", None) => Fault::AlterCiphertext,
            ("unsigned", None) => Fault::Unsigned,
            ("wrong-amount", None) => Fault::WrongAmount,
            ("wrong-merchant", None) => Fault::WrongMerchant,
            ("tamper-bill", None) => Fault::TamperBill,
            _ => return None,
        })
    }

    /// Whether the fault can act on a reply of `kind` (only those use it up): a delay fits
    /// anything, a tampered bill only a WeChat Pay bill file, the rest only API answers.
    pub(crate) fn fits(&self, kind: ReplyKind) -> bool {
        match (self, kind) {
            (Fault::Delay { .. }, _) => true,
            (Fault::TamperBill, kind) => kind == ReplyKind::WechatBill,
            (_, kind) => kind == ReplyKind::Api,
        }
    }
}

/// A fault for the next `times` replies, to one order's requests or to any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    pub fault: Fault,
    #[serde(default = "one")]
    pub times: u32,
    /// Only requests about this out_trade_no (or refund number); any request when absent.
    #[serde(default)]
    pub order: Option<String>,
}

fn one() -> u32 {
    1
}

/// A reply as sent, so it can be sent again byte for byte.
#[derive(Debug, Clone)]
pub(crate) struct SentReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A bill made when it was applied for, waiting to be downloaded by its token.
#[derive(Debug, Clone)]
pub(crate) struct BillFile {
    pub channel: SandboxChannel,
    /// The merchant id (WeChat) or app id (Alipay) it belongs to.
    pub merchant: String,
    /// WeChat: the CSV (gzipped on the way out if `gzip`); Alipay: the zip.
    pub bytes: Vec<u8>,
    pub gzip: bool,
    /// The name it is served under.
    pub file_name: String,
    pub created_at: DateTime<Utc>,
}

/// How long a bill's download link works (WeChat Pay: 5 minutes; Alipay: 30 seconds, kept
/// longer here for people typing).
pub(crate) const BILL_LINK_SECONDS: i64 = 5 * 60;

/// How many bills the sandbox keeps waiting at most.
const MAX_BILLS: usize = 32;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub orders: HashMap<(SandboxChannel, String), SandboxOrder>,
    pub refunds: HashMap<(SandboxChannel, String), SandboxRefund>,
    pub faults: Vec<FaultRule>,
    /// The last two replies per route, newest last.
    pub history: HashMap<String, Vec<SentReply>>,
    /// A reply to send again on the next request to its route.
    pub replay: HashMap<String, SentReply>,
    /// Bills applied for, by download token.
    pub bills: HashMap<String, BillFile>,
    pub sequence: u64,
    /// The latest `timestamp` an Alipay client sent (Beijing time, `yyyy-MM-dd HH:mm:ss`):
    /// Alipay's clock, as far as the sandbox models it.
    pub alipay_now: Option<String>,
}

impl State {
    /// Takes the faults that apply to a reply of `kind` about `order` (counting each use).
    pub fn take_faults(&mut self, order: Option<&str>, kind: ReplyKind) -> Vec<Fault> {
        let mut taken = Vec::new();
        for rule in &mut self.faults {
            let applies = rule.fault.fits(kind)
                && match (&rule.order, order) {
                    (None, _) => true,
                    (Some(want), Some(got)) => want == got,
                    (Some(_), None) => false,
                };
            if applies && rule.times > 0 {
                rule.times -= 1;
                taken.push(rule.fault.clone());
            }
        }
        self.faults.retain(|r| r.times > 0);
        taken
    }

    pub fn remember(&mut self, route: &str, reply: &SentReply) {
        let history = self.history.entry(route.to_string()).or_default();
        history.push(reply.clone());
        if history.len() > 2 {
            history.remove(0);
        }
    }

    /// The reply sent before the latest one on `route`.
    pub fn older(&self, route: &str) -> Option<SentReply> {
        self.history
            .get(route)
            .filter(|h| h.len() == 2)
            .map(|h| h[0].clone())
    }

    /// Keeps a bill for download under a new token; forgets expired ones.
    pub fn keep_bill(&mut self, bill: BillFile) -> String {
        let now = bill.created_at;
        self.bills
            .retain(|_, b| (now - b.created_at).num_seconds() <= BILL_LINK_SECONDS);
        while self.bills.len() >= MAX_BILLS {
            let oldest = self
                .bills
                .iter()
                .min_by_key(|(_, b)| b.created_at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.bills.remove(&k),
                None => break,
            };
        }
        let token = crate::secrets::random_hex(24);
        self.bills.insert(token.clone(), bill);
        token
    }

    /// The bill behind `token`, if it is still valid at `now`.
    pub fn bill(&self, token: &str, now: DateTime<Utc>) -> Option<&BillFile> {
        self.bills
            .get(token)
            .filter(|b| (now - b.created_at).num_seconds() <= BILL_LINK_SECONDS)
    }

    pub fn next_id(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

/// The delay a set of faults asks for.
pub(crate) fn delay_of(faults: &[Fault]) -> Option<Duration> {
    faults.iter().find_map(|f| match f {
        Fault::Delay { ms } => Some(Duration::from_millis(*ms)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_count_down_and_filter_by_order() {
        let mut state = State::default();
        state.faults.push(FaultRule {
            fault: Fault::BadSignature,
            times: 2,
            order: None,
        });
        state.faults.push(FaultRule {
            fault: Fault::WrongAmount,
            times: 1,
            order: Some("FD0001".into()),
        });
        state.faults.push(FaultRule {
            fault: Fault::TamperBill,
            times: 1,
            order: None,
        });
        assert_eq!(
            state.take_faults(Some("FD0002"), ReplyKind::Api),
            vec![Fault::BadSignature]
        );
        assert_eq!(
            state.take_faults(Some("FD0001"), ReplyKind::Api),
            vec![Fault::BadSignature, Fault::WrongAmount]
        );
        assert!(state.take_faults(Some("FD0001"), ReplyKind::Api).is_empty());
        // A tampered bill waits for a WeChat Pay bill file; API answers leave it be.
        assert!(state.take_faults(None, ReplyKind::AlipayBill).is_empty());
        assert_eq!(
            state.take_faults(None, ReplyKind::WechatBill),
            vec![Fault::TamperBill]
        );
        assert!(state.faults.is_empty());
    }

    #[test]
    fn faults_parse_from_the_cli() {
        assert_eq!(Fault::parse("delay:250"), Some(Fault::Delay { ms: 250 }));
        assert_eq!(
            Fault::parse("skew:-400"),
            Some(Fault::SkewTimestamp { seconds: -400 })
        );
        assert_eq!(Fault::parse("bad_signature"), Some(Fault::BadSignature));
        assert_eq!(Fault::parse("wrong-merchant"), Some(Fault::WrongMerchant));
        assert_eq!(Fault::parse("tamper-bill"), Some(Fault::TamperBill));
        assert_eq!(Fault::parse("delay"), None);
        assert_eq!(Fault::parse("explode"), None);
    }
}
