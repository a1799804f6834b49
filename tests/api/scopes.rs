//! The operation table is the document's, read independently here; `required_for` gives the
//! least a token needs; a 403 names the scope the operation needs.

use std::str::FromStr;

use bitbucket_cloud::operations::{self, Answer, Redirect, UnknownOperation};
use bitbucket_cloud::scopes::required_for;
use bitbucket_cloud::{Auth, Client, Error, Scope};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/bitbucket.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_table_equals_the_spec() {
    let spec = spec();
    let mut seen = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (verb, op) in item.as_object().unwrap() {
            let Some(name) = op["operationId"].as_str() else {
                continue;
            };
            seen += 1;
            let entry = operations::by_name(name)
                .unwrap_or_else(|| panic!("{name} is in the spec but not in the table"));
            assert_eq!(entry.method.as_str(), verb.to_uppercase(), "{name}");
            assert_eq!(entry.path, template, "{name}");
            assert_eq!(entry.tags, strings(&op["tags"]), "{name}");
            assert_eq!(
                entry.summary,
                op["summary"].as_str().unwrap().trim(),
                "{name}"
            );

            let classic: Vec<String> = op["security"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|requirement| requirement.get("oauth2"))
                .flat_map(strings)
                .collect();
            let table: Vec<String> = entry.scopes.iter().map(Scope::to_string).collect();
            assert_eq!(table, classic, "{name}: classic scopes");

            let mut granular: Vec<String> = op["x-atlassian-oauth2-scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|entry| entry["state"] == "Current")
                .flat_map(|entry| strings(&entry["scopes"]))
                .collect();
            granular.dedup();
            assert_eq!(entry.granular_scopes, granular, "{name}: granular scopes");

            assert_eq!(
                entry.paginated,
                op["x-paginated"].as_bool().unwrap_or(false),
                "{name}: paginated"
            );
            assert_eq!(
                entry.max_pagelen.map(u64::from),
                op["x-max-pagelen"].as_u64(),
                "{name}: max_pagelen"
            );
            assert_eq!(
                entry.deprecated,
                op["deprecated"].as_bool().unwrap_or(false),
                "{name}: deprecated"
            );
            assert_eq!(entry.feature, op["x-feature"], "{name}: feature");
            let answer = match op["x-answer"].as_str() {
                Some("json") => Answer::Json,
                Some("text") => Answer::Text,
                Some("bytes") => Answer::Bytes,
                Some("empty") => Answer::Empty,
                other => panic!("{name}: x-answer {other:?}"),
            };
            assert_eq!(entry.answer, answer, "{name}: answer");
            let redirect = match op["x-redirect"].as_str() {
                None => None,
                Some("storage") => Some(Redirect::Storage),
                Some(target) => {
                    let target = operations::by_name(target)
                        .unwrap_or_else(|| panic!("{name} redirects to {target}"));
                    Some(Redirect::To(target.name))
                }
            };
            assert_eq!(entry.redirect, redirect, "{name}: redirect");
        }
    }
    assert_eq!(
        seen,
        operations::ALL.len(),
        "operations missing from the spec"
    );
    assert_eq!(seen, 331, "every operation of the official document");
}

#[test]
fn scopes_are_the_documents_with_its_spelling() {
    let spec = spec();
    let mut defined: Vec<&String> = spec
        .pointer("/components/securitySchemes/oauth2/flows/authorizationCode/scopes")
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .collect();
    defined.sort();
    let ours: Vec<String> = Scope::ALL.iter().map(Scope::to_string).collect();
    assert_eq!(ours, defined.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    for scope in Scope::ALL {
        assert_eq!(Scope::from_str(&scope.to_string()), Ok(*scope));
    }
    assert_eq!(
        "pullrequest:write".parse::<Scope>(),
        Ok(Scope::PullrequestWrite)
    );
    let unknown = "pullrequests".parse::<Scope>().unwrap_err();
    assert!(unknown.to_string().contains("`pullrequests`"));
    assert!(
        unknown.to_string().contains("pullrequest:write"),
        "the message lists the scopes: {unknown}"
    );
}

#[test]
fn required_for_known_sets() {
    let needs = required_for(["list_pull_requests", "merge_pull_request"]).unwrap();
    assert_eq!(needs.classic, [Scope::PullrequestWrite]);
    assert_eq!(
        needs.granular,
        ["read:pullrequest:bitbucket", "write:pullrequest:bitbucket"]
    );

    // A release bot: read the repository, tag a branch, merge, run the pipeline.
    let needs = required_for([
        "get_repository",
        "create_branch",
        "merge_pull_request",
        "run_pipeline",
        "get_pipeline",
    ])
    .unwrap();
    assert_eq!(needs.classic, [Scope::Pipeline, Scope::PullrequestWrite]);
    assert_eq!(
        needs.granular,
        [
            "read:pipeline:bitbucket",
            "read:pullrequest:bitbucket",
            "read:repository:bitbucket",
            "write:pipeline:bitbucket",
            "write:pullrequest:bitbucket",
            "write:repository:bitbucket",
        ]
    );

    // Admin does not read, and nothing is widened: three scopes stay three.
    let needs = required_for(["update_repository", "list_commits", "list_issues"]).unwrap();
    assert_eq!(
        needs.classic,
        [Scope::Issue, Scope::Repository, Scope::RepositoryAdmin]
    );

    // An operation that needs no scope adds none.
    let needs = required_for(["get_workspace"]).unwrap();
    assert!(needs.classic.is_empty());
    assert_eq!(needs.granular, ["read:workspace:bitbucket"]);

    // Every operation at once is still consistent: each one's scopes are covered.
    let everything = required_for(operations::ALL.iter().map(|op| op.name)).unwrap();
    for op in operations::ALL {
        for needed in op.scopes {
            assert!(
                everything.classic.iter().any(|s| s.implies(*needed)),
                "{} needs {needed}",
                op.name
            );
        }
    }
}

#[test]
fn unknown_operations_are_errors_with_close_names() {
    let error: UnknownOperation =
        required_for(["list_pull_requests", "aprove_pull_request"]).unwrap_err();
    assert_eq!(error.name, "aprove_pull_request");
    assert_eq!(error.suggestions[0], "approve_pull_request");
    assert_eq!(
        error.to_string(),
        "`aprove_pull_request` is not a supported operation; did you mean one of \
         `approve_pull_request`, `unapprove_pull_request`?"
    );
}

#[tokio::test]
async fn a_403_names_the_scopes_the_operation_needs() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repositories/ws/app/pullrequests/42/merge"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "type": "error",
            "error": {"message": "Access denied"}
        })))
        .mount(&server)
        .await;
    // The hint names the scope in the form the credential uses: classic for access tokens,
    // granular for API tokens.
    for (auth, expected) in [
        (Auth::access_token("token"), "`pullrequest:write`"),
        (
            Auth::api_token("me@example.com", "token"),
            "`write:pullrequest:bitbucket`",
        ),
    ] {
        let client = Client::builder()
            .base_url(server.uri())
            .auth(auth)
            .build()
            .unwrap();
        let error = client
            .repo("ws", "app")
            .merge_pull_request()
            .pull_request_id(42)
            .send()
            .await
            .unwrap_err();
        let Error::Api(api) = &error else {
            panic!("{error:?}")
        };
        assert!(api.hint().contains(expected), "{}", api.hint());
    }
}
