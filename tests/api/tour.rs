//! The tour (`cargo run --example tour`, the README's first command) runs as a test: with no
//! credentials and no network it must succeed, and its read-only path must only read.

#[allow(dead_code)]
#[path = "../../examples/tour/walk.rs"]
mod walk;

use bitbucket_cloud::{Auth, Client, Scope};
use bitbucket_cloud_local::LocalBitbucket;

#[tokio::test]
async fn the_local_tour_walks_every_step() {
    let mut out = Vec::new();
    walk::local(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    print!("{text}");
    let steps: Vec<_> = text.lines().filter(|l| l.starts_with('✓')).collect();
    let expected = [
        "✓ signed in as Ada Lovelace (@ada)",
        "✓ workspaces: acme",
        "✓ streamed 5 repositories, 2 per page (3 requests): website, api, mobile, infra, docs",
        "✓ opened pull request #1 \"Add a greeting endpoint\" (feature/greeting → main)",
        "✓ commented on #1",
        "✓ Grace Hopper approved #1",
        "✓ policy: review-bot may not merge_pull_request; refused before sending",
        "✓ merged #1 into main: merge commit ",
        "✓ read src/greeting.rs at main: 3 lines, `pub fn greet(name: &str) -> String`",
        "✓ pipeline #1 on main: tailed step Test's log as it ran (5 lines in 2 pieces, \"Build finished: SUCCESSFUL\"), COMPLETED (SUCCESSFUL)",
        "✓ received 4 webhooks, signatures verified: pullrequest:created, pullrequest:comment_created, pullrequest:approved, pullrequest:fulfilled",
        "✓ scopes this tour needed: account, pipeline, pullrequest:write, webhook (an API token needs 9 granular scopes)",
    ];
    assert_eq!(steps.len(), expected.len(), "{text}");
    for (step, want) in steps.iter().zip(expected) {
        assert!(
            step.starts_with(want),
            "{step:?} does not start with {want:?}"
        );
    }
    assert!(text.lines().count() <= 15, "the tour's output stays short");
}

#[tokio::test]
async fn the_remote_tour_only_reads() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme Inc.");
    bb.create_repository("acme", "app");
    let remote = walk::Remote {
        client: Client::builder()
            .base_url(bb.base_url())
            .auth(Auth::access_token(
                bb.token(&[Scope::Account, Scope::Pullrequest]),
            ))
            .build()
            .unwrap(),
        workspace: "acme".into(),
    };
    let mut out = Vec::new();
    walk::remote(&remote, &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("✓ workspace acme (Acme Inc.)"), "{text}");
    assert!(text.contains("✓ open pull requests in app: none"), "{text}");
    let requests = bb.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.status == 200),
        "{requests:?}"
    );
}
