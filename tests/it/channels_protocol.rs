//! The channel protocols without a network: WeChat Pay v3 against the official SDK's vectors
//! (tests/fixtures/wechatpay, see its README) and signatures made by OpenSSL, an independent
//! implementation (tests/fixtures/openssl-signatures.json); Alipay's RSA2 signing and answer
//! verification. Every forgery is refused.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use feedesk::ErrorCode;
use feedesk::channels::alipay;
use feedesk::channels::crypto;
use feedesk::channels::wechatpay::{
    self, ApiV3Key, Authorization, CertificateList, PlatformKeys, SignedHeaders,
};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn openssl_vector(name: &str) -> (String, String, String) {
    let all: serde_json::Value = serde_json::from_str(&fixture("openssl-signatures.json")).unwrap();
    let v = &all[name];
    (
        fixture(v["key"].as_str().unwrap()),
        v["message"].as_str().unwrap().to_string(),
        v["signature"].as_str().unwrap().to_string(),
    )
}

const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const MERCHANT_SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";
const PLATFORM_SERIAL: &str = "440024045C4A427599D09BB4E3DE0279F2E813FD";

#[test]
fn certificates_give_the_official_serials_and_keys() {
    let merchant = crypto::certificate(&fixture("wechatpay/merchant_certificate.pem")).unwrap();
    assert_eq!(merchant.serial, MERCHANT_SERIAL);
    let platform = crypto::certificate(&fixture("wechatpay/wechat_pay_certificate.pem")).unwrap();
    assert_eq!(platform.serial, PLATFORM_SERIAL);
    // The platform public key file and the platform certificate hold the same key.
    let public = crypto::public_key(&fixture("wechatpay/wechat_pay_public_key.pem")).unwrap();
    assert_eq!(public, platform.public_key);
    assert_eq!(
        crypto::public_key(&fixture("wechatpay/wechat_pay_certificate.pem")).unwrap(),
        public
    );
    // And the merchant certificate holds the merchant private key's public half.
    let key = crypto::private_key(&fixture("wechatpay/merchant_private_key.pem")).unwrap();
    assert_eq!(rsa::RsaPublicKey::from(key.expose()), merchant.public_key);
    assert!(merchant.not_after > Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
}

#[test]
fn request_signatures_match_openssl_and_verify_with_the_merchant_certificate() {
    let (key_pem, message, expected) = openssl_vector("wechat_request");
    let key = crypto::private_key(&key_pem).unwrap();
    assert_eq!(crypto::sign(&key, message.as_bytes()), expected);
    let merchant = crypto::certificate(&fixture("wechatpay/merchant_certificate.pem")).unwrap();
    assert!(crypto::verify(
        &merchant.public_key,
        message.as_bytes(),
        &expected
    ));
    assert!(!crypto::verify(
        &merchant.public_key,
        b"another message",
        &expected
    ));

    // The Authorization header signs exactly METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n.
    let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109"}"#;
    let auth = Authorization::sign(
        "1230000109",
        MERCHANT_SERIAL,
        &key,
        "POST",
        "/v3/pay/transactions/native",
        body,
        1554208460,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
    );
    assert_eq!(auth.signature, expected);
    let header = auth.header();
    assert_eq!(
        header,
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"{expected}\",timestamp=\"1554208460\",serial_no=\"{MERCHANT_SERIAL}\""
        )
    );
    let parsed = Authorization::parse(&header).unwrap();
    assert_eq!(parsed, auth);
    assert!(parsed.verify(
        &merchant.public_key,
        "POST",
        "/v3/pay/transactions/native",
        body
    ));
    assert!(!parsed.verify(
        &merchant.public_key,
        "GET",
        "/v3/pay/transactions/native",
        body
    ));
    assert!(!parsed.verify(
        &merchant.public_key,
        "POST",
        "/v3/pay/transactions/native?x=1",
        body
    ));
    assert!(Authorization::parse("Bearer abc").is_err());
}

fn platform_keys() -> PlatformKeys {
    PlatformKeys::new().with(
        PLATFORM_SERIAL,
        crypto::public_key(&fixture("wechatpay/wechat_pay_public_key.pem")).unwrap(),
    )
}

#[test]
fn responses_verify_only_when_signed_fresh_and_by_a_known_key() {
    let (key_pem, message, expected) = openssl_vector("wechat_response");
    let platform_key = crypto::private_key(&key_pem).unwrap();
    let body = r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#;
    let signed = SignedHeaders::sign(
        PLATFORM_SERIAL,
        &platform_key,
        body,
        1554209980,
        "c5ac7061fccab6bf3e254dcf98995b8c",
    );
    assert_eq!(signed.signature, expected);
    assert_eq!(
        wechatpay::SignedHeaders {
            serial: PLATFORM_SERIAL.into(),
            signature: expected.clone(),
            timestamp: "1554209980".into(),
            nonce: "c5ac7061fccab6bf3e254dcf98995b8c".into()
        },
        signed
    );
    assert!(message.ends_with(&format!("{body}\n")));
    let keys = platform_keys();
    let at = |secs: i64| Utc.timestamp_opt(1554209980 + secs, 0).unwrap();
    signed.verify(&keys, body, at(0)).unwrap();
    signed.verify(&keys, body, at(300)).unwrap();
    signed.verify(&keys, body, at(-300)).unwrap();

    let refused = |result: feedesk::Result<()>, needle: &str| {
        let err = result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Channel);
        assert!(err.to_string().contains(needle), "{err}");
    };
    // Skew: more than 5 minutes either way.
    refused(signed.verify(&keys, body, at(301)), "clock");
    refused(signed.verify(&keys, body, at(-301)), "clock");
    // An altered body, an altered nonce, an altered timestamp.
    refused(
        signed.verify(&keys, &body.replace("p4lp", "p4lq"), at(0)),
        "signature",
    );
    let mut other = signed.clone();
    other.nonce = "c5ac7061fccab6bf3e254dcf98995b8d".into();
    refused(other.verify(&keys, body, at(0)), "signature");
    let mut other = signed.clone();
    other.timestamp = "1554209981".into();
    refused(other.verify(&keys, body, at(0)), "signature");
    // An unknown serial.
    let mut other = signed.clone();
    other.serial = "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC".into();
    refused(other.verify(&keys, body, at(0)), "does not know");
    // Signed by someone else (the merchant key), or not base64 at all.
    let merchant = crypto::private_key(&fixture("wechatpay/merchant_private_key.pem")).unwrap();
    let forged = SignedHeaders::sign(PLATFORM_SERIAL, &merchant, body, 1554209980, "n");
    refused(forged.verify(&keys, body, at(0)), "signature");
    let mut other = signed.clone();
    other.signature = "not base64!".into();
    refused(other.verify(&keys, body, at(0)), "signature");
    let mut other = signed;
    other.timestamp = "soon".into();
    refused(other.verify(&keys, body, at(0)), "timestamp");
}

#[test]
fn aead_aes_256_gcm_matches_the_official_vector() {
    let key = ApiV3Key::parse(APIV3_KEY).unwrap();
    assert_eq!(
        key.decrypt_text(
            "associatedData",
            "uluk4a9R25RW",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        )
        .unwrap(),
        "message"
    );
    assert_eq!(
        key.encrypt("associatedData", "uluk4a9R25RW", b"message")
            .unwrap(),
        "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
    );
    let zeros = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0u8; 128]);
    for (aad, nonce, ciphertext) in [
        (
            "bad-associatedData",
            "uluk4a9R25RW",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
        ),
        (
            "associatedData",
            "bad-4a9R25RW",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
        ),
        ("associatedData", "uluk4a9R25RW", zeros.as_str()),
        // One flipped bit in the ciphertext, and in the tag.
        (
            "associatedData",
            "uluk4a9R25RW",
            "vlwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
        ),
        (
            "associatedData",
            "uluk4a9R25RW",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwM=",
        ),
        (
            "associatedData",
            "short",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
        ),
        ("associatedData", "uluk4a9R25RW", "%%% not base64"),
    ] {
        let err = key.decrypt(aad, nonce, ciphertext).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Channel, "{aad} {nonce} {ciphertext}");
    }
    // Another merchant's key cannot read it.
    let other = ApiV3Key::parse("b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap();
    assert!(
        other
            .decrypt(
                "associatedData",
                "uluk4a9R25RW",
                "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
            )
            .is_err()
    );
    // The key must be exactly 32 characters, is shown only by a fingerprint (the first 8 hex
    // digits of its SHA-256, none of its characters), and never printed.
    assert_eq!(
        ApiV3Key::parse("short").unwrap_err().code(),
        ErrorCode::Validation
    );
    assert_eq!(key.hint(), "e4fb974a");
    assert!(!format!("{key:?}").contains("a7cde1"));
}

#[test]
fn downloaded_certificates_decrypt_to_the_official_serial() {
    let key = ApiV3Key::parse(APIV3_KEY).unwrap();
    let list: CertificateList =
        serde_json::from_str(&fixture("wechatpay/download_certificate_response.json")).unwrap();
    let certs = wechatpay::decrypt_certificates(&list, &key).unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial, "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC");
    assert!(certs[0].pem.contains("BEGIN CERTIFICATE"));
    assert_eq!(certs[0].expire_time, "2028-09-17T23:15:58+08:00");

    // Altered ciphertext: refused.
    let mut altered = list.clone();
    let c = &mut altered.data[0].encrypt_certificate.ciphertext;
    let flipped = if c.starts_with('M') { "N" } else { "M" };
    c.replace_range(0..1, flipped);
    let err = wechatpay::decrypt_certificates(&altered, &key).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Channel);
    // Altered associated data or nonce: refused.
    let mut altered = list.clone();
    altered.data[0].encrypt_certificate.associated_data = Some("certificatf".into());
    assert!(wechatpay::decrypt_certificates(&altered, &key).is_err());
    let mut altered = list.clone();
    altered.data[0].encrypt_certificate.nonce = "14b16c03dc1c".into();
    assert!(wechatpay::decrypt_certificates(&altered, &key).is_err());
    // A certificate listed under another serial: refused.
    let mut altered = list.clone();
    altered.data[0].serial_no = PLATFORM_SERIAL.into();
    let err = wechatpay::decrypt_certificates(&altered, &key).unwrap_err();
    assert!(err.to_string().contains("serial"), "{err}");
    // Another APIv3 key: refused.
    let other = ApiV3Key::parse("b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap();
    assert!(wechatpay::decrypt_certificates(&list, &other).is_err());
}

#[test]
fn keys_are_read_in_every_form_merchants_download() {
    let pkcs8 = crypto::private_key(&fixture("alipay/app_private_key.pem")).unwrap();
    let pkcs1 = crypto::private_key(&fixture("alipay/app_private_key_pkcs1.pem")).unwrap();
    let bare = crypto::private_key(&fixture("alipay/app_private_key.txt")).unwrap();
    assert_eq!(pkcs8.expose(), pkcs1.expose());
    assert_eq!(pkcs8.expose(), bare.expose());
    let spki = crypto::public_key(&fixture("alipay/alipay_public_key.pem")).unwrap();
    let bare = crypto::public_key(&fixture("alipay/alipay_public_key.txt")).unwrap();
    assert_eq!(spki, bare);
    for junk in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    ] {
        let err = crypto::private_key(junk).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation);
        assert!(crypto::public_key(junk).is_err());
    }
    // A refusal never quotes the key.
    let text = fixture("alipay/app_private_key.txt");
    let err = crypto::private_key(&text[..200]).unwrap_err();
    assert!(!err.to_string().contains(&text[10..40]));
    assert_eq!(format!("{pkcs8:?}"), "<redacted>");
}

fn alipay_params() -> BTreeMap<String, String> {
    [
        ("app_id", "2014072300007148"),
        ("method", "alipay.trade.precreate"),
        ("format", "JSON"),
        ("charset", "utf-8"),
        ("sign_type", "RSA2"),
        ("timestamp", "2026-11-22 16:00:00"),
        ("version", "1.0"),
        ("notify_url", ""),
        (
            "biz_content",
            r#"{"out_trade_no":"FD20261122000001","subject":"学费","total_amount":"88.88"}"#,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn alipay_signs_sorted_parameters_like_openssl() {
    let (key_pem, message, expected) = openssl_vector("alipay_request");
    let mut params = alipay_params();
    // Sorted by name, empty values and `sign` left out, raw (not URL-encoded).
    assert_eq!(alipay::sign_content(&params), message);
    let key = crypto::private_key(&key_pem).unwrap();
    let sign = alipay::sign_params(&params, &key);
    assert_eq!(sign, expected);
    // Bare base64 and PKCS#1 forms of the same key sign identically.
    let bare = crypto::private_key(&fixture("alipay/app_private_key.txt")).unwrap();
    assert_eq!(alipay::sign_params(&params, &bare), expected);
    params.insert("sign".into(), sign);
    let public = crypto::public_key(&fixture("alipay/app_public_key.pem")).unwrap();
    assert!(alipay::verify_params(&params, &public));
    params.insert("timestamp".into(), "2026-11-22 16:00:01".into());
    assert!(!alipay::verify_params(&params, &public));
}

#[test]
fn alipay_answers_are_verified_over_the_node_exactly_as_sent() {
    let alipay_key = crypto::private_key(&fixture("alipay/alipay_private_key.pem")).unwrap();
    let alipay_public = crypto::public_key(&fixture("alipay/alipay_public_key.pem")).unwrap();
    // Spacing and escapes inside the node are part of what is signed.
    let node = r#"{"code":"10000", "msg":"Success","out_trade_no":"FD1","qr_code":"https:\/\/qr.alipay.com\/bax1"}"#;
    let body = alipay::signed_body("alipay.trade.precreate", node, &alipay_key);
    let split = alipay::split_answer(&body, "alipay.trade.precreate").unwrap();
    assert_eq!(split.node, node);
    assert!(!split.is_error_node);
    assert!(crypto::verify(
        &alipay_public,
        split.node.as_bytes(),
        split.sign.as_deref().unwrap()
    ));
    // Re-serialising the node would change the bytes and break the signature.
    let reserialised =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(node).unwrap()).unwrap();
    assert!(!crypto::verify(
        &alipay_public,
        reserialised.as_bytes(),
        split.sign.as_deref().unwrap()
    ));
    // The error node is found too; a body without either is refused.
    let body = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}"#;
    let split = alipay::split_answer(body, "alipay.trade.query").unwrap();
    assert!(split.is_error_node && split.sign.is_none());
    assert!(alipay::split_answer(r#"{"other":{}}"#, "alipay.trade.query").is_err());
    assert!(alipay::split_answer("<html>", "alipay.trade.query").is_err());
    assert_eq!(
        alipay::response_node("alipay.trade.fastpay.refund.query"),
        "alipay_trade_fastpay_refund_query_response"
    );
}

#[test]
fn notifications_verify_then_decrypt() {
    let key = ApiV3Key::parse(APIV3_KEY).unwrap();
    let platform = crypto::private_key(&fixture("wechatpay/wechat_pay_private_key.pem")).unwrap();
    let transaction = r#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"FD202611220001","transaction_id":"4200000000202611220000000001","trade_state":"SUCCESS","amount":{"total":888800}}"#;
    let ciphertext = key
        .encrypt("transaction", "fGMMEYvrKr1W", transaction.as_bytes())
        .unwrap();
    let body = serde_json::json!({
        "id": "EV-2026112216000001", "create_time": "2026-11-22T16:00:00+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                      "ciphertext": ciphertext, "associated_data": "transaction", "nonce": "fGMMEYvrKr1W" }
    })
    .to_string();
    let now = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
    let headers = SignedHeaders::sign(
        PLATFORM_SERIAL,
        &platform,
        &body,
        now.timestamp(),
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    );
    let opened =
        wechatpay::open_notification(&platform_keys(), &key, &headers, &body, now).unwrap();
    assert_eq!(opened.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(opened.resource, transaction);

    // Altered ciphertext under a valid signature (a forger without the key re-signing is
    // impossible; this is the platform sending garbage): refused by the AEAD tag.
    let altered_body = body.replace(&ciphertext[..8], "AAAAAAAA");
    let resigned = SignedHeaders::sign(
        PLATFORM_SERIAL,
        &platform,
        &altered_body,
        now.timestamp(),
        "n2",
    );
    let err = wechatpay::open_notification(&platform_keys(), &key, &resigned, &altered_body, now)
        .unwrap_err();
    assert!(err.to_string().contains("ciphertext"), "{err}");
    // Altered body under the old signature, a late replay, an unknown key: refused.
    assert!(
        wechatpay::open_notification(&platform_keys(), &key, &headers, &altered_body, now).is_err()
    );
    let late = now + chrono::Duration::minutes(6);
    assert!(wechatpay::open_notification(&platform_keys(), &key, &headers, &body, late).is_err());
    assert!(
        wechatpay::open_notification(&PlatformKeys::new(), &key, &headers, &body, now).is_err()
    );
}
