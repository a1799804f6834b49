//! Bitbucket's rate-limit headers.
//!
//! Bitbucket Cloud limits requests per hour and per resource. Some answers carry
//! `X-RateLimit-Limit` (the hourly quota), `X-RateLimit-Resource` (what the quota applies to)
//! and `X-RateLimit-NearLimit` (`true` when less than 20% of the quota is left). The client
//! keeps the last state it saw (`Client::rate_limit`) and logs a `tracing` warning
//! when Bitbucket starts saying the limit is near (once, not on every answer while it stays
//! near).

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The rate-limit state reported by one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed per hour for this resource.
    pub limit: Option<u64>,
    /// `X-RateLimit-Resource`: what the limit applies to (e.g. `api`).
    pub resource: Option<String>,
    /// `X-RateLimit-NearLimit`: less than 20% of the quota is left.
    pub near_limit: bool,
    /// When the answer arrived.
    pub observed_at: SystemTime,
}

impl RateLimit {
    /// Reads the headers; `None` when the answer has none of them.
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let limit = text("x-ratelimit-limit");
        let resource = text("x-ratelimit-resource");
        let near = text("x-ratelimit-nearlimit");
        if limit.is_none() && resource.is_none() && near.is_none() {
            return None;
        }
        Some(RateLimit {
            limit: limit.and_then(|v| v.parse().ok()),
            resource: resource.map(|r| r.chars().take(RESOURCE_CHARS).collect()),
            near_limit: near.is_some_and(|v| v.eq_ignore_ascii_case("true")),
            observed_at: SystemTime::now(),
        })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit {
            Some(limit) => write!(f, "{limit} requests/hour")?,
            None => f.write_str("unknown quota")?,
        }
        if let Some(resource) = &self.resource {
            write!(f, " for `{resource}`")?;
        }
        if self.near_limit {
            f.write_str(", near the limit")?;
        }
        Ok(())
    }
}

/// The longest `Retry-After` taken as asked: longer ones are read as this, which is already
/// past any sensible retry budget.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// `Retry-After` as seconds or an HTTP date, at most [`MAX_RETRY_AFTER`]; `None` when absent
/// or neither.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: a number of seconds, however many digits.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// How much of `X-RateLimit-Resource` is kept: Bitbucket's are short names (`api`).
const RESOURCE_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn parses_the_three_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Limit", HeaderValue::from_static("1000"));
        headers.insert("X-RateLimit-Resource", HeaderValue::from_static("api"));
        headers.insert("X-RateLimit-NearLimit", HeaderValue::from_static("true"));
        let rl = RateLimit::from_headers(&headers).unwrap();
        assert_eq!(rl.limit, Some(1000));
        assert_eq!(rl.resource.as_deref(), Some("api"));
        assert!(rl.near_limit);
        assert_eq!(
            rl.to_string(),
            "1000 requests/hour for `api`, near the limit"
        );
    }

    #[test]
    fn absent_headers_give_none() {
        assert!(RateLimit::from_headers(&HeaderMap::new()).is_none());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert("Retry-After", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            "Retry-After",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert("Retry-After", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
        headers.insert("Retry-After", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn retry_after_is_capped_at_a_day() {
        let mut headers = HeaderMap::new();
        for huge in [
            "18446744073709551615",
            "99999999999999999999999999",
            "86401",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            headers.insert("Retry-After", HeaderValue::from_static(huge));
            assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER), "{huge}");
        }
    }
}
