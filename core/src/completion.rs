//! [`Completion`]: the result of an operation Bitbucket may finish later.

/// What an operation that can answer "accepted, still working" returned.
///
/// Merging a pull request answers 200 with the merged pull request, or 202 when the merge
/// runs asynchronously (`async=true`, or a merge that takes long); the `Location` header is
/// then the task-status URL to poll.
///
/// In `bitbucket-cloud`, `merge_pull_request().send()` returns one:
///
/// ```
/// use bitbucket_core::completion::Completion;
///
/// # let answer: Completion<u32> = Completion::Accepted { status_url: Some("https://api.bitbucket.org/2.0/task".into()) };
/// match answer {
///     Completion::Done(pr) => println!("merged: {pr}"),
///     Completion::Accepted { status_url } => println!("merging; poll {status_url:?}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub enum Completion<T> {
    /// The work is done; this is its result.
    Done(T),
    /// Bitbucket accepted the request (HTTP 202) and finishes it later.
    Accepted {
        /// The `Location` header: where to poll for the outcome.
        status_url: Option<String>,
    },
}

impl<T> Completion<T> {
    /// The result, if the work is done.
    pub fn done(self) -> Option<T> {
        match self {
            Completion::Done(value) => Some(value),
            Completion::Accepted { .. } => None,
        }
    }

    /// Whether Bitbucket is still working on it.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Completion::Accepted { .. })
    }
}

impl<T> Completion<T> {
    /// The "still working" answer, when `status` and `body` are one: a 202 with no body (only
    /// whitespace), its `Location` the URL to poll. Anything else is the operation's result,
    /// for the caller to decode.
    #[doc(hidden)]
    pub fn accepted(
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Option<Self> {
        if status != reqwest::StatusCode::ACCEPTED || !body.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let status_url = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Some(Completion::Accepted { status_url })
    }
}
