//! The tour's steps, shared by `examples/tour/main.rs` and the test that runs the tour
//! (`tests/api/tour.rs`).

use std::io::Write;
use std::time::Duration;

use bitbucket_cloud::policy::Policy;
use bitbucket_cloud::types::{
    self, PipelineRefType, PipelineTarget, PullRequestBranch, PullRequestComment,
    PullRequestEndpoint, PullRequestMergeParameters, RenderedText,
};
use bitbucket_cloud::webhooks::{self, Event, EventKey, Subscription};
use bitbucket_cloud::{Auth, Client, Completion, Error, Scope, operations, scopes};
use bitbucket_cloud_local::{LocalBitbucket, WebhookReceiver};
use futures_util::{StreamExt as _, TryStreamExt as _};

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
    "get_source",
    "run_pipeline",
    "list_pipeline_steps",
    "get_pipeline_step",
    "get_pipeline_step_log",
    "get_pipeline",
];

/// The least classic scopes that cover these operations, as one line.
fn scopes_line<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<String> {
    let needs = scopes::required_for(names)?;
    let classic: Vec<_> = needs.classic.iter().map(|s| s.as_str()).collect();
    Ok(format!(
        "{} (an API token needs {} granular scopes)",
        classic.join(", "),
        needs.granular.len()
    ))
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
        &[
            (
                "src/greeting.rs",
                "pub fn greet(name: &str) -> String {\n    format!(\"Hello, {name}!\")\n}\n",
            ),
            (
                "bitbucket-pipelines.yml",
                "pipelines:\n  default:\n    - step:\n        name: Build\n        script:\n          - cargo build\n    - step:\n        name: Test\n        script:\n          - cargo test\n",
            ),
        ],
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

    // The token gets exactly the scopes the tour's operations need.
    let needs = scopes::required_for(LOCAL_OPERATIONS.iter().copied())?;
    let client = Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(&needs.classic)))
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
        .body(
            Subscription::new(receiver.url())
                .description("tour")
                .events([
                    EventKey::PullrequestCreated,
                    EventKey::PullrequestCommentCreated,
                    EventKey::PullrequestApproved,
                    EventKey::PullrequestFulfilled,
                ])
                .secret(secret),
        )
        .send()
        .await?;

    let branch = |name: &str| PullRequestEndpoint {
        branch: Some(Box::new(PullRequestBranch {
            name: Some(name.into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let pr = api
        .create_pull_request()
        .body(types::PullRequest {
            title: Some("Add a greeting endpoint".into()),
            source: Some(Box::new(branch("feature/greeting"))),
            destination: Some(Box::new(branch("main"))),
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
        .body(PullRequestComment {
            content: Some(Box::new(RenderedText {
                raw: Some("Small and tested. Grace, could you have a look?".into()),
                ..Default::default()
            })),
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

    // An agent allowed to read and comment on pull requests in acme/api, nothing else: its
    // attempt to merge is refused before anything is sent.
    let agent = Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(&[Scope::PullrequestWrite])))
        .agent("review-bot")
        .policy(
            Policy::deny_all()
                .allow_operations([
                    operations::LIST_PULL_REQUESTS,
                    operations::GET_PULL_REQUEST,
                    operations::CREATE_PULL_REQUEST_COMMENT,
                ])
                .only_in("acme/api"),
        )
        .build()?;
    let sent_before = bb.requests().len();
    match agent
        .repo("acme", "api")
        .merge_pull_request()
        .pull_request_id(id)
        .send()
        .await
    {
        Err(Error::Denied { operation, .. }) if bb.requests().len() == sent_before => {
            writeln!(
                out,
                "✓ policy: review-bot may not {operation}; refused before sending"
            )?;
        }
        other => return Err(format!("the policy should have refused the merge: {other:?}").into()),
    }

    let merged = api
        .merge_pull_request()
        .pull_request_id(id)
        .body(PullRequestMergeParameters {
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

    // Read the merged file back from main: a file, streamed (a directory would list entries).
    let file = api
        .read_file("main", "src/greeting.rs")
        .await?
        .text()
        .await?;
    writeln!(
        out,
        "✓ read src/greeting.rs at main: {} lines, `{}`",
        file.lines().count(),
        file.lines()
            .next()
            .unwrap_or_default()
            .trim_end_matches(" {")
    )?;

    let pipeline = api
        .run_pipeline()
        .body(types::Pipeline {
            target: Some(Box::new(PipelineTarget {
                type_: Some("pipeline_ref_target".into()),
                ref_type: Some(PipelineRefType::Branch),
                ref_name: Some("main".into()),
                ..Default::default()
            })),
            ..Default::default()
        })
        .send()
        .await?;
    // Follow the Test step's log while it runs: each piece is the text written since the last.
    let uuid = pipeline.uuid.clone().unwrap_or_default();
    let steps = api
        .list_pipeline_steps()
        .pipeline_uuid(&uuid)
        .send()
        .await?;
    let step = steps
        .values
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.name.as_deref() == Some("Test"))
        .and_then(|s| s.uuid)
        .ok_or("the pipeline has no Test step")?;
    let mut log = api
        .tail_pipeline_step_log(&uuid, &step)
        .interval(Duration::from_millis(20))
        .into_stream();
    let (mut pieces, mut text) = (0, String::new());
    while let Some(piece) = log.next().await {
        pieces += 1;
        text.push_str(&piece?);
    }
    let last = text.lines().last().unwrap_or_default().to_string();
    let done = api.get_pipeline().pipeline_uuid(&uuid).send().await?;
    writeln!(
        out,
        "✓ pipeline #{} on main: tailed step Test's log as it ran ({} lines in {pieces} pieces, \"{last}\"), {}",
        pipeline.build_number.unwrap_or_default(),
        text.lines().count(),
        state_name(&done)
    )?;

    let received = tokio::time::timeout(Duration::from_secs(10), receiver.wait_for(4)).await?;
    let fulfilled = received
        .iter()
        .find(|r| r.event() == "pullrequest:fulfilled")
        .ok_or("no pullrequest:fulfilled webhook arrived")?;
    for delivery in &received {
        webhooks::verify(
            secret,
            &delivery.body,
            Some(delivery.header("x-hub-signature")),
        )?;
    }
    let Event::PullRequestFulfilled(merged) = Event::parse(fulfilled.event(), &fulfilled.body)?
    else {
        return Err("pullrequest:fulfilled did not parse as a merged pull request".into());
    };
    if merged.pullrequest.and_then(|pr| pr.id) != Some(id) {
        return Err("the pullrequest:fulfilled webhook is about another pull request".into());
    }
    let events: Vec<_> = received.iter().map(|r| r.event().to_string()).collect();
    writeln!(
        out,
        "✓ received {} webhooks, signatures verified: {}",
        events.len(),
        events.join(", ")
    )?;

    let used = bb.requests();
    let line = scopes_line(used.iter().map(|r| r.operation))?;
    writeln!(out, "✓ scopes this tour needed: {line}")?;
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

    let line = scopes_line(REMOTE_OPERATIONS.iter().copied())?;
    writeln!(out, "✓ scopes this tour needed: {line}")?;
    Ok(())
}
