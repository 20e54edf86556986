//! Checking the configured URL and showing it without secrets.

use ureq::http::Uri;

/// A webhook URL that parsed and uses `http` or `https` with a host.
#[derive(Debug, Clone)]
pub(crate) struct WebhookUrl {
    /// The URL exactly as configured (sent to).
    pub full: String,
    /// `scheme://host[:port]/path`, userinfo removed, a query shown as `?…` (for `status`).
    pub shown: String,
}

impl WebhookUrl {
    /// Parses `url`; the error names the bad value and what is expected.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("`url` is required (e.g. https://example.com/oisp)".into());
        }
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("invalid url `{}`: {e}", redact_raw(url)))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s,
            _ => {
                return Err(format!(
                    "url `{}` must start with http:// or https://",
                    redact_raw(url)
                ))
            }
        };
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| format!("url `{}` has no host", redact_raw(url)))?;
        let mut shown = format!("{scheme}://{}", authority.host());
        if let Some(port) = authority.port_u16() {
            shown.push_str(&format!(":{port}"));
        }
        shown.push_str(uri.path());
        if uri.query().is_some() {
            shown.push_str("?…");
        }
        Ok(WebhookUrl {
            full: url.to_string(),
            shown,
        })
    }
}

/// Best effort for error messages about a URL that did not parse: drops anything between
/// `://` and `@` (userinfo) and everything after `?`.
fn redact_raw(url: &str) -> String {
    let mut s = url.split('?').next().unwrap_or("").to_string();
    if let Some(start) = s.find("://") {
        if let Some(at) = s[start + 3..].find('@') {
            s.replace_range(start + 3..start + 3 + at + 1, "");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_without_userinfo_or_query() {
        let u =
            WebhookUrl::parse("https://user:pw@hooks.example.com:8443/in/oisp?token=abc").unwrap();
        assert_eq!(u.shown, "https://hooks.example.com:8443/in/oisp?…");
        assert_eq!(
            u.full,
            "https://user:pw@hooks.example.com:8443/in/oisp?token=abc"
        );
        let u = WebhookUrl::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(u.shown, "http://127.0.0.1:9000/");
    }

    #[test]
    fn bad_urls_are_clear_errors() {
        for bad in [
            "",
            "ftp://x/y",
            "example.com/hook",
            "http://",
            "http://a b/",
        ] {
            let err = WebhookUrl::parse(bad).unwrap_err();
            assert!(err.contains("url"), "{bad}: {err}");
        }
        let err = WebhookUrl::parse("ftp://u:secret@x/y?k=v").unwrap_err();
        assert!(!err.contains("secret") && !err.contains("k=v"), "{err}");
    }
}
