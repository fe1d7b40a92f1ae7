//! The cryptography both channels share: RSA keys read from what merchants download (PEM,
//! PKCS#8 or PKCS#1, certificates, or Alipay's bare base64), and SHA256withRSA (RSASSA-PKCS1-v1_5)
//! signatures in base64. Pure Rust (RustCrypto).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::rand_core::OsRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use x509_cert::der::{DecodePem, Encode};

use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The smallest RSA modulus either channel accepts.
const MIN_BITS: usize = 2048;

/// A merchant's RSA private key, from PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`) or bare base64
/// DER (as Alipay's key tool writes it). The error never quotes the input.
pub fn private_key(text: &str) -> Result<Sensitive<RsaPrivateKey>> {
    let text = text.trim();
    let key = if text.contains("-----BEGIN") {
        RsaPrivateKey::from_pkcs8_pem(text)
            .ok()
            .or_else(|| RsaPrivateKey::from_pkcs1_pem(text).ok())
    } else {
        bare_der(text).and_then(|der| {
            RsaPrivateKey::from_pkcs8_der(&der)
                .ok()
                .or_else(|| RsaPrivateKey::from_pkcs1_der(&der).ok())
        })
    };
    let key = key.ok_or_else(|| {
        Error::Validation(
            "the private key is not an RSA private key in PEM (PKCS#8 or PKCS#1) or base64".into(),
        )
    })?;
    if key.size() * 8 < MIN_BITS {
        return Err(Error::Validation(format!(
            "the private key is {} bits; the channels require at least {MIN_BITS}",
            key.size() * 8
        )));
    }
    Ok(Sensitive::new(key))
}

/// An RSA public key from PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`), a certificate (`CERTIFICATE`),
/// or bare base64 DER of a `SubjectPublicKeyInfo` (as Alipay shows its public key).
pub fn public_key(text: &str) -> Result<RsaPublicKey> {
    let text = text.trim();
    let key = if text.contains("-----BEGIN CERTIFICATE") {
        Some(certificate(text)?.public_key)
    } else if text.contains("-----BEGIN") {
        RsaPublicKey::from_public_key_pem(text)
            .ok()
            .or_else(|| RsaPublicKey::from_pkcs1_pem(text).ok())
    } else {
        bare_der(text).and_then(|der| {
            RsaPublicKey::from_public_key_der(&der)
                .ok()
                .or_else(|| RsaPublicKey::from_pkcs1_der(&der).ok())
        })
    };
    let key = key.ok_or_else(|| {
        Error::Validation(
            "the public key is not an RSA public key or certificate in PEM or base64".into(),
        )
    })?;
    if key.size() * 8 < MIN_BITS {
        return Err(Error::Validation(format!(
            "the public key is {} bits; the channels require at least {MIN_BITS}",
            key.size() * 8
        )));
    }
    Ok(key)
}

fn bare_der(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact).ok()
}

/// What FeeDesk needs from an X.509 certificate.
#[derive(Debug, Clone)]
pub struct CertificateInfo {
    /// The serial number in uppercase hex, as WeChat Pay writes it (`Wechatpay-Serial`).
    pub serial: String,
    pub public_key: RsaPublicKey,
    /// The last moment the certificate is valid, in UTC.
    pub not_after: chrono::DateTime<chrono::Utc>,
}

/// Reads a PEM certificate: its serial, RSA public key and expiry.
pub fn certificate(pem: &str) -> Result<CertificateInfo> {
    let bad = |what: &str| Error::Validation(format!("the certificate cannot be used: {what}"));
    let cert = x509_cert::Certificate::from_pem(pem.trim().as_bytes())
        .map_err(|_| bad("it is not a PEM X.509 certificate"))?;
    let tbs = &cert.tbs_certificate;
    let serial_bytes = tbs.serial_number.as_bytes();
    let trimmed = match serial_bytes.iter().position(|b| *b != 0) {
        Some(i) => &serial_bytes[i..],
        None => serial_bytes,
    };
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|_| bad("its public key cannot be read"))?;
    let public_key =
        RsaPublicKey::from_public_key_der(&spki).map_err(|_| bad("its key is not RSA"))?;
    let not_after = chrono::DateTime::<chrono::Utc>::from(tbs.validity.not_after.to_system_time());
    Ok(CertificateInfo {
        serial: hex::encode_upper(trimmed),
        public_key,
        not_after,
    })
}

/// SHA256withRSA (PKCS#1 v1.5) over `message`, base64. Blinded with OS randomness.
pub fn sign(key: &Sensitive<RsaPrivateKey>, message: &[u8]) -> String {
    let signer = SigningKey::<Sha256>::new(key.expose().clone());
    let signature = signer.sign_with_rng(&mut OsRng, message);
    B64.encode(signature.to_bytes())
}

/// Whether `signature` (base64) is a SHA256withRSA signature of `message` by `key`.
pub fn verify(key: &RsaPublicKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = B64.decode(signature.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message, &signature)
        .is_ok()
}

/// A random nonce: `n` bytes as uppercase hex (32 characters for 16 bytes).
pub fn nonce(n: usize) -> String {
    crate::secrets::random_hex(n).to_uppercase()
}

/// Integer fen to a yuan string with two decimals (`8888` -> `88.88`), as Alipay wants it.
pub fn fen_to_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A yuan string with at most two decimals (`88.88`, `88.8`, `88`) to integer fen; anything
/// else (signs, exponents, three decimals, overflow) is refused.
pub fn yuan_to_fen(text: &str) -> Option<i64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty()
        || whole.len() > 15
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_strings() {
        assert_eq!(fen_to_yuan(8888), "88.88");
        assert_eq!(fen_to_yuan(1), "0.01");
        assert_eq!(fen_to_yuan(100), "1.00");
        assert_eq!(yuan_to_fen("88.88"), Some(8888));
        assert_eq!(yuan_to_fen("88.8"), Some(8880));
        assert_eq!(yuan_to_fen("88"), Some(8800));
        assert_eq!(yuan_to_fen("0.01"), Some(1));
        for bad in ["", ".5", "1.", "1.234", "-1.00", "+1", "1e3", "1,00", " 1"] {
            assert_eq!(yuan_to_fen(bad), None, "{bad}");
        }
    }
}
