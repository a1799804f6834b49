//! Comparing and merging file trees: unified diffs for pull requests, three-way merges for
//! merge commits.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::store::Tree;

const CONTEXT: usize = 3;

/// `git diff`-style text of the changes from `old` to `new`.
pub(crate) fn unified(old: &Tree, new: &Tree) -> String {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = String::new();
    for path in paths {
        let (a, b) = (old.get(path), new.get(path));
        if a == b {
            continue;
        }
        let _ = writeln!(out, "diff --git a/{path} b/{path}");
        match (a, b) {
            (None, _) => {
                let _ = writeln!(out, "new file mode 100644\n--- /dev/null\n+++ b/{path}");
            }
            (_, None) => {
                let _ = writeln!(out, "deleted file mode 100644\n--- a/{path}\n+++ /dev/null");
            }
            _ => {
                let _ = writeln!(out, "--- a/{path}\n+++ b/{path}");
            }
        }
        hunk(
            &mut out,
            a.map_or("", String::as_str),
            b.map_or("", String::as_str),
        );
    }
    out
}

/// One hunk around the changed lines (between the common first and last lines).
fn hunk(out: &mut String, old: &str, new: &str) {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let before = prefix.min(CONTEXT);
    let after = suffix.min(CONTEXT);
    let start = prefix - before;
    let old_len = a.len() - prefix - suffix + before + after;
    let new_len = b.len() - prefix - suffix + before + after;
    let position = |len: usize| if len == 0 { start } else { start + 1 };
    let _ = writeln!(
        out,
        "@@ -{},{old_len} +{},{new_len} @@",
        position(old_len),
        position(new_len)
    );
    for line in &a[start..prefix] {
        let _ = writeln!(out, " {line}");
    }
    for line in &a[prefix..a.len() - suffix] {
        let _ = writeln!(out, "-{line}");
    }
    for line in &b[prefix..b.len() - suffix] {
        let _ = writeln!(out, "+{line}");
    }
    for line in &a[a.len() - suffix..a.len() - suffix + after] {
        let _ = writeln!(out, " {line}");
    }
}

/// Merges `theirs` into `ours` given their common `base`, whole file by whole file. The error
/// lists the files both sides changed differently.
pub(crate) fn merge(base: &Tree, ours: &Tree, theirs: &Tree) -> Result<Tree, Vec<String>> {
    let paths: BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut merged = Tree::new();
    let mut conflicts = Vec::new();
    for path in paths {
        let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
        let chosen = if o == t || t == b {
            o
        } else if o == b {
            t
        } else {
            conflicts.push(path.clone());
            continue;
        };
        if let Some(content) = chosen {
            merged.insert(path.clone(), content.clone());
        }
    }
    if conflicts.is_empty() {
        Ok(merged)
    } else {
        Err(conflicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn diffs_added_changed_and_removed_files() {
        let old = tree(&[("a.txt", "1\n2\n3\n4\n5\n6\n7\n8\n"), ("gone.txt", "x\n")]);
        let new = tree(&[
            ("a.txt", "1\n2\n3\n4\nfive\n6\n7\n8\n"),
            ("new.txt", "hello\n"),
        ]);
        let text = unified(&old, &new);
        assert_eq!(
            text,
            "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n\
             diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-x\n\
             diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,1 @@\n+hello\n"
        );
    }

    #[test]
    fn merges_and_reports_conflicts() {
        let base = tree(&[("a", "1"), ("b", "1")]);
        let ours = tree(&[("a", "2"), ("b", "1")]);
        let theirs = tree(&[("a", "1"), ("b", "3"), ("c", "new")]);
        assert_eq!(
            merge(&base, &ours, &theirs).unwrap(),
            tree(&[("a", "2"), ("b", "3"), ("c", "new")])
        );
        let clash = tree(&[("a", "9"), ("b", "1")]);
        assert_eq!(
            merge(&base, &ours, &clash).unwrap_err(),
            vec!["a".to_string()]
        );
    }
}
