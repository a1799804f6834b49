//! Following a pipeline step's log while the step runs: [`RepoHandle::tail_pipeline_step_log`].

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};

use crate::body::Body;
use crate::operations::GET_PIPELINE_STEP_LOG;
use crate::transport;
use crate::{Client, Error, RepoHandle};

/// How often a running step's log is asked for new text by default.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

/// The new text of a step's log, piece by piece, until the step ends: see
/// [`RepoHandle::tail_pipeline_step_log`]. Set how often it asks with
/// [`LogTail::interval`], then read it with [`LogTail::into_stream`].
#[derive(Debug)]
#[must_use = "a LogTail does nothing until it is streamed (into_stream)"]
pub struct LogTail {
    client: Client,
    workspace: String,
    repo_slug: String,
    pipeline_uuid: String,
    step_uuid: String,
    interval: Duration,
}

impl RepoHandle<'_> {
    /// Follows the log of step `step_uuid` of pipeline `pipeline_uuid`: a stream of the text
    /// added since the last piece, which ends once the step has ended and its log is read to
    /// the end.
    ///
    /// Each round asks for the step's state, then for the log from where the last round
    /// stopped (a `Range` request, which Bitbucket answers with only the new part), and waits
    /// [`LogTail::interval`] while the step runs. A finished step's log may be a redirect to
    /// storage, which is followed without credentials (see [`crate::operations::Redirect`]).
    /// Memory stays bounded: the log is streamed, never held whole. Text is split at
    /// character boundaries; bytes that are not UTF-8 become U+FFFD.
    ///
    /// ```no_run
    /// use futures_util::StreamExt as _;
    /// use std::time::Duration;
    ///
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let repo = client.repo("my-workspace", "my-repo");
    /// let mut log = repo
    ///     .tail_pipeline_step_log("{pipeline-uuid}", "{step-uuid}")
    ///     .interval(Duration::from_secs(1))
    ///     .into_stream();
    /// while let Some(text) = log.next().await {
    ///     print!("{}", text?);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn tail_pipeline_step_log(
        &self,
        pipeline_uuid: impl Into<String>,
        step_uuid: impl Into<String>,
    ) -> LogTail {
        LogTail {
            client: self.client().clone(),
            workspace: self.workspace_slug().to_string(),
            repo_slug: self.repo_slug().to_string(),
            pipeline_uuid: pipeline_uuid.into(),
            step_uuid: step_uuid.into(),
            interval: DEFAULT_INTERVAL,
        }
    }
}

/// The stream of [`LogTail::into_stream`]: the log's new text as it is written.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<String, Error>> + Send>>;

/// Where a tail is.
struct Tail {
    spec: LogTail,
    /// Bytes of the log read so far.
    offset: u64,
    /// The log being read, when a round is under way.
    body: Option<Body>,
    /// Bytes still to skip at the start of `body` (a server that ignored `Range`).
    skip: u64,
    /// The end of a character cut between two pieces.
    partial: Vec<u8>,
    /// Whether the step had ended when this round started: the round's read is the last.
    last_round: bool,
    /// Whether the stream has ended.
    done: bool,
    /// Whether a round has run (the first does not wait).
    started: bool,
}

impl LogTail {
    /// How long to wait between two rounds while the step runs (2 s by default).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The log's new text, piece by piece, until the step ends. It ends after the first
    /// error.
    pub fn into_stream(self) -> LogStream {
        let tail = Tail {
            spec: self,
            offset: 0,
            body: None,
            skip: 0,
            partial: Vec::new(),
            last_round: false,
            done: false,
            started: false,
        };
        Box::pin(futures_util::stream::unfold(tail, |mut tail| async move {
            if tail.done {
                return None;
            }
            match tail.next_piece().await {
                Ok(Some(text)) => Some((Ok(text), tail)),
                Ok(None) => None,
                Err(error) => {
                    tail.done = true;
                    Some((Err(error), tail))
                }
            }
        }))
    }
}

impl Tail {
    /// The next non-empty piece of text, or `None` once the step has ended and its log is
    /// read.
    async fn next_piece(&mut self) -> Result<Option<String>, Error> {
        loop {
            if let Some(body) = &mut self.body {
                match body.chunk().await? {
                    Some(chunk) => {
                        if let Some(text) = self.text_of(chunk) {
                            return Ok(Some(text));
                        }
                        continue;
                    }
                    None => self.body = None,
                }
                if self.last_round {
                    self.done = true;
                    let rest = std::mem::take(&mut self.partial);
                    return Ok((!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into()));
                }
            }
            if self.started {
                tokio::time::sleep(self.spec.interval).await;
            }
            self.started = true;
            self.last_round = self.step_has_ended().await?;
            self.body = self.read_from_offset().await?;
            if self.body.is_none() && self.last_round {
                self.done = true;
                let rest = std::mem::take(&mut self.partial);
                return Ok((!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into()));
            }
        }
    }

    /// The new part of `chunk` as text, keeping a character cut at its end for the next one.
    fn text_of(&mut self, chunk: Bytes) -> Option<String> {
        let mut chunk = &chunk[..];
        if self.skip > 0 {
            let skipped = usize::try_from(self.skip)
                .unwrap_or(usize::MAX)
                .min(chunk.len());
            chunk = &chunk[skipped..];
            self.skip = self.skip.saturating_sub(skipped as u64);
        }
        if chunk.is_empty() {
            return None;
        }
        self.offset = self.offset.saturating_add(chunk.len() as u64);
        let mut bytes = std::mem::take(&mut self.partial);
        bytes.extend_from_slice(chunk);
        // Keep an incomplete character at the end (at most 3 bytes) for the next piece.
        let cut = match std::str::from_utf8(&bytes) {
            Ok(_) => bytes.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => bytes.len(),
        };
        self.partial = bytes.split_off(cut);
        (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Whether the step has ended (its state is `COMPLETED`, or any state that is not
    /// pending, ready or in progress).
    async fn step_has_ended(&self) -> Result<bool, Error> {
        let spec = &self.spec;
        let step = spec
            .client
            .get_pipeline_step()
            .workspace(&spec.workspace)
            .repo_slug(&spec.repo_slug)
            .pipeline_uuid(&spec.pipeline_uuid)
            .step_uuid(&spec.step_uuid)
            .send()
            .await?;
        let Some(state) = step.state else {
            return Ok(false);
        };
        let name = state
            .extra
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_ascii_uppercase);
        let kind = state.type_.unwrap_or_default().to_ascii_lowercase();
        Ok(match name.as_deref() {
            Some("PENDING" | "READY" | "IN_PROGRESS" | "PAUSED" | "HALTED") => false,
            Some(_) => true,
            None => kind.ends_with("completed"),
        })
    }

    /// The log from `offset` on, or `None` when there is nothing new (`416`, or no log yet).
    async fn read_from_offset(&mut self) -> Result<Option<Body>, Error> {
        let spec = &self.spec;
        let (client, mut request) = spec
            .client
            .get_pipeline_step_log()
            .workspace(&spec.workspace)
            .repo_slug(&spec.repo_slug)
            .pipeline_uuid(&spec.pipeline_uuid)
            .step_uuid(&spec.step_uuid)
            .into_request()
            .map_err(|e| Error::invalid_request(&GET_PIPELINE_STEP_LOG, e))?;
        if self.offset > 0 {
            let range = HeaderValue::from_str(&format!("bytes={}-", self.offset)).map_err(|e| {
                Error::InvalidRequest {
                    operation: GET_PIPELINE_STEP_LOG.name,
                    message: e.to_string(),
                }
            })?;
            request.headers_mut().insert(header::RANGE, range);
        }
        let body = match transport::execute_streaming(client, request, &GET_PIPELINE_STEP_LOG).await
        {
            Ok(streamed) => Body::new(streamed),
            // Nothing past the offset yet, or no log before the step starts writing one.
            Err(e)
                if e.status() == Some(StatusCode::RANGE_NOT_SATISFIABLE)
                    || e.status() == Some(StatusCode::NOT_FOUND) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // A server that ignores `Range` sends the whole log: skip what was read.
        self.skip = if body.status() == StatusCode::PARTIAL_CONTENT {
            0
        } else {
            self.offset
        };
        Ok(Some(body))
    }
}
