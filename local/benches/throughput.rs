//! How fast a `LocalBitbucket` starts and serves, and whether concurrent writers stay correct.
//!
//! ```sh
//! cargo bench -p bitbucket-cloud-local --bench throughput    # BENCH_RUNS=9 for more runs
//! ```
//!
//! Everything runs in this process on a Tokio runtime with 2 worker threads, the clients
//! included, so the requests per second are what 2 cores give server and clients together.
//!
//! 1. **Start-up**: `LocalBitbucket::start()` until it returns, and until a first request is
//!    answered (a fresh server each time).
//! 2. **Simple requests**: `GET /repositories/acme/app` with a token, from 16 keep-alive
//!    clients at once, for 2 s per run.
//! 3. **Concurrent writers**: 16 clients each create 50 pull request comments and 50 issues at
//!    once, while 4 others read; then the server must hold every comment and issue, each id
//!    given once. A lost update or a duplicate id fails the benchmark (exit status 1).
//!
//! Each figure is the median of the runs, with the lowest and highest beside it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bitbucket_cloud::Scope;
use bitbucket_cloud_local::LocalBitbucket;
use serde_json::{Value, json};

const CLIENTS: usize = 16;
const SIMPLE_FOR: Duration = Duration::from_secs(2);
const WRITERS: usize = 16;
const WRITES_EACH: usize = 50;
const READERS: usize = 4;

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let ok = runtime.block_on(measure(runs));
    if !ok {
        std::process::exit(1);
    }
}

async fn measure(runs: usize) -> bool {
    println!("bitbucket-cloud-local: {runs} runs each, 2 worker threads (server and clients)\n");

    // Warm up the allocator, the HTTP stack and the first-use paths.
    let _ = start_and_answer().await;

    let mut started = Vec::new();
    let mut answered = Vec::new();
    for _ in 0..runs.max(5) * 4 {
        let (start, first) = start_and_answer().await;
        started.push(start);
        answered.push(first);
    }
    row("start()", &ms(&started), "ms", "goal: under 50 ms");
    row("start() to a first answer", &ms(&answered), "ms", "");

    let mut rates = Vec::new();
    for _ in 0..runs {
        rates.push(simple_requests().await);
    }
    row(
        &format!("simple requests, {CLIENTS} clients"),
        &rates,
        "req/s",
        "goal: at least 2,000",
    );

    let mut writes = Vec::new();
    let mut correct = true;
    for _ in 0..runs {
        match concurrent_writers().await {
            Ok(rate) => writes.push(rate),
            Err(problem) => {
                println!("concurrent writers: WRONG: {problem}");
                correct = false;
            }
        }
    }
    if !writes.is_empty() {
        row(
            &format!("writes, {WRITERS} writers and {READERS} readers"),
            &writes,
            "writes/s",
            "",
        );
    }
    println!(
        "\nconcurrent writers: {}",
        if correct {
            format!(
                "correct in every run ({} comments and {} issues per run, no update lost, no id given twice)",
                WRITERS * WRITES_EACH,
                WRITERS * WRITES_EACH
            )
        } else {
            "INCORRECT (see above)".to_string()
        }
    );
    correct
}

/// A client for loopback (rustls is reqwest's TLS here, and it needs a provider installed).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("a client")
}

/// Starts a server; how long `start()` took, and how long until it answered a request.
async fn start_and_answer() -> (Duration, Duration) {
    let http = http();
    let begin = Instant::now();
    let bb = LocalBitbucket::start().await;
    let started = begin.elapsed();
    let token = bb.token(&[Scope::Account]);
    let status = http
        .get(format!("{}/user", bb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("an answer")
        .status();
    let answered = begin.elapsed();
    assert_eq!(status.as_u16(), 200);
    (started, answered)
}

/// Requests per second of `GET /repositories/acme/app`, from `CLIENTS` clients at once.
async fn simple_requests() -> f64 {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let url = format!("{}/repositories/acme/app", bb.base_url());
    let token = bb.token(&[Scope::Repository]);
    let http = http();
    let deadline = Instant::now() + SIMPLE_FOR;
    let begin = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let response = http
                        .get(&url)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("an answer");
                    assert_eq!(response.status().as_u16(), 200);
                    response.bytes().await.expect("a body");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("a client");
    }
    total as f64 / begin.elapsed().as_secs_f64()
}

/// `WRITERS` clients create comments on one pull request and issues in one repository while
/// `READERS` list them; then every write must be there, each id once. Writes per second.
async fn concurrent_writers() -> Result<f64, String> {
    let bb = LocalBitbucket::start().await;
    bb.push("acme", "app", "feature", "Add a file", &[("a.txt", "a\n")]);
    let api = bb.base_url();
    let token = bb.token(&[Scope::PullrequestWrite, Scope::IssueWrite]);
    let http = http();
    let pulls = format!("{api}/repositories/acme/app/pullrequests");
    let feature = json!({ "title": "Feature", "source": { "branch": { "name": "feature" } } });
    let pr = create(&http, &token, &pulls, feature).await?;
    let comments = format!("{api}/repositories/acme/app/pullrequests/{pr}/comments");
    let issues = format!("{api}/repositories/acme/app/issues");

    let begin = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (http, token, comments, issues) = (
                http.clone(),
                token.clone(),
                comments.clone(),
                issues.clone(),
            );
            tokio::spawn(async move {
                let mut ids = (Vec::new(), Vec::new());
                for i in 0..WRITES_EACH {
                    let comment = json!({ "content": { "raw": format!("{w}/{i}") } });
                    ids.0.push(create(&http, &token, &comments, comment).await?);
                    let issue = json!({ "title": format!("{w}/{i}") });
                    ids.1.push(create(&http, &token, &issues, issue).await?);
                }
                Ok::<_, String>(ids)
            })
        })
        .collect();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (http, token, comments) = (http.clone(), token.clone(), comments.clone());
            tokio::spawn(async move {
                for _ in 0..WRITES_EACH {
                    let response = http
                        .get(format!("{comments}?pagelen=100"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                    if let Ok(response) = response {
                        let _ = response.bytes().await;
                    }
                }
            })
        })
        .collect();
    let mut comment_ids = Vec::new();
    let mut issue_ids = Vec::new();
    for writer in writers {
        let (c, i) = writer.await.map_err(|e| e.to_string())??;
        comment_ids.extend(c);
        issue_ids.extend(i);
    }
    let elapsed = begin.elapsed();
    for reader in readers {
        reader.await.map_err(|e| e.to_string())?;
    }

    let expected = WRITERS * WRITES_EACH;
    for (what, ids) in [("comment", &comment_ids), ("issue", &issue_ids)] {
        let distinct: HashSet<_> = ids.iter().collect();
        if distinct.len() != expected {
            return Err(format!(
                "{} {what} ids for {expected} writes: an id was given twice",
                distinct.len()
            ));
        }
    }
    let count = |url: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let page: Value = http
                .get(url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            page["size"]
                .as_u64()
                .ok_or_else(|| format!("no size in {page}"))
        }
    };
    let held = (
        count(format!("{comments}?pagelen=1")).await?,
        count(format!("{issues}?pagelen=1")).await?,
    );
    if held != (expected as u64, expected as u64) {
        return Err(format!(
            "the server holds {} comments and {} issues after {expected} of each: updates were lost",
            held.0, held.1
        ));
    }
    Ok((2 * expected) as f64 / elapsed.as_secs_f64())
}

/// POSTs `body` to `url`; the id of what was created.
async fn create(
    http: &reqwest::Client,
    token: &str,
    url: &str,
    body: Value,
) -> Result<u64, String> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let created: Value = response.json().await.map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("{url} answered {status}: {created}"));
    }
    created["id"]
        .as_u64()
        .ok_or_else(|| format!("no id in {created}"))
}

fn ms(durations: &[Duration]) -> Vec<f64> {
    durations.iter().map(|d| d.as_secs_f64() * 1000.0).collect()
}

/// Prints the median of `values`, with the lowest and highest.
fn row(what: &str, values: &[f64], unit: &str, goal: &str) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    let precision = if unit == "ms" { 2 } else { 0 };
    println!(
        "{what:<45} median {median:>9.precision$} {unit:<8} (min {low:.precision$}, max {high:.precision$}, {} runs)  {goal}",
        values.len()
    );
}
