//! Answers that are not JSON: files, logs, diffs and patches, read as a stream.
//!
//! Every operation whose answer is text or bytes has, beside `send()` (which reads it whole),
//! a `send_streaming()` that returns a [`Body`] once the status and headers are in. The body
//! is then read chunk by chunk, so memory stays bounded whatever its size (see the README
//! for the measured figure), or whole when it is small. The client's JSON size limit
//! ([`crate::ClientBuilder::max_json_body`]) does not apply; its time limit
//! ([`crate::ClientBuilder::timeout`]) does, from sending to the end of the body, so give a
//! client that downloads large files a longer one.
//!
//! When the operation redirects to storage (downloads, attachments, a finished step's log),
//! the body is the storage host's, fetched without credentials: see
//! [`crate::operations::Redirect`].
//!
//! ```no_run
//! use futures_util::TryStreamExt as _;
//!
//! # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
//! let repo = client.repo("my-workspace", "my-repo");
//!
//! // A large diff, line by line as it arrives.
//! let mut diff = repo.get_diff().spec("main..feature").send_streaming().await?;
//! let mut bytes = 0usize;
//! while let Some(chunk) = diff.chunk().await? {
//!     bytes += chunk.len();
//! }
//! println!("{bytes} bytes of diff");
//!
//! // A file, as a `Stream` of `Bytes` (to hand to a file, a hasher, an HTTP response).
//! let file = repo.get_source().commit("main").path("src/lib.rs").send_streaming().await?;
//! let chunks: Vec<bytes::Bytes> = file.into_stream().try_collect().await?;
//!
//! // A patch, whole, as text.
//! let patch = repo.get_patch().spec("main..feature").send_streaming().await?.text().await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

use crate::Error;
use crate::operations::Operation;
use crate::transport::Streamed;

/// The answer of a `send_streaming()`: its status and headers, and its body still to be read.
///
/// Read it with [`Body::chunk`] (one piece at a time), [`Body::into_stream`] (a `Stream` of
/// `Bytes`), or whole with [`Body::bytes`] and [`Body::text`]. Dropping it closes the
/// connection's body unread.
pub struct Body {
    status: StatusCode,
    headers: HeaderMap,
    operation: &'static Operation,
    /// Read ahead (to tell a directory from a file), given back before the rest.
    buffered: Option<Bytes>,
    response: Option<reqwest::Response>,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("operation", &self.operation.name)
            .field("status", &self.status)
            .field("content_length", &self.content_length())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

impl Body {
    pub(crate) fn new(streamed: Streamed) -> Body {
        Body {
            status: streamed.status,
            headers: streamed.headers,
            operation: streamed.operation,
            buffered: None,
            response: Some(streamed.body),
        }
    }

    /// `body` with its content already read whole as `whole` (see [`Body::read_ahead`]).
    pub(crate) fn from_bytes(body: Body, whole: Bytes) -> Body {
        Body {
            buffered: Some(whole).filter(|b| !b.is_empty()),
            response: None,
            ..body
        }
    }

    /// Reads ahead up to `limit` bytes: the whole body when it is not longer (`Ok(Some)`,
    /// and the body is then empty), otherwise `Ok(None)` with what was read kept to be given
    /// back first.
    pub(crate) async fn read_ahead(&mut self, limit: usize) -> Result<Option<Bytes>, Error> {
        let mut ahead = BytesMut::new();
        while ahead.len() <= limit {
            match self.chunk().await? {
                Some(chunk) => ahead.extend_from_slice(&chunk),
                None => return Ok(Some(ahead.freeze())),
            }
        }
        self.buffered = Some(ahead.freeze());
        Ok(None)
    }

    /// The status of the answer (200, or 206 for a `Range` request).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers (of the storage host's answer, after a redirect to storage).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The operation whose answer this is: the one called, or the one it redirected to on
    /// the same origin (`get_diff` for `get_pull_request_diff`).
    pub fn operation(&self) -> &'static Operation {
        self.operation
    }

    /// The body's length, when the answer says it (`Content-Length`).
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The answer's `Content-Type`, when it has one that is text.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(header::CONTENT_TYPE)?.to_str().ok()
    }

    /// The next piece of the body, as it arrives; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if let Some(buffered) = self.buffered.take() {
            return Ok(Some(buffered));
        }
        let Some(response) = &mut self.response else {
            return Ok(None);
        };
        match response.chunk().await {
            Ok(Some(chunk)) => Ok(Some(chunk)),
            Ok(None) => {
                self.response = None;
                Ok(None)
            }
            Err(error) => {
                self.response = None;
                Err(Error::transport(self.operation, error.without_url()))
            }
        }
    }

    /// The whole body. For large files, prefer [`Body::chunk`] or [`Body::into_stream`]: this
    /// holds all of it in memory.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut whole = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            whole.extend_from_slice(&chunk);
        }
        Ok(whole.freeze())
    }

    /// The whole body as text. Bytes that are not UTF-8 (a diff of a Latin-1 file) become
    /// U+FFFD.
    pub async fn text(self) -> Result<String, Error> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The body as a `Stream` of `Bytes`, for `futures`' combinators. It ends after the first
    /// error. For an `AsyncRead`, see [`Body::into_async_read`].
    pub fn into_stream(self) -> BodyStream {
        let stream = futures_util::stream::unfold(self, |mut body| async move {
            match body.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), body)),
                Ok(None) => None,
                Err(error) => Some((Err(error), body)),
            }
        });
        BodyStream(Box::pin(stream))
    }
}

impl Body {
    /// The body as a `tokio` [`AsyncRead`](tokio::io::AsyncRead), for `tokio::io::copy` into a
    /// file, a decompressor, or anything else that reads. An error reading the body is an
    /// `io::Error` of kind `Other` whose source is the crate's [`Error`].
    ///
    /// ```no_run
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let repo = client.repo("my-workspace", "my-repo");
    /// let body = repo.get_download().filename("release.tar.gz").send_streaming().await?;
    /// let mut reader = body.into_async_read();
    /// let mut file = tokio::fs::File::create("release.tar.gz").await?;
    /// tokio::io::copy(&mut reader, &mut file).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_async_read(self) -> BodyReader {
        use futures_util::TryStreamExt as _;
        let stream = self.into_stream().map_err(std::io::Error::other);
        BodyReader(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }
}

/// The reader of [`Body::into_async_read`].
pub struct BodyReader(Pin<Box<dyn tokio::io::AsyncRead + Send>>);

impl fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReader").finish_non_exhaustive()
    }
}

impl tokio::io::AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

/// The stream of [`Body::into_stream`]: the body's pieces as they arrive.
pub struct BodyStream(Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>);

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyStream").finish_non_exhaustive()
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}
