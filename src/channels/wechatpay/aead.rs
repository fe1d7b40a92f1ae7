//! AEAD_AES_256_GCM with the APIv3 key: how WeChat Pay encrypts platform certificates and
//! notification resources. The ciphertext is base64 with the 16-byte tag appended; the nonce is
//! 12 ASCII characters; the associated data is text.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The APIv3 key: exactly 32 bytes (32 ASCII characters in the merchant platform).
#[derive(Clone)]
pub struct ApiV3Key(Sensitive<[u8; 32]>);

impl std::fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

impl ApiV3Key {
    /// Reads the key as the merchant platform shows it (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<ApiV3Key> {
        let bytes: [u8; 32] = text.trim().as_bytes().try_into().map_err(|_| {
            Error::Validation(format!(
                "the APIv3 key must be exactly 32 characters; this one has {}",
                text.trim().chars().count()
            ))
        })?;
        Ok(ApiV3Key(Sensitive::new(bytes)))
    }

    /// The key as text, for the keyring.
    pub fn to_text(&self) -> Sensitive<String> {
        Sensitive::new(String::from_utf8_lossy(self.0.expose()).into_owned())
    }

    /// A fingerprint, the only thing ever shown after saving ("configured · sha256 1a2b3c4d"):
    /// the first 8 hex digits of the key's SHA-256. Never any of the key's own characters,
    /// which would shrink what is left to guess and end up in the database, the audit log
    /// and the window.
    pub fn hint(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.0.expose()))[..8].to_string()
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.expose().into())
    }

    /// Decrypts; any tampering with the ciphertext, nonce or associated data fails.
    pub fn decrypt(
        &self,
        associated_data: &str,
        nonce: &str,
        ciphertext_b64: &str,
    ) -> Result<Vec<u8>> {
        let refuse = |why: &str| Error::Channel(format!("WeChat Pay ciphertext refused: {why}"));
        let nonce: [u8; 12] = nonce
            .as_bytes()
            .try_into()
            .map_err(|_| refuse("the nonce is not 12 bytes"))?;
        let ciphertext = B64
            .decode(ciphertext_b64.trim())
            .map_err(|_| refuse("it is not base64"))?;
        self.cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: associated_data.as_bytes(),
                },
            )
            .map_err(|_| {
                refuse(
                    "it does not decrypt with the APIv3 key (altered, or another merchant's key)",
                )
            })
    }

    /// Decrypts to UTF-8 text.
    pub fn decrypt_text(
        &self,
        associated_data: &str,
        nonce: &str,
        ciphertext_b64: &str,
    ) -> Result<String> {
        String::from_utf8(self.decrypt(associated_data, nonce, ciphertext_b64)?).map_err(|_| {
            Error::Channel("WeChat Pay ciphertext decrypted to something that is not text".into())
        })
    }

    /// Encrypts (the sandbox sends certificates and notifications with this).
    pub fn encrypt(&self, associated_data: &str, nonce: &str, plaintext: &[u8]) -> Result<String> {
        let nonce: [u8; 12] = nonce
            .as_bytes()
            .try_into()
            .map_err(|_| Error::Internal("AEAD nonce must be 12 bytes".into()))?;
        let sealed = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: associated_data.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("AEAD encryption failed".into()))?;
        Ok(B64.encode(sealed))
    }
}
