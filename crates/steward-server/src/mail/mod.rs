//! Outgoing mail: rendering with templates, and the outbox sender.

pub mod render;
pub mod sender;

pub use render::TemplateMailer;
pub use sender::{MailSender, Transport};
