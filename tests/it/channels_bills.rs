//! The channels' daily bills against the in-process sandbox, over real HTTP with real RSA keys:
//! WeChat Pay's trade bill (signed application, unsigned download checked against its SHA1,
//! gzip or plain) and Alipay's business-detail bill (a zip of GBK CSVs), both made by the
//! sandbox from its own orders and refunds of one Beijing-time day, parsed here and compared
//! with those orders line by line; a tampered WeChat bill refused; and `feedesk bill-file
//! download` (needs the OS keyring: run under tests/keyring-session.sh, skipped elsewhere).

use crate::support::channels_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use channels_support::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use feedesk::channels::alipay::{
    AlipayClient, AlipayRefundRequest, PrecreateOrder, business_detail_csv, decode_gbk,
};
use feedesk::channels::crypto::fen_to_yuan;
use feedesk::channels::sandbox::bills::{
    ALIPAY_DETAIL_COLUMNS, WECHAT_ALL_COLUMNS, WECHAT_SUMMARY_COLUMNS, fee_fen,
};
use feedesk::channels::sandbox::{
    Fault, FaultRule, Sandbox, SandboxChannel, SandboxHandle, SandboxOrder, SandboxRefund,
};
use feedesk::channels::wechatpay::{NativeOrder, RefundRequest, WechatClient};
use feedesk::clock::{Clock, local_date};
use feedesk::secrets::SecretStore;

/// A clock the test moves; the sandbox and the clients share it.
#[derive(Clone)]
struct Manual(Arc<Mutex<DateTime<Utc>>>);

impl Manual {
    /// Beijing wall time `y-m-d h:mi`.
    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> Manual {
        let clock = Manual(Arc::new(Mutex::new(Utc::now())));
        clock.set(y, m, d, h, mi);
        clock
    }

    fn set(&self, y: i32, m: u32, d: u32, h: u32, mi: u32) {
        let beijing = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        *self.0.lock().unwrap() = beijing
            .with_ymd_and_hms(y, m, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc);
    }
}

impl Clock for Manual {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

const DAY: (i32, u32, u32) = (2026, 11, 22);

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap()
}

fn fault(fault: Fault) -> FaultRule {
    FaultRule {
        fault,
        times: 1,
        order: None,
    }
}

async fn wechat_order(client: &WechatClient, no: &str, fen: i64) {
    client
        .native_order(&NativeOrder {
            out_trade_no: no.into(),
            description: "学费 2026秋季学期, 一班".into(),
            total_fen: fen,
            time_expire: None,
        })
        .await
        .unwrap();
}

async fn wechat_refund(client: &WechatClient, no: &str, refund_no: &str, fen: i64, total: i64) {
    client
        .refund(&RefundRequest {
            out_trade_no: no.into(),
            out_refund_no: refund_no.into(),
            reason: Some("退课".into()),
            refund_fen: fen,
            total_fen: total,
        })
        .await
        .unwrap();
    // Settled from the first query on.
    client.query_refund(refund_no).await.unwrap().unwrap();
}

async fn alipay_order(client: &AlipayClient, no: &str, fen: i64) {
    client
        .precreate(&PrecreateOrder {
            out_trade_no: no.into(),
            subject: "教材费 2026秋季学期".into(),
            total_fen: fen,
            timeout_express: Some("2h".into()),
            time_expire: None,
        })
        .await
        .unwrap();
}

async fn alipay_refund(client: &AlipayClient, no: &str, request_no: &str, fen: i64) {
    client
        .refund(&AlipayRefundRequest {
            out_trade_no: no.into(),
            out_request_no: request_no.into(),
            refund_fen: fen,
            reason: Some("退课".into()),
        })
        .await
        .unwrap();
}

/// A day of business on both channels, with orders the evening before and the morning after
/// that must stay out of the day's bills.
async fn a_day_of_business(clock: &Manual, sandbox: &Sandbox) -> (WechatClient, AlipayClient) {
    let wechat = wechat(sandbox).with_clock(Arc::new(clock.clone()));
    let alipay = alipay(sandbox).with_clock(Arc::new(clock.clone()));
    let pay = |no: &str| sandbox.handle().pay(no).unwrap();
    let (y, m, d) = DAY;

    // The evening before: paid then, refunded (in full) on the day.
    clock.set(y, m, d - 1, 23, 50);
    wechat_order(&wechat, "FDW0000000001", 50_000).await;
    pay("FDW0000000001");
    alipay_order(&alipay, "FDA0000000001", 12_345).await;
    pay("FDA0000000001");

    // The day.
    clock.set(y, m, d, 0, 0);
    wechat_order(&wechat, "FDW0000000002", 888_800).await;
    clock.set(y, m, d, 9, 5);
    pay("FDW0000000002");
    wechat_order(&wechat, "FDW0000000003", 120_000).await;
    clock.set(y, m, d, 9, 30);
    pay("FDW0000000003");
    wechat_order(&wechat, "FDW0000000004", 30_000).await; // never paid
    wechat_order(&wechat, "FDW0000000005", 25).await; // a fee that rounds to nothing
    pay("FDW0000000005");
    wechat_order(&wechat, "FDW0000000006", 9_900).await;
    wechat.close("FDW0000000006").await.unwrap(); // closed unpaid
    clock.set(y, m, d, 11, 0);
    wechat_refund(&wechat, "FDW0000000003", "RFW0000000003", 30_000, 120_000).await;
    clock.set(y, m, d, 12, 0);
    wechat_refund(&wechat, "FDW0000000001", "RFW0000000001", 50_000, 50_000).await;

    clock.set(y, m, d, 10, 0);
    alipay_order(&alipay, "FDA0000000002", 36_800).await;
    pay("FDA0000000002");
    alipay_order(&alipay, "FDA0000000003", 100_000).await;
    clock.set(y, m, d, 10, 15);
    pay("FDA0000000003");
    alipay_order(&alipay, "FDA0000000004", 5_000).await; // never paid
    clock.set(y, m, d, 14, 0);
    alipay_refund(&alipay, "FDA0000000003", "RFA0000000003", 40_000).await;
    alipay_refund(&alipay, "FDA0000000001", "RFA0000000001", 12_345).await;
    clock.set(y, m, d, 23, 59);
    alipay_order(&alipay, "FDA0000000005", 777).await;
    pay("FDA0000000005");

    // The morning after: new business, then the bills are fetched.
    clock.set(y, m, d + 1, 0, 10);
    wechat_order(&wechat, "FDW0000000007", 70_000).await;
    pay("FDW0000000007");
    alipay_order(&alipay, "FDA0000000006", 70_000).await;
    pay("FDA0000000006");
    clock.set(y, m, d + 1, 10, 0);
    (wechat, alipay)
}

/// What a bill should say for `channel` on the day: the payments and refunds the sandbox holds.
struct Expected {
    payments: Vec<SandboxOrder>,
    refunds: Vec<(SandboxRefund, SandboxOrder)>,
}

fn expected(handle: &SandboxHandle, channel: SandboxChannel) -> Expected {
    let orders: Vec<SandboxOrder> = handle
        .orders()
        .into_iter()
        .filter(|o| o.channel == channel)
        .collect();
    let payments = orders
        .iter()
        .filter(|o| o.paid_at.is_some_and(|t| local_date(t) == day()))
        .cloned()
        .collect();
    let refunds = handle
        .refunds()
        .into_iter()
        .filter(|r| r.channel == channel && local_date(r.created_at) == day())
        .map(|r| {
            let order = orders
                .iter()
                .find(|o| o.out_trade_no == r.out_trade_no)
                .unwrap()
                .clone();
            (r, order)
        })
        .collect();
    Expected { payments, refunds }
}

/// WeChat Pay's bill parsed by header name: detail rows and the summary row, backticks off.
struct WechatBill {
    header: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
    summary_header: Vec<String>,
    summary: BTreeMap<String, String>,
}

fn parse_wechat(bytes: &[u8]) -> WechatBill {
    let text = std::str::from_utf8(bytes).expect("WeChat Pay's bill is UTF-8");
    assert!(text.ends_with("\r\n"), "lines end CRLF");
    let lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
    let field = |f: &str| {
        f.strip_prefix('`')
            .unwrap_or_else(|| panic!("field '{f}' has no backtick"))
            .to_string()
    };
    let summary_at = lines
        .iter()
        .position(|l| l.starts_with("总交易单数"))
        .expect("a summary header");
    assert_eq!(
        summary_at + 2,
        lines.len(),
        "the summary row is the last line"
    );
    let rows = lines[1..summary_at]
        .iter()
        .map(|l| {
            let fields: Vec<String> = l.split(',').map(field).collect();
            assert_eq!(fields.len(), header.len(), "{l}");
            header.iter().cloned().zip(fields).collect()
        })
        .collect();
    let summary_header: Vec<String> = lines[summary_at].split(',').map(str::to_string).collect();
    let summary = summary_header
        .iter()
        .cloned()
        .zip(lines[summary_at + 1].split(',').map(field))
        .collect();
    WechatBill {
        header,
        rows,
        summary_header,
        summary,
    }
}

fn fee5(fen: i64) -> String {
    format!("{}000", fen_to_yuan(fen))
}

#[tokio::test]
async fn the_wechat_trade_bill_lists_the_days_payments_and_refunds() {
    let clock = Manual::at(DAY.0, DAY.1, DAY.2, 0, 0);
    let sandbox = Sandbox::start_with_clock(sandbox_config(), 0, Arc::new(clock.clone()))
        .await
        .unwrap();
    let (client, _) = a_day_of_business(&clock, &sandbox).await;

    let bill = client.trade_bill(day()).await.unwrap();
    // Asked for plain instead of gzip: the very same bytes.
    assert_eq!(client.trade_bill_as(day(), false).await.unwrap(), bill);
    let parsed = parse_wechat(&bill);
    assert_eq!(parsed.header, WECHAT_ALL_COLUMNS);
    assert_eq!(parsed.summary_header, WECHAT_SUMMARY_COLUMNS);

    let want = expected(&sandbox.handle(), SandboxChannel::Wechat);
    let nos: Vec<&str> = want
        .payments
        .iter()
        .map(|o| o.out_trade_no.as_str())
        .collect();
    assert_eq!(nos, ["FDW0000000002", "FDW0000000003", "FDW0000000005"]);
    assert_eq!(want.refunds.len(), 2);
    assert_eq!(
        parsed.rows.len(),
        5,
        "3 payments and 2 refunds, nothing else"
    );

    let (mut settle, mut refunded, mut fees) = (0, 0, 0);
    for order in &want.payments {
        let row = parsed
            .rows
            .iter()
            .find(|r| r["商户订单号"] == order.out_trade_no && r["交易状态"] == "SUCCESS")
            .unwrap_or_else(|| panic!("no payment row for {}", order.out_trade_no));
        let fee = fee_fen(order.total_fen);
        assert_eq!(row["微信订单号"], order.transaction_id.clone().unwrap());
        assert_eq!(row["商户号"], MCH_ID);
        assert_eq!(row["公众账号ID"], APPID);
        assert_eq!(row["应结订单金额"], fen_to_yuan(order.total_fen));
        assert_eq!(row["订单金额"], fen_to_yuan(order.total_fen));
        assert_eq!(row["退款金额"], "0.00");
        assert_eq!(row["手续费"], fee5(fee));
        assert_eq!(row["费率"], "0.60%");
        assert_eq!(
            row["交易时间"],
            order
                .paid_at
                .unwrap()
                .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        );
        // Free text cannot break the unquoted CSV.
        assert_eq!(row["商品名称"], "学费 2026秋季学期， 一班");
        settle += order.total_fen;
        fees += fee;
    }
    for (refund, order) in &want.refunds {
        let row = parsed
            .rows
            .iter()
            .find(|r| r["商户退款单号"] == refund.out_refund_no)
            .unwrap_or_else(|| panic!("no refund row for {}", refund.out_refund_no));
        assert_eq!(row["交易状态"], "REFUND");
        assert_eq!(row["商户订单号"], order.out_trade_no);
        assert_eq!(row["微信订单号"], order.transaction_id.clone().unwrap());
        assert_eq!(row["微信退款单号"], refund.refund_id);
        assert_eq!(row["退款金额"], fen_to_yuan(refund.refund_fen));
        assert_eq!(row["申请退款金额"], fen_to_yuan(refund.refund_fen));
        assert_eq!(row["应结订单金额"], "0.00");
        assert_eq!(row["退款状态"], "SUCCESS");
        // The fee goes back in proportion.
        assert_eq!(row["手续费"], fee5(-fee_fen(refund.refund_fen)));
        refunded += refund.refund_fen;
        fees -= fee_fen(refund.refund_fen);
    }
    // FDW…5 (0.25 yuan) pays no fee; FDW…2 pays 0.6% rounded half up: 5332.8 fen -> 53.33.
    assert_eq!(
        parsed
            .rows
            .iter()
            .find(|r| r["商户订单号"] == "FDW0000000002")
            .unwrap()["手续费"],
        "53.33000"
    );
    assert_eq!(
        parsed
            .rows
            .iter()
            .find(|r| r["商户订单号"] == "FDW0000000005")
            .unwrap()["手续费"],
        "0.00000"
    );
    // The rows run in time order.
    let times: Vec<&String> = parsed.rows.iter().map(|r| &r["交易时间"]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // The summary adds up.
    let s = &parsed.summary;
    assert_eq!(s["总交易单数"], "5");
    assert_eq!(s["应结订单总金额"], fen_to_yuan(settle));
    assert_eq!(s["退款总金额"], fen_to_yuan(refunded));
    assert_eq!(s["充值券退款总金额"], "0.00");
    assert_eq!(s["手续费总金额"], fee5(fees));
    assert_eq!(s["订单总金额"], fen_to_yuan(settle));
    assert_eq!(s["申请退款总金额"], fen_to_yuan(refunded));
    assert_eq!(
        (settle, refunded, fees),
        (1_008_825, 80_000, 5333 + 720 - 180 - 300)
    );

    // A day without business has no bill, nor has a day to come.
    let none = client
        .trade_bill(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
        .await
        .unwrap_err();
    assert_eq!(none.code(), feedesk::ErrorCode::NotFound, "{none}");
    let future = client
        .trade_bill(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
        .await
        .unwrap_err();
    assert_eq!(future.code(), feedesk::ErrorCode::NotFound, "{future}");
    // The next day so far: only the morning's payment.
    let next = parse_wechat(&client.trade_bill(day().succ_opt().unwrap()).await.unwrap());
    assert_eq!(next.rows.len(), 1);
    assert_eq!(next.rows[0]["商户订单号"], "FDW0000000007");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_tampered_or_forged_wechat_bill_is_refused() {
    let clock = Manual::at(DAY.0, DAY.1, DAY.2, 0, 0);
    let sandbox = Sandbox::start_with_clock(sandbox_config(), 0, Arc::new(clock.clone()))
        .await
        .unwrap();
    let (client, _) = a_day_of_business(&clock, &sandbox).await;
    let honest = client.trade_bill(day()).await.unwrap();

    // One amount altered on the way, gzipped or plain: the SHA1 no longer matches.
    for gzip in [true, false] {
        sandbox.handle().inject(fault(Fault::TamperBill));
        // An API answer in between leaves the tampering for the file.
        client.query("FDW0000000002").await.unwrap().unwrap();
        let err = client.trade_bill_as(day(), gzip).await.unwrap_err();
        assert_eq!(err.code(), feedesk::ErrorCode::Channel, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("SHA1") && message.contains("altered"),
            "{message}"
        );
        assert!(message.contains(&feedesk::channels::bills::sha1_hex(&honest)));
    }
    // Used up: the next download is whole again.
    assert_eq!(client.trade_bill(day()).await.unwrap(), honest);

    // A forged application (bad signature, unknown key, unsigned) is refused before any file.
    for (f, needle) in [
        (Fault::BadSignature, "signature"),
        (Fault::UnknownSerial, "not know"),
        (Fault::Unsigned, "no Wechatpay-Signature"),
    ] {
        sandbox.handle().inject(fault(f));
        refused(client.trade_bill(day()).await, needle);
    }
    assert_eq!(client.trade_bill(day()).await.unwrap(), honest);
    sandbox.shutdown().await;
}

/// The detail block of an Alipay bill: `#` lines before and after, rows by header name.
struct AlipayBill {
    comments_before: Vec<String>,
    header: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
    comments_after: Vec<String>,
}

fn parse_alipay(text: &str) -> AlipayBill {
    let lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with('#') && l.contains("业务明细列表") && !l.contains("结束"))
        .expect("a start marker");
    let end = lines
        .iter()
        .position(|l| l.starts_with('#') && l.contains("业务明细列表结束"))
        .expect("an end marker");
    let header: Vec<String> = lines[start + 1].split(',').map(str::to_string).collect();
    let rows = lines[start + 2..end]
        .iter()
        .map(|l| {
            let fields: Vec<String> = l.split(',').map(|f| f.trim().to_string()).collect();
            assert_eq!(fields.len(), header.len(), "{l}");
            header.iter().cloned().zip(fields).collect()
        })
        .collect();
    AlipayBill {
        comments_before: lines[..=start].iter().map(|l| l.to_string()).collect(),
        header,
        rows,
        comments_after: lines[end..].iter().map(|l| l.to_string()).collect(),
    }
}

#[tokio::test]
async fn the_alipay_business_detail_bill_is_a_zip_of_gbk_csvs() {
    let clock = Manual::at(DAY.0, DAY.1, DAY.2, 0, 0);
    let sandbox = Sandbox::start_with_clock(sandbox_config(), 0, Arc::new(clock.clone()))
        .await
        .unwrap();
    let (_, client) = a_day_of_business(&clock, &sandbox).await;

    let url = client.bill_download_url(day()).await.unwrap();
    assert!(
        url.starts_with(&format!(
            "http://{}/downloadBillFile.resource?",
            sandbox.addr()
        )),
        "{url}"
    );
    assert!(url.contains("bizType=trade") && url.contains("bizDates=20261122"));
    let zip = client.download_bill(&url).await.unwrap();
    assert!(zip.starts_with(b"PK\x03\x04"));
    assert_eq!(client.trade_bill(day()).await.unwrap().len(), zip.len());

    // Two GBK CSVs, their names GBK too (no UTF-8 flag), as Alipay packs them.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&zip)).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let raw = archive.by_index(i).unwrap().name_raw().to_vec();
        assert!(std::str::from_utf8(&raw).is_err(), "names are GBK");
        names.push(decode_gbk(&raw).unwrap());
    }
    assert_eq!(
        names,
        [
            "2088000000000001_20261122_业务明细.csv",
            "2088000000000001_20261122_业务明细(汇总).csv"
        ]
    );

    let csv = business_detail_csv(&zip).unwrap();
    assert_eq!(csv.name, names[0]);
    assert!(
        std::str::from_utf8(&csv.gbk).is_err(),
        "GBK, not UTF-8, as delivered"
    );
    let text = csv.text().unwrap();
    assert_eq!(decode_gbk(&csv.gbk).unwrap(), text);
    let bill = parse_alipay(&text);
    assert_eq!(bill.header, ALIPAY_DETAIL_COLUMNS);
    assert_eq!(
        bill.comments_before,
        [
            "#支付宝业务明细查询",
            "#账号：[20880000000000010156]",
            "#起始日期：[2026年11月22日 00:00:00]   终止日期：[2026年11月23日 00:00:00]",
            "#-----------------------------------------业务明细列表----------------------------------------",
        ]
    );

    let want = expected(&sandbox.handle(), SandboxChannel::Alipay);
    let nos: Vec<&str> = want
        .payments
        .iter()
        .map(|o| o.out_trade_no.as_str())
        .collect();
    assert_eq!(nos, ["FDA0000000002", "FDA0000000003", "FDA0000000005"]);
    assert_eq!(bill.rows.len(), 5, "3 payments and 2 refunds");
    let (mut received, mut refunded, mut fees) = (0, 0, 0);
    for order in &want.payments {
        let row = bill
            .rows
            .iter()
            .find(|r| r["商户订单号"] == order.out_trade_no && r["业务类型"] == "交易")
            .unwrap_or_else(|| panic!("no trade row for {}", order.out_trade_no));
        assert_eq!(row["支付宝交易号"], order.transaction_id.clone().unwrap());
        assert_eq!(row["订单金额（元）"], fen_to_yuan(order.total_fen));
        assert_eq!(row["商家实收（元）"], fen_to_yuan(order.total_fen));
        assert_eq!(row["服务费（元）"], fen_to_yuan(-fee_fen(order.total_fen)));
        assert_eq!(row["退款批次号/请求号"], "");
        assert_eq!(row["商品名称"], "教材费 2026秋季学期");
        received += order.total_fen;
        fees -= fee_fen(order.total_fen);
    }
    for (refund, order) in &want.refunds {
        let row = bill
            .rows
            .iter()
            .find(|r| r["退款批次号/请求号"] == refund.out_refund_no)
            .unwrap_or_else(|| panic!("no refund row for {}", refund.out_refund_no));
        assert_eq!(row["业务类型"], "退款");
        assert_eq!(row["商户订单号"], order.out_trade_no);
        assert_eq!(row["支付宝交易号"], order.transaction_id.clone().unwrap());
        assert_eq!(row["商家实收（元）"], fen_to_yuan(-refund.refund_fen));
        assert_eq!(row["服务费（元）"], fen_to_yuan(fee_fen(refund.refund_fen)));
        refunded += refund.refund_fen;
        fees += fee_fen(refund.refund_fen);
    }
    assert_eq!((received, refunded), (137_577, 52_345));
    assert_eq!(fees, -(221 + 600 + 5) + 240 + 74);
    assert_eq!(
        &bill.comments_after[..3],
        [
            "#-----------------------------------------业务明细列表结束------------------------------------",
            "#交易合计：3笔，商家实收共1375.77元，商家优惠共0.00元",
            "#退款合计：2笔，商家实收退款共-523.45元，商家优惠退款共0.00元",
        ]
    );
    assert_eq!(
        bill.comments_after[3],
        "#导出时间：[2026年11月23日 10:00:00]"
    );
    assert_eq!(bill.comments_after.len(), 4);

    // A day to come has no bill; a stale or made-up link gives no zip.
    let future = client
        .bill_download_url(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
        .await
        .unwrap_err();
    assert_eq!(future.code(), feedesk::ErrorCode::NotFound, "{future}");
    let made_up = url.replace("fileId=", "fileId=0");
    refused(client.download_bill(&made_up).await, "HTTP 404");
    clock.set(DAY.0, DAY.1, DAY.2 + 1, 10, 6);
    refused(client.download_bill(&url).await, "HTTP 404");
    // Anything but a business-detail CSV is not taken for one.
    let err = business_detail_csv(b"PK\x05\x06not really").unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::Channel);
    sandbox.shutdown().await;
}

// ---- `feedesk bill-file download` (needs the OS keyring) ----

const TEST_SERVICE: &str = "cn.feedesk.app.test";

fn feedesk(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("FEEDESK_KEYRING_SERVICE", TEST_SERVICE)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn keyring_available() -> bool {
    match SecretStore::new(TEST_SERVICE).check().await {
        Ok(()) => true,
        Err(e) if std::env::var("FEEDESK_KEYRING_TESTS").as_deref() != Ok("1") => {
            eprintln!("skipped: no keyring here ({e}); run under tests/keyring-session.sh");
            false
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}

fn fixture_path(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

// Multi-threaded: the in-process sandbox answers while the test waits for the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bill_file_download_writes_the_checked_csv() {
    if !keyring_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sandbox = sandbox().await;
    let today = local_date(Utc::now()).format("%Y-%m-%d").to_string();
    ok(&feedesk(&data, &["init", "--name", "星火教育"]));
    let apiv3 = dir.path().join("apiv3.txt");
    std::fs::write(&apiv3, APIV3_KEY).unwrap();
    ok(&feedesk(
        &data,
        &[
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "wechat",
            "--name",
            "微信收款",
            "--mch-id",
            MCH_ID,
            "--appid",
            APPID,
            "--cert-serial",
            MERCHANT_SERIAL,
            "--private-key-file",
            &fixture_path("wechatpay/merchant_private_key.pem"),
            "--apiv3-key-file",
            apiv3.to_str().unwrap(),
            "--platform-public-key-file",
            &fixture_path("wechatpay/wechat_pay_public_key.pem"),
            "--platform-key-id",
            PLATFORM_SERIAL,
            "--base-url",
            &sandbox.wechat_base_url(),
        ],
    ));
    ok(&feedesk(
        &data,
        &[
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "alipay",
            "--name",
            "支付宝收款",
            "--app-id",
            ALIPAY_APP_ID,
            "--private-key-file",
            &fixture_path("alipay/app_private_key.pem"),
            "--alipay-public-key-file",
            &fixture_path("alipay/alipay_public_key.pem"),
            "--base-url",
            &sandbox.alipay_base_url(),
        ],
    ));
    let w = wechat(&sandbox);
    let a = alipay(&sandbox);
    wechat_order(&w, "FDC0000000001", 66_600).await;
    sandbox.handle().pay("FDC0000000001").unwrap();
    wechat_refund(&w, "FDC0000000001", "RFC0000000001", 6_600, 66_600).await;
    alipay_order(&a, "FDC0000000002", 45_600).await;
    sandbox.handle().pay("FDC0000000002").unwrap();

    let out = dir.path().join("wechat.csv");
    let printed = ok(&feedesk(
        &data,
        &[
            "--json",
            "bill-file",
            "download",
            "--account",
            "微信收款",
            "--date",
            &today,
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let printed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let written = std::fs::read(&out).unwrap();
    assert_eq!(printed["channel"], "wechat");
    assert_eq!(printed["kind"], "wechat-trade-all");
    assert_eq!(printed["encoding"], "UTF-8");
    assert_eq!(printed["bytes"], written.len());
    assert_eq!(printed["file"], out.to_str().unwrap());
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&written))
    };
    assert_eq!(printed["sha256"], sha256);
    let parsed = parse_wechat(&written);
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(parsed.rows[0]["应结订单金额"], "666.00");
    assert_eq!(parsed.rows[1]["退款金额"], "66.00");

    // Tampered on the way: refused in one line, and no file written.
    sandbox.handle().inject(fault(Fault::TamperBill));
    let bad = dir.path().join("tampered.csv");
    let refused = feedesk(
        &data,
        &[
            "bill-file",
            "download",
            "--account",
            "微信收款",
            "--date",
            &today,
            "--out",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("SHA1"), "{err}");
    assert!(!bad.exists() && !dir.path().join("tampered.csv.part").exists());

    let out = dir.path().join("alipay.csv");
    let said = ok(&feedesk(
        &data,
        &[
            "bill-file",
            "download",
            "--account",
            "支付宝收款",
            "--date",
            &today,
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert!(
        said.contains("业务明细.csv") && said.contains("GBK"),
        "{said}"
    );
    let written = std::fs::read(&out).unwrap();
    let text = decode_gbk(&written).expect("GBK as delivered");
    assert!(text.starts_with("#支付宝业务明细查询\r\n"), "{text}");
    let bill = parse_alipay(&text);
    assert_eq!(bill.rows.len(), 1);
    assert_eq!(bill.rows[0]["商户订单号"], "FDC0000000002");
    assert_eq!(bill.rows[0]["商家实收（元）"], "456.00");
    assert_eq!(bill.rows[0]["服务费（元）"], "-2.74");

    // The keys go back out of the keyring.
    let desk = feedesk::FeeDesk::open(&data).await.unwrap();
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT secret_ref FROM collection_accounts WHERE secret_ref IS NOT NULL",
    )
    .fetch_all(desk.db().pool())
    .await
    .unwrap();
    desk.db().clone().close().await;
    let store = SecretStore::new(TEST_SERVICE);
    for r in refs {
        store
            .delete(&feedesk::secrets::SecretRef::parse(&r).unwrap())
            .await
            .unwrap();
    }
    sandbox.shutdown().await;
}
