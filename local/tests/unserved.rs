//! Operations the server does not serve: each answers 501 with a Bitbucket-shaped body naming
//! it, whatever the client gains, and the README's list of served operations is the server's.

mod common;

use bitbucket_cloud::{Scope, operations};
use bitbucket_cloud_local::LocalBitbucket;
use serde_json::Value;

/// A request path for `op`'s template, with made-up values for its parameters.
fn instance(op: &bitbucket_cloud::Operation) -> String {
    op.path
        .replace("{workspace}", "acme")
        .replace("{repo_slug}", "app")
        .replace("{project_key}", "PROJ")
        .replace(['{', '}'], "")
}

/// Every operation of the client is either served (never a 501, and recorded under its own
/// name) or answers 501 naming it. An operation added to the client is in the second group
/// until the server gains a handler: nothing is left to a 404.
#[tokio::test]
async fn every_operation_is_served_or_answers_501_naming_it() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let http = common::http();
    let token = bb.token(Scope::ALL);
    let (mut served, mut unserved) = (0, 0);
    for op in operations::ALL {
        let path = instance(op);
        let response = http
            .request(op.method.clone(), format!("{}{path}", bb.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_default();
        let recorded = bb
            .requests()
            .last()
            .cloned()
            .expect("the request is recorded");
        assert_eq!(recorded.operation, op.name, "{} {path}", op.method);
        assert_eq!(recorded.status, status);
        if LocalBitbucket::serves(op.name) {
            served += 1;
            assert_ne!(status, 501, "{} is served: {body}", op.name);
        } else {
            unserved += 1;
            assert_eq!(status, 501, "{}: {body}", op.name);
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(&format!("`{}`", op.name)), "{message}");
        }
    }
    assert_eq!(served + unserved, operations::ALL.len());
    assert_eq!(served, LocalBitbucket::served_operations().count());
}

/// A withheld operation answers as an unserved one does: 501, a Bitbucket-shaped body naming
/// the operation and its request, before any credentials are looked at.
#[tokio::test]
async fn an_unserved_operation_answers_501_naming_it() {
    let bb = LocalBitbucket::builder()
        .withhold(["get_pull_request", "merge_pull_request"])
        .start()
        .await;
    bb.create_repository("acme", "app");
    let url = format!("{}/repositories/acme/app/pullrequests/1", bb.base_url());
    let http = common::http();
    for token in [Some(bb.token(Scope::ALL)), None] {
        let mut request = http.get(&url);
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 501);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(
            body["error"]["message"],
            "bitbucket-cloud-local does not serve `get_pull_request` \
             (GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}) yet"
        );
        let detail = body["error"]["detail"].as_str().unwrap();
        assert!(detail.contains("served_operations"), "{detail}");
    }

    // Through the client: an error that says what happened, not "not found".
    let client = common::admin(&bb);
    let error = client
        .repo("acme", "app")
        .merge_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(501));
    let message = error.api().unwrap().message().unwrap();
    assert!(
        message.contains("does not serve `merge_pull_request`"),
        "{message}"
    );

    let recorded: Vec<_> = bb
        .requests()
        .into_iter()
        .map(|r| (r.operation, r.status))
        .collect();
    assert_eq!(
        recorded,
        [
            ("get_pull_request", 501),
            ("get_pull_request", 501),
            ("merge_pull_request", 501),
        ]
    );
    // The others are served as usual.
    let pulls = client.repo("acme", "app").list_pull_requests().send().await;
    assert!(pulls.is_ok(), "{pulls:?}");
}

#[test]
#[should_panic(expected = "not an operation of bitbucket-cloud")]
fn withholding_an_unknown_operation_is_refused() {
    let _ = LocalBitbucket::builder().withhold(["get_pull_reqest"]);
}

/// A path that is an operation's, with a method no operation there takes: 405 with `Allow`.
#[tokio::test]
async fn another_method_on_an_operation_s_path_gets_405() {
    let bb = LocalBitbucket::start().await;
    let response = common::http()
        .delete(format!("{}/user", bb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["detail"], "This URL takes GET");
}

const START: &str = "<!-- The served operations: written by local/tests/unserved.rs from \
                     LocalBitbucket::served_operations(); `BLESS=1 cargo test -p \
                     bitbucket-cloud-local --test unserved` rewrites it. -->";
const END: &str = "<!-- End of the served operations. -->";

/// The README's section listing the served operations.
fn served_section() -> String {
    let ops: Vec<_> = LocalBitbucket::served_operations().collect();
    let mut out = format!(
        "{START}\n\nIt serves these {} operations of `bitbucket-cloud`. Every other operation \
         of `bitbucket_cloud::operations::ALL` answers `501 Not Implemented`, with a \
         Bitbucket-shaped error body naming it.\n\n| Operation | Request |\n|---|---|\n",
        ops.len()
    );
    for op in ops {
        out.push_str(&format!(
            "| `{}` | `{} {}` |\n",
            op.name, op.method, op.path
        ));
    }
    out.push('\n');
    out.push_str(END);
    out
}

/// local/README.md lists exactly the operations the server serves: the list is written from
/// the server's table, and this test (run in CI) fails when they drift apart.
#[test]
fn the_readme_lists_the_served_operations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let wanted = served_section();
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("{path} has no section between {START:?} and {END:?}");
    };
    let current = &readme[start..end + END.len()];
    if current == wanted {
        return;
    }
    if std::env::var_os("BLESS").is_some() {
        let updated = format!("{}{wanted}{}", &readme[..start], &readme[end + END.len()..]);
        std::fs::write(path, updated).unwrap();
        return;
    }
    panic!(
        "{path}'s list of served operations is out of date; run \
         `BLESS=1 cargo test -p bitbucket-cloud-local --test unserved` to rewrite it"
    );
}
