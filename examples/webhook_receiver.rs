//! A webhook receiver: prints each verified event Bitbucket delivers.
//!
//! ```sh
//! WEBHOOK_SECRET='the hook secret' cargo run --example webhook_receiver --features axum
//! ```
//!
//! It listens on `127.0.0.1:3000` (set `ADDR` to change it) at `/bitbucket`. Expose that URL to
//! Bitbucket (a tunnel or a reverse proxy with HTTPS), and create the hook with the same secret,
//! in Repository settings > Webhooks or with `webhooks::Subscription`. Requests without a
//! valid signature are answered 401, bodies that are not events 400.
//!
//! To try it locally, sign a body yourself:
//!
//! ```sh
//! body='{"push": {"changes": []}}'
//! sig=$(printf %s "$body" | openssl dgst -sha256 -hmac 'the hook secret' | sed 's/^.* //')
//! curl -i localhost:3000/bitbucket -H 'X-Event-Key: repo:push' \
//!      -H "X-Hub-Signature: sha256=$sig" -H 'X-Request-UUID: test-1' -d "$body"
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use bitbucket_cloud::webhooks::{Delivery, Event, WebhookSecret};

/// What the handler needs: the secret (read by the `Delivery` extractor) and the deliveries
/// already handled, since Bitbucket retries a delivery it thinks failed.
#[derive(Clone)]
struct AppState {
    secret: WebhookSecret,
    seen: Arc<Mutex<HashSet<String>>>,
}

impl FromRef<AppState> for WebhookSecret {
    fn from_ref(state: &AppState) -> Self {
        state.secret.clone()
    }
}

async fn receive(State(state): State<AppState>, delivery: Delivery) -> StatusCode {
    if let Some(id) = &delivery.request_uuid {
        let first_time = state
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id.clone());
        if !first_time {
            println!(
                "{id}: attempt {:?} of a delivery already handled",
                delivery.attempt
            );
            return StatusCode::OK;
        }
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
