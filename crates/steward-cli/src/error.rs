//! Everything that can go wrong, each worded for the person at the terminal.
//!
//! `Display` is the whole message `steward` prints on stderr before exiting
//! with status 1; no variant carries a token, so none can print one.

use std::path::PathBuf;
use std::time::Duration;

/// A failed command, as the person running it should read it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server did not answer at all.
    #[error("Cannot reach the Steward server at {server} ({reason}). Is it running?")]
    Unreachable {
        /// Base URL of the server.
        server: String,
        /// "connection refused", "timed out", ...
        reason: String,
    },
    /// `--server` (or `STEWARD_SERVER`) is not a usable URL.
    #[error(
        "\"{0}\" is not a server address; give an http:// or https:// URL such as https://accounts.example.com"
    )]
    BadServerUrl(String),
    /// The server answered, but not with an OpenID configuration.
    #[error(
        "The server at {server} does not offer OpenID Connect sign-in ({reason}). Is it a Steward server?"
    )]
    Discovery {
        /// Base URL of the server.
        server: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// The server has no device authorization endpoint.
    #[error(
        "The server at {0} does not offer sign-in with a code; run `steward login` without --device."
    )]
    NoDeviceGrant(String),
    /// No stored account to act as.
    #[error("Not signed in. Run `steward login`.")]
    NotSignedIn,
    /// Accounts are stored, but none is active.
    #[error(
        "No account is active. Run `steward switch NAME` (see `steward accounts`) or `steward login`."
    )]
    NoActiveAccount,
    /// No stored account on the server named with `--server`.
    #[error("Not signed in to {0}. Run `steward login --server {0}`.")]
    NotSignedInTo(String),
    /// Several stored accounts on the server named with `--server`, none of them active.
    #[error(
        "Several accounts are signed in to {server} ({names}); run `steward switch NAME` to choose one."
    )]
    SeveralOnServer {
        /// Base URL of the server.
        server: String,
        /// `username@host` of each.
        names: String,
    },
    /// The refresh token is gone, expired or revoked.
    #[error("Your sign-in as {0} has expired or was revoked; run `steward login` again.")]
    LoginExpired(String),
    /// Ctrl-C during `steward login`.
    #[error("Login cancelled; nothing was stored.")]
    LoginCancelled,
    /// Nobody came back from the browser in time.
    #[error("Login timed out after {}; nothing was stored. Run `steward login` again.", human_duration(*.0))]
    LoginTimedOut(Duration),
    /// The `state` on the callback is not the one this login sent.
    #[error(
        "The browser came back with an answer that does not belong to this login (state mismatch); nothing was stored. Run `steward login` again."
    )]
    StateMismatch,
    /// The ID token does not belong to this login (nonce, audience or issuer).
    #[error("The server's ID token does not belong to this login ({0}); nothing was stored.")]
    BadIdToken(String),
    /// The person refused, or the server refused, in the browser.
    #[error("Sign-in was refused in the browser.")]
    AccessDenied,
    /// The authorization server redirected back with another error.
    #[error("Sign-in failed: {description} ({code}). Run `steward login` again.")]
    Authorization {
        /// The `error` parameter.
        code: String,
        /// `error_description`, or a sentence for the code.
        description: String,
    },
    /// The device code ran out before anyone approved it.
    #[error("The code expired; run `steward login --device` again.")]
    DeviceExpired,
    /// The token or device endpoint refused a request.
    #[error("The server refused the request: {description} ({code}).")]
    OAuth {
        /// The RFC 6749 `error` code.
        code: String,
        /// `error_description`, or the code again.
        description: String,
    },
    /// The API answered with an error body.
    #[error("{message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code (`not_found`, ...).
        code: String,
        /// The server's sentence.
        message: String,
    },
    /// The server answered something this client does not understand.
    #[error("Unexpected answer from the server at {server}: {reason}")]
    Protocol {
        /// Base URL of the server.
        server: String,
        /// What was unexpected.
        reason: String,
    },
    /// No stored account matches the name given to `switch` or `logout`.
    #[error("No stored account is called \"{0}\". Run `steward accounts` to see them.")]
    UnknownAccount(String),
    /// A command argument that cannot be right.
    #[error("{0}")]
    Usage(String),
    /// The name matches accounts on several servers.
    #[error("\"{name}\" matches several accounts: {candidates}. Name one of them exactly.")]
    AmbiguousAccount {
        /// The name given.
        name: String,
        /// `username@host` of each match.
        candidates: String,
    },
    /// No session with that id among this account's sessions.
    #[error("No session {0} on this account. Run `steward sessions` to see them.")]
    UnknownSession(String),
    /// A session id prefix that matches several sessions.
    #[error("\"{0}\" matches several sessions; give more of the id.")]
    AmbiguousSession(String),
    /// `steward sessions revoke ID` for the CLI's own session.
    #[error("That is this computer's own sign-in; use `steward logout` to end it.")]
    OwnSession,
    /// Reading or writing the credentials file failed.
    #[error("Cannot use the credentials file {}: {source}", path.display())]
    Store {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The credentials file is not valid JSON of the expected shape.
    #[error(
        "The credentials file {} is damaged ({reason}); move it away and run `steward login` again.", path.display()
    )]
    CorruptStore {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// Neither `STEWARD_CONFIG_DIR`, `XDG_CONFIG_HOME` nor `HOME` is set.
    #[error(
        "Cannot find where to keep credentials: set STEWARD_CONFIG_DIR (or HOME) to a directory."
    )]
    NoConfigDir,
    /// The HTTP client could not be set up.
    #[error("Cannot set up the HTTP client: {0}")]
    Client(String),
    /// The loopback listener could not start.
    #[error("Cannot listen on 127.0.0.1 for the browser's answer: {0}")]
    Loopback(std::io::Error),
}

/// `Result` with a [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Removes control characters (escape sequences included) from text the
/// server or another device chose, before it reaches the terminal.
pub fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// "5 minutes", "1 minute", "90 seconds", "1 second".
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if secs >= 60 && secs.is_multiple_of(60) {
        plural(secs / 60, "minute")
    } else if secs == 0 {
        format!("{} ms", d.as_millis())
    } else {
        plural(secs, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_specified() {
        assert_eq!(
            CliError::LoginTimedOut(Duration::from_secs(300)).to_string(),
            "Login timed out after 5 minutes; nothing was stored. Run `steward login` again."
        );
        assert_eq!(
            CliError::Unreachable {
                server: "http://127.0.0.1:9".into(),
                reason: "connection refused".into()
            }
            .to_string(),
            "Cannot reach the Steward server at http://127.0.0.1:9 (connection refused). Is it running?"
        );
        assert_eq!(
            CliError::LoginExpired("alice".into()).to_string(),
            "Your sign-in as alice has expired or was revoked; run `steward login` again."
        );
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_secs(60)), "1 minute");
        assert_eq!(human_duration(Duration::from_millis(200)), "200 ms");
    }
}
