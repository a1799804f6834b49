//! Repository webhooks: list, create, delete.

use bitbucket_cloud::Client;
use bitbucket_cloud::types::{self, EventKey};
use serde_json::json;

use super::wire::{fixture, json, no_content, ok, rejects};

const HOOK: &str = "{ec96bf6b-abb2-4f30-90b9-0178342c9fc5}";

#[tokio::test]
async fn list_webhooks() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .list_webhooks()
            .pagelen(50)
            .send()
            .await
    };
    let (hooks, sent) = ok(
        json(200, fixture("webhook-subscription.list.pybitbucket-1.json")),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/hooks",
        &[("pagelen", "50")],
        None,
    );
    let hooks = hooks.values.expect("values");
    assert_eq!(hooks.len(), 6);
    assert_eq!(hooks[0].description.as_deref(), Some("Request Bin"));
    assert_eq!(hooks[0].active, Some(true));
    // Events this version does not list are kept, not refused.
    let events: Vec<_> = hooks
        .iter()
        .flat_map(|h| h.events.clone().unwrap_or_default())
        .collect();
    assert!(events.contains(&EventKey::RepoPush), "{events:?}");
    assert!(
        events.contains(&EventKey::Other("repo:commit".into())),
        "{events:?}"
    );

    rejects(
        "list_webhooks",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn create_webhook() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .create_webhook()
            .body(types::WebhookSubscription {
                description: Some("release-bot".into()),
                url: Some("https://bots.example.com/bitbucket".into()),
                active: Some(true),
                secret: Some("s3cret-shared-with-the-bot".into()),
                events: Some(vec![EventKey::PullrequestFulfilled, EventKey::RepoPush]),
                ..Default::default()
            })
            .send()
            .await
    };
    let (hook, sent) = ok(
        json(201, fixture("webhook-subscription.get.pybitbucket-1.json")),
        &call,
    )
    .await;
    sent.expect(
        "POST",
        "/2.0/repositories/acme/web-app/hooks",
        &[],
        Some(json!({
            "description": "release-bot",
            "url": "https://bots.example.com/bitbucket",
            "active": true,
            "secret": "s3cret-shared-with-the-bot",
            "events": ["pullrequest:fulfilled", "repo:push"],
        })),
    );
    assert_eq!(hook.uuid.as_deref(), Some(HOOK));
    assert_eq!(hook.url.as_deref(), Some("https://example.com/bitbucket/"));

    rejects(
        "create_webhook",
        &call,
        400,
        "error.badrequest.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn delete_webhook() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .delete_webhook()
            .uid(HOOK)
            .send()
            .await
    };
    let ((), sent) = ok(no_content(), &call).await;
    sent.expect(
        "DELETE",
        "/2.0/repositories/acme/web-app/hooks/%7Bec96bf6b-abb2-4f30-90b9-0178342c9fc5%7D",
        &[],
        None,
    );

    rejects(
        "delete_webhook",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}
