//! NIST SP 800-63B password rules: length, a common-password list, not the username or email.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::error::CoreError;

/// Shortest password.
pub const MIN_LEN: usize = 8;
/// Longest password (characters). Long enough for passphrases, short enough to bound hashing.
pub const MAX_LEN: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .collect()
});

/// Checks a new password against the rules. `field` names the form field in errors.
pub fn check_new_password(
    field: &'static str,
    password: &str,
    username: &str,
    email: &str,
) -> Result<(), CoreError> {
    let err = |why: &str| CoreError::field(field, why.to_string());
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(err("Use at least 8 characters."));
    }
    if len > MAX_LEN {
        return Err(err("Use at most 256 characters."));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err(err(
            "This password is too common. Choose one that is harder to guess.",
        ));
    }
    let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
    if lower == username.to_lowercase()
        || lower == email.to_lowercase()
        || (local_part.len() >= MIN_LEN && lower == local_part)
    {
        return Err(err(
            "Your password must not be your username or email address.",
        ));
    }
    if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        return Err(err("Do not repeat one character."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_long_uncommon_passwords_without_composition_rules() {
        assert!(
            check_new_password(
                "password",
                "correct horse battery staple",
                "ada",
                "ada@example.com"
            )
            .is_ok()
        );
        assert!(
            check_new_password("password", "lowercaseonlybutlong", "ada", "ada@example.com")
                .is_ok()
        );
        assert!(
            check_new_password("password", "ünïcødé-pässwörd", "ada", "ada@example.com").is_ok()
        );
    }

    #[test]
    fn refuses_short_long_common_and_personal_passwords() {
        let bad = |p: &str| {
            check_new_password("password", p, "ada_lovelace", "ada.lovelace@example.com").is_err()
        };
        assert!(bad("short"));
        assert!(bad(&"x".repeat(257)));
        assert!(bad("password"));
        assert!(bad("PassWord1"));
        assert!(bad("qwertyuiop"));
        assert!(bad("Ada_Lovelace"));
        assert!(bad("ada.lovelace@example.com"));
        assert!(bad("ada.lovelace"));
        assert!(bad("aaaaaaaaaa"));
    }

    #[test]
    fn the_bundled_list_is_loaded() {
        assert!(COMMON.len() >= 10_000);
        assert!(COMMON.contains("trustno1"));
    }
}
