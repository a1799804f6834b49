//! Answers that are not JSON: raw files, archives, diffs and patches, read as a stream.
//!
//! Every operation whose answer is text or bytes has, beside `send()` (which reads it whole),
//! a `send_streaming()` that returns a [`Body`] once the status and headers are in. The body
//! is then read chunk by chunk, so memory stays bounded whatever its size, or whole when it
//! is small. The client's time limit ([`crate::ClientBuilder::timeout`]) applies from sending
//! to the end of the body, so give a client that downloads large files a longer one. The
//! type is `bitbucket-cloud`'s, shared through `bitbucket-core`.
//!
//! ```no_run
//! use futures_util::TryStreamExt as _;
//!
//! # async fn run(client: bitbucket_data_center::Client) -> Result<(), Box<dyn std::error::Error>> {
//! // A file, chunk by chunk as it arrives.
//! let mut file = client
//!     .get_raw_file()
//!     .project_key("PRJ")
//!     .repository_slug("app")
//!     .path("assets/logo.png")
//!     .send_streaming()
//!     .await?;
//! let mut bytes = 0usize;
//! while let Some(chunk) = file.chunk().await? {
//!     bytes += chunk.len();
//! }
//! println!("{bytes} bytes");
//!
//! // The same, as a `Stream` of `Bytes` (to hand to a file, a hasher, an HTTP response).
//! let chunks: Vec<bytes::Bytes> = client
//!     .get_raw_file()
//!     .project_key("PRJ")
//!     .repository_slug("app")
//!     .path("README.md")
//!     .send_streaming()
//!     .await?
//!     .into_stream()
//!     .try_collect()
//!     .await?;
//!
//! // A repository's archive, copied to a file through an `AsyncRead`.
//! let archive = client
//!     .get_archive()
//!     .project_key("PRJ")
//!     .repository_slug("app")
//!     .format("tar.gz")
//!     .send_streaming()
//!     .await?;
//! let mut out = tokio::fs::File::create("app.tar.gz").await?;
//! tokio::io::copy(&mut archive.into_async_read(), &mut out).await?;
//! # Ok(())
//! # }
//! ```

use crate::Error;
use crate::operations::Operation;

/// The answer of a `send_streaming()`: its status and headers, and its body still to be read.
///
/// Read it with [`Body::chunk`] (one piece at a time), [`Body::into_stream`] (a `Stream` of
/// `Bytes`), or whole with [`Body::bytes`] and [`Body::text`]. Dropping it closes the
/// connection's body unread. Its errors are this crate's [`Error`].
pub type Body = bitbucket_core::body::Body<Operation>;

/// The stream of [`Body::into_stream`]: the body's pieces as they arrive.
pub type BodyStream = bitbucket_core::body::BodyStream<Operation>;

/// The reader of [`Body::into_async_read`]: the body as a `tokio` `AsyncRead`.
pub use bitbucket_core::body::BodyReader;

impl bitbucket_core::body::Streaming for Operation {
    type Error = Error;

    fn body_error(&'static self, error: reqwest::Error) -> Error {
        Error::transport(self, error)
    }
}
