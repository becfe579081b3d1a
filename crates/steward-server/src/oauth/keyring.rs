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
use steward_core::oauth::client::IdTokenAlg;
use steward_core::ports::{Store, StoredKey, TokenSigner};
use time::OffsetDateTime;

use crate::oauth::keys::{SigningKey, jose, jwk_set};

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
    /// Per algorithm, the index in `keys` of the key that signs.
    signers: Vec<(IdTokenAlg, usize)>,
}

/// The signing keys in use, refreshed from the store by [`KeyRing::refresh`]. Each
/// algorithm (ES256, RS256) has its own keys on the same rotation schedule.
pub struct KeyRing {
    store: Arc<dyn Store>,
    master: MasterKey,
    rotation: time::Duration,
    token_ttl: time::Duration,
    ring: RwLock<Ring>,
    /// One rotation at a time in this process (start-up's background one and the
    /// periodic one must not both make a key).
    rotating: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys, making the first ES256 key if there is none. A missing RS256
    /// key is made in the background: RSA generation takes long enough to slow
    /// start-up, and only apps registered for RS256 need it.
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
                signers: Vec::new(),
            }),
            rotating: tokio::sync::Mutex::new(()),
        });
        {
            let _one = ring.rotating.lock().await;
            ring.rotate(IdTokenAlg::Es256, now).await?;
            ring.reload(now).await?;
        }
        let background = ring.clone();
        tokio::spawn(async move {
            if let Err(e) = background.refresh(now).await {
                tracing::warn!(error = %e, "making the RS256 signing key failed; retried at the next rotation check");
            }
        });
        Ok(ring)
    }

    /// Rotates every algorithm's keys when due, forgets keys no token can need, and
    /// reloads (every node runs this periodically; a key made by another node is
    /// picked up here).
    pub async fn refresh(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        let _one = self.rotating.lock().await;
        for alg in IdTokenAlg::ALL {
            self.rotate(alg, now).await?;
        }
        self.reload(now).await
    }

    /// Makes a new key of `alg` when its newest is older than the rotation period, and
    /// deletes its keys that stopped signing once every token they signed has expired.
    async fn rotate(&self, alg: IdTokenAlg, now: OffsetDateTime) -> anyhow::Result<()> {
        let of_alg = |all: Vec<StoredKey>| -> Vec<StoredKey> {
            all.into_iter().filter(|k| k.alg == alg.as_str()).collect()
        };
        let mut stored = of_alg(self.store.signing_keys().await?);
        let due = stored
            .last()
            .is_none_or(|newest| now - newest.created_at >= self.rotation);
        if due {
            // Off the async threads: an RSA key takes tens to hundreds of milliseconds.
            let key = tokio::task::spawn_blocking(move || SigningKey::generate(alg)).await??;
            let row = StoredKey {
                kid: key.kid().to_owned(),
                alg: alg.as_str().into(),
                sealed: self.master.seal(key.kid(), key.pkcs8())?,
                created_at: now,
            };
            self.store.add_signing_key(&row).await?;
            tracing::info!(kid = %row.kid, alg = alg.as_str(), "new signing key");
            stored = of_alg(self.store.signing_keys().await?);
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
                .delete_signing_keys_before(alg.as_str(), current.created_at)
                .await?;
            if n > 0 {
                tracing::info!(
                    deleted = n,
                    alg = alg.as_str(),
                    "retired signing keys deleted"
                );
            }
        }
        Ok(())
    }

    /// Opens the stored keys and chooses each algorithm's signer.
    async fn reload(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        let stored = self.store.signing_keys().await?;
        let mut keys = Vec::with_capacity(stored.len());
        let mut signers = Vec::new();
        for alg in IdTokenAlg::ALL {
            let of_alg: Vec<&StoredKey> = stored.iter().filter(|k| k.alg == alg.as_str()).collect();
            let signer = signer_index(&of_alg, now);
            for (i, k) in of_alg.into_iter().enumerate() {
                let der = self.master.open(&k.kid, &k.sealed)?;
                if i == signer {
                    signers.push((alg, keys.len()));
                }
                keys.push((SigningKey::from_pkcs8(alg, &der)?, k.created_at));
            }
        }
        if let Some(k) = stored.iter().find(|k| IdTokenAlg::parse(&k.alg).is_none()) {
            tracing::warn!(kid = %k.kid, alg = %k.alg, "ignored a signing key of an unknown algorithm");
        }
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        *ring = Ring { keys, signers };
        Ok(())
    }

    /// The public keys (JWKS).
    pub fn jwks(&self) -> JwkSet {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        jwk_set(ring.keys.iter().map(|(k, _)| k))
    }

    /// The `kid` of the key that signs now with `alg`.
    pub fn signing_kid(&self, alg: IdTokenAlg) -> Option<String> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        ring.signer(alg).map(|k| k.kid().to_owned())
    }
}

impl Ring {
    fn signer(&self, alg: IdTokenAlg) -> Option<&SigningKey> {
        let (_, i) = self.signers.iter().find(|(a, _)| *a == alg)?;
        self.keys.get(*i).map(|(k, _)| k)
    }
}

/// The key that signs at `now`: the newest published for at least [`PREPUBLISH`], or
/// the oldest when none has been (a fresh install).
fn signer_index<K: std::borrow::Borrow<StoredKey>>(keys: &[K], now: OffsetDateTime) -> usize {
    keys.iter()
        .rposition(|k| now - k.borrow().created_at >= PREPUBLISH)
        .unwrap_or(0)
}

impl TokenSigner for KeyRing {
    fn sign(&self, alg: IdTokenAlg, claims: &serde_json::Value) -> Result<Option<String>, String> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        let Some(key) = ring.signer(alg) else {
            return Ok(None);
        };
        key.sign(claims, "JWT").map(Some).map_err(|e| e.to_string())
    }

    fn verify(&self, token: &str) -> Option<serde_json::Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let kid = header.kid?;
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        let (key, _) = ring.keys.iter().find(|(k, _)| k.kid() == kid)?;
        let mut v = jsonwebtoken::Validation::new(header.alg);
        // An ID token used as a hint may have expired (OpenID Connect Core §3.1.2.1);
        // the caller checks the issuer, and any audience is ours.
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        // The header's algorithm must be the key's, so an RSA key never checks an EC
        // signature or the other way round.
        if v.algorithms != [jose(key.alg())] {
            return None;
        }
        jsonwebtoken::decode::<serde_json::Value>(token, key.decoding_key(), &v)
            .ok()
            .map(|d| d.claims)
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

    /// The published kids of `alg`'s keys.
    fn kids(ring: &KeyRing, alg: IdTokenAlg) -> Vec<String> {
        ring.jwks()
            .keys
            .iter()
            .filter(|k| {
                k.common.key_algorithm.map(|a| a.to_string()) == Some(alg.as_str().to_owned())
            })
            .filter_map(|k| k.common.key_id.clone())
            .collect()
    }

    /// The kid a token signed now with `alg` carries, checked against the published keys.
    fn signed_kid(ring: &KeyRing, alg: IdTokenAlg) -> String {
        let token = ring
            .sign(
                alg,
                &serde_json::json!({"sub": "x", "exp": 4_000_000_000_i64}),
            )
            .unwrap()
            .unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, jose(alg));
        let kid = header.kid.unwrap();
        let set = ring.jwks();
        let jwk = set.find(&kid).expect("the signing key is published");
        let mut v = Validation::new(jose(alg));
        v.validate_aud = false;
        decode::<serde_json::Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap();
        assert_eq!(ring.signing_kid(alg).as_deref(), Some(kid.as_str()));
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
        // Loading makes the ES256 key at once; the RS256 key follows in the background
        // (this refresh waits for it and makes no second one).
        ring.refresh(t0).await.unwrap();
        for alg in IdTokenAlg::ALL {
            let first = kids(&ring, alg);
            assert_eq!(
                first.len(),
                1,
                "a fresh install makes one {} key",
                alg.as_str()
            );
            assert_eq!(signed_kid(&ring, alg), first[0]);
        }
        let stored = store.signing_keys().await.unwrap();
        assert_eq!(stored.len(), 2, "one key per algorithm");
        let first = |alg| kids(&ring, alg)[0].clone();
        let (es_first, rs_first) = (first(IdTokenAlg::Es256), first(IdTokenAlg::Rs256));

        // Another node loading the same database uses the same keys.
        let other = KeyRing::load(
            store.clone(),
            master(),
            days30,
            ttl,
            t0 + time::Duration::minutes(1),
        )
        .await
        .unwrap();
        other
            .refresh(t0 + time::Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(other.jwks(), ring.jwks());

        // Due: a new key of each algorithm is published at once but does not sign yet.
        let due = t0 + days30;
        ring.refresh(due).await.unwrap();
        let mut next = Vec::new();
        for (alg, old) in [
            (IdTokenAlg::Es256, &es_first),
            (IdTokenAlg::Rs256, &rs_first),
        ] {
            let both = kids(&ring, alg);
            assert_eq!(both.len(), 2);
            assert_eq!(
                &signed_kid(&ring, alg),
                old,
                "the new key is only published for now"
            );
            next.push(both[1].clone());
        }

        // An hour later they sign; the old keys stay published for their tokens.
        ring.refresh(due + PREPUBLISH).await.unwrap();
        for (alg, new) in IdTokenAlg::ALL.into_iter().zip(&next) {
            assert_eq!(&signed_kid(&ring, alg), new);
            assert_eq!(kids(&ring, alg).len(), 2);
        }

        // Once every token the old keys signed has expired, they are gone.
        ring.refresh(due + PREPUBLISH + ttl).await.unwrap();
        assert_eq!(
            ring.jwks().keys.len(),
            4,
            "kept while a late node may still sign with them"
        );
        ring.refresh(due + PREPUBLISH + REFRESH_SLACK + ttl)
            .await
            .unwrap();
        for (alg, new) in IdTokenAlg::ALL.into_iter().zip(&next) {
            assert_eq!(kids(&ring, alg), vec![new.clone()]);
        }

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

    #[tokio::test]
    async fn only_tokens_signed_by_a_published_key_verify_and_expiry_does_not_matter() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqlStore::connect(&testing::sqlite_url(dir.path()), &PoolConfig::default())
                .await
                .unwrap(),
        );
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let ring = KeyRing::load(
            store,
            MasterKey::from_bytes(&[9; 32]).unwrap(),
            time::Duration::days(30),
            time::Duration::minutes(15),
            t0,
        )
        .await
        .unwrap();
        ring.refresh(t0).await.unwrap();
        let expired = serde_json::json!({"sub": "ada", "exp": 1_000_i64});
        for alg in IdTokenAlg::ALL {
            let token = ring.sign(alg, &expired).unwrap().unwrap();
            assert_eq!(
                ring.verify(&token),
                Some(expired.clone()),
                "{}",
                alg.as_str()
            );
            let mut tampered = token.clone();
            tampered.insert(tampered.len() - 5, 'A');
            assert_eq!(ring.verify(&tampered), None);
        }
        let stranger = SigningKey::generate(IdTokenAlg::Es256).unwrap();
        assert_eq!(ring.verify(&stranger.sign(&expired, "JWT").unwrap()), None);
        assert_eq!(ring.verify("not.a.token"), None);
    }
}
