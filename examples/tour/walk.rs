//! The tour's steps, shared by `examples/tour/main.rs` and the test that runs the tour
//! (`tests/tour.rs`).

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use bitbucket_cloud::types::{
    self, PipelineTarget, PipelineTargetRefType, PullRequestBranch, PullrequestComment,
    PullrequestCommentContent, PullrequestEndpoint, PullrequestMergeParameters,
    WebhookSubscription, WebhookSubscriptionEventsItem,
};
use bitbucket_cloud::{Auth, Client, Completion, Scope, operations};
use bitbucket_cloud_local::{LocalBitbucket, WebhookReceiver};
use futures_util::{StreamExt as _, TryStreamExt as _};
use hmac::{KeyInit as _, Mac as _};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What the tour needs from the environment to read from Bitbucket Cloud.
pub struct Remote {
    pub client: Client,
    pub workspace: String,
}

/// `Some` when `BITBUCKET_WORKSPACE` and credentials (`BITBUCKET_EMAIL` +
/// `BITBUCKET_API_TOKEN`, or `BITBUCKET_ACCESS_TOKEN`) are set.
pub fn remote_from_env() -> Result<Option<Remote>> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(workspace) = set("BITBUCKET_WORKSPACE") else {
        return Ok(None);
    };
    let has_credentials =
        set("BITBUCKET_API_TOKEN").is_some() || set("BITBUCKET_ACCESS_TOKEN").is_some();
    if !has_credentials {
        return Ok(None);
    }
    Ok(Some(Remote {
        client: Client::from_env()?,
        workspace,
    }))
}

/// The operations the local tour calls: its token gets exactly their scopes.
const LOCAL_OPERATIONS: &[&str] = &[
    "get_current_user",
    "list_workspaces",
    "list_repositories",
    "create_webhook",
    "create_pull_request",
    "create_pull_request_comment",
    "merge_pull_request",
    "run_pipeline",
    "get_pipeline",
];

/// The classic scopes of these operations (as `bitbucket_cloud::operations` lists them).
fn scopes_of<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<Scope> {
    names
        .into_iter()
        .filter_map(operations::by_name)
        .flat_map(|op| op.scopes.iter().copied())
        .collect()
}

fn list(scopes: &BTreeSet<Scope>) -> String {
    let names: Vec<_> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(", ")
}

/// Seeds a local Bitbucket, then walks through a pull request's life, a pipeline and a
/// webhook, one line per step.
pub async fn local(out: &mut dyn Write) -> Result<()> {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme Inc.");
    for repo in ["website", "api", "mobile", "infra", "docs"] {
        bb.create_repository("acme", repo);
    }
    bb.push(
        "acme",
        "api",
        "feature/greeting",
        "Add a greeting endpoint",
        &[(
            "src/greeting.rs",
            "pub fn greet(name: &str) -> String {\n    format!(\"Hello, {name}!\")\n}\n",
        )],
    );
    let grace = bb.add_account("grace", "Grace Hopper");
    writeln!(
        out,
        "bitbucket-cloud tour, against a local Bitbucket at {}",
        bb.base_url()
    )?;
    writeln!(
        out,
        "(set BITBUCKET_WORKSPACE and BITBUCKET_EMAIL + BITBUCKET_API_TOKEN to read your own instead)\n"
    )?;

    let scopes: Vec<Scope> = scopes_of(LOCAL_OPERATIONS.iter().copied())
        .into_iter()
        .collect();
    let client = Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(&scopes)))
        .build()?;
    let reviewer = Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(
            bb.token_for(&grace, &[Scope::PullrequestWrite]),
        ))
        .build()?;

    let me = client.get_current_user().send().await?;
    writeln!(
        out,
        "✓ signed in as {} (@{})",
        me.display_name.unwrap_or_default(),
        me.nickname.unwrap_or_default()
    )?;

    let workspaces: Vec<_> = client.list_workspaces().stream().try_collect().await?;
    let names: Vec<_> = workspaces
        .into_iter()
        .filter_map(|access| access.workspace?.slug)
        .collect();
    writeln!(out, "✓ workspaces: {}", names.join(", "))?;

    let acme = client.workspace("acme");
    let repos: Vec<_> = acme
        .list_repositories()
        .pagelen(2)
        .stream()
        .try_collect()
        .await?;
    let pages = bb
        .requests()
        .iter()
        .filter(|r| r.operation == "list_repositories")
        .count();
    let names: Vec<_> = repos.into_iter().filter_map(|r| r.name).collect();
    writeln!(
        out,
        "✓ streamed {} repositories, 2 per page ({pages} requests): {}",
        names.len(),
        names.join(", ")
    )?;

    let receiver = WebhookReceiver::start().await;
    let secret = "tour-secret";
    let api = client.repo("acme", "api");
    api.create_webhook()
        .body(WebhookSubscription {
            url: Some(receiver.url().to_string()),
            description: Some("tour".into()),
            events: Some(vec![
                WebhookSubscriptionEventsItem::PullrequestCreated,
                WebhookSubscriptionEventsItem::PullrequestCommentCreated,
                WebhookSubscriptionEventsItem::PullrequestApproved,
                WebhookSubscriptionEventsItem::PullrequestFulfilled,
            ]),
            secret: Some(secret.into()),
            ..Default::default()
        })
        .send()
        .await?;

    let branch = |name: &str| PullrequestEndpoint {
        branch: Some(PullRequestBranch {
            name: Some(name.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let pr = api
        .create_pull_request()
        .body(types::Pullrequest {
            title: Some("Add a greeting endpoint".into()),
            source: Some(branch("feature/greeting")),
            destination: Some(branch("main")),
            ..Default::default()
        })
        .send()
        .await?;
    let id = pr.id.unwrap_or_default();
    writeln!(
        out,
        "✓ opened pull request #{id} \"{}\" (feature/greeting → main)",
        pr.title.unwrap_or_default()
    )?;

    api.create_pull_request_comment()
        .pull_request_id(id)
        .body(PullrequestComment {
            content: Some(PullrequestCommentContent {
                raw: Some("Small and tested. Grace, could you have a look?".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .send()
        .await?;
    writeln!(out, "✓ commented on #{id}")?;

    let approval = reviewer
        .repo("acme", "api")
        .approve_pull_request()
        .pull_request_id(id)
        .send()
        .await?;
    let approver = approval
        .user
        .and_then(|u| u.display_name)
        .unwrap_or_default();
    writeln!(out, "✓ {approver} approved #{id}")?;

    let merged = api
        .merge_pull_request()
        .pull_request_id(id)
        .body(PullrequestMergeParameters {
            close_source_branch: Some(true),
            ..Default::default()
        })
        .send()
        .await?;
    let Completion::Done(merged) = merged else {
        return Err("Bitbucket is still merging (202); poll the Location it gave".into());
    };
    let hash = merged.merge_commit.and_then(|c| c.hash).unwrap_or_default();
    writeln!(out, "✓ merged #{id} into main: merge commit {hash}")?;

    let pipeline = api
        .run_pipeline()
        .body(types::Pipeline {
            target: Some(PipelineTarget {
                type_: Some("pipeline_ref_target".into()),
                ref_type: Some(PipelineTargetRefType::Branch),
                ref_name: Some("main".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .send()
        .await?;
    let uuid = pipeline.uuid.clone().unwrap_or_default();
    let mut seen = vec![state_name(&pipeline)];
    while seen.last().is_some_and(|s| !s.starts_with("COMPLETED")) && seen.len() < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = state_name(&api.get_pipeline().pipeline_uuid(&uuid).send().await?);
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    }
    writeln!(
        out,
        "✓ pipeline #{} on main: {}",
        pipeline.build_number.unwrap_or_default(),
        seen.join(" → ")
    )?;

    let received = tokio::time::timeout(Duration::from_secs(10), receiver.wait_for(4)).await?;
    let fulfilled = received
        .iter()
        .find(|r| r.event() == "pullrequest:fulfilled")
        .ok_or("no pullrequest:fulfilled webhook arrived")?;
    // Signature check. The spot for `bitbucket_cloud::webhooks::verify` once the crate has it.
    let verified = verify_signature(secret, &fulfilled.body, fulfilled.header("x-hub-signature"));
    if !verified {
        return Err("the pullrequest:fulfilled webhook's X-Hub-Signature does not match".into());
    }
    let events: Vec<_> = received.iter().map(|r| r.event().to_string()).collect();
    writeln!(
        out,
        "✓ received {} webhooks, signatures verified: {}",
        events.len(),
        events.join(", ")
    )?;

    let used = bb.requests();
    let needed = scopes_of(used.iter().map(|r| r.operation));
    writeln!(out, "✓ scopes this tour needed: {}", list(&needed))?;
    Ok(())
}

fn state_name(pipeline: &types::Pipeline) -> String {
    let Some(state) = &pipeline.state else {
        return "UNKNOWN".into();
    };
    let name = state
        .name
        .as_ref()
        .map(|n| n.to_string())
        .unwrap_or_default();
    match state.result.as_ref().and_then(|r| r.name.as_ref()) {
        Some(result) => format!("{name} ({result})"),
        None => name,
    }
}

/// `X-Hub-Signature` is `sha256=` and the hex HMAC-SHA256 of the body keyed with the hook's
/// secret; compared in constant time.
fn verify_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    let Some(bytes) = bytes else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

/// The operations the read-only tour calls.
const REMOTE_OPERATIONS: &[&str] = &[
    "get_current_user",
    "get_workspace",
    "list_repositories",
    "list_pull_requests",
];

/// Reads from Bitbucket Cloud: who you are, a workspace, its repositories, open pull requests.
/// Changes nothing.
pub async fn remote(remote: &Remote, out: &mut dyn Write) -> Result<()> {
    let client = &remote.client;
    writeln!(
        out,
        "bitbucket-cloud tour, reading {} (read-only)\n",
        client.base_url()
    )?;
    let me = client.get_current_user().send().await?;
    writeln!(
        out,
        "✓ signed in as {}",
        me.display_name.unwrap_or_default()
    )?;

    let ws = client.workspace(&remote.workspace);
    let workspace = ws.get_workspace().send().await?;
    writeln!(
        out,
        "✓ workspace {} ({})",
        workspace.slug.unwrap_or_default(),
        workspace.name.unwrap_or_default()
    )?;

    let repos: Vec<_> = ws
        .list_repositories()
        .sort("-updated_on")
        .stream()
        .take(5)
        .try_collect()
        .await?;
    let slugs: Vec<_> = repos
        .iter()
        .filter_map(|r| {
            r.full_name
                .as_deref()?
                .split('/')
                .nth(1)
                .map(str::to_string)
        })
        .collect();
    writeln!(out, "✓ recently updated repositories: {}", slugs.join(", "))?;

    if let Some(slug) = slugs.first() {
        let open: Vec<_> = client
            .repo(&remote.workspace, slug)
            .list_pull_requests()
            .stream()
            .take(3)
            .try_collect()
            .await?;
        let titles: Vec<_> = open
            .iter()
            .map(|pr| {
                format!(
                    "#{} {}",
                    pr.id.unwrap_or_default(),
                    pr.title.as_deref().unwrap_or_default()
                )
            })
            .collect();
        let shown = if titles.is_empty() {
            "none".to_string()
        } else {
            titles.join("; ")
        };
        writeln!(out, "✓ open pull requests in {slug}: {shown}")?;
    }

    let needed = scopes_of(REMOTE_OPERATIONS.iter().copied());
    writeln!(out, "✓ scopes this tour needed: {}", list(&needed))?;
    Ok(())
}
