//! `steward profile` and `steward notifications`: the signed-in account's profile,
//! its notifications and notification preferences, over the API.

use serde_json::json;
use steward_proto::notify::{NotificationList, NotificationPreferences};
use steward_proto::profile::ProfileView;
use time::OffsetDateTime;

use crate::api::Authed;
use crate::cli::{NotificationsAction, ProfileAction, ProfileSet};
use crate::commands::{Context, ago, current_account, table};
use crate::error::{CliError, Result, printable};

fn show_profile(ctx: &mut Context, p: &ProfileView) {
    let field = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_owned(), printable);
    ctx.console
        .out(format!("Username:  {}", printable(&p.username)));
    ctx.console.out(format!("Name:      {}", field(&p.name)));
    ctx.console.out(format!("Role:      {}", field(&p.role)));
    ctx.console.out(format!("Company:   {}", field(&p.company)));
    ctx.console.out(format!("About:     {}", field(&p.about)));
    ctx.console
        .out(format!("Website:   {}", field(&p.links.website)));
    ctx.console
        .out(format!("GitHub:    {}", field(&p.links.github)));
    ctx.console.out(format!("X:         {}", field(&p.links.x)));
    ctx.console
        .out(format!("LinkedIn:  {}", field(&p.links.linkedin)));
    ctx.console.out(format!(
        "Public:    {}",
        if p.public {
            format!("yes, at /@{}", printable(&p.username))
        } else {
            "no".to_owned()
        }
    ));
}

/// `steward profile [show|set ...]`.
pub async fn profile(ctx: &mut Context, action: Option<ProfileAction>) -> Result<()> {
    let creds = ctx.store.load()?;
    let account = current_account(ctx, &creds)?;
    let mut api = Authed::new(&ctx.http, &ctx.store, account);
    let current: ProfileView = api.get("/api/v1/me/profile").await?;
    let Some(ProfileAction::Set(set)) = action else {
        show_profile(ctx, &current);
        return Ok(());
    };
    let ProfileSet {
        name,
        role,
        company,
        about,
        website,
        github,
        x,
        linkedin,
        public,
        private,
    } = set;
    // Given: replaced ("" clears); not given: kept.
    let pick = |new: Option<String>, old: Option<String>| new.or(old);
    let body = json!({
        "name": pick(name, current.name),
        "role": pick(role, current.role),
        "company": pick(company, current.company),
        "about": pick(about, current.about),
        "links": {
            "website": pick(website, current.links.website),
            "github": pick(github, current.links.github),
            "x": pick(x, current.links.x),
            "linkedin": pick(linkedin, current.links.linkedin),
        },
        "public": if public { true } else if private { false } else { current.public },
    });
    let updated: ProfileView = api.put_json("/api/v1/me/profile", &body).await?;
    ctx.console.out("Profile updated.");
    show_profile(ctx, &updated);
    Ok(())
}

/// `steward notifications [list|read|prefs|set]`.
pub async fn notifications(ctx: &mut Context, action: Option<NotificationsAction>) -> Result<()> {
    let creds = ctx.store.load()?;
    let account = current_account(ctx, &creds)?;
    let mut api = Authed::new(&ctx.http, &ctx.store, account);
    match action.unwrap_or(NotificationsAction::List) {
        NotificationsAction::List => {
            let list: NotificationList = api.get("/api/v1/me/notifications").await?;
            if list.notifications.is_empty() {
                ctx.console.out("No notifications.");
                return Ok(());
            }
            ctx.console.out(format!("{} unread", list.unread));
            let now = OffsetDateTime::now_utc();
            let mut rows = vec![(
                false,
                ["ID", "WHEN", "TITLE", "DETAIL"]
                    .map(str::to_owned)
                    .to_vec(),
            )];
            for n in &list.notifications {
                rows.push((
                    !n.read,
                    vec![
                        n.id.to_string(),
                        ago(n.created_at, now),
                        printable(&n.title),
                        printable(&n.body),
                    ],
                ));
            }
            for line in table(&rows) {
                ctx.console.out(line);
            }
        }
        NotificationsAction::Read { all: true, .. } => {
            api.post_empty("/api/v1/me/notifications/read-all").await?;
            ctx.console.out("All notifications marked read.");
        }
        NotificationsAction::Read { id, all: false } => {
            let id = id.unwrap_or_default();
            let uuid = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
                CliError::Usage(format!("{} is not a notification id.", printable(&id)))
            })?;
            api.post_empty(&format!("/api/v1/me/notifications/{uuid}/read"))
                .await?;
            ctx.console.out("Marked read.");
        }
        NotificationsAction::Prefs => {
            let p: NotificationPreferences = api.get("/api/v1/me/notification-preferences").await?;
            print_prefs(ctx, &p);
        }
        NotificationsAction::Set {
            category,
            email,
            in_app,
        } => {
            let p: NotificationPreferences = api.get("/api/v1/me/notification-preferences").await?;
            let Some(row) = p.categories.iter().find(|r| r.category == category) else {
                return Err(CliError::Usage(format!(
                    "Unknown category {}. Use security, usage, monitors or comments.",
                    printable(&category)
                )));
            };
            let body = json!({"categories": [{
                "category": row.category,
                "email": email.unwrap_or(row.email),
                "in_app": in_app.unwrap_or(row.in_app),
            }]});
            let p: NotificationPreferences = api
                .put_json("/api/v1/me/notification-preferences", &body)
                .await?;
            ctx.console.out("Preferences updated.");
            print_prefs(ctx, &p);
        }
    }
    Ok(())
}

fn print_prefs(ctx: &mut Context, p: &NotificationPreferences) {
    let on = |b: bool| if b { "on" } else { "off" }.to_owned();
    let mut rows = vec![(
        false,
        ["CATEGORY", "EMAIL", "IN-APP"].map(str::to_owned).to_vec(),
    )];
    for r in &p.categories {
        rows.push((
            false,
            vec![printable(&r.category), on(r.email), on(r.in_app)],
        ));
    }
    for line in table(&rows) {
        ctx.console.out(line);
    }
    ctx.console
        .out(format!("Marketing email: {}", on(p.marketing_email)));
    ctx.console.out("Always sent (they protect your account):");
    for s in &p.always_sent {
        ctx.console.out(format!("  - {}", printable(s)));
    }
}
