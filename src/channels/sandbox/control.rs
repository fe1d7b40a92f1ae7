//! The sandbox's control API (`/sandbox/...`), which `feedesk sandbox` commands call:
//! `GET orders`, `GET refunds`, `POST orders/{no}/pay`, `POST orders/{no}/fail`,
//! `POST faults` (a [`FaultRule`] as JSON, e.g. `{"fault": {"kind": "tamper_bill"}}` to alter
//! the next WeChat Pay trade bill download), `DELETE faults`, `GET health`.

use http_body_util::Full;
use hyper::Response;
use hyper::body::Bytes;
use serde::Serialize;

use super::{FaultRule, SandboxHandle};
use crate::Error;

fn json<T: Serialize>(status: u16, value: &T) -> Response<Full<Bytes>> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .expect("static response")
}

fn error(err: &Error) -> Response<Full<Bytes>> {
    let status = match err {
        Error::NotFound(_) => 404,
        Error::Conflict(_) => 409,
        _ => 400,
    };
    json(status, &serde_json::json!({ "error": err.to_string() }))
}

pub(crate) fn handle(
    sandbox: &SandboxHandle,
    method: &str,
    path: &str,
    body: &str,
) -> Response<Full<Bytes>> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["health"]) => json(200, &serde_json::json!({ "ok": true })),
        ("GET", ["orders"]) => json(200, &sandbox.orders()),
        ("GET", ["refunds"]) => json(200, &sandbox.refunds()),
        ("POST", ["orders", no, "pay"]) => match sandbox.pay(no) {
            Ok(order) => json(200, &order),
            Err(e) => error(&e),
        },
        ("POST", ["orders", no, "fail"]) => match sandbox.fail(no) {
            Ok(order) => json(200, &order),
            Err(e) => error(&e),
        },
        ("POST", ["faults"]) => match serde_json::from_str::<FaultRule>(body) {
            Ok(rule) => {
                sandbox.inject(rule.clone());
                json(200, &rule)
            }
            Err(e) => error(&Error::Validation(format!("not a fault rule: {e}"))),
        },
        ("DELETE", ["faults"]) => {
            sandbox.clear_faults();
            json(200, &serde_json::json!({ "cleared": true }))
        }
        _ => json(
            404,
            &serde_json::json!({ "error": "no such sandbox control" }),
        ),
    }
}
