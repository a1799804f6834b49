//! When failed attempts are repeated.
//!
//! - **429 Too Many Requests**: retried with exponential backoff and jitter, waiting at least
//!   what `Retry-After` asks, for any method (Bitbucket did not process the request), as long
//!   as the total time stays within [`RetryConfig::budget`].
//! - **5xx answers and connection failures**: retried only for idempotent methods (GET, HEAD,
//!   PUT, DELETE). A POST (merge, run a pipeline, comment) is never repeated on its own.
//!
//! ```
//! use std::time::Duration;
//! use bitbucket_cloud::retry::RetryConfig;
//!
//! let patient = RetryConfig::default().budget(Duration::from_secs(300)).max_retries(8);
//! let none = RetryConfig::disabled();
//! # let _ = (patient, none);
//! ```

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use reqwest::Method;

/// Retry settings of a [`crate::Client`]. The default retries up to 4 times within 60 s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    max_retries: u32,
    budget: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    rate_limited: bool,
    server_errors: bool,
    connection_errors: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 4,
            budget: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            rate_limited: true,
            server_errors: true,
            connection_errors: true,
        }
    }
}

impl RetryConfig {
    /// Never retry: every failure is returned at once.
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            rate_limited: false,
            server_errors: false,
            connection_errors: false,
            ..Self::default()
        }
    }

    /// At most this many retries after the first attempt.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The total time a call may spend, waits included, before its last failure is returned.
    /// A wait that would end past the budget is not started.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The first backoff; each retry doubles it (with jitter) up to `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Whether 429 answers are retried (default: yes).
    pub fn retry_rate_limited(mut self, on: bool) -> Self {
        self.rate_limited = on;
        self
    }

    /// Whether 5xx answers to idempotent requests are retried (default: yes).
    pub fn retry_server_errors(mut self, on: bool) -> Self {
        self.server_errors = on;
        self
    }

    /// Whether connection failures of idempotent requests are retried (default: yes).
    pub fn retry_connection_errors(mut self, on: bool) -> Self {
        self.connection_errors = on;
        self
    }

    pub(crate) fn budget_limit(&self) -> Duration {
        self.budget
    }

    /// Whether the attempt numbered `retries_so_far + 1` may follow this failure.
    pub(crate) fn should_retry(
        &self,
        failure: Retryable,
        method: &Method,
        retries_so_far: u32,
    ) -> bool {
        if retries_so_far >= self.max_retries {
            return false;
        }
        match failure {
            Retryable::RateLimited => self.rate_limited,
            Retryable::ServerError => self.server_errors && is_idempotent(method),
            Retryable::Connection => self.connection_errors && is_idempotent(method),
        }
    }

    /// The wait before retry number `retry` (1-based): exponential with full jitter over the
    /// upper half, and never less than what the server asked.
    pub(crate) fn delay(&self, retry: u32, server_asked: Option<Duration>) -> Duration {
        let exponential = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_backoff);
        let jittered = capped / 2 + capped.mul_f64(jitter() / 2.0);
        server_asked.map_or(jittered, |asked| {
            asked.max(jittered.min(asked + Duration::from_secs(1)))
        })
    }
}

/// Why an attempt may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retryable {
    RateLimited,
    ServerError,
    Connection,
}

pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// A number in [0, 1) from the standard library's per-process random hasher keys: enough to
/// spread retries of many clients apart, without a dependency.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let bits = RandomState::new().hash_one(nanos);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_is_not_retried_on_server_errors() {
        let config = RetryConfig::default();
        assert!(!config.should_retry(Retryable::ServerError, &Method::POST, 0));
        assert!(!config.should_retry(Retryable::Connection, &Method::POST, 0));
        assert!(config.should_retry(Retryable::RateLimited, &Method::POST, 0));
        assert!(config.should_retry(Retryable::ServerError, &Method::GET, 0));
        assert!(config.should_retry(Retryable::ServerError, &Method::PUT, 3));
        assert!(!config.should_retry(Retryable::ServerError, &Method::PUT, 4));
    }

    #[test]
    fn disabled_never_retries() {
        let config = RetryConfig::disabled();
        assert!(!config.should_retry(Retryable::RateLimited, &Method::GET, 0));
    }

    #[test]
    fn delays_grow_are_capped_and_honour_the_server() {
        let config =
            RetryConfig::default().backoff(Duration::from_millis(100), Duration::from_secs(1));
        for retry in 1..10 {
            let d = config.delay(retry, None);
            let ceiling =
                Duration::from_millis(100 * (1 << (retry - 1))).min(Duration::from_secs(1));
            assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry}: {d:?}");
        }
        let asked = Duration::from_secs(3);
        assert!(config.delay(1, Some(asked)) >= asked);
        assert!(config.delay(1, Some(asked)) <= asked + Duration::from_secs(1));
    }
}
