//! Request paths against operation templates: which parameters a path holds, and whether it
//! is an instance of the template at all. The transports decide on these (a `next` link or a
//! cursor that leads to another resource is refused), and audit records carry them.

/// The path parameters of one request, by name, in the order of the template.
///
/// Each product's `Operation::match_path` gives them; audit records carry them
/// (`AuditRecord::params`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams {
    params: Vec<(&'static str, String)>,
    /// The names of the parameters that say where a request acts: the workspace (or project)
    /// and the repository, as the product's templates name them.
    scope: (&'static str, &'static str),
}

impl PathParams {
    /// The value of the parameter `name`, decoded.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter and its value, in the order of the template.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.params.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// Whether the path has no parameters (`/user`).
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The workspace (Cloud) or project (Data Center) and repository the request is about,
    /// as `ws` or `ws/repo`; `None` when it names neither (`/user`).
    pub fn resource(&self) -> Option<String> {
        let owner = self.get(self.scope.0)?;
        Some(match self.get(self.scope.1) {
            Some(repo) => format!("{owner}/{repo}"),
            None => owner.to_string(),
        })
    }

    /// Whether `name` is one of the parameters [`PathParams::resource`] is made of.
    pub fn is_scope(&self, name: &str) -> bool {
        name == self.scope.0 || name == self.scope.1
    }
}

/// The values of the path parameters in `path`, a request path as sent (percent-encoded,
/// without the query), or `None` when `path` is not an instance of `template`. A parameter
/// that is empty, or that decodes to a `.` or `..` path segment (`%2E%2E`, `a%2F..%2Fb`), is
/// not an instance: a server that decodes it could resolve the path to another resource.
///
/// `rest` names the template's last parameter when it takes the rest of the path, slashes
/// included (a file's `{path}`: then it may be empty, the root directory), after any literal
/// text before it in its segment (`compare/diff{path}`). `scope` names the
/// parameters of [`PathParams::resource`]: `("workspace", "repo_slug")` for Cloud.
pub fn match_template(
    template: &'static str,
    rest: Option<&'static str>,
    scope: (&'static str, &'static str),
    path: &str,
) -> Option<PathParams> {
    // The rest parameter may follow literal text in its segment (`compare/diff{path}`).
    let (template, prefix) = match rest {
        Some(name) => template
            .strip_suffix(&format!("{{{name}}}"))?
            .rsplit_once('/')?,
        None => (template, ""),
    };
    let done = |params| Some(PathParams { params, scope });
    let mut template = template.split('/');
    let mut actual = path.split('/');
    let mut params = Vec::new();
    loop {
        match (template.next(), actual.next()) {
            (None, None) if rest.is_none() => return done(params),
            (None, Some(first)) if rest.is_some() => {
                let first = first.strip_prefix(prefix)?;
                let mut value = String::new();
                for (i, segment) in std::iter::once(first).chain(actual).enumerate() {
                    let decoded = percent_encoding::percent_decode_str(segment)
                        .decode_utf8()
                        .ok()?;
                    if i > 0 {
                        value.push('/');
                    }
                    value.push_str(&decoded);
                }
                let name = rest?;
                if has_dot_segment(&value) || (value.is_empty() && name != "path") {
                    return None;
                }
                params.push((name, value));
                return done(params);
            }
            (Some(expected), Some(segment)) => {
                match_segment(expected, segment, &mut params)?;
            }
            _ => return None,
        }
    }
}

/// Matches one segment of a request path against one of a template, which may be a
/// parameter (`{repo_slug}`), literal text, or both (`{repo_name}-issues-{task_id}.zip`);
/// pushes the parameters' decoded values. A parameter takes at least one character, and as
/// many as still let the rest of the segment match.
fn match_segment(
    template: &'static str,
    segment: &str,
    params: &mut Vec<(&'static str, String)>,
) -> Option<()> {
    let Some(open) = template.find('{') else {
        return (template == segment).then_some(());
    };
    let (literal, rest) = template.split_at(open);
    let segment = segment.strip_prefix(literal)?;
    let close = rest.find('}')?;
    let name = &rest[1..close];
    let after = &rest[close + 1..];
    // Try the longest value first, so that a literal the value may contain (`-issues-`) is
    // taken from the end.
    let mut ends: Vec<usize> = segment
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    ends.reverse();
    for end in ends {
        let mut tried = Vec::new();
        if match_segment(after, &segment[end..], &mut tried).is_some() {
            let value = percent_encoding::percent_decode_str(&segment[..end])
                .decode_utf8()
                .ok()?;
            if has_dot_segment(&value) {
                return None;
            }
            params.push((name, value.into_owned()));
            params.extend(tried);
            return Some(());
        }
    }
    None
}

/// Whether a decoded path parameter holds a `.` or `..` segment (split on `/` and `\\`).
fn has_dot_segment(value: &str) -> bool {
    value
        .split(['/', '\\'])
        .any(|segment| segment == "." || segment == "..")
}

/// The names in a path template's braces, in order: `{projectKey}` gives `projectKey`.
///
/// ```
/// use bitbucket_core::path::template_params;
///
/// let names: Vec<&str> = template_params("/repositories/{workspace}/{repo_slug}").collect();
/// assert_eq!(names, ["workspace", "repo_slug"]);
/// ```
pub fn template_params(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(template: &str) -> Vec<&str> {
        template_params(template).collect()
    }

    #[test]
    fn template_parameters_in_order() {
        assert_eq!(
            params("/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}"),
            ["workspace", "repo_slug", "pull_request_id"]
        );
        assert_eq!(
            params("/a/{repo_name}-issues-{task_id}.zip"),
            ["repo_name", "task_id"]
        );
        assert!(params("/user").is_empty());
        assert_eq!(
            params("/api/latest/projects/{projectKey}/repos/{repositorySlug}/compare/diff{path}"),
            ["projectKey", "repositorySlug", "path"]
        );
    }
}
