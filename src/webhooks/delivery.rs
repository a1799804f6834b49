//! [`Delivery`]: one verified webhook request, with the metadata Bitbucket sends beside it.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::event::{Event, ParseError};
use super::signature::{SIGNATURE_HEADER, SignatureError, WebhookSecret};

/// The header naming the event (`repo:push`).
pub const EVENT_KEY_HEADER: &str = "X-Event-Key";
/// The header identifying a delivery; the same on every retry of it. Not signed: see
/// [the module docs](super#what-the-signature-covers).
pub const REQUEST_UUID_HEADER: &str = "X-Request-UUID";
/// The header identifying the hook that fired.
pub const HOOK_UUID_HEADER: &str = "X-Hook-UUID";
/// The header counting attempts to deliver (1, then up to 3 on failures).
pub const ATTEMPT_NUMBER_HEADER: &str = "X-Attempt-Number";

/// A webhook request whose signature was checked, with its parsed event.
///
/// Bitbucket retries a delivery that failed or timed out, with the same body and
/// `X-Request-UUID`. To act on each event once, remember the
/// [`body_sha256`](Self::body_sha256)s handled: unlike the request UUID, which is not signed,
/// the digest is of what the signature covers, so a replayed body cannot pass for a new event
/// (see [the module docs](super#what-the-signature-covers)).
///
/// ```
/// use bitbucket_cloud::webhooks::{self, Delivery, Event, WebhookSecret};
/// use reqwest::header::{HeaderMap, HeaderValue};
///
/// let secret = WebhookSecret::new("s3cr3t");
/// let body = br#"{"push": {"changes": []}}"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-event-key", HeaderValue::from_static("repo:push"));
/// headers.insert("x-request-uuid", HeaderValue::from_static("{5e6f...}"));
/// headers.insert("x-attempt-number", HeaderValue::from_static("2"));
/// headers.insert("x-hub-signature", webhooks::sign("s3cr3t", body).parse()?);
///
/// let delivery = Delivery::from_request(&headers, body, &secret)?;
/// assert!(matches!(delivery.event, Event::Push(_)));
/// assert_eq!(delivery.attempt, Some(2));
/// // What to de-duplicate on.
/// let seen_key: [u8; 32] = delivery.body_sha256;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The event.
    pub event: Event,
    /// `X-Request-UUID`: identifies the delivery, the same on each of its retries. Not signed,
    /// so not proof that a delivery is new: de-duplicate on
    /// [`body_sha256`](Self::body_sha256).
    pub request_uuid: Option<String>,
    /// `X-Hook-UUID`: the hook that fired.
    pub hook_uuid: Option<String>,
    /// `X-Attempt-Number`: 1 for the first attempt, more on retries (`None` when absent or
    /// not a number).
    pub attempt: Option<u32>,
    /// The SHA-256 of the body as received: the same for every retry (and every replay) of a
    /// delivery, different for different events. What to de-duplicate on.
    pub body_sha256: [u8; 32],
}

impl Delivery {
    /// Checks the request's signature with `secret`, then parses its event.
    ///
    /// `body` must be the raw bytes received. Fails with [`DeliveryError::Signature`] (answer
    /// 401) before looking at anything else when the signature is missing or wrong, and with
    /// another [`DeliveryError`] (answer 400) when the request is not an event;
    /// [`DeliveryError::status`] gives the status to answer with.
    pub fn from_request(
        headers: &HeaderMap,
        body: &[u8],
        secret: &WebhookSecret,
    ) -> Result<Delivery, DeliveryError> {
        secret.verify(body, header(headers, SIGNATURE_HEADER))?;
        let key = header(headers, EVENT_KEY_HEADER)
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(DeliveryError::MissingEventKey)?;
        let event = Event::parse(key, body)?;
        Ok(Delivery {
            event,
            request_uuid: header(headers, REQUEST_UUID_HEADER).map(str::to_string),
            hook_uuid: header(headers, HOOK_UUID_HEADER).map(str::to_string),
            attempt: header(headers, ATTEMPT_NUMBER_HEADER).and_then(|a| a.trim().parse().ok()),
            body_sha256: bitbucket_core::signature::sha256(body),
        })
    }

    /// Whether this is a retry of a delivery that failed (attempt 2 or more): the event may
    /// have been handled already.
    pub fn is_retry(&self) -> bool {
        self.attempt.is_some_and(|a| a > 1)
    }
}

/// A header's value, when present and text.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why a request is not a verified webhook delivery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The signature is missing or wrong: the request is not from Bitbucket (or the secrets
    /// differ).
    #[error("webhook delivery rejected: {0}")]
    Signature(#[from] SignatureError),
    /// The request has no `X-Event-Key` header.
    #[error("the request has no X-Event-Key header, so it is not a Bitbucket webhook delivery")]
    MissingEventKey,
    /// The body is not the event its key names.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl DeliveryError {
    /// The status a receiver should answer with: 401 for a bad signature, 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            DeliveryError::Signature(_) => StatusCode::UNAUTHORIZED,
            DeliveryError::MissingEventKey | DeliveryError::Parse(_) => StatusCode::BAD_REQUEST,
        }
    }
}
