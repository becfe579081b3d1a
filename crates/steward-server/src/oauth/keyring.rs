//! The ID-token signing keys: stored sealed by the server's master key, rotated
//! on a schedule, published before they sign and kept published until the last
//! token they signed has expired.
//!
//! Rotation: when the newest key is older than the rotation period, a new key
//! is made and published at once, but signs only after [`PREPUBLISH`], so relying
//! parties that cache the JWKS have it before they see a token signed with it. A
//! key that no longer signs is deleted once every ID token it signed has expired.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, Nonce, RandomizedNonceKey};
use jsonwebtoken::jwk::JwkSet;
use steward_core::ports::{Store, StoredKey, TokenSigner};
use time::OffsetDateTime;

use crate::oauth::keys::{SigningKey, jwk_set};

/// How long a new key is published before it signs.
pub const PREPUBLISH: time::Duration = time::Duration::hours(1);
/// How late a node may notice that the signing key changed (it refreshes every 5
/// minutes), with room to spare: a retired key stays published this much longer.
pub const REFRESH_SLACK: time::Duration = time::Duration::minutes(15);

/// The master key sealing secrets at rest (AES-256-GCM-SIV, random nonces).
pub struct MasterKey(RandomizedNonceKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Reads the key (64 hex digits) from `path`, creating it (mode 0600) if absent.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            let mut bytes = [0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::private_dir(dir)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            match opts.open(path) {
                Ok(mut f) => {
                    f.write_all(hex::encode(bytes).as_bytes())?;
                    f.sync_all()?;
                    tracing::info!(path = %path.display(), "created a new master key");
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the master key {}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .with_context(|| format!("{} must hold 64 hex digits (32 bytes)", path.display()))?;
        Self::from_bytes(&bytes)
    }

    /// A master key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        RandomizedNonceKey::new(&AES_256_GCM_SIV, bytes)
            .map(Self)
            .map_err(|_| anyhow::anyhow!("the master key must be 32 bytes"))
    }

    /// Seals `plain`, bound to `label` (which must be given again to open it).
    pub fn seal(&self, label: &str, plain: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut in_out = plain.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(label.as_bytes()), &mut in_out)
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Opens what [`MasterKey::seal`] sealed with the same `label`.
    pub fn open(&self, label: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (nonce, body) = sealed
            .split_at_checked(12)
            .context("sealed value too short")?;
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut in_out = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(label.as_bytes()), &mut in_out)
            .map_err(|_| {
                anyhow::anyhow!(
                    "cannot open a stored key: is this the master key the other nodes use?"
                )
            })?;
        Ok(plain.to_vec())
    }
}

struct Ring {
    /// Published keys with their creation time, oldest first.
    keys: Vec<(SigningKey, OffsetDateTime)>,
    /// Index of the key that signs.
    signer: usize,
}

/// The signing keys in use, refreshed from the store by [`KeyRing::refresh`].
pub struct KeyRing {
    store: Arc<dyn Store>,
    master: MasterKey,
    rotation: time::Duration,
    token_ttl: time::Duration,
    ring: RwLock<Ring>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys, making the first one if there is none.
    pub async fn load(
        store: Arc<dyn Store>,
        master: MasterKey,
        rotation: time::Duration,
        token_ttl: time::Duration,
        now: OffsetDateTime,
    ) -> anyhow::Result<Arc<Self>> {
        let ring = Arc::new(Self {
            store,
            master,
            rotation,
            token_ttl,
            ring: RwLock::new(Ring {
                keys: Vec::new(),
                signer: 0,
            }),
        });
        ring.refresh(now).await?;
        Ok(ring)
    }

    /// Rotates when due, forgets keys no token can need, and reloads (every node
    /// runs this periodically; a key made by another node is picked up here).
    pub async fn refresh(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        let mut stored = self.store.signing_keys().await?;
        let due = stored
            .last()
            .is_none_or(|newest| now - newest.created_at >= self.rotation);
        if due {
            let key = SigningKey::generate()?;
            let row = StoredKey {
                kid: key.kid().to_owned(),
                alg: "ES256".into(),
                sealed: self.master.seal(key.kid(), key.pkcs8())?,
                created_at: now,
            };
            self.store.add_signing_key(&row).await?;
            tracing::info!(kid = %row.kid, "new signing key");
            stored = self.store.signing_keys().await?;
        }
        let signer = signer_index(&stored, now);
        // Older keys stopped signing when the current signer took over; once every
        // token they signed has expired they are deleted.
        if let Some(current) = stored.get(signer)
            && signer > 0
            && now >= current.created_at + PREPUBLISH + REFRESH_SLACK + self.token_ttl
        {
            let n = self
                .store
                .delete_signing_keys_before(current.created_at)
                .await?;
            if n > 0 {
                tracing::info!(deleted = n, "retired signing keys deleted");
                stored = self.store.signing_keys().await?;
            }
        }
        let mut keys = Vec::with_capacity(stored.len());
        for k in &stored {
            let der = self.master.open(&k.kid, &k.sealed)?;
            keys.push((SigningKey::from_pkcs8(&der)?, k.created_at));
        }
        let signer = signer_index(&stored, now);
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        *ring = Ring { keys, signer };
        Ok(())
    }

    /// The public keys (JWKS).
    pub fn jwks(&self) -> JwkSet {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        jwk_set(ring.keys.iter().map(|(k, _)| k))
    }

    /// The `kid` of the key that signs now.
    pub fn signing_kid(&self) -> Option<String> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        ring.keys.get(ring.signer).map(|(k, _)| k.kid().to_owned())
    }
}

/// The key that signs at `now`: the newest published for at least [`PREPUBLISH`], or
/// the oldest when none has been (a fresh install).
fn signer_index(keys: &[StoredKey], now: OffsetDateTime) -> usize {
    keys.iter()
        .rposition(|k| now - k.created_at >= PREPUBLISH)
        .unwrap_or(0)
}

impl TokenSigner for KeyRing {
    fn sign(&self, claims: &serde_json::Value) -> Result<String, String> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        let (key, _) = ring.keys.get(ring.signer).ok_or("no signing key")?;
        key.sign(claims, "JWT").map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_key_and_label() {
        let m = MasterKey::from_bytes(&[7; 32]).unwrap();
        let sealed = m.seal("kid-1", b"secret pkcs8").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(m.open("kid-1", &sealed).unwrap(), b"secret pkcs8");
        assert!(m.open("kid-2", &sealed).is_err(), "bound to its label");
        let other = MasterKey::from_bytes(&[8; 32]).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
        assert!(m.open("kid-1", &sealed[..5]).is_err());
    }

    #[test]
    fn a_master_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = a.seal("x", b"y").unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(b.open("x", &sealed).unwrap(), b"y");
        std::fs::write(&path, "not hex").unwrap();
        assert!(MasterKey::load_or_create(&path).is_err());
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
    use steward_store::{PoolConfig, SqlStore, testing};

    fn kids(ring: &KeyRing) -> Vec<String> {
        ring.jwks()
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect()
    }

    /// The kid a token signed now carries, checked against the published keys.
    fn signed_kid(ring: &KeyRing) -> String {
        let token = ring
            .sign(&serde_json::json!({"sub": "x", "exp": 4_000_000_000_i64}))
            .unwrap();
        let kid = decode_header(&token).unwrap().kid.unwrap();
        let set = ring.jwks();
        let jwk = set.find(&kid).expect("the signing key is published");
        let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
        v.validate_aud = false;
        decode::<serde_json::Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap();
        kid
    }

    #[tokio::test]
    async fn new_keys_are_published_before_they_sign_and_old_ones_retire_after_their_tokens_expire()
    {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqlStore::connect(&testing::sqlite_url(dir.path()), &PoolConfig::default())
                .await
                .unwrap(),
        );
        let master = || MasterKey::from_bytes(&[9; 32]).unwrap();
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let days30 = time::Duration::days(30);
        let ttl = time::Duration::minutes(15);
        let ring = KeyRing::load(store.clone(), master(), days30, ttl, t0)
            .await
            .unwrap();
        let first = kids(&ring);
        assert_eq!(first.len(), 1, "a fresh install makes one key");
        assert_eq!(signed_kid(&ring), first[0]);

        // Another node loading the same database uses the same key.
        let other = KeyRing::load(
            store.clone(),
            master(),
            days30,
            ttl,
            t0 + time::Duration::minutes(1),
        )
        .await
        .unwrap();
        assert_eq!(kids(&other), first);

        // Due: a new key is published at once but does not sign yet.
        let due = t0 + days30;
        ring.refresh(due).await.unwrap();
        let both = kids(&ring);
        assert_eq!(both.len(), 2);
        assert_eq!(
            signed_kid(&ring),
            first[0],
            "the new key is only published for now"
        );

        // An hour later it signs; the old key stays published for its tokens.
        ring.refresh(due + PREPUBLISH).await.unwrap();
        assert_eq!(signed_kid(&ring), both[1]);
        assert_eq!(kids(&ring).len(), 2);

        // Once every token the old key signed has expired, it is gone.
        ring.refresh(due + PREPUBLISH + ttl).await.unwrap();
        assert_eq!(
            kids(&ring).len(),
            2,
            "kept while a late node may still sign with it"
        );
        ring.refresh(due + PREPUBLISH + REFRESH_SLACK + ttl)
            .await
            .unwrap();
        assert_eq!(kids(&ring), vec![both[1].clone()]);

        // A ring with another master key cannot read the stored keys.
        let wrong = KeyRing::load(
            store,
            MasterKey::from_bytes(&[1; 32]).unwrap(),
            days30,
            ttl,
            due,
        )
        .await;
        assert!(wrong.is_err());
    }
}
