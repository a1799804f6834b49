//! The gateway's own Bitbucket credential, from its environment. Agents never hold it: they
//! hold keys to the gateway, and the gateway alone talks to Bitbucket. It never appears in a
//! tool result, an error, a log line or an audit record.
//!
//! | variables | credential |
//! |---|---|
//! | `BITBUCKET_EMAIL` and `BITBUCKET_API_TOKEN` | an Atlassian API token |
//! | `BITBUCKET_ACCESS_TOKEN` | a workspace, project or repository access token |
//! | `BITBUCKET_OAUTH_CLIENT_ID` and `BITBUCKET_OAUTH_CLIENT_SECRET` | an OAuth consumer (client-credentials grant) |
//!
//! The first that is set wins. Give it the scopes of the operations the agents may use:
//! `bitbucket-cloud-mcp check` prints them.

use bitbucket_cloud::{Auth, OAuth};

/// The credential, and a description of it without the secret (for the start-up log).
pub fn from_env() -> Result<(Auth, String), String> {
    from_lookup(|name| std::env::var(name).ok())
}

/// [`from_env`] with another source of variables (tests).
pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<(Auth, String), String> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(token) = var("BITBUCKET_API_TOKEN") {
        let Some(email) = var("BITBUCKET_EMAIL") else {
            return Err(
                "BITBUCKET_API_TOKEN is set but BITBUCKET_EMAIL is not: set it to the \
                        Atlassian account's email, which API tokens authenticate with"
                    .into(),
            );
        };
        let description = format!("the API token of {email}");
        return Ok((Auth::api_token(email, token), description));
    }
    if let Some(token) = var("BITBUCKET_ACCESS_TOKEN") {
        return Ok((Auth::access_token(token), "an access token".into()));
    }
    match (
        var("BITBUCKET_OAUTH_CLIENT_ID"),
        var("BITBUCKET_OAUTH_CLIENT_SECRET"),
    ) {
        (Some(id), Some(secret)) => Ok((
            Auth::oauth(OAuth::new(id, secret)),
            "an OAuth consumer (client credentials)".into(),
        )),
        (Some(_), None) | (None, Some(_)) => Err("set both BITBUCKET_OAUTH_CLIENT_ID and \
                                                  BITBUCKET_OAUTH_CLIENT_SECRET"
            .into()),
        (None, None) => Err("no Bitbucket credential in the environment: set \
                             BITBUCKET_EMAIL and BITBUCKET_API_TOKEN (an API token), \
                             BITBUCKET_ACCESS_TOKEN (an access token), or \
                             BITBUCKET_OAUTH_CLIENT_ID and BITBUCKET_OAUTH_CLIENT_SECRET (an \
                             OAuth consumer); or run the demo with --local"
            .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<(Auth, String), String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn the_first_credential_set_wins_and_is_never_shown() {
        let (auth, description) = with(&[
            ("BITBUCKET_EMAIL", "ada@example.com"),
            ("BITBUCKET_API_TOKEN", "ATATT3xSECRET"),
            ("BITBUCKET_ACCESS_TOKEN", "other"),
        ])
        .unwrap();
        assert_eq!(description, "the API token of ada@example.com");
        assert!(!format!("{auth:?}").contains("SECRET"));
        assert_eq!(
            with(&[("BITBUCKET_ACCESS_TOKEN", "t")]).unwrap().1,
            "an access token"
        );
        assert!(
            with(&[("BITBUCKET_API_TOKEN", "t")])
                .unwrap_err()
                .contains("BITBUCKET_EMAIL")
        );
        assert!(with(&[("BITBUCKET_OAUTH_CLIENT_ID", "id")]).is_err());
        assert!(with(&[]).unwrap_err().contains("--local"));
    }
}
