//! The settings the domain rules depend on. The server fills this from its config.

use std::time::Duration;

/// Settings of the domain rules (defaults from DESIGN.md).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Base URL that links in emails point at, without a trailing slash.
    pub public_url: String,
    /// Product name used in emails and pages.
    pub product_name: String,
    /// Argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
    /// Argon2id parallelism.
    pub argon2_parallelism: u32,
    /// How many hashes may run at once (defaults to the number of cores).
    pub hash_concurrency: usize,
    /// How many sign-ins nothing vouches for may wait for the hasher; more are turned
    /// away at once (503) instead of making everyone wait.
    pub hash_open_backlog: usize,
    /// How many vouched attempts may wait (one per account) before more are turned away.
    pub hash_priority_backlog: usize,
    /// Priority-lane hashes one account may have per sign-in window; beyond, its
    /// attempts wait in the open lane like anyone's.
    pub priority_hashes_per_account: u32,
    /// Session lifetime with "Keep me signed in".
    pub session_remember: time::Duration,
    /// Session lifetime without it, counted from the last request (idle timeout).
    pub session_short: time::Duration,
    /// However much it is used, a session without "Keep me signed in" ends this long
    /// after sign-in.
    pub session_short_absolute: time::Duration,
    /// Email confirmation link lifetime.
    pub verify_email_ttl: time::Duration,
    /// Password reset link lifetime.
    pub reset_password_ttl: time::Duration,
    /// Proof-of-work difficulty: the largest number a solver may have to try.
    pub challenge_max_number: u64,
    /// The same for a strong challenge (one more email past an address's quota).
    pub challenge_strong_max_number: u64,
    /// How long a challenge may be answered.
    pub challenge_ttl: Duration,
    /// Version of the Terms of Use a sign-up accepts.
    pub terms_version: String,
    /// Version of the Privacy Policy a sign-up accepts.
    pub privacy_version: String,
    /// Minimum age to hold an account.
    pub minimum_age: u8,
    /// Failed sign-ins on one identifier (email or username, as typed and normalised)
    /// before each further attempt needs a solved proof of work.
    pub signin_failures_per_account: u32,
    /// Failed sign-ins on one account from browsers that signed in to it before
    /// (device cookie) before those need a proof of work too.
    pub signin_failures_vouched: u32,
    /// Wrong current passwords one session may give (password and email changes)
    /// before it must wait for the window to end.
    pub reauth_failures_per_session: u32,
    /// The window those failures are counted in.
    pub signin_failure_window: Duration,
    /// Longest a validated session is served from memory (zero: always ask the store).
    /// Changes made through Steward reach every node's cache at once regardless.
    pub session_cache_ttl: Duration,
    /// How long security activity is kept.
    pub activity_retention: time::Duration,
    /// How long IP addresses and User-Agents in security activity are kept.
    pub activity_ip_retention: time::Duration,
    /// Emails sent on request (sign-up, confirmation, recovery) to one address per hour.
    pub emails_per_address_per_hour: u32,
    /// Emails an account's own devices may still ask for per hour once its address's
    /// quota is used up by others.
    pub emails_per_account_per_hour: u32,
    /// Emails one address may still be sent per hour past its quota for requests that
    /// did a strong proof of work.
    pub emails_per_address_strong_per_hour: u32,
    /// Photo uploads one account may make per hour (each is decoded, refused or not).
    pub photo_uploads_per_account_per_hour: u32,
    /// How long an OAuth access token (and ID token) lives.
    pub oauth_access_ttl: time::Duration,
    /// How long an app stays signed in without refreshing (each refresh extends it).
    pub oauth_refresh_ttl: time::Duration,
    /// How long a username given up by a change stays reserved (and redirects).
    pub username_hold: time::Duration,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            product_name: "Steward".into(),
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            hash_open_backlog: 4 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            hash_priority_backlog: 64,
            priority_hashes_per_account: 30,
            session_remember: time::Duration::days(30),
            session_short: time::Duration::minutes(30),
            session_short_absolute: time::Duration::hours(12),
            verify_email_ttl: time::Duration::hours(24),
            reset_password_ttl: time::Duration::hours(1),
            challenge_max_number: 100_000,
            challenge_strong_max_number: 1_000_000,
            challenge_ttl: Duration::from_secs(10 * 60),
            terms_version: "2026-11-01".into(),
            privacy_version: "2026-11-01".into(),
            minimum_age: 16,
            signin_failures_per_account: 10,
            signin_failures_vouched: 50,
            reauth_failures_per_session: 10,
            signin_failure_window: Duration::from_secs(15 * 60),
            session_cache_ttl: Duration::from_secs(60),
            activity_retention: time::Duration::days(90),
            activity_ip_retention: time::Duration::days(90),
            emails_per_address_per_hour: 5,
            emails_per_account_per_hour: 5,
            emails_per_address_strong_per_hour: 20,
            photo_uploads_per_account_per_hour: 10,
            oauth_access_ttl: time::Duration::minutes(15),
            oauth_refresh_ttl: time::Duration::days(30),
            username_hold: time::Duration::days(30),
        }
    }
}
