//! Prints the generated code: tokens as `quote` spells them, with a line break after each item
//! of a module or `impl` (and after each field of a struct), so that a compiler error in the
//! generated code names a line that holds one item rather than the whole file.
//!
//! Not a formatter: `prettyplease` would lay it out better, but it is a crate that every clean
//! build of the API crates would compile for text nobody reads. When someone does read it,
//! [`RUSTFMT_ENV`] runs `rustfmt` on what was written.

use std::path::Path;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// Set (to anything) to have each generated Rust file formatted by `rustfmt` after it is
/// written: `BITBUCKET_GENERATED_RUSTFMT=1 cargo build`, then read `OUT_DIR`.
pub const RUSTFMT_ENV: &str = "BITBUCKET_GENERATED_RUSTFMT";

/// Braces less deep than this break lines: the file's items (0), a module's (1), an `impl`'s
/// or a struct's (2). A function's body is one line.
const LINE_DEPTH: usize = 3;

/// `file` as Rust source, one item per line.
pub fn unparse(file: &syn::File) -> String {
    let mut out = String::with_capacity(1 << 20);
    print(file.to_token_stream(), 0, &mut out);
    out
}

fn print(tokens: TokenStream, depth: usize, out: &mut String) {
    // How deep in `<..>` the tokens are: a comma between generic arguments ends no field.
    let mut angles = 0usize;
    // `->` and `=>` end in a `>` that closes nothing.
    let mut after_joint = None;
    for token in tokens {
        let joint = match &token {
            TokenTree::Punct(punct) if punct.spacing() == Spacing::Joint => Some(punct.as_char()),
            _ => None,
        };
        match token {
            TokenTree::Group(group)
                if group.delimiter() == Delimiter::Brace && depth < LINE_DEPTH =>
            {
                out.push_str("{\n");
                print(group.stream(), depth + 1, out);
                out.push_str("}\n");
            }
            TokenTree::Punct(punct) if punct.as_char() == ';' && depth < LINE_DEPTH => {
                out.push_str(";\n");
            }
            TokenTree::Punct(punct)
                if punct.as_char() == ',' && depth == LINE_DEPTH - 1 && angles == 0 =>
            {
                out.push_str(",\n");
            }
            TokenTree::Punct(punct) => {
                match punct.as_char() {
                    '<' => angles += 1,
                    '>' if !matches!(after_joint, Some('-' | '=')) => {
                        angles = angles.saturating_sub(1);
                    }
                    _ => {}
                }
                out.push(punct.as_char());
                // `::`, `->`, `'a`: a joint punctuation mark runs into what follows.
                if punct.spacing() == Spacing::Alone {
                    out.push(' ');
                }
            }
            other => {
                out.push_str(&other.to_string());
                out.push(' ');
            }
        }
        after_joint = joint;
    }
}

/// Runs `rustfmt` on `path` when [`RUSTFMT_ENV`] is set; a failure says why.
pub fn rustfmt_if_asked(path: &Path) -> Result<(), String> {
    if std::env::var_os(RUSTFMT_ENV).is_none() {
        return Ok(());
    }
    let status = std::process::Command::new("rustfmt")
        .arg("--edition=2024")
        .arg(path)
        .status()
        .map_err(|e| {
            format!(
                "{RUSTFMT_ENV} is set, but `rustfmt` could not run ({e}): install it \
                 (`rustup component add rustfmt`) or unset {RUSTFMT_ENV}"
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`rustfmt {}` failed ({status}); unset {RUSTFMT_ENV} to keep the file unformatted",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::unparse;

    const SOURCE: &str = r#"
        //! The file's docs.
        use std::fmt::{self, Display};
        /// A type.
        pub mod types {
            #[derive(Clone, Debug)]
            pub struct Tag<'a> { pub name: &'a str, pub r#type: Option<Vec<u8>>, pub extra: std::collections::BTreeMap<String, u16> }
            pub fn f<A, B>() -> Option<A> where A: Into<B>, B: Clone { None }
            impl<'a> Tag<'a> {
                pub fn new(name: &'a str) -> Self { let t = Self { name, r#type: None }; t }
                pub const LIMIT: [u8; 2] = [1, 2];
            }
        }
    "#;

    #[test]
    fn prints_what_it_was_given() {
        let file: syn::File = syn::parse_str(SOURCE).unwrap();
        let printed = unparse(&file);
        let again: syn::File = syn::parse_str(&printed).unwrap();
        assert_eq!(again, file, "{printed}");
    }

    #[test]
    fn puts_each_item_on_its_own_line() {
        let printed = unparse(&syn::parse_str(SOURCE).unwrap());
        let line = |needle: &str| {
            printed
                .lines()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle:?} is not in:\n{printed}"))
        };
        assert!(line("pub struct Tag") < line("pub name"));
        assert!(line("pub name") < line("pub r#type"));
        // A field's generic arguments stay on its line.
        assert_eq!(line("pub extra"), line("u16 >"));
        assert!(line("pub fn new") < line("pub const LIMIT"));
        // A function's body is one line, under its signature.
        assert_eq!(line("let t = Self") - 1, line("pub fn new"));
        assert!(
            printed
                .lines()
                .any(|l| l.contains("let t = Self") && l.contains("; t"))
        );
    }
}
