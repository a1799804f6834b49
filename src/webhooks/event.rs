//! [`Event`]: a delivery's body, typed by its `X-Event-Key`.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::commit_status::CommitStatusEvent;
use super::key::EventKey;
use super::payload::{
    IssueCommentEvent, IssueEvent, IssueUpdatedEvent, PullRequestApprovalEvent,
    PullRequestChangesRequestEvent, PullRequestCommentEvent, PullRequestEvent,
};
use super::push::PushEvent;
use super::repository::{
    CommitCommentEvent, ForkEvent, RepositoryTransferEvent, RepositoryUpdatedEvent,
};
use crate::types::{Account, Repository};

/// What a payload must have to be its event (see `payload!`'s `requires`).
pub(crate) trait Shape {
    /// The first member the body must have and does not (absent or `null`).
    fn missing(&self) -> Option<&'static str>;
}

/// Declares the typed events once: the enum, and the [`EventKey`] of each variant for parsing
/// and back. The keys come from the document (`EventKey` is generated from it); only which
/// payload each one has is written here.
macro_rules! events {
    (
        typed {
            $($(#[$doc:meta])* $key:ident => $variant:ident($payload:ty),)*
        }
        untyped {
            $($untyped:ident,)*
        }
    ) => {
        /// A webhook event, typed by its key (the `X-Event-Key` header).
        ///
        /// Every event Atlassian documents a payload for has a variant. The others are
        /// [`Event::Unknown`], with their JSON payload: those the document lists without a
        /// payload ([`Event::UNTYPED_KEYS`]), and keys newer than this version, so a receiver
        /// subscribed to new events keeps working.
        ///
        /// ```
        /// use bitbucket_cloud::webhooks::{Event, EventKey};
        ///
        /// let body = br#"{"actor": {"display_name": "Emma"}, "pullrequest": {"id": 7, "title": "Fix"}}"#;
        /// let event = Event::parse("pullrequest:created", body)?;
        /// assert_eq!(event.key(), EventKey::PullrequestCreated);
        /// match event {
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
        #[derive(Clone, PartialEq)]
        #[non_exhaustive]
        // One value per delivery; boxing the payloads would only make matching on them clumsier.
        #[allow(clippy::large_enum_variant)]
        pub enum Event {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\nKey: [`EventKey::", stringify!($key), "`].")]
                $variant($payload),
            )*
            /// An event this version does not type, with its payload as JSON: one of
            /// [`Event::UNTYPED_KEYS`], or a key newer than this version
            /// ([`EventKey::Other`]).
            Unknown {
                /// The event key, e.g. `repo:imported`.
                key: EventKey,
                /// The body, as JSON.
                payload: Value,
            },
        }

        impl Event {
            /// The keys that parse into a typed variant: every key Atlassian's
            /// [Event payloads](https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/)
            /// page documents a payload for.
            pub const TYPED_KEYS: &'static [EventKey] = &[$(EventKey::$key),*];

            /// The keys the official document lists (`GET /hook_events`) whose payload
            /// Atlassian does not document: they parse as [`Event::Unknown`], with their
            /// payload kept whole.
            pub const UNTYPED_KEYS: &'static [EventKey] = &[$(EventKey::$untyped),*];

            /// Parses a delivery's body, given its event key (the `X-Event-Key` header).
            ///
            /// Check the signature first ([`super::verify`], or [`super::Delivery`] which does
            /// both). The body must be the event its key names: JSON of that shape, with the
            /// members that event always has (`pullrequest` for `pullrequest:*`, `push` for
            /// `repo:push`, `issue` for `issue:*`, `commit_status` for
            /// `repo:commit_status_*`, `comment` for comment events, and so on). Bitbucket
            /// signs only the body, so the key is not authenticated: this check stops a
            /// signed body from being passed off as another kind of event (see
            /// [the module docs](super#what-the-signature-covers)). A key this version does
            /// not type gives [`Event::Unknown`]; its body must still be JSON.
            pub fn parse(event_key: &str, body: &[u8]) -> Result<Event, ParseError> {
                let key = super::key::parse(event_key);
                match key {
                    $(EventKey::$key => typed(key, body).map(Event::$variant),)*
                    key => decode(&key, body).map(|payload| Event::Unknown { key, payload }),
                }
            }

            /// The event key, as Bitbucket names it (`pullrequest:comment_created` is
            /// [`EventKey::PullrequestCommentCreated`]).
            pub fn key(&self) -> EventKey {
                match self {
                    $(Event::$variant(_) => EventKey::$key,)*
                    Event::Unknown { key, .. } => key.clone(),
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

        /// Prints the payload under the crate's redaction rules: a secret-named field, or
        /// JSON key at any depth (in `extra`, or in an [`Event::Unknown`] payload), prints
        /// `[redacted]`, so logging an event never logs a secret it carries.
        impl fmt::Debug for Event {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Event::$variant(e) => f.debug_tuple(stringify!($variant)).field(e).finish(),)*
                    Event::Unknown { key, payload } => f
                        .debug_struct("Unknown")
                        .field("key", key)
                        .field("payload", &crate::redact::Shown(payload))
                        .finish(),
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
    typed {
        /// Refs were pushed, created or deleted.
        RepoPush => Push(PushEvent),
        /// A repository was forked.
        RepoFork => Fork(ForkEvent),
        /// A repository's details changed.
        RepoUpdated => RepositoryUpdated(RepositoryUpdatedEvent),
        /// A repository moved to another workspace.
        RepoTransfer => RepositoryTransfer(RepositoryTransferEvent),
        /// A commit was commented on.
        RepoCommitCommentCreated => CommitCommentCreated(CommitCommentEvent),
        /// A build reported a status on a commit.
        RepoCommitStatusCreated => CommitStatusCreated(CommitStatusEvent),
        /// A build updated its status on a commit.
        RepoCommitStatusUpdated => CommitStatusUpdated(CommitStatusEvent),
        /// A pull request was opened.
        PullrequestCreated => PullRequestCreated(PullRequestEvent),
        /// A pull request's title, description, reviewers or branches changed.
        PullrequestUpdated => PullRequestUpdated(PullRequestEvent),
        /// A pull request was approved.
        PullrequestApproved => PullRequestApproved(PullRequestApprovalEvent),
        /// An approval was withdrawn.
        PullrequestUnapproved => PullRequestUnapproved(PullRequestApprovalEvent),
        /// A reviewer requested changes.
        PullrequestChangesRequestCreated => PullRequestChangesRequestCreated(PullRequestChangesRequestEvent),
        /// A request for changes was withdrawn.
        PullrequestChangesRequestRemoved => PullRequestChangesRequestRemoved(PullRequestChangesRequestEvent),
        /// A pull request was merged.
        PullrequestFulfilled => PullRequestFulfilled(PullRequestEvent),
        /// A pull request was declined.
        PullrequestRejected => PullRequestRejected(PullRequestEvent),
        /// A pull request was commented on.
        PullrequestCommentCreated => PullRequestCommentCreated(PullRequestCommentEvent),
        /// A pull request comment was edited.
        PullrequestCommentUpdated => PullRequestCommentUpdated(PullRequestCommentEvent),
        /// A pull request comment was deleted.
        PullrequestCommentDeleted => PullRequestCommentDeleted(PullRequestCommentEvent),
        /// A pull request comment (a task-like thread) was resolved.
        PullrequestCommentResolved => PullRequestCommentResolved(PullRequestCommentEvent),
        /// A resolved pull request comment was reopened.
        PullrequestCommentReopened => PullRequestCommentReopened(PullRequestCommentEvent),
        /// An issue was created.
        IssueCreated => IssueCreated(IssueEvent),
        /// An issue was changed or commented on with a change.
        IssueUpdated => IssueUpdated(IssueUpdatedEvent),
        /// An issue was commented on.
        IssueCommentCreated => IssueCommentCreated(IssueCommentEvent),
    }
    untyped {
        RepoCreated,
        RepoDeleted,
        RepoImported,
        PullrequestPush,
        ProjectUpdated,
        PipelineSpanCreated,
    }
}

/// Decodes `body` as the payload of `key` and checks it has what that event always has.
fn typed<T: DeserializeOwned + Shape>(key: EventKey, body: &[u8]) -> Result<T, ParseError> {
    let payload: T = decode(&key, body)?;
    match payload.missing() {
        None => Ok(payload),
        Some(member) => Err(ParseError {
            key,
            problem: Problem::Missing(member),
        }),
    }
}

fn decode<T: DeserializeOwned>(key: &EventKey, body: &[u8]) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(|source| ParseError {
        key: key.clone(),
        problem: Problem::Json(source),
    })
}

/// A delivery's body is not the event its key names (or not JSON at all).
///
/// The message names the key and what is wrong (where decoding stopped, or the member the
/// body lacks), never the body's content; for JSON that does not decode, the underlying
/// [`serde_json::Error`] (the [`source`](std::error::Error::source)) says what was expected
/// there.
#[derive(Debug)]
pub struct ParseError {
    key: EventKey,
    problem: Problem,
}

#[derive(Debug)]
enum Problem {
    /// Not JSON, or JSON of another shape.
    Json(serde_json::Error),
    /// JSON of the right shape without a member the event always has.
    Missing(&'static str),
}

impl ParseError {
    /// The event key the body was parsed for.
    pub fn key(&self) -> &EventKey {
        &self.key
    }

    /// The member the body lacks (`pullrequest`, `push`, ...), when that is why it is not the
    /// event its key names.
    pub fn missing(&self) -> Option<&str> {
        match self.problem {
            Problem::Missing(member) => Some(member),
            Problem::Json(_) => None,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match &self.problem {
            Problem::Json(error) => write!(
                f,
                "the body of a \"{key}\" delivery is not that event ({} at line {}, column {}); \
                 if it came from Bitbucket, please report it with the payload",
                category(error),
                error.line(),
                error.column()
            ),
            Problem::Missing(member) => write!(
                f,
                "the body of a \"{key}\" delivery is not that event: it has no `{member}`. \
                 X-Event-Key is not covered by the signature, so this may be the body of \
                 another event sent under this key; if it came from Bitbucket, please report \
                 it with the payload"
            ),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Json(error) => Some(error),
            Problem::Missing(_) => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Payload members named like secrets print `[redacted]` wherever they are: in a typed
    /// event's `extra` (at any depth), in a typed field's own `extra`, and in an untyped
    /// event's payload.
    #[test]
    fn debug_never_prints_secrets() {
        let body = br#"{
            "pullrequest": {"id": 7, "title": "Fix", "deploy_token": "tok-in-typed-extra"},
            "comment": {"id": 1, "content": {"raw": "hi"}},
            "client_secret": "sec-in-extra",
            "integration": {"config": [{"password": "pw-nested"}], "url": "https://ci.example"}
        }"#;
        let event = Event::parse("pullrequest:comment_updated", body).unwrap();
        let shown = format!("{event:?}");
        for secret in ["tok-in-typed-extra", "sec-in-extra", "pw-nested"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("https://ci.example"), "{shown}");
        assert!(shown.contains("PullRequestCommentUpdated"), "{shown}");
        assert!(shown.contains("\"client_secret\": [redacted]"), "{shown}");

        let unknown = Event::parse(
            "repo:imported",
            br#"{"repository": {"name": "app"}, "auth": {"access_token": "tok-unknown"}}"#,
        )
        .unwrap();
        let shown = format!("{unknown:?}");
        assert!(!shown.contains("tok-unknown"), "{shown}");
        assert!(shown.contains("\"app\""), "{shown}");
        assert!(shown.starts_with("Unknown {"), "{shown}");

        // A JSON-typed field (`Change::old`/`new`) is redacted like `extra`.
        let updated = Event::parse(
            "repo:updated",
            br#"{"changes": {"website": {"old": {"token": "tok-old"}, "new": "https://x"}}}"#,
        )
        .unwrap();
        let shown = format!("{updated:?}");
        assert!(!shown.contains("tok-old"), "{shown}");
        assert!(shown.contains("https://x"), "{shown}");
    }
}
