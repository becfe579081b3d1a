//! Integration tests: every endpoint against a real server in this process, mail
//! through a real SMTP server, pages in real Chromium. One binary, so one build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod bad_input;
mod browser;
mod cli;
mod common;
mod email_links;
mod files;
mod logs;
mod lookalikes;
mod mail;
mod notify;
mod oauth;
mod oidc;
mod oidc_pages;
mod oidc_prompt;
mod oidc_rp;
mod openapi;
mod ops;
mod pages;
mod password;
mod photos;
mod profile;
mod recovery;
mod sessions;
mod signin;
mod signup;
mod tls;
