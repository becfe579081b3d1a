//! OAuth clients: the built-in first-party apps, and what any client may ask for.

/// The scopes Steward understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// OpenID Connect: an ID token and the `sub` claim.
    OpenId,
    /// Name and username.
    Profile,
    /// Email address and whether it is confirmed.
    Email,
    /// A refresh token, to stay signed in.
    OfflineAccess,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::Email,
        Scope::OfflineAccess,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::OfflineAccess => "offline_access",
        }
    }

    /// The scope with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Name shown on consent screens and Active Sessions.
    pub name: String,
    /// First-party apps get no consent screen.
    pub first_party: bool,
    /// Redirect URIs as registered (loopback IP literals match any port).
    pub redirect_uris: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: Vec<Scope>,
}

/// Loopback redirect URIs the built-in native apps use (RFC 8252 §7.3).
const LOOPBACK: [&str; 2] = ["http://127.0.0.1/callback", "http://[::1]/callback"];

/// The built-in public clients: the `steward` CLI and the desktop app.
pub fn builtin_clients() -> Vec<Client> {
    [
        ("steward-cli", "Steward CLI"),
        ("steward-desktop", "Steward Desktop"),
    ]
    .into_iter()
    .map(|(id, name)| Client {
        id: id.to_owned(),
        name: name.to_owned(),
        first_party: true,
        redirect_uris: LOOPBACK.iter().map(|s| (*s).to_owned()).collect(),
        scopes: Scope::ALL.to_vec(),
    })
    .collect()
}
