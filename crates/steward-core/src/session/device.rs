//! What a person sees for "which device": browser and operating system read
//! from the User-Agent, or the program's own name when it is not a browser.

use woothee::parser::Parser;

/// Shown when a client sent no User-Agent or one nobody can read.
pub const UNKNOWN_DEVICE: &str = "Unknown device";

/// A short label such as "Chrome 131 on macOS", "Firefox on Linux" or "curl".
pub fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|s| !s.is_empty()) else {
        return UNKNOWN_DEVICE.to_owned();
    };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    if let Some(r) = Parser::new().parse(ua)
        && known(r.name)
        && r.browser_type == "browser"
    {
        let major = r.version.split('.').next().filter(|v| known(v));
        let browser = match major {
            Some(v) => format!("{} {v}", r.name),
            None => r.name.to_owned(),
        };
        return if known(r.os) {
            format!("{browser} on {}", os_name(r.os))
        } else {
            browser
        };
    }
    // Programs (curl, the Steward CLI, HTTP libraries): their product token.
    let product = ua.split([' ', '(']).next().unwrap_or(ua);
    let name = product.split('/').next().unwrap_or(product);
    if name.is_empty() {
        UNKNOWN_DEVICE.to_owned()
    } else {
        name.chars().take(40).collect()
    }
}

fn os_name(os: &str) -> &str {
    match os {
        "Mac OSX" => "macOS",
        "iPhone" | "iPad" | "iPod" => "iOS",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_show_name_major_version_and_system() {
        assert_eq!(
            describe(Some(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
            )),
            "Chrome 131 on macOS"
        );
        assert_eq!(
            describe(Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
            )),
            "Firefox 133 on Linux"
        );
    }

    #[test]
    fn programs_show_their_product_name() {
        assert_eq!(describe(Some("curl/8.5.0")), "curl");
        assert_eq!(describe(Some("steward-cli/0.1.0 (linux)")), "steward-cli");
        assert_eq!(describe(None), UNKNOWN_DEVICE);
        assert_eq!(describe(Some("   ")), UNKNOWN_DEVICE);
    }
}
