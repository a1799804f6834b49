//! Receiving Bitbucket webhooks: signature checks, typed events, delivery metadata, and the
//! body that creates a hook.
//!
//! Bitbucket posts each event to the hook's URL with `X-Event-Key` naming it and, when the hook
//! has a secret, `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>`.
//!
//! - [`verify`] checks a signature (in constant time); [`sign`] makes one.
//! - [`Event::parse`] types a body by its key: [`Event::Push`], [`Event::PullRequestCreated`],
//!   ... one variant for every event Atlassian documents a payload for, and [`Event::Unknown`]
//!   for the others, never an error. A body that does not fit its key is an error.
//! - [`EventKey`] names every event the official document lists.
//! - [`Delivery::from_request`] does both from a request's headers and body, and keeps the
//!   delivery's `X-Request-UUID` and `X-Attempt-Number` (Bitbucket retries failed deliveries)
//!   and the SHA-256 of its body.
//! - With the feature `axum`, `Delivery` is an extractor that answers 401 for a bad signature
//!   and 400 for a body that is not an event (see the `axum` module).
//! - [`Subscription`] is the body of `create_webhook()`, with the secret out of `Debug`.
//!
//! ```
//! use bitbucket_cloud::webhooks::{self, Event};
//!
//! # fn receive(headers_event_key: &str, headers_signature: Option<&str>, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! webhooks::verify("s3cr3t", body, headers_signature)?;
//! match Event::parse(headers_event_key, body)? {
//!     Event::Push(push) => {
//!         for change in push.changes() {
//!             println!("{:?} moved to {:?}", change.ref_name(), change.new.as_ref().and_then(|r| r.hash()));
//!         }
//!     }
//!     Event::PullRequestCommentCreated(e) => {
//!         let comment = e.comment.unwrap_or_default();
//!         println!("{}", comment.content.and_then(|c| c.raw).unwrap_or_default());
//!     }
//!     other => println!("{} not handled", other.key()),
//! }
//! # Ok(())
//! # }
//! # let body = br#"{"push": {"changes": []}}"#;
//! # receive("repo:push", Some(&webhooks::sign("s3cr3t", body)), body).unwrap();
//! ```
//!
//! Payloads reuse [`crate::types`] (accounts, repositories, pull requests, comments, issues)
//! and are as tolerant: every field is optional, `null`s and fields this version does not
//! list decode, and the latter are kept in `extra`.
//!
//! # What the signature covers
//!
//! Bitbucket signs the body and nothing else. The headers beside it, `X-Event-Key`,
//! `X-Request-UUID`, `X-Hook-UUID` and `X-Attempt-Number`, are not authenticated: anyone who
//! has seen one signed delivery (a log, a proxy, a misdirected hook) can send its body again,
//! under any key and any request UUID, and the signature still matches.
//!
//! - [`Event::parse`] refuses a body that does not fit its key: a signed `repo:push` body sent
//!   as `pullrequest:fulfilled` has no `pullrequest` and is an error (400 from the extractor).
//!   Events of the same shape (`pullrequest:created` and `pullrequest:fulfilled`) cannot be told
//!   apart this way; act on what the body says (the pull request's `state`), not on the key
//!   alone.
//! - `X-Request-UUID` is not replay protection: a replayed body comes with whatever UUID the
//!   sender chooses. To act on each event once, de-duplicate on a digest of the body
//!   ([`Delivery::body_sha256`]), which the signature does cover: a retry of a delivery and a
//!   replay of it have the same digest, two different events different ones (their bodies
//!   differ, if only in timestamps). Keep the digests seen in a bounded set (the
//!   `webhook_receiver` example keeps the last 10,000).

/// Declares a payload struct as tolerant as [`crate::types`]: every field is an `Option` left
/// out of the encoding when `None`, and the fields this version does not list are kept in
/// `extra`, so decoding then encoding a payload loses nothing.
///
/// `requires(a, b)` after the name lists the members a body must have (present and not `null`)
/// to be this event: what [`Event::parse`] checks before accepting a body under a key.
macro_rules! payload {
    (
        $(#[$attr:meta])*
        pub struct $name:ident $(requires($($required:ident),+))? {
            $($(#[$field_attr:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                $(#[$field_attr])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: $ty,
            )*
            /// Fields this version does not list, as sent.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        // Printed under the crate's redaction rules (`crate::redact`): a secret-named field or
        // JSON key, at any depth of `extra` or of a JSON field, prints `[redacted]`.
        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #[allow(unused_imports)]
                use $crate::redact::{ShowAsDebug as _, ShowAsJson as _};
                f.debug_struct(stringify!($name))
                    $(.field(
                        stringify!($field),
                        &(&$crate::redact::Probe(stringify!($field), &self.$field)).shown(),
                    ))*
                    .field("extra", &$crate::redact::json("extra", &self.extra))
                    .finish()
            }
        }

        $(
            impl $crate::webhooks::event::Shape for $name {
                fn missing(&self) -> Option<&'static str> {
                    $(
                        if self.$required.is_none() {
                            return Some(stringify!($required));
                        }
                    )+
                    None
                }
            }
        )?
    };
}

#[cfg(feature = "axum")]
pub mod axum;
mod commit_status;
mod delivery;
mod event;
mod key;
mod payload;
mod push;
mod repository;
use bitbucket_core::signature;
mod subscription;

pub use commit_status::{CommitStatus, CommitStatusEvent, CommitStatusLinks, CommitStatusState};
pub use delivery::{
    ATTEMPT_NUMBER_HEADER, Delivery, DeliveryError, EVENT_KEY_HEADER, HOOK_UUID_HEADER,
    REQUEST_UUID_HEADER,
};
pub use event::{Event, ParseError};
pub use key::EventKey;
pub use payload::{
    Change, IssueCommentEvent, IssueEvent, IssueUpdatedEvent, PullRequestApprovalEvent,
    PullRequestChangesRequestEvent, PullRequestCommentEvent, PullRequestEvent, Review,
};
pub use push::{Push, PushChange, PushEvent, PushedRef};
pub use repository::{
    CommitCommentEvent, ForkEvent, RepositoryTransferEvent, RepositoryUpdatedEvent,
};
pub use signature::{SIGNATURE_HEADER, SignatureError, WebhookSecret, sign, verify};
pub use subscription::Subscription;
