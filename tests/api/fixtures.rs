//! Every response body recorded from the real API decodes as the type of the operation it was
//! recorded from, and encoding the value again gives back everything the server sent: nothing
//! is lost in a read-modify-write but `null`, `[]` and `{}` (which an `Option` cannot tell from
//! an absent field).
//!
//! The bodies and what they were recorded from are listed in a `MANIFEST.tsv`: each response
//! row names its endpoint (`GET /repositories/{workspace}/{repo_slug}/refs/tags`), an item of
//! a list (`item of GET ... (values[])`), or an error body. The types come from the crate
//! itself (`bitbucket_cloud::__json_answers!`), so a new recording needs no code here.
//!
//! The manifest is read from `$BITBUCKET_FIXTURES` when set, else from
//! `../shared/fixtures/real/` beside the checkout when it exists (where more real bodies are
//! dropped), else from the committed copy in `tests/fixtures/real/`. Webhook rows are the
//! webhook tests' (`tests/api/webhooks.rs`).
//!
//! A field whose value does not fit its declared type is kept in `extra` rather than failing
//! the answer (and logged): users never lose an answer to one wrong field. Here it is a
//! failure all the same, so that every such defect of the document gets its patch.

use crate::support;

use std::path::PathBuf;

use bitbucket_cloud::{operations, types};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use support::capture::Capture;
use support::{differences, fixture, same_json, without_empty};

/// Decodes `body` as `T`, encodes it again, and says what was lost or changed.
fn round_trip<T: DeserializeOwned + Serialize>(body: &Value) -> Result<(), String> {
    let decoded: T = serde_json::from_value(body.clone())
        .map_err(|e| format!("does not decode as {}: {e}", std::any::type_name::<T>()))?;
    let encoded = serde_json::to_value(&decoded).expect("types encode");
    let (expected, got) = (without_empty(body.clone()), without_empty(encoded));
    if same_json(&expected, &got) {
        return Ok(());
    }
    Err(format!(
        "decoded as {}, re-encoding lost or changed data:\n    {}",
        std::any::type_name::<T>(),
        differences(&expected, &got).join("\n    ")
    ))
}

type Check = fn(&Value) -> Result<(), String>;

/// For every generated operation whose answer is JSON: how to check a body of its answer, and
/// one item of its list.
macro_rules! checks {
    ($($name:ident $method:literal $path:literal [$answer:ty] [$($item:ty)?];)*) => {
        fn checks_for(method: &str, path: &str) -> Option<(Check, Option<Check>)> {
            $(
                if method == $method && path == $path {
                    let item: Option<Check> = None $(.or(Some(round_trip::<$item>)))?;
                    return Some((round_trip::<$answer>, item));
                }
            )*
            None
        }
    };
}
bitbucket_cloud::__json_answers!(checks);

/// What a manifest row was recorded from.
#[derive(Debug, PartialEq)]
enum Source<'a> {
    /// The answer of an operation: method and path template.
    Answer(&'a str, &'a str),
    /// One item of a list an operation answers.
    Item(&'a str, &'a str),
    /// An error body.
    Error,
}

/// Reads the manifest's `endpoint_or_event` column: `GET /path`, `GET /path?fields=..`,
/// `GET /path (a note)`, `item of GET /path (values[])`, or `error body (...)`.
fn source(endpoint: &str) -> Option<Source<'_>> {
    if endpoint.starts_with("error body") {
        return Some(Source::Error);
    }
    let (item, request) = match endpoint.strip_prefix("item of ") {
        Some(rest) => (true, rest),
        None => (false, endpoint),
    };
    let (method, rest) = request.split_once(' ')?;
    let path = rest
        .split([' ', '?'])
        .next()
        .filter(|p| p.starts_with('/'))?;
    Some(if item {
        Source::Item(method, path)
    } else {
        Source::Answer(method, path)
    })
}

/// Where the manifest and its bodies are.
fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BITBUCKET_FIXTURES") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/fixtures/real");
    if shared.join("MANIFEST.tsv").is_file() {
        return shared;
    }
    root.join("tests/fixtures/real")
}

#[test]
fn every_recorded_response_round_trips_as_its_operations_type() {
    let capture = Capture::default();
    let failures = tracing::subscriber::with_default(capture.clone(), check_every_response);
    let log = capture.text();
    let misfits: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("does not fit its declared type"))
        .map(|line| line.trim())
        .collect::<Vec<_>>();
    assert!(
        misfits.is_empty(),
        "fields whose recorded values do not fit their types (patch the schema):\n  {}",
        misfits.join("\n  ")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n  "));
}

/// Checks every response row of the manifest; returns what failed.
fn check_every_response() -> Vec<String> {
    let dir = fixtures_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("MANIFEST.tsv").display()));
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let columns: Vec<&str> = line.split('\t').collect();
        let [file, kind, endpoint, ..] = columns[..] else {
            failures.push(format!("a manifest line has too few columns: {line}"));
            continue;
        };
        if kind != "response" {
            continue; // webhook deliveries: tests/api/webhooks.rs
        }
        let text = match std::fs::read_to_string(dir.join(file)) {
            Ok(text) => text,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let body: Value = match serde_json::from_str(&text) {
            Ok(body) => body,
            Err(e) => {
                failures.push(format!("{file}: not JSON ({e})"));
                continue;
            }
        };
        let outcome = match source(endpoint) {
            None => Err(format!("cannot tell what `{endpoint}` names")),
            Some(Source::Error) => round_trip::<types::ErrorBody>(&body),
            Some(Source::Answer(method, path) | Source::Item(method, path)) => {
                let item = matches!(source(endpoint), Some(Source::Item(..)));
                match checks_for(method, path) {
                    Some((answer, _)) if !item => answer(&body),
                    Some((_, Some(item))) => item(&body),
                    Some((_, None)) => Err(format!("{method} {path} does not answer a list")),
                    None => Err(
                        match operations::ALL
                            .iter()
                            .find(|op| op.method.as_str() == method && op.path == path)
                        {
                            Some(op) => format!(
                                "`{}` answers {:?}, not JSON: the body would be lost",
                                op.name, op.answer
                            ),
                            None => format!("{method} {path} is no operation of the crate"),
                        },
                    ),
                }
            }
        };
        checked += 1;
        if let Err(problem) = outcome {
            failures.push(format!("{file} ({endpoint}): {problem}"));
        }
    }
    assert!(checked > 0, "no response rows in {}", dir.display());
    if !failures.is_empty() {
        let head = format!(
            "{} of {checked} recorded responses in {} fail:",
            failures.len(),
            dir.display()
        );
        failures.insert(0, head);
    }
    eprintln!("{checked} recorded responses in {} checked", dir.display());
    failures
}

#[test]
fn manifest_sources_are_read_as_written() {
    assert_eq!(
        source("GET /repositories/{workspace}/{repo_slug}/refs/tags"),
        Some(Source::Answer(
            "GET",
            "/repositories/{workspace}/{repo_slug}/refs/tags"
        ))
    );
    assert_eq!(
        source("GET /repositories/{workspace}/{repo_slug}/pipelines?fields=values.uuid,page"),
        Some(Source::Answer(
            "GET",
            "/repositories/{workspace}/{repo_slug}/pipelines"
        ))
    );
    assert_eq!(
        source("GET /workspaces/{workspace} (legacy /teams shape)"),
        Some(Source::Answer("GET", "/workspaces/{workspace}"))
    );
    assert_eq!(
        source("item of GET /repositories/{workspace}/{repo_slug}/issues (values[])"),
        Some(Source::Item(
            "GET",
            "/repositories/{workspace}/{repo_slug}/issues"
        ))
    );
    assert_eq!(
        source("error body (403 missing OAuth scope)"),
        Some(Source::Error)
    );
    assert_eq!(source("issue:created"), None);
}

/// Decodes the committed fixture `name` as `T`, checking the round trip.
fn decoded<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let body = fixture(name);
    round_trip::<T>(&body).unwrap_or_else(|problem| panic!("{name}: {problem}"));
    serde_json::from_value(body).expect("checked above")
}

// Values land in typed fields, not only in `extra`, and what the document does not list is
// kept.

#[test]
fn polymorphic_pipeline_states_are_typed_and_unknown_stages_kept() {
    use types::{
        PipelineStateCompletedResultName as Result, PipelineStateInProgressStageName as Stage,
        PipelineStateName as State,
    };
    let page: types::PaginatedPipelines = decoded("pipeline.list.devlake-synth-1.json");
    let states: Vec<_> = page
        .values
        .unwrap()
        .into_iter()
        .map(|p| p.state.unwrap())
        .collect();
    assert_eq!(states[0].name, Some(State::Completed));
    assert_eq!(
        states[0].result.as_ref().unwrap().name,
        Some(Result::Failed)
    );
    assert_eq!(states[1].name, Some(State::InProgress));
    // HALTED is not among the stages the document lists (RUNNING, PAUSED).
    assert_eq!(
        states[1].stage.as_ref().unwrap().name,
        Some(Stage::Other("HALTED".into()))
    );
    assert_eq!(Stage::Other("HALTED".into()).to_string(), "HALTED");
    assert_eq!(
        "HALTED".parse::<Stage>().unwrap(),
        Stage::Other("HALTED".into())
    );
}

#[test]
fn accounts_keep_their_subtype_fields() {
    let pr: types::PullRequest = decoded("pullrequest.list-item.gildas-1.json");
    assert_eq!(pr.state, Some(types::PullRequestState::Merged));
    let author = pr.author.unwrap();
    assert_eq!(author.type_.as_deref(), Some("app_user"));
    assert!(
        author.account_id.is_some(),
        "app_user's account_id is a typed field"
    );
    let closed_by = pr.closed_by.unwrap();
    assert_eq!(closed_by.type_.as_deref(), Some("user"));
    assert_eq!(closed_by.nickname.as_deref(), Some("gildas_cherruel"));
}

#[test]
fn pipeline_steps_have_their_name_and_run_figures() {
    // Declared by the `pipeline-step-fields-are-undeclared` patch.
    let step: types::PipelineStep = decoded("pipeline-step.list-item.devlake-1.json");
    assert_eq!(step.name.as_deref(), Some("Test"));
    assert_eq!((step.run_number, step.max_time), (Some(1), Some(120)));
    assert!(step.pipeline.unwrap().uuid.is_some());
    let step: types::PipelineStep = decoded("pipeline-step.get.atlassian-python-api-1.json");
    assert_eq!(step.teardown_commands.map(|c| c.len()), Some(1));
    assert_eq!(step.duration_in_seconds, Some(0));
    // What the document still lacks (the trigger) stays in `extra`.
    assert!(step.extra.contains_key("trigger"), "{:?}", step.extra);
}

#[test]
fn fields_the_document_lacks_are_kept_in_extra() {
    // `username` was removed from the document (GDPR) but old payloads still carry it.
    let user: types::Account = decoded("user.get.atlantis-1.json");
    assert!(
        user.extra.get("username").is_some_and(Value::is_string),
        "{:?}",
        user.extra
    );
}

#[test]
fn error_details_may_be_objects_and_fields_lists() {
    let forbidden: types::ErrorBody = decoded("error.forbidden-scopes.gildas-1.json");
    let detail = forbidden.error.unwrap().detail.unwrap();
    assert!(detail["required"].is_array(), "{detail}");
    let bad: types::ErrorBody = decoded("error.badrequest-nobranch.gildas-1.json");
    let fields = bad.error.unwrap().fields.unwrap();
    assert!(fields.values().any(Value::is_array), "{fields:?}");
}

#[test]
fn unknown_enum_values_decode_and_encode_unchanged() {
    let pr: types::PullRequest =
        serde_json::from_value(serde_json::json!({"state": "QUEUED_FOR_MERGE"})).unwrap();
    assert_eq!(
        pr.state,
        Some(types::PullRequestState::Other("QUEUED_FOR_MERGE".into()))
    );
    assert_eq!(
        serde_json::to_value(&pr).unwrap(),
        serde_json::json!({"state": "QUEUED_FOR_MERGE"})
    );
}

#[test]
fn a_field_that_does_not_fit_its_type_is_kept_in_extra_and_logged() {
    let sent = serde_json::json!({"id": "not-a-number", "title": "Fix", "state": "OPEN"});
    let capture = Capture::default();
    let pr: types::PullRequest = tracing::subscriber::with_default(capture.clone(), || {
        serde_json::from_value(sent.clone()).expect("one wrong field does not fail the answer")
    });
    assert_eq!(pr.id, None);
    assert_eq!(pr.title.as_deref(), Some("Fix"));
    assert_eq!(pr.extra["id"], "not-a-number");
    assert_eq!(serde_json::to_value(&pr).unwrap(), sent, "nothing is lost");
    let log = capture.text();
    assert!(
        log.contains("does not fit its declared type") && log.contains("field=\"id\""),
        "{log}"
    );
    assert!(
        !log.contains("not-a-number"),
        "the value is not logged: {log}"
    );
}

#[test]
fn request_bodies_carry_only_what_was_set() {
    let body = types::PullRequest {
        title: Some("Fix".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"title": "Fix"})
    );
    let merge = types::PullRequestMergeParameters::default();
    assert_eq!(serde_json::to_value(&merge).unwrap(), serde_json::json!({}));
}

/// A snippet comment is a comment (the `snippet-comment-is-a-comment` patch): its id, text and
/// author are typed fields, as on other comments, read over HTTP and sent back unchanged.
#[tokio::test]
async fn snippet_comments_have_their_id_content_and_author() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    // Shaped like Bitbucket's answer (the documentation's comment fields, a snippet's links).
    let body = serde_json::json!({
        "type": "snippet_comment",
        "id": 52384012,
        "created_on": "2024-05-02T09:41:07.321885+00:00",
        "updated_on": null,
        "content": {"type": "rendered", "raw": "Looks good", "markup": "markdown", "html": "<p>Looks good</p>"},
        "user": {"type": "user", "display_name": "Grace Hopper", "uuid": "{6e1a2f3c-0b7d-4e59-a1e4-1c2a3b4c5d6e}"},
        "deleted": false,
        "links": {
            "self": {"href": "https://api.bitbucket.org/2.0/snippets/ws/9qa8b/comments/52384012"},
            "html": {"href": "https://bitbucket.org/snippets/ws/9qa8b#comment-52384012"}
        },
        "snippet": {"type": "snippet", "id": "9qa8b", "title": "deploy.sh"}
    });
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2.0/snippets/ws/9qa8b/comments/52384012"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .expect(1)
        .mount(&server)
        .await;
    let client = bitbucket_cloud::Client::builder()
        .base_url(format!("{}/2.0", server.uri()))
        .build()
        .unwrap();
    let comment = client
        .get_snippet_comment()
        .workspace("ws")
        .encoded_id("9qa8b")
        .comment_id(52384012)
        .send()
        .await
        .unwrap();
    assert_eq!(comment.id, Some(52384012));
    assert_eq!(
        comment.content.as_ref().and_then(|c| c.raw.as_deref()),
        Some("Looks good")
    );
    assert_eq!(
        comment
            .user
            .as_ref()
            .and_then(|u| u.display_name.as_deref()),
        Some("Grace Hopper")
    );
    assert_eq!(
        comment.snippet.as_ref().and_then(|s| s.id.as_deref()),
        Some("9qa8b")
    );
    assert!(!comment.extra.contains_key("id"), "{:?}", comment.extra);
    // Re-encoded, nothing is lost but the null.
    assert!(
        same_json(
            &without_empty(serde_json::to_value(&comment).unwrap()),
            &without_empty(body)
        ),
        "{:?}",
        comment
    );
}
