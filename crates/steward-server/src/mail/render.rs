//! Renders the domain's [`Mail`] into subject, text and HTML with askama templates.

use askama::Template;
use steward_core::mail::{Mail, MailRenderer, OutgoingMail};
use time::OffsetDateTime;

/// The server's mail templates.
#[derive(Debug, Clone)]
pub struct TemplateMailer {
    product: String,
}

impl TemplateMailer {
    /// Mail signed with the product's name.
    pub fn new(product: impl Into<String>) -> Self {
        Self {
            product: product.into(),
        }
    }
}

macro_rules! mail_templates {
    ($html:ident, $text:ident, $html_path:literal, $text_path:literal, { $($field:ident : $ty:ty),* }) => {
        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a> { subject: &'a str, product: &'a str, $($field: $ty),* }
        #[derive(Template)]
        #[template(path = $text_path)]
        struct $text<'a> { product: &'a str, $($field: $ty),* }
    };
}

mail_templates!(VerifyHtml, VerifyText, "mail/verify_email.html", "mail/verify_email.txt", { username: &'a str, link: &'a str });
mail_templates!(ExistsHtml, ExistsText, "mail/account_exists.html", "mail/account_exists.txt", { username: &'a str, signin_link: &'a str, recovery_link: &'a str });
mail_templates!(ResetHtml, ResetText, "mail/reset_password.html", "mail/reset_password.txt", { username: &'a str, link: &'a str });
mail_templates!(ReminderHtml, ReminderText, "mail/username_reminder.html", "mail/username_reminder.txt", { username: &'a str, signin_link: &'a str });
mail_templates!(ChangedHtml, ChangedText, "mail/password_changed.html", "mail/password_changed.txt", { username: &'a str, at: &'a str, recovery_link: &'a str });

mail_templates!(DeviceHtml, DeviceText, "mail/new_device.html", "mail/new_device.txt", { username: &'a str, device: &'a str, ip: &'a str, location: &'a str, at: &'a str, sessions_link: &'a str, recovery_link: &'a str, unsubscribe_link: &'a str });

mail_templates!(ConfirmChangeHtml, ConfirmChangeText, "mail/confirm_email_change.html", "mail/confirm_email_change.txt", { username: &'a str, link: &'a str });
mail_templates!(ChangeNoticeHtml, ChangeNoticeText, "mail/email_change_requested.html", "mail/email_change_requested.txt", { username: &'a str, new_email: &'a str, recovery_link: &'a str });
mail_templates!(InUseHtml, InUseText, "mail/email_in_use.html", "mail/email_in_use.txt", { signin_link: &'a str });

fn when(at: &OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.format(&f).unwrap_or_default()
}

impl MailRenderer for TemplateMailer {
    fn render(&self, mail: &Mail) -> OutgoingMail {
        let p = self.product.as_str();
        let (subject, html, text) = match mail {
            Mail::VerifyEmail { username, link, .. } => {
                let subject = format!("Confirm your {p} email address");
                let h = VerifyHtml {
                    subject: &subject,
                    product: p,
                    username,
                    link,
                }
                .render();
                let t = VerifyText {
                    product: p,
                    username,
                    link,
                }
                .render();
                (subject, h, t)
            }
            Mail::AccountExists {
                username,
                signin_link,
                recovery_link,
                ..
            } => {
                let subject = format!("You already have a {p} account");
                let h = ExistsHtml {
                    subject: &subject,
                    product: p,
                    username,
                    signin_link,
                    recovery_link,
                }
                .render();
                let t = ExistsText {
                    product: p,
                    username,
                    signin_link,
                    recovery_link,
                }
                .render();
                (subject, h, t)
            }
            Mail::ResetPassword { username, link, .. } => {
                let subject = format!("Reset your {p} password");
                let h = ResetHtml {
                    subject: &subject,
                    product: p,
                    username,
                    link,
                }
                .render();
                let t = ResetText {
                    product: p,
                    username,
                    link,
                }
                .render();
                (subject, h, t)
            }
            Mail::UsernameReminder {
                username,
                signin_link,
                ..
            } => {
                let subject = format!("Your {p} username");
                let h = ReminderHtml {
                    subject: &subject,
                    product: p,
                    username,
                    signin_link,
                }
                .render();
                let t = ReminderText {
                    product: p,
                    username,
                    signin_link,
                }
                .render();
                (subject, h, t)
            }
            Mail::PasswordChanged {
                username,
                at,
                recovery_link,
                ..
            } => {
                let subject = format!("Your {p} password was changed");
                let at = when(at);
                let h = ChangedHtml {
                    subject: &subject,
                    product: p,
                    username,
                    at: &at,
                    recovery_link,
                }
                .render();
                let t = ChangedText {
                    product: p,
                    username,
                    at: &at,
                    recovery_link,
                }
                .render();
                (subject, h, t)
            }
            Mail::ConfirmEmailChange { username, link, .. } => {
                let subject = format!("Confirm your new {p} email address");
                let h = ConfirmChangeHtml {
                    subject: &subject,
                    product: p,
                    username,
                    link,
                }
                .render();
                let t = ConfirmChangeText {
                    product: p,
                    username,
                    link,
                }
                .render();
                (subject, h, t)
            }
            Mail::EmailChangeRequested {
                username,
                new_email,
                recovery_link,
                ..
            } => {
                let subject = format!("Your {p} email address is being changed");
                let h = ChangeNoticeHtml {
                    subject: &subject,
                    product: p,
                    username,
                    new_email,
                    recovery_link,
                }
                .render();
                let t = ChangeNoticeText {
                    product: p,
                    username,
                    new_email,
                    recovery_link,
                }
                .render();
                (subject, h, t)
            }
            Mail::EmailInUse { signin_link, .. } => {
                let subject = format!("This address already has a {p} account");
                let h = InUseHtml {
                    subject: &subject,
                    product: p,
                    signin_link,
                }
                .render();
                let t = InUseText {
                    product: p,
                    signin_link,
                }
                .render();
                (subject, h, t)
            }
            Mail::NewDevice {
                username,
                device,
                ip,
                location,
                at,
                sessions_link,
                recovery_link,
                unsubscribe_link,
                ..
            } => {
                let subject = format!("New sign-in to your {p} account");
                let at = when(at);
                let ip = ip.as_deref().unwrap_or("unknown");
                let location = location.as_deref().unwrap_or_default();
                let h = DeviceHtml {
                    subject: &subject,
                    product: p,
                    username,
                    device,
                    ip,
                    location,
                    at: &at,
                    sessions_link,
                    recovery_link,
                    unsubscribe_link,
                }
                .render();
                let t = DeviceText {
                    product: p,
                    username,
                    device,
                    ip,
                    location,
                    at: &at,
                    sessions_link,
                    recovery_link,
                    unsubscribe_link,
                }
                .render();
                (subject, h, t)
            }
        };
        // Templates are compile-time checked; rendering fails only on a formatter error.
        let html = html.unwrap_or_else(|e| {
            tracing::error!(error = %e, kind = mail.kind(), "mail HTML template failed");
            String::new()
        });
        let text = text.unwrap_or_else(|e| {
            tracing::error!(error = %e, kind = mail.kind(), "mail text template failed");
            String::new()
        });
        OutgoingMail {
            to: mail.to().to_owned(),
            subject,
            text,
            html,
            kind: mail.kind().to_owned(),
            unsubscribe: mail.unsubscribe().map(str::to_owned),
        }
    }
}
