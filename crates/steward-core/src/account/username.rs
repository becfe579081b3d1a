//! Username rules: 3–39 characters of `a-z`, `0-9`, `-`, `_`, unique ignoring case, reserved words refused.

use crate::error::CoreError;

/// Shortest username.
pub const MIN_LEN: usize = 3;
/// Longest username.
pub const MAX_LEN: usize = 39;

/// Names that would impersonate the service or collide with routes.
const RESERVED: &[&str] = &[
    "about",
    "abuse",
    "account",
    "accounts",
    "admin",
    "administrator",
    "api",
    "app",
    "auth",
    "billing",
    "blog",
    "contact",
    "dashboard",
    "docs",
    "help",
    "home",
    "info",
    "legal",
    "login",
    "logout",
    "mail",
    "me",
    "new",
    "noreply",
    "no-reply",
    "null",
    "oauth",
    "postmaster",
    "privacy",
    "root",
    "security",
    "settings",
    "signin",
    "signout",
    "signup",
    "static",
    "status",
    "steward",
    "support",
    "system",
    "team",
    "teams",
    "terms",
    "undefined",
    "user",
    "users",
    "webmaster",
    "www",
];

/// A validated username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates a username; upper-case letters are folded to lower-case.
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let err = |why: &str| CoreError::field("username", why.to_string());
        let s = raw.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(err("Choose a username."));
        }
        let len = s.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(err("A username has 3 to 39 characters."));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(err(
                "A username may use only letters a–z, digits, '-' and '_'.",
            ));
        }
        if RESERVED.contains(&s.as_str()) {
            return Err(err("That username is reserved. Choose another."));
        }
        Ok(Self(s))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accepts_the_allowed_alphabet() {
        assert_eq!(
            Username::parse("Ada_Lovelace-1").unwrap().as_str(),
            "ada_lovelace-1"
        );
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(39)).is_ok());
    }

    #[test]
    fn refuses_bad_lengths_characters_and_reserved_words() {
        for bad in [
            "", "ab", "a b c", "ada.l", "ädä", "admin", "Steward", "<b>x</b>",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Username::parse(&"a".repeat(40)).is_err());
    }
}
