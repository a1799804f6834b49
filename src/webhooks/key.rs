//! [`EventKey`]: the name of a webhook event (`repo:push`), as the official document lists them.

/// The name of a webhook event: what `X-Event-Key` says, and what a hook subscribes to
/// (`EventKey::RepoPush` is `repo:push`).
///
/// The known keys are generated from the official document (its `webhook_subscription.events`,
/// the list `GET /hook_events` serves), so they follow Atlassian's list; a key Bitbucket adds
/// later is `EventKey::Other("...")`, kept as sent. [`Event::TYPED_KEYS`](super::Event::TYPED_KEYS)
/// and [`Event::UNTYPED_KEYS`](super::Event::UNTYPED_KEYS) split them by whether their
/// payload is typed.
///
/// ```
/// use bitbucket_cloud::webhooks::EventKey;
///
/// let key: EventKey = "pullrequest:fulfilled".parse().unwrap();
/// assert_eq!(key, EventKey::PullrequestFulfilled);
/// assert_eq!(key.to_string(), "pullrequest:fulfilled");
/// assert_eq!(key, "pullrequest:fulfilled");
/// ```
pub use crate::types::EventKey;

/// `value` as an [`EventKey`]: a known one, or `Other`.
pub(crate) fn parse(value: &str) -> EventKey {
    value
        .parse()
        .unwrap_or_else(|_| EventKey::Other(value.to_string()))
}

impl PartialEq<str> for EventKey {
    fn eq(&self, other: &str) -> bool {
        parse(other) == *self
    }
}

impl PartialEq<&str> for EventKey {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<String> for EventKey {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}
