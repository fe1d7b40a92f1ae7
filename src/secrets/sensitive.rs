//! [`Sensitive`]: a value that must never be printed, logged or serialised.

use std::fmt;

/// A secret value (a private key, an APIv3 key, a keyring bundle). `Debug` and `Display` print
/// `<redacted>`; it deliberately does not implement `Serialize`, so it cannot reach JSON, an
/// export or the UI by accident. Read it with [`Sensitive::expose`], at the one place that
/// needs the secret itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Sensitive<T> {
        Sensitive(value)
    }

    /// The secret itself: call this only where the secret is used (signing, decrypting,
    /// writing to the keyring), never to print it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }

    /// Transforms the secret without exposing it to anything else.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sensitive<U> {
        Sensitive(f(self.0))
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Sensitive<T> {
        Sensitive(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Sensitive::new(String::from("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"));
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            key: Sensitive<String>,
        }
        let shown = format!(
            "{:?}",
            Holder {
                key: secret.clone()
            }
        );
        assert!(!shown.contains("a7cde1"), "{shown}");
        assert_eq!(secret.expose(), "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb");
    }

    // Fails to compile if `Sensitive<String>` ever implements `Serialize`: with an impl, the
    // call below would be ambiguous (the `assert_not_impl_any` technique).
    trait AmbiguousIfSerialize<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSerialize<()> for T {}
    #[allow(dead_code)]
    struct IsSerialize;
    impl<T: ?Sized + serde::Serialize> AmbiguousIfSerialize<IsSerialize> for T {}

    #[test]
    fn is_not_serialize() {
        <Sensitive<String> as AmbiguousIfSerialize<_>>::check();
        <Sensitive<Vec<u8>> as AmbiguousIfSerialize<_>>::check();
    }
}
