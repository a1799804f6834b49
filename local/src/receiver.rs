//! A webhook receiver for tests: an HTTP endpoint on loopback that keeps what it is sent.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::sync::{Notify, oneshot};

use crate::{lock, serve};

/// An HTTP endpoint on `127.0.0.1` that answers `200` to every POST and keeps it. Register
/// [`WebhookReceiver::url`] as a hook's URL; stops when dropped.
///
/// It keeps at most [`WebhookReceiver::CAPACITY`] deliveries (bodies up to axum's 2 MB
/// default each), or as many as [`WebhookReceiver::start_with_capacity`] says; past that it
/// answers `503` and keeps nothing more, so a runaway sender
/// shows as failed deliveries rather than as a test process that grows without end.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let receiver = bitbucket_cloud_local::WebhookReceiver::start().await;
/// assert!(receiver.url().starts_with("http://127.0.0.1:"));
/// assert!(receiver.received().is_empty());
/// # }
/// ```
pub struct WebhookReceiver {
    url: String,
    inbox: Arc<Inbox>,
    /// Dropping it stops the server.
    _serving: oneshot::Sender<()>,
}

struct Inbox {
    received: Mutex<Vec<ReceivedWebhook>>,
    arrived: Notify,
    capacity: usize,
}

/// One POST a [`WebhookReceiver`] got.
///
/// Its `Debug` prints the body as the event its `X-Event-Key` names, through
/// [`bitbucket_cloud::webhooks::Event`]'s `Debug`, which redacts secret-named members; a body
/// that is not that event prints as its length only.
#[derive(Clone)]
#[non_exhaustive]
pub struct ReceivedWebhook {
    /// The request's headers (`X-Event-Key`, `X-Hub-Signature`, ...).
    pub headers: HeaderMap,
    /// The body, exactly as sent (signatures are computed over these bytes).
    pub body: Bytes,
}

impl std::fmt::Debug for ReceivedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap_or("[not text]")))
            .collect();
        let mut out = f.debug_struct("ReceivedWebhook");
        out.field("headers", &headers);
        match bitbucket_cloud::webhooks::Event::parse(self.event(), &self.body) {
            Ok(event) => out.field("body", &event),
            Err(_) => out.field("body", &format_args!("[{} bytes]", self.body.len())),
        };
        out.finish()
    }
}

impl ReceivedWebhook {
    /// A header as text; empty when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// `X-Event-Key`: `pullrequest:created`, `repo:push`, ...
    pub fn event(&self) -> &str {
        self.header("x-event-key")
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

impl WebhookReceiver {
    /// How many deliveries it keeps; it answers `503` to those after.
    pub const CAPACITY: usize = 10_000;

    /// Starts listening on a free port of `127.0.0.1`, keeping up to
    /// [`WebhookReceiver::CAPACITY`] deliveries.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> WebhookReceiver {
        WebhookReceiver::start_with_capacity(WebhookReceiver::CAPACITY).await
    }

    /// Starts listening like [`WebhookReceiver::start`], keeping up to `capacity` deliveries.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start_with_capacity(capacity: usize) -> WebhookReceiver {
        async fn receive(
            State(inbox): State<Arc<Inbox>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            {
                let mut received = lock(&inbox.received);
                if received.len() >= inbox.capacity {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                received.push(ReceivedWebhook { headers, body });
            }
            inbox.arrived.notify_waiters();
            StatusCode::OK
        }
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
            Ok(listener) => listener,
            Err(e) => panic!("WebhookReceiver could not listen on 127.0.0.1: {e}"),
        };
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}/webhook"),
            Err(e) => panic!("WebhookReceiver has no local address: {e}"),
        };
        let inbox = Arc::new(Inbox {
            received: Mutex::default(),
            arrived: Notify::new(),
            capacity,
        });
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(Arc::clone(&inbox));
        WebhookReceiver {
            url,
            inbox,
            _serving: serve("WebhookReceiver", listener, app),
        }
    }

    /// The URL to register as a hook's `url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedWebhook> {
        lock(&self.inbox.received).clone()
    }

    /// Waits until at least `count` webhooks have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedWebhook> {
        loop {
            let arrived = self.inbox.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            arrived.await;
        }
    }
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}
