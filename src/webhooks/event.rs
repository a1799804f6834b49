//! [`Event`]: a delivery's body, typed by its `X-Event-Key`.

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::commit_status::CommitStatusEvent;
use super::payload::{
    IssueCommentEvent, IssueEvent, IssueUpdatedEvent, PullRequestApprovalEvent,
    PullRequestChangesRequestEvent, PullRequestCommentEvent, PullRequestEvent,
};
use super::push::PushEvent;
use crate::types::{Account, Repository};

/// Declares the typed events once: the enum, and the key of each variant for parsing and back.
macro_rules! events {
    ($($(#[$doc:meta])* $key:literal => $variant:ident($payload:ty),)*) => {
        /// A webhook event, typed by its key (the `X-Event-Key` header).
        ///
        /// Events this version does not type are [`Event::Unknown`], with their JSON payload:
        /// a receiver subscribed to new events keeps working.
        ///
        /// ```
        /// use bitbucket_cloud::webhooks::Event;
        ///
        /// let body = br#"{"actor": {"display_name": "Emma"}, "pullrequest": {"id": 7, "title": "Fix"}}"#;
        /// match Event::parse("pullrequest:created", body)? {
        ///     Event::PullRequestCreated(e) => {
        ///         let pr = e.pullrequest.unwrap_or_default();
        ///         println!("#{} {}", pr.id.unwrap_or_default(), pr.title.unwrap_or_default());
        ///     }
        ///     Event::Unknown { key, .. } => println!("not handled: {key}"),
        ///     other => println!("{}", other.key()),
        /// }
        /// # Ok::<(), bitbucket_cloud::webhooks::ParseError>(())
        /// ```
        ///
        /// Encoding an event (with `serde`) gives its payload back, minus `null` members, so
        /// an event can be queued and parsed again with its key.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        // One value per delivery; boxing the payloads would only make matching on them clumsier.
        #[allow(clippy::large_enum_variant)]
        pub enum Event {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\nKey: `", $key, "`.")]
                $variant($payload),
            )*
            /// An event this version does not type, with its payload as JSON.
            Unknown {
                /// The event key, e.g. `repo:fork`.
                key: String,
                /// The body, as JSON.
                payload: Value,
            },
        }

        impl Event {
            /// The keys that parse into a typed variant (every other key is
            /// [`Event::Unknown`]).
            pub const TYPED_KEYS: &'static [&'static str] = &[$($key),*];

            /// Parses a delivery's body, given its event key (the `X-Event-Key` header).
            ///
            /// Check the signature first ([`super::verify`], or [`super::Delivery`] which does
            /// both). A key this version does not type gives [`Event::Unknown`]; the body must
            /// still be JSON. Fails when the body is not JSON, or is not the event its key
            /// names.
            pub fn parse(event_key: &str, body: &[u8]) -> Result<Event, ParseError> {
                match event_key {
                    $($key => decode(event_key, body).map(Event::$variant),)*
                    _ => decode(event_key, body).map(|payload| Event::Unknown {
                        key: event_key.to_string(),
                        payload,
                    }),
                }
            }

            /// The event key, as Bitbucket names it (`pullrequest:comment_created`).
            pub fn key(&self) -> &str {
                match self {
                    $(Event::$variant(_) => $key,)*
                    Event::Unknown { key, .. } => key,
                }
            }

            /// Who caused the event (`None` for [`Event::Unknown`]).
            pub fn actor(&self) -> Option<&Account> {
                match self {
                    $(Event::$variant(e) => e.actor.as_ref(),)*
                    Event::Unknown { .. } => None,
                }
            }

            /// The repository the event happened in (`None` for [`Event::Unknown`]).
            pub fn repository(&self) -> Option<&Repository> {
                match self {
                    $(Event::$variant(e) => e.repository.as_ref(),)*
                    Event::Unknown { .. } => None,
                }
            }
        }

        impl Serialize for Event {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Event::$variant(e) => e.serialize(serializer),)*
                    Event::Unknown { payload, .. } => payload.serialize(serializer),
                }
            }
        }
    };
}

events! {
    /// Refs were pushed, created or deleted.
    "repo:push" => Push(PushEvent),
    /// A pull request was opened.
    "pullrequest:created" => PullRequestCreated(PullRequestEvent),
    /// A pull request's title, description, reviewers or branches changed.
    "pullrequest:updated" => PullRequestUpdated(PullRequestEvent),
    /// A pull request was approved.
    "pullrequest:approved" => PullRequestApproved(PullRequestApprovalEvent),
    /// An approval was withdrawn.
    "pullrequest:unapproved" => PullRequestUnapproved(PullRequestApprovalEvent),
    /// A reviewer requested changes.
    "pullrequest:changes_request_created" => PullRequestChangesRequestCreated(PullRequestChangesRequestEvent),
    /// A pull request was merged.
    "pullrequest:fulfilled" => PullRequestFulfilled(PullRequestEvent),
    /// A pull request was declined.
    "pullrequest:rejected" => PullRequestRejected(PullRequestEvent),
    /// A pull request was commented on.
    "pullrequest:comment_created" => PullRequestCommentCreated(PullRequestCommentEvent),
    /// An issue was created.
    "issue:created" => IssueCreated(IssueEvent),
    /// An issue was changed or commented on with a change.
    "issue:updated" => IssueUpdated(IssueUpdatedEvent),
    /// An issue was commented on.
    "issue:comment_created" => IssueCommentCreated(IssueCommentEvent),
    /// A build reported a status on a commit.
    "repo:commit_status_created" => CommitStatusCreated(CommitStatusEvent),
    /// A build updated its status on a commit.
    "repo:commit_status_updated" => CommitStatusUpdated(CommitStatusEvent),
}

fn decode<T: DeserializeOwned>(key: &str, body: &[u8]) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(|source| ParseError {
        key: key.to_string(),
        source,
    })
}

/// A delivery's body is not the event its key names (or not JSON at all).
///
/// The message names the key and where decoding stopped, never the body's content; the
/// underlying [`serde_json::Error`] (the [`source`](std::error::Error::source)) says what was
/// expected there.
#[derive(Debug, thiserror::Error)]
#[error(
    "the body of a {key:?} delivery is not that event ({} at line {}, column {}); if it came from Bitbucket, please report it with the payload",
    category(.source),
    .source.line(),
    .source.column()
)]
pub struct ParseError {
    key: String,
    #[source]
    source: serde_json::Error,
}

impl ParseError {
    /// The event key the body was parsed for.
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn category(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "unexpected content",
        serde_json::error::Category::Eof => "truncated",
    }
}
