//! Snippets through the typed client (and plain HTTP for the multipart bodies the client does
//! not send): files versioned as revisions, diffs and patches between them, compare-and-swap
//! writes on a revision, comments, watchers, and the caller's own workspace.

mod common;

use bitbucket_cloud::{Scope, types};
use bitbucket_cloud_local::LocalBitbucket;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

fn status_of(error: &bitbucket_cloud::Error) -> u16 {
    error.status().map(|s| s.as_u16()).unwrap_or_default()
}

fn file(name: &str, content: &str) -> Part {
    Part::bytes(content.as_bytes().to_vec()).file_name(name.to_string())
}

#[allow(deprecated)]
#[tokio::test]
async fn snippets_are_created_versioned_diffed_and_deleted() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let client = common::admin(&bb);
    let acme = client.workspace("acme");
    let http = common::http();
    let token = bb.token(Scope::ALL);
    let url = format!("{}/snippets/acme", bb.base_url());

    // Created as `curl -F title=… -F file=@…` creates one.
    let answer = http
        .post(&url)
        .bearer_auth(&token)
        .multipart(
            Form::new()
                .text("title", "Setup")
                .text("is_private", "true")
                .part("file", file("setup.sh", "echo one\n"))
                .part("file", file("notes.md", "# Notes\n")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let created: Value = answer.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        location.ends_with(&format!("/snippets/acme/{id}")),
        "{location}"
    );

    let snippet = acme.get_snippet().encoded_id(&id).send().await.unwrap();
    assert_eq!(snippet.title.as_deref(), Some("Setup"));
    assert_eq!(snippet.is_private, Some(true));
    let shown = serde_json::to_value(&snippet).unwrap();
    let mut names: Vec<&String> = shown["files"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["notes.md", "setup.sh"]);

    // A file by name: a redirect to the head revision's file, followed.
    let content = acme
        .get_snippet_file()
        .encoded_id(&id)
        .path("setup.sh")
        .send()
        .await
        .unwrap();
    assert_eq!(&content[..], b"echo one\n");
    let missing = acme
        .get_snippet_file()
        .encoded_id(&id)
        .path("nope.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);

    // A file changed: a second revision.
    let first = acme
        .list_snippet_changes()
        .encoded_id(&id)
        .send()
        .await
        .unwrap()
        .values
        .unwrap()[0]
        .hash
        .clone()
        .unwrap();
    let changed = http
        .put(format!("{url}/{id}"))
        .bearer_auth(&token)
        .multipart(Form::new().part("file", file("setup.sh", "echo two\n")))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changes = acme
        .list_snippet_changes()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(changes.size, Some(2));
    let head = changes.values.unwrap()[0].hash.clone().unwrap();
    assert_ne!(head, first);
    let change = acme
        .get_snippet_change()
        .encoded_id(&id)
        .revision(&head)
        .send()
        .await
        .unwrap();
    let change = serde_json::to_value(&change).unwrap();
    assert_eq!(change["parents"][0]["hash"], first.as_str());

    let diff = acme
        .get_snippet_diff()
        .encoded_id(&id)
        .revision(&head)
        .send()
        .await
        .unwrap();
    assert!(diff.contains("-echo one\n+echo two\n"), "{diff}");
    let only_notes = acme
        .get_snippet_diff()
        .encoded_id(&id)
        .revision(&head)
        .path("notes.md")
        .send()
        .await
        .unwrap();
    assert_eq!(only_notes, "");
    let patch = acme
        .get_snippet_patch()
        .encoded_id(&id)
        .revision(&first)
        .send()
        .await
        .unwrap();
    assert!(patch.contains("+# Notes"), "{patch}");

    // The old revision still reads as it was; only the head can be written or deleted.
    let old = acme
        .get_snippet_revision_file()
        .encoded_id(&id)
        .node_id(&first)
        .path("setup.sh")
        .send()
        .await
        .unwrap();
    assert_eq!(&old[..], b"echo one\n");
    let at_first = acme
        .get_snippet_revision()
        .encoded_id(&id)
        .node_id(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(at_first.title.as_deref(), Some("Setup"));
    let stale = acme
        .update_snippet_revision()
        .encoded_id(&id)
        .node_id(&first)
        .body(common::body::<types::Snippet>(json!({ "title": "Stale" })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&stale), 405);
    let stale = acme
        .delete_snippet_revision()
        .encoded_id(&id)
        .node_id(&first)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&stale), 405);
    // JSON changes the title, not the files: no new revision.
    let renamed = acme
        .update_snippet_revision()
        .encoded_id(&id)
        .node_id(&head)
        .body(common::body::<types::Snippet>(
            json!({ "title": "Setup 2" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.title.as_deref(), Some("Setup 2"));
    assert_eq!(
        acme.list_snippet_changes()
            .encoded_id(&id)
            .send()
            .await
            .unwrap()
            .size,
        Some(2)
    );
    // JSON deletes a file with `null`: a third revision.
    let without_notes = http
        .put(format!("{url}/{id}"))
        .bearer_auth(&token)
        .json(&json!({ "files": { "notes.md": null } }))
        .send()
        .await
        .unwrap();
    assert_eq!(without_notes.status(), 200);
    let body: Value = without_notes.json().await.unwrap();
    assert_eq!(body["files"].as_object().unwrap().len(), 1);

    // Bad bodies are 400s; multipart/related is not read here.
    for bad in [json!({ "title": 7 }), json!({ "is_private": "maybe" })] {
        let answer = http
            .put(format!("{url}/{id}"))
            .bearer_auth(&token)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
    }
    let related = http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "multipart/related; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(related.status(), 415);

    let listed = acme.list_workspace_snippets().send().await.unwrap();
    assert_eq!(listed.size, Some(1));
    acme.delete_snippet().encoded_id(&id).send().await.unwrap();
    let gone = acme.get_snippet().encoded_id(&id).send().await.unwrap_err();
    assert_eq!(status_of(&gone), 404);
    let nowhere = client
        .workspace("nowhere")
        .list_workspace_snippets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&nowhere), 404);
}

#[allow(deprecated)]
#[tokio::test]
async fn snippet_comments_watchers_and_roles() {
    let bb = LocalBitbucket::start().await;
    let grace = bb.add_account("grace", "Grace Hopper");
    let client = common::admin(&bb);
    let theirs = common::client(
        &bb,
        bitbucket_cloud::Auth::access_token(bb.token_for(&grace, Scope::ALL)),
    );
    // `POST /snippets` creates it in the caller's own workspace.
    let snippet = client
        .create_snippet()
        .body(common::body::<types::Snippet>(
            json!({ "title": "Scratch" }),
        ))
        .send()
        .await
        .unwrap();
    let id = snippet.id.clone().unwrap();
    let owner = serde_json::to_value(&snippet).unwrap()["owner"]["slug"].clone();
    assert_eq!(owner, "ada");
    let ada = client.workspace("ada");
    let as_grace = theirs.workspace("ada");

    let mine = client.list_snippets().role("owner").send().await.unwrap();
    assert_eq!(mine.size, Some(1));
    let not_hers = theirs.list_snippets().role("owner").send().await.unwrap();
    assert_eq!(not_hers.size, Some(0));
    let visible = theirs.list_snippets().send().await.unwrap();
    assert_eq!(visible.size, Some(1));

    // Comments, a reply, and who may change them.
    let comment = as_grace
        .create_snippet_comment()
        .encoded_id(&id)
        .body(common::body::<types::SnippetComment>(
            json!({ "content": { "raw": "Nice" } }),
        ))
        .send()
        .await
        .unwrap();
    let comment_id = comment.id.unwrap();
    let contributed = theirs
        .list_snippets()
        .role("contributor")
        .send()
        .await
        .unwrap();
    assert_eq!(contributed.size, Some(1));
    let reply = ada
        .create_snippet_comment()
        .encoded_id(&id)
        .body(common::body::<types::SnippetComment>(json!({
            "content": { "raw": "Thanks" },
            "parent": { "id": comment_id },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.parent.and_then(|p| p.id), Some(comment_id));
    let not_author = ada
        .update_snippet_comment()
        .encoded_id(&id)
        .comment_id(comment_id)
        .body(common::body::<types::SnippetComment>(
            json!({ "content": { "raw": "Edited" } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&not_author), 403);
    let edited = as_grace
        .update_snippet_comment()
        .encoded_id(&id)
        .comment_id(comment_id)
        .body(common::body::<types::SnippetComment>(
            json!({ "content": { "raw": "Very nice" } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        edited.content.and_then(|c| c.raw).as_deref(),
        Some("Very nice")
    );
    let blank = as_grace
        .create_snippet_comment()
        .encoded_id(&id)
        .body(common::body::<types::SnippetComment>(
            json!({ "content": { "raw": " " } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&blank), 400);
    // The snippet's creator deletes the comment, and its reply goes with it.
    ada.delete_snippet_comment()
        .encoded_id(&id)
        .comment_id(comment_id)
        .send()
        .await
        .unwrap();
    let comments = ada
        .list_snippet_comments()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(comments.size, Some(0));
    let gone = ada
        .get_snippet_comment()
        .encoded_id(&id)
        .comment_id(comment_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);

    // Its creator watches it from the start; others choose to.
    ada.check_snippet_watch()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    let not_watching = as_grace
        .check_snippet_watch()
        .encoded_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&not_watching), 404);
    as_grace
        .watch_snippet()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    as_grace
        .check_snippet_watch()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    let watchers = ada
        .list_snippet_watchers()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(watchers.size, Some(2));
    as_grace
        .unwatch_snippet()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    let watchers = ada
        .list_snippet_watchers()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(watchers.size, Some(1));

    // Scopes: reading needs `snippet`, writing `snippet:write`.
    let reader = common::with_scopes(&bb, &[Scope::Snippet]);
    reader
        .workspace("ada")
        .get_snippet()
        .encoded_id(&id)
        .send()
        .await
        .unwrap();
    let refused = reader
        .workspace("ada")
        .watch_snippet()
        .encoded_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 403);
}
