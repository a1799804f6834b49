//! Faults to inject, so tests can see how code copes with a slow, rate-limiting or failing
//! Bitbucket. See [`crate::LocalBitbucket::inject`].

use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};

use crate::errors::ApiError;

/// Something to go wrong on purpose. Inject with [`crate::LocalBitbucket::inject`]; remove all
/// with [`crate::LocalBitbucket::clear_faults`].
///
/// ```
/// use std::time::Duration;
/// use bitbucket_cloud_local::Fault;
///
/// let slow = Fault::latency(Duration::from_millis(200));
/// let limited = Fault::rate_limit_after(3).retry_after(Duration::from_secs(1));
/// let flaky = Fault::server_error("get_pull_request").status(503).times(2);
/// # let _ = (slow, limited, flaky);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Latency(Duration),
    RateLimit {
        after: u64,
        retry_after: Duration,
    },
    ServerError {
        operation: Option<&'static str>,
        status: u16,
        times: Option<u32>,
    },
}

impl Fault {
    /// Every request waits this long before it is answered.
    pub fn latency(delay: Duration) -> Fault {
        Fault {
            kind: Kind::Latency(delay),
        }
    }

    /// After `requests` answered requests, the next ones get `429 Too Many Requests` with a
    /// `Retry-After` header (1 s unless [`Fault::retry_after`] says otherwise) until that time
    /// has passed; then `requests` more are answered, and so on, like Bitbucket's hourly
    /// limits in miniature.
    pub fn rate_limit_after(requests: u64) -> Fault {
        Fault {
            kind: Kind::RateLimit {
                after: requests,
                retry_after: Duration::from_secs(1),
            },
        }
    }

    /// How long a rate limit lasts once reached (sent in whole seconds as `Retry-After`,
    /// at least 1). Only for [`Fault::rate_limit_after`].
    pub fn retry_after(mut self, wait: Duration) -> Fault {
        if let Kind::RateLimit { retry_after, .. } = &mut self.kind {
            *retry_after = wait.max(Duration::from_secs(1));
        }
        self
    }

    /// The next call of `operation` (a name from `bitbucket_cloud::operations`, such as
    /// `"merge_pull_request"`, or `"*"` for any) fails with `500 Internal Server Error`. Use
    /// [`Fault::status`] for another 5xx and [`Fault::times`] / [`Fault::always`] for more
    /// than one failure.
    ///
    /// # Panics
    ///
    /// When `operation` is not an operation of the client (a typo would otherwise make the
    /// fault silently never happen).
    pub fn server_error(operation: &str) -> Fault {
        let operation = match operation {
            "*" => None,
            name => Some(
                bitbucket_cloud::operations::by_name(name)
                    .unwrap_or_else(|| {
                        panic!(
                            "Fault::server_error: `{name}` is not an operation of bitbucket-cloud \
                             (see bitbucket_cloud::operations::ALL)"
                        )
                    })
                    .name,
            ),
        };
        Fault {
            kind: Kind::ServerError {
                operation,
                status: 500,
                times: Some(1),
            },
        }
    }

    /// The status a [`Fault::server_error`] answers with.
    ///
    /// # Panics
    ///
    /// When `code` is not a 5xx status.
    pub fn status(mut self, code: u16) -> Fault {
        assert!(
            (500..=599).contains(&code),
            "Fault::status: {code} is not a server error (500 to 599)"
        );
        if let Kind::ServerError { status, .. } = &mut self.kind {
            *status = code;
        }
        self
    }

    /// How many calls a [`Fault::server_error`] fails before it is used up.
    pub fn times(mut self, n: u32) -> Fault {
        if let Kind::ServerError { times, .. } = &mut self.kind {
            *times = Some(n);
        }
        self
    }

    /// A [`Fault::server_error`] that fails every matching call until cleared.
    pub fn always(mut self) -> Fault {
        if let Kind::ServerError { times, .. } = &mut self.kind {
            *times = None;
        }
        self
    }
}

/// The faults in force, with their counters.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    active: Vec<Active>,
}

#[derive(Debug)]
struct Active {
    fault: Fault,
    served: u64,
    limited_until: Option<Instant>,
}

/// What the faults decided for one request.
pub(crate) struct Verdict {
    pub delay: Duration,
    pub failure: Option<ApiError>,
}

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        self.active.push(Active {
            fault,
            served: 0,
            limited_until: None,
        });
    }

    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// Applies the faults to a request for `operation`.
    pub fn judge(&mut self, operation: &str) -> Verdict {
        let mut verdict = Verdict {
            delay: Duration::ZERO,
            failure: None,
        };
        let now = Instant::now();
        for active in &mut self.active {
            match &mut active.fault.kind {
                Kind::Latency(delay) => verdict.delay = verdict.delay.saturating_add(*delay),
                Kind::RateLimit { after, retry_after } => {
                    if active.limited_until.is_some_and(|until| now >= until) {
                        active.limited_until = None;
                        active.served = 0;
                    }
                    if active.limited_until.is_none() && active.served >= *after {
                        // A wait too long to represent lasts a year: as long as any test.
                        active.limited_until = now
                            .checked_add(*retry_after)
                            .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)));
                    }
                    match active.limited_until {
                        Some(until) if verdict.failure.is_none() => {
                            let wait = until.saturating_duration_since(now).as_secs_f64().ceil();
                            verdict.failure = Some(rate_limited(wait.max(1.0) as u64));
                        }
                        Some(_) => {}
                        None => active.served = active.served.saturating_add(1),
                    }
                }
                Kind::ServerError {
                    operation: target,
                    status,
                    times,
                } => {
                    let matches = target.is_none_or(|t| t == operation);
                    if matches && times != &Some(0) && verdict.failure.is_none() {
                        if let Some(n) = times {
                            *n = n.saturating_sub(1);
                        }
                        verdict.failure = Some(server_error(*status));
                    }
                }
            }
        }
        verdict
    }
}

fn rate_limited(wait_secs: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit for this resource has been exceeded",
    )
    .detail("You have sent too many requests: wait as Retry-After says, then try again")
    .header(header::RETRY_AFTER, &wait_secs.to_string())
    .header(header::HeaderName::from_static("x-ratelimit-limit"), "1000")
    .header(
        header::HeaderName::from_static("x-ratelimit-resource"),
        "api",
    )
    .header(
        header::HeaderName::from_static("x-ratelimit-nearlimit"),
        "true",
    )
}

fn server_error(status: u16) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status {
        StatusCode::SERVICE_UNAVAILABLE => "Service unavailable",
        StatusCode::BAD_GATEWAY => "Bad gateway",
        StatusCode::GATEWAY_TIMEOUT => "Gateway timeout",
        _ => "Something went wrong",
    };
    ApiError::new(status, message).detail("injected by LocalBitbucket (Fault::server_error)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_used_up() {
        let mut faults = Faults::default();
        faults.add(Fault::server_error("get_pull_request").times(2));
        assert!(faults.judge("get_repository").failure.is_none());
        assert!(faults.judge("get_pull_request").failure.is_some());
        assert!(faults.judge("get_pull_request").failure.is_some());
        assert!(faults.judge("get_pull_request").failure.is_none());
    }

    #[test]
    fn rate_limit_after_n() {
        let mut faults = Faults::default();
        faults.add(Fault::rate_limit_after(2).retry_after(Duration::from_secs(30)));
        assert!(faults.judge("a").failure.is_none());
        assert!(faults.judge("a").failure.is_none());
        assert!(faults.judge("a").failure.is_some());
        assert!(faults.judge("a").failure.is_some());
    }

    #[test]
    #[should_panic(expected = "not an operation")]
    fn unknown_operations_are_refused() {
        let _ = Fault::server_error("merge_pull_reqest");
    }
}
