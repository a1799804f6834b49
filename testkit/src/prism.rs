//! Contract checks: a request, as a crate builds it, checked against the official OpenAPI
//! document by [Stoplight Prism](https://github.com/stoplightio/prism) in mock mode, a
//! validator nobody here wrote.
//!
//! The client talks to Prism through a small recording proxy, which keeps the status and
//! the `sl-violations` header of every answer: a crate's `send()` returns neither for a
//! success, and Prism reports request *warnings* on a 2xx. (`prism mock --errors` does not
//! help: it turns violations of Prism's own *responses* into 500s, which judges the document's
//! examples, not our requests.) [`Contract::judge`] fails a test when
//! - Prism answers 400, 415 or 422 (the request does not match the document), 401 (the
//!   credentials do not satisfy its security schemes), or any other status it makes up (404
//!   for a path the document does not have, 405, 500);
//! - the `sl-violations` header lists an entry whose location starts with `request`;
//! - the request is not the operation's method and path, or Prism does not answer in time;
//!
//! unless the violation is one of the document's known defects the crate lists ([`Allowed`]),
//! each with its reason and the tests it shows up in. An allowed defect that no longer shows
//! up fails its test too, so that the list stays true.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, TRANSFER_ENCODING};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// How long Prism may take to answer one request: it never answers some malformed ones.
pub const PRISM_LIMIT: Duration = Duration::from_secs(10);
/// How long one call through a crate may take, the proxy's wait for Prism included.
pub const CALL_LIMIT: Duration = Duration::from_secs(15);

/// A defect of the official document that makes Prism reject a request the server accepts.
/// Nothing else is tolerated.
pub struct Allowed {
    /// The operations whose requests meet it; each must (or the entry is stale).
    pub operations: &'static [&'static str],
    /// Where Prism locates the violation: `request.query.state`.
    pub location: &'static str,
    /// Prism's message, exactly.
    pub message: &'static str,
    /// Why the request is right and the document wrong.
    pub reason: &'static str,
    /// Which tests meet it: the hand-written calls, the calls made from the document, or both.
    pub cases: Cases,
}

/// The two sets of contract tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cases {
    /// The calls written by hand, with realistic values (as users write them).
    Written,
    /// The calls made from the document for every operation ([`crate::Request`]).
    Generated,
    Both,
}

impl Cases {
    fn include(self, generated: bool) -> bool {
        match self {
            Cases::Written => !generated,
            Cases::Generated => generated,
            Cases::Both => true,
        }
    }
}

/// Checks that an allowed-defect list names only `operations` and says why each is allowed.
pub fn check_allowed(allowed: &[Allowed], is_operation: impl Fn(&str) -> bool) {
    for entry in allowed {
        assert!(
            !entry.operations.is_empty(),
            "an ALLOWED entry names no operation"
        );
        for operation in entry.operations {
            assert!(
                is_operation(operation),
                "ALLOWED names `{operation}`, which is not an operation"
            );
        }
        assert!(
            !entry.reason.trim().is_empty(),
            "an ALLOWED entry says no reason"
        );
    }
}

/// How a call through a crate ended, as the judge sees it.
#[derive(Debug)]
pub enum Outcome {
    /// `send()` returned the decoded answer.
    Decoded,
    /// An error status, or an answer that does not decode: judged from what Prism sent (its
    /// bodies are made up from the schemas, not what the server sends: a recursive schema cut
    /// off, an empty 200 where the document declares no content).
    Answered(String),
    /// A redirect the crate refused to follow (Prism answers the 302s the document declares
    /// without a `Location`): the request itself is judged.
    Redirect(String),
    /// Any other error: the call failed.
    Failed(String),
    /// The call did not end within [`CALL_LIMIT`].
    TimedOut,
}

impl Outcome {
    fn text(&self) -> String {
        match self {
            Outcome::Decoded => "the crate decoded the answer".into(),
            Outcome::Answered(error) | Outcome::Redirect(error) | Outcome::Failed(error) => {
                format!("the crate returned: {error}")
            }
            Outcome::TimedOut => "no outcome".into(),
        }
    }
}

impl Outcome {
    /// How a call that had `limit` to end, ended: `answered` says which constructor an error
    /// of the crate takes ([`Outcome::Answered`] for an error status or an answer that does
    /// not decode, [`Outcome::Redirect`], [`Outcome::Failed`]).
    pub fn of<T, E: std::fmt::Display>(
        result: Result<Result<T, E>, tokio::time::error::Elapsed>,
        answered: impl FnOnce(&E) -> fn(String) -> Outcome,
    ) -> Outcome {
        match result {
            Err(_) => Outcome::TimedOut,
            Ok(Ok(_)) => Outcome::Decoded,
            Ok(Err(error)) => answered(&error)(error.to_string()),
        }
    }
}

/// The operation a contract test calls.
pub struct Target {
    /// Its name.
    pub name: &'static str,
    /// Its method and path template, for messages.
    pub method: &'static str,
    pub path: &'static str,
    /// Whether a request's path (as sent, percent-encoded, without the query) is the
    /// operation's.
    pub matches: Box<dyn Fn(&str) -> bool + Send + Sync>,
    /// Whether the call is made from the document rather than written by hand.
    pub generated: bool,
}

impl Target {
    /// The operation `name`, `method` `path`, whose requests' paths `matches` tells.
    pub fn new(
        name: &'static str,
        method: &'static reqwest::Method,
        path: &'static str,
        generated: bool,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Target {
        Target {
            name,
            method: method.as_str(),
            path,
            matches: Box::new(matches),
            generated,
        }
    }
}

/// One contract test: the crate's client, talking to Prism through a recording proxy, and
/// the operation it calls.
pub struct Contract<C> {
    pub client: C,
    proxy: Proxy,
    target: Target,
}

impl<C> Contract<C> {
    /// The contract test of `target`, in front of the Prism that the environment variable
    /// `variable` names (`http://127.0.0.1:<port>/2.0`), with the client `client` makes for a
    /// base URL (the proxy's, with that URL's path); `None`, after a note, when the variable is
    /// not set.
    pub async fn start(
        variable: &str,
        target: Target,
        client: impl FnOnce(String) -> C,
    ) -> Option<Contract<C>> {
        let Some(url) = std::env::var(variable)
            .ok()
            .filter(|url| !url.trim().is_empty())
        else {
            eprintln!(
                "{}: skipped, {variable} is not set (.ci/contract.sh runs these tests against \
                 Prism)",
                target.name
            );
            return None;
        };
        let url = reqwest::Url::parse(&url)
            .unwrap_or_else(|e| panic!("{variable} `{url}` is not a URL: {e}"));
        let proxy = Proxy::start(url.origin().ascii_serialization()).await;
        let client = client(format!(
            "http://{}{}",
            proxy.addr,
            url.path().trim_end_matches('/')
        ));
        Some(Contract {
            client,
            proxy,
            target,
        })
    }

    /// The name of the operation called.
    pub fn name(&self) -> &'static str {
        self.target.name
    }

    /// Panics with every problem found with the request, or returns when Prism accepted it
    /// (but for the defects the lists in `allowed` name).
    pub fn judge(self, outcome: Outcome, allowed: &[&[Allowed]]) {
        self.proxy.judge(&self.target, outcome, allowed);
    }
}

impl Proxy {
    fn judge(&self, called: &Target, outcome: Outcome, allowed: &[&[Allowed]]) {
        let name = called.name;
        let exchanges = std::mem::take(&mut *self.exchanges.lock().unwrap());
        let mut problems = Vec::new();
        match &outcome {
            Outcome::TimedOut => {
                problems.push(format!("the call did not end within {CALL_LIMIT:?}"))
            }
            Outcome::Decoded | Outcome::Answered(_) | Outcome::Redirect(_) => {}
            Outcome::Failed(_) => problems.push(format!("the call failed: {}", outcome.text())),
        }
        // A redirect the crate followed (to the `Location` Prism makes up) is a second
        // request: the operation's own is the first.
        let followed_redirect = exchanges.len() > 1
            && exchanges[0]
                .answer
                .as_ref()
                .is_ok_and(|a| (300..400).contains(&a.status));
        let exchanges = if followed_redirect {
            &exchanges[..1]
        } else {
            &exchanges[..]
        };
        let [exchange] = exchanges else {
            problems.push(format!(
                "expected one request to reach Prism, saw {}: {:?}",
                exchanges.len(),
                exchanges
                    .iter()
                    .map(|e| format!("{} {}", e.method, e.target))
                    .collect::<Vec<_>>()
            ));
            fail(name, &problems);
        };
        let path = exchange.target.split('?').next().unwrap_or_default();
        if exchange.method != called.method || !(called.matches)(path) {
            problems.push(format!(
                "sent {} {}, which is not {} {}",
                exchange.method, exchange.target, called.method, called.path
            ));
        }
        let answer = match &exchange.answer {
            Ok(answer) => answer,
            Err(why) => {
                problems.push(why.clone());
                fail(name, &problems);
            }
        };

        let violations = match answer.request_violations() {
            Ok(violations) => violations,
            Err(why) => {
                problems.push(why);
                Vec::new()
            }
        };
        let allowed_here: Vec<&Allowed> = allowed
            .iter()
            .flat_map(|list| list.iter())
            .filter(|a| a.operations.contains(&name) && a.cases.include(called.generated))
            .collect();
        let mut seen = vec![false; allowed_here.len()];
        let mut unexplained = Vec::new();
        for violation in &violations {
            match allowed_here.iter().position(|a| violation.is(a)) {
                Some(i) => seen[i] = true,
                None => unexplained.push(violation),
            }
        }
        for violation in &unexplained {
            problems.push(format!(
                "Prism: {} ({}): {}",
                violation.location, violation.code, violation.message
            ));
        }
        let status = answer.status;
        let explained = !violations.is_empty() && unexplained.is_empty();
        match status {
            200..=399 => {}
            400 | 415 | 422 | 500 if explained => {}
            _ => problems.push(format!(
                "Prism answered {status}: {}",
                String::from_utf8_lossy(&answer.body)
            )),
        }
        for (allowed, seen) in allowed_here.iter().zip(seen) {
            if !seen {
                problems.push(format!(
                    "the allowed defect `{}: {}` no longer shows up: remove it from ALLOWED",
                    allowed.location, allowed.message
                ));
            }
        }
        if !problems.is_empty() {
            fail(name, &problems);
        }
        println!(
            "{name}: {} {} -> {status}; {}",
            exchange.method,
            exchange.target,
            outcome.text()
        );
    }
}

fn fail(operation: &str, problems: &[String]) -> ! {
    panic!(
        "{operation}: the request does not satisfy the official document:\n  - {}",
        problems.join("\n  - ")
    );
}

/// One violation Prism reports about a request.
#[derive(Debug)]
struct Violation {
    /// `request.query.state`, `request.body.target`, `request`.
    location: String,
    code: String,
    message: String,
}

impl Violation {
    fn is(&self, allowed: &Allowed) -> bool {
        self.location == allowed.location && self.message == allowed.message
    }

    /// Reads Prism's violation objects (`{"location": [..], "code", "message"}`); `prefix` goes
    /// in front of each location (a 422 body's are relative to the request).
    fn parse_all(list: &Value, prefix: &[&str]) -> Result<Vec<Violation>, String> {
        let items = list
            .as_array()
            .ok_or_else(|| format!("Prism's violations are not a list: {list}"))?;
        items
            .iter()
            .map(|item| {
                let parts = item["location"]
                    .as_array()
                    .ok_or_else(|| format!("a violation without a location: {item}"))?;
                let location: Vec<String> = prefix
                    .iter()
                    .map(|p| p.to_string())
                    .chain(parts.iter().map(text))
                    .collect();
                Ok(Violation {
                    location: location.join("."),
                    code: text(&item["code"]),
                    message: text(&item["message"]),
                })
            })
            .collect()
    }
}

/// A JSON string as is, anything else (a number) as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A request that went through the proxy, and what came back.
#[derive(Debug)]
struct Exchange {
    method: String,
    /// The path and query as sent, still percent-encoded.
    target: String,
    answer: Result<Reply, String>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    /// What Prism says is wrong with the request: the `request...` entries of its
    /// `sl-violations` header, and the list in the body of a 422 it made up.
    fn request_violations(&self) -> Result<Vec<Violation>, String> {
        let mut found = Vec::new();
        if let Some(header) = self.header("sl-violations") {
            let list: Value = serde_json::from_str(header)
                .map_err(|_| format!("sl-violations is not a JSON list: {header}"))?;
            found.extend(
                Violation::parse_all(&list, &[])?
                    .into_iter()
                    .filter(|v| v.location.split('.').next() == Some("request")),
            );
        }
        if let Some(problem) = self.prisms_own_problem() {
            match problem["type"].as_str().and_then(|t| t.rsplit_once('#')) {
                Some((_, "UNPROCESSABLE_ENTITY")) => {
                    found.extend(Violation::parse_all(&problem["validation"], &["request"])?);
                }
                Some((_, "INVALID_CONTENT_TYPE")) => found.push(Violation {
                    location: "request".into(),
                    code: "415".into(),
                    message: problem["detail"].as_str().unwrap_or_default().into(),
                }),
                // Prism could not make up an answer (after it accepted the request): listed so that
                // an allowed defect of the document's answer can name it.
                Some((_, "UNKNOWN" | "SCHEMA_TOO_COMPLEX")) => found.push(Violation {
                    location: "response".into(),
                    code: "500".into(),
                    message: problem["title"].as_str().unwrap_or_default().into(),
                }),
                _ => {}
            }
        }
        Ok(found)
    }
}

/// An HTTP client that does not follow redirects and gives up after `timeout`.
pub fn plain_http(timeout: Duration) -> reqwest::Client {
    // reqwest needs a process-wide crypto provider when the crate under test turns its
    // `rustls` feature on, even for plain HTTP; `Err` means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("a plain HTTP client builds")
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body of an error Prism made up itself (rather than took from the document):
    /// `application/problem+json` with a `type` under `https://stoplight.io/prism/errors#`.
    fn prisms_own_problem(&self) -> Option<Value> {
        let problem_json = self
            .header(CONTENT_TYPE.as_str())
            .is_some_and(|t| t.starts_with("application/problem+json"));
        let problem: Value = serde_json::from_slice(&self.body)
            .ok()
            .filter(|_| problem_json)?;
        let from_prism = problem["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://stoplight.io/prism/errors#"));
        from_prism.then_some(problem)
    }
}

/// A reverse proxy on loopback that forwards to Prism and records every exchange.
struct Proxy {
    /// Where the client sends its requests.
    addr: SocketAddr,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Proxy {
    /// Listens on a free port; forwards to `upstream` (`http://127.0.0.1:4010`). Its tasks end
    /// with the test's runtime.
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let http = plain_http(PRISM_LIMIT);
        let log = Arc::clone(&exchanges);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (http, upstream, log) = (http.clone(), upstream.clone(), Arc::clone(&log));
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        forward(request, http.clone(), upstream.clone(), Arc::clone(&log))
                    });
                    // A connection the client drops midway is the test's business: its
                    // request, if any, is missing from the record and the test says so.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy { addr, exchanges }
    }
}

/// Sends `request` on to Prism, records the exchange, and hands Prism's answer back.
async fn forward(
    request: hyper::Request<Incoming>,
    http: reqwest::Client,
    upstream: String,
    log: Arc<Mutex<Vec<Exchange>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let method = parts.method.to_string();
    let answer = relay(&http, &upstream, &target, parts, body).await;
    let response = match &answer {
        Ok(answer) => {
            let mut response = hyper::Response::new(Full::new(answer.body.clone()));
            *response.status_mut() =
                hyper::StatusCode::from_u16(answer.status).expect("a status reqwest accepted");
            let headers = response.headers_mut();
            for (name, value) in &answer.headers {
                if ![CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING].contains(name) {
                    headers.append(name, value.clone());
                }
            }
            response
        }
        Err(why) => {
            let mut response = hyper::Response::new(Full::new(Bytes::from(why.clone())));
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            response
        }
    };
    log.lock().unwrap().push(Exchange {
        method,
        target,
        answer,
    });
    Ok(response)
}

async fn relay(
    http: &reqwest::Client,
    upstream: &str,
    target: &str,
    parts: hyper::http::request::Parts,
    body: Incoming,
) -> Result<Reply, String> {
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the request body: {e}"))?
        .to_bytes();
    let mut headers = parts.headers;
    for hop in [HOST, CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING] {
        headers.remove(hop);
    }
    let mut request = http
        .request(parts.method, format!("{upstream}{target}"))
        .headers(headers);
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            format!("Prism did not answer within {PRISM_LIMIT:?}")
        } else {
            format!("Prism could not be reached at {upstream}: {e}")
        }
    })?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading Prism's answer: {e}"))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}
