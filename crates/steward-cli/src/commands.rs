//! What each `steward` command does.
//!
//! Results go to stdout; instructions and progress (the sign-in address, the
//! device code, warnings) to stderr. Errors are returned, and `main` prints
//! them on stderr and exits with status 1.

use std::fmt::Display;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

use steward_proto::{Me, Revoked, SessionList, SessionView};
use time::OffsetDateTime;

use crate::api::{self, Authed, DEFAULT_SERVER};
use crate::cli::{Cli, Command, LoginArgs, LogoutArgs, SessionsAction};
use crate::error::{CliError, Result, printable};
use crate::loopback::Loopback;
use crate::oauth::{self, AuthRequest, Discovery, TokenResponse};
use crate::store::{Credentials, Store, StoredAccount};

/// Where a command's output goes.
pub struct Console {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Console")
    }
}

impl Console {
    /// stdout and stderr.
    pub fn stdio() -> Self {
        Self {
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
        }
    }

    /// Prints a line of results on stdout.
    pub fn out(&mut self, line: impl Display) {
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    /// Prints a line of instructions or warnings on stderr.
    pub fn err(&mut self, line: impl Display) {
        let _ = writeln!(self.err, "{line}");
        let _ = self.err.flush();
    }
}

/// How `steward login` opens the sign-in page.
pub enum Browser {
    /// The system's default browser (the `webbrowser` crate).
    System,
    /// None: the person opens the printed address themselves.
    Skip,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::System => "System",
            Self::Skip => "Skip",
        })
    }
}

impl Browser {
    fn open(&self, url: &str) {
        match self {
            Self::System => {
                // On a thread of its own: a text-mode browser may not return
                // until it is closed, and the login must not wait for it.
                let url = url.to_owned();
                let _ = std::thread::Builder::new()
                    .name("open-browser".into())
                    .spawn(move || {
                        let _ = webbrowser::open(&url);
                    });
            }
            Self::Skip => {}
        }
    }
}

/// How to run `steward login`.
#[derive(Debug)]
pub struct LoginOptions {
    /// Device grant instead of the loopback redirect.
    pub device: bool,
    /// How to open the browser (loopback flow only).
    pub browser: Browser,
    /// How long to wait for the browser (5 minutes outside tests).
    pub timeout: Duration,
}

/// Everything a command needs.
#[derive(Debug)]
pub struct Context {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The credentials file.
    pub store: Store,
    /// `--server` or `STEWARD_SERVER`, when given.
    pub server: Option<String>,
    /// Where output goes.
    pub console: Console,
}

/// Runs one parsed command line. `cancel` resolving (Ctrl-C) abandons a login.
pub async fn run(cli: Cli, ctx: &mut Context, cancel: impl Future<Output = ()>) -> Result<()> {
    match cli.command {
        Command::Login(LoginArgs { device, no_browser }) => {
            let options = LoginOptions {
                device,
                browser: if no_browser {
                    Browser::Skip
                } else {
                    Browser::System
                },
                timeout: oauth::LOGIN_TIMEOUT,
            };
            login(ctx, options, cancel).await
        }
        Command::Logout(LogoutArgs { name, all }) => logout(ctx, name.as_deref(), all).await,
        Command::Accounts => accounts(ctx),
        Command::Switch { name } => switch(ctx, &name),
        Command::Whoami => whoami(ctx).await,
        Command::Sessions(args) => match args.action.unwrap_or(SessionsAction::List) {
            SessionsAction::List => sessions_list(ctx).await,
            SessionsAction::Revoke { all: true, .. } => sessions_revoke_all(ctx).await,
            SessionsAction::Revoke { id, all: false } => {
                sessions_revoke(ctx, id.as_deref().unwrap_or_default()).await
            }
        },
        Command::Profile(args) => crate::me::profile(ctx, args.action).await,
        Command::Notifications(args) => crate::me::notifications(ctx, args.action).await,
    }
}

/// The server a login goes to: `--server`, else the active account's, else the default.
fn login_server(ctx: &Context) -> Result<String> {
    if let Some(s) = &ctx.server {
        return api::normalize_server(s);
    }
    let creds = ctx.store.load()?;
    Ok(creds
        .active_account()
        .map(|a| a.server.clone())
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned()))
}

/// `steward login`: signs in, stores the account and makes it the active one.
/// Nothing is written unless the whole sign-in succeeds.
pub async fn login(
    ctx: &mut Context,
    options: LoginOptions,
    cancel: impl Future<Output = ()>,
) -> Result<()> {
    let server = login_server(ctx)?;
    if !server.starts_with("https://") && !api::is_loopback(&server) {
        ctx.console.err(format!(
            "warning: {server} does not use HTTPS; your tokens will cross the network unencrypted."
        ));
    }
    let flow = async {
        let disc = oauth::discover(&ctx.http, &server).await?;
        let (tokens, nonce) = if options.device {
            (device_flow(ctx, &disc, &server).await?, None)
        } else {
            let (tokens, request) = browser_flow(ctx, &disc, &server, &options).await?;
            (tokens, Some(request.nonce))
        };
        signed_in_account(&ctx.http, &disc, &server, tokens, nonce.as_deref()).await
    };
    let account = tokio::select! {
        account = flow => account?,
        () = cancel => return Err(CliError::LoginCancelled),
    };

    let _lock = ctx.store.lock()?;
    let mut creds = ctx.store.load()?;
    let label = account.label();
    let key = creds.upsert(account);
    creds.set_active(&key);
    ctx.store.save(&creds)?;
    ctx.console.out(format!("Signed in as {label}"));
    Ok(())
}

async fn browser_flow(
    ctx: &mut Context,
    disc: &Discovery,
    server: &str,
    options: &LoginOptions,
) -> Result<(TokenResponse, AuthRequest)> {
    let loopback = Loopback::bind().await?;
    let request = AuthRequest::new(loopback.redirect_uri());
    let url = request.url(disc)?;
    ctx.console.err(format!(
        "Opening your browser to sign in. If it does not open, visit:\n  {url}"
    ));
    options.browser.open(url.as_str());
    let code = loopback.wait(&request.state, options.timeout).await?;
    let tokens = oauth::exchange_code(&ctx.http, disc, server, &code, &request).await?;
    Ok((tokens, request))
}

async fn device_flow(ctx: &mut Context, disc: &Discovery, server: &str) -> Result<TokenResponse> {
    let dev = oauth::device_authorize(&ctx.http, disc, server).await?;
    ctx.console.err(format!(
        "To sign in, open {} on any device and enter the code {}",
        dev.verification_uri, dev.user_code
    ));
    if let Some(complete) = &dev.verification_uri_complete {
        ctx.console.err(format!(
            "Or open this address, which has the code filled in:\n  {complete}"
        ));
    }
    ctx.console
        .err("Waiting for the sign-in to be approved (Ctrl-C to cancel)...");
    oauth::device_poll(&ctx.http, disc, server, &dev).await
}

/// Checks the ID token, asks the API who signed in, and builds the entry to store.
async fn signed_in_account(
    http: &reqwest::Client,
    disc: &Discovery,
    server: &str,
    tokens: TokenResponse,
    nonce: Option<&str>,
) -> Result<StoredAccount> {
    let claims = match &tokens.id_token {
        Some(t) => {
            let claims = oauth::id_token_claims(t)?;
            oauth::check_id_token(&claims, &disc.issuer, nonce)?;
            Some(claims)
        }
        None => None,
    };
    let me: Me = api::get_with_token(http, server, "/api/v1/me", &tokens.access_token).await?;
    let mut account = StoredAccount {
        server: server.to_owned(),
        issuer: disc.issuer.clone(),
        account_id: claims.map_or_else(|| me.id.to_string(), |c| c.sub),
        username: printable(&me.username),
        email: printable(&me.email),
        access_token: None,
        access_expires_at: None,
        refresh_token: None,
    };
    api::apply_tokens(&mut account, tokens, OffsetDateTime::now_utc());
    Ok(account)
}

/// The account a command acts as: with `--server`, the one on that server;
/// otherwise the active one.
pub(crate) fn current_account(ctx: &Context, creds: &Credentials) -> Result<StoredAccount> {
    let active = creds.active_account();
    let chosen = match &ctx.server {
        None => active.ok_or(if creds.accounts.is_empty() {
            CliError::NotSignedIn
        } else {
            CliError::NoActiveAccount
        })?,
        Some(s) => {
            let server = api::normalize_server(s)?;
            match active.filter(|a| a.server == server) {
                Some(a) => a,
                None => {
                    let on_server: Vec<&StoredAccount> = creds
                        .accounts
                        .iter()
                        .filter(|a| a.server == server)
                        .collect();
                    match on_server.as_slice() {
                        [] => return Err(CliError::NotSignedInTo(server)),
                        [one] => *one,
                        many => {
                            return Err(CliError::SeveralOnServer {
                                server,
                                names: many
                                    .iter()
                                    .map(|a| a.username.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            });
                        }
                    }
                }
            }
        }
    };
    if !chosen.signed_in() {
        return Err(CliError::LoginExpired(chosen.username.clone()));
    }
    Ok(chosen.clone())
}

/// `steward whoami`.
pub async fn whoami(ctx: &mut Context) -> Result<()> {
    let creds = ctx.store.load()?;
    let account = current_account(ctx, &creds)?;
    let mut api = Authed::new(&ctx.http, &ctx.store, account);
    let me: Me = api.get("/api/v1/me").await?;
    let account = api.account().clone();
    let (username, email) = (printable(&me.username), printable(&me.email));
    if username != account.username || email != account.email {
        // Renamed or new address since login: keep the list current.
        let _lock = ctx.store.lock()?;
        let mut creds = ctx.store.load()?;
        if let Some(stored) = creds.get_mut(&account.key()) {
            stored.username.clone_from(&username);
            stored.email.clone_from(&email);
            ctx.store.save(&creds)?;
        }
    }
    ctx.console.out(format!("Username: {username}"));
    ctx.console.out(format!(
        "Email:    {email}{}",
        if me.email_verified {
            ""
        } else {
            " (not confirmed)"
        }
    ));
    ctx.console.out(format!("Server:   {}", account.server));
    Ok(())
}

/// `steward accounts`.
pub fn accounts(ctx: &mut Context) -> Result<()> {
    let creds = ctx.store.load()?;
    if creds.accounts.is_empty() {
        ctx.console
            .out("No accounts are signed in. Run `steward login`.");
        return Ok(());
    }
    let active = creds.active.as_deref();
    let mut rows = vec![(
        false,
        vec![
            "USERNAME".to_owned(),
            "EMAIL".into(),
            "SERVER".into(),
            String::new(),
        ],
    )];
    for a in &creds.accounts {
        rows.push((
            Some(a.key().as_str()) == active,
            vec![
                a.username.clone(),
                a.email.clone(),
                a.server.clone(),
                if a.signed_in() {
                    String::new()
                } else {
                    "(signed out; run `steward login`)".into()
                },
            ],
        ));
    }
    for line in table(&rows) {
        ctx.console.out(line);
    }
    Ok(())
}

/// `steward switch NAME`.
pub fn switch(ctx: &mut Context, name: &str) -> Result<()> {
    // Fail on an unknown name before taking the lock (which creates the directory).
    ctx.store.load()?.find(name)?;
    let _lock = ctx.store.lock()?;
    let mut creds = ctx.store.load()?;
    let account = creds.find(name)?.clone();
    creds.set_active(&account.key());
    ctx.store.save(&creds)?;
    ctx.console.out(format!("Switched to {}.", account.label()));
    if !account.signed_in() {
        ctx.console.err(format!(
            "Its sign-in has expired or was revoked; run `steward login` to sign in as {} again.",
            account.username
        ));
    }
    Ok(())
}

/// `steward logout [NAME | --all]`: revokes at the server, then forgets locally.
pub async fn logout(ctx: &mut Context, name: Option<&str>, all: bool) -> Result<()> {
    // Answer without taking the lock (which creates the directory) when there
    // is nothing to do.
    let preview = ctx.store.load()?;
    if let Some(name) = name.filter(|_| !all) {
        preview.find(name)?;
    } else if preview.accounts.is_empty() {
        ctx.console.out("Not signed in; nothing to sign out.");
        return Ok(());
    }
    let _lock = ctx.store.lock()?;
    let mut creds = ctx.store.load()?;
    let keys: Vec<String> = if all {
        creds.accounts.iter().map(StoredAccount::key).collect()
    } else if let Some(name) = name {
        vec![creds.find(name)?.key()]
    } else {
        match creds.active_account() {
            Some(a) => vec![a.key()],
            None if creds.accounts.is_empty() => {
                ctx.console.out("Not signed in; nothing to sign out.");
                return Ok(());
            }
            None => return Err(CliError::NoActiveAccount),
        }
    };
    if keys.is_empty() {
        ctx.console.out("Not signed in; nothing to sign out.");
        return Ok(());
    }
    let mut active_changed = false;
    for key in keys {
        let Some(account) = creds.get(&key).cloned() else {
            continue;
        };
        if let Some(rt) = &account.refresh_token
            && let Err(e) = revoke(&ctx.http, &account.server, rt).await
        {
            ctx.console.err(format!(
                "warning: {e}\nThe sign-in was removed from this computer only; it stays valid on the server until it expires or you end it on the Active sessions page."
            ));
        }
        if let Some(removed) = creds.remove(&key) {
            active_changed |= removed.was_active;
        }
        ctx.console.out(format!("Signed out {}.", account.label()));
    }
    ctx.store.save(&creds)?;
    if active_changed && !all {
        match creds.active_account() {
            Some(a) => ctx.console.out(format!("Now using {}.", a.label())),
            None => ctx.console.out("No account is active now."),
        }
    }
    Ok(())
}

async fn revoke(
    http: &reqwest::Client,
    server: &str,
    refresh_token: &crate::secret::Secret,
) -> Result<()> {
    let disc = oauth::discover(http, server).await?;
    oauth::revoke(http, &disc, server, refresh_token).await
}

/// `steward sessions` / `steward sessions list`.
pub async fn sessions_list(ctx: &mut Context) -> Result<()> {
    let creds = ctx.store.load()?;
    let account = current_account(ctx, &creds)?;
    let mut api = Authed::new(&ctx.http, &ctx.store, account);
    let list: SessionList = api.get("/api/v1/sessions").await?;
    if list.sessions.is_empty() {
        ctx.console.out("No sessions.");
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let with_location = list.sessions.iter().any(|s| s.location.is_some());
    let mut header = vec!["ID", "DEVICE", "IP"];
    if with_location {
        header.push("LOCATION");
    }
    header.push("LAST ACTIVE");
    let mut rows = vec![(false, header.into_iter().map(str::to_owned).collect())];
    for s in &list.sessions {
        let mut row = vec![
            s.id.to_string(),
            printable(&s.device),
            s.ip.as_deref().map_or_else(|| "-".to_owned(), printable),
        ];
        if with_location {
            row.push(
                s.location
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), printable),
            );
        }
        row.push(ago(s.last_seen_at, now));
        rows.push((s.current, row));
    }
    for line in table(&rows) {
        ctx.console.out(line);
    }
    Ok(())
}

/// `steward sessions revoke ID`: signs out one other session.
pub async fn sessions_revoke(ctx: &mut Context, id: &str) -> Result<()> {
    let creds = ctx.store.load()?;
    let account = current_account(ctx, &creds)?;
    let mut api = Authed::new(&ctx.http, &ctx.store, account);
    let list: SessionList = api.get("/api/v1/sessions").await?;
    let session = find_session(&list.sessions, id)?;
    if session.current {
        return Err(CliError::OwnSession);
    }
    match api
        .delete(&format!("/api/v1/sessions/{}", session.id))
        .await
    {
        Ok(()) => {}
        Err(CliError::Api { code, .. }) if code == steward_proto::codes::NOT_FOUND => {
            return Err(CliError::UnknownSession(printable(id)));
        }
        Err(e) => return Err(e),
    }
    ctx.console.out(format!(
        "Signed out session {} ({}).",
        session.id,
        printable(&session.device)
    ));
    Ok(())
}

/// The session whose id is, or starts with, `id`.
pub fn find_session<'a>(sessions: &'a [SessionView], id: &str) -> Result<&'a SessionView> {
    let wanted = id.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Err(CliError::UnknownSession(String::new()));
    }
    if let Some(exact) = sessions.iter().find(|s| s.id.to_string() == wanted) {
        return Ok(exact);
    }
    let mut matches = sessions
        .iter()
        .filter(|s| s.id.to_string().starts_with(&wanted));
    match (matches.next(), matches.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(CliError::UnknownSession(printable(id))),
        (Some(_), Some(_)) => Err(CliError::AmbiguousSession(printable(id))),
    }
}

/// `steward sessions revoke --all`: signs out every session but this one.
pub async fn sessions_revoke_all(ctx: &mut Context) -> Result<()> {
    let creds = ctx.store.load()?;
    let account = current_account(ctx, &creds)?;
    let mut api = Authed::new(&ctx.http, &ctx.store, account);
    let revoked: Revoked = api.delete_json("/api/v1/sessions").await?;
    ctx.console.out(match revoked.revoked {
        0 => "There were no other sessions to sign out.".to_owned(),
        1 => "Signed out 1 other session.".to_owned(),
        n => format!("Signed out {n} other sessions."),
    });
    Ok(())
}

/// Left-aligned columns two spaces apart, each line starting with its
/// two-character mark (`"* "` or `"  "`), trailing spaces trimmed.
pub fn table(rows: &[(bool, Vec<String>)]) -> Vec<String> {
    let columns = rows.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|(_, r)| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|(marked, row)| {
            let mut line = String::from(if *marked { "* " } else { "  " });
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                let pad = widths[c].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago", or the date.
pub fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (now - then).whole_seconds();
    let unit = |n: i64, what: &str| {
        if n == 1 {
            format!("1 {what} ago")
        } else {
            format!("{n} {what}s ago")
        }
    };
    match secs {
        ..60 => "just now".to_owned(),
        60..3600 => unit(secs / 60, "minute"),
        3600..86_400 => unit(secs / 3600, "hour"),
        86_400..2_592_000 => unit(secs / 86_400, "day"),
        _ => then.date().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn tables_align_and_trim() {
        let rows = vec![
            (false, vec!["A".to_owned(), "LONGER".into()]),
            (true, vec!["long value".to_owned(), "x".into()]),
            (false, vec!["b".to_owned(), String::new()]),
        ];
        assert_eq!(
            table(&rows),
            vec!["  A           LONGER", "* long value  x", "  b"]
        );
    }

    #[test]
    fn relative_times() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(100 * 86_400);
        let before = |s: u64| now - Duration::from_secs(s);
        assert_eq!(ago(now + Duration::from_secs(5), now), "just now");
        assert_eq!(ago(before(59), now), "just now");
        assert_eq!(ago(before(60), now), "1 minute ago");
        assert_eq!(ago(before(7200), now), "2 hours ago");
        assert_eq!(ago(before(86_400 * 3), now), "3 days ago");
        assert_eq!(ago(before(86_400 * 40), now), "1970-03-02");
    }

    fn session(id: &str, current: bool) -> SessionView {
        SessionView {
            id: Uuid::parse_str(id).unwrap(),
            current,
            device: "steward-cli".into(),
            ip: None,
            location: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_seen_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH,
            remember: true,
        }
    }

    #[test]
    fn sessions_are_found_by_id_or_unique_prefix() {
        let list = vec![
            session("01930000-0000-7000-8000-000000000001", true),
            session("01930000-0000-7000-8000-000000000002", false),
            session("01940000-0000-7000-8000-000000000003", false),
        ];
        assert_eq!(
            find_session(&list, "01930000-0000-7000-8000-000000000002")
                .unwrap()
                .id,
            list[1].id
        );
        assert_eq!(find_session(&list, "0194").unwrap().id, list[2].id);
        assert!(matches!(
            find_session(&list, "0193"),
            Err(CliError::AmbiguousSession(_))
        ));
        assert!(matches!(
            find_session(&list, "ffff"),
            Err(CliError::UnknownSession(_))
        ));
        assert!(find_session(&list, "").is_err());
    }
}
