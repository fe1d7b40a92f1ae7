//! SMS through Aliyun Dysmsapi `SendSms` (API version 2017-05-25), an RPC call signed with
//! the AccessKey secret (HMAC-SHA1, signature version 1.0). The message is the account's
//! approved template filled with the reminder's variables; Aliyun does not send free text.

use std::time::Duration;

use serde::Deserialize;

use super::sign::{aliyun_canonical_query, aliyun_percent_encode, aliyun_signature};
use super::{Outgoing, SendFailure, Sent, http_failure, read_answer, status_failure};
use crate::reminders::notify::ChannelConfig;
use crate::secrets::{Sensitive, random_hex};
use crate::{Error, Result};

pub struct SmsSender {
    http: reqwest::Client,
    endpoint: String,
    access_key_id: String,
    secret: Sensitive<String>,
    sign_name: String,
    template_code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: Option<String>,
    message: Option<String>,
    biz_id: Option<String>,
}

/// Codes that mean "not now": throttling and flow control.
fn throttled(code: &str) -> bool {
    code.starts_with("Throttling")
        || code == "isv.BUSINESS_LIMIT_CONTROL"
        || code == "ServiceUnavailable"
        || code == "InternalError"
}

impl SmsSender {
    pub fn new(
        config: &ChannelConfig,
        secret: Sensitive<String>,
        timeout: Duration,
    ) -> Result<SmsSender> {
        let ChannelConfig::Sms {
            endpoint,
            access_key_id,
            sign_name,
            template_code,
        } = config
        else {
            return Err(Error::Internal("not SMS settings".into()));
        };
        Ok(SmsSender {
            http: crate::http::client(endpoint, timeout)?,
            endpoint: endpoint.clone(),
            access_key_id: access_key_id.clone(),
            secret,
            sign_name: sign_name.clone(),
            template_code: template_code.clone(),
        })
    }

    /// The signed query of one SendSms request at `now_ms`.
    pub fn signed_query(&self, phone: &str, params: &serde_json::Value, now_ms: i64) -> String {
        let timestamp = chrono::DateTime::from_timestamp_millis(now_ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let params: Vec<(String, String)> = [
            ("AccessKeyId", self.access_key_id.clone()),
            ("Action", "SendSms".into()),
            ("Format", "JSON".into()),
            ("PhoneNumbers", phone.to_string()),
            ("RegionId", "cn-hangzhou".into()),
            ("SignName", self.sign_name.clone()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", random_hex(16)),
            ("SignatureVersion", "1.0".into()),
            ("TemplateCode", self.template_code.clone()),
            ("TemplateParam", params.to_string()),
            ("Timestamp", timestamp),
            ("Version", "2017-05-25".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let signature = aliyun_signature("GET", &params, self.secret.expose());
        format!(
            "Signature={}&{}",
            aliyun_percent_encode(&signature),
            aliyun_canonical_query(&params)
        )
    }

    pub async fn send(&self, msg: &Outgoing, now_ms: i64) -> Result<Sent, SendFailure> {
        let phone = msg
            .recipient
            .as_deref()
            .ok_or_else(|| SendFailure::Permanent("no mobile number".into()))?;
        let params = msg.sms_params.clone().unwrap_or_default();
        let query = self.signed_query(phone, &params, now_ms);
        let separator = if self.endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}{query}", self.endpoint);
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| http_failure(e, "the SMS provider"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(status_failure(
                status,
                response.headers().get(reqwest::header::RETRY_AFTER),
                "the SMS provider",
            ));
        }
        let bytes = read_answer(response, "the SMS provider").await?;
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            SendFailure::Uncertain(
                "the SMS provider's answer could not be read; the message may have been sent"
                    .into(),
            )
        })?;
        match answer.code.as_deref() {
            Some("OK") => Ok(answer.biz_id),
            Some(code) if throttled(code) => Err(SendFailure::Retry {
                message: format!("the SMS provider throttled the send ({code})"),
                after: Some(Duration::from_secs(60)),
            }),
            code => Err(SendFailure::Permanent(format!(
                "the SMS provider refused the message: {} {}",
                code.unwrap_or("?"),
                answer.message.unwrap_or_default()
            ))),
        }
    }
}
