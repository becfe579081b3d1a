//! Proof Key for Code Exchange (RFC 7636), `S256` only: `plain` lets anyone who
//! sees the authorization request redeem the code, so it is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::secret::constant_time_eq;

/// Why a PKCE parameter was refused (shown to the client as `invalid_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceError {
    /// No `code_challenge` in the authorization request.
    MissingChallenge,
    /// A method other than `S256` (including `plain`, or none, which means `plain`).
    UnsupportedMethod,
    /// The challenge is not 43 characters of base64url (a SHA-256 digest).
    MalformedChallenge,
    /// The verifier is not 43–128 characters of `[A-Za-z0-9-._~]`.
    MalformedVerifier,
    /// The verifier does not hash to the challenge.
    Mismatch,
}

/// A checked `S256` code challenge, as stored with the authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Checks the `code_challenge` and `code_challenge_method` of an authorization
    /// request. A missing method means `plain` (RFC 7636 §4.3) and is refused too.
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, PkceError> {
        let challenge = challenge
            .filter(|c| !c.is_empty())
            .ok_or(PkceError::MissingChallenge)?;
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        let well_formed = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(PkceError::MalformedChallenge);
        }
        Ok(Self(challenge.to_owned()))
    }

    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the `code_verifier` of the token request against this challenge.
    pub fn verify(&self, verifier: &str) -> Result<(), PkceError> {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !well_formed {
            return Err(PkceError::MalformedVerifier);
        }
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if constant_time_eq(computed.as_bytes(), self.0.as_bytes()) {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        let c = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(c.verify(VERIFIER), Ok(()));
        assert_eq!(c.as_str(), CHALLENGE);
    }

    #[test]
    fn plain_missing_and_malformed_challenges_are_refused() {
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), None),
            Err(PkceError::UnsupportedMethod),
            "no method means plain"
        );
        assert_eq!(
            CodeChallenge::parse(None, Some("S256")),
            Err(PkceError::MissingChallenge)
        );
        assert_eq!(
            CodeChallenge::parse(Some(""), Some("S256")),
            Err(PkceError::MissingChallenge)
        );
        for bad in [
            &CHALLENGE[..42],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
        ] {
            assert_eq!(
                CodeChallenge::parse(Some(bad), Some("S256")),
                Err(PkceError::MalformedChallenge),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_wrong_or_malformed_verifier_is_refused() {
        let c = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
        assert_eq!(c.verify(other), Err(PkceError::Mismatch));
        assert_eq!(c.verify(&VERIFIER[..42]), Err(PkceError::MalformedVerifier));
        assert_eq!(
            c.verify(&"a".repeat(129)),
            Err(PkceError::MalformedVerifier)
        );
        assert_eq!(
            c.verify("dBjftJeZ4CVP mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            Err(PkceError::MalformedVerifier)
        );
        // The challenge itself is not a verifier for itself.
        assert_eq!(c.verify(CHALLENGE), Err(PkceError::Mismatch));
    }
}
