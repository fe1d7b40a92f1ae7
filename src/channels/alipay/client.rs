//! The Alipay gateway client.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::AlipayConfig;
use super::sign::{sign_params, split_answer};
use crate::channels::bills::MAX_BILL_IN_MEMORY;
use crate::channels::crypto::{self, fen_to_yuan, yuan_to_fen};
use crate::channels::wechatpay::check_out_no;
use crate::channels::{MAX_ANSWER_BYTES, http_client, read_capped, transport_error};
use crate::clock::{Clock, SystemClock};
use crate::{Error, Result};

/// A QR-code order to precreate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecreateOrder {
    pub out_trade_no: String,
    /// What the payer sees.
    pub subject: String,
    pub total_fen: i64,
    /// How long the QR code works, Alipay style (`15m`, `2h`, `1d`): sent as
    /// `qr_code_timeout_express` (the code stops scanning) and `timeout_express`.
    pub timeout_express: Option<String>,
    /// The absolute end (Beijing time, `yyyy-MM-dd HH:mm:ss`) after which no trade made from
    /// this code can be paid (`time_expire`; Alipay prefers it over `timeout_express`, which
    /// for a precreated code only starts counting when someone scans it).
    pub time_expire: Option<String>,
}

/// A trade's status (`trade_status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeStatus {
    WaitBuyerPay,
    /// Unpaid and closed, or fully refunded.
    TradeClosed,
    /// Paid (refunds still possible).
    TradeSuccess,
    /// Paid and final.
    TradeFinished,
    Other(String),
}

impl TradeStatus {
    pub fn parse(text: &str) -> TradeStatus {
        match text {
            "WAIT_BUYER_PAY" => TradeStatus::WaitBuyerPay,
            "TRADE_CLOSED" => TradeStatus::TradeClosed,
            "TRADE_SUCCESS" => TradeStatus::TradeSuccess,
            "TRADE_FINISHED" => TradeStatus::TradeFinished,
            other => TradeStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TradeStatus::WaitBuyerPay => "WAIT_BUYER_PAY",
            TradeStatus::TradeClosed => "TRADE_CLOSED",
            TradeStatus::TradeSuccess => "TRADE_SUCCESS",
            TradeStatus::TradeFinished => "TRADE_FINISHED",
            TradeStatus::Other(s) => s,
        }
    }

    pub fn is_paid(&self) -> bool {
        matches!(self, TradeStatus::TradeSuccess | TradeStatus::TradeFinished)
    }
}

/// A trade as `query` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayTrade {
    pub out_trade_no: String,
    /// Alipay's id.
    pub trade_no: Option<String>,
    pub status: TradeStatus,
    pub total_fen: i64,
    /// When it was paid (Beijing time, `yyyy-MM-dd HH:mm:ss`).
    pub send_pay_date: Option<String>,
    pub buyer_logon_id: Option<String>,
}

impl AlipayTrade {
    /// Refuses a trade whose total is not the `expected` fen of our order.
    pub fn confirm_total(&self, expected_fen: i64) -> Result<()> {
        if self.total_fen == expected_fen {
            Ok(())
        } else {
            Err(Error::Channel(format!(
                "Alipay answer refused: order {} is for {expected_fen} fen, but Alipay reports {} fen",
                self.out_trade_no, self.total_fen
            )))
        }
    }
}

/// What closing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlipayCloseOutcome {
    Closed,
    /// Nobody scanned it: Alipay never created the trade, so nothing can pay it.
    NeverScanned,
    /// Too late: it is paid (or otherwise not closable). Query it.
    NotClosable,
}

/// A refund to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayRefundRequest {
    pub out_trade_no: String,
    /// Ours, unique per refund (Alipay's out_request_no): reused on retry.
    pub out_request_no: String,
    pub refund_fen: i64,
    pub reason: Option<String>,
}

/// The answer to a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayRefund {
    pub out_trade_no: String,
    pub trade_no: Option<String>,
    /// Whether money moved (`fund_change` = Y); a retried refund answers N.
    pub fund_change: bool,
    /// Everything refunded on the trade so far, fen.
    pub refund_fee_fen: i64,
}

/// A refund as the refund query reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayRefundQuery {
    pub out_request_no: String,
    pub refund_fen: i64,
    /// `REFUND_SUCCESS` when done.
    pub refund_status: Option<String>,
}

impl AlipayRefundQuery {
    pub fn is_success(&self) -> bool {
        self.refund_status.as_deref() == Some("REFUND_SUCCESS")
    }
}

/// The fields every answer node has.
#[derive(Debug, Deserialize)]
struct Common {
    code: String,
    #[serde(default)]
    msg: String,
    sub_code: Option<String>,
    sub_msg: Option<String>,
}

/// A verified answer node.
struct Answer {
    node: String,
    common: Common,
}

impl Answer {
    fn ok(&self) -> bool {
        self.common.code == "10000"
    }

    fn sub_code(&self) -> Option<&str> {
        self.common.sub_code.as_deref()
    }

    fn refusal(&self) -> Error {
        Error::Channel(format!(
            "Alipay refused ({} {}): {}",
            self.common.code,
            self.common.sub_code.as_deref().unwrap_or(""),
            self.common
                .sub_msg
                .as_deref()
                .unwrap_or(&self.common.msg)
                .chars()
                .take(200)
                .collect::<String>()
        ))
    }

    fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.node).map_err(|e| {
            Error::Channel(format!(
                "Alipay answered something FeeDesk cannot read ({e})"
            ))
        })
    }
}

/// An Alipay app, ready to call the gateway.
pub struct AlipayClient {
    config: AlipayConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AlipayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayClient")
            .field("app_id", &self.config.app_id)
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct PrecreateNode {
    out_trade_no: String,
    qr_code: String,
}

#[derive(Deserialize)]
struct QueryNode {
    out_trade_no: String,
    trade_no: Option<String>,
    trade_status: String,
    total_amount: String,
    send_pay_date: Option<String>,
    buyer_logon_id: Option<String>,
}

#[derive(Deserialize)]
struct RefundNode {
    out_trade_no: String,
    trade_no: Option<String>,
    fund_change: String,
    refund_fee: String,
}

#[derive(Deserialize)]
struct BillUrlNode {
    #[serde(default)]
    bill_download_url: String,
}

#[derive(Deserialize)]
struct RefundQueryNode {
    out_request_no: Option<String>,
    refund_amount: Option<String>,
    refund_status: Option<String>,
}

impl AlipayClient {
    pub fn new(config: AlipayConfig) -> Result<AlipayClient> {
        Ok(AlipayClient {
            http: http_client(&config.base_url)?,
            config,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for request timestamps (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> AlipayClient {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &AlipayConfig {
        &self.config
    }

    /// Precreates a QR-code order; returns its `qr_code` URL.
    pub async fn precreate(&self, order: &PrecreateOrder) -> Result<String> {
        check_out_no("out_trade_no", &order.out_trade_no)?;
        if order.total_fen <= 0 {
            return Err(Error::Validation(
                "an order must be for at least 0.01".into(),
            ));
        }
        let mut biz = serde_json::json!({
            "out_trade_no": order.out_trade_no,
            "total_amount": fen_to_yuan(order.total_fen),
            "subject": order.subject,
        });
        if let Some(t) = &order.timeout_express {
            biz["timeout_express"] = serde_json::Value::String(t.clone());
            biz["qr_code_timeout_express"] = serde_json::Value::String(t.clone());
        }
        if let Some(t) = &order.time_expire {
            biz["time_expire"] = serde_json::Value::String(t.clone());
        }
        let answer = self.call("alipay.trade.precreate", &biz).await?;
        if !answer.ok() {
            return Err(answer.refusal());
        }
        let node: PrecreateNode = answer.parse()?;
        if node.out_trade_no != order.out_trade_no {
            return Err(mismatch(&order.out_trade_no, &node.out_trade_no));
        }
        Ok(node.qr_code)
    }

    /// The trade `out_trade_no`; `None` while nobody has scanned the code (Alipay creates the
    /// trade only then) or when there is no such order.
    pub async fn query(&self, out_trade_no: &str) -> Result<Option<AlipayTrade>> {
        check_out_no("out_trade_no", out_trade_no)?;
        let answer = self
            .call(
                "alipay.trade.query",
                &serde_json::json!({ "out_trade_no": out_trade_no }),
            )
            .await?;
        if answer.sub_code() == Some("ACQ.TRADE_NOT_EXIST") {
            return Ok(None);
        }
        if !answer.ok() {
            return Err(answer.refusal());
        }
        let node: QueryNode = answer.parse()?;
        if node.out_trade_no != out_trade_no {
            return Err(mismatch(out_trade_no, &node.out_trade_no));
        }
        Ok(Some(AlipayTrade {
            out_trade_no: node.out_trade_no,
            trade_no: node.trade_no,
            status: TradeStatus::parse(&node.trade_status),
            total_fen: amount(&node.total_amount)?,
            send_pay_date: node.send_pay_date,
            buyer_logon_id: node.buyer_logon_id,
        }))
    }

    /// Closes an unpaid order.
    pub async fn close(&self, out_trade_no: &str) -> Result<AlipayCloseOutcome> {
        check_out_no("out_trade_no", out_trade_no)?;
        let answer = self
            .call(
                "alipay.trade.close",
                &serde_json::json!({ "out_trade_no": out_trade_no }),
            )
            .await?;
        match answer.sub_code() {
            _ if answer.ok() => Ok(AlipayCloseOutcome::Closed),
            Some("ACQ.TRADE_NOT_EXIST") => Ok(AlipayCloseOutcome::NeverScanned),
            Some("ACQ.TRADE_STATUS_ERROR") => Ok(AlipayCloseOutcome::NotClosable),
            _ => Err(answer.refusal()),
        }
    }

    /// Refunds (idempotent under `out_request_no`).
    pub async fn refund(&self, request: &AlipayRefundRequest) -> Result<AlipayRefund> {
        check_out_no("out_trade_no", &request.out_trade_no)?;
        check_out_no("out_request_no", &request.out_request_no)?;
        if request.refund_fen <= 0 {
            return Err(Error::Validation("a refund must be at least 0.01".into()));
        }
        let mut biz = serde_json::json!({
            "out_trade_no": request.out_trade_no,
            "out_request_no": request.out_request_no,
            "refund_amount": fen_to_yuan(request.refund_fen),
        });
        if let Some(r) = &request.reason {
            biz["refund_reason"] = serde_json::Value::String(r.clone());
        }
        let answer = self.call("alipay.trade.refund", &biz).await?;
        if !answer.ok() {
            return Err(answer.refusal());
        }
        let node: RefundNode = answer.parse()?;
        if node.out_trade_no != request.out_trade_no {
            return Err(mismatch(&request.out_trade_no, &node.out_trade_no));
        }
        Ok(AlipayRefund {
            out_trade_no: node.out_trade_no,
            trade_no: node.trade_no,
            fund_change: node.fund_change == "Y",
            refund_fee_fen: amount(&node.refund_fee)?,
        })
    }

    /// The refund `out_request_no` of `out_trade_no`; `None` when Alipay has no such refund.
    pub async fn query_refund(
        &self,
        out_trade_no: &str,
        out_request_no: &str,
    ) -> Result<Option<AlipayRefundQuery>> {
        check_out_no("out_trade_no", out_trade_no)?;
        check_out_no("out_request_no", out_request_no)?;
        let answer = self
            .call(
                "alipay.trade.fastpay.refund.query",
                &serde_json::json!({ "out_trade_no": out_trade_no, "out_request_no": out_request_no }),
            )
            .await?;
        if answer.sub_code() == Some("ACQ.TRADE_NOT_EXIST") {
            return Ok(None);
        }
        if !answer.ok() {
            return Err(answer.refusal());
        }
        let node: RefundQueryNode = answer.parse()?;
        // Alipay answers 10000 with no refund fields when the refund does not exist.
        let Some(refund_amount) = node.refund_amount else {
            return Ok(None);
        };
        if let Some(no) = &node.out_request_no
            && no != out_request_no
        {
            return Err(mismatch(out_request_no, no));
        }
        Ok(Some(AlipayRefundQuery {
            out_request_no: out_request_no.to_string(),
            refund_fen: amount(&refund_amount)?,
            refund_status: node.refund_status,
        }))
    }

    /// The download link of the business-detail bill (业务明细, `bill_type=trade`) of `date`
    /// (a Beijing-time day): `alipay.data.dataservice.bill.downloadurl.query`. The link is
    /// valid for 30 seconds; fetch it with [`AlipayClient::download_bill`].
    pub async fn bill_download_url(&self, date: chrono::NaiveDate) -> Result<String> {
        let day = date.format("%Y-%m-%d").to_string();
        let answer = self
            .call(
                "alipay.data.dataservice.bill.downloadurl.query",
                &serde_json::json!({ "bill_type": "trade", "bill_date": day }),
            )
            .await?;
        if answer.sub_code() == Some("isp.bill_not_exist") {
            return Err(Error::NotFound(format!(
                "Alipay has no bill for {day} (a day's bill is ready the next morning)"
            )));
        }
        if !answer.ok() {
            return Err(answer.refusal());
        }
        let node: BillUrlNode = answer.parse()?;
        if node.bill_download_url.trim().is_empty() {
            return Err(Error::Channel(
                "Alipay answered without a bill download link".into(),
            ));
        }
        Ok(node.bill_download_url)
    }

    /// Fetches a bill from the link [`AlipayClient::bill_download_url`] gave: the zip as
    /// delivered (GBK CSVs inside; [`super::business_detail_csv`] takes out the detail). The
    /// link came in a verified answer; Alipay's own plain-http links are fetched over https,
    /// and plain http goes only to this computer (the sandbox).
    pub async fn download_bill(&self, url: &str) -> Result<Vec<u8>> {
        let mut parsed = reqwest::Url::parse(url)
            .map_err(|_| Error::Channel("Alipay's bill download link is not a URL".into()))?;
        let loopback = match parsed.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if parsed.scheme() == "http" && !loopback {
            parsed
                .set_scheme("https")
                .map_err(|()| Error::Channel("cannot fetch Alipay's bill over https".into()))?;
        }
        let http = http_client(parsed.as_str())?;
        let response = http
            .get(parsed)
            .header("User-Agent", concat!("FeeDesk/", env!("CARGO_PKG_VERSION")))
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let body = read_capped(response, MAX_BILL_IN_MEMORY)
            .await
            .map_err(|e| e.channel("Alipay's bill download"))?;
        if !(200..300).contains(&status) {
            return Err(Error::Channel(format!(
                "Alipay's bill download answered HTTP {status}; the link is valid for 30 \
                 seconds, ask for a new one"
            )));
        }
        if !body.starts_with(b"PK\x03\x04") {
            let head: String = String::from_utf8_lossy(&body[..body.len().min(120)])
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            return Err(Error::Channel(format!(
                "Alipay's bill download is not a zip (it begins '{head}'); the link may have \
                 expired, ask for a new one"
            )));
        }
        Ok(body)
    }

    /// The business-detail bill of `date`: link, then the zip as delivered.
    pub async fn trade_bill(&self, date: chrono::NaiveDate) -> Result<Vec<u8>> {
        let url = self.bill_download_url(date).await?;
        self.download_bill(&url).await
    }

    /// One signed call and its verified answer node.
    async fn call(&self, method: &str, biz: &serde_json::Value) -> Result<Answer> {
        let timestamp = self
            .clock
            .now()
            .with_timezone(&crate::clock::LOCAL_OFFSET)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let mut params: BTreeMap<String, String> = [
            ("app_id", self.config.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        params.insert("biz_content".into(), biz.to_string());
        let sign = sign_params(&params, &self.config.private_key);
        params.insert("sign".into(), sign);
        let form: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let response = self
            .http
            .post(&self.config.base_url)
            .header(
                "Content-Type",
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .header("User-Agent", concat!("FeeDesk/", env!("CARGO_PKG_VERSION")))
            .body(form)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let body = read_capped(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| e.channel("Alipay's answer"))?;
        let body = String::from_utf8_lossy(&body).into_owned();
        if !(200..300).contains(&status) {
            return Err(Error::Channel(format!(
                "Alipay's gateway answered HTTP {status}"
            )));
        }
        let split = split_answer(&body, method)?;
        let common: Common = serde_json::from_str(split.node)
            .map_err(|_| Error::Channel("Alipay answered without a result code".into()))?;
        match &split.sign {
            Some(sign) => {
                if !crypto::verify(&self.config.alipay_public_key, split.node.as_bytes(), sign) {
                    return Err(Error::Channel(
                        "Alipay answer refused: its signature does not verify with the Alipay public key"
                            .into(),
                    ));
                }
            }
            // Alipay leaves some gateway-level errors (bad app id, bad request signature)
            // unsigned; an unsigned success is never believed.
            None if common.code == "10000" => {
                return Err(Error::Channel(
                    "Alipay answer refused: a success without a signature".into(),
                ));
            }
            None => {
                let answer = Answer {
                    node: split.node.to_string(),
                    common,
                };
                return Err(answer.refusal());
            }
        }
        Ok(Answer {
            node: split.node.to_string(),
            common,
        })
    }
}

fn amount(text: &str) -> Result<i64> {
    yuan_to_fen(text).ok_or_else(|| {
        Error::Channel(format!(
            "Alipay reported an amount FeeDesk cannot read: '{text}'"
        ))
    })
}

fn mismatch(asked: &str, got: &str) -> Error {
    Error::Channel(format!(
        "Alipay answer refused: asked about {asked}, got {got}"
    ))
}
