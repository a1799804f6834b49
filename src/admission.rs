//! Whether one outgoing request may leave the process: the decision the transport takes on
//! every request it sends (each attempt and retry, each page, each saved cursor), before
//! credentials are attached. Audit only records what was decided here.
//!
//! A request is admitted when
//!
//! 1. its URL is under the client's base URL (same origin, below the base path);
//! 2. its path is an instance of its operation's path template: a `next` link or a cursor
//!    that leads to another operation, another repository's list or a file is refused
//!    whatever the policy says, also for a client without a policy and for operations that
//!    have no `{workspace}`. A parameter that decodes to a `.` or `..` path segment does not
//!    match (the server could resolve it to another path);
//! 3. its query carries no `access_token`: credentials travel in the `Authorization` header
//!    only, and a link with its own token would act as someone else. Other query parameters
//!    (`page`, `pagelen`, `q`, `sort`, `fields`, opaque cursors) are kept as sent: on
//!    Bitbucket's API they shape or narrow an answer, and never address another resource;
//! 4. the client's [`crate::Policy`], if any, allows the operation on the workspace and
//!    repository its path names.

use reqwest::Url;

use crate::client::State;
use crate::operations::Operation;
use crate::policy::Decision;

pub(crate) use bitbucket_core::policy::Admission;

/// Decides whether a request of `operation` to `url` may be sent by the client whose state is
/// `state`. Called by the transport for every request it sends; anything else that sends on
/// the client's behalf (following a redirect) calls it for each URL too.
pub(crate) fn admit(state: &State, operation: &'static Operation, url: &Url) -> Admission {
    let base_path = state.base.path().trim_end_matches('/');
    let under_base = state.is_own_origin(url)
        && url
            .path()
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'));
    let path = if under_base {
        &url.path()[base_path.len()..]
    } else {
        url.path()
    };
    let params = if under_base {
        operation.match_path(path)
    } else {
        None
    };
    let decision = if !under_base {
        Decision::Denied(format!(
            "the request is not under the client's base URL {}: only the base URL's paths are \
             requested with its credentials",
            state.base
        ))
    } else if params.is_none() {
        Decision::Denied(format!(
            "the request path `{path}` is not an instance of `{}`, the path of `{}`: a `next` \
             link or resumed cursor that leads elsewhere (another operation, repository or \
             file) is never followed; resume a cursor only with the operation whose stream \
             gave it",
            operation.path, operation.name
        ))
    } else if carries_credentials(url) {
        Decision::Denied(
            "the request's query carries an `access_token`: credentials are sent only in the \
             Authorization header, so a link or cursor with its own token is refused"
                .to_string(),
        )
    } else {
        match &state.policy {
            Some(policy) => policy.decide(operation, params.as_ref()),
            None => Decision::Allowed,
        }
    };
    Admission {
        path: path.to_string(),
        params,
        decision,
    }
}

/// Whether the query has an `access_token` parameter (Bitbucket accepts one in place of the
/// `Authorization` header).
fn carries_credentials(url: &Url) -> bool {
    url.query_pairs()
        .any(|(name, _)| name.eq_ignore_ascii_case("access_token"))
}
