//! What is not JSON: repository downloads, issue attachments, pipeline step logs, and the
//! storage host they are served from. Bitbucket answers a download (an attachment, a finished
//! step's log) with a redirect to a storage host on another origin; so does this server, to a second loopback listener that
//! serves each blob under a one-time-looking signed name, refuses requests that carry
//! credentials (a client must not send them there), and honours `Range`.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

use crate::{ids, lock};

/// A file uploaded to a repository's downloads.
#[derive(Clone, Debug)]
pub(crate) struct Download {
    pub content: Bytes,
    /// Index into `Store::users`.
    pub uploader: usize,
    pub created_on: String,
    /// How many times it was downloaded.
    pub downloads: u64,
}

/// The log of a pipeline's step.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepLog {
    pub text: String,
    /// Lines written while the step ran.
    pub lines: u64,
    /// Whether the step's end is written: the log no longer grows.
    pub sealed: bool,
}

/// The blobs of every repository, by repository `{uuid}`.
#[derive(Debug, Default)]
pub(crate) struct Blobs {
    /// (repository uuid, file name) → download.
    pub downloads: HashMap<(String, String), Download>,
    /// Step uuid → its log.
    pub logs: HashMap<String, StepLog>,
    /// (repository uuid, issue id, file name) → an issue's attachment.
    pub attachments: BTreeMap<(String, u64, String), Attachment>,
}

/// A file attached to an issue.
#[derive(Clone, Debug)]
pub(crate) struct Attachment {
    pub content: Bytes,
    pub created_on: String,
}

impl Blobs {
    /// The log of step `step_uuid`, created empty when missing.
    pub fn log(&mut self, step_uuid: &str) -> &mut StepLog {
        self.logs.entry(step_uuid.to_string()).or_default()
    }
}

/// The storage host: signed name → blob, served by [`router`].
#[derive(Debug, Default)]
pub(crate) struct Storage {
    objects: Mutex<HashMap<String, Object>>,
    /// Where [`router`] listens: `http://127.0.0.1:{port}`.
    pub origin: String,
}

#[derive(Clone, Debug)]
struct Object {
    content: Bytes,
    content_type: &'static str,
    created: std::time::Instant,
}

/// How long a signed storage URL serves its blob.
const SIGNED_URL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(600);

impl Storage {
    pub fn new(origin: String) -> Storage {
        Storage {
            objects: Mutex::default(),
            origin,
        }
    }

    /// Puts `content` on the storage host; returns its signed URL (valid for ten minutes).
    pub fn sign(&self, name: &str, content: Bytes, content_type: &'static str) -> String {
        let signature = ids::hex(&ids::commit_hash().into_bytes()[..16]);
        let key = format!("{}/{}", ids::commit_hash(), name.replace('/', "_"));
        let mut objects = lock(&self.objects);
        objects.retain(|_, o| o.created.elapsed() < SIGNED_URL_LIFETIME);
        objects.insert(
            key.clone(),
            Object {
                content,
                content_type,
                created: std::time::Instant::now(),
            },
        );
        let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
        format!(
            "{}/objects/{key}?response-content-disposition=attachment%3B%20filename%3D{encoded}\
             &Signature={signature}&Expires={}",
            self.origin,
            SIGNED_URL_LIFETIME.as_secs()
        )
    }
}

/// The storage host's routes: `GET /objects/{key}/{name}`.
pub(crate) fn router(storage: Arc<Storage>) -> Router {
    Router::new()
        .route(
            "/objects/{key}/{name}",
            axum::routing::get(object).head(object),
        )
        .with_state(storage)
}

async fn object(
    State(storage): State<Arc<Storage>>,
    Path((key, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        // S3 refuses a second authentication mechanism; a client must not send its
        // Bitbucket credentials here anyway.
        return (
            StatusCode::BAD_REQUEST,
            "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; \
             the request carries an Authorization header</Message></Error>",
        )
            .into_response();
    }
    let found = lock(&storage.objects)
        .get(&format!("{key}/{name}"))
        .filter(|o| o.created.elapsed() < SIGNED_URL_LIFETIME)
        .cloned();
    let Some(object) = found else {
        return (
            StatusCode::FORBIDDEN,
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        )
            .into_response();
    };
    ranged(&headers, object.content, object.content_type)
}

/// An empty tar archive (two zero blocks), gzipped: a deflate stream of one stored block, so
/// nothing needs compressing, with its CRC-32 and length as gzip ends.
pub(crate) fn empty_tar_gz() -> Bytes {
    const TAR: [u8; 1024] = [0; 1024];
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // A final stored block: its length and the length's complement, little-endian.
    let len = TAR.len() as u16;
    out.push(1);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&TAR);
    out.extend_from_slice(&crc32(&TAR).to_le_bytes());
    out.extend_from_slice(&(TAR.len() as u32).to_le_bytes());
    Bytes::from(out)
}

/// The CRC-32 (IEEE) of `data`, bit by bit: it runs on a kilobyte per archive.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `content` as an answer to a request with `headers`: whole (200), or the part a
/// `Range: bytes=N-` or `bytes=N-M` asks for (206), or 416 when it starts past the end.
pub(crate) fn ranged(headers: &HeaderMap, content: Bytes, content_type: &'static str) -> Response {
    let total = content.len();
    let Some((start, end)) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, total))
    else {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type)],
            content,
        )
            .into_response();
    };
    if start >= total {
        return (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{total}"))],
        )
            .into_response();
    }
    let end = end.min(total.saturating_sub(1));
    (
        StatusCode::PARTIAL_CONTENT,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            ),
        ],
        content.slice(start..=end),
    )
        .into_response()
}

/// `bytes=N-` or `bytes=N-M` → (N, M); anything else (several ranges, suffixes) is ignored
/// and the whole content served, as HTTP allows.
fn parse_range(value: &str, total: usize) -> Option<(usize, usize)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let start: usize = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => total.saturating_sub(1),
        end => end.parse().ok()?,
    };
    (end >= start || start >= total).then_some((start, end.max(start)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_and_an_empty_archive() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let archive = empty_tar_gz();
        assert_eq!(&archive[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(archive.len(), 10 + 5 + 1024 + 8);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(parse_range("bytes=2-3", 10), Some((2, 3)));
        assert_eq!(parse_range("bytes=10-", 10), Some((10, 10)));
        assert_eq!(parse_range("bytes=0-1,4-5", 10), None);
        assert_eq!(parse_range("bytes=-5", 10), None);
        assert_eq!(parse_range("items=1-2", 10), None);
    }
}
