//! What `Debug` never prints: the rules the generated types follow (`generator/src/rewrite.rs` gives
//! each of them a `Debug` that goes through this module), and the hand-written code too.
//!
//! 1. **Secret names.** A field or JSON key whose name looks like a secret
//!    ([`is_secret_name`]: `secret`, `password`, `token`, `private_key`, ... in any case and
//!    with any separators) prints `[redacted]` (`Some([redacted])` or `None` for an optional
//!    one), wherever it is: a typed field, a key of a type's `extra` map, a key of a JSON
//!    value nested at any depth.
//! 2. **Secured values.** In a type with a `secured` flag and a `value` (pipeline and
//!    deployment variables), `value` prints `[redacted]` unless `secured` is explicitly
//!    `false`: Bitbucket treats such values as secrets.
//!
//! Serialization is unchanged: requests carry the secrets they must.

use std::fmt;

/// How much of a body an error quotes.
const SNIPPET_CHARS: usize = 200;

/// The start of a body (one that is not the product's JSON error), as text, for an error
/// message: at most 200 characters, then `…`.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

use serde_json::{Map, Value};

/// Printed in place of a secret.
const REDACTED: &str = "[redacted]";

/// Whether a field or JSON key named `name` holds a secret: its letters and digits, in lower
/// case, end with one of `secret`, `password`, `passwd`, `passphrase`, `token`, `privatekey`,
/// `apikey`, `credential(s)`, or are `authorization` or `cookie`. So `client_secret`,
/// `accessToken`, `private-key` and `DB_PASSWORD` are secrets; `secret_set`, `token_type` and
/// `public_key` are not.
pub fn is_secret_name(name: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "secret",
        "password",
        "passwd",
        "passphrase",
        "token",
        "privatekey",
        "apikey",
        "credential",
        "credentials",
    ];
    let plain: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ENDINGS.iter().any(|ending| plain.ends_with(ending))
        || matches!(plain.as_str(), "authorization" | "cookie" | "setcookie")
}

/// A field of a generated type, printed under the rules: `[redacted]` when its name is a
/// secret's, its own `Debug` otherwise.
pub struct Field<'a, T: ?Sized> {
    name: &'static str,
    value: &'a T,
}

/// See [`Field`].
pub fn field<'a, T: ?Sized>(name: &'static str, value: &'a T) -> Field<'a, T> {
    Field { name, value }
}

impl<T: fmt::Debug + Presence + ?Sized> fmt::Debug for Field<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_secret_name(self.name) {
            self.value.fmt_redacted(f)
        } else {
            self.value.fmt(f)
        }
    }
}

/// A field holding JSON (`extra`, `serde_json::Value`), printed with every secret-named key
/// redacted at any depth, or redacted whole when its own name is a secret's.
pub struct Json<'a, T: ?Sized> {
    name: &'static str,
    value: &'a T,
}

/// See [`Json`].
pub fn json<'a, T: ?Sized>(name: &'static str, value: &'a T) -> Json<'a, T> {
    Json { name, value }
}

impl<T: JsonDebug + Presence + ?Sized> fmt::Debug for Json<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_secret_name(self.name) {
            self.value.fmt_redacted(f)
        } else {
            self.value.fmt_json(f)
        }
    }
}

/// The `value` of a type that has a `secured` flag: `[redacted]` unless the flag is
/// explicitly `false`.
pub struct Secured<'a, S: ?Sized, T: ?Sized> {
    secured: &'a S,
    value: Field<'a, T>,
}

/// See [`Secured`].
pub fn secured<'a, S: ?Sized, T: ?Sized>(
    secured: &'a S,
    name: &'static str,
    value: &'a T,
) -> Secured<'a, S, T> {
    Secured {
        secured,
        value: field(name, value),
    }
}

impl<S: Flag + ?Sized, T: fmt::Debug + Presence + ?Sized> fmt::Debug for Secured<'_, S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secured.is_false() {
            self.value.fmt(f)
        } else {
            self.value.value.fmt_redacted(f)
        }
    }
}

/// A value printed as `[redacted]` while still telling whether it is there: `None`,
/// `Some([redacted])`, `Ok(..)`/`Err(..)` of a builder's field.
pub trait Presence {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Presence for Option<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(_) => write!(f, "Some({REDACTED})"),
            None => f.write_str("None"),
        }
    }
}

impl<T: Presence, E> Presence for Result<T, E> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ok(value) => {
                f.write_str("Ok(")?;
                value.fmt_redacted(f)?;
                f.write_str(")")
            }
            // A conversion message may quote the value.
            Err(_) => write!(f, "Err({REDACTED})"),
        }
    }
}

impl<T: ?Sized> Presence for Box<T> {}
impl<T> Presence for Vec<T> {}
impl Presence for String {}
impl Presence for str {}
impl Presence for bool {}
impl Presence for i64 {}
impl Presence for u64 {}
impl Presence for f64 {}
impl Presence for Value {}
impl Presence for Map<String, Value> {}
impl Presence for std::collections::HashMap<String, String> {}

/// A flag that says whether a value is a secret.
pub trait Flag {
    /// Whether it explicitly says "not secret".
    fn is_false(&self) -> bool;
}

impl Flag for bool {
    fn is_false(&self) -> bool {
        !*self
    }
}

impl<T: Flag> Flag for Option<T> {
    fn is_false(&self) -> bool {
        self.as_ref().is_some_and(Flag::is_false)
    }
}

impl<T: Flag, E> Flag for Result<T, E> {
    fn is_false(&self) -> bool {
        self.as_ref().is_ok_and(Flag::is_false)
    }
}

/// JSON printed like its `Debug`, with secret-named keys redacted at any depth.
pub trait JsonDebug {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl JsonDebug for Value {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Object(map) => {
                f.write_str("Object ")?;
                map.fmt_json(f)
            }
            Value::Array(items) => {
                f.write_str("Array ")?;
                items.fmt_json(f)
            }
            scalar => fmt::Debug::fmt(scalar, f),
        }
    }
}

impl JsonDebug for Map<String, Value> {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self {
            if is_secret_name(key) {
                map.entry(key, &format_args!("{REDACTED}"));
            } else {
                map.entry(key, &Shown(value));
            }
        }
        map.finish()
    }
}

/// Form fields (`extra` of a multipart or form body): a secret-named key's value is redacted.
impl JsonDebug for std::collections::HashMap<String, String> {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self {
            if is_secret_name(key) {
                map.entry(key, &format_args!("{REDACTED}"));
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

impl<T: JsonDebug> JsonDebug for Vec<T> {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Shown)).finish()
    }
}

impl<T: JsonDebug> JsonDebug for Option<T> {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(value) => f.debug_tuple("Some").field(&Shown(value)).finish(),
            None => f.write_str("None"),
        }
    }
}

impl<T: JsonDebug + ?Sized> JsonDebug for Box<T> {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_json(f)
    }
}

impl<T: JsonDebug, E: fmt::Debug> JsonDebug for Result<T, E> {
    fn fmt_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ok(value) => f.debug_tuple("Ok").field(&Shown(value)).finish(),
            Err(error) => f.debug_tuple("Err").field(error).finish(),
        }
    }
}

/// A field of a hand-written type, for macros that cannot tell JSON fields from typed ones:
/// `(&Probe(name, &value)).shown()` prints a JSON field ([`JsonDebug`]) as [`json`] does and any
/// other as [`field`] does (with [`ShowAsJson`] and [`ShowAsDebug`] in scope; method
/// resolution tries the JSON impl, on `Probe`, before the other, on `&Probe`).
pub struct Probe<'a, T: ?Sized>(pub &'static str, pub &'a T);

/// See [`Probe`].
pub trait ShowAsJson {
    /// The field as [`json`] shows it.
    fn shown(&self) -> Box<dyn fmt::Debug + '_>;
}

impl<T: JsonDebug + Presence + ?Sized> ShowAsJson for Probe<'_, T> {
    fn shown(&self) -> Box<dyn fmt::Debug + '_> {
        Box::new(json(self.0, self.1))
    }
}

/// See [`Probe`].
pub trait ShowAsDebug {
    /// The field as [`field`] shows it.
    fn shown(&self) -> Box<dyn fmt::Debug + '_>;
}

impl<T: fmt::Debug + Presence + ?Sized> ShowAsDebug for &Probe<'_, T> {
    fn shown(&self) -> Box<dyn fmt::Debug + '_> {
        Box::new(field(self.0, self.1))
    }
}

/// A JSON value's [`JsonDebug`] as its `Debug`.
pub struct Shown<'a, T: ?Sized>(pub &'a T);

impl<T: JsonDebug + ?Sized> fmt::Debug for Shown<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_json(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_names() {
        for name in [
            "secret",
            "client_secret",
            "clientSecret",
            "password",
            "DB_PASSWORD",
            "token",
            "access_token",
            "accessToken",
            "refresh-token",
            "private_key",
            "privateKey",
            "api_key",
            "credentials",
            "Authorization",
            "passphrase",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "secret_set",
            "token_type",
            "public_key",
            "key",
            "name",
            "value",
            "uuid",
            "tokens_count",
            "",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn json_is_redacted_at_any_depth() {
        let value = json!({
            "name": "deploy",
            "token": "tok-1",
            "nested": [{"config": {"clientSecret": "sec-2", "url": "https://x"}}],
            "password": {"anything": "pw-3"},
        });
        let shown = format!("{:?}", Shown(&value));
        for secret in ["tok-1", "sec-2", "pw-3"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"https://x\""), "{shown}");
        assert!(shown.contains("\"token\": [redacted]"), "{shown}");
        // The same shape as `Value`'s own `Debug` for what is not redacted.
        let plain = json!({"a": [1, "b", null, true]});
        assert_eq!(format!("{:?}", Shown(&plain)), format!("{plain:?}"));
    }

    #[test]
    fn secured_values() {
        let value = Some("s3cr3t".to_string());
        let shown = |flag: Option<bool>| format!("{:?}", secured(&flag, "value", &value));
        assert_eq!(shown(Some(true)), "Some([redacted])");
        assert_eq!(shown(None), "Some([redacted])");
        assert_eq!(shown(Some(false)), "Some(\"s3cr3t\")");
        let builder_flag: Result<Option<bool>, String> = Ok(Some(false));
        let builder_value: Result<Option<String>, String> = Ok(value.clone());
        assert_eq!(
            format!("{:?}", secured(&builder_flag, "value", &builder_value)),
            "Ok(Some(\"s3cr3t\"))"
        );
        let builder_flag: Result<Option<bool>, String> = Ok(Some(true));
        assert_eq!(
            format!("{:?}", secured(&builder_flag, "value", &builder_value)),
            "Ok(Some([redacted]))"
        );
    }
}
