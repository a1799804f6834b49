//! Credentials and scopes, as Bitbucket checks them: 401 without valid credentials, 403 with
//! `detail: {required, granted}` when a scope is missing.

mod common;

use bitbucket_cloud::{Auth, Scope};
use bitbucket_cloud_local::LocalBitbucket;
use serde_json::{Value, json};

use common::{client, with_scopes};

async fn repo_server() -> LocalBitbucket {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb
}

#[tokio::test]
async fn no_or_unknown_credentials_get_401() {
    let bb = repo_server().await;
    for auth in [
        Auth::anonymous(),
        Auth::access_token("not-a-token"),
        Auth::api_token(bb.account().email, "not-a-token"),
    ] {
        let error = client(&bb, auth.clone())
            .get_current_user()
            .send()
            .await
            .unwrap_err();
        let api = error.api().unwrap_or_else(|| panic!("{auth:?}: {error}"));
        assert_eq!(api.status().as_u16(), 401, "{auth:?}");
        assert!(api.message().is_some_and(|m| !m.is_empty()));
        assert_eq!(
            api.headers()["www-authenticate"],
            "Basic realm=\"Bitbucket.org HTTP\""
        );
    }
}

#[tokio::test]
async fn the_raw_401_and_403_bodies() {
    let bb = repo_server().await;
    let http = common::http();
    let url = format!("{}/repositories/acme/app/pullrequests", bb.base_url());

    let unauthorized = http.get(&url).send().await.unwrap();
    assert_eq!(unauthorized.status().as_u16(), 401);
    let body: Value = unauthorized.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert!(body["error"]["message"].is_string());

    let forbidden = http
        .get(&url)
        .bearer_auth(bb.token(&[Scope::Repository, Scope::Account]))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status().as_u16(), 403);
    let body: Value = forbidden.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "type": "error",
            "error": {
                "message": "Your credentials lack one or more required privilege scopes.",
                "detail": { "required": ["pullrequest"], "granted": ["repository", "account"] },
            },
        })
    );
}

#[tokio::test]
async fn a_missing_scope_gets_403_naming_it() {
    let bb = repo_server().await;
    let reader = with_scopes(&bb, &[Scope::Pullrequest]);
    let error = reader
        .repo("acme", "app")
        .approve_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status().as_u16(), 403);
    assert_eq!(api.missing_scopes(), ["pullrequest:write"]);
    assert_eq!(api.detail().unwrap()["granted"], json!(["pullrequest"]));
}

#[tokio::test]
async fn scopes_imply_others_as_bitbucket_documents() {
    let bb = repo_server().await;
    // `pullrequest` implies `repository`; `pullrequest:write` implies `repository:write`.
    let pr_reader = with_scopes(&bb, &[Scope::Pullrequest]);
    pr_reader
        .repo("acme", "app")
        .get_repository()
        .send()
        .await
        .unwrap();
    let pr_writer = with_scopes(&bb, &[Scope::PullrequestWrite]);
    pr_writer
        .repo("acme", "app")
        .list_pull_requests()
        .send()
        .await
        .unwrap();
    let denied = pr_writer
        .repo("acme", "app")
        .update_repository()
        .body(common::body::<bitbucket_cloud::types::Repository>(
            json!({}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        denied.status().unwrap().as_u16(),
        403,
        "admin is not implied"
    );
}

#[tokio::test]
async fn api_tokens_use_email_and_granular_scopes() {
    let bb = repo_server().await;
    let email = bb.account().email;
    let token = bb.api_token(&["read:user:bitbucket", "read:repository:bitbucket"]);

    let me = client(&bb, Auth::api_token(&email, &token))
        .get_current_user()
        .send()
        .await
        .unwrap();
    assert_eq!(me.nickname.as_deref(), Some("ada"));

    // The Bitbucket user name instead of the email: refused, as on bitbucket.org.
    let wrong_user = client(&bb, Auth::api_token("ada", &token))
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    assert_eq!(wrong_user.status().unwrap().as_u16(), 401);

    let error = client(&bb, Auth::api_token(&email, &token))
        .repo("acme", "app")
        .create_pull_request()
        .body(common::body::<bitbucket_cloud::types::PullRequest>(
            json!({ "title": "x" }),
        ))
        .send()
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status().as_u16(), 403);
    assert_eq!(
        api.missing_scopes(),
        ["read:pullrequest:bitbucket", "write:pullrequest:bitbucket"]
    );
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let bb = repo_server().await;
    let token = bb.token(&[Scope::Account]);
    let c = client(&bb, Auth::access_token(&token));
    c.get_current_user().send().await.unwrap();
    assert!(bb.revoke(&token));
    let error = c.get_current_user().send().await.unwrap_err();
    assert_eq!(error.status().unwrap().as_u16(), 401);
}

#[tokio::test]
async fn other_accounts_act_as_themselves() {
    let bb = repo_server().await;
    let grace = bb.add_account("grace", "Grace Hopper");
    let c = client(
        &bb,
        Auth::access_token(bb.token_for(&grace, &[Scope::Account])),
    );
    let me = c.get_current_user().send().await.unwrap();
    assert_eq!(me.uuid, Some(grace.uuid));
    assert_eq!(me.display_name.as_deref(), Some("Grace Hopper"));
}

#[tokio::test]
#[should_panic(expected = "not an account of this LocalBitbucket")]
async fn tokens_are_for_this_servers_accounts_only() {
    let one = LocalBitbucket::start().await;
    let other = LocalBitbucket::start().await;
    let stranger = other.add_account("eve", "Eve");
    let _ = one.token_for(&stranger, &[Scope::Account]);
}
