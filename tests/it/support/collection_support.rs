//! The channel set-up the collection and reconciliation tests share: XH's WeChat Pay account
//! and HQ's Alipay account (central collection) at the in-process sandbox, and the two plans
//! that collect into them. Included next to `billing_support` and `channels_support`.

use feedesk::FeeDesk;
use feedesk::billing;
use feedesk::channels::accounts::add_channel_account;
use feedesk::channels::sandbox::Sandbox;
use feedesk::secrets::SecretStore;

use super::billing_support::{class, fee, plan, plan_req};
use super::channels_support::{alipay_setup, sandbox_config, wechat_setup};

/// XH's WeChat Pay account.
pub const WECHAT: &str = "西湖微信";
/// HQ's Alipay account, which collects for every store (central collection).
pub const ALIPAY: &str = "集团支付宝";

/// Starts a sandbox and adds the two channel accounts, their secrets in `secrets`.
pub async fn channel_accounts(desk: &FeeDesk, secrets: &SecretStore) -> Sandbox {
    let sandbox = Sandbox::start(sandbox_config(), 0).await.unwrap();
    add_channel_account(desk, secrets, "XH", WECHAT, wechat_setup(&sandbox))
        .await
        .unwrap();
    add_channel_account(desk, secrets, "HQ", ALIPAY, alipay_setup(&sandbox))
        .await
        .unwrap();
    sandbox
}

/// Issues the two channel plans to class 一班: XH 学费 fixed 2800 into WeChat Pay, BJ 学费
/// fixed 1500.50 into HQ's Alipay. Returns (wechat plan id, alipay plan id).
pub async fn channel_plans(desk: &FeeDesk) -> (i64, i64) {
    fee(desk, "XH", "学费").await;
    fee(desk, "BJ", "学费").await;
    let wechat = plan(
        desk,
        plan_req("XH/学费", class("一班"), "fixed:2800", WECHAT),
    )
    .await;
    let alipay = plan(
        desk,
        plan_req("BJ/学费", class("一班"), "fixed:1500.50", ALIPAY),
    )
    .await;
    billing::issue_plan(desk, wechat.id).await.unwrap();
    billing::issue_plan(desk, alipay.id).await.unwrap();
    (wechat.id, alipay.id)
}
