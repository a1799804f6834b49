//! Whatever arrives, nothing panics: random and mutated bodies, headers and secrets go through
//! `verify`, `Event::parse` and `Delivery::from_request`, which answer `Ok` or `Err`.
//!
//! The inputs come from a fixed seed, so a failure names the case that reproduces it.

use crate::support;

use std::panic::{AssertUnwindSafe, catch_unwind};

use bitbucket_cloud::webhooks::{self, Delivery, Event, WebhookSecret};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// xorshift64*: small, deterministic, good enough to pick inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Runs `case` and reports the seed and case number if it panics.
fn check(seed: u64, i: usize, case: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(case)).is_err() {
        panic!("case {i} of seed {seed:#x} panicked");
    }
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    support::webhook_fixtures()
        .into_iter()
        .map(|(key, path)| (key, support::read(&path)))
        .collect()
}

/// A random JSON value, at most `depth` deep.
fn random_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.next().is_multiple_of(2)),
        2 => Value::from(rng.next() as i64),
        3 => Value::from(f64::from(rng.next() as u32) / 7.0),
        4 => Value::String(String::from_utf8_lossy(&rng.bytes(12)).into_owned()),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|_| {
                    let key = (*rng.pick(&["type", "id", "hash", "links", "new", "href", "x"]))
                        .to_string();
                    (key, random_json(rng, depth - 1))
                })
                .collect(),
        ),
    }
}

/// Replaces one random node of `value` (possibly the root) with random JSON.
fn mutate(rng: &mut Rng, value: &mut Value) {
    let children = match value {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    if children == 0 || rng.below(4) == 0 {
        *value = random_json(rng, 3);
        return;
    }
    let at = rng.below(children);
    match value {
        Value::Object(map) => {
            let child = map.values_mut().nth(at).expect("in range");
            mutate(rng, child);
        }
        Value::Array(items) => mutate(rng, &mut items[at]),
        _ => unreachable!(),
    }
}

/// A body, with the key of the fixture it was made from: random bytes, a fixture with bytes
/// flipped, cut or repeated, or a fixture whose JSON has random nodes replaced.
fn random_body(rng: &mut Rng, fixtures: &[(String, Vec<u8>)]) -> (String, Vec<u8>) {
    let (own, original) = rng.pick(fixtures);
    let body = match rng.below(5) {
        0 => rng.bytes(256),
        1 => {
            let mut body = original.clone();
            for _ in 0..=rng.below(8) {
                let at = rng.below(body.len());
                body[at] = rng.next() as u8;
            }
            body
        }
        2 => original[..rng.below(original.len())].to_vec(),
        3 => {
            let mut body = original.clone();
            let from = rng.below(body.len());
            let to = from + rng.below(body.len() - from);
            let copy = body[from..to].to_vec();
            body.splice(from..from, copy);
            body
        }
        _ => {
            let mut value: Value = serde_json::from_slice(original).expect("fixtures are JSON");
            for _ in 0..=rng.below(4) {
                mutate(rng, &mut value);
            }
            serde_json::to_vec(&value).unwrap()
        }
    };
    (own.clone(), body)
}

/// Random bytes, the key of the body's fixture, or any typed key (which a body of another
/// event does not fit).
fn random_key(rng: &mut Rng, own: &str) -> String {
    match rng.below(4) {
        0 => String::from_utf8_lossy(&rng.bytes(24)).into_owned(),
        1 => rng.pick(Event::TYPED_KEYS).to_string(),
        _ => own.to_string(),
    }
}

fn random_signature(rng: &mut Rng, secret: &str, body: &[u8]) -> Vec<u8> {
    let good = webhooks::sign(secret, body).into_bytes();
    match rng.below(5) {
        0 => rng.bytes(80),
        1 => {
            let mut header = good;
            let at = rng.below(header.len());
            header[at] = rng.next() as u8;
            header
        }
        2 => good[..rng.below(good.len())].to_vec(),
        _ => good,
    }
}

#[test]
fn arbitrary_signatures_never_panic() {
    let seed = 0x5eed_0001;
    let mut rng = Rng(seed);
    let fixtures = fixtures();
    for i in 0..4000 {
        let secret = String::from_utf8_lossy(&rng.bytes(40)).into_owned();
        let (_, body) = random_body(&mut rng, &fixtures);
        let header = random_signature(&mut rng, &secret, &body);
        check(seed, i, || {
            let header = String::from_utf8_lossy(&header);
            let _ = webhooks::verify(&secret, &body, Some(&header));
            let _ = webhooks::verify(&secret, &body, None);
        });
    }
}

#[test]
fn a_signature_verifies_only_its_own_body() {
    let seed = 0x5eed_0002;
    let mut rng = Rng(seed);
    for i in 0..2000 {
        let mut secret = rng.bytes(100);
        secret.push(1); // not empty
        let body = rng.bytes(300);
        let header = webhooks::sign(&secret, &body);
        check(seed, i, || {
            assert_eq!(webhooks::verify(&secret, &body, Some(&header)), Ok(()));
            let mut other = body.clone();
            if other.is_empty() {
                other.push(0);
            } else {
                let at = other.len() - 1;
                other[at] ^= 1 << (i % 8);
            }
            assert!(webhooks::verify(&secret, &other, Some(&header)).is_err());
        });
    }
}

#[test]
fn arbitrary_bodies_never_panic_and_what_parses_encodes() {
    let seed = 0x5eed_0003;
    let mut rng = Rng(seed);
    let fixtures = fixtures();
    let (mut parsed, mut typed) = (0, 0);
    for i in 0..6000 {
        let (own, body) = random_body(&mut rng, &fixtures);
        let key = random_key(&mut rng, &own);
        check(seed, i, || {
            if let Ok(event) = Event::parse(&key, &body) {
                parsed += 1;
                typed += usize::from(!matches!(event, Event::Unknown { .. }));
                let _ = (event.key(), event.actor(), event.repository());
                serde_json::to_vec(&event).expect("a parsed event encodes");
            }
        });
    }
    // The mutations keep many bodies valid, so the typed decoding is exercised too (a body
    // under another event's key is refused, so fewer parse than there are valid bodies).
    eprintln!("{parsed} parsed, {typed} typed");
    assert!(parsed > 300, "only {parsed} bodies parsed");
    assert!(typed > 60, "only {typed} bodies parsed typed");
}

#[test]
fn deeply_nested_bodies_are_refused_not_overflowed() {
    for key in ["repo:push", "made:up"] {
        let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(Event::parse(key, body.as_bytes()).is_err());
        let body = format!(
            "{{\"push\": {}{}}}",
            "{\"changes\": ".repeat(50_000),
            "}".repeat(50_000)
        );
        assert!(Event::parse(key, body.as_bytes()).is_err());
    }
}

#[test]
fn arbitrary_requests_never_panic() {
    let seed = 0x5eed_0004;
    let mut rng = Rng(seed);
    let fixtures = fixtures();
    let secret = WebhookSecret::new("s3cr3t");
    let names = [
        "x-event-key",
        "x-hub-signature",
        "x-request-uuid",
        "x-hook-uuid",
        "x-attempt-number",
    ];
    let mut delivered = 0;
    for i in 0..4000 {
        // A third of the requests carry a payload intact, with its own key.
        let (body, key) = if rng.below(3) == 0 {
            let (key, body) = rng.pick(&fixtures);
            (body.clone(), key.clone())
        } else {
            let (own, body) = random_body(&mut rng, &fixtures);
            let key = random_key(&mut rng, &own);
            (body, key)
        };
        let mut headers = HeaderMap::new();
        for name in names {
            let value = match (name, rng.below(8)) {
                (_, 0) => continue,
                ("x-event-key", _) => key.clone().into_bytes(),
                ("x-hub-signature", _) => random_signature(&mut rng, "s3cr3t", &body),
                ("x-attempt-number", 1) => (rng.next() % 5).to_string().into_bytes(),
                _ => rng.bytes(40),
            };
            // Header values cannot hold every byte; what cannot be sent is not tested.
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        check(seed, i, || {
            if Delivery::from_request(&headers, &body, &secret).is_ok() {
                delivered += 1;
            }
        });
    }
    // Enough requests pass the signature and parse to exercise the whole path.
    assert!(delivered > 100, "only {delivered} requests were deliveries");
}
