//! How long reading a whole list takes: a loopback server holding 2,000 items, answering every
//! request after 50 ms (a round trip to Bitbucket), read three ways in one run.
//!
//! ```sh
//! cargo bench --bench pagination            # BENCH_RUNS=9 for more runs
//! ```
//!
//! The physical limit of a way is the time of its round trips that cannot overlap: the first
//! page, then `ceil(remaining pages / concurrency)` rounds.

#[path = "../tests/api/support/list_server.rs"]
mod list_server;

use std::time::{Duration, Instant};

use bitbucket_cloud::Client;
use futures_util::TryStreamExt as _;
use list_server::{Links, List, queries};

const ITEMS: u64 = 2_000;
const DELAY: Duration = Duration::from_millis(50);

struct Way {
    name: &'static str,
    pagelen: u64,
    concurrency: usize,
}

const WAYS: &[Way] = &[
    Way {
        name: "sequential, pagelen 10 (Bitbucket's default; what peers do)",
        pagelen: 10,
        concurrency: 1,
    },
    Way {
        name: "sequential, pagelen 100",
        pagelen: 100,
        concurrency: 1,
    },
    Way {
        name: "stream() (pagelen 100, concurrency 4)",
        pagelen: 100,
        concurrency: 4,
    },
    Way {
        name: "stream().concurrency(8)",
        pagelen: 100,
        concurrency: 8,
    },
];

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let mut list = List::new(ITEMS, Links::Numbered);
    list.delay = DELAY;
    let server = list.serve().await;
    let client = Client::builder()
        .base_url(server.uri())
        .build()
        .expect("a loopback client");
    let requests = || async { queries(&server).await.len() };

    println!(
        "{ITEMS} items, {} ms per response, median of {runs} runs\n",
        DELAY.as_millis()
    );
    println!(
        "| way | requests | wall time (median) | min .. max | physical limit | ratio |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for way in WAYS {
        let mut times = Vec::with_capacity(runs);
        let mut sent = 0;
        for _ in 0..runs {
            let before = requests().await;
            let started = Instant::now();
            let builder = client
                .list_repositories()
                .workspace("ws")
                .pagelen(way.pagelen as i64);
            let items: Vec<_> = builder
                .stream()
                .concurrency(way.concurrency)
                .try_collect()
                .await
                .expect("the list reads");
            times.push(started.elapsed());
            assert_eq!(items.len() as u64, ITEMS);
            sent = requests().await - before;
        }
        times.sort();
        let median = times[runs / 2];
        let pages = ITEMS.div_ceil(way.pagelen);
        let rounds = 1 + (pages - 1).div_ceil(way.concurrency as u64);
        let limit = DELAY * rounds as u32;
        println!(
            "| {} | {sent} | {} | {} .. {} | {} ({rounds} round trips) | {:.2}x |",
            way.name,
            ms(median),
            ms(times[0]),
            ms(times[runs - 1]),
            ms(limit),
            median.as_secs_f64() / limit.as_secs_f64(),
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
