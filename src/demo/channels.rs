//! The demo's channel collection: two sandbox accounts for 西湖校区 (WeChat Pay and Alipay), an
//! exam-fee plan into each, QR-code orders for every bill, most of them paid at the built-in
//! sandbox, settled into payments by the real sync, and one refund through the channel. The
//! sandbox's keys stay in `<data>/sandbox`, its port is 18930 when free, so
//! `feedesk sandbox serve --port 18930` brings the demo's channels back later.
//!
//! The accounts' keys go to the OS keyring like any account's; without a keyring this part is
//! skipped and the report says why.

use serde::Serialize;

use crate::billing::{self, BillFilter, PlanRequest, PlanTarget, RefundRequest};
use crate::channels::accounts::{AlipaySetup, ChannelSetup, WechatSetup, add_channel_account};
use crate::channels::sandbox::{self, Sandbox};
use crate::collection;
use crate::money::Money;
use crate::secrets::{SecretStore, Sensitive};
use crate::{Error, FeeDesk, Result};

/// The port the demo's sandbox listens on when it is free.
pub const SANDBOX_PORT: u16 = 18930;

/// What the demo collected through the channels.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoChannels {
    /// Why this part was skipped (no keyring), if it was.
    pub skipped: Option<String>,
    pub orders: u64,
    pub paid: u64,
    pub refunded_via_channel: u64,
    pub sandbox: Option<String>,
}

pub async fn build(desk: &FeeDesk) -> Result<DemoChannels> {
    let secrets = SecretStore::from_env();
    if let Err(e) = secrets.check().await {
        return Ok(DemoChannels {
            skipped: Some(e.to_string()),
            ..Default::default()
        });
    }
    let dir = desk.data_dir().join("sandbox");
    let keys_dir = dir.clone();
    let (config, ids) =
        tokio::task::spawn_blocking(move || sandbox::keys::load_or_create(&keys_dir))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
    let server = match Sandbox::start(config.clone(), SANDBOX_PORT).await {
        Ok(s) => s,
        Err(_) => Sandbox::start(config, 0).await?,
    };
    let result = collect_some(desk, &secrets, &server, &dir, &ids).await;
    let address = server.addr().to_string();
    server.shutdown().await;
    let mut report = result?;
    report.sandbox = Some(address);
    Ok(report)
}

fn read(dir: &std::path::Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))
}

async fn collect_some(
    desk: &FeeDesk,
    secrets: &SecretStore,
    server: &Sandbox,
    dir: &std::path::Path,
    ids: &sandbox::keys::SandboxIds,
) -> Result<DemoChannels> {
    let wechat = add_channel_account(
        desk,
        secrets,
        "XH",
        "西湖微信支付(沙箱)",
        ChannelSetup::Wechat(WechatSetup {
            mch_id: ids.wechat_mch_id.clone(),
            appid: ids.wechat_appid.clone(),
            cert_serial: ids.wechat_cert_serial.clone(),
            private_key_pem: Sensitive::new(read(dir, "wechat/merchant_private_key.pem")?),
            apiv3_key: Sensitive::new(read(dir, "wechat/apiv3_key.txt")?.trim().to_string()),
            platform_public_key_pem: read(dir, "wechat/platform_public_key.pem")?,
            platform_key_id: ids.wechat_platform_key_id.clone(),
            base_url: Some(server.wechat_base_url()),
        }),
    )
    .await?;
    let alipay = add_channel_account(
        desk,
        secrets,
        "XH",
        "西湖支付宝(沙箱)",
        ChannelSetup::Alipay(AlipaySetup {
            app_id: ids.alipay_app_id.clone(),
            private_key_pem: Sensitive::new(read(dir, "alipay/app_private_key.pem")?),
            alipay_public_key_pem: read(dir, "alipay/alipay_public_key.pem")?,
            base_url: Some(server.alipay_base_url()),
        }),
    )
    .await?;
    billing::add_fee(desk, "XH", "考级报名费").await?;
    let due = crate::clock::local_date(desk.clock().now()) + chrono::Duration::days(14);
    let mut plans = vec![];
    for (class, rule, account) in [
        ("XH/钢琴启蒙班", "fixed:280", &wechat.account.name),
        ("XH/英语口语班", "fixed:150", &alipay.account.name),
    ] {
        let plan = billing::add_plan(
            desk,
            &PlanRequest {
                fee: "XH/考级报名费".into(),
                target: PlanTarget::Class(class.into()),
                rule: rule.into(),
                due_on: due,
                allow_partial: false,
                account: account.clone(),
                discounts: vec![],
            },
        )
        .await?;
        billing::issue_plan(desk, plan.id).await?;
        plans.push(plan.id);
    }
    let handle = server.handle();
    let mut report = DemoChannels::default();
    for plan in plans {
        let bills = billing::list_bills(
            desk,
            &BillFilter {
                plan_id: Some(plan),
                ..Default::default()
            },
        )
        .await?;
        for (n, bill) in bills.iter().enumerate() {
            let order = collection::collect(desk, secrets, bill.id).await?;
            report.orders += 1;
            // Most families scan and pay; a few have not yet.
            if n % 4 != 3 {
                handle.pay(&order.order_no)?;
            }
        }
    }
    let sync = collection::sync_orders(desk, secrets).await?;
    report.paid = sync.paid;
    // A family cancels the exam: part of the fee goes back through WeChat Pay.
    let paid_orders = collection::list_orders(desk, None).await?;
    if let Some(payment_id) = paid_orders
        .iter()
        .rev()
        .find(|o| o.status == "paid" && o.channel == "wechat")
        .and_then(|o| o.payment_id)
    {
        collection::refund_via_channel(
            desk,
            secrets,
            &RefundRequest {
                payment_id,
                amount: Money::from_fen(8_000)?,
                reason: "考级取消，退还部分报名费".into(),
                key: format!("demo-channel-refund-{payment_id}"),
            },
        )
        .await?;
        report.refunded_via_channel += 1;
    }
    Ok(report)
}
