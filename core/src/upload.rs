//! Uploads: files sent as `multipart/form-data`. An [`Upload`] is some bytes, a file on disk
//! (streamed from it, never read whole) or any `Stream` of bytes; a [`Form`] is the fields of
//! one upload request, in order. Both products send their uploads through these
//! (`bitbucket_cloud::upload`, `bitbucket_data_center::upload`).
//!
//! A multipart body is a stream, so an upload is sent once: it is not retried on a 429 or
//! 5xx (the error says so, and the caller decides).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use reqwest::multipart::Part;

/// The content of one file to upload: bytes, a file on disk, or a stream.
///
/// ```
/// use bitbucket_core::upload::Upload;
///
/// let readme = Upload::bytes("# My project\n");
/// let artifact = Upload::path("target/release/app.tar.gz");
/// let streamed = Upload::stream(
///     futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"hello"))]),
/// )
/// .file_name("hello.txt");
/// // Text and bytes convert: a setter that takes `impl Into<Upload>` takes them as they are.
/// let pem: Upload = "-----BEGIN CERTIFICATE-----\n...".into();
/// # let _ = (readme, artifact, streamed, pem);
/// ```
#[derive(Debug)]
pub struct Upload {
    content: Content,
    file_name: Option<String>,
    content_type: Option<String>,
}

enum Content {
    Bytes(Bytes),
    Path(PathBuf),
    Stream(reqwest::Body),
}

impl std::fmt::Debug for Content {
    /// The size or the path, never the content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Content::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Content::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl Upload {
    /// These bytes (a `&'static str`, a `String`, a `Vec<u8>`, `Bytes`).
    pub fn bytes(bytes: impl Into<Bytes>) -> Upload {
        Upload {
            content: Content::Bytes(bytes.into()),
            file_name: None,
            content_type: None,
        }
    }

    /// The file at `path`, streamed from disk when the request is sent; its name is the
    /// upload's file name unless [`Upload::file_name`] sets another.
    pub fn path(path: impl AsRef<Path>) -> Upload {
        Upload {
            content: Content::Path(path.as_ref().to_path_buf()),
            file_name: None,
            content_type: None,
        }
    }

    /// The bytes `stream` yields (a `tokio_util::io::ReaderStream` over an `AsyncRead`, a
    /// body from another request, ...).
    pub fn stream<S>(stream: S) -> Upload
    where
        S: futures_core::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Bytes: From<S::Ok>,
    {
        Upload {
            content: Content::Stream(reqwest::Body::wrap_stream(stream)),
            file_name: None,
            content_type: None,
        }
    }

    /// The file name the upload is sent with.
    pub fn file_name(mut self, name: impl Into<String>) -> Upload {
        self.file_name = Some(name.into());
        self
    }

    /// The media type the file is sent with (`image/png`). Without one, a file on disk is sent
    /// with the type its extension suggests, and bytes or a stream as
    /// `application/octet-stream` (as `curl -F name=@file` does).
    pub fn content_type(mut self, media_type: impl Into<String>) -> Upload {
        self.content_type = Some(media_type.into());
        self
    }

    /// The name it is sent with, if it has one: the one [`Upload::file_name`] set, or else
    /// the name of the file on disk.
    pub fn name(&self) -> Option<String> {
        self.file_name.clone().or_else(|| match &self.content {
            Content::Path(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
            _ => None,
        })
    }

    /// The part of a form, with `default_name` as its file name when it has none; fails with
    /// a message when a file on disk cannot be opened or the name cannot be sent.
    #[doc(hidden)]
    pub async fn into_part(self, default_name: &str) -> Result<Part, String> {
        let name = self.name().unwrap_or_else(|| default_name.to_string());
        if name.contains(['"', '\r', '\n']) {
            return Err(format!(
                "the file name {name:?} holds a quote or line break, which a multipart file \
                 name cannot carry"
            ));
        }
        let (part, default_type) = match self.content {
            Content::Bytes(bytes) => {
                let length = bytes.len() as u64;
                (
                    Part::stream_with_length(reqwest::Body::from(bytes), length),
                    Some("application/octet-stream"),
                )
            }
            // `Part::file` sets the type the extension suggests.
            Content::Path(path) => (
                Part::file(&path)
                    .await
                    .map_err(|e| format!("cannot read the file {}: {e}", path.display()))?,
                None,
            ),
            Content::Stream(body) => (Part::stream(body), Some("application/octet-stream")),
        };
        let part = match self.content_type.as_deref().or(default_type) {
            Some(media_type) => part
                .mime_str(media_type)
                .map_err(|_| format!("`{media_type}` is not a media type"))?,
            None => part,
        };
        Ok(part.file_name(name))
    }
}

impl From<Bytes> for Upload {
    fn from(bytes: Bytes) -> Upload {
        Upload::bytes(bytes)
    }
}

impl From<Vec<u8>> for Upload {
    fn from(bytes: Vec<u8>) -> Upload {
        Upload::bytes(bytes)
    }
}

impl From<String> for Upload {
    fn from(text: String) -> Upload {
        Upload::bytes(text)
    }
}

impl From<&'static str> for Upload {
    fn from(text: &'static str) -> Upload {
        Upload::bytes(text)
    }
}

impl From<&'static [u8]> for Upload {
    fn from(bytes: &'static [u8]) -> Upload {
        Upload::bytes(bytes)
    }
}

/// The fields of one `multipart/form-data` body, in the order they are sent: text, or files
/// ([`Upload`]). Field names are sent as written (as `curl -F name=@file` does), not in RFC
/// 5987's `name*=`, which Bitbucket does not read.
///
/// ```
/// use bitbucket_core::upload::{Form, Upload};
///
/// let form = Form::new()
///     .text("message", "Update the docs")
///     .file("content", Upload::bytes("# Docs\n").file_name("README.md"));
/// assert_eq!(form.names().collect::<Vec<_>>(), ["message", "content"]);
/// ```
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, Field)>,
}

#[derive(Debug)]
enum Field {
    Text(String),
    File(Upload),
}

impl Form {
    /// A form without fields.
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Form {
        self.fields.push((name.into(), Field::Text(value.into())));
        self
    }

    /// Adds a file field.
    pub fn file(mut self, name: impl Into<String>, file: Upload) -> Form {
        self.fields.push((name.into(), Field::File(file)));
        self
    }

    /// The names of its fields, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }

    /// Whether it has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The body as reqwest sends it; fails with a message when a field's name or a file's
    /// name cannot be sent, or a file on disk cannot be opened.
    #[doc(hidden)]
    pub async fn into_reqwest(self) -> Result<reqwest::multipart::Form, String> {
        let mut form = reqwest::multipart::Form::new().percent_encode_noop();
        for (name, field) in self.fields {
            if name.is_empty() || name.contains(['"', '\r', '\n']) {
                return Err(format!(
                    "the field name {name:?} is empty or holds a quote or line break, which a \
                     multipart field name cannot carry"
                ));
            }
            form = match field {
                Field::Text(value) => form.text(name, value),
                Field::File(file) => {
                    let default_name = name.rsplit('/').next().unwrap_or(&name).to_string();
                    form.part(name, file.into_part(&default_name).await?)
                }
            };
        }
        Ok(form)
    }
}

/// `request` (as a builder made it: method, URL, headers) with `form` as its body instead of
/// the builder's, built by `client`.
#[doc(hidden)]
pub fn with_multipart(
    client: &reqwest::Client,
    request: reqwest::Request,
    form: reqwest::multipart::Form,
) -> Result<reqwest::Request, String> {
    let mut headers = request.headers().clone();
    headers.remove(reqwest::header::CONTENT_TYPE);
    headers.remove(reqwest::header::CONTENT_LENGTH);
    client
        .request(request.method().clone(), request.url().clone())
        .headers(headers)
        .multipart(form)
        .build()
        .map_err(|e| format!("the multipart body cannot be built: {}", e.without_url()))
}

/// `request` with `form` as its `multipart/form-data` body, after checking that each of
/// `required` is one of its fields: what a generated builder's `send()` of an upload does.
#[doc(hidden)]
pub async fn with_form(
    client: &reqwest::Client,
    request: reqwest::Request,
    form: Form,
    required: &[&str],
) -> Result<reqwest::Request, String> {
    if let Some(missing) = required
        .iter()
        .find(|name| !form.names().any(|n| n == **name))
    {
        return Err(format!(
            "the form field `{missing}` is required: set it with the builder's setter of that \
             name (snake_case) before send()"
        ));
    }
    with_multipart(client, request, form.into_reqwest().await?)
}
