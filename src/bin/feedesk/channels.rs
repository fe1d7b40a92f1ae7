//! Dispatch for the payment channels: the sandbox (serve, and its controls over its control
//! API) and channel accounts.

use std::path::Path;
use std::process::ExitCode;

use feedesk::billing::Channel;
use feedesk::channels::accounts::{self, AlipaySetup, ChannelSetup, WechatSetup};
use feedesk::channels::sandbox::{self, Fault, FaultRule, Sandbox};
use feedesk::secrets::{SecretStore, Sensitive};
use feedesk::{Error, FeeDesk, Result};
use serde_json::json;

use crate::cli::{ChannelKeyArgs, SandboxCommand};
use crate::output::{self, table};

pub async fn sandbox(cmd: SandboxCommand, data_dir: &Path, json: bool) -> Result<ExitCode> {
    match cmd {
        SandboxCommand::Serve { port, keys } => {
            let keys = keys.unwrap_or_else(|| data_dir.join("sandbox"));
            let dir = keys.clone();
            let (config, ids) =
                tokio::task::spawn_blocking(move || sandbox::keys::load_or_create(&dir))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))??;
            let server = Sandbox::start(config, port).await?;
            let wechat_url = server.wechat_base_url();
            let alipay_url = server.alipay_base_url();
            if json {
                // One line, then serve: scripts read it and go on.
                say!(
                    "{}",
                    json!({
                        "address": server.addr().to_string(),
                        "wechat_base_url": wechat_url,
                        "alipay_base_url": alipay_url,
                        "keys": keys.display().to_string(),
                        "ids": ids,
                    })
                );
            } else {
                let k = |f: &str| keys.join(f).display().to_string();
                say!("FeeDesk sandbox on {} (Ctrl-C stops it)", server.addr());
                say!("  WeChat Pay base URL: {wechat_url}");
                say!("  Alipay gateway:      {alipay_url}");
                say!("  test keys in:        {}", keys.display());
                say!("Add sandbox accounts to FeeDesk with:");
                say!(
                    "  feedesk account add --unit HQ --channel wechat --name 微信沙箱 --mch-id {} --appid {} --cert-serial {} --private-key-file {} --apiv3-key-file {} --platform-public-key-file {} --platform-key-id {} --base-url {wechat_url}",
                    ids.wechat_mch_id,
                    ids.wechat_appid,
                    ids.wechat_cert_serial,
                    k("wechat/merchant_private_key.pem"),
                    k("wechat/apiv3_key.txt"),
                    k("wechat/platform_public_key.pem"),
                    ids.wechat_platform_key_id
                );
                say!(
                    "  feedesk account add --unit HQ --channel alipay --name 支付宝沙箱 --app-id {} --private-key-file {} --alipay-public-key-file {} --base-url {alipay_url}",
                    ids.alipay_app_id,
                    k("alipay/app_private_key.pem"),
                    k("alipay/alipay_public_key.pem")
                );
            }
            let _ = tokio::signal::ctrl_c().await;
            server.shutdown().await;
        }
        SandboxCommand::Pay { order, port } => {
            let order = control(port, "POST", &format!("orders/{order}/pay"), None).await?;
            print_one(&order, json, "paid")?;
        }
        SandboxCommand::Fail { order, port } => {
            let order = control(port, "POST", &format!("orders/{order}/fail"), None).await?;
            print_one(&order, json, "failed")?;
        }
        SandboxCommand::Fault {
            kind,
            times,
            order,
            port,
        } => {
            let fault = Fault::parse(&kind).ok_or_else(|| {
                Error::Validation(format!(
                    "'{kind}' is not a fault; use delay:MS, duplicate, reorder, bad-signature, skew:SECONDS, unknown-serial, alter-ciphertext, unsigned, wrong-amount, wrong-merchant or tamper-bill"
                ))
            })?;
            let rule = FaultRule {
                fault,
                times,
                order,
            };
            let body = serde_json::to_string(&rule).map_err(|e| Error::Internal(e.to_string()))?;
            let set = control(port, "POST", "faults", Some(body)).await?;
            if json {
                output::json(&set)?;
            } else {
                say!("The sandbox will answer with '{kind}' {times} time(s)");
            }
        }
        SandboxCommand::ClearFaults { port } => {
            let cleared = control(port, "DELETE", "faults", None).await?;
            if json {
                output::json(&cleared)?;
            } else {
                say!("Faults cleared");
            }
        }
        SandboxCommand::Orders { port } => {
            let orders = control(port, "GET", "orders", None).await?;
            if json {
                output::json(&orders)?;
            } else {
                let rows: Vec<Vec<String>> = orders
                    .as_array()
                    .map(|a| a.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .map(|o| {
                        let text = |k: &str| o[k].as_str().unwrap_or("").to_string();
                        vec![
                            text("channel"),
                            text("out_trade_no"),
                            feedesk::channels::crypto::fen_to_yuan(
                                o["total_fen"].as_i64().unwrap_or(0),
                            ),
                            text("state"),
                            text("transaction_id"),
                        ]
                    })
                    .collect();
                table(
                    &["channel", "order", "amount", "state", "transaction"],
                    &rows,
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_one(order: &serde_json::Value, json: bool, what: &str) -> Result<()> {
    if json {
        return output::json(order);
    }
    say!(
        "Order {} {what} ({} {})",
        order["out_trade_no"].as_str().unwrap_or(""),
        order["channel"].as_str().unwrap_or(""),
        order["transaction_id"].as_str().unwrap_or("")
    );
    Ok(())
}

/// One call to a running sandbox's control API on 127.0.0.1:`port`.
async fn control(
    port: u16,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<serde_json::Value> {
    let url = format!("http://127.0.0.1:{port}/sandbox/{path}");
    let client = feedesk::channels::http_client(&url)?;
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|e| Error::Internal(e.to_string()))?;
    let mut request = client.request(method, &url);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body);
    }
    let response = request.send().await.map_err(|_| {
        Error::Channel(format!(
            "no sandbox answers on 127.0.0.1:{port}; start one with `feedesk sandbox serve --port {port}`"
        ))
    })?;
    let status = response.status();
    let text = feedesk::channels::read_capped(response, feedesk::channels::MAX_ANSWER_BYTES)
        .await
        .map_err(|e| e.channel("the sandbox's answer"))?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|_| Error::Channel("the sandbox answered something that is not JSON".into()))?;
    if status.is_success() {
        return Ok(value);
    }
    let message = value["error"].as_str().unwrap_or("refused").to_string();
    Err(match status.as_u16() {
        404 => Error::NotFound(message),
        409 => Error::Conflict(message),
        _ => Error::Validation(message),
    })
}

/// The OS keyring. `FEEDESK_KEYRING_SERVICE` files items under another service name (tests).
pub fn secret_store() -> SecretStore {
    SecretStore::from_env()
}

/// Reads a key file (`-`: stdin). The error names the file, never its content.
pub(crate) fn read_secret(path: &Path, what: &str) -> Result<Sensitive<String>> {
    if path == Path::new("-") {
        // Bounded like a key file: a key is a few KB, whatever is piped in.
        let limit = feedesk::secrets::MAX_KEY_FILE;
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin(), limit + 1),
            &mut text,
        )
        .map_err(|e| Error::Io(format!("cannot read {what} from stdin: {e}")))?;
        if text.len() as u64 > limit {
            return Err(Error::Validation(format!(
                "{what} on stdin is over {} KB; keys are small text files",
                limit / 1024
            )));
        }
        Ok(Sensitive::new(text))
    } else {
        feedesk::secrets::read_key_file(path, what)
    }
}

fn required<T>(value: Option<T>, flag: &str, channel: &str) -> Result<T> {
    value.ok_or_else(|| Error::Validation(format!("a {channel} account needs {flag}")))
}

pub async fn add_account(
    desk: &FeeDesk,
    unit: &str,
    channel: Channel,
    name: &str,
    keys: ChannelKeyArgs,
    json: bool,
) -> Result<()> {
    let setup = channel_setup(channel, keys)?;
    let added = accounts::add_channel_account(desk, &secret_store(), unit, name, setup).await?;
    if json {
        return output::json(&added);
    }
    say!(
        "Account {} {} ({}) of {}: merchant {}, keys in the OS keyring (configured · fingerprint {}), {}",
        added.account.id,
        added.account.name,
        added.account.channel.as_str(),
        added.account.unit_code,
        added.merchant_id.as_deref().unwrap_or(""),
        added.secret_hint.as_deref().unwrap_or(""),
        added.base_url.as_deref().unwrap_or("")
    );
    Ok(())
}

pub async fn test_account(desk: &FeeDesk, account: &str, json: bool) -> Result<()> {
    let report = accounts::test_account(desk, &secret_store(), account).await?;
    if json {
        return output::json(&report);
    }
    say!(
        "Account {} ({}) at {}: {}",
        report.account,
        report.channel,
        report.base_url,
        report.detail
    );
    Ok(())
}

/// The channel settings and keys the flags give, read from their files.
fn channel_setup(channel: Channel, keys: ChannelKeyArgs) -> Result<ChannelSetup> {
    let stdin_uses = [
        &keys.private_key_file,
        &keys.apiv3_key_file,
        &keys.platform_public_key_file,
        &keys.alipay_public_key_file,
    ]
    .iter()
    .filter(|p| p.as_deref() == Some(Path::new("-")))
    .count();
    if stdin_uses > 1 {
        return Err(Error::Validation(
            "only one key file can be read from stdin ('-')".into(),
        ));
    }
    let setup = match channel {
        Channel::Wechat => {
            if keys.app_id.is_some() || keys.alipay_public_key_file.is_some() {
                return Err(Error::Validation(
                    "--app-id and --alipay-public-key-file are for alipay accounts".into(),
                ));
            }
            let w = "wechat";
            ChannelSetup::Wechat(WechatSetup {
                mch_id: required(keys.mch_id, "--mch-id", w)?,
                appid: required(keys.appid, "--appid", w)?,
                cert_serial: required(keys.cert_serial, "--cert-serial", w)?,
                private_key_pem: read_secret(
                    &required(keys.private_key_file, "--private-key-file", w)?,
                    "a private key",
                )?,
                apiv3_key: read_secret(
                    &required(keys.apiv3_key_file, "--apiv3-key-file", w)?,
                    "an APIv3 key",
                )?,
                platform_public_key_pem: read_secret(
                    &required(
                        keys.platform_public_key_file,
                        "--platform-public-key-file",
                        w,
                    )?,
                    "a public key",
                )?
                .into_inner(),
                platform_key_id: required(keys.platform_key_id, "--platform-key-id", w)?,
                base_url: keys.base_url,
            })
        }
        Channel::Alipay => {
            if keys.mch_id.is_some()
                || keys.apiv3_key_file.is_some()
                || keys.platform_public_key_file.is_some()
            {
                return Err(Error::Validation(
                    "--mch-id, --apiv3-key-file and --platform-public-key-file are for wechat accounts".into(),
                ));
            }
            let a = "alipay";
            ChannelSetup::Alipay(AlipaySetup {
                app_id: required(keys.app_id, "--app-id", a)?,
                private_key_pem: read_secret(
                    &required(keys.private_key_file, "--private-key-file", a)?,
                    "a private key",
                )?,
                alipay_public_key_pem: read_secret(
                    &required(keys.alipay_public_key_file, "--alipay-public-key-file", a)?,
                    "a public key",
                )?
                .into_inner(),
                base_url: keys.base_url,
            })
        }
        other => {
            return Err(Error::Validation(format!(
                "{} accounts take no channel keys; channel keys are for wechat and alipay",
                other.as_str()
            )));
        }
    };
    Ok(setup)
}

pub async fn configure_account(
    desk: &FeeDesk,
    account: &str,
    keys: ChannelKeyArgs,
    json: bool,
) -> Result<()> {
    let channel = accounts::channel_account(desk, account)
        .await?
        .account
        .channel;
    let setup = channel_setup(channel, keys)?;
    let configured =
        accounts::configure_channel_account(desk, &secret_store(), account, setup).await?;
    if json {
        return output::json(&configured);
    }
    say!(
        "Account {} {} ({}): merchant {}, keys in the OS keyring (configured · fingerprint {}), {}",
        configured.account.id,
        configured.account.name,
        configured.account.channel.as_str(),
        configured.merchant_id.as_deref().unwrap_or(""),
        configured.secret_hint.as_deref().unwrap_or(""),
        configured.base_url.as_deref().unwrap_or("")
    );
    Ok(())
}
