//! Profile wire types: what a person says about themselves and what the public sees.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Links a profile may show (each an `http(s)://` URL; GitHub, X and LinkedIn must
/// point at those sites).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProfileLinks {
    /// Personal website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// `https://github.com/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<String>,
    /// `https://x.com/…` or `https://twitter.com/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// `https://www.linkedin.com/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin: Option<String>,
}

/// `GET /api/v1/me/profile`: the signed-in person's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProfileView {
    /// Username (changed elsewhere).
    pub username: String,
    /// Name shown to others.
    pub name: Option<String>,
    /// About text (plain text).
    pub about: Option<String>,
    /// Role, e.g. "Backend engineer".
    pub role: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Links.
    pub links: ProfileLinks,
    /// Whether `/@username` shows the public fields to everyone.
    pub public: bool,
    /// The photo (256×256 JPEG; `…/64.jpg` for the small one), if one was uploaded.
    #[serde(default)]
    pub photo_url: Option<String>,
}

/// `PUT /api/v1/me/profile`: every field is replaced (absent or empty = cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateProfileRequest {
    /// Name, up to 100 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// About, up to 1000 characters.
    #[serde(default)]
    pub about: Option<String>,
    /// Role, up to 100 characters.
    #[serde(default)]
    pub role: Option<String>,
    /// Company, up to 100 characters.
    #[serde(default)]
    pub company: Option<String>,
    /// Links.
    #[serde(default)]
    pub links: ProfileLinks,
    /// Make the profile public.
    #[serde(default)]
    pub public: bool,
}
