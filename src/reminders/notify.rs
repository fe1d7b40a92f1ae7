//! The senders' settings: the SMTP server, the SMS provider (Aliyun Dysmsapi), and the group
//! robots' webhooks (institution-wide, or per class). Everything secret (the SMTP password,
//! the AccessKey secret, a robot's key or access token and its signing secret) goes into the
//! OS keyring; the database keeps only where to connect and the keyring item's name.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::channel::ReminderChannel;
use crate::audit::{self, Entry};
use crate::secrets::{SecretRef, SecretStore, Sensitive};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a trusted network.
    None,
}

/// Whether `host` is this machine (`localhost`, `127.0.0.0/8`, `::1`): the only place an SMTP
/// password may travel without TLS.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses SMTP without TLS to any host but this machine.
pub(crate) fn check_plain_smtp(security: SmtpSecurity, host: &str) -> Result<()> {
    if security == SmtpSecurity::None && !is_loopback_host(host) {
        return Err(Error::Validation(format!(
            "refused: SMTP without encryption would send the password and every message in clear \
             text to {host}; use starttls (port 587) or tls (port 465). Without encryption only a \
             relay on this machine (localhost, 127.0.0.1) is allowed"
        )));
    }
    Ok(())
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Result<SmtpSecurity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(SmtpSecurity::Starttls),
            "tls" | "ssl" => Ok(SmtpSecurity::Tls),
            "none" | "plain" => Ok(SmtpSecurity::None),
            other => Err(Error::Validation(format!(
                "'{other}' is not an SMTP security; use starttls, tls or none"
            ))),
        }
    }
}

/// The production Dysmsapi endpoint.
pub const ALIYUN_SMS_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";

/// What a channel is configured with, apart from its secret (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    Email {
        host: String,
        port: u16,
        security: SmtpSecurity,
        from: String,
        username: Option<String>,
    },
    /// Aliyun Dysmsapi SendSms: a signature name and an approved template whose variables
    /// are the reminder's (member, amount, due_date, days, link).
    Sms {
        endpoint: String,
        access_key_id: String,
        sign_name: String,
        template_code: String,
    },
    /// A robot's webhook address without its key / access token (that is in the keyring).
    Robot { endpoint: String, signed: bool },
    /// `feedesk demo` only: messages are written as text files into this folder instead of
    /// being sent, so the sample institution has a true reminder history without reaching
    /// anyone.
    DemoOutbox { folder: String },
}

/// What `notify add` is given. Secrets arrive wrapped and go straight to the keyring.
#[derive(Debug)]
pub enum ChannelSetup {
    Email {
        host: String,
        port: u16,
        security: SmtpSecurity,
        from: String,
        username: Option<String>,
        password: Option<Sensitive<String>>,
    },
    Sms {
        endpoint: Option<String>,
        access_key_id: String,
        access_key_secret: Sensitive<String>,
        sign_name: String,
        template_code: String,
    },
    /// The webhook address as the robot's settings show it (with `key=` / `access_token=`),
    /// and DingTalk's signing secret (`SEC...`) when the robot uses 加签.
    Wecom { webhook: Sensitive<String> },
    Dingtalk {
        webhook: Sensitive<String>,
        sign_secret: Option<Sensitive<String>>,
    },
    /// `feedesk demo` only: a channel whose messages land in a folder (see
    /// [`ChannelConfig::DemoOutbox`]).
    DemoOutbox {
        channel: ReminderChannel,
        folder: std::path::PathBuf,
    },
}

impl ChannelSetup {
    pub fn channel(&self) -> ReminderChannel {
        match self {
            ChannelSetup::DemoOutbox { channel, .. } => *channel,
            ChannelSetup::Email { .. } => ReminderChannel::Email,
            ChannelSetup::Sms { .. } => ReminderChannel::Sms,
            ChannelSetup::Wecom { .. } => ReminderChannel::Wecom,
            ChannelSetup::Dingtalk { .. } => ReminderChannel::Dingtalk,
        }
    }
}

/// A configured channel as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NotifyChannel {
    pub id: i64,
    pub channel: ReminderChannel,
    /// The class whose group the robot posts to; `None`: every class without its own.
    pub class_id: Option<i64>,
    pub class_name: Option<String>,
    pub config: ChannelConfig,
    pub has_secret: bool,
    pub rate_per_minute: u32,
    pub configured_at: String,
}

/// The robot's webhook split into the address kept in the database and the token kept in the
/// keyring (`key` for WeCom, `access_token` for DingTalk).
fn split_webhook(webhook: &str, token_name: &str) -> Result<(String, String)> {
    let mut url = url::Url::parse(webhook.trim()).map_err(|_| {
        Error::Validation("--webhook is not a URL; paste the robot's webhook address".into())
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Validation(
            "--webhook must be an http(s) address".into(),
        ));
    }
    let token = url
        .query_pairs()
        .find(|(k, _)| k == token_name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::Validation(format!(
                "the webhook address has no {token_name}=...; copy the whole address from the robot's settings"
            ))
        })?;
    url.set_query(None);
    Ok((url.to_string(), token))
}

/// Adds a channel, or replaces its settings (a new keyring item; the old one is removed once
/// the database points at the new one).
pub async fn add_notify_channel(
    desk: &FeeDesk,
    secrets: &SecretStore,
    setup: ChannelSetup,
    class: Option<&str>,
    rate_per_minute: Option<u32>,
) -> Result<NotifyChannel> {
    let channel = setup.channel();
    let class_id = match class.map(normalize).filter(|c| !c.is_empty()) {
        Some(_) if !channel.is_group() => {
            return Err(Error::Validation(
                "--class is for group robots (wecom, dingtalk); email and SMS go to each guardian"
                    .into(),
            ));
        }
        Some(text) => {
            let (store, name) = match text.split_once('/') {
                Some((s, n)) => (Some(s.to_string()), n.to_string()),
                None => (None, text.clone()),
            };
            Some(
                crate::org::find_class(desk, &name, store.as_deref(), None)
                    .await?
                    .id,
            )
        }
        None => None,
    };
    let (config, secret): (ChannelConfig, Option<Sensitive<String>>) = match setup {
        ChannelSetup::Email {
            host,
            port,
            security,
            from,
            username,
            password,
        } => {
            let host = normalize(&host);
            if host.is_empty() || port == 0 {
                return Err(Error::Validation(
                    "an email channel needs --smtp-host and --smtp-port".into(),
                ));
            }
            check_plain_smtp(security, &host)?;
            let from = normalize(&from);
            from.parse::<lettre::message::Mailbox>().map_err(|_| {
                Error::Validation(format!(
                    "--from '{from}' is not an email address (e.g. 'Sunshine School <fees@example.cn>')"
                ))
            })?;
            let username = username.map(|u| normalize(&u)).filter(|u| !u.is_empty());
            if username.is_some() != password.is_some() {
                return Err(Error::Validation(
                    "--username and --password-file go together (or neither, for a server without login)"
                        .into(),
                ));
            }
            let password =
                password.map(|p| p.map(|s| s.trim_end_matches(['\r', '\n']).to_string()));
            (
                ChannelConfig::Email {
                    host,
                    port,
                    security,
                    from,
                    username,
                },
                password,
            )
        }
        ChannelSetup::Sms {
            endpoint,
            access_key_id,
            access_key_secret,
            sign_name,
            template_code,
        } => {
            let endpoint = endpoint.unwrap_or_else(|| ALIYUN_SMS_ENDPOINT.to_string());
            url::Url::parse(&endpoint)
                .map_err(|_| Error::Validation(format!("--endpoint '{endpoint}' is not a URL")))?;
            let (id, sign, template) = (
                normalize(&access_key_id),
                normalize(&sign_name),
                normalize(&template_code),
            );
            if id.is_empty() || sign.is_empty() || template.is_empty() {
                return Err(Error::Validation(
                    "an SMS channel needs --access-key-id, --sign-name and --template-code".into(),
                ));
            }
            let secret = access_key_secret.map(|s| s.trim().to_string());
            if secret.expose().is_empty() {
                return Err(Error::Validation(
                    "the AccessKey secret file is empty".into(),
                ));
            }
            (
                ChannelConfig::Sms {
                    endpoint,
                    access_key_id: id,
                    sign_name: sign,
                    template_code: template,
                },
                Some(secret),
            )
        }
        ChannelSetup::Wecom { webhook } => {
            let (endpoint, key) = split_webhook(webhook.expose(), "key")?;
            (
                ChannelConfig::Robot {
                    endpoint,
                    signed: false,
                },
                Some(Sensitive::new(key)),
            )
        }
        ChannelSetup::Dingtalk {
            webhook,
            sign_secret,
        } => {
            let (endpoint, token) = split_webhook(webhook.expose(), "access_token")?;
            let sign = sign_secret.map(|s| s.expose().trim().to_string());
            let bundle = json!({"access_token": token, "sign_secret": sign}).to_string();
            (
                ChannelConfig::Robot {
                    endpoint,
                    signed: sign.is_some(),
                },
                Some(Sensitive::new(bundle)),
            )
        }
        ChannelSetup::DemoOutbox { folder, .. } => {
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            (
                ChannelConfig::DemoOutbox {
                    folder: folder.display().to_string(),
                },
                None,
            )
        }
    };
    let rate = rate_per_minute.unwrap_or_else(|| channel.default_rate_per_minute());
    if rate == 0 {
        return Err(Error::Validation(
            "--rate-per-minute must be at least 1".into(),
        ));
    }
    let reference = match &secret {
        Some(s) => {
            secrets.check().await?;
            let r = SecretRef::generate("notify");
            secrets.put(&r, s).await?;
            Some(r)
        }
        None => None,
    };
    let stored = store(desk, channel, class_id, &config, reference.as_ref(), rate).await;
    match stored {
        Ok((id, old)) => {
            if let Some(old) = old.and_then(|r| SecretRef::parse(&r).ok()) {
                // Nothing points at it any more; a leftover would be harmless.
                let _ = secrets.delete(&old).await;
            }
            list_notify_channels(desk)
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or_else(|| Error::Internal("the channel just saved is gone".into()))
        }
        Err(e) => {
            if let Some(r) = &reference {
                let _ = secrets.delete(r).await;
            }
            Err(e)
        }
    }
}

/// Writes the settings in one audited transaction; returns the row and the replaced secret.
async fn store(
    desk: &FeeDesk,
    channel: ReminderChannel,
    class_id: Option<i64>,
    config: &ChannelConfig,
    reference: Option<&SecretRef>,
    rate: u32,
) -> Result<(i64, Option<String>)> {
    let config_json = serde_json::to_string(config).map_err(|e| Error::Internal(e.to_string()))?;
    let now = desk.now_text();
    let mut tx = desk.db().write().await?;
    let old: Option<(i64, Option<String>, String)> = sqlx::query_as(
        "SELECT id, secret_ref, config_json FROM notify_channels WHERE channel = ? AND class_id IS ?",
    )
    .bind(channel.as_str())
    .bind(class_id)
    .fetch_optional(&mut *tx)
    .await?;
    let id: i64 = match &old {
        Some((id, _, _)) => {
            sqlx::query(
                "UPDATE notify_channels SET config_json = ?, secret_ref = ?, rate_per_minute = ?,
                     configured_at = ? WHERE id = ?",
            )
            .bind(&config_json)
            .bind(reference.map(SecretRef::as_str))
            .bind(i64::from(rate))
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            *id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO notify_channels (channel, class_id, config_json, secret_ref,
                     rate_per_minute, configured_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(channel.as_str())
            .bind(class_id)
            .bind(&config_json)
            .bind(reference.map(SecretRef::as_str))
            .bind(i64::from(rate))
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "notify.configure",
            entity: "notify_channel",
            entity_id: id.to_string(),
            before: old
                .as_ref()
                .and_then(|(_, _, c)| serde_json::from_str(c).ok()),
            after: Some(json!({
                "channel": channel.as_str(), "class_id": class_id, "config": config,
                "rate_per_minute": rate, "secret": reference.is_some(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, old.and_then(|(_, r, _)| r)))
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    channel: String,
    class_id: Option<i64>,
    class_name: Option<String>,
    config_json: String,
    secret_ref: Option<String>,
    rate_per_minute: i64,
    configured_at: String,
}

/// Every configured channel.
pub async fn list_notify_channels(desk: &FeeDesk) -> Result<Vec<NotifyChannel>> {
    Ok(load_rows(desk).await?.into_iter().map(|(c, _)| c).collect())
}

/// Every configured channel with its keyring reference, for the senders.
pub(crate) async fn load_rows(desk: &FeeDesk) -> Result<Vec<(NotifyChannel, Option<SecretRef>)>> {
    let rows: Vec<ChannelRow> = sqlx::query_as(
        "SELECT n.id, n.channel, n.class_id, u.code || '/' || c.name AS class_name, n.config_json,
                n.secret_ref, n.rate_per_minute, n.configured_at
         FROM notify_channels n LEFT JOIN classes c ON c.id = n.class_id
         LEFT JOIN units u ON u.id = c.unit_id ORDER BY n.channel, n.class_id",
    )
    .fetch_all(desk.db().pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            let channel = ReminderChannel::parse(&r.channel)
                .ok_or_else(|| Error::Internal(format!("unknown stored channel {}", r.channel)))?;
            let config: ChannelConfig = serde_json::from_str(&r.config_json)
                .map_err(|e| Error::Internal(format!("stored channel settings unreadable: {e}")))?;
            let reference = r.secret_ref.as_deref().map(SecretRef::parse).transpose()?;
            Ok((
                NotifyChannel {
                    id: r.id,
                    channel,
                    class_id: r.class_id,
                    class_name: r.class_name,
                    config,
                    has_secret: reference.is_some(),
                    rate_per_minute: u32::try_from(r.rate_per_minute).unwrap_or(u32::MAX),
                    configured_at: r.configured_at,
                },
                reference,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_token_is_split_off() {
        let (url, key) = split_webhook(
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
            "key",
        )
        .unwrap();
        assert_eq!(url, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send");
        assert_eq!(key, "693a91f6-7xxx");
        let e = split_webhook("https://oapi.dingtalk.com/robot/send", "access_token")
            .unwrap_err()
            .to_string();
        assert!(e.contains("access_token"), "{e}");
    }
}
