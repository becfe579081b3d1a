//! The credentials file: every account signed in with `steward login`, and
//! which one is active.
//!
//! It lives at `credentials.json` in `$STEWARD_CONFIG_DIR` if set, else in
//! `$XDG_CONFIG_HOME/steward/`, else in `$HOME/.config/steward/`. The
//! directory is created owner-only (0700) and the file is owner-only (0600);
//! a file found readable by others is set back to 0600 with a warning. Every
//! change is written to a temporary file in the same directory, flushed to
//! disk and renamed over the old one, so a crash leaves either the old file or
//! the new one, never half of one.
//!
//! Read-modify-write sequences (login, logout, switch, and above all token
//! refresh, where the server rotates the refresh token and a reused one ends
//! the login) hold an exclusive lock on `credentials.lock` beside it, so two
//! `steward` processes never refresh the same token.
//!
//! The OS keyring is not used: the tokens are protected by the file's
//! permissions, like SSH keys and other command-line tools' credentials.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{CliError, Result};
use crate::secret::Secret;

/// Name of the credentials file inside the configuration directory.
pub const FILE_NAME: &str = "credentials.json";
/// Name of the lock file beside it.
pub const LOCK_NAME: &str = "credentials.lock";
/// The only format version written and read.
pub const VERSION: u32 = 1;

/// The whole credentials file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// Always [`VERSION`].
    pub version: u32,
    /// [`StoredAccount::key`] of the account commands act as.
    #[serde(default)]
    pub active: Option<String>,
    /// Signed-in accounts, in the order they were first added.
    #[serde(default)]
    pub accounts: Vec<StoredAccount>,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            version: VERSION,
            active: None,
            accounts: Vec::new(),
        }
    }
}

/// One account signed in on one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAccount {
    /// Base URL the person gave, without a trailing slash.
    pub server: String,
    /// `issuer` from the server's OpenID configuration.
    pub issuer: String,
    /// `sub`: the account's id on that issuer.
    pub account_id: String,
    /// Username when last seen.
    pub username: String,
    /// Email address when last seen.
    pub email: String,
    /// Bearer token for the API; `null` once the sign-in expired or was revoked.
    #[serde(default)]
    pub access_token: Option<Secret>,
    /// When `access_token` stops working.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub access_expires_at: Option<OffsetDateTime>,
    /// Single-use token for a new access token (rotated on every refresh).
    #[serde(default)]
    pub refresh_token: Option<Secret>,
}

impl StoredAccount {
    /// Identity of the account across logins: issuer and subject.
    pub fn key(&self) -> String {
        account_key(&self.issuer, &self.account_id)
    }

    /// Whether tokens are stored (false after the sign-in expired or was revoked).
    pub fn signed_in(&self) -> bool {
        self.access_token.is_some() || self.refresh_token.is_some()
    }

    /// `host` or `host:port` of the server.
    pub fn host(&self) -> String {
        url::Url::parse(&self.server)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| self.server.clone())
    }

    /// `username@host`: a name that tells accounts on different servers apart.
    pub fn qualified_name(&self) -> String {
        format!("{}@{}", self.username, self.host())
    }

    /// `alice (alice@example.com) on https://accounts.example.com`.
    pub fn label(&self) -> String {
        format!("{} ({}) on {}", self.username, self.email, self.server)
    }

    /// Forgets the tokens, keeping the account listed as signed out.
    pub fn drop_tokens(&mut self) {
        self.access_token = None;
        self.access_expires_at = None;
        self.refresh_token = None;
    }
}

/// The key [`Credentials::active`] holds: `{issuer}#{sub}` (an issuer has no fragment).
pub fn account_key(issuer: &str, sub: &str) -> String {
    format!("{issuer}#{sub}")
}

impl Credentials {
    /// The account with this key.
    pub fn get(&self, key: &str) -> Option<&StoredAccount> {
        self.accounts.iter().find(|a| a.key() == key)
    }

    /// The account with this key, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut StoredAccount> {
        self.accounts.iter_mut().find(|a| a.key() == key)
    }

    /// The active account, if any.
    pub fn active_account(&self) -> Option<&StoredAccount> {
        self.active.as_deref().and_then(|k| self.get(k))
    }

    /// Adds the account, or replaces the stored one with the same issuer and
    /// subject in place; returns its key.
    pub fn upsert(&mut self, account: StoredAccount) -> String {
        let key = account.key();
        match self.accounts.iter_mut().find(|a| a.key() == key) {
            Some(existing) => *existing = account,
            None => self.accounts.push(account),
        }
        key
    }

    /// Makes the account with this key the active one; false if there is none.
    pub fn set_active(&mut self, key: &str) -> bool {
        if self.get(key).is_some() {
            self.active = Some(key.to_owned());
            true
        } else {
            false
        }
    }

    /// Removes an account. If it was the active one, another becomes active
    /// (the first still signed in, else the first left), or none.
    pub fn remove(&mut self, key: &str) -> Option<Removed> {
        let index = self.accounts.iter().position(|a| a.key() == key)?;
        let account = self.accounts.remove(index);
        let was_active = self.active.as_deref() == Some(key);
        if was_active {
            self.active = self
                .accounts
                .iter()
                .find(|a| a.signed_in())
                .or_else(|| self.accounts.first())
                .map(StoredAccount::key);
        }
        Some(Removed {
            account,
            was_active,
        })
    }

    /// Finds an account by username or email (case-insensitive), or by
    /// `username@host` when the same name exists on several servers.
    pub fn find(&self, name: &str) -> Result<&StoredAccount> {
        let wanted = name.trim();
        let matches: Vec<&StoredAccount> = self
            .accounts
            .iter()
            .filter(|a| {
                a.username.eq_ignore_ascii_case(wanted)
                    || a.email.eq_ignore_ascii_case(wanted)
                    || a.qualified_name().eq_ignore_ascii_case(wanted)
            })
            .collect();
        // An exact `username@host` wins over an email that merely looks like one.
        let qualified: Vec<&StoredAccount> = matches
            .iter()
            .copied()
            .filter(|a| a.qualified_name().eq_ignore_ascii_case(wanted))
            .collect();
        match (matches.as_slice(), qualified.as_slice()) {
            ([], _) => Err(CliError::UnknownAccount(wanted.to_owned())),
            ([one], _) | (_, [one]) => Ok(one),
            (many, _) => Err(CliError::AmbiguousAccount {
                name: wanted.to_owned(),
                candidates: many
                    .iter()
                    .map(|a| a.qualified_name())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// What [`Credentials::remove`] took out.
#[derive(Debug)]
pub struct Removed {
    /// The account removed.
    pub account: StoredAccount,
    /// Whether it was the active one (and so `active` changed).
    pub was_active: bool,
}

/// Where the credentials file is, and how to read and replace it.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// An exclusive hold on the credentials; released when dropped.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl Store {
    /// The store in the directory the environment names (see the module doc).
    pub fn from_env() -> Result<Self> {
        config_dir(
            std::env::var_os("STEWARD_CONFIG_DIR"),
            std::env::var_os("XDG_CONFIG_HOME"),
            std::env::var_os("HOME"),
        )
        .map(Self::at)
        .ok_or(CliError::NoConfigDir)
    }

    /// The store in this directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The credentials file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Reads the file; an absent file is an empty store. A file that others
    /// could read is set back to 0600, with a warning on stderr.
    pub fn load(&self) -> Result<Credentials> {
        let path = self.path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Credentials::default()),
            Err(source) => return Err(CliError::Store { path, source }),
        };
        if self.fix_permissions()? {
            eprintln!(
                "warning: {} could be read by other users; its permissions are now 0600 (owner only).",
                path.display()
            );
        }
        let creds: Credentials =
            serde_json::from_str(&text).map_err(|e| CliError::CorruptStore {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if creds.version != VERSION {
            return Err(CliError::CorruptStore {
                path,
                reason: format!(
                    "format version {} is not the {VERSION} this steward knows",
                    creds.version
                ),
            });
        }
        Ok(creds)
    }

    /// Sets the file to 0600 if group or others have any access; returns
    /// whether it had to.
    pub fn fix_permissions(&self) -> Result<bool> {
        let path = self.path();
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(source) => return Err(CliError::Store { path, source }),
        };
        if meta.permissions().mode() & 0o077 == 0 {
            return Ok(false);
        }
        fs::set_permissions(&path, Permissions::from_mode(0o600))
            .map_err(|source| CliError::Store { path, source })?;
        Ok(true)
    }

    /// Replaces the file with `creds`: written to a temporary 0600 file in the
    /// same directory, flushed to disk, then renamed over the old one.
    pub fn save(&self, creds: &Credentials) -> Result<()> {
        self.ensure_dir()?;
        let json = serde_json::to_vec_pretty(creds).map_err(|e| CliError::Store {
            path: self.path(),
            source: std::io::Error::other(e),
        })?;
        let suffix: u64 = rand::rng().random();
        let tmp = self.dir.join(format!(
            ".{FILE_NAME}.{}.{suffix:016x}.tmp",
            std::process::id()
        ));
        let written = write_new_file(&tmp, &json).and_then(|()| fs::rename(&tmp, self.path()));
        if let Err(source) = written {
            let _ = fs::remove_file(&tmp);
            return Err(CliError::Store {
                path: self.path(),
                source,
            });
        }
        // Make the rename itself durable.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Waits for and takes the exclusive lock on the credentials.
    pub fn lock(&self) -> Result<StoreLock> {
        self.ensure_dir()?;
        let path = self.dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| CliError::Store {
                path: path.clone(),
                source,
            })?;
        file.lock()
            .map_err(|source| CliError::Store { path, source })?;
        Ok(StoreLock { _file: file })
    }

    /// Creates the directory (0700) if it is missing.
    fn ensure_dir(&self) -> Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|source| CliError::Store {
                path: self.dir.clone(),
                source,
            })
    }
}

fn write_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// The configuration directory from `STEWARD_CONFIG_DIR`, `XDG_CONFIG_HOME`
/// (only if absolute, as the XDG spec says) and `HOME`, in that order.
pub fn config_dir(
    steward: Option<OsString>,
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|s| !s.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(steward) {
        return Some(dir);
    }
    if let Some(xdg) = set(xdg).filter(|p| p.is_absolute()) {
        return Some(xdg.join("steward"));
    }
    set(home).map(|h| h.join(".config").join("steward"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(issuer: &str, sub: &str, username: &str) -> StoredAccount {
        StoredAccount {
            server: issuer.trim_end_matches('/').to_owned(),
            issuer: issuer.to_owned(),
            account_id: sub.to_owned(),
            username: username.to_owned(),
            email: format!("{username}@example.com"),
            access_token: Some(Secret::new(format!("at-{username}"))),
            access_expires_at: Some(OffsetDateTime::UNIX_EPOCH),
            refresh_token: Some(Secret::new(format!("rt-{username}"))),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn config_dir_precedence() {
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(
            config_dir(s("/a"), s("/x"), s("/h")),
            Some(PathBuf::from("/a"))
        );
        assert_eq!(
            config_dir(None, s("/x"), s("/h")),
            Some(PathBuf::from("/x/steward"))
        );
        assert_eq!(
            config_dir(s(""), s("relative"), s("/h")),
            Some(PathBuf::from("/h/.config/steward"))
        );
        assert_eq!(config_dir(None, None, None), None);
    }

    #[test]
    fn file_is_owner_only_and_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path().join("steward"));
        assert_eq!(store.load().unwrap(), Credentials::default());
        assert!(!store.path().exists(), "loading creates nothing");

        let mut creds = Credentials::default();
        let key = creds.upsert(account("https://a.example/", "1", "alice"));
        creds.set_active(&key);
        store.save(&creds).unwrap();

        assert_eq!(mode(&store.path()), 0o600);
        assert_eq!(mode(&tmp.path().join("steward")), 0o700);
        assert_eq!(store.load().unwrap(), creds);
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
        assert!(text.contains("\"access_expires_at\": \"1970-01-01T00:00:00Z\""));
    }

    #[test]
    fn replacing_is_atomic_and_leaves_no_temporary_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path());
        let mut creds = Credentials::default();
        creds.upsert(account("https://a.example/", "1", "alice"));
        store.save(&creds).unwrap();
        let before = fs::metadata(store.path()).unwrap();

        creds.upsert(account("https://a.example/", "2", "bob"));
        store.save(&creds).unwrap();

        use std::os::unix::fs::MetadataExt;
        let after = fs::metadata(store.path()).unwrap();
        assert_ne!(before.ino(), after.ino(), "a new file was renamed in");
        assert_eq!(mode(&store.path()), 0o600);
        assert_eq!(store.load().unwrap().accounts.len(), 2);
        let names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![FILE_NAME.to_owned()]);
    }

    #[test]
    fn loose_permissions_are_fixed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path());
        store.save(&Credentials::default()).unwrap();
        fs::set_permissions(store.path(), Permissions::from_mode(0o644)).unwrap();
        assert!(store.load().is_ok());
        assert_eq!(mode(&store.path()), 0o600);
        assert!(!store.fix_permissions().unwrap());
    }

    #[test]
    fn damaged_file_is_reported_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path());
        fs::write(store.path(), "{not json").unwrap();
        let err = store.load().unwrap_err();
        assert!(matches!(err, CliError::CorruptStore { .. }), "{err}");
        assert!(err.to_string().contains("move it away"));
    }

    #[test]
    fn same_account_logging_in_again_replaces_its_entry() {
        let mut creds = Credentials::default();
        creds.upsert(account("https://a.example/", "1", "alice"));
        creds.upsert(account("https://a.example/", "2", "bob"));
        let mut again = account("https://a.example/", "1", "alice2");
        again.refresh_token = Some(Secret::new("new"));
        creds.upsert(again);
        assert_eq!(creds.accounts.len(), 2);
        assert_eq!(creds.accounts[0].username, "alice2");
        assert_eq!(
            creds.accounts[0].refresh_token.as_ref().unwrap().expose(),
            "new"
        );
        // Same subject on another issuer is another account.
        creds.upsert(account("https://b.example/", "1", "alice"));
        assert_eq!(creds.accounts.len(), 3);
    }

    #[test]
    fn switching_and_finding_by_name() {
        let mut creds = Credentials::default();
        let a = creds.upsert(account("https://a.example/", "1", "alice"));
        let b = creds.upsert(account("https://a.example/", "2", "bob"));
        let c = creds.upsert(account("https://b.example:8443/", "9", "alice"));
        assert!(creds.set_active(&a));
        assert!(!creds.set_active("nope"));
        assert_eq!(creds.active_account().unwrap().key(), a);

        assert_eq!(creds.find("BOB").unwrap().key(), b);
        assert_eq!(creds.find("bob@example.com").unwrap().key(), b);
        let err = creds.find("alice").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"alice\" matches several accounts: alice@a.example, alice@b.example:8443. Name one of them exactly."
        );
        assert_eq!(creds.find("alice@b.example:8443").unwrap().key(), c);
        assert_eq!(creds.find("Alice@A.example").unwrap().key(), a);
        assert!(matches!(
            creds.find("carol"),
            Err(CliError::UnknownAccount(_))
        ));
    }

    #[test]
    fn removing_the_active_account_picks_another() {
        let mut creds = Credentials::default();
        let a = creds.upsert(account("https://a.example/", "1", "alice"));
        let b = creds.upsert(account("https://a.example/", "2", "bob"));
        let c = creds.upsert(account("https://a.example/", "3", "carol"));
        creds.get_mut(&b).unwrap().drop_tokens();
        creds.set_active(&a);

        // Not active: active stays.
        let removed = creds.remove(&c).unwrap();
        assert!(!removed.was_active);
        assert_eq!(creds.active.as_deref(), Some(a.as_str()));

        let c = creds.upsert(account("https://a.example/", "3", "carol"));
        let removed = creds.remove(&a).unwrap();
        assert!(removed.was_active);
        assert_eq!(removed.account.username, "alice");
        // bob is signed out, so carol (still signed in) becomes active.
        assert_eq!(creds.active.as_deref(), Some(c.as_str()));

        creds.remove(&c).unwrap();
        assert_eq!(creds.active.as_deref(), Some(b.as_str()));
        creds.remove(&b).unwrap();
        assert_eq!(creds.active, None);
        assert!(creds.remove(&b).is_none());
    }

    #[test]
    fn lock_is_exclusive() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path());
        let held = store.lock().unwrap();
        let other = File::open(tmp.path().join(LOCK_NAME)).unwrap();
        assert!(other.try_lock().is_err());
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
