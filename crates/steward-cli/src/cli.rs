//! Command-line syntax of `steward`.

use clap::{Args, Parser, Subcommand};

/// Sign in to a Steward server from the terminal, and manage your accounts and
/// signed-in devices.
#[derive(Debug, Parser)]
#[command(name = "steward", version, propagate_version = true)]
pub struct Cli {
    /// Steward server address, e.g. https://accounts.example.com. Defaults to
    /// the active account's server, else http://127.0.0.1:8080.
    #[arg(long, global = true, env = "STEWARD_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in through the browser and make that account the active one.
    Login(LoginArgs),
    /// Sign out (the active account, a named one, or all) and forget its tokens.
    Logout(LogoutArgs),
    /// List the accounts signed in on this computer; `*` marks the active one.
    Accounts,
    /// Make another signed-in account the active one.
    Switch {
        /// Username or email; `username@host` when the same name exists on several servers.
        name: String,
    },
    /// Show the active account, as the server sees it.
    Whoami,
    /// List your signed-in sessions, or sign some out.
    Sessions(SessionsArgs),
    /// Show your profile, or change it with `steward profile set`.
    Profile(ProfileArgs),
    /// Your notifications (the bell) and notification preferences.
    Notifications(NotificationsArgs),
}

/// `steward profile [set ...]`.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    /// What to do (default: show).
    #[command(subcommand)]
    pub action: Option<ProfileAction>,
}

/// Profile actions.
#[derive(Debug, Clone, Subcommand)]
pub enum ProfileAction {
    /// Show the profile.
    Show,
    /// Change fields; an empty value ("") clears one. Other fields are kept.
    Set(ProfileSet),
}

/// Fields `steward profile set` can change.
#[derive(Debug, Clone, Default, Args)]
pub struct ProfileSet {
    /// Name.
    #[arg(long)]
    pub name: Option<String>,
    /// Role.
    #[arg(long)]
    pub role: Option<String>,
    /// Company.
    #[arg(long)]
    pub company: Option<String>,
    /// About text.
    #[arg(long)]
    pub about: Option<String>,
    /// Website URL.
    #[arg(long)]
    pub website: Option<String>,
    /// GitHub URL.
    #[arg(long)]
    pub github: Option<String>,
    /// X (Twitter) URL.
    #[arg(long)]
    pub x: Option<String>,
    /// LinkedIn URL.
    #[arg(long)]
    pub linkedin: Option<String>,
    /// Make the profile public at /@username.
    #[arg(long, conflicts_with = "private")]
    pub public: bool,
    /// Make the profile private.
    #[arg(long)]
    pub private: bool,
}

/// `steward notifications [...]`.
#[derive(Debug, Clone, Args)]
pub struct NotificationsArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<NotificationsAction>,
}

/// Notification actions.
#[derive(Debug, Clone, Subcommand)]
pub enum NotificationsAction {
    /// List the latest notifications (`*` marks unread ones).
    List,
    /// Mark one notification (or `--all`) read.
    Read {
        /// Notification id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Every notification.
        #[arg(long)]
        all: bool,
    },
    /// Show notification preferences.
    Prefs,
    /// Turn a category's email or in-app notifications on or off.
    Set {
        /// `security`, `usage`, `monitors` or `comments`.
        category: String,
        /// Email: on or off.
        #[arg(long, value_parser = on_off)]
        email: Option<bool>,
        /// In the app: on or off.
        #[arg(long = "in-app", value_parser = on_off)]
        in_app: Option<bool>,
    },
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("use on or off".into()),
    }
}

/// `steward login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Sign in on another device by entering a short code (for machines
    /// without a browser, e.g. over SSH).
    #[arg(long)]
    pub device: bool,
    /// Do not try to open a browser; just print the address to visit.
    #[arg(
        long,
        env = "STEWARD_NO_BROWSER",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub no_browser: bool,
}

/// `steward logout`.
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// Account to sign out (username, email or `username@host`); the active one if omitted.
    #[arg(conflicts_with = "all")]
    pub name: Option<String>,
    /// Sign out every account stored on this computer.
    #[arg(long)]
    pub all: bool,
}

/// `steward sessions`.
#[derive(Debug, Clone, Args)]
pub struct SessionsArgs {
    /// `list` (the default) or `revoke`.
    #[command(subcommand)]
    pub action: Option<SessionsAction>,
}

/// `steward sessions list|revoke`.
#[derive(Debug, Clone, Subcommand)]
pub enum SessionsAction {
    /// List the active account's sessions; `*` marks this computer's.
    List,
    /// Sign out one session, or all but this computer's.
    Revoke {
        /// Session id from `steward sessions` (a unique prefix is enough).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Sign out every other session of the account.
        #[arg(long)]
        all: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_forms() {
        let cli =
            Cli::try_parse_from(["steward", "login", "--server", "https://x", "--device"]).unwrap();
        assert_eq!(cli.server.as_deref(), Some("https://x"));
        assert!(matches!(
            cli.command,
            Command::Login(LoginArgs { device: true, .. })
        ));

        let cli = Cli::try_parse_from(["steward", "sessions"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Sessions(SessionsArgs { action: None })
        ));
        let cli = Cli::try_parse_from(["steward", "sessions", "revoke", "--all"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Sessions(SessionsArgs {
                action: Some(SessionsAction::Revoke {
                    id: None,
                    all: true
                })
            })
        ));
        assert!(Cli::try_parse_from(["steward", "sessions", "revoke"]).is_err());
        assert!(Cli::try_parse_from(["steward", "sessions", "revoke", "x", "--all"]).is_err());
        assert!(Cli::try_parse_from(["steward", "logout", "bob", "--all"]).is_err());
        let cli = Cli::try_parse_from(["steward", "switch", "bob@example.com"]).unwrap();
        assert!(matches!(cli.command, Command::Switch { name } if name == "bob@example.com"));
    }
}
