//! Email address rules: a pragmatic subset of RFC 5321 that real mailboxes use.

use crate::error::CoreError;

/// Longest address SMTP can carry (RFC 5321 §4.5.3.1.3 path limit minus the brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// A validated, normalised email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    key: String,
}

impl Email {
    /// Validates and normalises: trims, lower-cases the domain, keeps the local part as typed.
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let err = |why: &str| CoreError::field("email", why.to_string());
        let s = raw.trim();
        if s.is_empty() {
            return Err(err("Enter your email address."));
        }
        if s.chars().count() > MAX_EMAIL_LEN {
            return Err(err("An email address can be at most 254 characters."));
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
        let domain = domain.to_lowercase();
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(err("Enter an email address like name@example.com."));
        }
        let display = format!("{local}@{domain}");
        let key = display.to_lowercase();
        Ok(Self { display, key })
    }

    /// The address to store and to send mail to.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-insensitive key that uniqueness and lookups use.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The lookup key for a presented address, without validation (for sign-in).
pub fn email_key(raw: &str) -> String {
    raw.trim().to_lowercase()
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
