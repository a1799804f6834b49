//! The query editing pagination links need: reading a numeric parameter (`page=3`,
//! `start=50`), setting one, removing one.
//!
//! Queries are edited as raw text, one `&`-separated segment at a time, so every other
//! parameter keeps the exact bytes the server sent (re-serialising through a form encoder
//! would change `%20` into `+` and re-escape plenty).

use reqwest::Url;

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

/// The number a link's `name` parameter holds, when it has exactly one and it is a number
/// (`page=3`; not an opaque cursor such as `page=dbtR`).
pub fn number(url: &Url, name: &str) -> Option<u64> {
    single_param(url, name)?.parse().ok()
}

/// `url` with `name=number`: its `name` values replaced, or the parameter appended when it has
/// none. Every other byte of the query is kept.
pub fn with_number(url: &Url, name: &str, number: u64) -> Url {
    let param = format!("{name}={number}");
    let mut replaced = false;
    let mut query: Vec<&str> = segments(url)
        .map(|segment| {
            if is_param(segment, name) {
                replaced = true;
                &param
            } else {
                segment
            }
        })
        .collect();
    if !replaced {
        query.push(&param);
    }
    let mut out = url.clone();
    out.set_query(Some(&query.join("&")));
    out
}

/// Whether the query has a `name` parameter.
pub fn has_param(url: &Url, name: &str) -> bool {
    segments(url).any(|segment| is_param(segment, name))
}

/// `url` without its `name` parameters; every other byte of the query is kept.
pub fn without_param(url: &Url, name: &str) -> Url {
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
    fn numbers_are_read_only_from_a_single_numeric_parameter() {
        let page = |s| number(&url(s), "page");
        assert_eq!(page("https://h/x?pagelen=100&page=3"), Some(3));
        assert_eq!(page("https://h/x?page=dbtR"), None);
        assert_eq!(page("https://h/x?page=2&page=3"), None);
        assert_eq!(page("https://h/x?pagelen=3"), None);
        assert_eq!(page("https://h/x"), None);
        assert_eq!(
            number(&url("https://h/x?limit=2&start=40"), "start"),
            Some(40)
        );
    }

    #[test]
    fn only_the_parameter_value_changes() {
        let next = url("https://h/2.0/x?q=state%20%3D%20%22OPEN%22&page=2&sort=-a+b&pagelen=50");
        assert_eq!(
            with_number(&next, "page", 7).as_str(),
            "https://h/2.0/x?q=state%20%3D%20%22OPEN%22&page=7&sort=-a+b&pagelen=50"
        );
        assert_eq!(
            with_number(&url("https://h/x?pagelen=50"), "page", 2).as_str(),
            "https://h/x?pagelen=50&page=2"
        );
        assert_eq!(
            with_number(&url("https://h/x"), "page", 2).as_str(),
            "https://h/x?page=2"
        );
        // `pagelen` is not `page`.
        assert_eq!(
            with_number(&url("https://h/x?pagelen=5&page=1"), "page", 4).as_str(),
            "https://h/x?pagelen=5&page=4"
        );
        assert_eq!(
            with_number(&url("https://h/x?limit=2&start=0"), "start", 4).as_str(),
            "https://h/x?limit=2&start=4"
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
