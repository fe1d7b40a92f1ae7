//! Shared set-up for the channel tests: a sandbox serving one WeChat Pay merchant (the official
//! test vectors' keys) and one Alipay app (tests/fixtures/alipay), and clients configured for it.

use feedesk::channels::accounts::{AlipaySetup, ChannelSetup, WechatSetup};
use feedesk::channels::alipay::{AlipayClient, AlipayConfig};
use feedesk::channels::crypto;
use feedesk::channels::sandbox::{AlipayApp, Sandbox, SandboxConfig, WechatMerchant};
use feedesk::channels::wechatpay::{self, ApiV3Key, PlatformKeys, WechatClient, WechatConfig};
use feedesk::secrets::{SecretStore, Sensitive};

pub const MCH_ID: &str = "1230000109";
pub const APPID: &str = "wxd678efh567hg6787";
pub const MERCHANT_SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";
pub const PLATFORM_SERIAL: &str = "440024045C4A427599D09BB4E3DE0279F2E813FD";
pub const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
pub const ALIPAY_APP_ID: &str = "2021000000000001";

pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        wechat: vec![WechatMerchant {
            mch_id: MCH_ID.into(),
            appid: APPID.into(),
            merchant_serial: MERCHANT_SERIAL.into(),
            merchant_public_key: crypto::public_key(&fixture("wechatpay/merchant_certificate.pem"))
                .unwrap(),
            platform_key_id: PLATFORM_SERIAL.into(),
            platform_private_key: crypto::private_key(&fixture(
                "wechatpay/wechat_pay_private_key.pem",
            ))
            .unwrap(),
            apiv3_key: ApiV3Key::parse(APIV3_KEY).unwrap(),
            platform_certificate_pem: Some(fixture("wechatpay/wechat_pay_certificate.pem")),
        }],
        alipay: vec![AlipayApp {
            app_id: ALIPAY_APP_ID.into(),
            app_public_key: crypto::public_key(&fixture("alipay/app_public_key.pem")).unwrap(),
            alipay_private_key: crypto::private_key(&fixture("alipay/alipay_private_key.pem"))
                .unwrap(),
        }],
    }
}

pub async fn sandbox() -> Sandbox {
    Sandbox::start(sandbox_config(), 0).await.unwrap()
}

pub fn wechat_config(sandbox: &Sandbox) -> WechatConfig {
    WechatConfig {
        mch_id: MCH_ID.into(),
        appid: APPID.into(),
        cert_serial: MERCHANT_SERIAL.into(),
        private_key: crypto::private_key(&fixture("wechatpay/merchant_private_key.pem")).unwrap(),
        apiv3_key: ApiV3Key::parse(APIV3_KEY).unwrap(),
        platform_keys: PlatformKeys::new().with(
            PLATFORM_SERIAL,
            crypto::public_key(&fixture("wechatpay/wechat_pay_public_key.pem")).unwrap(),
        ),
        base_url: sandbox.wechat_base_url(),
        notify_url: wechatpay::DEFAULT_NOTIFY_URL.into(),
    }
}

pub fn wechat(sandbox: &Sandbox) -> WechatClient {
    WechatClient::new(wechat_config(sandbox)).unwrap()
}

pub fn alipay_config(sandbox: &Sandbox) -> AlipayConfig {
    AlipayConfig {
        app_id: ALIPAY_APP_ID.into(),
        private_key: crypto::private_key(&fixture("alipay/app_private_key.pem")).unwrap(),
        alipay_public_key: crypto::public_key(&fixture("alipay/alipay_public_key.pem")).unwrap(),
        base_url: sandbox.alipay_base_url(),
    }
}

pub fn alipay(sandbox: &Sandbox) -> AlipayClient {
    AlipayClient::new(alipay_config(sandbox)).unwrap()
}

/// Asserts a channel refusal whose message mentions `needle`.
pub fn refused<T: std::fmt::Debug>(result: feedesk::Result<T>, needle: &str) {
    let err = result.expect_err("a forged or refused answer was accepted");
    assert_eq!(err.code(), feedesk::ErrorCode::Channel, "{err}");
    assert!(
        err.to_string().contains(needle),
        "expected '{needle}' in: {err}"
    );
}

/// The keyring under `service`, or `None` (and a note) where there is none — unless
/// FEEDESK_KEYRING_TESTS=1 says one is expected (tests/keyring-session.sh, `make test`, CI), in
/// which case its absence fails the test.
pub async fn keyring_or_skip(service: &str, test: &str) -> Option<SecretStore> {
    let store = SecretStore::new(service);
    match store.check().await {
        Ok(()) => Some(store),
        Err(e) if std::env::var("FEEDESK_KEYRING_TESTS").as_deref() != Ok("1") => {
            eprintln!("{test}: skipped, no keyring here ({e}); run under tests/keyring-session.sh");
            None
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}

/// The sandbox's WeChat Pay merchant, as an account's setup.
pub fn wechat_setup(sandbox: &Sandbox) -> ChannelSetup {
    ChannelSetup::Wechat(WechatSetup {
        mch_id: MCH_ID.into(),
        appid: APPID.into(),
        cert_serial: MERCHANT_SERIAL.into(),
        private_key_pem: Sensitive::new(fixture("wechatpay/merchant_private_key.pem")),
        apiv3_key: Sensitive::new(APIV3_KEY.into()),
        platform_public_key_pem: fixture("wechatpay/wechat_pay_public_key.pem"),
        platform_key_id: PLATFORM_SERIAL.into(),
        base_url: Some(sandbox.wechat_base_url()),
    })
}

/// The sandbox's Alipay app, as an account's setup.
pub fn alipay_setup(sandbox: &Sandbox) -> ChannelSetup {
    ChannelSetup::Alipay(AlipaySetup {
        app_id: ALIPAY_APP_ID.into(),
        private_key_pem: Sensitive::new(fixture("alipay/app_private_key.pem")),
        alipay_public_key_pem: fixture("alipay/alipay_public_key.pem"),
        base_url: Some(sandbox.alipay_base_url()),
    })
}
