//! Webhook deliveries: what happens in the repository is POSTed to its hooks' URLs, as
//! Bitbucket does, with `X-Event-Key`, `X-Hook-UUID`, `X-Request-UUID`, `X-Attempt-Number`
//! and, when the hook has a secret, `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>`
//! (header names and signature from `bitbucket_cloud::webhooks`, which receivers check them
//! with).
//!
//! One worker delivers in order. A delivery answered with a 5xx, or not answered, is tried
//! again (3 attempts in all, with the same `X-Request-UUID`), quickly rather than over
//! minutes as on bitbucket.org. Hook URLs are plain `http://` (receivers in tests listen on
//! loopback); an `https://` hook is recorded as failed.
//!
//! Both the queue and the log are bounded: a delivery that finds the queue full is logged as
//! not sent, and the log keeps the last deliveries only.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, header};
use bitbucket_cloud::webhooks::{
    ATTEMPT_NUMBER_HEADER, EVENT_KEY_HEADER, EventKey, HOOK_UUID_HEADER, REQUEST_UUID_HEADER,
    SIGNATURE_HEADER, sign,
};
use http_body_util::Full;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::store::Hook;
use crate::{ids, lock};

const ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const RETRY_DELAY: Duration = Duration::from_millis(100);

/// One webhook delivery, as recorded by [`crate::LocalBitbucket::deliveries`].
///
/// Its `Debug` hides what a hook URL may carry as credentials (user info, the query); the body
/// sent, and the hook's secret, are not kept.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The event key (`pullrequest:created`).
    pub event: EventKey,
    /// The hook's `{uuid}`.
    pub hook: String,
    /// Where it was sent.
    pub url: String,
    /// `X-Request-UUID`, the same for every attempt.
    pub request_uuid: String,
    /// How many attempts were made (1 to 3; 0 when it was not sent because the queue was
    /// full).
    pub attempts: u32,
    /// The status of the last answer; `None` when there was no answer.
    pub status: Option<u16>,
    /// Why the last attempt got no answer, when it did not.
    pub error: Option<String>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("event", &self.event)
            .field("hook", &self.hook)
            .field("url", &shown_url(&self.url))
            .field("request_uuid", &self.request_uuid)
            .field("attempts", &self.attempts)
            .field("status", &self.status)
            .field("error", &self.error.as_deref().map(shown_error))
            .finish()
    }
}

/// A hook URL as printed: user info and query replaced by `[redacted]`, which may hold
/// credentials (`https://user:pass@ci.example/hook?token=...`).
pub(crate) fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("[redacted]@{host}"),
        None => authority.to_string(),
    };
    let path = match path.split_once(['?', '#']) {
        Some((path, _)) => format!("{path}?[redacted]"),
        None => path.to_string(),
    };
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

/// An error message as printed: hyper's messages may quote the URL.
fn shown_error(error: &str) -> String {
    error
        .split(' ')
        .map(|word| {
            if word.contains("://") {
                shown_url(word)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Delivery {
    /// Whether the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

struct Job {
    event: EventKey,
    hook: Hook,
    body: Bytes,
}

type Http = HttpClient<HttpConnector, Full<Bytes>>;

/// The delivery queue and its log.
pub(crate) struct Webhooks {
    queue: mpsc::Sender<Job>,
    queue_limit: usize,
    pending: watch::Sender<usize>,
    log: Arc<Mutex<Log>>,
}

/// The last deliveries made.
struct Log {
    kept: VecDeque<Delivery>,
    limit: usize,
}

impl Log {
    fn push(&mut self, delivery: Delivery) {
        if self.limit == 0 {
            return;
        }
        while self.kept.len() >= self.limit {
            self.kept.pop_front();
        }
        self.kept.push_back(delivery);
    }
}

impl Webhooks {
    /// Starts the delivery worker on the current Tokio runtime, with room for `queue_limit`
    /// deliveries waiting (at least 1) and a log of the last `log_limit`.
    pub fn start(queue_limit: usize, log_limit: usize) -> Self {
        let queue_limit = queue_limit.max(1);
        let (queue, mut jobs) = mpsc::channel::<Job>(queue_limit);
        let (pending, _) = watch::channel(0usize);
        let log = Arc::new(Mutex::new(Log {
            kept: VecDeque::new(),
            limit: log_limit,
        }));
        let worker_pending = pending.clone();
        let worker_log = Arc::clone(&log);
        tokio::spawn(async move {
            let http: Http = HttpClient::builder(TokioExecutor::new()).build_http();
            while let Some(job) = jobs.recv().await {
                let delivery = deliver(&http, &job).await;
                lock(&worker_log).push(delivery);
                worker_pending.send_modify(|n| *n = n.saturating_sub(1));
            }
        });
        Webhooks {
            queue,
            queue_limit,
            pending,
            log,
        }
    }

    /// Queues `payload` for every active hook of `hooks` subscribed to `event`.
    pub fn emit(&self, hooks: &[Hook], event: &EventKey, payload: &Value) {
        let body = Bytes::from(payload.to_string());
        for hook in hooks
            .iter()
            .filter(|h| h.active && h.events.contains(event))
        {
            self.pending.send_modify(|n| *n = n.saturating_add(1));
            let job = Job {
                event: event.clone(),
                hook: hook.clone(),
                body: body.clone(),
            };
            match self.queue.try_send(job) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(job)) => {
                    self.pending.send_modify(|n| *n = n.saturating_sub(1));
                    lock(&self.log).push(not_sent(
                        &job,
                        format!(
                            "not sent: {} deliveries were already waiting (the queue's limit; \
                             see Builder::delivery_queue_limit)",
                            self.queue_limit
                        ),
                    ));
                }
                // The worker is gone (the runtime is shutting down): nothing will be sent.
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.pending.send_modify(|n| *n = n.saturating_sub(1));
                }
            }
        }
    }

    pub fn log(&self) -> Vec<Delivery> {
        lock(&self.log).kept.iter().cloned().collect()
    }

    /// Resolves once every queued delivery has been made (or given up).
    pub async fn idle(&self) {
        let mut pending = self.pending.subscribe();
        // `wait_for` only fails when the sender is dropped, which `self` prevents.
        let _ = pending.wait_for(|n| *n == 0).await;
    }
}

/// The record of `job` before any attempt, with a new request UUID.
fn unattempted(job: &Job) -> Delivery {
    Delivery {
        event: job.event.clone(),
        hook: job.hook.uuid.clone(),
        url: job.hook.url.clone(),
        request_uuid: ids::uuid().trim_matches(['{', '}']).to_string(),
        attempts: 0,
        status: None,
        error: None,
    }
}

/// The record of a delivery that was never attempted.
fn not_sent(job: &Job, why: String) -> Delivery {
    Delivery {
        error: Some(why),
        ..unattempted(job)
    }
}

async fn deliver(http: &Http, job: &Job) -> Delivery {
    let mut delivery = unattempted(job);
    for attempt in 1..=ATTEMPTS {
        delivery.attempts = attempt;
        match send(http, job, &delivery.request_uuid, attempt).await {
            Ok(status) => {
                delivery.status = Some(status);
                delivery.error = None;
                if !(500..600).contains(&status) {
                    break;
                }
            }
            Err(error) => {
                delivery.status = None;
                delivery.error = Some(error);
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(RETRY_DELAY.saturating_mul(attempt)).await;
        }
    }
    delivery
}

/// One attempt: the status of the answer, or why there was none.
async fn send(http: &Http, job: &Job, request_uuid: &str, attempt: u32) -> Result<u16, String> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(&job.hook.url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "Bitbucket-Webhooks/2.0")
        .header(EVENT_KEY_HEADER, job.event.to_string())
        .header(HOOK_UUID_HEADER, job.hook.uuid.trim_matches(['{', '}']))
        .header(REQUEST_UUID_HEADER, request_uuid)
        .header(ATTEMPT_NUMBER_HEADER, attempt.to_string());
    if let Some(secret) = &job.hook.secret {
        request = request.header(SIGNATURE_HEADER, sign(secret, &job.body));
    }
    let request = request
        .body(Full::new(job.body.clone()))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    match tokio::time::timeout(ATTEMPT_TIMEOUT, http.request(request)).await {
        Ok(Ok(response)) => Ok(response.status().as_u16()),
        Ok(Err(e)) => Err(format!("no answer: {e}")),
        Err(_) => Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials_in_urls() {
        assert_eq!(
            shown_url("https://bot:hunter2@ci.example/hook?token=abc"),
            "https://[redacted]@ci.example/hook?[redacted]"
        );
        assert_eq!(shown_url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
        let delivery = Delivery {
            event: EventKey::RepoPush,
            hook: "{h}".into(),
            url: "http://u:pw-1@127.0.0.1:9/?secret=s-2".into(),
            request_uuid: "r".into(),
            attempts: 1,
            status: None,
            error: Some("no answer: http://u:pw-1@127.0.0.1:9/?secret=s-2 refused".into()),
        };
        let shown = format!("{delivery:?}");
        assert!(!shown.contains("pw-1") && !shown.contains("s-2"), "{shown}");
        assert!(shown.contains("127.0.0.1:9"), "{shown}");
    }
}
