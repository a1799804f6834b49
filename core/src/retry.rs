//! When failed attempts are repeated.
//!
//! - **429 Too Many Requests**: retried with exponential backoff and jitter, waiting at least
//!   what `Retry-After` asks, for any method (Bitbucket did not process the request), as long
//!   as the total time stays within [`RetryConfig::budget`].
//! - **5xx answers and connection failures**: retried only for idempotent methods (GET, HEAD,
//!   PUT, DELETE), also waiting at least what `Retry-After` asks. A POST (merge, run a
//!   pipeline, comment) is never repeated on its own.
//! - A **401** to an OAuth token is sent once more after renewing the token (see
//!   Cloud's `OAuth`); that is not counted as a retry, and a second 401 is returned.
//!
//! When a failure is returned, the error's hint says why it was not retried (again): switched
//! off, not idempotent, retries used up, or the budget.
//!
//! # How long a call takes
//!
//! A call ends within [`RetryConfig::budget`] (60 s by default) once it retries: waits are
//! only started when they leave time within the budget, and an attempt after the first is
//! abandoned when the budget runs out (`Error::BudgetExhausted`). Its first attempt
//! is bounded by `ClientBuilder::timeout` (30 s by default), plus an OAuth token
//! request when one is needed. `Retry-After` values above a day are read as a day, which is
//! past any budget: such a 429 is returned at once, its hint saying the wait would pass the
//! budget. Wrap a call in `tokio::time::timeout` for a hard deadline of your own: the request
//! it abandons is audited as cancelled.
//!
//! ```
//! use std::time::Duration;
//! use bitbucket_core::retry::RetryConfig;
//!
//! let patient = RetryConfig::default().budget(Duration::from_secs(300)).max_retries(8);
//! let none = RetryConfig::disabled();
//! # let _ = (patient, none);
//! ```

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use reqwest::Method;

/// Retry settings of a client. The default retries up to 4 times within 60 s.
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

    /// The time within which a call that retries ends (60 s by default), counted from the
    /// call's start: its waits and its attempts after the first. A wait that would not leave
    /// time within the budget is not started (the last failure is returned, its hint saying
    /// so), and an attempt after the first that is still unanswered when the budget runs out
    /// is abandoned with `Error::BudgetExhausted`.
    ///
    /// The first attempt is bounded by `ClientBuilder::timeout` alone (a large
    /// download may take longer than the budget), plus, with OAuth, the token request that
    /// may come before it. So a call ends within the budget, or, when its first attempt
    /// alone takes longer, as soon as that attempt has failed.
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

    /// The wait before the attempt numbered `retries_so_far + 2`, or why there is none:
    /// this kind of retry is off or unsafe for `method`, the retries are used up, or the
    /// wait would end past the budget (`elapsed` is the time the call has taken so far).
    pub fn next_delay(
        &self,
        failure: Retryable,
        method: &Method,
        retries_so_far: u32,
        server_asked: Option<Duration>,
        elapsed: Duration,
    ) -> Result<Duration, GaveUp> {
        let enabled = match failure {
            Retryable::RateLimited => self.rate_limited,
            Retryable::ServerError => self.server_errors,
            Retryable::Connection => self.connection_errors,
        };
        if !enabled {
            return Err(GaveUp::Disabled);
        }
        if failure != Retryable::RateLimited && !is_idempotent(method) {
            return Err(GaveUp::NotIdempotent);
        }
        if retries_so_far >= self.max_retries {
            return Err(GaveUp::OutOfRetries(retries_so_far));
        }
        let wait = self.delay(retries_so_far.saturating_add(1), server_asked);
        // The retry must also have time to be answered within the budget.
        if elapsed.saturating_add(wait) >= self.budget {
            return Err(GaveUp::OverBudget {
                wait,
                budget: self.budget,
            });
        }
        Ok(wait)
    }

    /// The wait before retry number `retry` (1-based): exponential with full jitter over the
    /// upper half, and never less than what the server asked.
    fn delay(&self, retry: u32, server_asked: Option<Duration>) -> Duration {
        let exponential = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_backoff);
        let half = capped / 2;
        // `jitter() < 1`, so the product is at most `half`: it cannot overflow.
        let jittered = half.saturating_add(half.mul_f64(jitter()));
        server_asked.map_or(jittered, |asked| {
            asked.max(jittered.min(asked.saturating_add(Duration::from_secs(1))))
        })
    }

    /// The budget, which also bounds every attempt after the first (see
    /// [`RetryConfig::budget`]).
    pub fn total_budget(&self) -> Duration {
        self.budget
    }
}

/// Why a failed attempt was not repeated; the error's hint says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaveUp {
    /// This kind of retry is switched off in the [`RetryConfig`].
    Disabled,
    /// A 5xx or connection failure of a POST or PATCH, which may have taken effect.
    NotIdempotent,
    /// The retries allowed by [`RetryConfig::max_retries`] were used.
    OutOfRetries(u32),
    /// The next wait would have ended past [`RetryConfig::budget`].
    OverBudget {
        /// The wait the retry would have needed.
        wait: Duration,
        /// The budget it would have passed.
        budget: Duration,
    },
    /// The request's body is a stream (an upload), which is sent once: it cannot be repeated.
    SentOnce,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GaveUp::Disabled => f.write_str("retrying this kind of failure is switched off (RetryConfig)"),
            GaveUp::NotIdempotent => f.write_str(
                "POST and PATCH requests are never repeated automatically, since the first one may \
                 have taken effect (a merge or pipeline run must not happen twice): check whether it \
                 did before repeating it",
            ),
            GaveUp::OutOfRetries(0) => f.write_str("no retries are allowed (RetryConfig::max_retries is 0)"),
            GaveUp::OutOfRetries(n) => write!(
                f,
                "gave up after {n} {} (RetryConfig::max_retries)",
                if *n == 1 { "retry" } else { "retries" }
            ),
            GaveUp::OverBudget { wait, budget } => write!(
                f,
                "waiting {:.1} s more would pass the retry budget of {:.1} s (RetryConfig::budget)",
                wait.as_secs_f64(),
                budget.as_secs_f64()
            ),
            GaveUp::SentOnce => f.write_str(
                "the request's body is a stream (an upload), which is sent once and never \
                 repeated automatically: send it again if it did not take effect",
            ),
        }
    }
}

/// Why an attempt may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retryable {
    /// A 429.
    RateLimited,
    /// A 5xx.
    ServerError,
    /// The connection failed or timed out.
    Connection,
}

fn is_idempotent(method: &Method) -> bool {
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

    const NOW: Duration = Duration::ZERO;

    #[test]
    fn post_is_not_retried_on_server_errors() {
        let config = RetryConfig::default();
        let retry = |kind, method: &Method, n| config.next_delay(kind, method, n, None, NOW);
        assert_eq!(
            retry(Retryable::ServerError, &Method::POST, 0),
            Err(GaveUp::NotIdempotent)
        );
        assert_eq!(
            retry(Retryable::Connection, &Method::PATCH, 0),
            Err(GaveUp::NotIdempotent)
        );
        assert!(retry(Retryable::RateLimited, &Method::POST, 0).is_ok());
        assert!(retry(Retryable::ServerError, &Method::GET, 0).is_ok());
        assert!(retry(Retryable::ServerError, &Method::DELETE, 3).is_ok());
        assert_eq!(
            retry(Retryable::ServerError, &Method::PUT, 4),
            Err(GaveUp::OutOfRetries(4))
        );
    }

    #[test]
    fn disabled_never_retries() {
        let config = RetryConfig::disabled();
        for kind in [
            Retryable::RateLimited,
            Retryable::ServerError,
            Retryable::Connection,
        ] {
            assert_eq!(
                config.next_delay(kind, &Method::GET, 0, None, NOW),
                Err(GaveUp::Disabled)
            );
        }
        let no_429 = RetryConfig::default().retry_rate_limited(false);
        assert_eq!(
            no_429.next_delay(Retryable::RateLimited, &Method::GET, 0, None, NOW),
            Err(GaveUp::Disabled)
        );
    }

    #[test]
    fn the_budget_bounds_waits() {
        let config = RetryConfig::default().budget(Duration::from_secs(10));
        let asked = Some(Duration::from_secs(30));
        assert!(matches!(
            config.next_delay(Retryable::RateLimited, &Method::GET, 0, asked, NOW),
            Err(GaveUp::OverBudget { .. })
        ));
        let asked = Some(Duration::from_secs(3));
        assert!(
            config
                .next_delay(Retryable::RateLimited, &Method::GET, 0, asked, NOW)
                .is_ok()
        );
        assert!(
            config
                .next_delay(
                    Retryable::RateLimited,
                    &Method::GET,
                    0,
                    asked,
                    Duration::from_secs(8)
                )
                .is_err()
        );
    }

    #[test]
    fn huge_waits_and_backoffs_do_not_overflow() {
        let config = RetryConfig::default().backoff(Duration::MAX, Duration::MAX);
        for retry in [1, 2, 16, 17, u32::MAX] {
            let _ = config.delay(retry, Some(Duration::MAX));
            let _ = config.delay(retry, None);
        }
        assert!(matches!(
            RetryConfig::default().next_delay(
                Retryable::RateLimited,
                &Method::GET,
                0,
                Some(Duration::MAX),
                Duration::MAX
            ),
            Err(GaveUp::OverBudget { .. })
        ));
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
