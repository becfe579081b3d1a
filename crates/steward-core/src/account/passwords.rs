//! Argon2id hashing off the async runtime, admitted through the hash queue.
//!
//! A sign-in storm must not starve the runtime: each hash runs on the blocking
//! pool, at most `hash_concurrency` at once, admitted by [`HashQueue`] (a
//! priority lane for vouched attempts, a short open backlog whose excess is
//! turned away). Unknown accounts still cost one verification (against a dummy
//! hash) so timing does not reveal them.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::account::hash_queue::{HashQueue, Lane};
use crate::config::CoreConfig;
use crate::error::{CoreError, CoreResult};

/// Hashes and verifies passwords with the configured Argon2id cost.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    queue: HashQueue,
    dummy_hash: Arc<str>,
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
        let dummy = hash_with(&params, b"steward-dummy-password-for-timing")?;
        Ok(Self {
            params,
            queue: HashQueue::new(cfg.hash_concurrency.max(1), cfg.hash_open_backlog),
            dummy_hash: dummy.into(),
        })
    }

    /// The admission queue (its lengths are reported as metrics).
    pub fn queue(&self) -> &HashQueue {
        &self.queue
    }

    /// Hashes a new password into a PHC string, waiting in `lane`.
    pub async fn hash(&self, password: &str, lane: Lane) -> CoreResult<String> {
        let params = self.params.clone();
        let password = password.as_bytes().to_vec();
        self.run(lane, move || hash_with(&params, &password))
            .await?
    }

    /// Verifies `password` against a stored PHC string, or against the dummy hash when
    /// there is no account (always `No`, at the same cost), waiting in `lane`.
    /// `CoreError::Busy` when the open lane is full.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
        lane: Lane,
    ) -> CoreResult<Verified> {
        let (phc, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let params = self.params.clone();
        let password = password.as_bytes().to_vec();
        let outcome = self
            .run(lane, move || {
                let Ok(parsed) = PasswordHash::new(&phc) else {
                    return Verified::No;
                };
                let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                if argon.verify_password(&password, &parsed).is_err() {
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

    async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> CoreResult<T> {
        let slot = self
            .queue
            .admit(lane)
            .await
            .map_err(|_| CoreError::Busy(std::time::Duration::from_secs(1)))?;
        // The slot moves into the blocking task: if the request is dropped meanwhile,
        // the hash still finishes before the next one may start.
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(slot);
            out
        })
        .await
        .map_err(|e| CoreError::Internal(format!("hash task: {e}")))
    }
}

fn hash_with(params: &Params, password: &[u8]) -> CoreResult<String> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("argon2: {e}")))
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
        let phc = p.hash("correct horse", Lane::Open).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            p.verify("correct horse", Some(&phc), Lane::Open)
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            p.verify("wrong horse", Some(&phc), Lane::Open)
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
                .verify("correct horse", Some(&phc), Lane::Open)
                .await
                .unwrap(),
            Verified::YesRehash
        );
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_verify() {
        let p = Passwords::new(&cheap()).unwrap();
        assert_eq!(
            p.verify("steward-dummy-password-for-timing", None, Lane::Open)
                .await
                .unwrap(),
            Verified::No
        );
        assert_eq!(
            p.verify("x", Some("not a phc string"), Lane::Open)
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
