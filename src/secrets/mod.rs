//! Channel secrets (merchant private keys, APIv3 keys, platform public keys) live only in the OS
//! keyring: the macOS Keychain, the Windows Credential Manager, or the Secret Service on Linux.
//! The database keeps only a [`SecretRef`], the name of the keyring item. When no keyring is
//! available FeeDesk says so and refuses ([`ErrorCode::Keyring`](crate::ErrorCode::Keyring)); it
//! never falls back to a file. Secret values travel as [`Sensitive`], which never prints.

mod key_file;
mod sensitive;

use std::fmt;

use rsa::rand_core::{OsRng, RngCore};

pub use key_file::{MAX_KEY_FILE, read_key_file};
pub use sensitive::Sensitive;

use crate::{Error, Result};

/// The keyring service FeeDesk's items are filed under.
pub const SERVICE: &str = "cn.feedesk.app";

/// The name of one keyring item (stored in `collection_accounts.secret_ref`). Random, so that
/// two data folders on one machine never share or overwrite each other's items. Not a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef(String);

impl SecretRef {
    /// A fresh, unguessable reference with a readable prefix (`account`, `test` ...).
    pub fn generate(prefix: &str) -> SecretRef {
        SecretRef(format!("{prefix}-{}", random_hex(16)))
    }

    /// A reference read back from the database.
    pub fn parse(text: &str) -> Result<SecretRef> {
        let ok = !text.is_empty()
            && text.len() <= 100
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if ok {
            Ok(SecretRef(text.to_string()))
        } else {
            Err(Error::Internal(format!(
                "malformed secret reference '{text}'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `n` random bytes from the OS, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The OS keyring, through the `keyring` crate. Every call runs on a blocking thread: the
/// platform stores are synchronous (and the Secret Service talks D-Bus).
#[derive(Debug, Clone)]
pub struct SecretStore {
    service: String,
}

impl Default for SecretStore {
    fn default() -> SecretStore {
        SecretStore::new(SERVICE)
    }
}

impl SecretStore {
    /// The store both surfaces use: FeeDesk's service, or the one `FEEDESK_KEYRING_SERVICE`
    /// names (tests keep their items apart with it).
    pub fn from_env() -> SecretStore {
        match std::env::var("FEEDESK_KEYRING_SERVICE") {
            Ok(service) if !service.trim().is_empty() => SecretStore::new(service.trim()),
            _ => SecretStore::default(),
        }
    }

    /// A store filing its items under `service` (tests use their own service name).
    pub fn new(service: &str) -> SecretStore {
        SecretStore {
            service: service.to_string(),
        }
    }

    /// Whether a keyring is available: `Ok` or the [`Error::Keyring`] that says why not.
    pub async fn check(&self) -> Result<()> {
        blocking(|| {
            keyring::Entry::store_status()
                .as_ref()
                .map(|_| ())
                .map_err(unavailable)
        })
        .await
    }

    /// Saves (or replaces) the secret named `reference`.
    pub async fn put(&self, reference: &SecretRef, secret: &Sensitive<String>) -> Result<()> {
        let (service, user, secret) = (
            self.service.clone(),
            reference.as_str().to_string(),
            secret.clone(),
        );
        blocking(move || {
            let entry = entry(&service, &user)?;
            entry
                .set_password(secret.expose())
                .map_err(|e| keyring_error("save a secret to", e))
        })
        .await
    }

    /// Reads the secret named `reference`; [`Error::NotFound`] when the keyring has no such item.
    pub async fn get(&self, reference: &SecretRef) -> Result<Sensitive<String>> {
        let (service, user) = (self.service.clone(), reference.as_str().to_string());
        blocking(move || {
            let entry = entry(&service, &user)?;
            match entry.get_password() {
                Ok(secret) => Ok(Sensitive::new(secret)),
                Err(keyring::Error::NoEntry) => Err(missing(&user)),
                Err(e) => Err(keyring_error("read a secret from", e)),
            }
        })
        .await
    }

    /// Removes the secret named `reference`; removing a missing item is not an error.
    pub async fn delete(&self, reference: &SecretRef) -> Result<()> {
        let (service, user) = (self.service.clone(), reference.as_str().to_string());
        blocking(move || {
            let entry = entry(&service, &user)?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(keyring_error("remove a secret from", e)),
            }
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("keyring task failed: {e}")))?
}

fn entry(service: &str, user: &str) -> Result<keyring::Entry> {
    if let Err(e) = keyring::Entry::store_status() {
        return Err(unavailable(e));
    }
    keyring::Entry::new(service, user).map_err(|e| keyring_error("open", e))
}

fn unavailable(e: &keyring::Error) -> Error {
    Error::Keyring(format!(
        "no OS keyring is available ({}); FeeDesk keeps channel secrets only in the OS keyring \
         (Keychain, Windows Credential Manager, or a Secret Service such as GNOME Keyring or \
         KWallet on Linux): start and unlock it, then try again",
        describe(e)
    ))
}

fn missing(reference: &str) -> Error {
    Error::NotFound(format!(
        "the OS keyring has no secret '{reference}' for this account (it was removed, or this \
         data folder came from another machine); add the account's keys again"
    ))
}

fn keyring_error(what: &str, e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoDefaultStore => unavailable(&e),
        keyring::Error::NoStorageAccess(_) => Error::Keyring(format!(
            "could not {what} the OS keyring: it is locked or access was refused ({}); unlock it and try again",
            describe(&e)
        )),
        _ => Error::Keyring(format!(
            "could not {what} the OS keyring ({})",
            describe(&e)
        )),
    }
}

/// The keyring error in words, never with the secret bytes some variants carry.
fn describe(e: &keyring::Error) -> String {
    match e {
        keyring::Error::BadEncoding(_) => "the stored secret is not text".into(),
        keyring::Error::BadDataFormat(..) => "the stored secret is malformed".into(),
        keyring::Error::Ambiguous(items) => format!("{} items match", items.len()),
        keyring::Error::NoDefaultStore => "no credential store could be opened".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_random_and_safe() {
        let a = SecretRef::generate("account");
        let b = SecretRef::generate("account");
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("account-") && a.as_str().len() == 8 + 32);
        assert_eq!(SecretRef::parse(a.as_str()).unwrap(), a);
        assert!(SecretRef::parse("").is_err());
        assert!(SecretRef::parse("a b").is_err());
    }
}
