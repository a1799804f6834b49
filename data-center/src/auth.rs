//! How requests are authenticated: an HTTP access token (Bearer), or HTTP basic with a user
//! name and a password or personal access token. Secrets are kept as
//! [`secrecy::SecretString`] and never appear in `Debug` output, logs or errors.

use std::fmt;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};

/// The credentials a client sends with every request (to its own server only).
#[derive(Clone)]
pub struct Auth(Kind);

#[derive(Clone)]
enum Kind {
    Anonymous,
    Bearer(SecretString),
    Basic {
        user: String,
        password: SecretString,
    },
}

impl Auth {
    /// No credentials: what an instance with anonymous access allows.
    pub fn anonymous() -> Self {
        Auth(Kind::Anonymous)
    }

    /// An HTTP access token (personal, project or repository), sent as
    /// `Authorization: Bearer <token>`. Project and repository tokens work only this way.
    pub fn bearer(token: impl Into<String>) -> Self {
        Auth(Kind::Bearer(SecretString::from(token.into())))
    }

    /// HTTP basic: a user name with a password or a personal access token.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        Auth(Kind::Basic {
            user: user.into(),
            password: SecretString::from(password.into()),
        })
    }

    /// Whether requests carry credentials.
    pub fn is_anonymous(&self) -> bool {
        matches!(self.0, Kind::Anonymous)
    }

    /// Sets the `Authorization` header of `request`.
    pub(crate) fn apply(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let value = match &self.0 {
            Kind::Anonymous => return Ok(()),
            Kind::Bearer(token) => format!("Bearer {}", token.expose_secret()),
            Kind::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose_secret());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
        };
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| "the credentials hold characters a header cannot carry".to_string())?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Anonymous => f.write_str("Auth::Anonymous"),
            Kind::Bearer(_) => f.write_str("Auth::Bearer(<redacted>)"),
            Kind::Basic { user, .. } => {
                write!(f, "Auth::Basic {{ user: {user:?}, password: <redacted> }}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let shown = format!(
            "{:?} {:?}",
            Auth::bearer("t0ken-s3cret"),
            Auth::basic("jdoe", "pa55word")
        );
        assert!(
            !shown.contains("t0ken-s3cret") && !shown.contains("pa55word"),
            "{shown}"
        );
        assert!(shown.contains("jdoe"));
    }

    #[test]
    fn basic_is_user_colon_password_in_base64() {
        let mut request =
            reqwest::Request::new(reqwest::Method::GET, "https://h/".parse().unwrap());
        Auth::basic("jdoe", "pw").apply(&mut request).unwrap();
        assert_eq!(request.headers()[AUTHORIZATION], "Basic amRvZTpwdw==");
    }
}
