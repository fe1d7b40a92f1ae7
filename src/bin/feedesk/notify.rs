//! `feedesk notify`: the reminder senders (SMTP email, Aliyun SMS, WeCom / DingTalk robots).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use feedesk::reminders::{self, ChannelConfig, ChannelSetup, SmtpSecurity};
use feedesk::secrets::Sensitive;
use feedesk::{Error, FeeDesk, Result};

use crate::channels::{read_secret, secret_store};
use crate::output::{self, table};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NotifyChannelArg {
    Email,
    Sms,
    Wecom,
    Dingtalk,
}

/// One parse per process: the size of the `add` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Configure a sender (again: replaces its settings and its keyring item).
    Add {
        #[arg(long, value_enum)]
        channel: NotifyChannelArg,
        /// email: the SMTP server.
        #[arg(long)]
        smtp_host: Option<String>,
        #[arg(long)]
        smtp_port: Option<u16>,
        /// email: starttls (default), tls or none.
        #[arg(long, default_value = "starttls")]
        security: String,
        /// email: the sender, e.g. 'Sunshine School <fees@example.cn>'.
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        username: Option<String>,
        /// email: a file holding the SMTP password (`-`: stdin); kept in the OS keyring.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// sms: the Aliyun AccessKey id.
        #[arg(long)]
        access_key_id: Option<String>,
        /// sms: a file holding the AccessKey secret; dingtalk: the robot's signing secret
        /// (SEC...). Kept in the OS keyring.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
        /// sms: the approved signature name (签名).
        #[arg(long)]
        sign_name: Option<String>,
        /// sms: the approved template code (SMS_...), with variables member, fee, amount,
        /// due_date, days, link.
        #[arg(long)]
        template_code: Option<String>,
        /// sms: the API endpoint (default Aliyun's; tests point it at loopback).
        #[arg(long)]
        endpoint: Option<String>,
        /// wecom / dingtalk: a file holding the robot's whole webhook address (with its key or
        /// access_token; `-`: stdin). Kept in the OS keyring.
        #[arg(long, value_name = "FILE")]
        webhook_file: Option<PathBuf>,
        /// wecom / dingtalk: this robot posts to one class's group (STORE/NAME).
        #[arg(long)]
        class: Option<String>,
        /// Messages a minute this sender may send (default: robots 20, SMS 100, email 60).
        #[arg(long)]
        rate_per_minute: Option<u32>,
    },
    /// List the configured senders (never their secrets).
    List,
}

fn need<T>(value: Option<T>, flag: &str, channel: &str) -> Result<T> {
    value.ok_or_else(|| Error::Validation(format!("a {channel} sender needs {flag}")))
}

pub async fn notify(desk: &FeeDesk, cmd: NotifyCommand, json: bool) -> Result<()> {
    match cmd {
        NotifyCommand::Add {
            channel,
            smtp_host,
            smtp_port,
            security,
            from,
            username,
            password_file,
            access_key_id,
            secret_file,
            sign_name,
            template_code,
            endpoint,
            webhook_file,
            class,
            rate_per_minute,
        } => {
            let setup = match channel {
                NotifyChannelArg::Email => ChannelSetup::Email {
                    host: need(smtp_host, "--smtp-host", "email")?,
                    port: need(smtp_port, "--smtp-port", "email")?,
                    security: SmtpSecurity::parse(&security)?,
                    from: need(from, "--from", "email")?,
                    username,
                    password: password_file
                        .map(|f| read_secret(&f, "the SMTP password"))
                        .transpose()?,
                },
                NotifyChannelArg::Sms => ChannelSetup::Sms {
                    endpoint,
                    access_key_id: need(access_key_id, "--access-key-id", "SMS")?,
                    access_key_secret: read_secret(
                        &need(secret_file, "--secret-file", "SMS")?,
                        "the AccessKey secret",
                    )?,
                    sign_name: need(sign_name, "--sign-name", "SMS")?,
                    template_code: need(template_code, "--template-code", "SMS")?,
                },
                NotifyChannelArg::Wecom => ChannelSetup::Wecom {
                    webhook: webhook(need(webhook_file, "--webhook-file", "WeCom")?)?,
                },
                NotifyChannelArg::Dingtalk => ChannelSetup::Dingtalk {
                    webhook: webhook(need(webhook_file, "--webhook-file", "DingTalk")?)?,
                    sign_secret: secret_file
                        .map(|f| read_secret(&f, "the robot's signing secret"))
                        .transpose()?,
                },
            };
            let added = reminders::add_notify_channel(
                desk,
                &secret_store(),
                setup,
                class.as_deref(),
                rate_per_minute,
            )
            .await?;
            if json {
                return output::json(&added);
            }
            say!(
                "Configured {} sender {}{} ({} a minute){}",
                added.channel,
                added.id,
                added
                    .class_name
                    .as_deref()
                    .map(|c| format!(" for class {c}"))
                    .unwrap_or_default(),
                added.rate_per_minute,
                if added.has_secret {
                    "; its secret is in the OS keyring"
                } else {
                    ""
                }
            );
        }
        NotifyCommand::List => {
            let list = reminders::list_notify_channels(desk).await?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.id.to_string(),
                        c.channel.to_string(),
                        c.class_name.clone().unwrap_or_else(|| "(all)".into()),
                        describe(&c.config),
                        c.rate_per_minute.to_string(),
                        if c.has_secret { "keyring" } else { "" }.into(),
                    ]
                })
                .collect();
            table(
                &["id", "channel", "class", "settings", "per_min", "secret"],
                &rows,
            );
        }
    }
    Ok(())
}

fn webhook(file: PathBuf) -> Result<Sensitive<String>> {
    Ok(read_secret(&file, "the webhook address")?.map(|s| s.trim().to_string()))
}

fn describe(config: &ChannelConfig) -> String {
    match config {
        ChannelConfig::Email {
            host,
            port,
            security,
            from,
            ..
        } => format!("{host}:{port} {security:?} from {from}"),
        ChannelConfig::Sms {
            endpoint,
            sign_name,
            template_code,
            ..
        } => format!("{endpoint} {sign_name} {template_code}"),
        ChannelConfig::Robot { endpoint, signed } => {
            format!("{endpoint}{}", if *signed { " (signed)" } else { "" })
        }
        ChannelConfig::DemoOutbox { folder } => format!("demo: written to {folder}"),
    }
}
