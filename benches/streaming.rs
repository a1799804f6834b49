//! Memory while streaming (issue 12): a 200 MB download (through a redirect to a storage
//! host on a second loopback origin) and a 200 MB step log, read with `send_streaming()` and
//! counted chunk by chunk. Prints the peak resident memory above the baseline for each, and,
//! for contrast, for the same download read whole with `send()`.
//!
//! `cargo bench --bench streaming` (a plain program: `cargo test` does not run it). Linux
//! only: it reads `/proc/self/status` and resets the peak with `/proc/self/clear_refs`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bitbucket_cloud::{Client, ClientBuilder};

/// What each answer streams.
const TOTAL: u64 = 200 * 1000 * 1000;
const CHUNK: usize = 64 * 1024;
/// Runs of each measurement; the median is printed.
const RUNS: usize = 3;

/// `TOTAL` bytes of `line`, repeated, generated as they are sent (the server holds one chunk).
fn generated(line: &'static [u8]) -> Response {
    let chunk = Bytes::from(line.repeat(CHUNK / line.len()));
    let chunks = TOTAL.div_ceil(chunk.len() as u64);
    let last = TOTAL - (chunks - 1) * chunk.len() as u64;
    let stream = futures_util::stream::iter((0..chunks).map(move |i| {
        let piece = if i + 1 == chunks {
            chunk.slice(..last as usize)
        } else {
            chunk.clone()
        };
        Ok::<_, std::io::Error>(piece)
    }));
    (
        StatusCode::OK,
        [(header::CONTENT_LENGTH, TOTAL.to_string())],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Kilobytes of `field` (`VmRSS`, `VmHWM`) in `/proc/self/status`.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident size (`VmHWM`) to the current one.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("Linux's /proc/self/clear_refs");
}

/// One run: MB of peak RSS above the RSS before, MB read, seconds.
type Run = (f64, f64, f64);

/// Runs `read` and measures it.
async fn measure<F, Fut>(read: F) -> Run
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let baseline = status_kb("VmRSS");
    reset_peak();
    let started = Instant::now();
    let bytes = read().await;
    let seconds = started.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM");
    assert_eq!(bytes, TOTAL, "the whole answer was read");
    (
        peak.saturating_sub(baseline) as f64 / 1024.0,
        bytes as f64 / 1e6,
        seconds,
    )
}

async fn streamed(body: bitbucket_cloud::body::Body) -> u64 {
    let mut body = body;
    let mut bytes = 0u64;
    while let Some(chunk) = body.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
    }
    bytes
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let storage = serve(Router::new().route(
        "/objects/big.bin",
        axum::routing::get(|| async { generated(b"0123456789abcdef") }),
    ))
    .await;
    let api = serve(
        Router::new()
            .route(
                "/2.0/repositories/ws/app/downloads/big.bin",
                axum::routing::get(move || async move {
                    (
                        StatusCode::FOUND,
                        [(
                            header::LOCATION,
                            format!("http://{storage}/objects/big.bin?Signature=x"),
                        )],
                    )
                }),
            )
            .route(
                "/2.0/repositories/ws/app/pipelines/{p}/steps/{s}/log",
                axum::routing::get(|| async { generated(b"+ make test: 1234 tests passed\n") }),
            ),
    )
    .await;
    let client: Client = ClientBuilder::default()
        .base_url(format!("http://{api}/2.0"))
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .unwrap();
    let repo = client.repo("ws", "app");

    // Warm up: the connection pools, the runtime, the allocator's first arenas.
    streamed(
        repo.get_download()
            .filename("big.bin")
            .send_streaming()
            .await
            .unwrap(),
    )
    .await;

    println!(
        "peak RSS above the baseline, median of {RUNS} runs, {} MB each",
        TOTAL / 1_000_000
    );
    println!("{:<44} {:>10} {:>10}", "read", "peak (MB)", "MB/s");
    let mut rows: Vec<(&str, Vec<Run>)> = Vec::new();
    let mut download = Vec::new();
    let mut log = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..RUNS {
        download.push(
            measure(|| async {
                streamed(
                    repo.get_download()
                        .filename("big.bin")
                        .send_streaming()
                        .await
                        .unwrap(),
                )
                .await
            })
            .await,
        );
        log.push(
            measure(|| async {
                streamed(
                    repo.get_pipeline_step_log()
                        .pipeline_uuid("{p}")
                        .step_uuid("{s}")
                        .send_streaming()
                        .await
                        .unwrap(),
                )
                .await
            })
            .await,
        );
    }
    // For contrast, once: the same download read whole.
    whole.push(
        measure(|| async {
            repo.get_download()
                .filename("big.bin")
                .send()
                .await
                .unwrap()
                .len() as u64
        })
        .await,
    );
    rows.push(("download, send_streaming() (via storage)", download));
    rows.push(("step log, send_streaming()", log));
    rows.push(("download, send() (read whole, contrast)", whole));
    for (name, runs) in rows {
        let peak = median(runs.iter().map(|r| r.0).collect());
        let rate = median(runs.iter().map(|r| r.1 / r.2).collect());
        println!("{name:<44} {peak:>10.1} {rate:>10.0}");
    }
}
