//! Per-agent request budgets: Bitbucket's hourly quota is shared by every agent behind the
//! gateway, so each agent may cause at most so many Bitbucket requests in any hour (a sliding
//! window, not a clock hour).
//!
//! A call first reserves the requests it may need (one, or the pages its `max_items` may take);
//! it is refused when the requests of the last hour, those reserved by calls under way and its
//! own would pass the budget. Each request that leaves is then counted as it happens (from the
//! client's audit records), and the reservation is released when the call ends.
//!
//! ```
//! use std::time::Duration;
//! use bitbucket_cloud_mcp::budget::Budget;
//!
//! let budget = Budget::per_hour(2);
//! let call = budget.reserve(1).unwrap();
//! budget.charge();
//! drop(call);
//! budget.charge();
//! let refused = budget.reserve(1).unwrap_err();
//! assert!(refused.retry_after <= Duration::from_secs(3600));
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The window budgets are counted over.
pub const WINDOW: Duration = Duration::from_secs(3600);

/// One agent's budget. Cheap to clone; clones share the count.
#[derive(Clone, Debug)]
pub struct Budget {
    limit: u32,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// When each request of the last hour left, oldest first.
    sent: VecDeque<Instant>,
    /// Requests reserved by calls under way.
    reserved: u32,
}

/// Why a call was refused: the budget is used up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the agent's budget of {limit} Bitbucket requests per hour is used up ({used} in the last hour, \
     {reserved} reserved by calls under way, this call needs up to {needed}); try again in {} s",
    retry_after.as_secs().max(1)
)]
pub struct Exhausted {
    /// The budget.
    pub limit: u32,
    /// Requests sent in the last hour.
    pub used: u32,
    /// Requests reserved by calls under way.
    pub reserved: u32,
    /// What the call asked for.
    pub needed: u32,
    /// When enough of the last hour's requests will have aged out.
    pub retry_after: Duration,
}

/// Requests reserved for one call; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Budget,
    requests: u32,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut state = self.budget.lock();
        state.reserved = state.reserved.saturating_sub(self.requests);
    }
}

impl Budget {
    /// A budget of `limit` requests in any hour.
    pub fn per_hour(limit: u32) -> Budget {
        Budget {
            limit,
            state: Arc::default(),
        }
    }

    /// The budget's size.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Reserves `requests` (at least one) for a call, or says when to try again.
    pub fn reserve(&self, requests: u32) -> Result<Reservation, Exhausted> {
        let requests = requests.max(1);
        let now = Instant::now();
        let mut state = self.lock();
        state.forget_before(now);
        let used = u32::try_from(state.sent.len()).unwrap_or(u32::MAX);
        let total = used.saturating_add(state.reserved).saturating_add(requests);
        if total > self.limit {
            // The requests that must age out for this call to fit, if reservations free
            // nothing meanwhile.
            let excess = usize::try_from(total - self.limit).unwrap_or(usize::MAX);
            let retry_after = match excess.checked_sub(1).and_then(|i| state.sent.get(i)) {
                Some(sent) => (*sent + WINDOW).saturating_duration_since(now),
                None => WINDOW,
            };
            return Err(Exhausted {
                limit: self.limit,
                used,
                reserved: state.reserved,
                needed: requests,
                retry_after,
            });
        }
        state.reserved += requests;
        drop(state);
        Ok(Reservation {
            budget: self.clone(),
            requests,
        })
    }

    /// Counts one request that left for Bitbucket.
    pub fn charge(&self) {
        let now = Instant::now();
        let mut state = self.lock();
        state.forget_before(now);
        state.sent.push_back(now);
    }

    /// Requests sent in the last hour.
    pub fn used(&self) -> u32 {
        let mut state = self.lock();
        state.forget_before(Instant::now());
        u32::try_from(state.sent.len()).unwrap_or(u32::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn forget_before(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|sent| now.saturating_duration_since(*sent) >= WINDOW)
        {
            self.sent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_and_charges_share_the_limit() {
        let budget = Budget::per_hour(5);
        let a = budget.reserve(3).unwrap();
        let refused = budget.reserve(3).unwrap_err();
        assert_eq!((refused.used, refused.reserved, refused.needed), (0, 3, 3));
        assert_eq!(
            refused.retry_after, WINDOW,
            "only reservations are in the way"
        );
        let b = budget.reserve(2).unwrap();
        drop(a);
        for _ in 0..3 {
            budget.charge();
        }
        drop(b);
        assert_eq!(budget.used(), 3);
        budget.reserve(2).unwrap();
        let refused = budget.reserve(3).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("5 Bitbucket requests per hour"),
            "{refused}"
        );
        assert!(
            refused.retry_after > Duration::from_secs(3500),
            "{refused:?}"
        );
    }

    #[test]
    fn a_call_needs_at_least_one_request() {
        let budget = Budget::per_hour(1);
        let _one = budget.reserve(0).unwrap();
        assert!(budget.reserve(0).is_err());
    }

    #[test]
    fn old_requests_age_out() {
        let budget = Budget::per_hour(1);
        {
            let mut state = budget.lock();
            let long_ago = Instant::now().checked_sub(WINDOW + Duration::from_secs(1));
            if let Some(long_ago) = long_ago {
                state.sent.push_back(long_ago);
            }
        }
        assert!(budget.reserve(1).is_ok());
    }
}
