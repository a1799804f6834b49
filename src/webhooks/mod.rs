//! Receiving Bitbucket webhooks: signature checks, typed events, delivery metadata, and the
//! body that creates a hook.
//!
//! Bitbucket posts each event to the hook's URL with `X-Event-Key` naming it and, when the hook
//! has a secret, `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>`.
//!
//! - [`verify`] checks a signature (in constant time); [`sign`] makes one.
//! - [`Event::parse`] types a body by its key: [`Event::Push`], [`Event::PullRequestCreated`],
//!   ... and [`Event::Unknown`] for keys this version does not type, never an error.
//! - [`Delivery::from_request`] does both from a request's headers and body, and keeps the
//!   delivery's `X-Request-UUID` and `X-Attempt-Number` (Bitbucket retries failed deliveries).
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

/// Declares a payload struct as tolerant as [`crate::types`]: every field is an `Option` left
/// out of the encoding when `None`, and the fields this version does not list are kept in
/// `extra`, so decoding then encoding a payload loses nothing.
macro_rules! payload {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($(#[$field_attr:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    };
}

#[cfg(feature = "axum")]
pub mod axum;
mod commit_status;
mod delivery;
mod event;
mod payload;
mod push;
mod signature;
mod subscription;

pub use commit_status::{CommitStatus, CommitStatusEvent, CommitStatusLinks, CommitStatusState};
pub use delivery::{
    ATTEMPT_NUMBER_HEADER, Delivery, DeliveryError, EVENT_KEY_HEADER, HOOK_UUID_HEADER,
    REQUEST_UUID_HEADER,
};
pub use event::{Event, ParseError};
pub use payload::{
    Change, IssueCommentEvent, IssueEvent, IssueUpdatedEvent, PullRequestApprovalEvent,
    PullRequestChangesRequestEvent, PullRequestCommentEvent, PullRequestEvent, Review,
};
pub use push::{Push, PushChange, PushEvent, PushedRef};
pub use signature::{SIGNATURE_HEADER, SignatureError, WebhookSecret, sign, verify};
pub use subscription::{EventKey, Subscription};
