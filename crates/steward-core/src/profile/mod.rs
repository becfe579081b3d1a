//! Profiles: what a person tells others about themselves, and whether everyone
//! may see it at `/@username`. Text is stored as typed and always rendered
//! escaped; the rules here bound its size and check links.

pub mod photo;

use steward_proto::profile::{ProfileLinks, ProfileView, UpdateProfileRequest};
use time::OffsetDateTime;
use url::{Host, Url};
use uuid::Uuid;

use crate::account::Account;
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::session::SignedIn;
use crate::steward::Steward;

/// Longest name, role or company.
pub const MAX_SHORT: usize = 100;
/// Longest about text.
pub const MAX_ABOUT: usize = 1000;
/// Longest link.
pub const MAX_LINK: usize = 300;

/// A profile as stored (one per account, made on first save).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Whose.
    pub account_id: Uuid,
    /// Name.
    pub name: Option<String>,
    /// About text.
    pub about: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// GitHub URL.
    pub github: Option<String>,
    /// X/Twitter URL.
    pub x: Option<String>,
    /// LinkedIn URL.
    pub linkedin: Option<String>,
    /// Shown to everyone at `/@username`.
    pub public: bool,
    /// The current photo, if any (set by uploading, not by saving the profile).
    pub photo_id: Option<Uuid>,
    /// When the first-sign-in step was finished or skipped (not set by saving the profile).
    pub onboarded_at: Option<OffsetDateTime>,
    /// Last saved.
    pub updated_at: Option<OffsetDateTime>,
}

impl Profile {
    /// The owner's view.
    pub fn view(&self, account: &Account) -> ProfileView {
        ProfileView {
            username: account.username.clone(),
            name: self.name.clone(),
            about: self.about.clone(),
            role: self.role.clone(),
            company: self.company.clone(),
            links: ProfileLinks {
                website: self.website.clone(),
                github: self.github.clone(),
                x: self.x.clone(),
                linkedin: self.linkedin.clone(),
            },
            public: self.public,
            photo_url: self.photo_url(256),
        }
    }

    /// Where the photo is served at `size` (256 or 64).
    pub fn photo_url(&self, size: u32) -> Option<String> {
        self.photo_id.map(|id| format!("/photos/{id}/{size}.jpg"))
    }
}

/// A stored photo with what decides who may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    /// Whose.
    pub account_id: Uuid,
    /// Whether the profile is public.
    pub public: bool,
    /// 256×256 JPEG.
    pub large: Vec<u8>,
    /// 64×64 JPEG.
    pub small: Vec<u8>,
}

/// A public profile as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicProfile {
    /// Username.
    pub username: String,
    /// The profile (only its public fields are shown).
    pub profile: Profile,
}

/// Trims a text field; empty means absent. `None` (and an error) if too long or
/// holding control characters other than newlines in `about`.
fn text(
    fields: &mut FieldErrors,
    field: &'static str,
    value: Option<&str>,
    max: usize,
    multiline: bool,
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        fields.insert(field, format!("Use at most {max} characters."));
        return None;
    }
    let bad = v
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')));
    if bad {
        fields.insert(field, "Remove the control characters.".into());
        return None;
    }
    Some(v.to_owned())
}

/// Checks a link: an absolute `http(s)` URL, on one of `hosts` when given.
fn link(
    fields: &mut FieldErrors,
    field: &'static str,
    value: Option<&str>,
    hosts: &[&str],
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    let site = match hosts.first() {
        Some(h) => format!("an https://{h}/… address"),
        None => "a web address starting with https://".to_owned(),
    };
    let parsed = (v.len() <= MAX_LINK).then(|| Url::parse(v).ok()).flatten();
    let ok = parsed.as_ref().is_some_and(|u| {
        matches!(u.scheme(), "https" | "http")
            && u.username().is_empty()
            && u.password().is_none()
            && match u.host() {
                Some(Host::Domain(d)) => {
                    let d = d.to_ascii_lowercase();
                    hosts.is_empty()
                        || hosts
                            .iter()
                            .any(|h| d == *h || d.strip_suffix(h).is_some_and(|p| p.ends_with('.')))
                }
                Some(_) => hosts.is_empty(),
                None => false,
            }
    });
    if !ok {
        fields.insert(field, format!("Enter {site}."));
        return None;
    }
    parsed.map(|u| u.to_string())
}

/// Checks an update and makes the profile it describes.
pub fn check_update(account_id: Uuid, req: &UpdateProfileRequest) -> CoreResult<Profile> {
    let mut f = FieldErrors::new();
    let profile = Profile {
        account_id,
        name: text(&mut f, "name", req.name.as_deref(), MAX_SHORT, false),
        about: text(&mut f, "about", req.about.as_deref(), MAX_ABOUT, true),
        role: text(&mut f, "role", req.role.as_deref(), MAX_SHORT, false),
        company: text(&mut f, "company", req.company.as_deref(), MAX_SHORT, false),
        website: link(&mut f, "website", req.links.website.as_deref(), &[]),
        github: link(
            &mut f,
            "github",
            req.links.github.as_deref(),
            &["github.com"],
        ),
        x: link(
            &mut f,
            "x",
            req.links.x.as_deref(),
            &["x.com", "twitter.com"],
        ),
        linkedin: link(
            &mut f,
            "linkedin",
            req.links.linkedin.as_deref(),
            &["linkedin.com"],
        ),
        public: req.public,
        photo_id: None,
        onboarded_at: None,
        updated_at: None,
    };
    if f.is_empty() {
        Ok(profile)
    } else {
        Err(CoreError::Validation(f))
    }
}

impl Steward {
    /// The signed-in person's profile (empty until first saved).
    pub async fn profile(&self, who: &SignedIn) -> CoreResult<ProfileView> {
        let account = who.account();
        let profile = self.store.profile(account.id).await?.unwrap_or(Profile {
            account_id: account.id,
            ..Profile::default()
        });
        Ok(profile.view(account))
    }

    /// Replaces the profile; nothing is saved if any field is refused.
    pub async fn update_profile(
        &self,
        who: &SignedIn,
        req: &UpdateProfileRequest,
    ) -> CoreResult<ProfileView> {
        let mut profile = check_update(who.account().id, req)?;
        profile.updated_at = Some(self.now());
        self.store.save_profile(&profile).await?;
        // The photo is not part of the form: report the one stored.
        profile.photo_id = self
            .store
            .profile(who.account().id)
            .await?
            .and_then(|p| p.photo_id);
        Ok(profile.view(who.account()))
    }

    /// Replaces the profile photo with an upload (PNG, JPEG or WebP, at most 5 MB,
    /// 4096×4096 and 8 bits per channel), re-encoded without its metadata. A refused
    /// upload changes nothing. Each account may upload
    /// `photo_uploads_per_account_per_hour` photos an hour, refused ones included
    /// (decoding is what costs), then `PhotoQuota`.
    pub async fn set_photo(&self, who: &SignedIn, bytes: Vec<u8>) -> CoreResult<ProfileView> {
        self.photo_quota
            .attempt(&who.account().id.to_string(), self.now())
            .map_err(CoreError::PhotoQuota)?;
        // Decoding is heavy: at most one photo per core at a time, the rest wait.
        let _permit = self
            .photo_jobs
            .acquire()
            .await
            .map_err(|e| CoreError::Internal(format!("photo jobs: {e}")))?;
        let avatars = tokio::task::spawn_blocking(move || photo::process(&bytes))
            .await
            .map_err(|e| CoreError::Internal(format!("photo worker: {e}")))?
            .map_err(|e| CoreError::field("photo", e.to_string()))?;
        let [large, small] = <[Vec<u8>; 2]>::try_from(avatars.0)
            .map_err(|_| CoreError::Internal("two avatar sizes expected".into()))?;
        self.store
            .save_photo(who.account().id, Uuid::now_v7(), &large, &small, self.now())
            .await?;
        self.profile(who).await
    }

    /// Whether the "tell us about yourself" step should be offered (first sign-in).
    pub async fn needs_onboarding(&self, who: &SignedIn) -> CoreResult<bool> {
        Ok(self
            .store
            .profile(who.account().id)
            .await?
            .is_none_or(|p| p.onboarded_at.is_none()))
    }

    /// Finishes the first-sign-in step: saves the name, role and company given
    /// (checked like the profile form; nothing saved if one is refused), or, when
    /// `skip`, nothing but that it was offered. Other profile fields are kept.
    pub async fn complete_onboarding(
        &self,
        who: &SignedIn,
        name: Option<&str>,
        role: Option<&str>,
        company: Option<&str>,
        skip: bool,
    ) -> CoreResult<()> {
        let now = self.now();
        if !skip {
            let current = self
                .store
                .profile(who.account().id)
                .await?
                .unwrap_or_default();
            let req = UpdateProfileRequest {
                name: name.map(str::to_owned),
                role: role.map(str::to_owned),
                company: company.map(str::to_owned),
                about: current.about,
                links: ProfileLinks {
                    website: current.website,
                    github: current.github,
                    x: current.x,
                    linkedin: current.linkedin,
                },
                public: current.public,
            };
            let mut profile = check_update(who.account().id, &req)?;
            profile.updated_at = Some(now);
            self.store.save_profile(&profile).await?;
        }
        Ok(self.store.mark_onboarded(who.account().id, now).await?)
    }

    /// Removes the profile photo (nothing to remove is fine).
    pub async fn remove_photo(&self, who: &SignedIn) -> CoreResult<ProfileView> {
        self.store.delete_photo(who.account().id).await?;
        self.profile(who).await
    }

    /// A photo at `size` (256 or 64) for `viewer`: shown when the profile is public,
    /// or to its owner; `None` (a 404) otherwise.
    pub async fn photo(
        &self,
        id: Uuid,
        size: u32,
        viewer: Option<&SignedIn>,
    ) -> CoreResult<Option<Vec<u8>>> {
        let Some(p) = self.store.photo(id).await? else {
            return Ok(None);
        };
        let allowed = p.public || viewer.is_some_and(|v| v.account().id == p.account_id);
        Ok(match (allowed, size) {
            (true, 256) => Some(p.large),
            (true, 64) => Some(p.small),
            _ => None,
        })
    }

    /// The current username of the account that gave `username` up recently (for
    /// `/@old` to redirect), if any.
    pub async fn renamed_to(&self, username: &str) -> CoreResult<Option<String>> {
        let name = username.trim().to_ascii_lowercase();
        if name.is_empty() || name.len() > 64 {
            return Ok(None);
        }
        Ok(self
            .store
            .username_hold(&name, self.now())
            .await?
            .map(|(_, current)| current))
    }

    /// The public profile at `/@username`; `None` (a 404) when there is no such
    /// account or its profile is private.
    pub async fn public_profile(&self, username: &str) -> CoreResult<Option<PublicProfile>> {
        let name = username.trim().to_ascii_lowercase();
        if name.is_empty() || name.len() > 64 {
            return Ok(None);
        }
        Ok(self
            .store
            .public_profile(&name)
            .await?
            .map(|(username, profile)| PublicProfile { username, profile }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> UpdateProfileRequest {
        UpdateProfileRequest {
            name: Some("  Ada Lovelace ".into()),
            about: Some("Analyst.\nPoet of science.".into()),
            role: Some("Engineer".into()),
            company: None,
            links: ProfileLinks {
                website: Some("https://ada.example/".into()),
                github: Some("https://github.com/ada".into()),
                x: Some("https://twitter.com/ada".into()),
                linkedin: Some("https://www.linkedin.com/in/ada".into()),
            },
            public: true,
        }
    }

    #[test]
    fn a_valid_update_is_trimmed_and_kept() {
        let p = check_update(Uuid::nil(), &req()).unwrap();
        assert_eq!(p.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(p.about.as_deref(), Some("Analyst.\nPoet of science."));
        assert_eq!(
            p.linkedin.as_deref(),
            Some("https://www.linkedin.com/in/ada")
        );
        assert!(p.public);
        let empty = UpdateProfileRequest {
            name: Some("   ".into()),
            ..UpdateProfileRequest::default()
        };
        assert_eq!(check_update(Uuid::nil(), &empty).unwrap().name, None);
    }

    #[test]
    fn bad_links_and_oversized_text_are_refused_field_by_field() {
        let mut r = req();
        r.name = Some("x".repeat(101));
        r.about = Some("bell\u{7}".into());
        r.links.website = Some("javascript:alert(1)".into());
        r.links.github = Some("https://evil.example/github.com".into());
        r.links.x = Some("https://notx.com/ada".into());
        r.links.linkedin = Some("https://user:pw@linkedin.com/in/ada".into());
        let Err(CoreError::Validation(f)) = check_update(Uuid::nil(), &r) else {
            panic!("refused")
        };
        for field in ["name", "about", "website", "github", "x", "linkedin"] {
            assert!(f.contains_key(field), "{field}: {f:?}");
        }
        let mut r = req();
        r.links.github = Some("https://gist.github.com/ada".into());
        assert!(
            check_update(Uuid::nil(), &r).is_ok(),
            "subdomains of the site are fine"
        );
    }
}
