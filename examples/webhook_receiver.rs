//! A webhook receiver: prints each verified event Bitbucket delivers.
//!
//! ```sh
//! WEBHOOK_SECRET='the hook secret' cargo run --example webhook_receiver --features axum
//! ```
//!
//! It listens on `127.0.0.1:3000` (set `ADDR` to change it) at `/bitbucket`. Expose that URL to
//! Bitbucket (a tunnel or a reverse proxy with HTTPS), and create the hook with the same secret,
//! in Repository settings > Webhooks or with `webhooks::Subscription`. Requests without a
//! valid signature are answered 401, bodies that are not events (or not the event their
//! `X-Event-Key` names) 400.
//!
//! Each event is handled once: Bitbucket retries deliveries it thinks failed, and a signed
//! body can be sent again by anyone who saw it (the signature covers the body, not the
//! headers). So the receiver remembers the SHA-256 of the last 10,000 bodies it handled and
//! answers 200 without acting to a body it has seen.
//!
//! To try it locally, sign a body yourself:
//!
//! ```sh
//! body='{"push": {"changes": []}}'
//! sig=$(printf %s "$body" | openssl dgst -sha256 -hmac 'the hook secret' | sed 's/^.* //')
//! curl -i localhost:3000/bitbucket -H 'X-Event-Key: repo:push' \
//!      -H "X-Hub-Signature: sha256=$sig" -H 'X-Request-UUID: test-1' -d "$body"
//! ```

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use bitbucket_cloud::webhooks::{Delivery, Event, WebhookSecret};

/// How many handled deliveries are remembered. Bitbucket retries within minutes, so the
/// last few thousand are plenty; the bound keeps memory flat whatever is sent.
const REMEMBERED: usize = 10_000;

/// What the handler needs: the secret (read by the `Delivery` extractor) and the deliveries
/// already handled.
#[derive(Clone)]
struct AppState {
    secret: WebhookSecret,
    seen: Arc<Mutex<Seen>>,
}

/// The digests of the last [`REMEMBERED`] bodies handled, oldest first.
#[derive(Default)]
struct Seen {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl Seen {
    /// Remembers `digest`; `false` when it was already there.
    fn insert(&mut self, digest: [u8; 32]) -> bool {
        if !self.set.insert(digest) {
            return false;
        }
        self.order.push_back(digest);
        if self.order.len() > REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        true
    }
}

impl FromRef<AppState> for WebhookSecret {
    fn from_ref(state: &AppState) -> Self {
        state.secret.clone()
    }
}

async fn receive(State(state): State<AppState>, delivery: Delivery) -> StatusCode {
    // On the body's digest, not on X-Request-UUID, which is not signed.
    let first_time = state
        .seen
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(delivery.body_sha256);
    if !first_time {
        println!(
            "{} (attempt {:?}): a body already handled",
            delivery.event.key(),
            delivery.attempt
        );
        return StatusCode::OK;
    }
    let who = delivery
        .event
        .actor()
        .and_then(|a| a.display_name.clone())
        .unwrap_or_else(|| "someone".into());
    match &delivery.event {
        Event::Push(push) => {
            for change in push.changes() {
                let to = change
                    .new
                    .as_ref()
                    .and_then(|r| r.hash())
                    .unwrap_or("(deleted)");
                println!("{who} pushed {} -> {to}", change.ref_name().unwrap_or("?"));
            }
        }
        Event::PullRequestCreated(e) | Event::PullRequestUpdated(e) => {
            let pr = e.pullrequest.clone().unwrap_or_default();
            println!(
                "{}: #{} {} by {who}",
                delivery.event.key(),
                pr.id.unwrap_or_default(),
                pr.title.unwrap_or_default()
            );
        }
        Event::PullRequestCommentCreated(e) => {
            let text = e
                .comment
                .as_ref()
                .and_then(|c| c.content.as_ref())
                .and_then(|c| c.raw.clone())
                .unwrap_or_default();
            println!("{who} commented: {text}");
        }
        Event::CommitStatusCreated(e) | Event::CommitStatusUpdated(e) => {
            if let Some(status) = &e.commit_status {
                println!(
                    "{} on {}: {}",
                    status.key.as_deref().unwrap_or("?"),
                    status.commit_hash().unwrap_or("?"),
                    status
                        .state
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                );
            }
        }
        Event::Unknown { key, .. } => println!("{key} (not typed by this version)"),
        other => println!("{} by {who}", other.key()),
    }
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = WebhookSecret::from_env("WEBHOOK_SECRET")?;
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let state = AppState {
        secret,
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/bitbucket", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}/bitbucket");
    axum::serve(listener, app).await?;
    Ok(())
}
