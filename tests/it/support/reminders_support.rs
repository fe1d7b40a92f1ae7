//! Shared set-up for the reminder tests: a real SMTP server on loopback (Python's aiosmtpd,
//! tests/smtp_sink.py) whose mails the tests read, a loopback HTTP server that plays the SMS
//! provider and the group robots (checking signatures, recording payloads, answering 5xx, 429
//! or nothing at all when told to), and an institution with overdue bills.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// Debian's Python (with python3-aiosmtpd), not a pyenv shim's.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A mail the SMTP server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub authenticated: bool,
}

/// aiosmtpd on 127.0.0.1, killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub folder: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the server, requiring `auth` (user, password) when given.
    pub fn start(auth: Option<(&str, &str)>) -> SmtpSink {
        let folder = tempfile::tempdir().unwrap();
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
        let mut cmd = Command::new(python());
        cmd.arg(script).arg(port.to_string()).arg(folder.path());
        if let Some((u, p)) = auth {
            cmd.arg(u).arg(p);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (apt-get install python3-aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        SmtpSink {
            child,
            port,
            folder,
        }
    }

    /// Every mail received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(p.with_extension("json")).unwrap();
                serde_json::from_str(&text).unwrap()
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the HTTP server answers next.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The provider's success answer.
    Ok,
    /// An HTTP status, with `Retry-After` seconds when given.
    Status(u16, Option<u64>),
    /// A provider-level refusal in a 200 (Aliyun `Code`, robot `errcode`).
    Refuse(&'static str),
    /// Takes the request and answers only after this long (the client gives up first).
    Hang(Duration),
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: String,
    /// The Aliyun or DingTalk signature checked out (None: nothing to check).
    pub signature_ok: Option<bool>,
}

impl Recorded {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

struct State {
    script: VecDeque<Reply>,
    recorded: Vec<Recorded>,
    sms_secret: String,
    ding_secret: String,
}

/// A loopback HTTP server playing Aliyun Dysmsapi (`/sms/`), a WeCom robot (`/wecom/send`)
/// and a DingTalk robot (`/dingtalk/send`).
pub struct Providers {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Providers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Providers {
    pub async fn start(sms_secret: &str, ding_secret: &str) -> Providers {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            script: VecDeque::new(),
            recorded: vec![],
            sms_secret: sms_secret.into(),
            ding_secret: ding_secret.into(),
        }));
        let served = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| serve(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Providers { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Queues the next answers (after them: success).
    pub fn script(&self, replies: &[Reply]) {
        self.state
            .lock()
            .unwrap()
            .script
            .extend(replies.iter().cloned());
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().recorded.clone()
    }

    pub fn recorded_at(&self, prefix: &str) -> Vec<Recorded> {
        self.recorded()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }
}

fn check_signature(state: &State, path: &str, query: &[(String, String)]) -> Option<bool> {
    if path.starts_with("/sms") {
        let signature = query.iter().find(|(k, _)| k == "Signature")?.1.clone();
        let params: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        let expected =
            feedesk::reminders::senders::sign::aliyun_signature("GET", &params, &state.sms_secret);
        Some(signature == expected)
    } else if path.starts_with("/dingtalk") {
        let ts: i64 = query
            .iter()
            .find(|(k, _)| k == "timestamp")?
            .1
            .parse()
            .ok()?;
        let sign = query.iter().find(|(k, _)| k == "sign")?.1.clone();
        Some(sign == feedesk::reminders::senders::sign::dingtalk_signature(ts, &state.ding_secret))
    } else {
        None
    }
}

async fn serve(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).to_string())
        .unwrap_or_default();
    let reply = {
        let mut s = state.lock().unwrap();
        let signature_ok = check_signature(&s, &path, &query);
        s.recorded.push(Recorded {
            method,
            path: path.clone(),
            query,
            body,
            signature_ok,
        });
        match signature_ok {
            Some(false) => Reply::Refuse("SignatureDoesNotMatch"),
            _ => s.script.pop_front().unwrap_or(Reply::Ok),
        }
    };
    let sms = path.starts_with("/sms");
    let ok_body = if sms {
        r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5"}"#
            .to_string()
    } else {
        r#"{"errcode":0,"errmsg":"ok"}"#.to_string()
    };
    let response = match reply {
        Reply::Ok => Response::new(Full::new(Bytes::from(ok_body))),
        Reply::Status(code, retry_after) => {
            let mut r = Response::new(Full::new(Bytes::from("busy")));
            *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
            if let Some(s) = retry_after {
                r.headers_mut()
                    .insert("retry-after", s.to_string().parse().unwrap());
            }
            r
        }
        Reply::Refuse(code) => {
            let body = if sms {
                format!(r#"{{"Code":"{code}","Message":"refused"}}"#)
            } else {
                format!(r#"{{"errcode":{code},"errmsg":"refused"}}"#)
            };
            Response::new(Full::new(Bytes::from(body)))
        }
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            Response::new(Full::new(Bytes::from(ok_body)))
        }
    };
    Ok(response)
}

use super::billing_support::{self as bs, TERM};
use feedesk::FeeDesk;
use feedesk::billing::{Bill, Channel, PlanTarget};

/// The members the reminder tests chase: (store, member_no, name, class).
pub const MEMBERS: [(&str, &str, &str, &str); 6] = [
    ("XH", "S001", "张三", "一班"),
    ("XH", "S002", "李四", "一班"),
    ("XH", "S003", "王小五", "一班"),
    ("XH", "S004", "赵六", "二班"),
    ("BJ", "B001", "孙七", "一班"),
    ("CD", "C001", "周八", "一班"),
];

/// The guardian email of a member number (C001 has none).
pub fn email_of(member_no: &str) -> Option<String> {
    (member_no != "C001").then(|| format!("{}@parents.example.cn", member_no.to_lowercase()))
}

/// The institution, the members (through the real roster import), their guardians' emails,
/// and a 3000.00 tuition bill each, due on 2026-09-10. Returns the bills.
pub async fn school(desk: &FeeDesk) -> Vec<Bill> {
    bs::institution(desk).await;
    let rows: Vec<bs::Row> = MEMBERS
        .iter()
        .map(|(s, no, name, class)| (*s, *no, *name, *class, ""))
        .collect();
    bs::roster(desk, &rows).await;
    bs::account(desk, "HQ", Channel::OfflineCash, "总部现金").await;
    bs::fee(desk, "HQ", "学费").await;
    let mut req = bs::plan_req(
        "学费",
        PlanTarget::Term(TERM.into()),
        "fixed:3000",
        "总部现金",
    );
    req.due_on = bs::day(2026, 9, 10);
    let plan = bs::plan(desk, req).await;
    feedesk::billing::issue_plan(desk, plan.id).await.unwrap();
    for (store, no, _, _) in MEMBERS {
        if let Some(email) = email_of(no) {
            feedesk::reminders::set_contact(desk, &format!("{store}/{no}"), Some(&email), None)
                .await
                .unwrap();
        }
    }
    bs::plan_bills(desk, plan.id).await
}

/// Local (UTC+8) time on a day of September 2026 (or October for days past 30).
pub fn local(day: u32, hour: u32, minute: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let (month, day) = if day > 30 { (10, day - 30) } else { (9, day) };
    feedesk::clock::LOCAL_OFFSET
        .with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// The OS keyring under a test service, or `None` (the test is skipped) when there is none
/// and the run did not ask for one (tests/keyring-session.sh sets FEEDESK_KEYRING_TESTS=1).
pub async fn keyring_or_skip(test: &str) -> Option<feedesk::secrets::SecretStore> {
    let store = feedesk::secrets::SecretStore::new("feedesk-test-reminders");
    match store.check().await {
        Ok(()) => Some(store),
        Err(e) if std::env::var("FEEDESK_KEYRING_TESTS").as_deref() != Ok("1") => {
            eprintln!("{test}: skipped, no keyring here ({e}); run under tests/keyring-session.sh");
            None
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}
