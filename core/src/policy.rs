//! What the transports decide on each request before it leaves: the [`Decision`], and the
//! [`Admission`] that carries it to the audit record.

use std::fmt;

use crate::path::PathParams;

/// Whether a call may go out, and if not why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The policy allows the call (or the client has no policy).
    Allowed,
    /// The policy refuses it. The reason names the rule and how to allow the call.
    Denied(String),
}

impl Decision {
    /// Whether the call may go out.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed => f.write_str("allowed"),
            Decision::Denied(reason) => write!(f, "denied: {reason}"),
        }
    }
}

/// The decision on one request, with what its audit record needs to describe it.
#[derive(Clone, Debug)]
pub struct Admission {
    /// The path under the client's base URL, as sent (percent-encoded, no query).
    pub path: String,
    /// The path's parameters, when it matches the operation's template.
    pub params: Option<PathParams>,
    /// Whether the request may leave.
    pub decision: Decision,
}
