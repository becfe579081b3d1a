//! The "I'm not a robot" check: self-hosted proof of work in the ALTCHA format.
//!
//! The server hands out `{algorithm, challenge, maxnumber, salt, signature}`
//! where `challenge = SHA-256(salt ‖ n)` for a secret random `n ≤ maxnumber`
//! and `signature = HMAC-SHA-256(key, challenge)`. The browser finds `n` by
//! brute force and sends the solution back, base64-encoded JSON. The server
//! checks the signature (so it needs no state to issue challenges), the expiry
//! carried in the salt, the work, and—through the store—that the solution is
//! used only once.
//!
//! A **strong** challenge (about ten times the work) is for requests that need
//! more than the usual proof, such as one more email to an address whose hourly
//! quota others used up. Its strength is a salt parameter, so it is covered by
//! the signature like the expiry.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use steward_proto::{Challenge, ChallengeSolution};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::error::CoreError;

/// Largest `altcha` payload accepted before decoding.
pub const MAX_PAYLOAD_LEN: usize = 2048;

const ALGORITHM: &str = "SHA-256";

/// How much work a challenge asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// The usual "I'm not a robot" check.
    Normal,
    /// About ten times the work, for a request past a quota.
    Strong,
}

/// Issues and checks proof-of-work challenges with a server-side HMAC key.
#[derive(Clone)]
pub struct Altcha {
    key: Vec<u8>,
    max_number: u64,
    strong_max_number: u64,
    ttl: time::Duration,
}

impl std::fmt::Debug for Altcha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Altcha")
            .field("max_number", &self.max_number)
            .finish_non_exhaustive()
    }
}

/// A verified solution, to be marked used in the store until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolvedChallenge {
    /// SHA-256 of the signature: identifies the challenge for replay protection.
    pub id: [u8; 32],
    /// When the challenge stops being valid anyway.
    pub expires_at: OffsetDateTime,
    /// How much work it took.
    pub strength: Strength,
}

impl Altcha {
    /// A checker with the given HMAC key, difficulties (normal, strong) and lifetime.
    pub fn new(
        key: Vec<u8>,
        max_number: u64,
        strong_max_number: u64,
        ttl: std::time::Duration,
    ) -> Self {
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::minutes(10));
        let max_number = max_number.max(1);
        Self {
            key,
            max_number,
            strong_max_number: strong_max_number.max(max_number),
            ttl,
        }
    }

    fn max_for(&self, strength: Strength) -> u64 {
        match strength {
            Strength::Normal => self.max_number,
            Strength::Strong => self.strong_max_number,
        }
    }

    /// A fresh challenge of `strength` expiring `ttl` after `now`.
    pub fn issue(&self, now: OffsetDateTime, strength: Strength) -> Challenge {
        let mut rng = rand::rng();
        let mut salt_bytes = [0u8; 12];
        rng.fill_bytes(&mut salt_bytes);
        let expires = (now + self.ttl).unix_timestamp();
        let salt = match strength {
            Strength::Normal => format!("{}?expires={expires}", hex::encode(salt_bytes)),
            Strength::Strong => format!(
                "{}?expires={expires}&strength=strong",
                hex::encode(salt_bytes)
            ),
        };
        let max = self.max_for(strength);
        let number = rng.random_range(0..=max);
        let challenge = work(&salt, number);
        let signature = self.sign(&challenge);
        Challenge {
            algorithm: ALGORITHM.into(),
            challenge,
            maxnumber: max,
            salt,
            signature,
        }
    }

    /// Checks a base64 JSON solution. Replay protection is the caller's next step.
    pub fn verify(&self, payload: &str, now: OffsetDateTime) -> Result<SolvedChallenge, CoreError> {
        let fail = |why: &'static str| CoreError::ChallengeFailed(why);
        if payload.is_empty() {
            return Err(fail("missing"));
        }
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(fail("malformed"));
        }
        let bytes = STANDARD
            .decode(payload.trim())
            .map_err(|_| fail("malformed"))?;
        let s: ChallengeSolution = serde_json::from_slice(&bytes).map_err(|_| fail("malformed"))?;
        if s.algorithm != ALGORITHM {
            return Err(fail("unsupported algorithm"));
        }
        let params = s.salt.split_once('?').map(|(_, p)| p).unwrap_or_default();
        let param = |name: &str| {
            params
                .split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        };
        let expires = param("expires")
            .and_then(|e| e.parse::<i64>().ok())
            .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok())
            .ok_or(fail("malformed"))?;
        let strength = match param("strength") {
            None => Strength::Normal,
            Some("strong") => Strength::Strong,
            Some(_) => return Err(fail("malformed")),
        };
        let expected_sig = self.sign(&s.challenge);
        if !bool::from(expected_sig.as_bytes().ct_eq(s.signature.as_bytes())) {
            return Err(fail("forged"));
        }
        if now >= expires {
            return Err(fail("expired"));
        }
        if s.number > self.max_for(strength).saturating_mul(2)
            || work(&s.salt, s.number) != s.challenge
        {
            return Err(fail("wrong answer"));
        }
        Ok(SolvedChallenge {
            id: Sha256::digest(s.signature.as_bytes()).into(),
            expires_at: expires,
            strength,
        })
    }

    fn sign(&self, challenge: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail; fall back to an empty MAC regardless.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(challenge.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Err(_) => String::new(),
        }
    }
}

fn work(salt: &str, number: u64) -> String {
    hex::encode(Sha256::digest(format!("{salt}{number}").as_bytes()))
}

/// Solves a challenge by brute force, as a browser would. For tests, tools and benchmarks.
pub fn solve(c: &Challenge) -> Option<String> {
    (0..=c.maxnumber)
        .find(|n| work(&c.salt, *n) == c.challenge)
        .map(|number| {
            let s = ChallengeSolution {
                algorithm: c.algorithm.clone(),
                challenge: c.challenge.clone(),
                number,
                salt: c.salt.clone(),
                signature: c.signature.clone(),
            };
            STANDARD.encode(serde_json::to_vec(&s).unwrap_or_default())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn altcha() -> Altcha {
        Altcha::new(
            b"test-key".to_vec(),
            500,
            5_000,
            std::time::Duration::from_secs(600),
        )
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn a_solved_challenge_verifies_until_it_expires() {
        let a = altcha();
        let c = a.issue(now(), Strength::Normal);
        let payload = solve(&c).unwrap();
        let ok = a
            .verify(&payload, now() + time::Duration::minutes(9))
            .unwrap();
        assert_eq!(ok.expires_at, now() + time::Duration::minutes(10));
        assert!(matches!(
            a.verify(&payload, now() + time::Duration::minutes(10)),
            Err(CoreError::ChallengeFailed("expired"))
        ));
    }

    #[test]
    fn wrong_numbers_forged_signatures_and_garbage_fail() {
        let a = altcha();
        let c = a.issue(now(), Strength::Normal);
        let good: ChallengeSolution =
            serde_json::from_slice(&STANDARD.decode(solve(&c).unwrap()).unwrap()).unwrap();
        let enc = |s: &ChallengeSolution| STANDARD.encode(serde_json::to_vec(s).unwrap());

        let wrong = ChallengeSolution {
            number: good.number + 1,
            ..good.clone()
        };
        assert!(matches!(
            a.verify(&enc(&wrong), now()),
            Err(CoreError::ChallengeFailed("wrong answer"))
        ));

        let other_key = Altcha::new(
            b"other".to_vec(),
            500,
            5_000,
            std::time::Duration::from_secs(600),
        );
        assert!(matches!(
            other_key.verify(&enc(&good), now()),
            Err(CoreError::ChallengeFailed("forged"))
        ));

        let later_expiry = ChallengeSolution {
            salt: format!("{}9", good.salt),
            ..good.clone()
        };
        assert!(a.verify(&enc(&later_expiry), now()).is_err());

        for garbage in ["", "%%%", "bm90IGpzb24=", &"A".repeat(5000)] {
            assert!(a.verify(garbage, now()).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn a_strong_challenge_says_so_and_cannot_be_made_out_of_a_normal_one() {
        let a = altcha();
        let c = a.issue(now(), Strength::Strong);
        assert_eq!(c.maxnumber, 5_000);
        assert!(c.salt.ends_with("&strength=strong"));
        let solved = a.verify(&solve(&c).unwrap(), now()).unwrap();
        assert_eq!(solved.strength, Strength::Strong);
        let normal = a.issue(now(), Strength::Normal);
        assert_eq!(
            a.verify(&solve(&normal).unwrap(), now()).unwrap().strength,
            Strength::Normal
        );
        // Claiming strength for a normal challenge changes the salt, so the work and
        // the signature no longer match.
        let mut forged: ChallengeSolution =
            serde_json::from_slice(&STANDARD.decode(solve(&normal).unwrap()).unwrap()).unwrap();
        forged.salt.push_str("&strength=strong");
        let enc = STANDARD.encode(serde_json::to_vec(&forged).unwrap());
        assert!(a.verify(&enc, now()).is_err());
    }

    #[test]
    fn solution_ids_differ_between_challenges() {
        let a = altcha();
        let one = a
            .verify(&solve(&a.issue(now(), Strength::Normal)).unwrap(), now())
            .unwrap();
        let two = a
            .verify(&solve(&a.issue(now(), Strength::Normal)).unwrap(), now())
            .unwrap();
        assert_ne!(one.id, two.id);
    }
}
