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
mod replies;
mod state;
mod wechat;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use rsa::{RsaPrivateKey, RsaPublicKey};

pub use state::{Fault, FaultRule, OrderState, SandboxChannel, SandboxOrder, SandboxRefund};

use crate::channels::wechatpay::ApiV3Key;
use crate::clock::{Clock, SystemClock};
use crate::secrets::Sensitive;
use crate::{Error, Result};
pub(crate) use replies::Draft;
use replies::respond;
use state::State;

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
