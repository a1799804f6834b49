//! An [axum] extractor for verified deliveries (feature `axum`).
//!
//! [`Delivery`] implements [`FromRequest`] for any router state that gives a [`WebhookSecret`]
//! ([`FromRef`]): a handler taking a `Delivery` only runs for requests signed with the secret.
//! Others are answered 401 (missing or wrong signature) or 400 (not an event) without reaching
//! it.
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use bitbucket_cloud::webhooks::{Delivery, Event, WebhookSecret};
//!
//! async fn receive(delivery: Delivery) {
//!     if let Event::Push(push) = &delivery.event {
//!         for change in push.changes() {
//!             println!("{:?} -> {:?}", change.ref_name(), change.new.as_ref().and_then(|r| r.hash()));
//!         }
//!     }
//! }
//!
//! let app: Router = Router::new()
//!     .route("/bitbucket", post(receive))
//!     .with_state(WebhookSecret::new("s3cr3t"));
//! ```
//!
//! With a larger state, implement `FromRef<YourState> for WebhookSecret`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};

use super::delivery::{Delivery, DeliveryError};
use super::signature::WebhookSecret;

impl<S> FromRequest<S> for Delivery
where
    S: Send + Sync,
    WebhookSecret: FromRef<S>,
{
    type Rejection = DeliveryRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let secret = WebhookSecret::from_ref(state);
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state).await?;
        Delivery::from_request(&headers, &body, &secret).map_err(|error| {
            // The reason only: never the body, which may hold private data.
            tracing::warn!(status = error.status().as_u16(), %error, "rejected a webhook request");
            DeliveryRejection::Delivery(error)
        })
    }
}

/// Why the extractor refused a request; answers with the matching status and a one-line
/// reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryRejection {
    /// The body could not be read (too large for the router's body limit, or the connection
    /// failed); answered as axum answers it.
    #[error(transparent)]
    Body(#[from] BytesRejection),
    /// Not a verified delivery: 401 for a missing or wrong signature, 400 for a body that is
    /// not an event.
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

impl IntoResponse for DeliveryRejection {
    fn into_response(self) -> Response {
        match self {
            DeliveryRejection::Body(rejection) => rejection.into_response(),
            DeliveryRejection::Delivery(error) => {
                (error.status(), error.to_string()).into_response()
            }
        }
    }
}
