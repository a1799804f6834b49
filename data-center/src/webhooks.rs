//! Receiving Bitbucket Data Center webhooks: the signature check (the same as Cloud's, from
//! `bitbucket-core`) and typed events.
//!
//! When a webhook has a secret, each delivery carries `X-Hub-Signature: sha256=<HMAC-SHA256
//! of the body>`. Check it on the raw body before trusting anything in it, then type the body
//! by its `X-Event-Key`:
//!
//! ```
//! use bitbucket_data_center::webhooks::{self, Event};
//!
//! # fn receive(body: &[u8], signature: Option<&str>, key: &str) -> Result<(), Box<dyn std::error::Error>> {
//! webhooks::verify("s3cr3t", body, signature)?;
//! match Event::parse(key, body)? {
//!     Event::RefsChanged(push) => println!("{} ref(s) changed", push.changes.len()),
//!     Event::PullRequest { key, payload } => println!("{key}: {:?}", payload.pull_request),
//!     other => println!("{}", other.key()),
//! }
//! # Ok(())
//! # }
//! # let body = br#"{"eventKey":"diagnostics:ping"}"#;
//! # let sig = webhooks::sign("s3cr3t", body);
//! # receive(body, Some(&sig), "diagnostics:ping").unwrap();
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use bitbucket_core::signature::{
    SIGNATURE_HEADER, SignatureError, WebhookSecret, sign, verify,
};

/// The header that names the event (`repo:refs_changed`).
pub const EVENT_KEY_HEADER: &str = "X-Event-Key";

/// A delivery's body, typed by its event key. Keys this crate does not know (newer servers,
/// apps) are [`Event::Other`], never an error.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `repo:refs_changed`: a push (branches or tags created, updated, deleted).
    RefsChanged(RefsChanged),
    /// `pr:*`: something happened to a pull request (`pr:opened`, `pr:merged`,
    /// `pr:reviewer:approved`, ...).
    PullRequest {
        /// The event key.
        key: String,
        /// The payload.
        payload: PullRequestEvent,
    },
    /// `diagnostics:ping`: the "Test connection" button.
    Ping,
    /// Any other event, with its body as JSON.
    Other {
        /// The event key.
        key: String,
        /// The body.
        payload: Value,
    },
}

impl Event {
    /// Types `body` by `key` (the `X-Event-Key` header). Fails only when the body is not
    /// JSON, or is not the shape of its event.
    pub fn parse(key: &str, body: &[u8]) -> Result<Event, serde_json::Error> {
        Ok(match key {
            "repo:refs_changed" => Event::RefsChanged(serde_json::from_slice(body)?),
            "diagnostics:ping" => Event::Ping,
            key if key.starts_with("pr:") => Event::PullRequest {
                key: key.to_string(),
                payload: serde_json::from_slice(body)?,
            },
            key => Event::Other {
                key: key.to_string(),
                payload: serde_json::from_slice(body)?,
            },
        })
    }

    /// The event key.
    pub fn key(&self) -> &str {
        match self {
            Event::RefsChanged(_) => "repo:refs_changed",
            Event::PullRequest { key, .. } | Event::Other { key, .. } => key,
            Event::Ping => "diagnostics:ping",
        }
    }
}

/// A time as servers send it in webhooks: epoch milliseconds on older servers, an ISO-8601
/// string on Bitbucket 10 (`2026-08-19T17:27:55.266Z`, `2017-09-19T10:14:47+1000`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// Milliseconds since the epoch.
    Millis(i64),
    /// The text as sent.
    Text(String),
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timestamp::Millis(ms) => write!(f, "{ms} ms since the epoch"),
            Timestamp::Text(text) => f.write_str(text),
        }
    }
}

/// The fields every delivery has; the rest is kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Common {
    /// The event key.
    pub event_key: Option<String>,
    /// When it happened.
    pub date: Option<Timestamp>,
    /// Who did it (a user, as JSON).
    pub actor: Option<Value>,
}

/// `repo:refs_changed`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RefsChanged {
    /// Key, date, actor.
    #[serde(flatten)]
    pub common: Common,
    /// The repository pushed to (as JSON).
    pub repository: Option<Value>,
    /// One entry per ref.
    #[serde(default)]
    pub changes: Vec<RefChange>,
    /// Everything else (Bitbucket 10 adds `commits`, `toCommit`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One ref of a push.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RefChange {
    /// `refs/heads/main`.
    pub ref_id: Option<String>,
    /// The commit before (all zeros for a new ref).
    pub from_hash: Option<String>,
    /// The commit after (all zeros for a deleted ref).
    pub to_hash: Option<String>,
    /// `ADD`, `UPDATE` or `DELETE`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Everything else (`ref`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `pr:*` event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PullRequestEvent {
    /// Key, date, actor.
    #[serde(flatten)]
    pub common: Common,
    /// The pull request (as JSON: its dates are millis or text depending on the server).
    pub pull_request: Option<Value>,
    /// Reviewer events: the reviewer.
    pub participant: Option<Value>,
    /// Reviewer events: their status before (`UNAPPROVED`, `NEEDS_WORK`, ...).
    pub previous_status: Option<String>,
    /// Everything else (`comment`, `previousTarget`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
