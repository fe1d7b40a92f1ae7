//! Channel accounts: a WeChat Pay merchant or an Alipay app behind a collection account. The
//! ids and base URL go to the database (`channel_settings`); the keys go, as one item, to the
//! OS keyring, named by `collection_accounts.secret_ref`. Nothing secret is ever written to the
//! database, the audit log or a message; once saved, a secret shows only as a fingerprint
//! (the first 8 hex digits of a SHA-256), never any of its characters.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::alipay::{self, AlipayClient, AlipayConfig};
use super::crypto;
use super::wechatpay::{self, ApiV3Key, PlatformKeys, WechatClient, WechatConfig};
use crate::audit::{self, Entry};
use crate::billing::{Channel, CollectionAccount, find_account, insert_account, list_accounts};
use crate::secrets::{SecretRef, SecretStore, Sensitive};
use crate::{Error, FeeDesk, Result};

/// A WeChat Pay merchant's settings and keys, as entered once.
pub struct WechatSetup {
    pub mch_id: String,
    pub appid: String,
    pub cert_serial: String,
    pub private_key_pem: Sensitive<String>,
    pub apiv3_key: Sensitive<String>,
    /// The WeChat Pay public key (or platform certificate) PEM.
    pub platform_public_key_pem: String,
    /// Its id (`PUB_KEY_ID_...`) or the platform certificate's serial.
    pub platform_key_id: String,
    /// Production unless given (the sandbox's loopback URL for training and tests).
    pub base_url: Option<String>,
}

/// An Alipay app's settings and keys, as entered once.
pub struct AlipaySetup {
    pub app_id: String,
    pub private_key_pem: Sensitive<String>,
    pub alipay_public_key_pem: String,
    pub base_url: Option<String>,
}

/// What a channel account is configured with.
pub enum ChannelSetup {
    Wechat(WechatSetup),
    Alipay(AlipaySetup),
}

/// A collection account with its channel settings (never its secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChannelAccount {
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub account: CollectionAccount,
    /// Whether keys are configured (false for accounts added without them, e.g. by the demo).
    pub configured: bool,
    pub merchant_id: Option<String>,
    pub appid: Option<String>,
    pub cert_serial: Option<String>,
    pub platform_key_id: Option<String>,
    pub base_url: Option<String>,
    /// A fingerprint of the secret (first 8 hex digits of a SHA-256), the only thing ever shown.
    pub secret_hint: Option<String>,
}

/// The keyring item of one account: every key, one JSON document. Serialised only into the
/// keyring; no `Debug`, so it cannot be printed.
#[derive(Serialize, Deserialize)]
struct Bundle {
    version: u32,
    private_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apiv3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform_public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alipay_public_key: Option<String>,
}

fn check_id(what: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    let ok = !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(text.to_string())
    } else {
        Err(Error::Validation(format!(
            "{what} must be 1-{max} letters, digits, '_' or '-'"
        )))
    }
}

/// The public half's fingerprint: the first 8 hex digits of the SHA-256 of its DER, which
/// identify a key without revealing anything of it.
fn key_hint(key: &Sensitive<rsa::RsaPrivateKey>) -> String {
    use rsa::pkcs8::EncodePublicKey;
    let der = rsa::RsaPublicKey::from(key.expose())
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    hex::encode(Sha256::digest(der))[..8].to_string()
}

struct Prepared {
    channel: Channel,
    merchant_id: String,
    appid: Option<String>,
    cert_serial: Option<String>,
    platform_key_id: Option<String>,
    base_url: String,
    hint: String,
    bundle: Sensitive<String>,
}

/// Checks everything (keys parse, ids are sane, the URL is usable) before anything is stored.
fn prepare(setup: ChannelSetup) -> Result<Prepared> {
    let bundle_text = |b: &Bundle| {
        serde_json::to_string(b)
            .map(Sensitive::new)
            .map_err(|e| Error::Internal(e.to_string()))
    };
    match setup {
        ChannelSetup::Wechat(s) => {
            crypto::private_key(s.private_key_pem.expose())?;
            let apiv3 = ApiV3Key::parse(s.apiv3_key.expose())?;
            crypto::public_key(&s.platform_public_key_pem)?;
            let base_url = s
                .base_url
                .unwrap_or_else(|| wechatpay::PRODUCTION_URL.into());
            super::http_client(&base_url)?;
            let serial = check_id("the merchant certificate serial", &s.cert_serial, 64)?;
            if !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::Validation(
                    "the merchant certificate serial is hexadecimal (商户API证书序列号)".into(),
                ));
            }
            Ok(Prepared {
                channel: Channel::Wechat,
                merchant_id: check_id("the merchant id", &s.mch_id, 32)?,
                appid: Some(check_id("the AppID", &s.appid, 32)?),
                cert_serial: Some(serial.to_uppercase()),
                platform_key_id: Some(check_id("the platform key id", &s.platform_key_id, 64)?),
                base_url,
                hint: apiv3.hint(),
                bundle: bundle_text(&Bundle {
                    version: 1,
                    private_key: s.private_key_pem.expose().trim().to_string(),
                    apiv3_key: Some(apiv3.to_text().expose().clone()),
                    platform_public_key: Some(s.platform_public_key_pem.trim().to_string()),
                    alipay_public_key: None,
                })?,
            })
        }
        ChannelSetup::Alipay(s) => {
            let key = crypto::private_key(s.private_key_pem.expose())?;
            crypto::public_key(&s.alipay_public_key_pem)?;
            let base_url = s.base_url.unwrap_or_else(|| alipay::PRODUCTION_URL.into());
            super::http_client(&base_url)?;
            Ok(Prepared {
                channel: Channel::Alipay,
                merchant_id: check_id("the app id", &s.app_id, 32)?,
                appid: None,
                cert_serial: None,
                platform_key_id: None,
                base_url,
                hint: key_hint(&key),
                bundle: bundle_text(&Bundle {
                    version: 1,
                    private_key: s.private_key_pem.expose().trim().to_string(),
                    apiv3_key: None,
                    platform_public_key: None,
                    alipay_public_key: Some(s.alipay_public_key_pem.trim().to_string()),
                })?,
            })
        }
    }
}

/// Adds a channel account: the keys to the OS keyring (refused, with nothing stored, when no
/// keyring is available), the rest to the database, in one transaction with its audit entry.
pub async fn add_channel_account(
    desk: &FeeDesk,
    secrets: &SecretStore,
    unit_code: &str,
    name: &str,
    setup: ChannelSetup,
) -> Result<ChannelAccount> {
    let prepared = prepare(setup)?;
    secrets.check().await?;
    let reference = SecretRef::generate("account");
    secrets.put(&reference, &prepared.bundle).await?;
    match insert(desk, unit_code, name, &prepared, &reference).await {
        Ok(account) => Ok(account),
        Err(e) => {
            // Nothing points at the item: take it back out (a leftover would be harmless).
            let _ = secrets.delete(&reference).await;
            Err(e)
        }
    }
}

async fn insert(
    desk: &FeeDesk,
    unit_code: &str,
    name: &str,
    p: &Prepared,
    reference: &SecretRef,
) -> Result<ChannelAccount> {
    let mut tx = desk.db().write().await?;
    let account = insert_account(
        desk,
        &mut tx,
        unit_code,
        p.channel,
        name,
        Some(reference.as_str()),
    )
    .await?;
    let now = desk.now_text();
    sqlx::query(
        "INSERT INTO channel_settings (account_id, merchant_id, appid, cert_serial, platform_key_id,
             base_url, secret_hint, configured_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(account.id)
    .bind(&p.merchant_id)
    .bind(&p.appid)
    .bind(&p.cert_serial)
    .bind(&p.platform_key_id)
    .bind(&p.base_url)
    .bind(&p.hint)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let channel_account = ChannelAccount {
        account,
        configured: true,
        merchant_id: Some(p.merchant_id.clone()),
        appid: p.appid.clone(),
        cert_serial: p.cert_serial.clone(),
        platform_key_id: p.platform_key_id.clone(),
        base_url: Some(p.base_url.clone()),
        secret_hint: Some(p.hint.clone()),
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "account.configure",
            entity: "collection_account",
            entity_id: channel_account.account.id.to_string(),
            before: None,
            after: Some(json!(channel_account)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(channel_account)
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    account_id: i64,
    secret_ref: Option<String>,
    merchant_id: Option<String>,
    appid: Option<String>,
    cert_serial: Option<String>,
    platform_key_id: Option<String>,
    base_url: Option<String>,
    secret_hint: Option<String>,
}

async fn settings(desk: &FeeDesk, account_id: i64) -> Result<SettingsRow> {
    Ok(sqlx::query_as(
        "SELECT a.id AS account_id, a.secret_ref, s.merchant_id, s.appid, s.cert_serial,
                s.platform_key_id, s.base_url, s.secret_hint
           FROM collection_accounts a LEFT JOIN channel_settings s ON s.account_id = a.id
          WHERE a.id = ?",
    )
    .bind(account_id)
    .fetch_one(desk.db().pool())
    .await?)
}

impl ChannelAccount {
    fn new(account: CollectionAccount, s: SettingsRow) -> Self {
        ChannelAccount {
            account,
            configured: s.secret_ref.is_some() && s.merchant_id.is_some(),
            merchant_id: s.merchant_id,
            appid: s.appid,
            cert_serial: s.cert_serial,
            platform_key_id: s.platform_key_id,
            base_url: s.base_url,
            secret_hint: s.secret_hint,
        }
    }
}

/// The account `text` (id or name) with its channel settings.
pub async fn channel_account(desk: &FeeDesk, text: &str) -> Result<ChannelAccount> {
    let account = find_account(desk, text).await?;
    let s = settings(desk, account.id).await?;
    Ok(ChannelAccount::new(account, s))
}

/// Every WeChat Pay and Alipay account with its channel settings, in the accounts' order: two
/// queries, however many accounts.
pub async fn list_channel_accounts(desk: &FeeDesk) -> Result<Vec<ChannelAccount>> {
    let rows: Vec<SettingsRow> = sqlx::query_as(
        "SELECT a.id AS account_id, a.secret_ref, s.merchant_id, s.appid, s.cert_serial,
                s.platform_key_id, s.base_url, s.secret_hint
           FROM collection_accounts a LEFT JOIN channel_settings s ON s.account_id = a.id
          WHERE a.channel IN ('wechat', 'alipay')",
    )
    .fetch_all(desk.db().pool())
    .await?;
    let mut settings: std::collections::HashMap<i64, SettingsRow> =
        rows.into_iter().map(|r| (r.account_id, r)).collect();
    Ok(list_accounts(desk)
        .await?
        .into_iter()
        .filter_map(|account| {
            let s = settings.remove(&account.id)?;
            Some(ChannelAccount::new(account, s))
        })
        .collect())
}

/// A ready client for a configured account.
pub enum ChannelClient {
    Wechat(WechatClient),
    Alipay(AlipayClient),
}

/// Builds the client for account `text`, reading its keys from the OS keyring.
pub async fn client(
    desk: &FeeDesk,
    secrets: &SecretStore,
    text: &str,
) -> Result<(ChannelAccount, ChannelClient)> {
    let account = channel_account(desk, text).await?;
    let s = settings(desk, account.account.id).await?;
    let not_configured = || {
        Error::Validation(format!(
            "account '{}' has no channel keys configured; add it again with its keys \
             (`feedesk account add --channel {} ...`)",
            account.account.name,
            account.account.channel.as_str()
        ))
    };
    let (Some(reference), Some(merchant_id), Some(base_url)) =
        (s.secret_ref, s.merchant_id, s.base_url)
    else {
        return Err(not_configured());
    };
    let bundle = secrets.get(&SecretRef::parse(&reference)?).await?;
    let bundle: Bundle = serde_json::from_str(bundle.expose()).map_err(|_| {
        Error::Keyring(format!(
            "the keyring item for account '{}' is not FeeDesk's; add the account's keys again",
            account.account.name
        ))
    })?;
    let private_key = crypto::private_key(&bundle.private_key)?;
    let client = match account.account.channel {
        Channel::Wechat => {
            let (Some(apiv3), Some(platform), Some(key_id)) = (
                bundle.apiv3_key,
                bundle.platform_public_key,
                s.platform_key_id,
            ) else {
                return Err(not_configured());
            };
            ChannelClient::Wechat(WechatClient::new(WechatConfig {
                mch_id: merchant_id,
                appid: s.appid.unwrap_or_default(),
                cert_serial: s.cert_serial.unwrap_or_default(),
                private_key,
                apiv3_key: ApiV3Key::parse(&apiv3)?,
                platform_keys: PlatformKeys::new().with(&key_id, crypto::public_key(&platform)?),
                base_url,
                notify_url: wechatpay::DEFAULT_NOTIFY_URL.into(),
            })?)
        }
        Channel::Alipay => {
            let Some(alipay_public) = bundle.alipay_public_key else {
                return Err(not_configured());
            };
            ChannelClient::Alipay(
                AlipayClient::new(AlipayConfig {
                    app_id: merchant_id,
                    private_key,
                    alipay_public_key: crypto::public_key(&alipay_public)?,
                    base_url,
                })?
                // Request timestamps from the book's clock: the order's absolute time_expire is
                // written from it too.
                .with_clock(desk.shared_clock()),
            )
        }
        _ => return Err(not_configured()),
    };
    Ok((account, client))
}

/// What `account test` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountTest {
    pub account: String,
    pub channel: String,
    pub base_url: String,
    pub ok: bool,
    pub detail: String,
}

/// Tests an account end to end without moving money: reads its keys from the keyring and asks
/// the channel about an order that does not exist. Success proves the channel accepted our
/// signature and that its signed answer verified with the configured public key.
pub async fn test_account(
    desk: &FeeDesk,
    secrets: &SecretStore,
    text: &str,
) -> Result<AccountTest> {
    let (account, client) = client(desk, secrets, text).await?;
    let probe = format!("FDTEST{}", crate::secrets::random_hex(8).to_uppercase());
    let found = match &client {
        ChannelClient::Wechat(c) => c.query(&probe).await?.is_some(),
        ChannelClient::Alipay(c) => c.query(&probe).await?.is_some(),
    };
    Ok(AccountTest {
        account: account.account.name.clone(),
        channel: account.account.channel.as_str().into(),
        base_url: account.base_url.clone().unwrap_or_default(),
        ok: true,
        detail: if found {
            "connected; the channel's signed answer verified".into()
        } else {
            "connected: the channel accepted FeeDesk's signature and its signed answer verified"
                .into()
        },
    })
}

/// A day's channel bill, fetched and checked, ready to be written to a file or imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelBill {
    pub account: String,
    pub channel: String,
    pub date: chrono::NaiveDate,
    /// `wechat-trade-all` (WeChat Pay's ALL trade bill) or `alipay-business-detail`.
    pub kind: String,
    /// `UTF-8` (WeChat Pay) or `GBK` (Alipay): the bytes are as the channel delivered them.
    pub encoding: String,
    /// The file's name inside Alipay's zip.
    pub source: Option<String>,
    /// The SHA-256 of the content (how a statement is known when imported).
    pub sha256: String,
    pub bytes: usize,
    /// The CSV itself.
    #[serde(skip)]
    pub content: Vec<u8>,
}

/// Downloads the bill of `date` (a Beijing-time day) through account `text`: WeChat Pay's
/// trade bill (`ALL`), accepted only if its SHA1 matches the signed answer; or Alipay's
/// business-detail CSV taken out of the bill zip, GBK as delivered.
pub async fn download_bill(
    desk: &FeeDesk,
    secrets: &SecretStore,
    text: &str,
    date: chrono::NaiveDate,
) -> Result<ChannelBill> {
    let (account, client) = client(desk, secrets, text).await?;
    let (kind, encoding, source, content) = match &client {
        ChannelClient::Wechat(c) => ("wechat-trade-all", "UTF-8", None, c.trade_bill(date).await?),
        ChannelClient::Alipay(c) => {
            let zip = c.trade_bill(date).await?;
            let csv = alipay::business_detail_csv(&zip)?;
            ("alipay-business-detail", "GBK", Some(csv.name), csv.gbk)
        }
    };
    Ok(ChannelBill {
        account: account.account.name.clone(),
        channel: account.account.channel.as_str().into(),
        date,
        kind: kind.into(),
        encoding: encoding.into(),
        source,
        sha256: hex::encode(Sha256::digest(&content)),
        bytes: content.len(),
        content,
    })
}

/// Configures, or replaces, the channel keys and settings of an existing WeChat Pay or Alipay
/// account (one added without keys, or one whose keys are being rotated). The new keys go to
/// the keyring under a new reference; the database switches to it in one transaction with its
/// audit entry (settings before and after, never a key); then the old keyring item is removed.
/// Changing the merchant while orders are open is refused: they could no longer be settled.
pub async fn configure_channel_account(
    desk: &FeeDesk,
    secrets: &SecretStore,
    text: &str,
    setup: ChannelSetup,
) -> Result<ChannelAccount> {
    let before = channel_account(desk, text).await?;
    let name = before.account.name.clone();
    if before.account.archived {
        return Err(Error::Validation(format!("account '{name}' is archived")));
    }
    let prepared = prepare(setup)?;
    if prepared.channel != before.account.channel {
        return Err(Error::Validation(format!(
            "account '{name}' is a {} account; give it {} keys",
            before.account.channel.as_str(),
            before.account.channel.as_str()
        )));
    }
    let open_orders: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM channel_orders WHERE account_id = ? AND status = 'open'",
    )
    .bind(before.account.id)
    .fetch_one(desk.db().pool())
    .await?;
    if open_orders > 0 && before.merchant_id.as_deref() != Some(prepared.merchant_id.as_str()) {
        return Err(Error::Conflict(format!(
            "account '{name}' has {open_orders} open order(s) with its present merchant; \
             settle or close them first (`feedesk orders sync`), then change the merchant"
        )));
    }
    secrets.check().await?;
    let old_reference = settings(desk, before.account.id).await?.secret_ref;
    let reference = SecretRef::generate("account");
    secrets.put(&reference, &prepared.bundle).await?;
    let switched = switch(desk, &before, &prepared, &reference).await;
    match switched {
        Ok(after) => {
            if let Some(old) = old_reference
                .as_deref()
                .and_then(|r| SecretRef::parse(r).ok())
            {
                // Nothing points at it any more; a leftover would be harmless.
                let _ = secrets.delete(&old).await;
            }
            Ok(after)
        }
        Err(e) => {
            let _ = secrets.delete(&reference).await;
            Err(e)
        }
    }
}

async fn switch(
    desk: &FeeDesk,
    before: &ChannelAccount,
    p: &Prepared,
    reference: &SecretRef,
) -> Result<ChannelAccount> {
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    sqlx::query("UPDATE collection_accounts SET secret_ref = ? WHERE id = ?")
        .bind(reference.as_str())
        .bind(before.account.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO channel_settings (account_id, merchant_id, appid, cert_serial, platform_key_id,
             base_url, secret_hint, configured_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET merchant_id = excluded.merchant_id,
             appid = excluded.appid, cert_serial = excluded.cert_serial,
             platform_key_id = excluded.platform_key_id, base_url = excluded.base_url,
             secret_hint = excluded.secret_hint, configured_at = excluded.configured_at",
    )
    .bind(before.account.id)
    .bind(&p.merchant_id)
    .bind(&p.appid)
    .bind(&p.cert_serial)
    .bind(&p.platform_key_id)
    .bind(&p.base_url)
    .bind(&p.hint)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let after = ChannelAccount {
        account: before.account.clone(),
        configured: true,
        merchant_id: Some(p.merchant_id.clone()),
        appid: p.appid.clone(),
        cert_serial: p.cert_serial.clone(),
        platform_key_id: p.platform_key_id.clone(),
        base_url: Some(p.base_url.clone()),
        secret_hint: Some(p.hint.clone()),
    };
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "account.configure",
            entity: "collection_account",
            entity_id: before.account.id.to_string(),
            before: Some(json!(before)),
            after: Some(json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
