//! The whole sign-up journey in real Chromium: create account → open the emailed
//! link → sign in with "Keep me signed in" → sign out.

use std::time::Duration;

use steward_testkit::TestServer;
use steward_testkit::browser::Browser;
use thirtyfour::prelude::*;

async fn wait_for_text(driver: &WebDriver, text: &str) -> WebDriverResult<()> {
    for _ in 0..100 {
        if driver.source().await?.contains(text) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "page never showed {text:?}; it shows:\n{}",
        driver.source().await?
    );
}

#[tokio::test]
async fn create_account_confirm_sign_in_remembered_and_sign_out() {
    let s = TestServer::start().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;

    d.goto(&s.base).await.unwrap();
    d.find(By::LinkText("Create Account"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Create free account").await.unwrap();
    d.find(By::Id("email"))
        .await
        .unwrap()
        .send_keys("ada@example.com")
        .await
        .unwrap();
    d.find(By::Id("username"))
        .await
        .unwrap()
        .send_keys("ada")
        .await
        .unwrap();
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys("correct horse battery staple")
        .await
        .unwrap();
    d.find(By::Id("accept_terms"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    d.find(By::Id("confirm_age"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    d.find(By::Id("altcha"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Verified. You can submit the form.")
        .await
        .unwrap();
    d.find(By::XPath(
        "//button[normalize-space()='Create free account']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(d, "Check your email").await.unwrap();

    let mail = s
        .smtp
        .wait_for("ada@example.com", "Confirm your")
        .await
        .unwrap();
    let link = mail.link(&format!("{}/verify-email", s.base)).unwrap();
    d.goto(&link).await.unwrap();
    d.find(By::XPath(
        "//button[normalize-space()='Confirm email address']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(d, "Email confirmed").await.unwrap();

    d.find(By::LinkText("Sign In"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Keep me signed in").await.unwrap();
    let remember = d.find(By::Id("remember")).await.unwrap();
    assert!(
        remember.is_selected().await.unwrap(),
        "Keep me signed in is ticked by default"
    );
    sign_in_page(d, "ada").await;
    let cookie = d.get_named_cookie("steward_session").await.unwrap();
    let expiry = cookie.expiry.expect("a remembered session has an expiry");
    let days = (expiry - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
    assert!((29..=30).contains(&days), "cookie lasts {days} days");
    assert!(cookie.http_only.unwrap_or(false));

    d.find(By::Css("details.menu > summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    d.find(By::XPath("//button[normalize-space()='Sign out']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Your account for every device")
        .await
        .unwrap();
    assert!(
        d.get_named_cookie("steward_session").await.is_err(),
        "cookie removed"
    );
    d.goto(&format!("{}/settings", s.base)).await.unwrap();
    wait_for_text(d, "Keep me signed in").await.unwrap();

    browser.quit().await.unwrap();
}

async fn sign_in_page(d: &WebDriver, user: &str) {
    wait_for_text(d, "Keep me signed in").await.unwrap();
    d.find(By::Id("identifier"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(crate::common::PASSWORD)
        .await
        .unwrap();
    d.find(By::Css("form[action='/signin'] button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, &format!("Welcome, {user}")).await.unwrap();
}

async fn open_menu(d: &WebDriver) {
    d.find(By::Css("details.menu > summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn switch_to(d: &WebDriver, user: &str) {
    open_menu(d).await;
    d.find(By::Css(format!("button.switch-to[data-username='{user}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, &format!("Welcome, {user}")).await.unwrap();
}

#[tokio::test]
async fn several_accounts_switch_and_a_session_revoked_elsewhere_is_signed_out() {
    let s = TestServer::start().await.unwrap();
    crate::common::confirmed_account(&s, "ada@example.com", "ada").await;
    crate::common::confirmed_account(&s, "bea@example.com", "bea").await;
    let one = Browser::start().await.unwrap();
    let d = &one.driver;

    d.goto(&format!("{}/signin", s.base)).await.unwrap();
    sign_in_page(d, "ada").await;
    // Avatar menu → Add a new account: sign in to bea without signing ada out.
    open_menu(d).await;
    d.find(By::LinkText("Add a new account"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "You stay signed in to").await.unwrap();
    sign_in_page(d, "bea").await;
    // Switch to ada and back, one click each, no password.
    switch_to(d, "ada").await;
    switch_to(d, "bea").await;

    // This browser's bea session, as Active Sessions shows it.
    d.goto(&format!("{}/account/sessions", s.base))
        .await
        .unwrap();
    wait_for_text(d, "This device").await.unwrap();
    let here = d
        .find(By::Css("li.session.current"))
        .await
        .unwrap()
        .attr("data-session")
        .await
        .unwrap()
        .unwrap();

    // A second browser profile signs in to bea and revokes the first one's session.
    let two = Browser::start().await.unwrap();
    let d2 = &two.driver;
    d2.goto(&format!("{}/signin", s.base)).await.unwrap();
    sign_in_page(d2, "bea").await;
    d2.goto(&format!("{}/account/sessions", s.base))
        .await
        .unwrap();
    d2.find(By::Css(format!(
        "li.session[data-session='{here}'] button[type='submit']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(d2, "The session was revoked").await.unwrap();
    assert!(
        !d2.source().await.unwrap().contains(&here),
        "gone from the list"
    );

    // The first browser, still showing Active Sessions as bea, learns it over its
    // live connection and reloads by itself: bea is signed out, ada is there to choose.
    wait_for_text(d, "Choose an account").await.unwrap();
    let page = d.source().await.unwrap();
    assert!(
        page.contains("Keep me signed in") && !page.contains("This device"),
        "on the sign-in page, not the sessions page"
    );
    d.find(By::LinkText("Choose an account"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Continue as").await.unwrap();
    let page = d.source().await.unwrap();
    assert!(page.contains("<strong>ada</strong>") && !page.contains("<strong>bea</strong>"));
    d.find(By::Css("button.account-choice"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Welcome, ada").await.unwrap();

    two.quit().await.unwrap();
    one.quit().await.unwrap();
}

#[tokio::test]
async fn after_repeated_failures_the_sign_in_page_asks_for_the_robot_check_and_then_signs_in() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.signin_failures_per_account = 3;
            c.limits.credential_per_ip_per_minute = 1000;
        })
        .start()
        .await
        .unwrap();
    crate::common::confirmed_account(&s, "ada@example.com", "ada").await;
    let stranger = s.client().unwrap();
    for _ in 0..3 {
        crate::common::sign_in(&stranger, "ada", "guess guess guess", false).await;
    }
    // The owner, on a browser that never signed in to the account.
    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;
    d.goto(&format!("{}/signin", s.base)).await.unwrap();
    assert!(
        d.find_all(By::Id("altcha")).await.unwrap().is_empty(),
        "no robot check before it is needed"
    );
    d.find(By::Id("identifier"))
        .await
        .unwrap()
        .send_keys("ada")
        .await
        .unwrap();
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(crate::common::PASSWORD)
        .await
        .unwrap();
    d.find(By::Css("form[action='/signin'] button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Confirm you're not a robot")
        .await
        .unwrap();
    // The form kept the identifier; the password is typed again, the box ticked.
    let identifier = d.find(By::Id("identifier")).await.unwrap();
    assert_eq!(identifier.value().await.unwrap().as_deref(), Some("ada"));
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(crate::common::PASSWORD)
        .await
        .unwrap();
    d.find(By::Id("altcha"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Verified. You can submit the form.")
        .await
        .unwrap();
    d.find(By::Css("form[action='/signin'] button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(d, "Welcome, ada").await.unwrap();
    browser.quit().await.unwrap();
    s.stop().await;
}
