//! Opaque secrets handed to people (session cookies, email link tokens).
//!
//! 256 bits from the OS generator, base64url without padding. Only the
//! SHA-256 of a secret is ever stored, so a database dump cannot be replayed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly generated secret: the plain value goes to the person, the hash to the store.
#[derive(Clone)]
pub struct NewSecret {
    /// The value to hand out (cookie or link).
    pub plain: String,
    /// What the store keeps.
    pub hash: SecretHash,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a secret, the only form in which secrets are stored.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A prefix is enough to correlate log lines; the full hash stays out of logs.
        write!(f, "SecretHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// Length of a plain secret: 32 bytes in base64url without padding.
pub const SECRET_LEN: usize = 43;

impl NewSecret {
    /// Generates a new 256-bit secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let plain = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_secret(&plain);
        Self { plain, hash }
    }
}

/// Hashes a presented secret for lookup. Returns `None` for values that cannot
/// be one of ours, so garbage never reaches the store.
pub fn parse_secret(presented: &str) -> Option<SecretHash> {
    let well_formed = presented.len() == SECRET_LEN
        && presented
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| hash_secret(presented))
}

pub(crate) fn hash_secret(plain: &str) -> SecretHash {
    SecretHash(Sha256::digest(plain.as_bytes()).into())
}

/// HMAC-SHA-256 of `data` under `key` (signed cookies, challenge signatures).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length; this arm cannot run.
        Err(_) => [0u8; 32],
    }
}

/// Compares two byte strings in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_parse_back_to_their_hash() {
        let s = NewSecret::generate();
        assert_eq!(s.plain.len(), SECRET_LEN);
        assert_eq!(parse_secret(&s.plain), Some(s.hash.clone()));
        assert_ne!(NewSecret::generate().plain, s.plain);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert_eq!(parse_secret(""), None);
        assert_eq!(parse_secret("short"), None);
        assert_eq!(parse_secret(&"a".repeat(44)), None);
        assert_eq!(parse_secret(&format!("{}=", "a".repeat(42))), None);
        assert!(parse_secret(&"a".repeat(43)).is_some());
    }

    #[test]
    fn debug_never_shows_the_plain_secret() {
        let s = NewSecret::generate();
        assert!(!format!("{s:?}").contains(&s.plain));
    }
}
