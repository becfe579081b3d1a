//! Argon2id hashing off the async runtime, admitted through the hash queue.
//!
//! A sign-in storm must not starve the runtime: each hash runs on a hash thread
//! (see [`HashThreads`]), at most `hash_concurrency` at once, admitted by
//! [`HashQueue`] (a priority lane for vouched attempts, a short open backlog
//! whose excess is turned away). Unknown accounts still cost one verification
//! (against a dummy hash) so timing does not reveal them.
//!
//! The 19 MiB of working memory each hash needs is allocated once per hash that
//! may run at once and reused: allocated and freed per hash, glibc's malloc keeps
//! most of it (its mmap threshold adapts to the first free), and a busy server
//! grew past 500 MB. Hashing and verifying are the argon2 crate's own steps
//! (`hash_password_into_with_memory`, the PHC string and its constant-time output
//! comparison), given that memory.

use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::RngCore;

use crate::account::hash_queue::{HashQueue, Lane, Slot};
use crate::account::hash_threads::HashThreads;
use crate::config::CoreConfig;
use crate::error::{CoreError, CoreResult};

/// Hashes and verifies passwords with the configured Argon2id cost.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    queue: HashQueue,
    threads: HashThreads,
    memory: Arc<Memory>,
    dummy_hash: Arc<str>,
}

/// Argon2 working memory for the configured cost, one buffer per hash running,
/// kept for the next.
#[derive(Debug)]
struct Memory {
    blocks: usize,
    free: Mutex<Vec<Vec<Block>>>,
}

impl Memory {
    fn new(params: &Params) -> Self {
        Self {
            blocks: params.block_count(),
            free: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with `blocks` blocks of working memory: a kept buffer when the cost is
    /// the configured one, a fresh one (for a hash made with other parameters) otherwise.
    fn with<T>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if blocks != self.blocks {
            return f(&mut vec![Block::new(); blocks]);
        }
        let kept = self.free.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut buf = kept.unwrap_or_else(|| vec![Block::new(); blocks]);
        let out = f(&mut buf);
        self.free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(buf);
        out
    }
}

/// Outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or malformed stored hash).
    No,
    /// Right password; the stored hash uses the current parameters.
    Yes,
    /// Right password; the stored hash uses old parameters and should be replaced.
    YesRehash,
}

impl Passwords {
    /// Builds the hasher and the dummy hash used for unknown accounts.
    pub fn new(cfg: &CoreConfig) -> CoreResult<Self> {
        let params = Params::new(
            cfg.argon2_memory_kib,
            cfg.argon2_iterations,
            cfg.argon2_parallelism,
            None,
        )
        .map_err(|e| CoreError::Internal(format!("argon2 parameters: {e}")))?;
        // The dummy's working memory is given back: an idle server keeps none.
        let dummy = hash_with(
            &params,
            &Memory::new(&params),
            b"steward-dummy-password-for-timing",
        )?;
        let memory = Arc::new(Memory::new(&params));
        Ok(Self {
            memory,
            params,
            queue: HashQueue::new(
                cfg.hash_concurrency.max(1),
                cfg.hash_open_backlog,
                cfg.hash_priority_backlog,
            ),
            threads: HashThreads::start(cfg.hash_concurrency.max(1))?,
            dummy_hash: dummy.into(),
        })
    }

    /// The admission queue (its lengths are reported as metrics).
    pub fn queue(&self) -> &HashQueue {
        &self.queue
    }

    /// Waits for the right to run one hash in `lane`, taking `account`'s turn in the
    /// priority lane; `CoreError::Busy` at once when the lane has no room for it. Taken before anything else is done for an attempt, so turning
    /// one away costs next to nothing.
    pub async fn admit(&self, lane: Lane, account: &str) -> CoreResult<Slot> {
        self.queue
            .admit(lane, account)
            .await
            .map_err(|_| CoreError::Busy(std::time::Duration::from_secs(1)))
    }

    /// Hashes a new password into a PHC string, waiting in `lane` for `account`.
    pub async fn hash(&self, password: &str, lane: Lane, account: &str) -> CoreResult<String> {
        let slot = self.admit(lane, account).await?;
        let (params, memory) = (self.params.clone(), self.memory.clone());
        let password = password.as_bytes().to_vec();
        self.threads
            .run(slot, move || hash_with(&params, &memory, &password))
            .await?
    }

    /// Verifies `password` against a stored PHC string, or against the dummy hash when
    /// there is no account (always `No`, at the same cost), waiting in `lane` for
    /// `account`. `CoreError::Busy` when the lane has no room for it.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
        lane: Lane,
        account: &str,
    ) -> CoreResult<Verified> {
        let slot = self.admit(lane, account).await?;
        self.verify_in(slot, password, stored).await
    }

    /// [`Passwords::verify`] with a slot already admitted.
    pub async fn verify_in(
        &self,
        slot: Slot,
        password: &str,
        stored: Option<&str>,
    ) -> CoreResult<Verified> {
        let (phc, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let (params, memory) = (self.params.clone(), self.memory.clone());
        let password = password.as_bytes().to_vec();
        let outcome = self
            .threads
            .run(slot, move || {
                let Ok(parsed) = PasswordHash::new(&phc) else {
                    return Verified::No;
                };
                if !matches_phc(&parsed, &memory, &password) {
                    return Verified::No;
                }
                let current = Params::try_from(&parsed).is_ok_and(|p| {
                    p.m_cost() == params.m_cost()
                        && p.t_cost() == params.t_cost()
                        && p.p_cost() == params.p_cost()
                }) && parsed.algorithm.as_str() == "argon2id";
                if current {
                    Verified::Yes
                } else {
                    Verified::YesRehash
                }
            })
            .await?;
        Ok(if real { outcome } else { Verified::No })
    }
}

/// A new Argon2id PHC string for `password` with a random 16-byte salt.
fn hash_with(params: &Params, memory: &Memory, password: &[u8]) -> CoreResult<String> {
    let fail = |e: &dyn std::fmt::Display| CoreError::Internal(format!("argon2: {e}"));
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = Salt::new(&salt).map_err(|e| fail(&e))?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut out = vec![0u8; len];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    memory
        .with(params.block_count(), |m| {
            argon.hash_password_into_with_memory(password, &salt, &mut out, m)
        })
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| fail(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives the PHC string's output with the string's own algorithm,
/// version, parameters and salt (compared in constant time).
fn matches_phc(phc: &PasswordHash, memory: &Memory, password: &[u8]) -> bool {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else {
        return false;
    };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(phc) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = memory.with(params.block_count(), |m| {
        argon.hash_password_into_with_memory(password, salt, &mut out, m)
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| &o == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> CoreConfig {
        CoreConfig {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..CoreConfig::default()
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_detect_old_parameters() {
        let p = Passwords::new(&cheap()).unwrap();
        let phc = p.hash("correct horse", Lane::Open, "").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            p.verify("correct horse", Some(&phc), Lane::Open, "")
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            p.verify("wrong horse", Some(&phc), Lane::Open, "")
                .await
                .unwrap(),
            Verified::No
        );

        let stronger = Passwords::new(&CoreConfig {
            argon2_memory_kib: 128,
            ..cheap()
        })
        .unwrap();
        assert_eq!(
            stronger
                .verify("correct horse", Some(&phc), Lane::Open, "")
                .await
                .unwrap(),
            Verified::YesRehash
        );
    }

    #[test]
    fn hashes_and_checks_agree_with_the_argon2_crates_own() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let params = Params::new(64, 1, 1, None).unwrap();
        let memory = Memory::new(&params);
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        for pw in ["", "correct horse", "naïve café ☕", &"x".repeat(300)] {
            // Ours, checked by the crate.
            let ours = hash_with(&params, &memory, pw.as_bytes()).unwrap();
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(
                argon.verify_password(pw.as_bytes(), &parsed).is_ok(),
                "{pw:?}"
            );
            assert!(argon.verify_password(b"other", &parsed).is_err());
            // The crate's, and other algorithms, versions and costs, checked by ours.
            for (alg, version, cost) in [
                (Algorithm::Argon2id, Version::V0x13, 64),
                (Algorithm::Argon2i, Version::V0x13, 32),
                (Algorithm::Argon2d, Version::V0x10, 96),
            ] {
                let theirs = Argon2::new(alg, version, Params::new(cost, 1, 1, None).unwrap())
                    .hash_password(pw.as_bytes())
                    .unwrap()
                    .to_string();
                let parsed = PasswordHash::new(&theirs).unwrap();
                assert!(matches_phc(&parsed, &memory, pw.as_bytes()), "{theirs}");
                assert!(!matches_phc(&parsed, &memory, b"other"), "{theirs}");
            }
        }
        // The kept buffer was reused, not grown: one buffer for one hash at a time.
        assert_eq!(memory.free.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_verify() {
        let p = Passwords::new(&cheap()).unwrap();
        assert_eq!(
            p.verify("steward-dummy-password-for-timing", None, Lane::Open, "")
                .await
                .unwrap(),
            Verified::No
        );
        assert_eq!(
            p.verify("x", Some("not a phc string"), Lane::Open, "")
                .await
                .unwrap(),
            Verified::No
        );
    }

    #[test]
    fn default_parameters_are_owasp() {
        let c = CoreConfig::default();
        assert_eq!(
            (
                c.argon2_memory_kib,
                c.argon2_iterations,
                c.argon2_parallelism
            ),
            (19_456, 2, 1)
        );
    }
}
