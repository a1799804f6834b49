//! [`Subscription`]: the body that creates a hook, with its secret kept out of `Debug`.

use super::signature::WebhookSecret;
use crate::types::WebhookSubscription;

/// The events a hook can subscribe to (`EventKey::RepoPush` is `repo:push`); values Bitbucket
/// adds later are `EventKey::Other("...")`.
pub use crate::types::EventKey;

/// A hook to create: where Bitbucket delivers, which events, and the secret it signs with.
///
/// Pass it to `create_webhook().body(..)`; manage hooks with `list_webhooks().stream()` and
/// `delete_webhook().uid(..)`.
///
/// ```no_run
/// use bitbucket_cloud::webhooks::{EventKey, Subscription, WebhookSecret};
///
/// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
/// let secret = WebhookSecret::from_env("WEBHOOK_SECRET").expect("a secret");
/// let hook = client
///     .repo("my-workspace", "my-repo")
///     .create_webhook()
///     .body(
///         Subscription::new("https://ci.example.com/bitbucket")
///             .description("CI")
///             .events([EventKey::RepoPush, EventKey::PullrequestCreated])
///             .secret(secret),
///     )
///     .send()
///     .await?;
/// println!("created {}", hook.uuid.unwrap_or_default());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Subscription {
    url: String,
    events: Vec<EventKey>,
    secret: Option<WebhookSecret>,
    description: Option<String>,
    active: bool,
}

impl Subscription {
    /// An active hook delivering to `url` (which must be reachable from Bitbucket), with no
    /// events yet.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            events: Vec::new(),
            secret: None,
            description: None,
            active: true,
        }
    }

    /// Adds events to subscribe to.
    pub fn events(mut self, events: impl IntoIterator<Item = EventKey>) -> Self {
        self.events.extend(events);
        self
    }

    /// The secret Bitbucket signs deliveries with (`X-Hub-Signature`); check them with
    /// [`super::verify`] or [`super::Delivery`]. Without one, deliveries are unsigned.
    pub fn secret(mut self, secret: impl Into<WebhookSecret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// A description, shown in the repository's settings.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Whether the hook delivers (`true` unless set).
    pub fn active(mut self, active: bool) -> Self {
        self.active = active;
        self
    }
}

impl From<Subscription> for WebhookSubscription {
    fn from(hook: Subscription) -> Self {
        WebhookSubscription {
            url: Some(hook.url),
            events: Some(hook.events),
            secret: hook.secret.map(|s| s.expose().to_string()),
            description: hook.description,
            active: Some(hook.active),
            ..Default::default()
        }
    }
}
