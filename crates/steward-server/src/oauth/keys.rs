//! ID-token signing keys, all made and used by aws-lc-rs: ES256 (P-256, the
//! default) and RS256 (RSA 2048, OpenID Connect Core §15.1), with their public
//! JWKs. RSA signs only through jsonwebtoken's aws-lc-rs backend, never through
//! a pure-Rust RSA implementation.
//!
//! A key is identified by its RFC 7638 thumbprint, so the `kid` is derived from
//! the key itself and stays the same however it is stored and reloaded.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RsaKeyPair};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;
use steward_core::oauth::client::IdTokenAlg;

/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_BYTES: usize = 256;

/// Why a key could not be made, loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed in the crypto library.
    #[error("could not generate a signing key")]
    Generate,
    /// Stored bytes are not a PKCS#8 private key of the expected kind.
    #[error("not a {0} PKCS#8 key: {1}")]
    Invalid(&'static str, String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A private signing key.
pub struct SigningKey {
    alg: IdTokenAlg,
    kid: String,
    pkcs8: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The JOSE algorithm of an ID-token algorithm.
pub fn jose(alg: IdTokenAlg) -> Algorithm {
    match alg {
        IdTokenAlg::Es256 => Algorithm::ES256,
        IdTokenAlg::Rs256 => Algorithm::RS256,
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5): what
/// jsonwebtoken's aws-lc-rs backend signs with, while aws-lc-rs writes PKCS#8.
fn pkcs1_of(pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
    yasna::parse_der(pkcs8, |r| {
        r.read_sequence(|r| {
            r.next().read_u8()?;
            r.next().read_der()?;
            r.next().read_bytes()
        })
    })
    .map_err(|e| KeyError::Invalid("RSA", e.to_string()))
}

impl SigningKey {
    /// A fresh key: P-256 for ES256, RSA 2048 for RS256 (slow-ish: tens to
    /// hundreds of milliseconds, so callers run it off the async threads).
    pub fn generate(alg: IdTokenAlg) -> Result<Self, KeyError> {
        let der = match alg {
            IdTokenAlg::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                    .map_err(|_| KeyError::Generate)?
                    .as_ref()
                    .to_vec()
            }
            IdTokenAlg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec(),
        };
        Self::from_pkcs8(alg, &der)
    }

    /// A key from its PKCS#8 DER bytes (as stored).
    pub fn from_pkcs8(alg: IdTokenAlg, der: &[u8]) -> Result<Self, KeyError> {
        // Parsing with aws-lc-rs checks the bytes really are a private key of this kind.
        let encoding = match alg {
            IdTokenAlg::Es256 => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| KeyError::Invalid("P-256", e.to_string()))?;
                EncodingKey::from_ec_der(der)
            }
            IdTokenAlg::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(der)
                    .map_err(|e| KeyError::Invalid("RSA", e.to_string()))?;
                if pair.public_modulus_len() < MIN_RSA_BYTES {
                    return Err(KeyError::Invalid("RSA", "shorter than 2048 bits".into()));
                }
                EncodingKey::from_rsa_der(&pkcs1_of(der)?)
            }
        };
        let invalid =
            |e: jsonwebtoken::errors::Error| KeyError::Invalid(alg.as_str(), e.to_string());
        let mut jwk = Jwk::from_encoding_key(&encoding, jose(alg)).map_err(invalid)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(invalid)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(match alg {
            IdTokenAlg::Es256 => KeyAlgorithm::ES256,
            IdTokenAlg::Rs256 => KeyAlgorithm::RS256,
        });
        let decoding = DecodingKey::from_jwk(&jwk).map_err(invalid)?;
        Ok(Self {
            alg,
            kid,
            pkcs8: der.to_vec(),
            encoding,
            decoding,
            jwk,
        })
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> IdTokenAlg {
        self.alg
    }

    /// The key id (RFC 7638 SHA-256 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8 DER, for storage.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half as a JWK (`kid`, `use: sig`, `alg`).
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The public half, to verify what this key signed.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// A compact JWS of `claims`, with this key's `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &T, typ: &str) -> Result<String, KeyError> {
        let mut header = Header::new(jose(self.alg));
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// The public JWK set of `keys` (served at the JWKS endpoint).
pub fn jwk_set<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> JwkSet {
    JwkSet {
        keys: keys.into_iter().map(|k| k.public_jwk().clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Validation, decode, decode_header};
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        sub: String,
        aud: String,
        exp: i64,
    }

    fn claims() -> Claims {
        Claims {
            sub: "0193".into(),
            aud: "steward-cli".into(),
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + 300,
        }
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_jwk_only() {
        let key = SigningKey::generate(IdTokenAlg::Es256).unwrap();
        let token = key.sign(&claims(), "JWT").unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));

        // Verify as a client would: pick the JWK by kid from the published set.
        let set: JwkSet =
            serde_json::from_str(&serde_json::to_string(&jwk_set([&key])).unwrap()).unwrap();
        let jwk = set.find(key.kid()).unwrap();
        let mut v = Validation::new(Algorithm::ES256);
        v.set_audience(&["steward-cli"]);
        let got = decode::<Claims>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap();
        assert_eq!(got.claims, claims());

        let other = SigningKey::generate(IdTokenAlg::Es256).unwrap();
        assert_ne!(other.kid(), key.kid());
        let wrong = DecodingKey::from_jwk(other.public_jwk()).unwrap();
        assert!(
            decode::<Claims>(&token, &wrong, &v).is_err(),
            "another key does not verify it"
        );
        let mut tampered = token.clone();
        tampered.insert(tampered.len() - 5, 'A');
        let right = DecodingKey::from_jwk(jwk).unwrap();
        assert!(decode::<Claims>(&tampered, &right, &v).is_err());
    }

    #[test]
    fn a_reloaded_key_keeps_its_kid_and_bad_bytes_are_refused() {
        let key = SigningKey::generate(IdTokenAlg::Es256).unwrap();
        let again = SigningKey::from_pkcs8(IdTokenAlg::Es256, key.pkcs8()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.public_jwk(), key.public_jwk());
        let json = serde_json::to_value(key.public_jwk()).unwrap();
        assert_eq!(json["kty"], "EC");
        assert_eq!(json["crv"], "P-256");
        assert_eq!(json["use"], "sig");
        assert_eq!(json["alg"], "ES256");
        assert!(json.get("d").is_none(), "no private part in the public JWK");
        assert!(SigningKey::from_pkcs8(IdTokenAlg::Es256, b"not a key").is_err());
        assert!(format!("{key:?}").contains(key.kid()) && !format!("{key:?}").contains("pkcs8"));
    }

    #[test]
    fn rs256_keys_are_2048_bit_rsa_sign_through_aws_lc_and_verify_with_their_jwk() {
        let started = std::time::Instant::now();
        let key = SigningKey::generate(IdTokenAlg::Rs256).unwrap();
        eprintln!("RSA 2048 generation: {:?}", started.elapsed());
        let json = serde_json::to_value(key.public_jwk()).unwrap();
        assert_eq!(
            (json["kty"].as_str(), json["alg"].as_str()),
            (Some("RSA"), Some("RS256"))
        );
        assert!(
            json.get("d").is_none() && json.get("p").is_none(),
            "public only"
        );
        let n = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            json["n"].as_str().unwrap(),
        )
        .unwrap();
        assert!(n.len() >= 256, "at least 2048 bits");
        let token = key.sign(&claims(), "JWT").unwrap();
        assert_eq!(decode_header(&token).unwrap().alg, Algorithm::RS256);
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&["steward-cli"]);
        let jwk_key = DecodingKey::from_jwk(key.public_jwk()).unwrap();
        assert_eq!(
            decode::<Claims>(&token, &jwk_key, &v).unwrap().claims,
            claims()
        );
        let again = SigningKey::from_pkcs8(IdTokenAlg::Rs256, key.pkcs8()).unwrap();
        assert_eq!(again.kid(), key.kid(), "the kid survives storage");
        assert!(
            SigningKey::from_pkcs8(
                IdTokenAlg::Rs256,
                SigningKey::generate(IdTokenAlg::Es256).unwrap().pkcs8()
            )
            .is_err(),
            "an EC key is not an RSA key"
        );
        let es = SigningKey::generate(IdTokenAlg::Es256).unwrap();
        assert!(
            decode::<Claims>(&token, es.decoding_key(), &v).is_err(),
            "another key does not verify it"
        );
    }
}
