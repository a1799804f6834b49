//! A policy limited to projects and repositories, over real HTTP on loopback (wiremock):
//! calls in an allowed project go out; calls elsewhere are refused before anything is sent,
//! with a denied audit record that says which rule refused and how to allow the call; a
//! cursor cannot lead a list into another project.

use std::sync::{Arc, Mutex};

use bitbucket_data_center::audit::{AuditRecord, Outcome};
use bitbucket_data_center::policy::Decision;
use bitbucket_data_center::{Auth, Client, Error, Permission, Policy};
use futures_util::TryStreamExt as _;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

type Records = Arc<Mutex<Vec<AuditRecord>>>;

/// A client of `server` with `policy`, whose audit records land in the returned list.
fn client(server: &MockServer, policy: Policy) -> (Client, Records) {
    let records = Records::default();
    let sink = records.clone();
    let client = Client::builder()
        .server_url(server.uri())
        .auth(Auth::bearer("t0ken"))
        .agent("bot")
        .policy(policy)
        .audit(move |record| sink.lock().unwrap().push(record.clone()))
        .build()
        .expect("a loopback URL and a well-formed policy");
    (client, records)
}

fn taken(records: &Records) -> Vec<AuditRecord> {
    std::mem::take(&mut *records.lock().unwrap())
}

/// Asserts that `result` is a denial whose reason holds each of `expected`, that exactly one
/// record was left, a denied one with the same reason, and that the server got nothing.
async fn assert_denied<T: std::fmt::Debug>(
    server: &MockServer,
    records: &Records,
    result: Result<T, Error>,
    expected: &[&str],
) {
    let error = result.unwrap_err();
    let Error::Denied { reason, .. } = &error else {
        panic!("not a denial: {error:?}")
    };
    for text in expected {
        assert!(reason.contains(text), "{text} not in {reason}");
    }
    let records = taken(records);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, Outcome::Denied);
    assert_eq!(records[0].decision, Decision::Denied(reason.clone()));
    assert_eq!(records[0].status, None);
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a denied call sent a request"
    );
}

fn repository(key: &str, slug: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "slug": slug, "name": slug, "project": { "key": key }
    }))
}

#[tokio::test]
async fn a_call_in_an_allowed_project_is_sent_and_one_elsewhere_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/plat/repos/api"))
        .respond_with(repository("PLAT", "api"))
        .expect(1)
        .mount(&server)
        .await;
    let policy = Policy::new()
        .grant(Permission::RepoRead)
        .only_in_project("PLAT");
    let (client, records) = client(&server, policy);

    // Project keys compare without regard to case, as Data Center resolves them.
    let repo = client
        .get_repository()
        .project_key("plat")
        .repository_slug("api")
        .send()
        .await
        .unwrap();
    assert_eq!(repo.slug.as_deref(), Some("api"));
    let records_sent = taken(&records);
    assert_eq!(records_sent.len(), 1);
    assert_eq!(records_sent[0].decision, Decision::Allowed);
    server.verify().await;
    server.reset().await;

    let result = client
        .get_repository()
        .project_key("WEB")
        .repository_slug("api")
        .send()
        .await;
    assert_denied(
        &server,
        &records,
        result,
        &[
            "repository `WEB/api`",
            "only allows project PLAT",
            r#".only_in_repository("WEB", "api")"#,
            r#".only_in_project("WEB")"#,
        ],
    )
    .await;
}

#[tokio::test]
async fn a_repository_rule_allows_that_repository_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PLAT/repos/api"))
        .respond_with(repository("PLAT", "api"))
        .expect(1)
        .mount(&server)
        .await;
    let policy = Policy::new()
        .grant(Permission::ProjectAdmin)
        .only_in_repository("PLAT", "api")
        .only_in_project("~alice");
    let (client, records) = client(&server, policy);
    client
        .get_repository()
        .project_key("PLAT")
        .repository_slug("api")
        .send()
        .await
        .unwrap();
    server.verify().await;
    server.reset().await;
    taken(&records);

    // Another repository of the same project.
    let result = client
        .delete_repository()
        .project_key("PLAT")
        .repository_slug("web")
        .send()
        .await;
    assert_denied(
        &server,
        &records,
        result,
        &[
            "`delete_repository` acts on repository `PLAT/web`",
            "repository PLAT/api, project ~alice",
        ],
    )
    .await;

    // The project itself: a repository rule does not allow calls on its whole project.
    let result = client.get_project().project_key("PLAT").send().await;
    assert_denied(
        &server,
        &records,
        result,
        &["the whole project `PLAT`", r#".only_in_project("PLAT")"#],
    )
    .await;

    // A personal project, by its `~user` key in another case.
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/~ALICE/repos/notes"))
        .respond_with(repository("~ALICE", "notes"))
        .expect(1)
        .mount(&server)
        .await;
    client
        .get_repository()
        .project_key("~ALICE")
        .repository_slug("notes")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn operations_without_a_project_are_decided_by_permissions_alone() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "size": 1, "limit": 100, "start": 0, "isLastPage": true,
            "values": [{ "key": "PLAT" }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let policy = Policy::new()
        .grant(Permission::ProjectRead)
        .only_in_project("PLAT");
    let (client, records) = client(&server, policy);
    let projects: Vec<_> = client.get_projects().stream().try_collect().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(taken(&records)[0].decision, Decision::Allowed);
    server.verify().await;
}

/// An operation that names its repository only by id cannot be checked against a resource
/// rule: refused, whatever the permissions.
#[cfg(feature = "mirroring-upstream")]
#[tokio::test]
async fn an_operation_that_names_its_repository_by_id_is_refused_when_restricted() {
    let server = MockServer::start().await;
    let policy = Policy::new()
        .grant(Permission::SysAdmin)
        .allow_operation("get_content_hash_by_id")
        .only_in_project("PLAT");
    let (client, records) = client(&server, policy);
    let result = client.get_content_hash_by_id().repo_id("42").send().await;
    assert_denied(
        &server,
        &records,
        result,
        &["by id (`{repoId}`)", "only allows project PLAT"],
    )
    .await;
}

#[tokio::test]
async fn pages_stay_in_the_project_and_a_cursor_cannot_leave_it() {
    let server = MockServer::start().await;
    let page = |start: u64, slug: &str, last: bool| {
        let mut page = json!({
            "size": 1, "limit": 1, "start": start, "isLastPage": last,
            "values": [{ "slug": slug, "project": { "key": "PLAT" } }]
        });
        if !last {
            page["nextPageStart"] = json!(start + 1);
        }
        ResponseTemplate::new(200).set_body_json(page)
    };
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PLAT/repos"))
        .and(query_param("start", "1"))
        .respond_with(page(1, "web", true))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PLAT/repos"))
        .respond_with(page(0, "api", false))
        .expect(2)
        .mount(&server)
        .await;
    let policy = Policy::new()
        .grant(Permission::ProjectRead)
        .only_in_project("PLAT");
    let (client, records) = client(&server, policy);

    // Every page of the allowed project's list goes out, each decided again.
    let repos: Vec<_> = client
        .get_repositories()
        .project_key("PLAT")
        .limit(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(repos.len(), 2);
    let records_sent = taken(&records);
    assert_eq!(records_sent.len(), 2);
    assert!(records_sent.iter().all(|r| r.decision == Decision::Allowed));

    // A cursor of the same list resumes.
    let mut pages = client
        .get_repositories()
        .project_key("PLAT")
        .limit(1)
        .pages()
        .max_pages(1);
    pages.try_next().await.unwrap().unwrap();
    let cursor = pages.resume_cursor().expect("a second page");
    let rest: Vec<_> = client
        .get_repositories()
        .project_key("PLAT")
        .resume(&cursor)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    server.verify().await;
    server.reset().await;
    taken(&records);

    // A cursor edited to another project's list, or to a path that resolves there, is
    // refused before anything is sent.
    let base = server.uri();
    for cursor in [
        format!("{base}/rest/api/latest/projects/WEB/repos?start=1&limit=1"),
        format!("{base}/rest/api/latest/projects/PLAT/../WEB/repos?start=1"),
        format!("{base}/rest/api/latest/projects/PLAT%2F..%2F..%2FWEB/repos?start=1"),
    ] {
        let result = client
            .get_repositories()
            .project_key("PLAT")
            .resume(&cursor)
            .try_next()
            .await;
        assert_denied(&server, &records, result, &[]).await;
    }
}

#[test]
fn malformed_resource_rules_fail_the_build() {
    for policy in [
        Policy::new().only_in_project(""),
        Policy::new().only_in_project(".."),
        Policy::new().only_in_project("PLAT/api"),
        Policy::new().only_in_repository("PLAT", "."),
        Policy::new().only_in_repository("", "api"),
    ] {
        let error = Client::builder()
            .server_url("http://localhost:7990")
            .policy(policy)
            .build()
            .unwrap_err();
        assert!(
            matches!(&error, Error::Config(m) if m.contains("only_in_")),
            "{error}"
        );
    }
}
