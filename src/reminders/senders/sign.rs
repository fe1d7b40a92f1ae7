//! The providers' request signatures, exactly as they document them: Aliyun's RPC signature
//! (HMAC-SHA1 over the canonicalised query, API signature version 1.0) for Dysmsapi SendSms,
//! and DingTalk's robot signature (HMAC-SHA256 over `timestamp\nsecret`).

use base64::Engine;
use ring::hmac;

/// RFC 3986 percent-encoding as Aliyun specifies it: only `A-Z a-z 0-9 - _ . ~` stay as they
/// are; a space is `%20`, never `+`; UTF-8 bytes are encoded one by one in upper-case hex.
pub fn aliyun_percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonicalised query string: parameters sorted by name, names and values encoded.
pub fn aliyun_canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", aliyun_percent_encode(k), aliyun_percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `Signature` for an RPC request: Base64(HMAC-SHA1(secret + "&", METHOD&%2F&encode(query))).
pub fn aliyun_signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let string_to_sign = format!(
        "{method}&{}&{}",
        aliyun_percent_encode("/"),
        aliyun_percent_encode(&aliyun_canonical_query(params))
    );
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{secret}&").as_bytes(),
    );
    let tag = hmac::sign(&key, string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// DingTalk's `sign` for a robot with 加签: Base64(HMAC-SHA256(secret, "{ms}\n{secret}")),
/// not yet URL-encoded.
pub fn dingtalk_signature(timestamp_ms: i64, secret: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    /// The worked example of Aliyun's SMS API documentation (签名机制): AccessKeyId `testId`,
    /// secret `testSecret`, and its published result `zJDF+Lrzhj/ThnlvIToysFRq6t4=`
    /// (`zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D` in the URL).
    #[test]
    fn aliyun_documented_example() {
        let params = vec![
            p("AccessKeyId", "testId"),
            p("Action", "SendSms"),
            p("Format", "XML"),
            p("OutId", "123"),
            p("PhoneNumbers", "15300000001"),
            p("RegionId", "cn-hangzhou"),
            p("SignName", "阿里云短信测试专用"),
            p("SignatureMethod", "HMAC-SHA1"),
            p("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            p("SignatureVersion", "1.0"),
            p("TemplateCode", "SMS_71390007"),
            p("TemplateParam", "{\"customer\":\"test\"}"),
            p("Timestamp", "2017-07-12T02:42:19Z"),
            p("Version", "2017-05-25"),
        ];
        let sig = aliyun_signature("GET", &params, "testSecret");
        assert_eq!(sig, "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert_eq!(
            aliyun_percent_encode(&sig),
            "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D"
        );
    }

    #[test]
    fn encoding_follows_rfc3986() {
        assert_eq!(aliyun_percent_encode("a b*~"), "a%20b%2A~");
        assert_eq!(aliyun_percent_encode("张"), "%E5%BC%A0");
    }

    #[test]
    fn dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret() {
        // Recomputed independently: python3 -c "import hmac,hashlib,base64;
        // print(base64.b64encode(hmac.new(b'SECabc', b'1700000000000\nSECabc',
        // hashlib.sha256).digest()).decode())"
        assert_eq!(
            dingtalk_signature(1_700_000_000_000, "SECabc"),
            "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM="
        );
    }
}
