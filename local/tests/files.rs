//! Files, downloads, step logs and diffs (issue 12), through the typed client against the
//! local server: source reads tell files from directories, commits are made from uploaded
//! files, downloads go through a redirect to the storage host on another origin, and a
//! running step's log is tailed as it grows.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitbucket_cloud::audit::{AuditRecord, Purpose};
use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::source::Source;
use bitbucket_cloud::upload::{NewCommit, Upload};
use bitbucket_cloud::{Auth, Client, Error, Scope, types};
use bitbucket_cloud_local::LocalBitbucket;
use futures_util::{StreamExt as _, TryStreamExt as _};

fn audited(bb: &LocalBitbucket) -> (Client, Arc<Mutex<Vec<AuditRecord>>>) {
    let records: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let sink = records.clone();
    let client = Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(Scope::ALL)))
        .retry(RetryConfig::disabled())
        .audit(move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    (client, records)
}

#[tokio::test]
async fn files_and_directories_are_told_apart_and_meta_describes_them() {
    let bb = LocalBitbucket::start().await;
    bb.push(
        "acme",
        "app",
        "main",
        "Initial commit",
        &[
            ("README.md", "# App\n"),
            ("src/lib.rs", "pub fn f() {}\n"),
            ("src/bin/cli.rs", "fn main() {}\n"),
            ("package.json", "{\"name\": \"app\", \"values\": []}\n"),
        ],
    );
    let client = common::admin(&bb);
    let repo = client.repo("acme", "app");

    let Source::File(body) = repo.read_source("main", "src/lib.rs").await.unwrap() else {
        panic!("src/lib.rs is a file")
    };
    assert_eq!(body.text().await.unwrap(), "pub fn f() {}\n");

    // A JSON file is a file, not a listing.
    let file = repo.read_file("main", "package.json").await.unwrap();
    assert_eq!(
        file.text().await.unwrap(),
        "{\"name\": \"app\", \"values\": []}\n"
    );

    let Source::Directory(entries) = repo.read_source("main", "src").await.unwrap() else {
        panic!("src is a directory")
    };
    let listed: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.type_.clone().unwrap(), e.path.clone().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("commit_file".into(), "src/lib.rs".into()),
            ("commit_directory".into(), "src/bin".into()),
        ]
    );
    let root = repo
        .read_source("main", "")
        .await
        .unwrap()
        .into_directory()
        .unwrap();
    assert_eq!(root.len(), 3, "{root:?}");

    let meta = repo.source_meta("main", "src/lib.rs").await.unwrap();
    assert_eq!(meta.type_.as_deref(), Some("commit_file"));
    assert_eq!(meta.extra["size"], 14);
    let meta = repo.source_meta("main", "src/bin").await.unwrap();
    assert_eq!(meta.type_.as_deref(), Some("commit_directory"));

    let error = repo.read_file("main", "src").await.unwrap_err();
    assert!(error.to_string().contains("is a directory"), "{error}");
    let error = repo.read_source("main", "nowhere.txt").await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    let error = repo
        .read_source("main", "src/../../other")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");
}

#[tokio::test]
async fn a_commit_made_from_uploaded_files_is_read_back() {
    let bb = LocalBitbucket::start().await;
    bb.push(
        "acme",
        "app",
        "main",
        "Initial commit",
        &[("old.txt", "old\n"), ("keep.txt", "keep\n")],
    );
    let client = common::admin(&bb);
    let repo = client.repo("acme", "app");
    let dir = std::env::temp_dir().join(format!("bb-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let on_disk = dir.join("notes.md");
    std::fs::write(&on_disk, "from a file\n").unwrap();

    let hash = repo
        .commit_files(
            NewCommit::new("Add docs")
                .branch("main")
                .file("docs/index.md", Upload::bytes("# Docs\n"))
                .file("docs/notes.md", Upload::path(&on_disk))
                .file(
                    "docs/streamed.md",
                    Upload::stream(futures_util::stream::iter([
                        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"stream")),
                        Ok(axum::body::Bytes::from_static(b"ed\n")),
                    ])),
                )
                .delete("old.txt"),
        )
        .await
        .unwrap()
        .expect("the new commit's hash");
    std::fs::remove_dir_all(&dir).unwrap();

    let read = |path: &'static str| {
        let repo = repo.clone();
        async move {
            repo.read_file("main", path)
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(read("docs/index.md").await, "# Docs\n");
    assert_eq!(read("docs/notes.md").await, "from a file\n");
    assert_eq!(read("docs/streamed.md").await, "streamed\n");
    assert_eq!(read("keep.txt").await, "keep\n");
    let gone = repo.read_source(&hash, "old.txt").await.unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    let commit = repo.get_commit().commit(&hash).send().await.unwrap();
    assert_eq!(commit.message.as_deref(), Some("Add docs"));

    // The patch of the commit, and the diff against its parent.
    let patch = repo.get_patch().spec(&hash).send().await.unwrap();
    assert!(patch.contains("Subject: [PATCH] Add docs"), "{patch}");
    let diff = repo
        .get_diff()
        .spec(format!(
            "{hash}..{}",
            &commit.parents.unwrap()[0].hash.clone().unwrap()
        ))
        .send_streaming()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(diff.contains("+++ b/docs/index.md"), "{diff}");
    assert!(
        diff.contains("deleted file mode 100644\n--- a/old.txt"),
        "{diff}"
    );
}

#[tokio::test]
async fn a_download_is_uploaded_then_fetched_through_the_storage_redirect() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let (client, records) = audited(&bb);
    let repo = client.repo("acme", "app");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    repo.upload_download_file(Upload::bytes(content.clone()).file_name("app-1.0.tar.gz"))
        .await
        .unwrap();

    let listed = repo.list_downloads().send().await.unwrap();
    assert_eq!(
        listed.values.unwrap()[0].name.as_deref(),
        Some("app-1.0.tar.gz")
    );

    let mut body = repo
        .get_download()
        .filename("app-1.0.tar.gz")
        .send_streaming()
        .await
        .unwrap();
    let mut received = Vec::new();
    while let Some(chunk) = body.chunk().await.unwrap() {
        received.extend_from_slice(&chunk);
    }
    assert_eq!(received, content);

    let records = records.lock().unwrap();
    let storage = records
        .iter()
        .find(|r| r.purpose == Purpose::Storage)
        .expect("a storage record");
    assert!(
        storage.path.starts_with(bb.storage_origin()),
        "{}",
        storage.path
    );
    assert!(!storage.path.contains("Signature"), "{}", storage.path);
    assert_ne!(bb.storage_origin(), bb.base_url().trim_end_matches("/2.0"));
    assert!(storage.succeeded(), "{storage}");
}

#[tokio::test]
async fn a_running_steps_log_is_tailed_until_the_step_ends() {
    let bb = LocalBitbucket::start().await;
    bb.push(
        "acme",
        "app",
        "main",
        "Initial commit",
        &[
            ("Makefile", "test:\n"),
            // Each read of a pipeline or its steps moves it one state: the tail follows the
            // middle step, which runs while the tail's first round reads it.
            (
                "bitbucket-pipelines.yml",
                "pipelines:\n  default:\n    - step:\n        name: Build\n        script:\n          - make\n    - step:\n        name: Test\n        script:\n          - make test\n    - step:\n        name: Package\n        script:\n          - make dist\n",
            ),
        ],
    );
    let (client, records) = audited(&bb);
    let repo = client.repo("acme", "app");
    let pipeline = repo
        .run_pipeline()
        .body(common::body::<types::Pipeline>(serde_json::json!({
            "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main" }
        })))
        .send()
        .await
        .unwrap();
    let pipeline_uuid = pipeline.uuid.unwrap();
    let steps = repo
        .list_pipeline_steps()
        .pipeline_uuid(&pipeline_uuid)
        .send()
        .await
        .unwrap();
    let step_uuid = steps.values.unwrap()[1].uuid.clone().unwrap();

    let pieces: Vec<String> = repo
        .tail_pipeline_step_log(&pipeline_uuid, &step_uuid)
        .interval(Duration::from_millis(10))
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let whole: String = pieces.concat();
    assert!(pieces.len() >= 2, "{pieces:?}");
    assert!(whole.starts_with("+ git clone"), "{whole}");
    assert!(whole.ends_with("Build finished: SUCCESSFUL\n"), "{whole}");
    // Each piece is new text: nothing is repeated.
    assert_eq!(whole.matches("+ make test").count(), 1, "{whole}");

    // The whole log afterwards, through the storage redirect, is what the tail gave.
    let log = repo
        .get_pipeline_step_log()
        .pipeline_uuid(&pipeline_uuid)
        .step_uuid(&step_uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(log, whole);
    // The build container's log is the step's; a step has no other containers.
    let container = repo
        .get_pipeline_step_container_log()
        .pipeline_uuid(&pipeline_uuid)
        .step_uuid(&step_uuid)
        .log_uuid(&step_uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(container, whole);
    let error = repo
        .get_pipeline_step_container_log()
        .pipeline_uuid(&pipeline_uuid)
        .step_uuid(&step_uuid)
        .log_uuid("{00000000-0000-0000-0000-000000000000}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    // The last round of the tail asked storage for the part after what it had read.
    assert!(
        records
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.purpose == Purpose::Storage),
        "the finished log came from storage"
    );

    // A tail of a finished step reads it once, whole, and ends.
    let again: Vec<String> = repo
        .tail_pipeline_step_log(&pipeline_uuid, &step_uuid)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(again.concat(), whole);
    let mut stream = repo
        .tail_pipeline_step_log(&pipeline_uuid, "{00000000-0000-0000-0000-000000000000}")
        .into_stream();
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn the_storage_host_refuses_credentials() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = common::admin(&bb);
    let repo = client.repo("acme", "app");
    repo.upload_download_file(Upload::bytes("x").file_name("x.bin"))
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let _ = common::http();
    let answer = http
        .get(format!(
            "{}/repositories/acme/app/downloads/x.bin",
            bb.base_url()
        ))
        .bearer_auth(bb.token(Scope::ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(bb.storage_origin()), "{location}");
    let with_credentials = http
        .get(&location)
        .bearer_auth("token")
        .send()
        .await
        .unwrap();
    assert_eq!(with_credentials.status(), 400);
    let without = http.get(&location).send().await.unwrap();
    assert_eq!(without.status(), 200);
    assert_eq!(&without.bytes().await.unwrap()[..], b"x");
}

#[tokio::test]
async fn the_source_root_lists_the_main_branch_head() {
    let bb = LocalBitbucket::start().await;
    bb.push(
        "acme",
        "app",
        "main",
        "Initial commit",
        &[("README.md", "# App\n"), ("src/lib.rs", "pub fn f() {}\n")],
    );
    bb.push("acme", "app", "other", "Elsewhere", &[("other.txt", "x\n")]);
    let client = common::admin(&bb);
    // A repository created through the API has no commits, so no main branch to list.
    client
        .repo("acme", "empty")
        .create_repository()
        .body(common::body::<types::Repository>(
            serde_json::json!({ "scm": "git" }),
        ))
        .send()
        .await
        .unwrap();
    let repo = client.repo("acme", "app");
    let root = repo.get_source_root().send().await.unwrap();
    let paths: Vec<String> = root
        .values
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["path"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(paths, ["README.md", "src"]);
    // The same listing as the head's own, page by page.
    let all: Vec<_> = repo
        .get_source_root()
        .pagelen(1)
        .send()
        .await
        .unwrap()
        .values
        .unwrap();
    assert_eq!(all.len(), 1);
    let error = client
        .repo("acme", "empty")
        .get_source_root()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    let error = client
        .repo("acme", "nope")
        .get_source_root()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_files_history_follows_it_across_a_rename() {
    let bb = LocalBitbucket::start().await;
    bb.push(
        "acme",
        "app",
        "main",
        "Add notes",
        &[("notes.txt", "one\n")],
    );
    bb.push("acme", "app", "main", "Unrelated", &[("other.txt", "x\n")]);
    let client = common::admin(&bb);
    let repo = client.repo("acme", "app");
    // A rename: the new name added with the old one's content, the old one deleted.
    repo.commit_files(
        NewCommit::new("Rename the notes")
            .branch("main")
            .file("NOTES.md", Upload::bytes("one\n"))
            .delete("notes.txt"),
    )
    .await
    .unwrap();
    repo.commit_files(
        NewCommit::new("Edit the notes")
            .branch("main")
            .file("NOTES.md", Upload::bytes("one\ntwo\n")),
    )
    .await
    .unwrap();

    let history = repo
        .list_file_history()
        .commit("main")
        .path("NOTES.md")
        .send()
        .await
        .unwrap();
    let entries: Vec<serde_json::Value> = history
        .values
        .unwrap()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    let seen: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap(),
                e["commit"]["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("NOTES.md", "Edit the notes"),
            ("NOTES.md", "Rename the notes"),
            ("notes.txt", "Add notes"),
        ]
    );
    assert_eq!(entries[0]["type"], "commit_file");
    assert_eq!(entries[0]["size"], 8);

    let without_renames = repo
        .list_file_history()
        .commit("main")
        .path("NOTES.md")
        .renames("false")
        .send()
        .await
        .unwrap();
    assert_eq!(without_renames.values.unwrap().len(), 2);
    // `q` filters on the commit, as the document's example does.
    let filtered = repo
        .list_file_history()
        .commit("main")
        .path("NOTES.md")
        .q("commit.message ~ \"notes\" AND path = \"notes.txt\"")
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.values.unwrap().len(), 1);

    let missing = repo
        .list_file_history()
        .commit("main")
        .path("nowhere.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
    let missing = repo
        .list_file_history()
        .commit("0000000")
        .path("NOTES.md")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_pull_requests_diff_and_patch_redirect_to_the_repositorys() {
    let bb = LocalBitbucket::start().await;
    bb.push("acme", "app", "main", "Initial commit", &[("a.txt", "a\n")]);
    bb.push("acme", "app", "feature", "Change a", &[("a.txt", "b\n")]);
    bb.push("acme", "app", "feature", "Add c", &[("c.txt", "c\n")]);
    // The destination moves on: the pull request's diff is against the merge base.
    bb.push("acme", "app", "main", "Elsewhere", &[("z.txt", "z\n")]);
    let (client, records) = audited(&bb);
    let repo = client.repo("acme", "app");
    repo.create_pull_request()
        .body(common::body::<types::PullRequest>(serde_json::json!({
            "title": "Feature",
            "source": { "branch": { "name": "feature" } },
        })))
        .send()
        .await
        .unwrap();

    let patch = repo
        .get_pull_request_patch()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let subjects: Vec<&str> = patch
        .lines()
        .filter(|l| l.starts_with("Subject:"))
        .collect();
    assert_eq!(
        subjects,
        ["Subject: [PATCH] Change a", "Subject: [PATCH] Add c"]
    );
    let diff = repo
        .get_pull_request_diff()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert!(diff.contains("-a\n+b\n"), "{diff}");
    assert!(diff.contains("+++ b/c.txt"), "{diff}");
    assert!(!diff.contains("z.txt"), "{diff}");
    // Each was one redirect, followed as the repository's operation.
    let served: Vec<(&str, u16)> = bb
        .requests()
        .iter()
        .map(|r| (r.operation, r.status))
        .filter(|(op, _)| op.contains("patch") || op.contains("diff"))
        .collect();
    assert_eq!(
        served,
        [
            ("get_pull_request_patch", 302),
            ("get_patch", 200),
            ("get_pull_request_diff", 302),
            ("get_diff", 200),
        ]
    );
    assert!(records.lock().unwrap().len() >= 4);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let _ = common::http();
    let answer = http
        .get(format!(
            "{}/repositories/acme/app/pullrequests/1/diff",
            bb.base_url()
        ))
        .bearer_auth(bb.token(Scope::ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("/repositories/acme/app/diff/acme/app:")
            && location.contains("%0D")
            && location.ends_with("?from_pullrequest_id=1&topic=true"),
        "{location}"
    );
    let missing = repo
        .get_pull_request_patch()
        .pull_request_id(9)
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
}
