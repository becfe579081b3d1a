//! Email address rules: a pragmatic subset of RFC 5321 that real mailboxes use.
//!
//! Addresses are compared as they look, so look-alikes cannot make a second
//! account that passes for someone's: the key that uniqueness and look-ups use
//! is the NFKC form (fullwidth letters folded), with the domain in one IDNA form
//! (`exämple.com` and `xn--exmple-cua.com` are one domain) and every non-ASCII
//! character replaced by its UTS #39 confusable prototype (a Cyrillic `а` is an
//! `a`), lower-cased. Plain ASCII addresses keep the key they always had.

use crate::error::CoreError;
use crate::text::{fold_lookalikes, is_invisible, nfkc};

/// Longest address SMTP can carry (RFC 5321 §4.5.3.1.3 path limit minus the brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// A validated, normalised email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    key: String,
}

impl Email {
    /// Validates and normalises: trims, applies NFKC, puts the domain in its
    /// lower-case Unicode IDNA form, and keeps the local part as typed.
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let err = |why: &str| CoreError::field("email", why.to_string());
        let s = nfkc(raw.trim());
        if s.is_empty() {
            return Err(err("Enter your email address."));
        }
        if s.chars().count() > MAX_EMAIL_LEN {
            return Err(err("An email address can be at most 254 characters."));
        }
        if s.chars().any(is_invisible) {
            return Err(err(
                "The address contains invisible or control characters. Type it again.",
            ));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(err("Enter an email address like name@example.com."));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        // The ASCII (punycode) form is checked label by label; the Unicode form is kept.
        let ascii = idna::domain_to_ascii(domain).unwrap_or_default();
        let domain_ok = !ascii.is_empty()
            && ascii.len() <= 253
            && ascii.contains('.')
            && ascii.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(err("Enter an email address like name@example.com."));
        }
        let domain = idna::domain_to_unicode(&ascii).0;
        let display = format!("{local}@{domain}");
        let key = key_of(local, &domain);
        Ok(Self { display, key })
    }

    /// The address to store and to send mail to.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The key that uniqueness and look-ups use: case and look-alikes folded.
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn key_of(local: &str, domain: &str) -> String {
    format!("{}@{}", fold_lookalikes(local), fold_lookalikes(domain))
}

/// The look-up key for a presented address, without validation (for sign-in and
/// recovery): the same as [`Email::key`] for every address [`Email::parse`] accepts.
pub fn email_key(raw: &str) -> String {
    let s = nfkc(raw.trim());
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = match idna::domain_to_ascii(domain) {
                Ok(ascii) => idna::domain_to_unicode(&ascii).0,
                Err(_) => domain.to_owned(),
            };
            key_of(local, &domain)
        }
        None => fold_lookalikes(&s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_domain_and_keys_ignore_case() {
        let e = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ada.Lovelace@example.com");
        assert_eq!(e.key(), "ada.lovelace@example.com");
        assert_eq!(email_key(" ADA.lovelace@example.com"), e.key());
    }

    #[test]
    fn look_alike_addresses_share_a_key_and_ascii_keys_do_not_change() {
        let ada = Email::parse("ada@example.com").unwrap();
        for twin in [
            "\u{0430}da@example.com",       // Cyrillic а
            "ＡＤＡ@ＥＸＡＭＰＬＥ.ＣＯＭ", // fullwidth, even the @
            "ada@ex\u{0430}mple.com",       // Cyrillic а in the domain
            "ada@EXAMPLE.com",
        ] {
            let e = Email::parse(twin).unwrap();
            assert_eq!(e.key(), ada.key(), "{twin:?}");
            assert_eq!(email_key(twin), ada.key(), "{twin:?}");
        }
        // One IDN, written either way, is one domain; and it is shown in Unicode.
        let idn = Email::parse("ada@Bücher.example").unwrap();
        let puny = Email::parse("ada@xn--bcher-kva.example").unwrap();
        assert_eq!(idn.key(), puny.key());
        assert_eq!(puny.as_str(), "ada@bücher.example");
        assert_ne!(idn.key(), Email::parse("ada@bucher.example").unwrap().key());
        // Distinct ASCII addresses stay distinct, keyed as before (lower case).
        assert_ne!(
            Email::parse("bob1@example.com").unwrap().key(),
            Email::parse("bobl@example.com").unwrap().key()
        );
        assert_eq!(
            Email::parse("Ada.Lovelace+x@Example.COM").unwrap().key(),
            "ada.lovelace+x@example.com"
        );
    }

    #[test]
    fn invisible_characters_are_refused() {
        for bad in [
            "ad\u{200B}a@example.com",
            "ada@exa\u{00AD}mple.com",
            "ada\u{202E}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accepts_plus_addressing_and_subdomains() {
        assert!(Email::parse("a+tag@mail.example.co.uk").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@example",
            "a@@example.com",
            "a b@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example..com",
            "<script>@example.com",
            "a@exa_mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
        let huge = format!("a@{}.com", "b".repeat(300));
        assert!(Email::parse(&huge).is_err());
    }
}
