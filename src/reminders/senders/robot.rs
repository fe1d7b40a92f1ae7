//! Group-chat robots: WeCom (企业微信群机器人, `?key=`) and DingTalk (钉钉自定义机器人,
//! `?access_token=`, with `timestamp` and `sign` when the robot uses 加签). Both take a JSON
//! text message and answer `{"errcode": 0, "errmsg": "ok"}`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::sign::{aliyun_percent_encode, dingtalk_signature};
use super::{Outgoing, SendFailure, Sent, http_failure, read_answer, status_failure};
use crate::reminders::channel::ReminderChannel;
use crate::reminders::notify::ChannelConfig;
use crate::secrets::Sensitive;
use crate::{Error, Result};

pub struct RobotSender {
    channel: ReminderChannel,
    http: reqwest::Client,
    endpoint: String,
    /// WeCom's key or DingTalk's access token.
    token: Sensitive<String>,
    sign_secret: Option<Sensitive<String>>,
}

#[derive(Deserialize)]
struct Answer {
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// WeCom's "API freq out of limit" and DingTalk's "send too fast": wait a minute.
const RATE_LIMITED: [i64; 2] = [45009, 130101];

impl RobotSender {
    pub fn new(
        channel: ReminderChannel,
        config: &ChannelConfig,
        secret: Sensitive<String>,
        timeout: Duration,
    ) -> Result<RobotSender> {
        let ChannelConfig::Robot { endpoint, .. } = config else {
            return Err(Error::Internal("not robot settings".into()));
        };
        let (token, sign_secret) = match channel {
            ReminderChannel::Dingtalk => {
                let bundle: serde_json::Value =
                    serde_json::from_str(secret.expose()).map_err(|_| {
                        Error::Keyring(
                            "the DingTalk robot's keyring item is unreadable; configure it again"
                                .into(),
                        )
                    })?;
                let token = bundle["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let sign = bundle["sign_secret"]
                    .as_str()
                    .map(|s| Sensitive::new(s.to_string()));
                (Sensitive::new(token), sign)
            }
            _ => (secret, None),
        };
        Ok(RobotSender {
            channel,
            http: crate::http::client(endpoint, timeout)?,
            endpoint: endpoint.clone(),
            token,
            sign_secret,
        })
    }

    /// The webhook address with its token (and DingTalk's signature at `now_ms`).
    pub fn url(&self, now_ms: i64) -> String {
        let token = aliyun_percent_encode(self.token.expose());
        match self.channel {
            ReminderChannel::Dingtalk => {
                let mut url = format!("{}?access_token={token}", self.endpoint);
                if let Some(secret) = &self.sign_secret {
                    let sign = dingtalk_signature(now_ms, secret.expose());
                    url.push_str(&format!(
                        "&timestamp={now_ms}&sign={}",
                        aliyun_percent_encode(&sign)
                    ));
                }
                url
            }
            _ => format!("{}?key={token}", self.endpoint),
        }
    }

    pub async fn send(&self, msg: &Outgoing, now_ms: i64) -> Result<Sent, SendFailure> {
        let name = match self.channel {
            ReminderChannel::Dingtalk => "the DingTalk robot",
            _ => "the WeCom robot",
        };
        let body = json!({"msgtype": "text", "text": {"content": msg.body}});
        let response = self
            .http
            .post(self.url(now_ms))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| http_failure(e, name))?;
        let status = response.status();
        if !status.is_success() {
            return Err(status_failure(
                status,
                response.headers().get(reqwest::header::RETRY_AFTER),
                name,
            ));
        }
        let bytes = read_answer(response, name).await?;
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            SendFailure::Uncertain(format!(
                "{name}'s answer could not be read; the message may have been posted"
            ))
        })?;
        match answer.errcode {
            Some(0) => Ok(None),
            Some(code) if RATE_LIMITED.contains(&code) => Err(SendFailure::Retry {
                message: format!("{name} is rate-limited ({code})"),
                after: Some(Duration::from_secs(60)),
            }),
            code => Err(SendFailure::Permanent(format!(
                "{name} refused the message: {} {}",
                code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                answer.errmsg.unwrap_or_default()
            ))),
        }
    }
}
