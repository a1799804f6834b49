//! `application/x-www-form-urlencoded` bodies, for the operations that take a form
//! (`POST .../commits` with `include`/`exclude`, `POST .../src`).
//!
//! Bitbucket reads a repeated key as a list (`include=main&include=dev`), which
//! `serde_urlencoded` refuses to write; this encodes the body's JSON form instead: strings,
//! numbers and booleans as themselves, a list as one pair per item, and unset fields not at
//! all.

use serde::Serialize;
use serde_json::Value;

/// The form encoding of `body`, whose fields are values or lists of values.
pub(crate) fn urlencoded<T: Serialize + ?Sized>(body: &T) -> Result<String, String> {
    let value = serde_json::to_value(body).map_err(|e| format!("encoding the form: {e}"))?;
    let Value::Object(fields) = value else {
        return Err("a form body must be an object of fields".into());
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &fields {
        match value {
            Value::Array(items) => {
                for item in items {
                    form.append_pair(name, &scalar(name, item)?);
                }
            }
            Value::Null => {}
            other => {
                form.append_pair(name, &scalar(name, other)?);
            }
        }
    }
    Ok(form.finish())
}

fn scalar(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(format!(
            "the form field `{name}` holds {value}, which a form cannot carry"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::urlencoded;
    use serde_json::json;

    #[test]
    fn lists_repeat_their_key_and_unset_fields_are_left_out() {
        let body = json!({"include": ["main", "feature/a b"], "exclude": [], "path": null, "n": 3});
        assert_eq!(
            urlencoded(&body).unwrap(),
            "include=main&include=feature%2Fa+b&n=3"
        );
    }

    #[test]
    fn nested_objects_are_refused() {
        let error = urlencoded(&json!({"author": {"name": "x"}})).unwrap_err();
        assert!(error.contains("`author`"), "{error}");
        assert!(urlencoded(&json!(["a"])).is_err());
    }
}
