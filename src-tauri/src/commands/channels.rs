//! Settings → Channel accounts: WeChat Pay and Alipay accounts with their keys in the OS keyring.
//!
//! No secret ever crosses IPC. The user picks each key file in the native dialog
//! ([`channel_key_pick`]); the window sends back only the path, which this side checks was
//! picked, reads from disk and hands to the core, which puts the keys in the OS keyring. Once
//! saved, a secret shows only as its fingerprint (`secret_hint`).

use std::path::Path;

use feedesk::channels::accounts::{
    self, AccountTest, AlipaySetup, ChannelAccount, ChannelSetup, WechatSetup,
};
use feedesk::secrets::Sensitive;
use serde::Deserialize;
use tauri::{AppHandle, State};

use crate::commands::open_dialog::{check_picked, pick_file};
use crate::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// A channel's ids and key files as the form sends them. Key files are paths the user picked
/// with [`channel_key_pick`]; their contents are read here, never sent by the window.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(tag = "channel", rename_all = "lowercase")]
pub enum ChannelKeysForm {
    Wechat {
        mch_id: String,
        appid: String,
        cert_serial: String,
        /// The merchant API private key (apiclient_key.pem).
        private_key_file: String,
        /// A text file holding the 32-character APIv3 key.
        apiv3_key_file: String,
        /// The WeChat Pay public key (or platform certificate) PEM.
        platform_public_key_file: String,
        platform_key_id: String,
        /// Empty: production.
        base_url: Option<String>,
    },
    Alipay {
        app_id: String,
        /// The app's private key (RSA2).
        private_key_file: String,
        alipay_public_key_file: String,
        /// Empty: production.
        base_url: Option<String>,
    },
}

/// A new channel account: the unit that owns it, its name and its keys.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ChannelAccountForm {
    pub unit: String,
    pub name: String,
    pub keys: ChannelKeysForm,
}

/// New or replacement keys for an existing account, named by its id or name. The channel must
/// be the account's own.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ChannelConfigureForm {
    pub account: String,
    pub keys: ChannelKeysForm,
}

/// Reads a key file the user picked. Errors name the file, never its content.
fn read_key(state: &AppState, file: &str, what: &str) -> Result<Sensitive<String>, IpcError> {
    let file = file.trim();
    if file.is_empty() {
        return Err(IpcError::new(
            ErrorCode::Validation,
            format!("choose the file of {what}"),
        ));
    }
    check_picked(state, file)?;
    Ok(feedesk::secrets::read_key_file(Path::new(file), what)?)
}

fn base_url(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn setup(state: &AppState, keys: ChannelKeysForm) -> Result<ChannelSetup, IpcError> {
    Ok(match keys {
        ChannelKeysForm::Wechat {
            mch_id,
            appid,
            cert_serial,
            private_key_file,
            apiv3_key_file,
            platform_public_key_file,
            platform_key_id,
            base_url: url,
        } => ChannelSetup::Wechat(WechatSetup {
            mch_id,
            appid,
            cert_serial,
            private_key_pem: read_key(state, &private_key_file, "a merchant private key")?,
            apiv3_key: read_key(state, &apiv3_key_file, "an APIv3 key")?,
            platform_public_key_pem: read_key(
                state,
                &platform_public_key_file,
                "a WeChat Pay public key",
            )?
            .into_inner(),
            platform_key_id,
            base_url: base_url(url),
        }),
        ChannelKeysForm::Alipay {
            app_id,
            private_key_file,
            alipay_public_key_file,
            base_url: url,
        } => ChannelSetup::Alipay(AlipaySetup {
            app_id,
            private_key_pem: read_key(state, &private_key_file, "an app private key")?,
            alipay_public_key_pem: read_key(
                state,
                &alipay_public_key_file,
                "an Alipay public key",
            )?
            .into_inner(),
            base_url: base_url(url),
        }),
    })
}

/// Every WeChat Pay and Alipay account, with its channel settings (never its secrets).
#[tauri::command]
pub async fn channel_account_list(
    state: State<'_, AppState>,
) -> Result<Vec<ChannelAccount>, IpcError> {
    Ok(accounts::list_channel_accounts(state.desk()?).await?)
}

/// Asks for a key file in the native dialog; `None` when the user cancels. Only files picked
/// here (in this run) can be read as keys.
#[tauri::command]
pub async fn channel_key_pick(
    app: AppHandle,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<String>, IpcError> {
    pick_file(
        &app,
        &state,
        title,
        &[
            ("PEM / key / text", &["pem", "key", "txt", "crt", "cer"]),
            ("*", &["*"]),
        ],
    )
}

/// Adds a WeChat Pay or Alipay account: its keys go to the OS keyring (refused, with nothing
/// stored, when there is none), its ids and base URL to the database.
#[tauri::command]
pub async fn channel_account_add(
    state: State<'_, AppState>,
    form: ChannelAccountForm,
) -> Result<ChannelAccount, IpcError> {
    let desk = state.desk()?;
    let setup = setup(&state, form.keys)?;
    let added =
        accounts::add_channel_account(desk, state.secrets(), &form.unit, &form.name, setup).await?;
    Ok(added)
}

/// Configures, or replaces, the keys of an existing WeChat Pay or Alipay account (one added
/// without keys, or one whose keys are rotated): the new keys go to the OS keyring, the old
/// keyring item is removed once the database points at the new one.
#[tauri::command]
pub async fn channel_account_configure(
    state: State<'_, AppState>,
    form: ChannelConfigureForm,
) -> Result<ChannelAccount, IpcError> {
    let desk = state.desk()?;
    let setup = setup(&state, form.keys)?;
    let configured =
        accounts::configure_channel_account(desk, state.secrets(), &form.account, setup).await?;
    Ok(configured)
}

/// Tests an account end to end without moving money (its keys from the keyring, a signed query
/// the channel must answer with a verified signature).
#[tauri::command]
pub async fn channel_account_test(
    state: State<'_, AppState>,
    account: String,
) -> Result<AccountTest, IpcError> {
    Ok(accounts::test_account(state.desk()?, state.secrets(), &account).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        AppState::new(Err(IpcError::internal("no data folder in this test")))
    }

    #[test]
    fn only_picked_small_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("apiv3_key.txt");
        std::fs::write(&key, "0123456789abcdef0123456789abcdef").unwrap();
        let key = key.display().to_string();
        let state = state();
        let err = read_key(&state, &key, "an APIv3 key").unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation, "not picked yet");
        state.allow_file(Path::new(&key));
        assert_eq!(
            read_key(&state, &key, "an APIv3 key").unwrap().expose(),
            "0123456789abcdef0123456789abcdef"
        );
        let big = dir.path().join("big.pem");
        std::fs::write(
            &big,
            vec![b'a'; feedesk::secrets::MAX_KEY_FILE as usize + 1],
        )
        .unwrap();
        state.allow_file(&big);
        let err = read_key(&state, &big.display().to_string(), "a key").unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert!(!err.message.contains("aaaa"), "never the content");
        let err = read_key(&state, "  ", "a key").unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
    }

    #[test]
    fn the_form_is_tagged_by_channel() {
        let form: ChannelAccountForm = serde_json::from_value(serde_json::json!({
            "unit": "HQ", "name": "支付宝", "keys": {
                "channel": "alipay", "app_id": "2021", "private_key_file": "/k/a.pem",
                "alipay_public_key_file": "/k/b.pem", "base_url": " "
            }
        }))
        .unwrap();
        let ChannelKeysForm::Alipay { base_url: url, .. } = form.keys else {
            panic!("an alipay form")
        };
        assert_eq!(base_url(url), None, "blank: production");
        // The files are read only once picked: nothing is read from an unpicked path.
        let err = setup(&state(), form_keys_wechat()).err().unwrap();
        assert_eq!(err.code, ErrorCode::Validation);
    }

    fn form_keys_wechat() -> ChannelKeysForm {
        ChannelKeysForm::Wechat {
            mch_id: "1900000109".into(),
            appid: "wx1".into(),
            cert_serial: "ABC".into(),
            private_key_file: "/etc/passwd".into(),
            apiv3_key_file: "/etc/passwd".into(),
            platform_public_key_file: "/etc/passwd".into(),
            platform_key_id: "PUB_KEY_ID_1".into(),
            base_url: None,
        }
    }
}
