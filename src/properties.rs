//! Property tests of everything that reads what the network sends: whatever the input, the
//! parsers return (no panic) and end in bounded time.
//!
//! - webhook signatures (`verify`, `sign`) and parsing (`Event::parse`, `Delivery::from_request`);
//! - the pagination links (`next` links and cursors: resolving, page numbers, the path and
//!   query checks of the transport's admission);
//! - `Retry-After` and the `X-RateLimit-*` headers, and the retry waits computed from them;
//! - error bodies (Bitbucket's JSON errors, HTML, anything) and OAuth token answers;
//! - the base-URL and token-URL checks.
//!
//! They live in the library's unit tests so that they reach the parsers themselves, not only
//! the public calls around them. CI runs proptest's default number of cases (256 per
//! property; the whole module takes a few seconds in a debug build). To run many more:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p bitbucket-cloud --lib properties
//! ```
//!
//! "Bounded time" is checked as a generous ceiling per case ([`CEILING`]), far above what any
//! input takes, to catch a parser that loops or goes quadratic on a crafted input; it is not
//! a measure of speed (that is what benchmarks are for).

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::admission;
use crate::endpoint::{self, Use};
use crate::operations::{self, Operation};
use crate::pagination::links;
use crate::rate_limit::{self, RateLimit};
use crate::retry::{RetryConfig, Retryable};
use crate::webhooks::{self, Delivery, Event, WebhookSecret};
use crate::{Auth, Client, Policy};
use bitbucket_core::transport::Failure;

/// The most one case may take, on a loaded machine in a debug build.
const CEILING: Duration = Duration::from_secs(2);

/// Runs `case`, and fails when it takes longer than [`CEILING`].
fn bounded<T>(what: &str, case: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = case();
    let took = started.elapsed();
    assert!(took < CEILING, "{what} took {took:?}");
    out
}

/// Any JSON value, a few levels deep, with keys and strings that look like Bitbucket's.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "error",
            "message",
            "detail",
            "fields",
            "required",
            "granted",
            "access_token",
            "refresh_token",
            "expires_in",
            "scopes",
            "scope",
            "error_description",
            "values",
            "next",
            "page",
            "pagelen",
            "size",
            "type",
            "id",
            "secret",
            "push",
            "changes",
            "pullrequest",
            "repository",
            "actor",
        ])
        .prop_map(str::to_string),
        text(),
    ]
}

/// Short text, any Unicode, with the characters parsers care about more likely.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,24}", "[0-9a-zA-Z:/?#@&=%._+ -]{0,40}", "[0-9]{0,30}",]
}

/// Bytes that are JSON some of the time.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        prop::collection::vec(any::<u8>(), 0..256),
        text().prop_map(String::into_bytes),
    ]
}

/// A header value as a server could send it: any bytes a header may hold.
fn header_value() -> impl Strategy<Value = Option<HeaderValue>> {
    prop_oneof![
        text().prop_map(|t| HeaderValue::from_str(&t).ok()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| HeaderValue::from_bytes(&b).ok()),
        "[0-9]{1,40}".prop_map(|t| HeaderValue::from_str(&t).ok()),
        (
            any::<u32>(),
            prop::sample::select(vec!["Mon", "Fri", "Xyz"])
        )
            .prop_map(|(n, day)| {
                let year = 1900 + n % 9000;
                HeaderValue::from_str(&format!("{day}, 31 Dec {year} 23:59:59 GMT")).ok()
            }),
    ]
}

fn headers(names: &'static [&'static str]) -> impl Strategy<Value = HeaderMap> {
    prop::collection::vec((prop::sample::select(names), header_value()), 0..6).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Some(value) = value {
                map.append(HeaderName::from_static(name), value);
            }
        }
        map
    })
}

/// A URL-ish string: a link as a server could send it, on the client's origin or not.
fn link() -> impl Strategy<Value = String> {
    let origin = prop::sample::select(vec![
        "https://api.bitbucket.org",
        "https://API.bitbucket.org:443",
        "http://api.bitbucket.org",
        "https://evil.example",
        "",
    ]);
    let path = prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "2.0",
                "repositories",
                "ws",
                "app",
                "pullrequests",
                "commits",
                "src",
                "..",
                ".",
                "%2E%2E",
                "a%2Fb",
                "",
                "user",
                "workspaces",
                "%",
                "%zz",
            ])
            .prop_map(str::to_string),
            text(),
        ],
        0..8,
    );
    let query = prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "page=2",
                "page=dbtR",
                "pagelen=100",
                "page=",
                "page",
                "access_token=x",
                "page=18446744073709551616",
                "q=a%20b",
                "&",
                "==",
            ])
            .prop_map(str::to_string),
            text(),
        ],
        0..5,
    );
    (origin, path, query, text()).prop_map(|(origin, path, query, tail)| {
        let mut link = format!("{origin}/{}", path.join("/"));
        if !query.is_empty() {
            link.push('?');
            link.push_str(&query.join("&"));
        }
        link.push_str(&tail);
        link
    })
}

/// One client for every case: building one (its TLS setup) costs far more than a case.
fn client() -> &'static Client {
    static CLIENT: LazyLock<Client> = LazyLock::new(|| {
        Client::builder()
            .base_url("https://api.bitbucket.org/2.0")
            .auth(Auth::access_token("token"))
            .policy(Policy::allow_all().only_in("ws/app"))
            .build()
            .expect("the test client builds")
    });
    &CLIENT
}

fn any_operation() -> impl Strategy<Value = &'static Operation> {
    prop::sample::select(operations::ALL.iter().collect::<Vec<_>>())
}

proptest! {
    // ---------------------------------------------------------------- webhooks

    #[test]
    fn webhook_signatures(secret in text(), body in body(), header in proptest::option::of(text())) {
        bounded("verify", || {
            let _ = webhooks::verify(&secret, &body, header.as_deref());
            let signed = webhooks::sign(&secret, &body);
            let verified = webhooks::verify(&secret, &body, Some(&signed));
            prop_assert_eq!(verified.is_ok(), !secret.is_empty());
            Ok(())
        })?;
    }

    #[test]
    fn webhook_events(key in text(), known in any::<bool>(), body in body()) {
        let key = if known {
            Event::TYPED_KEYS[key.len() % Event::TYPED_KEYS.len()].to_string()
        } else {
            key
        };
        bounded("Event::parse", || {
            if let Ok(event) = Event::parse(&key, &body) {
                let _ = format!("{event:?}");
            }
        });
    }

    #[test]
    fn webhook_deliveries(headers in headers(&[
        "x-hub-signature", "x-event-key", "x-request-uuid", "x-attempt-number", "x-hook-uuid",
    ]), body in body(), sign in any::<bool>()) {
        let secret = WebhookSecret::new("s3cr3t");
        let mut headers = headers;
        if sign {
            let signature = webhooks::sign("s3cr3t", &body);
            headers.insert("x-hub-signature", HeaderValue::from_str(&signature).unwrap());
        }
        bounded("Delivery::from_request", || {
            let _ = Delivery::from_request(&headers, &body, &secret);
        });
    }

    // ---------------------------------------------------------------- pagination links

    #[test]
    fn pagination_links(from in link(), next in link(), page in any::<u64>(), op in any_operation()) {
        let client = client();
        bounded("links", || {
            let from = Url::parse(&from).ok();
            let Ok(url) = links::same_origin(client, from.as_ref(), &next, op) else {
                return;
            };
            let _ = links::page_number(&url);
            let _ = links::with_page(&url, page);
            let _ = links::has_param(&url, "pagelen");
            let _ = links::without_param(&url, "pagelen");
            let admission = admission::admit(&client.inner, op, &url);
            // Whatever is admitted is an instance of the operation's path, on the base URL.
            if admission.decision.is_allowed() {
                assert!(url.as_str().starts_with("https://api.bitbucket.org/2.0/"), "{url}");
                assert!(op.match_path(&admission.path).is_some(), "{url}");
            }
        });
    }

    #[test]
    fn path_matching(path in link(), op in any_operation()) {
        bounded("match_path", || {
            if let Some(params) = op.match_path(&path) {
                for (_, value) in params.iter() {
                    assert!(!value.is_empty());
                    assert!(!value.split(['/', '\\']).any(|s| s == ".." || s == "."));
                }
            }
        });
    }

    // ---------------------------------------------------------------- rate limits, retries

    #[test]
    fn rate_limit_headers(headers in headers(&[
        "retry-after", "x-ratelimit-limit", "x-ratelimit-resource", "x-ratelimit-nearlimit",
    ]), retries in any::<u32>(), elapsed in any::<u64>()) {
        bounded("rate limit headers", || {
            if let Some(limit) = RateLimit::from_headers(&headers) {
                let _ = limit.to_string();
            }
            let asked = rate_limit::retry_after(&headers);
            if let Some(asked) = asked {
                assert!(asked <= rate_limit::MAX_RETRY_AFTER);
            }
            let config = RetryConfig::default();
            for kind in [Retryable::RateLimited, Retryable::ServerError, Retryable::Connection] {
                let elapsed = Duration::from_millis(elapsed);
                if let Ok(wait) = config.next_delay(kind, &Method::GET, retries, asked, elapsed) {
                    assert!(elapsed.saturating_add(wait) < config.total_budget());
                }
            }
        });
    }

    // ---------------------------------------------------------------- error bodies

    #[test]
    fn error_bodies(status in 100u16..600, body in body(), headers in headers(&[
        "retry-after", "x-ratelimit-limit", "content-type",
    ]), op in any_operation()) {
        let status = StatusCode::from_u16(status).unwrap();
        let credentials = Auth::api_token("me@example.com", "token");
        bounded("error bodies", || {
            let failure = Failure {
                operation: op,
                status,
                rate_limit: RateLimit::from_headers(&headers),
                retry_after: rate_limit::retry_after(&headers),
                headers,
                body: body.clone().into(),
                attempts: 1,
                gave_up: None,
            };
            let api = crate::error::ApiError::new(failure, |api| {
                crate::error::hint(api, op, &credentials)
            });
            let error = crate::Error::Api(Box::new(api));
            let _ = format!("{error} {error:?}");
            let _ = crate::error::snippet(&body);
        });
    }

    #[test]
    fn oauth_token_answers(body in body()) {
        bounded("token answers", || {
            let _ = crate::auth::token_answer(&body);
            let _ = crate::auth::token_error_reason(&body);
        });
    }

    // ---------------------------------------------------------------- base URLs

    #[test]
    fn base_urls(url in link(), accept_http in any::<bool>()) {
        bounded("base URLs", || {
            let shown = endpoint::without_userinfo(&url);
            assert!(!shown.contains(":pw@"));
            for purpose in [Use::BaseUrl, Use::TokenUrl, Use::AuthorizeEndpoint] {
                match endpoint::check(&url, purpose, accept_http) {
                    Ok(checked) => {
                        assert!(checked.username().is_empty() && checked.password().is_none());
                        assert!(checked.query().is_none() && checked.fragment().is_none());
                        assert!(matches!(checked.scheme(), "https" | "http"));
                    }
                    Err(message) => assert!(!message.contains(":pw@"), "{message}"),
                }
            }
        });
    }

    #[test]
    fn urls_with_passwords(user in "[a-z]{1,8}", host in "[a-z]{1,8}(\\.[a-z]{1,8})?") {
        let url = format!("https://{user}:pw@{host}/2.0");
        bounded("userinfo", || {
            let error = endpoint::check(&url, Use::BaseUrl, false).unwrap_err();
            assert!(!error.contains(":pw@"), "{error}");
        });
    }
}
