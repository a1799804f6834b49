//! Descriptions rewritten so rustdoc renders them well: they become the generated docs.
//!
//! Upstream descriptions are written for Atlassian's developer site: code blocks without a
//! language (rustdoc compiles those as Rust doctests, and they fail), links relative to that
//! site (dead on docs.rs), bare URLs and `[x]` text that rustdoc reads as intra-doc links.

use serde_json::Value;

/// Where the document's relative links (`/cloud/bitbucket/...`) point.
const DOCS_SITE: &str = "https://developer.atlassian.com";

/// Rewrites every `description` and `summary` in the document with [`rustdoc_markdown`].
pub fn rustdoc_friendly_descriptions(doc: &mut Value) {
    match doc {
        Value::Object(obj) => {
            for (key, value) in obj.iter_mut() {
                match (key.as_str(), value) {
                    ("description" | "summary", Value::String(text)) => {
                        *text = rustdoc_markdown(text)
                    }
                    (_, value) => rustdoc_friendly_descriptions(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rustdoc_friendly_descriptions),
        _ => {}
    }
}

/// One description, made safe for rustdoc: bare code fences get the `text` language, indented
/// code blocks become fenced `text` blocks, relative links become absolute, bare URLs get angle
/// brackets and stray square brackets are escaped.
pub fn rustdoc_markdown(text: &str) -> String {
    let dedented = dedent(text);
    let text = dedented.as_str();
    let mut out: Vec<String> = Vec::new();
    let mut fence: Option<String> = None; // the opening fence marker while inside a fenced block
    let mut in_indented_block = false;
    let mut previous_blank = true;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(marker) = &fence {
            if trimmed.starts_with(marker.as_str()) {
                fence = None;
            }
            out.push(line.to_string());
            previous_blank = false;
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            let marker: String = trimmed
                .chars()
                .take_while(|c| *c == '`' || *c == '~')
                .collect();
            let info = trimmed[marker.len()..].trim();
            let indent = &line[..line.len() - trimmed.len()];
            out.push(if info.is_empty() {
                format!("{indent}{marker}text")
            } else {
                line.to_string()
            });
            fence = Some(marker);
            previous_blank = false;
            continue;
        }
        let indented = line.starts_with("    ") || line.starts_with('\t');
        let blank = trimmed.is_empty();
        if in_indented_block {
            if indented || blank {
                out.push(line.trim_end().to_string());
                continue;
            }
            close_indented_block(&mut out);
            in_indented_block = false;
        } else if indented && previous_blank && !blank && !in_list(&out) {
            out.push("```text".to_string());
            out.push(line.to_string());
            in_indented_block = true;
            continue;
        }
        out.push(rewrite_inline(line));
        previous_blank = blank;
    }
    if in_indented_block {
        close_indented_block(&mut out);
    }
    if fence.is_some() {
        // An unterminated fence would swallow the rest of the generated doc comment.
        out.push("```".to_string());
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

/// Removes the indentation common to all non-blank lines (some descriptions are indented as a
/// whole, which markdown would read as one code block).
fn dedent(text: &str) -> String {
    let common = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    if common == 0 {
        return text.to_string();
    }
    let mut out: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.len() >= common {
                &l[common..]
            } else {
                l.trim_start()
            }
        })
        .collect();
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

/// Ends an indented block turned fenced, moving trailing blank lines after the fence.
fn close_indented_block(out: &mut Vec<String>) {
    let mut blanks = 0;
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
        blanks += 1;
    }
    out.push("```".to_string());
    out.extend(std::iter::repeat_n(String::new(), blanks));
}

/// Whether the paragraph before the current line is a list item (indentation then continues
/// the item rather than starting a code block).
fn in_list(out: &[String]) -> bool {
    out.iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| {
            let t = l.trim_start();
            t.starts_with("* ")
                || t.starts_with("- ")
                || t.starts_with("+ ")
                || t.split_once(". ")
                    .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                || l.starts_with("    ")
        })
}

/// Rewrites one line outside its inline code spans: links made absolute (their text may hold
/// code spans), stray `[` escaped, bare URLs in angle brackets, and `<word>` placeholders
/// (`<n>`, `<tagname>`), which rustdoc would read as unclosed HTML, escaped.
fn rewrite_inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            // A code span, copied untouched up to its closing backtick.
            let end = rest[1..].find('`').map_or(rest.len(), |e| e + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if c == '[' {
            match link_text_end(rest) {
                Some(close) => {
                    out.push('[');
                    out.push_str(&rewrite_inline(&rest[1..close]));
                    out.push_str("](");
                    let target = &rest[close + 2..];
                    let url_end = target.find(')').unwrap_or(target.len());
                    let url = &target[..url_end];
                    if url.starts_with('/') {
                        out.push_str(DOCS_SITE);
                    }
                    out.push_str(url);
                    rest = &target[url_end..];
                }
                None => {
                    // Any other `[` would be read as an intra-doc link.
                    out.push_str("\\[");
                    rest = &rest[1..];
                }
            }
        } else if rest.starts_with("http://") || rest.starts_with("https://") {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '>')
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')']);
            if out.ends_with('<') || out.ends_with('(') {
                out.push_str(url);
            } else {
                out.push('<');
                out.push_str(url);
                out.push('>');
            }
            rest = &rest[url.len()..];
        } else if c == '<' && is_placeholder(rest) {
            out.push_str("\\<");
            rest = &rest[1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// For `[text](url)...` (the text may hold code spans), where the text ends: the index of
/// its `]`, followed by `(`. `None` for a `[` that opens no link.
fn link_text_end(text: &str) -> Option<usize> {
    let mut in_code = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '`' => in_code = !in_code,
            '[' if !in_code => return None,
            ']' if !in_code => return text[i..].starts_with("](").then_some(i),
            _ => {}
        }
    }
    None
}

/// `<n>`, `<tagname>`, `</x>`: angle brackets around a word, which rustdoc reads as HTML.
fn is_placeholder(text: &str) -> bool {
    let Some(end) = text.find('>') else {
        return false;
    };
    let inner = text[1..end].trim_start_matches('/');
    inner.starts_with(|c: char| c.is_ascii_alphabetic())
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::rustdoc_markdown;

    #[test]
    fn bare_fences_become_text() {
        let got = rustdoc_markdown("Example:\n\n```\ncurl -X POST\n```\n");
        assert_eq!(got, "Example:\n\n```text\ncurl -X POST\n```\n");
    }

    #[test]
    fn fenced_content_is_untouched() {
        let got = rustdoc_markdown("```json\n{\"a\": [1]}\nhttps://x.y\n```");
        assert_eq!(got, "```json\n{\"a\": [1]}\nhttps://x.y\n```");
    }

    #[test]
    fn indented_blocks_become_fenced() {
        let got = rustdoc_markdown("Run:\n\n    $ curl x\n    more\n\nDone.");
        assert_eq!(got, "Run:\n\n```text\n    $ curl x\n    more\n```\n\nDone.");
    }

    #[test]
    fn wholly_indented_descriptions_are_prose() {
        let got = rustdoc_markdown("\n    The list of users.\n    * one\n      two\n");
        assert_eq!(got, "The list of users.\n* one\n  two\n");
    }

    #[test]
    fn list_continuations_stay() {
        let got = rustdoc_markdown("* item\n\n    continued");
        assert_eq!(got, "* item\n\n    continued");
    }

    #[test]
    fn relative_links_become_absolute() {
        let got = rustdoc_markdown("See [filtering](/cloud/bitbucket/rest/intro/#filtering).");
        assert_eq!(
            got,
            "See [filtering](https://developer.atlassian.com/cloud/bitbucket/rest/intro/#filtering)."
        );
    }

    #[test]
    fn bare_urls_get_angle_brackets() {
        let got = rustdoc_markdown("Go to https://bitbucket.org/x. Or <https://a.b>.");
        assert_eq!(got, "Go to <https://bitbucket.org/x>. Or <https://a.b>.");
    }

    #[test]
    fn links_whose_text_is_code_stay_links() {
        let got = rustdoc_markdown("See [`/2.0/snippets/{workspace}`](/cloud/x/#y).");
        assert_eq!(
            got,
            "See [`/2.0/snippets/{workspace}`](https://developer.atlassian.com/cloud/x/#y)."
        );
    }

    #[test]
    fn placeholders_in_angle_brackets_are_escaped() {
        let got = rustdoc_markdown("with <n> lines, \"Added tag <tagname>\"; <https://a.b>");
        assert_eq!(
            got,
            "with \\<n> lines, \"Added tag \\<tagname>\"; <https://a.b>"
        );
    }

    #[test]
    fn stray_brackets_are_escaped_outside_code() {
        let got = rustdoc_markdown("sorted [\"v10\", \"v9\"] and `x[0]`");
        assert_eq!(got, "sorted \\[\"v10\", \"v9\"] and `x[0]`");
    }
}
