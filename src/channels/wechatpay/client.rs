//! The WeChat Pay API v3 client: every request signed, every answer verified before a byte of
//! it is believed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::model::*;
use super::sign::{Authorization, SignedHeaders};
use super::{PlatformCertificate, WechatConfig, decrypt_certificates};
use crate::channels::bills::{MAX_BILL_IN_MEMORY, gunzip, is_gzip, sha1_hex};
use crate::channels::{MAX_ANSWER_BYTES, crypto, http_client, read_capped, transport_error};
use crate::clock::{Clock, SystemClock};
use crate::{Error, Result};

/// A WeChat Pay merchant account, ready to call the API.
pub struct WechatClient {
    config: WechatConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatClient")
            .field("mch_id", &self.config.mch_id)
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

/// A verified answer. `signed` is false only for an error WeChat Pay did not sign (it signs
/// every answer to a correctly signed request); such an answer is never acted upon.
struct Reply {
    status: u16,
    body: String,
    signed: bool,
}

/// What closing an order found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOutcome {
    Closed,
    /// Too late: the payer paid. Query it and record the payment.
    AlreadyPaid,
}

impl WechatClient {
    pub fn new(config: WechatConfig) -> Result<WechatClient> {
        Ok(WechatClient {
            http: http_client(&config.base_url)?,
            config,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for request timestamps and the response skew check (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> WechatClient {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &WechatConfig {
        &self.config
    }

    /// Places a Native order; returns its `code_url` (put it in a QR code).
    pub async fn native_order(&self, order: &NativeOrder) -> Result<String> {
        check_out_no("out_trade_no", &order.out_trade_no)?;
        if order.total_fen <= 0 {
            return Err(Error::Validation(
                "an order must be for at least 1 fen".into(),
            ));
        }
        let body = NativeOrderBody {
            appid: &self.config.appid,
            mchid: &self.config.mch_id,
            description: &order.description,
            out_trade_no: &order.out_trade_no,
            time_expire: order.time_expire.as_deref(),
            notify_url: &self.config.notify_url,
            amount: AmountOut {
                total: order.total_fen,
                currency: "CNY".into(),
            },
        };
        let reply = self
            .call(
                Method::POST,
                "/v3/pay/transactions/native",
                Some(to_json(&body)?),
            )
            .await?;
        let reply = self.expect_ok(reply)?;
        let CodeUrl { code_url } = parse(&reply.body)?;
        Ok(code_url)
    }

    /// The trade `out_trade_no`; `None` when WeChat Pay has no such order.
    pub async fn query(&self, out_trade_no: &str) -> Result<Option<Transaction>> {
        check_out_no("out_trade_no", out_trade_no)?;
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
            self.config.mch_id
        );
        let reply = self.call(Method::GET, &path, None).await?;
        if reply.signed
            && reply.status == 404
            && error_code(&reply).as_deref() == Some("ORDER_NOT_EXIST")
        {
            return Ok(None);
        }
        let reply = self.expect_ok(reply)?;
        let trade: Transaction = parse(&reply.body)?;
        if trade.mchid != self.config.mch_id || trade.appid != self.config.appid {
            return Err(Error::Channel(format!(
                "WeChat Pay answer refused: it is for merchant {} / app {}, not this account's {} / {}",
                trade.mchid, trade.appid, self.config.mch_id, self.config.appid
            )));
        }
        if trade.out_trade_no != out_trade_no {
            return Err(Error::Channel(format!(
                "WeChat Pay answer refused: asked about order {out_trade_no}, got order {}",
                trade.out_trade_no
            )));
        }
        Ok(Some(trade))
    }

    /// Asks WeChat Pay to close an unpaid order. Its signed 204 says only that the request was
    /// taken (it answers the same for an order already closed, or one it never had): query the
    /// order to learn that it is closed.
    pub async fn close(&self, out_trade_no: &str) -> Result<CloseOutcome> {
        check_out_no("out_trade_no", out_trade_no)?;
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        let body = serde_json::json!({ "mchid": self.config.mch_id }).to_string();
        let reply = self.call(Method::POST, &path, Some(body)).await?;
        if reply.signed && error_code(&reply).as_deref() == Some("ORDERPAID") {
            return Ok(CloseOutcome::AlreadyPaid);
        }
        self.expect_ok(reply)?;
        Ok(CloseOutcome::Closed)
    }

    /// Asks for a refund (idempotent under `out_refund_no`); usually `Processing` at first.
    pub async fn refund(&self, request: &RefundRequest) -> Result<Refund> {
        check_out_no("out_trade_no", &request.out_trade_no)?;
        check_out_no("out_refund_no", &request.out_refund_no)?;
        if request.refund_fen <= 0 || request.refund_fen > request.total_fen {
            return Err(Error::Validation(
                "a refund must be at least 1 fen and at most the order's total".into(),
            ));
        }
        let body = RefundBody {
            out_trade_no: &request.out_trade_no,
            out_refund_no: &request.out_refund_no,
            reason: request.reason.as_deref(),
            amount: RefundAmountOut {
                refund: request.refund_fen,
                total: request.total_fen,
                currency: "CNY",
            },
        };
        let reply = self
            .call(
                Method::POST,
                "/v3/refund/domestic/refunds",
                Some(to_json(&body)?),
            )
            .await?;
        let reply = self.expect_ok(reply)?;
        let refund: Refund = parse(&reply.body)?;
        check_refund(&refund, &request.out_refund_no)?;
        if refund.out_trade_no != request.out_trade_no || refund.amount.refund != request.refund_fen
        {
            return Err(Error::Channel(format!(
                "WeChat Pay answer refused: refund {} does not match what was asked",
                request.out_refund_no
            )));
        }
        Ok(refund)
    }

    /// The refund `out_refund_no`; `None` when WeChat Pay has no such refund.
    pub async fn query_refund(&self, out_refund_no: &str) -> Result<Option<Refund>> {
        check_out_no("out_refund_no", out_refund_no)?;
        let path = format!("/v3/refund/domestic/refunds/{out_refund_no}");
        let reply = self.call(Method::GET, &path, None).await?;
        if reply.signed
            && reply.status == 404
            && error_code(&reply).as_deref() == Some("RESOURCE_NOT_EXISTS")
        {
            return Ok(None);
        }
        let reply = self.expect_ok(reply)?;
        let refund: Refund = parse(&reply.body)?;
        check_refund(&refund, out_refund_no)?;
        Ok(Some(refund))
    }

    /// Downloads and decrypts the platform certificates (`GET /v3/certificates`). The answer
    /// itself is verified with the keys the account already trusts.
    pub async fn certificates(&self) -> Result<Vec<PlatformCertificate>> {
        let reply = self.call(Method::GET, "/v3/certificates", None).await?;
        let reply = self.expect_ok(reply)?;
        let list: CertificateList = parse(&reply.body)?;
        decrypt_certificates(&list, &self.config.apiv3_key)
    }

    /// The trade bill (交易账单, `bill_type=ALL`) of `date` (a Beijing-time day), fetched
    /// gzipped: see [`WechatClient::trade_bill_as`].
    pub async fn trade_bill(&self, date: chrono::NaiveDate) -> Result<Vec<u8>> {
        self.trade_bill_as(date, true).await
    }

    /// Applies for the trade bill of `date` (`GET /v3/bill/tradebill`, a signed answer naming
    /// the file's SHA1 and a short-lived download link), downloads it (a signed GET whose
    /// answer WeChat Pay does not sign), unpacks it when it is gzip, and accepts it only if its
    /// SHA1 is the one the signed answer named. Returns the bill as WeChat Pay wrote it: UTF-8
    /// CSV, every detail field prefixed with a backtick, the summary rows last.
    pub async fn trade_bill_as(&self, date: chrono::NaiveDate, gzip: bool) -> Result<Vec<u8>> {
        let day = date.format("%Y-%m-%d");
        let mut path = format!("/v3/bill/tradebill?bill_date={day}&bill_type=ALL");
        if gzip {
            path.push_str("&tar_type=GZIP");
        }
        let reply = self.call(Method::GET, &path, None).await?;
        if reply.signed && (400..500).contains(&reply.status) {
            match error_code(&reply).as_deref() {
                Some("NO_STATEMENT_EXIST") => {
                    return Err(Error::NotFound(format!(
                        "WeChat Pay has no trade bill for {day} (a day's bill is ready after \
                         10:00 the next day, and only for the last three months)"
                    )));
                }
                Some("STATEMENT_CREATING") => {
                    return Err(Error::Channel(format!(
                        "WeChat Pay is still making the trade bill for {day}; try again later"
                    )));
                }
                _ => {}
            }
        }
        let reply = self.expect_ok(reply)?;
        let link: BillLink = parse(&reply.body)?;
        if !link.hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(Error::Channel(format!(
                "WeChat Pay trade bill refused: it names a {} digest, and FeeDesk checks SHA1",
                link.hash_type
            )));
        }
        let expected = link.hash_value.trim().to_ascii_lowercase();
        if expected.len() != 40 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Channel(format!(
                "WeChat Pay trade bill refused: '{}' is not a SHA1 digest",
                link.hash_value
            )));
        }
        let url = self.bill_url(&link.download_url)?;
        let raw = self.download(url).await?;
        let bill = if is_gzip(&raw) { gunzip(&raw)? } else { raw };
        let actual = sha1_hex(&bill);
        if actual != expected {
            return Err(Error::Channel(format!(
                "WeChat Pay trade bill for {day} refused: the downloaded file's SHA1 is {actual}, \
                 but WeChat Pay's signed answer says {expected}; the file was altered or damaged \
                 on the way. Nothing was kept; download it again"
            )));
        }
        Ok(bill)
    }

    /// A download link is followed only to WeChat Pay itself (the account's base URL, or the
    /// API's other official host): it is signed for, with the merchant's key.
    fn bill_url(&self, link: &str) -> Result<reqwest::Url> {
        let url = reqwest::Url::parse(link)
            .map_err(|_| Error::Channel("WeChat Pay's bill download link is not a URL".into()))?;
        let base = reqwest::Url::parse(&self.config.base_url)
            .map_err(|_| Error::Validation("the account's base URL is not a URL".into()))?;
        let same_origin = url.origin() == base.origin();
        let official = url.scheme() == "https"
            && matches!(
                url.host_str(),
                Some("api.mch.weixin.qq.com" | "api2.mch.weixin.qq.com")
            );
        if same_origin || official {
            Ok(url)
        } else {
            Err(Error::Channel(format!(
                "WeChat Pay's bill download link points to {}, not to WeChat Pay; not followed",
                url.host_str().unwrap_or("nowhere")
            )))
        }
    }

    /// A signed GET for a file. The file is not signed (its digest came in a signed answer);
    /// an error answer is read only if it verifies.
    async fn download(&self, url: reqwest::Url) -> Result<Vec<u8>> {
        let signed_url = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let now = self.clock.now();
        let auth = Authorization::sign(
            &self.config.mch_id,
            &self.config.cert_serial,
            &self.config.private_key,
            "GET",
            &signed_url,
            "",
            now.timestamp(),
            &crypto::nonce(16),
        );
        let response = self
            .http
            .get(url)
            .header("Authorization", auth.header())
            .header("Accept", "*/*")
            .header("User-Agent", concat!("FeeDesk/", env!("CARGO_PKG_VERSION")))
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_BILL_IN_MEMORY)
            .await
            .map_err(|e| e.channel("WeChat Pay's bill download"))?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let text = String::from_utf8_lossy(&body).into_owned();
        let signed = self.verify(status, &headers, &text, self.clock.now())?;
        Err(self
            .expect_ok(Reply {
                status,
                body: text,
                signed,
            })
            .err()
            .unwrap_or_else(|| Error::Channel("WeChat Pay refused the bill download".into())))
    }

    /// One signed request and its verified answer.
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<String>,
    ) -> Result<Reply> {
        let url = format!(
            "{}{path_and_query}",
            self.config.base_url.trim_end_matches('/')
        );
        let parsed = reqwest::Url::parse(&url)
            .map_err(|_| Error::Validation(format!("'{url}' is not a valid URL")))?;
        let signed_url = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let body_text = body.unwrap_or_default();
        let now = self.clock.now();
        let auth = Authorization::sign(
            &self.config.mch_id,
            &self.config.cert_serial,
            &self.config.private_key,
            method.as_str(),
            &signed_url,
            &body_text,
            now.timestamp(),
            &crypto::nonce(16),
        );
        let mut request = self
            .http
            .request(method.clone(), parsed)
            .header("Authorization", auth.header())
            .header("Accept", "application/json")
            .header("User-Agent", concat!("FeeDesk/", env!("CARGO_PKG_VERSION")));
        if method != Method::GET {
            request = request
                .header("Content-Type", "application/json")
                .body(body_text);
        }
        let response = request.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| e.channel("WeChat Pay's answer"))?;
        let body = String::from_utf8_lossy(&body).into_owned();
        let signed = self.verify(status, &headers, &body, self.clock.now())?;
        Ok(Reply {
            status,
            body,
            signed,
        })
    }

    /// Every answer that carries a signature must verify; a success must carry one, an empty
    /// 204 included (WeChat Pay signs every answer to a signed request, and says an unsigned
    /// 2xx must be taken as forged: an unsigned 204 to a close would otherwise be the one
    /// answer FeeDesk acted on without proof). Returns whether the answer was signed.
    fn verify(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match SignedHeaders::from_headers(headers) {
            Some(signed) => signed
                .verify(&self.config.platform_keys, body, now)
                .map(|()| true),
            None if (200..300).contains(&status) => Err(Error::Channel(
                "WeChat Pay response refused: it carries no Wechatpay-Signature".into(),
            )),
            None => Ok(false),
        }
    }

    fn expect_ok(&self, reply: Reply) -> Result<Reply> {
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let (code, message) = match serde_json::from_str::<ErrorBody>(&reply.body) {
            Ok(e) => (e.code, e.message),
            Err(_) => ("HTTP".to_string(), format!("status {}", reply.status)),
        };
        let unsigned = if reply.signed { "" } else { ", unsigned" };
        Err(Error::Channel(format!(
            "WeChat Pay refused (HTTP {}, {code}{unsigned}): {}",
            reply.status,
            message.chars().take(200).collect::<String>()
        )))
    }
}

fn error_code(reply: &Reply) -> Option<String> {
    serde_json::from_str::<ErrorBody>(&reply.body)
        .ok()
        .map(|e| e.code)
}

fn check_refund(refund: &Refund, out_refund_no: &str) -> Result<()> {
    if refund.out_refund_no != out_refund_no {
        return Err(Error::Channel(format!(
            "WeChat Pay answer refused: asked about refund {out_refund_no}, got refund {}",
            refund.out_refund_no
        )));
    }
    Ok(())
}

/// Our order and refund numbers: 6-32 of `A-Za-z0-9_-|*` (WeChat's rule), so they are also
/// safe in a URL path.
pub(crate) fn check_out_no(what: &str, text: &str) -> Result<()> {
    let ok = (6..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "{what} '{text}' must be 6-32 letters, digits or _-|*"
        )))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| {
        Error::Channel(format!(
            "WeChat Pay answered something FeeDesk cannot read ({e})"
        ))
    })
}
