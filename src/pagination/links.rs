//! The links a list is read through: checking a `next` link's origin, and the one narrow
//! rewrite of a link that concurrent fetching needs (the `page` number).
//!
//! Queries are edited as raw text, one `&`-separated segment at a time, so every other
//! parameter keeps the exact bytes Bitbucket sent (re-serialising through a form encoder would
//! change `%20` into `+`, reorder nothing but re-escape plenty).

use reqwest::Url;

use crate::operations::Operation;
use crate::{Client, Error};

/// `link` (a `next` link, or a saved cursor) resolved against `from`, if it is on the client's
/// origin (scheme, host and port). Nothing is sent to another origin: credentials go with
/// every request.
pub(crate) fn same_origin(
    client: &Client,
    from: Option<&Url>,
    link: &str,
    operation: &Operation,
) -> Result<Url, Error> {
    let parsed = match from {
        Some(from) => from.join(link),
        None => Url::parse(link),
    };
    let url = parsed.map_err(|e| Error::InvalidRequest {
        operation: operation.name,
        message: format!(
            "the pagination link is not a URL ({e}); pass the `next` link or the saved cursor as \
             it was given"
        ),
    })?;
    if !client.inner.is_own_origin(&url) {
        return Err(Error::ForeignNextLink {
            operation: operation.name,
            origin: url.origin().ascii_serialization(),
            expected: client.inner.base.origin().ascii_serialization(),
        });
    }
    Ok(url)
}

/// The raw `&`-separated segments of the query; none when it is absent or empty.
fn segments(url: &Url) -> impl Iterator<Item = &str> {
    url.query()
        .filter(|q| !q.is_empty())
        .into_iter()
        .flat_map(|q| q.split('&'))
}

/// Whether a raw query segment is the parameter `name` (`name=value`, or `name` alone).
fn is_param(segment: &str, name: &str) -> bool {
    segment.split('=').next() == Some(name)
}

/// The raw value of the only `name=` parameter of the query, or `None` when it is absent or
/// repeated.
fn single_param<'u>(url: &'u Url, name: &str) -> Option<&'u str> {
    let mut values = segments(url)
        .filter_map(|segment| segment.split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| value);
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

/// The page number a link asks for, when it has exactly one `page` parameter and it is a
/// number (`page=3`; not an opaque cursor such as `page=dbtR`).
pub(crate) fn page_number(url: &Url) -> Option<u64> {
    single_param(url, "page")?.parse().ok()
}

/// `url` asking for page `number`: its `page` value replaced, or `page=number` appended when it
/// has none. Every other byte of the query is kept.
pub(crate) fn with_page(url: &Url, number: u64) -> Url {
    let page = format!("page={number}");
    let mut replaced = false;
    let mut query: Vec<&str> = segments(url)
        .map(|segment| {
            if is_param(segment, "page") {
                replaced = true;
                &page
            } else {
                segment
            }
        })
        .collect();
    if !replaced {
        query.push(&page);
    }
    let mut out = url.clone();
    out.set_query(Some(&query.join("&")));
    out
}

/// Whether the query has a `name` parameter.
pub(crate) fn has_param(url: &Url, name: &str) -> bool {
    segments(url).any(|segment| is_param(segment, name))
}

/// `url` without its `name` parameters; every other byte of the query is kept.
pub(crate) fn without_param(url: &Url, name: &str) -> Url {
    let kept: Vec<&str> = segments(url)
        .filter(|segment| !segment.is_empty() && !is_param(segment, name))
        .collect();
    let mut out = url.clone();
    out.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn page_numbers_are_read_only_from_a_single_numeric_page() {
        assert_eq!(page_number(&url("https://h/x?pagelen=100&page=3")), Some(3));
        assert_eq!(page_number(&url("https://h/x?page=dbtR")), None);
        assert_eq!(page_number(&url("https://h/x?page=2&page=3")), None);
        assert_eq!(page_number(&url("https://h/x?pagelen=3")), None);
        assert_eq!(page_number(&url("https://h/x")), None);
    }

    #[test]
    fn only_the_page_value_changes() {
        let next = url("https://h/2.0/x?q=state%20%3D%20%22OPEN%22&page=2&sort=-a+b&pagelen=50");
        assert_eq!(
            with_page(&next, 7).as_str(),
            "https://h/2.0/x?q=state%20%3D%20%22OPEN%22&page=7&sort=-a+b&pagelen=50"
        );
        assert_eq!(
            with_page(&url("https://h/x?pagelen=50"), 2).as_str(),
            "https://h/x?pagelen=50&page=2"
        );
        assert_eq!(
            with_page(&url("https://h/x"), 2).as_str(),
            "https://h/x?page=2"
        );
        // `pagelen` is not `page`.
        assert_eq!(
            with_page(&url("https://h/x?pagelen=5&page=1"), 4).as_str(),
            "https://h/x?pagelen=5&page=4"
        );
    }

    #[test]
    fn a_parameter_is_removed_and_nothing_else() {
        assert_eq!(
            without_param(&url("https://h/x?q=a%20b&pagelen=100&sort=c"), "pagelen").as_str(),
            "https://h/x?q=a%20b&sort=c"
        );
        assert_eq!(
            without_param(&url("https://h/x?pagelen=100"), "pagelen").as_str(),
            "https://h/x"
        );
        assert!(has_param(&url("https://h/x?a=1&pagelen=2"), "pagelen"));
        assert!(!has_param(&url("https://h/x?pagelenx=2"), "pagelen"));
    }
}
