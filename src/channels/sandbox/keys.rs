//! The key set a stand-alone sandbox (`feedesk sandbox serve`) uses: both sides' test keys in
//! one folder, made on first use, so a trainer can add sandbox accounts to FeeDesk with
//! `feedesk account add ... --private-key-file DIR/wechat/merchant_private_key.pem ...`.
//! Test keys only: they never touch a real channel.

use std::path::{Path, PathBuf};

use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

use super::{AlipayApp, SandboxConfig, WechatMerchant};
use crate::channels::crypto;
use crate::channels::wechatpay::ApiV3Key;
use crate::{Error, Result};

/// The identifiers of a sandbox key set (`sandbox.json` in the folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxIds {
    pub wechat_mch_id: String,
    pub wechat_appid: String,
    pub wechat_cert_serial: String,
    pub wechat_platform_key_id: String,
    pub alipay_app_id: String,
}

impl Default for SandboxIds {
    fn default() -> SandboxIds {
        SandboxIds {
            wechat_mch_id: "1900000109".into(),
            wechat_appid: "wxfeedesksandbox0".into(),
            wechat_cert_serial: "5A4D1E5B0C0FEEDE5C0FFEE5A4D1E5B0C0FEEDE5".into(),
            wechat_platform_key_id: "PUB_KEY_ID_0119000001092026112200000000000000".into(),
            alipay_app_id: "2021000000000000".into(),
        }
    }
}

/// The files of a key set, relative to its folder.
pub const FILES: [&str; 9] = [
    "wechat/merchant_private_key.pem",
    "wechat/merchant_public_key.pem",
    "wechat/platform_private_key.pem",
    "wechat/platform_public_key.pem",
    "wechat/apiv3_key.txt",
    "alipay/app_private_key.pem",
    "alipay/app_public_key.pem",
    "alipay/alipay_private_key.pem",
    "alipay/alipay_public_key.pem",
];

fn read(dir: &Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))
}

fn write(dir: &Path, name: &str, text: &str, private: bool) -> Result<()> {
    let path: PathBuf = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&path, e))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}

fn new_pair(dir: &Path, private_name: &str, public_name: &str) -> Result<()> {
    let key = RsaPrivateKey::new(&mut OsRng, 2048)
        .map_err(|e| Error::Internal(format!("RSA key generation failed: {e}")))?;
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::Internal(format!("PEM encoding failed: {e}")))?;
    let public = RsaPublicKey::from(&key)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::Internal(format!("PEM encoding failed: {e}")))?;
    write(dir, private_name, &private, true)?;
    write(dir, public_name, &public, false)
}

/// Reads the key set in `dir`, making whatever is missing (2048-bit RSA keys, an APIv3 key).
pub fn load_or_create(dir: &Path) -> Result<(SandboxConfig, SandboxIds)> {
    let ids_path = dir.join("sandbox.json");
    let ids: SandboxIds = if ids_path.exists() {
        serde_json::from_str(&read(dir, "sandbox.json")?).map_err(|e| {
            Error::Validation(format!(
                "{} is not a sandbox key set: {e}",
                ids_path.display()
            ))
        })?
    } else {
        let ids = SandboxIds::default();
        let text =
            serde_json::to_string_pretty(&ids).map_err(|e| Error::Internal(e.to_string()))?;
        write(dir, "sandbox.json", &text, false)?;
        ids
    };
    for (private, public) in [(0, 1), (2, 3), (5, 6), (7, 8)] {
        if !dir.join(FILES[private]).exists() {
            new_pair(dir, FILES[private], FILES[public])?;
        }
    }
    if !dir.join(FILES[4]).exists() {
        write(dir, FILES[4], &crate::secrets::random_hex(16), true)?;
    }
    let config = SandboxConfig {
        wechat: vec![WechatMerchant {
            mch_id: ids.wechat_mch_id.clone(),
            appid: ids.wechat_appid.clone(),
            merchant_serial: ids.wechat_cert_serial.clone(),
            merchant_public_key: crypto::public_key(&read(dir, FILES[1])?)?,
            platform_key_id: ids.wechat_platform_key_id.clone(),
            platform_private_key: crypto::private_key(&read(dir, FILES[2])?)?,
            apiv3_key: ApiV3Key::parse(&read(dir, FILES[4])?)?,
            platform_certificate_pem: None,
        }],
        alipay: vec![AlipayApp {
            app_id: ids.alipay_app_id.clone(),
            app_public_key: crypto::public_key(&read(dir, FILES[6])?)?,
            alipay_private_key: crypto::private_key(&read(dir, FILES[7])?)?,
        }],
    };
    Ok((config, ids))
}
