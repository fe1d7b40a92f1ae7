//! The built-in sandbox: a loopback HTTP server that speaks WeChat Pay API v3 and the Alipay
//! gateway, part of the product (for `feedesk demo`, for training staff, and for tests).
//!
//! It verifies FeeDesk's request signatures with the merchant's public key, signs its answers
//! with the platform (WeChat Pay) or Alipay private key, and keeps orders and refunds in
//! memory. Through a [`SandboxHandle`] (in process) or its control API (`/sandbox/...`, for
//! `feedesk sandbox` commands) it can be told to mark an order paid or failed, and to misbehave
//! on purpose ([`Fault`]): delay, duplicate or reorder replies, or forge them (bad signature,
//! skewed timestamp, unknown key, altered ciphertext, wrong amount or merchant).
//!
//! It also makes each day's bills from its orders and refunds ([`bills`]): the WeChat Pay
//! trade bill (`/v3/bill/tradebill`, then a signed download whose file is checked against the
//! announced SHA1; [`Fault::TamperBill`] alters one) and the Alipay business-detail bill
//! (`alipay.data.dataservice.bill.downloadurl.query`, then a zip of GBK CSVs).
//!
//! It listens on 127.0.0.1 only and holds nothing but test keys.

mod alipay;
pub mod bills;
mod control;
pub mod keys;
mod state;
mod wechat;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

pub use state::{Fault, FaultRule, OrderState, SandboxChannel, SandboxOrder, SandboxRefund};

use crate::channels::crypto;
use crate::channels::wechatpay::{ApiV3Key, SignedHeaders};
use crate::clock::{Clock, SystemClock};
use crate::secrets::Sensitive;
use crate::{Error, Result};
use state::{ReplyKind, SentReply, State, delay_of};

/// A WeChat Pay merchant the sandbox serves.
#[derive(Debug, Clone)]
pub struct WechatMerchant {
    pub mch_id: String,
    pub appid: String,
    /// The merchant API certificate serial its requests must name.
    pub merchant_serial: String,
    /// Verifies the merchant's request signatures.
    pub merchant_public_key: RsaPublicKey,
    /// What the sandbox puts in `Wechatpay-Serial` (a `PUB_KEY_ID_...` or certificate serial).
    pub platform_key_id: String,
    /// Signs the sandbox's answers as WeChat Pay.
    pub platform_private_key: Sensitive<RsaPrivateKey>,
    pub apiv3_key: ApiV3Key,
    /// A platform certificate to serve at `/v3/certificates`, encrypted with the APIv3 key.
    pub platform_certificate_pem: Option<String>,
}

/// An Alipay app the sandbox serves.
#[derive(Debug, Clone)]
pub struct AlipayApp {
    pub app_id: String,
    /// Verifies the app's request signatures.
    pub app_public_key: RsaPublicKey,
    /// Signs the sandbox's answers as Alipay.
    pub alipay_private_key: Sensitive<RsaPrivateKey>,
}

/// Who the sandbox serves.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    pub wechat: Vec<WechatMerchant>,
    pub alipay: Vec<AlipayApp>,
}

pub(crate) struct Inner {
    config: SandboxConfig,
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    /// `http://127.0.0.1:PORT`, for the download links it hands out.
    base_url: String,
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A protocol answer before faults and signing.
pub(crate) struct Draft {
    kind: DraftKind,
    route: String,
    order: Option<String>,
    merchant: Option<String>,
}

enum DraftKind {
    Wechat {
        status: u16,
        body: Option<Value>,
    },
    Alipay {
        method: String,
        node: Value,
    },
    /// A bill file: sent as is (unsigned), gzipped if asked.
    File {
        kind: ReplyKind,
        body: Vec<u8>,
        gzip: bool,
        content_type: &'static str,
        file_name: String,
    },
}

impl Draft {
    fn file(
        kind: ReplyKind,
        body: Vec<u8>,
        gzip: bool,
        content_type: &'static str,
        file_name: String,
        route: String,
    ) -> Draft {
        Draft {
            kind: DraftKind::File {
                kind,
                body,
                gzip,
                content_type,
                file_name,
            },
            route,
            order: None,
            merchant: None,
        }
    }

    fn reply_kind(&self) -> ReplyKind {
        match &self.kind {
            DraftKind::File { kind, .. } => *kind,
            _ => ReplyKind::Api,
        }
    }

    fn wechat(
        status: u16,
        body: Option<Value>,
        route: String,
        order: Option<String>,
        merchant: Option<String>,
    ) -> Draft {
        Draft {
            kind: DraftKind::Wechat { status, body },
            route,
            order,
            merchant,
        }
    }

    fn alipay(
        method: String,
        node: Value,
        route: String,
        order: Option<String>,
        merchant: Option<String>,
    ) -> Draft {
        Draft {
            kind: DraftKind::Alipay { method, node },
            route,
            order,
            merchant,
        }
    }
}

/// A running sandbox. Dropping it leaves the server running until the runtime ends; call
/// [`Sandbox::shutdown`] to stop it.
pub struct Sandbox {
    addr: SocketAddr,
    handle: SandboxHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Starts on 127.0.0.1:`port` (0 picks a free port).
    pub async fn start(config: SandboxConfig, port: u16) -> Result<Sandbox> {
        Sandbox::start_with_clock(config, port, Arc::new(SystemClock)).await
    }

    /// Starts with its own clock (tests skew it).
    pub async fn start_with_clock(
        config: SandboxConfig,
        port: u16,
        clock: Arc<dyn Clock>,
    ) -> Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| {
                Error::Io(format!(
                    "the sandbox cannot listen on 127.0.0.1:{port}: {e}"
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Io(format!("the sandbox has no address: {e}")))?;
        let inner = Arc::new(Inner {
            config,
            state: Mutex::new(State::default()),
            clock,
            base_url: format!("http://{addr}"),
        });
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let served = inner.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let inner = served.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| serve(inner.clone(), req));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await;
                        });
                    }
                }
            }
        });
        Ok(Sandbox {
            addr,
            handle: SandboxHandle(inner),
            stop: Some(stop),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure a WeChat Pay account with.
    pub fn wechat_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway URL to configure an Alipay account with.
    pub fn alipay_base_url(&self) -> String {
        format!("http://{}/gateway.do", self.addr)
    }

    pub fn handle(&self) -> SandboxHandle {
        self.handle.clone()
    }

    /// Stops accepting connections.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the task is cancelled or the process ends (`feedesk sandbox serve`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Drives a running sandbox from the same process: pay or fail orders, inject faults, look.
#[derive(Clone)]
pub struct SandboxHandle(Arc<Inner>);

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SandboxHandle")
    }
}

impl SandboxHandle {
    /// Marks an open order paid, as if the payer scanned and paid it.
    pub fn pay(&self, out_trade_no: &str) -> Result<SandboxOrder> {
        self.settle(out_trade_no, OrderState::Paid)
    }

    /// Marks an open order failed (WeChat PAYERROR; Alipay closes the trade).
    pub fn fail(&self, out_trade_no: &str) -> Result<SandboxOrder> {
        self.settle(out_trade_no, OrderState::Failed)
    }

    fn settle(&self, out_trade_no: &str, to: OrderState) -> Result<SandboxOrder> {
        let now = self.0.clock.now();
        let mut state = self.0.state();
        let keys: Vec<_> = state
            .orders
            .keys()
            .filter(|(_, no)| no == out_trade_no)
            .cloned()
            .collect();
        let key = match keys.as_slice() {
            [] => {
                return Err(Error::NotFound(format!(
                    "the sandbox has no order {out_trade_no}"
                )));
            }
            [key] => key.clone(),
            _ => {
                return Err(Error::Conflict(format!(
                    "both channels have an order {out_trade_no}"
                )));
            }
        };
        let id = state.next_id();
        let alipay_now = state.alipay_now.clone();
        let order = state.orders.get_mut(&key).expect("found above");
        if order.state == OrderState::Open && order.expired(alipay_now.as_deref()) {
            order.state = OrderState::Closed;
            return Err(Error::Conflict(format!(
                "order {out_trade_no} expired (time_expire) and can no longer be paid"
            )));
        }
        if order.state != OrderState::Open {
            return Err(Error::Conflict(format!(
                "order {out_trade_no} is {:?}, not open",
                order.state
            )));
        }
        order.state = to;
        if to == OrderState::Paid {
            order.paid_at = Some(now);
            order.transaction_id = Some(match key.0 {
                SandboxChannel::Wechat => format!("42000{}{id:010}", now.format("%Y%m%d")),
                SandboxChannel::Alipay => format!("{}22001{id:011}", now.format("%Y%m%d")),
            });
        }
        Ok(order.clone())
    }

    /// Misbehaves as `rule` says, for its next `times` replies.
    pub fn inject(&self, rule: FaultRule) {
        self.0.state().faults.push(rule);
    }

    /// Forgets every pending fault and replay.
    pub fn clear_faults(&self) {
        let mut state = self.0.state();
        state.faults.clear();
        state.replay.clear();
    }

    pub fn orders(&self) -> Vec<SandboxOrder> {
        let mut orders: Vec<_> = self.0.state().orders.values().cloned().collect();
        orders
            .sort_by(|a, b| (a.created_at, &a.out_trade_no).cmp(&(b.created_at, &b.out_trade_no)));
        orders
    }

    pub fn order(&self, out_trade_no: &str) -> Option<SandboxOrder> {
        self.0
            .state()
            .orders
            .values()
            .find(|o| o.out_trade_no == out_trade_no)
            .cloned()
    }

    pub fn refunds(&self) -> Vec<SandboxRefund> {
        let mut refunds: Vec<_> = self.0.state().refunds.values().cloned().collect();
        refunds.sort_by(|a, b| {
            (a.created_at, &a.out_refund_no).cmp(&(b.created_at, &b.out_refund_no))
        });
        refunds
    }
}

type Reply = Response<Full<Bytes>>;

/// The largest request the sandbox reads.
const MAX_BODY: usize = 1 << 20;

async fn serve(
    inner: Arc<Inner>,
    req: Request<Incoming>,
) -> std::result::Result<Reply, Infallible> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_string());
    let query = req.uri().query().unwrap_or("").to_string();
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(plain(413, "request too large")),
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return Ok(plain(400, "request body is not UTF-8"));
    };
    if let Some(rest) = path.strip_prefix("/sandbox/") {
        return Ok(control::handle(
            &SandboxHandle(inner.clone()),
            &method,
            rest,
            &body,
        ));
    }
    let draft = if path.starts_with("/v3/") {
        wechat::handle(
            &inner,
            &method,
            &path_and_query,
            authorization.as_deref(),
            &body,
        )
    } else if path == alipay::BILL_PATH && method == "GET" {
        match alipay::download(&inner, &query) {
            Some(draft) => draft,
            None => return Ok(plain(404, "账单文件不存在或下载链接已过期")),
        }
    } else if path == "/gateway.do" && method == "POST" {
        let params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .chain(form_urlencoded::parse(body.as_bytes()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        alipay::handle(&inner, params)
    } else {
        return Ok(plain(404, "not a sandbox API"));
    };
    let (delay, reply) = respond(&inner, draft);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        response = response.header(k, v);
    }
    Ok(response
        .body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| plain(500, "bad reply")))
}

pub(crate) fn plain(status: u16, text: &str) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text.to_string())))
        .expect("static response")
}

/// Applies faults, signs, and keeps the reply for later duplicates and reorders.
fn respond(inner: &Inner, draft: Draft) -> (Option<std::time::Duration>, SentReply) {
    let kind = draft.reply_kind();
    let faults = {
        let mut state = inner.state();
        if let Some(replay) = state.replay.remove(&draft.route) {
            return (None, replay);
        }
        state.take_faults(draft.order.as_deref(), kind)
    };
    let fresh = match draft.kind {
        DraftKind::Wechat { status, body } => {
            finish_wechat(inner, draft.merchant.as_deref(), status, body, &faults)
        }
        DraftKind::Alipay { method, node } => {
            finish_alipay(inner, draft.merchant.as_deref(), &method, node, &faults)
        }
        DraftKind::File {
            body,
            gzip,
            content_type,
            file_name,
            ..
        } => {
            // Files are neither remembered nor replayed: only delays and tampering reach them.
            return (
                delay_of(&faults),
                finish_file(body, gzip, content_type, &file_name, &faults),
            );
        }
    };
    let mut state = inner.state();
    let sent = if faults.contains(&Fault::Reorder) {
        state.older(&draft.route).unwrap_or_else(|| fresh.clone())
    } else {
        fresh.clone()
    };
    state.remember(&draft.route, &fresh);
    if faults.contains(&Fault::Duplicate) {
        state.replay.insert(draft.route, sent.clone());
    }
    (delay_of(&faults), sent)
}

/// A bill file as sent: tampered with if told, then gzipped if asked. Unsigned, as the
/// channels send files.
fn finish_file(
    mut body: Vec<u8>,
    gzip: bool,
    content_type: &str,
    file_name: &str,
    faults: &[Fault],
) -> SentReply {
    if faults.contains(&Fault::TamperBill) {
        bills::tamper(&mut body);
    }
    let (body, content_type) = if gzip {
        (bills::gzip(&body), "application/x-gzip")
    } else {
        (body, content_type)
    };
    // The header value must be ASCII: the name percent-encoded, as RFC 5987 has it.
    let encoded: String = form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
    SentReply {
        status: 200,
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            (
                "Content-Disposition".into(),
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
            (
                "Request-ID".to_string(),
                format!("sandbox-{}", crypto::nonce(8)),
            ),
        ],
        body,
    }
}

/// A signature with one bit flipped: still base64, never valid.
fn corrupt(signature: &str) -> String {
    let mut bytes = B64.decode(signature).unwrap_or_else(|_| vec![0; 256]);
    if let Some(b) = bytes.get_mut(10) {
        *b ^= 0x01;
    }
    B64.encode(bytes)
}

fn finish_wechat(
    inner: &Inner,
    merchant: Option<&str>,
    status: u16,
    mut body: Option<Value>,
    faults: &[Fault],
) -> SentReply {
    if let Some(v) = &mut body {
        if faults.contains(&Fault::WrongAmount)
            && let Some(total) = v["amount"]["total"].as_i64()
        {
            v["amount"]["total"] = Value::from(total + 1);
        }
        if faults.contains(&Fault::WrongMerchant) && v.get("mchid").is_some() {
            v["mchid"] = Value::from("1900000000");
        }
        if faults.contains(&Fault::AlterCiphertext)
            && let Some(list) = v.get_mut("data").and_then(Value::as_array_mut)
        {
            for entry in list {
                if let Some(c) = entry["encrypt_certificate"]["ciphertext"].as_str() {
                    let mut altered = c.to_string();
                    let first = if altered.starts_with('A') { "B" } else { "A" };
                    altered.replace_range(0..1, first);
                    entry["encrypt_certificate"]["ciphertext"] = Value::from(altered);
                }
            }
        }
    }
    let text = body.map(|v| v.to_string()).unwrap_or_default();
    let mut headers = vec![(
        "Request-ID".to_string(),
        format!("sandbox-{}", crypto::nonce(8)),
    )];
    if !text.is_empty() {
        headers.push((
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ));
    }
    let merchant = inner
        .config
        .wechat
        .iter()
        .find(|m| Some(m.mch_id.as_str()) == merchant)
        .or(inner.config.wechat.first());
    if let Some(m) = merchant.filter(|_| !faults.contains(&Fault::Unsigned)) {
        let skew = faults
            .iter()
            .find_map(|f| match f {
                Fault::SkewTimestamp { seconds } => Some(*seconds),
                _ => None,
            })
            .unwrap_or(0);
        let serial = if faults.contains(&Fault::UnknownSerial) {
            "PUB_KEY_ID_0000000000000000SANDBOXUNKNOWN".to_string()
        } else {
            m.platform_key_id.clone()
        };
        let timestamp = inner.clock.now().timestamp() + skew;
        let mut signed = SignedHeaders::sign(
            &serial,
            &m.platform_private_key,
            &text,
            timestamp,
            &crypto::nonce(16),
        );
        if faults.contains(&Fault::BadSignature) {
            signed.signature = corrupt(&signed.signature);
        }
        headers.extend([
            ("Wechatpay-Serial".to_string(), signed.serial),
            ("Wechatpay-Signature".to_string(), signed.signature),
            ("Wechatpay-Timestamp".to_string(), signed.timestamp),
            ("Wechatpay-Nonce".to_string(), signed.nonce),
            (
                "Wechatpay-Signature-Type".to_string(),
                "WECHATPAY2-SHA256-RSA2048".to_string(),
            ),
        ]);
    }
    SentReply {
        status,
        headers,
        body: text.into_bytes(),
    }
}

fn finish_alipay(
    inner: &Inner,
    app: Option<&str>,
    method: &str,
    mut node: Value,
    faults: &[Fault],
) -> SentReply {
    if faults.contains(&Fault::WrongAmount)
        && let Some(fen) = node["total_amount"].as_str().and_then(crypto::yuan_to_fen)
    {
        node["total_amount"] = Value::from(crypto::fen_to_yuan(fen + 1));
    }
    // A refund query's amount too.
    if faults.contains(&Fault::WrongAmount)
        && let Some(fen) = node["refund_amount"].as_str().and_then(crypto::yuan_to_fen)
    {
        node["refund_amount"] = Value::from(crypto::fen_to_yuan(fen + 1));
    }
    if faults.contains(&Fault::WrongMerchant)
        && let Some(no) = node["out_trade_no"].as_str()
    {
        node["out_trade_no"] = Value::from(format!("{no}X"));
    }
    let text = node.to_string();
    let node_name = crate::channels::alipay::response_node(method);
    let app = inner
        .config
        .alipay
        .iter()
        .find(|a| Some(a.app_id.as_str()) == app)
        .or(inner.config.alipay.first());
    let body = match app.filter(|_| !faults.contains(&Fault::Unsigned)) {
        Some(app) => {
            let mut sign = crypto::sign(&app.alipay_private_key, text.as_bytes());
            if faults.contains(&Fault::BadSignature) {
                sign = corrupt(&sign);
            }
            format!("{{\"{node_name}\":{text},\"sign\":{}}}", Value::from(sign))
        }
        None => format!("{{\"{node_name}\":{text}}}"),
    };
    SentReply {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: body.into_bytes(),
    }
}
