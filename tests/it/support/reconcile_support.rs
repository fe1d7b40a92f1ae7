//! Statement fixtures written in the tests, to the formats docs/cli.md documents ("Payment
//! channels"): a WeChat Pay trade bill (UTF-8, backticks, summary rows) and an Alipay
//! business-detail bill (GBK CSV with `#` lines, zipped with its 汇总 companion, GBK names).

use std::io::Write;

/// A payment or refund line to write.
#[derive(Debug, Clone)]
pub struct Line {
    pub time: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// Empty for a payment.
    pub out_refund_no: String,
    pub amount_fen: i64,
    /// Fee charged (payment) or returned (refund), in fen, positive.
    pub fee_fen: i64,
    /// A refund still processing at the channel.
    pub processing: bool,
}

impl Line {
    pub fn pay(time: &str, txn: &str, order: &str, fen: i64) -> Line {
        Line {
            time: time.into(),
            transaction_id: txn.into(),
            out_trade_no: order.into(),
            out_refund_no: String::new(),
            amount_fen: fen,
            fee_fen: fee(fen),
            processing: false,
        }
    }

    pub fn refund(time: &str, txn: &str, order: &str, refund_no: &str, fen: i64) -> Line {
        Line {
            out_refund_no: refund_no.into(),
            ..Line::pay(time, txn, order, fen)
        }
    }

    fn is_refund(&self) -> bool {
        !self.out_refund_no.is_empty()
    }
}

/// 0.6%, half up to the fen.
pub fn fee(fen: i64) -> i64 {
    (fen * 6 + 500) / 1000
}

pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

pub const WECHAT_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

/// A WeChat Pay `ALL` trade bill of `lines` for merchant `mch_id`.
pub fn wechat_bill(mch_id: &str, lines: &[Line]) -> String {
    let mut out = format!("{WECHAT_HEADER}\r\n");
    let (mut settle, mut refunded, mut fees, mut ordered) = (0, 0, 0, 0);
    for l in lines {
        let row: Vec<String> = if l.is_refund() {
            refunded += l.amount_fen;
            fees -= l.fee_fen;
            vec![
                l.time.clone(),
                "wxd678efh567hg6787".into(),
                mch_id.into(),
                "0".into(),
                String::new(),
                l.transaction_id.clone(),
                l.out_trade_no.clone(),
                "oUser".into(),
                "NATIVE".into(),
                "REFUND".into(),
                "OTHERS".into(),
                "CNY".into(),
                "0.00".into(),
                "0.00".into(),
                format!("50{}", l.out_refund_no.len()),
                l.out_refund_no.clone(),
                yuan(l.amount_fen),
                "0.00".into(),
                "ORIGINAL".into(),
                if l.processing {
                    "PROCESSING"
                } else {
                    "SUCCESS"
                }
                .into(),
                "学费".into(),
                String::new(),
                format!("{}000", yuan(-l.fee_fen)),
                "0.60%".into(),
                "0.00".into(),
                yuan(l.amount_fen),
                String::new(),
            ]
        } else {
            settle += l.amount_fen;
            ordered += l.amount_fen;
            fees += l.fee_fen;
            vec![
                l.time.clone(),
                "wxd678efh567hg6787".into(),
                mch_id.into(),
                "0".into(),
                String::new(),
                l.transaction_id.clone(),
                l.out_trade_no.clone(),
                "oUser".into(),
                "NATIVE".into(),
                "SUCCESS".into(),
                "OTHERS".into(),
                "CNY".into(),
                yuan(l.amount_fen),
                "0.00".into(),
                "0".into(),
                "0".into(),
                "0.00".into(),
                "0.00".into(),
                String::new(),
                String::new(),
                "学费".into(),
                String::new(),
                format!("{}000", yuan(l.fee_fen)),
                "0.60%".into(),
                yuan(l.amount_fen),
                "0.00".into(),
                String::new(),
            ]
        };
        out.push_str(&backtick(&row));
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    out.push_str(&backtick(&[
        lines.len().to_string(),
        yuan(settle),
        yuan(refunded),
        "0.00".into(),
        format!("{}000", yuan(fees)),
        yuan(ordered),
        yuan(refunded),
    ]));
    out
}

fn backtick(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| format!("`{f}"))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

pub const ALIPAY_HEADER: &str = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";
const START: &str = "#-----------------------------------------业务明细列表----------------------------------------";
const END: &str = "#-----------------------------------------业务明细列表结束------------------------------------";

/// The Alipay business-detail CSV text (before GBK encoding).
pub fn alipay_detail(pid: &str, day: &str, lines: &[Line]) -> String {
    let mut out = String::new();
    out.push_str("#支付宝业务明细查询\r\n");
    out.push_str(&format!("#账号：[{pid}0156]\r\n"));
    out.push_str(&format!(
        "#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]\r\n"
    ));
    out.push_str(START);
    out.push_str("\r\n");
    out.push_str(ALIPAY_HEADER);
    out.push_str("\r\n");
    let (mut trades, mut refunds, mut trade_sum, mut refund_sum) = (0, 0, 0, 0);
    for l in lines {
        let (kind, amount, fee, no) = if l.is_refund() {
            refunds += 1;
            refund_sum -= l.amount_fen;
            ("退款", -l.amount_fen, l.fee_fen, l.out_refund_no.clone())
        } else {
            trades += 1;
            trade_sum += l.amount_fen;
            ("交易", l.amount_fen, -l.fee_fen, String::new())
        };
        let row = [
            format!("{}\t", l.transaction_id),
            format!("{}\t", l.out_trade_no),
            format!("{kind}\t"),
            "学费".into(),
            l.time.clone(),
            l.time.clone(),
            "\t".into(),
            "\t".into(),
            "\t".into(),
            "\t".into(),
            "159****0000\t".into(),
            yuan(amount),
            yuan(amount),
            "0.00".into(),
            "0.00".into(),
            "0.00".into(),
            "0.00".into(),
            "0.00".into(),
            String::new(),
            "0.00\t".into(),
            "0.00".into(),
            format!("{no}\t"),
            yuan(fee),
            "0.00".into(),
            String::new(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out.push_str(END);
    out.push_str("\r\n");
    out.push_str(&format!(
        "#交易合计：{trades}笔，商家实收共{}元，商家优惠共0.00元\r\n",
        yuan(trade_sum)
    ));
    out.push_str(&format!(
        "#退款合计：{refunds}笔，商家实收退款共{}元，商家优惠退款共0.00元\r\n",
        yuan(refund_sum)
    ));
    out.push_str("#导出时间：[2026年09月03日 09:00:00]\r\n");
    out
}

pub fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// The bill zip as Alipay delivers it: the detail CSV and its 汇总 companion, GBK names.
pub fn alipay_zip(pid: &str, day: &str, lines: &[Line]) -> Vec<u8> {
    let stem = format!("{pid}_{}", day.replace('-', ""));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in [
        (
            format!("{stem}_业务明细.csv"),
            alipay_detail(pid, day, lines),
        ),
        (
            format!("{stem}_业务明细(汇总).csv"),
            "#支付宝业务汇总查询\r\n".to_string(),
        ),
    ] {
        let raw = gbk(&name);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .name(&raw);
        zip.start_file_with_options(options).unwrap();
        zip.write_all(&gbk(&content)).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
