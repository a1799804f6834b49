//! The checks on the URLs credentials are sent to: the client's base URL and the OAuth token
//! endpoint.
//!
//! - `https://` only, except to loopback (`127.0.0.0/8`, `::1`, `localhost`), where a local
//!   test server speaks plain HTTP; anything else needs an explicit opt-in
//!   (the client builders' `danger_accept_http`),
//!   because a typo (`http://api.bitbucket.org`) would send a token in clear text.
//! - No user name or password (`https://me:secret@host`): credentials go through
//!   the client's `Auth`, and a password in a URL ends up in logs and `Debug` output.
//! - No query and no fragment: the base URL is a prefix that paths are appended to.
//!
//! Errors quote the URL with its user information removed.

use std::net::IpAddr;

use reqwest::Url;

/// What a URL is used for, to word the errors.
#[derive(Clone, Copy)]
pub enum Use {
    /// A Bitbucket Cloud client's base URL (`ClientBuilder::base_url`).
    BaseUrl,
    /// A Bitbucket Data Center client's base URL: the user's server.
    ServerUrl,
    /// An OAuth token URL (Cloud's `OAuth::token_url`).
    TokenUrl,
    /// An OAuth authorization page (Cloud's `OAuth::authorize_endpoint`).
    AuthorizeEndpoint,
}

impl Use {
    fn name(self) -> &'static str {
        match self {
            Use::BaseUrl | Use::ServerUrl => "base URL",
            Use::TokenUrl => "OAuth token URL",
            Use::AuthorizeEndpoint => "OAuth authorize endpoint",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Use::BaseUrl => "https://api.bitbucket.org/2.0",
            Use::ServerUrl => "https://bitbucket.example.com",
            // Cloud's `auth::DEFAULT_TOKEN_URL` and `DEFAULT_AUTHORIZE_URL`.
            Use::TokenUrl => "https://bitbucket.org/site/oauth2/access_token",
            Use::AuthorizeEndpoint => "https://bitbucket.org/site/oauth2/authorize",
        }
    }

    fn opt_in(self) -> &'static str {
        match self {
            Use::BaseUrl | Use::ServerUrl => "ClientBuilder::danger_accept_http()",
            Use::TokenUrl | Use::AuthorizeEndpoint => "OAuth::danger_accept_http()",
        }
    }
}

/// `text` parsed, if it is an acceptable URL for `purpose`; otherwise a sentence that says
/// what is wrong and what to do. `accept_http` is the caller's explicit opt-in to plain HTTP
/// on hosts that are not loopback.
pub fn check(text: &str, purpose: Use, accept_http: bool) -> Result<Url, String> {
    let what = purpose.name();
    let shown = without_userinfo(text);
    let url = Url::parse(text.trim()).map_err(|e| {
        format!(
            "the {what} `{shown}` is not an absolute URL ({e}): give one such as {}",
            purpose.example()
        )
    })?;
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!(
            "the {what} `{shown}` has no host: give one such as {}",
            purpose.example()
        ));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the {what} `{shown}` holds a user name or password: remove it, and give \
             credentials with ClientBuilder::auth (Auth::api_token, Auth::access_token, \
             Auth::oauth), which keeps them out of URLs, logs and Debug output"
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if accept_http || is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "the {what} `{shown}` uses plain http:// to {host}, which would send credentials \
                 in clear text: use https://, or call {} if the network to that host is trusted \
                 (plain http:// is accepted without it only for loopback: 127.0.0.1, ::1, \
                 localhost)",
                purpose.opt_in()
            ));
        }
        other => {
            return Err(format!(
                "the {what} `{shown}` has the scheme `{other}`: use https://, such as {}",
                purpose.example()
            ));
        }
    }
    if url.query().is_some() {
        return Err(format!(
            "the {what} `{shown}` has a query (`?...`): remove it; {}",
            match purpose {
                Use::BaseUrl | Use::ServerUrl =>
                    "calls append their paths to the base URL, and take their query \
                                 parameters from their builders",
                _ => "the client adds the parameters the endpoint needs",
            }
        ));
    }
    if url.fragment().is_some() {
        return Err(format!(
            "the {what} `{shown}` has a fragment (`#...`): remove it"
        ));
    }
    Ok(url)
}

/// Whether the URL's host is the loopback interface: `127.0.0.0/8`, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed (`[::1]`); domain names are lowercase once parsed.
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => matches!(host, "localhost" | "localhost."),
    }
}

/// `text` with anything between the scheme and an `@` of the authority replaced, so that a
/// password given in a URL is not repeated in an error or `Debug` output. Works on text that
/// does not parse as a URL too.
pub fn without_userinfo(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &text[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!(
            "{}***@{}",
            &text[..authority_start],
            &text[authority_start + at + 1..]
        ),
        None => text.to_string(),
    }
}

/// What a `{path}` parameter (a file in a repository, an attachment) becomes in a URL: each
/// `/`-separated segment percent-encoded, the slashes kept (`src/lib.rs`, not
/// `src%2Flib.rs`). A `.` or `..` segment is encoded (`%2E%2E`) so that the URL parser does not
/// resolve it away: admission then sees it, and refuses it.
pub fn encode_file_path(path: &str) -> String {
    /// Everything but the unreserved characters of RFC 3986.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    path.trim_start_matches('/')
        .split('/')
        .map(|segment| match segment {
            "." => "%2E".to_string(),
            ".." => "%2E%2E".to_string(),
            other => percent_encoding::utf8_percent_encode(other, SEGMENT).to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What a `{path}` parameter glued to literal text in its segment becomes in a URL (Data
/// Center's `compare/diff{path}`): the file path as [`encode_file_path`] encodes it, after
/// one `/` (`compare/diff/src/lib.rs`, whether the caller wrote `src/lib.rs` or
/// `/src/lib.rs`); nothing for an empty path, which then names no file.
///
/// ```
/// use bitbucket_core::endpoint::encode_glued_file_path;
/// assert_eq!(encode_glued_file_path("/src/a b.rs"), "/src/a%20b.rs");
/// assert_eq!(encode_glued_file_path("src/lib.rs"), "/src/lib.rs");
/// assert_eq!(encode_glued_file_path(""), "");
/// ```
pub fn encode_glued_file_path(path: &str) -> String {
    match encode_file_path(path) {
        encoded if encoded.is_empty() => encoded,
        encoded => format!("/{encoded}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> bool {
        check(text, Use::BaseUrl, false).is_ok()
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(ok("https://api.bitbucket.org/2.0"));
        assert!(ok("http://127.0.0.1:8080"));
        assert!(ok("http://127.3.4.5/2.0"));
        assert!(ok("http://[::1]:9000/"));
        assert!(ok("http://localhost:3000/api"));
        assert!(ok("http://LOCALHOST"));
        assert!(!ok("http://api.bitbucket.org/2.0"));
        assert!(!ok("http://10.0.0.1/2.0"));
        assert!(!ok("http://localhost.example.com"));
        assert!(!ok("http://[::ffff:7f00:1]/"));
        assert!(check("http://bitbucket.internal/2.0", Use::BaseUrl, true).is_ok());
        assert!(!ok("ftp://api.bitbucket.org"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("api.bitbucket.org/2.0"));
    }

    #[test]
    fn userinfo_query_and_fragment_are_refused_without_repeating_a_password() {
        let error = check(
            "https://me:hunter2@api.bitbucket.org/2.0",
            Use::BaseUrl,
            false,
        )
        .unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(error.contains("Auth::api_token"), "{error}");
        assert!(!ok("https://me@api.bitbucket.org/2.0"));
        let error = check("https://api.bitbucket.org/2.0?x=1", Use::BaseUrl, false).unwrap_err();
        assert!(error.contains("query"), "{error}");
        assert!(!ok("https://api.bitbucket.org/2.0?"));
        let error = check("https://api.bitbucket.org/2.0#top", Use::BaseUrl, false).unwrap_err();
        assert!(error.contains("fragment"), "{error}");
        // Not even a URL: still no password in the message.
        let error = check("https://me:hunter2@/", Use::TokenUrl, true).unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(
            without_userinfo("https://a:b@host/x@y"),
            "https://***@host/x@y"
        );
        assert_eq!(without_userinfo("https://host/x@y"), "https://host/x@y");
        assert_eq!(without_userinfo("not a url"), "not a url");
        assert_eq!(without_userinfo("http://a@b@host"), "http://***@host");
    }
}
