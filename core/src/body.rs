//! A successful answer whose body is read as it arrives (files, logs, diffs): what both
//! products' `send_streaming()` return. Each product names it with its own operation type
//! (`bitbucket_cloud::body::Body`, `bitbucket_data_center::body::Body`), whose errors are the
//! product's.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

use crate::audit::Audited;

/// What a [`Body`] needs of a product's operation type: the product's error for a body that
/// stopped arriving.
pub trait Streaming: Audited {
    /// The product's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The error of a body of this operation whose reading failed (`error` comes without its
    /// URL, whose query may hold secrets).
    fn body_error(&'static self, error: reqwest::Error) -> Self::Error;
}

/// A successful answer whose body is still on its way, as the transport hands it over.
#[doc(hidden)]
pub struct Streamed<O: 'static> {
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The answer, its body unread.
    pub body: reqwest::Response,
    /// The operation whose answer it is: the called one, or the one it redirected to.
    pub operation: &'static O,
}

/// The answer of a `send_streaming()`: its status and headers, and its body still to be read.
///
/// Read it with [`Body::chunk`] (one piece at a time), [`Body::into_stream`] (a `Stream` of
/// `Bytes`), or whole with [`Body::bytes`] and [`Body::text`]. Dropping it closes the
/// connection's body unread.
pub struct Body<O: 'static> {
    status: StatusCode,
    headers: HeaderMap,
    operation: &'static O,
    /// Read ahead (to tell a directory from a file), given back before the rest.
    buffered: Option<Bytes>,
    response: Option<reqwest::Response>,
}

impl<O: Streaming> fmt::Debug for Body<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("operation", &self.operation.name())
            .field("status", &self.status)
            .field("content_length", &self.content_length())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

impl<O: Streaming> Body<O> {
    /// The body of `streamed`, to be read.
    #[doc(hidden)]
    pub fn new(streamed: Streamed<O>) -> Body<O> {
        Body {
            status: streamed.status,
            headers: streamed.headers,
            operation: streamed.operation,
            buffered: None,
            response: Some(streamed.body),
        }
    }

    /// `body` with its content already read whole as `whole` (see [`Body::read_ahead`]).
    #[doc(hidden)]
    pub fn from_bytes(body: Body<O>, whole: Bytes) -> Body<O> {
        Body {
            buffered: Some(whole).filter(|b| !b.is_empty()),
            response: None,
            ..body
        }
    }

    /// Reads ahead up to `limit` bytes: the whole body when it is not longer (`Ok(Some)`,
    /// and the body is then empty), otherwise `Ok(None)` with what was read kept to be given
    /// back first.
    #[doc(hidden)]
    pub async fn read_ahead(&mut self, limit: usize) -> Result<Option<Bytes>, O::Error> {
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
    pub fn operation(&self) -> &'static O {
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
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, O::Error> {
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
                Err(self.operation.body_error(error.without_url()))
            }
        }
    }

    /// The whole body. For large files, prefer [`Body::chunk`] or [`Body::into_stream`]: this
    /// holds all of it in memory.
    pub async fn bytes(mut self) -> Result<Bytes, O::Error> {
        let mut whole = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            whole.extend_from_slice(&chunk);
        }
        Ok(whole.freeze())
    }

    /// The whole body as text. Bytes that are not UTF-8 (a diff of a Latin-1 file) become
    /// U+FFFD.
    pub async fn text(self) -> Result<String, O::Error> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The body as a `Stream` of `Bytes`, for `futures`' combinators. It ends after the first
    /// error. For an `AsyncRead`, see [`Body::into_async_read`].
    pub fn into_stream(self) -> BodyStream<O> {
        let stream = futures_util::stream::unfold(self, |mut body| async move {
            match body.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), body)),
                Ok(None) => None,
                Err(error) => Some((Err(error), body)),
            }
        });
        BodyStream(Box::pin(stream))
    }

    /// The body as a `tokio` [`AsyncRead`](tokio::io::AsyncRead), for `tokio::io::copy` into a
    /// file, a decompressor, or anything else that reads. An error reading the body is an
    /// `io::Error` of kind `Other` whose source is the product's error.
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

/// How much of a failed answer's body the transports read: enough for any error Bitbucket
/// sends, and a bound on what a hostile server can make a client hold.
#[doc(hidden)]
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The first `limit` bytes of `response`'s body (all of it when shorter); the rest is left
/// unread.
#[doc(hidden)]
pub async fn read_prefix(response: &mut reqwest::Response, limit: usize) -> reqwest::Result<Bytes> {
    let mut body = BytesMut::new();
    while body.len() < limit {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body.freeze())
}

/// The item of a [`BodyStream`].
type Item<O> = Result<Bytes, <O as Streaming>::Error>;

/// The stream of [`Body::into_stream`]: the body's pieces as they arrive.
pub struct BodyStream<O: Streaming>(Pin<Box<dyn Stream<Item = Item<O>> + Send>>);

impl<O: Streaming> fmt::Debug for BodyStream<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyStream").finish_non_exhaustive()
    }
}

impl<O: Streaming> Stream for BodyStream<O> {
    type Item = Item<O>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}
