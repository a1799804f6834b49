//! The `q` and `sort` parameters of Bitbucket's
//! [filtering and sorting](https://developer.atlassian.com/cloud/bitbucket/rest/intro/#filtering),
//! applied to the JSON of a list's items.
//!
//! Supported: comparisons `=`, `!=`, `~` (contains, case-insensitive), `!~`, `>`, `>=`, `<`,
//! `<=` of a dotted field path (`source.branch.name`) with a string, number, `true`, `false`,
//! `null` or bare word; `AND`, `OR` and parentheses. A path through a list matches when any
//! element does.
//!
//! Parentheses nest at most [`MAX_DEPTH`] deep: parsing and matching recurse once per level,
//! and a request must not be able to overflow the stack.

use std::cmp::Ordering;

use serde_json::Value;

/// How deep parentheses may nest in a `q`.
pub(crate) const MAX_DEPTH: usize = 32;

/// A parsed `q`.
#[derive(Debug)]
pub(crate) enum Filter {
    Or(Vec<Filter>),
    And(Vec<Filter>),
    Compare {
        path: Vec<String>,
        op: Op,
        value: Value,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Op(Op),
    Open,
    Close,
}

fn tokenize(q: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('\\') => text.extend(chars.next()),
                        Some('"') => break,
                        Some(c) => text.push(c),
                    }
                }
                tokens.push(Token::Str(text));
            }
            '=' | '~' | '!' | '<' | '>' => {
                chars.next();
                let eq = chars.peek() == Some(&'=');
                let tilde = chars.peek() == Some(&'~');
                let op = match (c, eq, tilde) {
                    ('=', _, _) => Op::Eq,
                    ('~', _, _) => Op::Contains,
                    ('!', true, _) => Op::Ne,
                    ('!', _, true) => Op::NotContains,
                    ('<', true, _) => Op::Le,
                    ('<', _, _) => Op::Lt,
                    ('>', true, _) => Op::Ge,
                    ('>', _, _) => Op::Gt,
                    _ => return Err(format!("unexpected `{c}`")),
                };
                if matches!(op, Op::Ne | Op::NotContains | Op::Le | Op::Ge) {
                    chars.next();
                }
                tokens.push(Token::Op(op));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "()\"=~!<>".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// Parses `q`; the error says what is wrong.
pub(crate) fn parse(q: &str) -> Result<Filter, String> {
    let tokens = tokenize(q)?;
    let mut pos = 0;
    let filter = parse_or(&tokens, &mut pos, 0)?;
    if pos != tokens.len() {
        return Err(format!("unexpected {:?}", tokens[pos]));
    }
    Ok(filter)
}

fn keyword(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

fn parse_or(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Filter, String> {
    let mut terms = vec![parse_and(tokens, pos, depth)?];
    while keyword(tokens.get(*pos), "or") {
        *pos += 1;
        terms.push(parse_and(tokens, pos, depth)?);
    }
    Ok(if terms.len() == 1 {
        terms.remove(0)
    } else {
        Filter::Or(terms)
    })
}

fn parse_and(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Filter, String> {
    let mut terms = vec![parse_term(tokens, pos, depth)?];
    while keyword(tokens.get(*pos), "and") {
        *pos += 1;
        terms.push(parse_term(tokens, pos, depth)?);
    }
    Ok(if terms.len() == 1 {
        terms.remove(0)
    } else {
        Filter::And(terms)
    })
}

fn parse_term(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Filter, String> {
    match tokens.get(*pos) {
        Some(Token::Open) if depth >= MAX_DEPTH => {
            Err(format!("parentheses nest more than {MAX_DEPTH} deep"))
        }
        Some(Token::Open) => {
            *pos += 1;
            let inner = parse_or(tokens, pos, depth + 1)?;
            if tokens.get(*pos) != Some(&Token::Close) {
                return Err("missing `)`".into());
            }
            *pos += 1;
            Ok(inner)
        }
        Some(Token::Word(path)) => {
            let path = path.split('.').map(str::to_string).collect();
            let Some(Token::Op(op)) = tokens.get(pos.saturating_add(1)) else {
                return Err("expected an operator after the field".into());
            };
            let value = match tokens.get(pos.saturating_add(2)) {
                Some(Token::Str(s)) => Value::String(s.clone()),
                Some(Token::Word(w)) => literal(w),
                _ => return Err("expected a value after the operator".into()),
            };
            *pos += 3;
            Ok(Filter::Compare {
                path,
                op: *op,
                value,
            })
        }
        other => Err(format!("expected a field, found {other:?}")),
    }
}

fn literal(word: &str) -> Value {
    match word {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => word
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| word.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(word.to_string())),
    }
}

impl Filter {
    pub fn matches(&self, item: &Value) -> bool {
        match self {
            Filter::Or(terms) => terms.iter().any(|t| t.matches(item)),
            Filter::And(terms) => terms.iter().all(|t| t.matches(item)),
            Filter::Compare { path, op, value } => {
                let found = resolve(item, path);
                match op {
                    // A negation holds when no value matches the positive form.
                    Op::Ne => !found.iter().any(|v| compare(v, Op::Eq, value)),
                    Op::NotContains => !found.iter().any(|v| compare(v, Op::Contains, value)),
                    _ if found.is_empty() => value.is_null() && *op == Op::Eq,
                    _ => found.iter().any(|v| compare(v, *op, value)),
                }
            }
        }
    }
}

/// The values at `path`, stepping into every element of a list on the way.
fn resolve<'a>(item: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return match item {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
    };
    match item {
        Value::Object(map) => map.get(first).map(|v| resolve(v, rest)).unwrap_or_default(),
        Value::Array(items) => items.iter().flat_map(|v| resolve(v, path)).collect(),
        _ => Vec::new(),
    }
}

fn compare(found: &Value, op: Op, wanted: &Value) -> bool {
    match op {
        Op::Eq => found == wanted || loose_eq(found, wanted),
        Op::Contains => match (found, wanted) {
            (Value::String(f), Value::String(w)) => f.to_lowercase().contains(&w.to_lowercase()),
            _ => false,
        },
        Op::Gt | Op::Ge | Op::Lt | Op::Le => match order(found, wanted) {
            Some(ordering) => match op {
                Op::Gt => ordering == Ordering::Greater,
                Op::Ge => ordering != Ordering::Less,
                Op::Lt => ordering == Ordering::Less,
                _ => ordering != Ordering::Greater,
            },
            None => false,
        },
        Op::Ne => !compare(found, Op::Eq, wanted),
        Op::NotContains => !compare(found, Op::Contains, wanted),
    }
}

/// `id = "7"` matches the number 7.
fn loose_eq(found: &Value, wanted: &Value) -> bool {
    match (found, wanted) {
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            n.to_string() == *s
        }
        _ => false,
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Sorts by `sort` (`field.path`, or `-field.path` for descending). Absent values come first,
/// then `null`, booleans, numbers, strings, and lists and objects (which compare equal): a
/// total order whatever the items hold, as `sort_by` requires.
pub(crate) fn sort(items: &mut [Value], sort: &str) {
    let (descending, field) = match sort.strip_prefix('-') {
        Some(field) => (true, field),
        None => (false, sort),
    };
    let path: Vec<String> = field.split('.').map(str::to_string).collect();
    items.sort_by(|a, b| {
        let a = resolve(a, &path).into_iter().next();
        let b = resolve(b, &path).into_iter().next();
        let ordering = total_order(a, b);
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
}

/// Orders any two values (or their absence) consistently.
fn total_order(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None => 0,
            Some(Value::Null) => 1,
            Some(Value::Bool(_)) => 2,
            Some(Value::Number(_)) => 3,
            Some(Value::String(_)) => 4,
            Some(Value::Array(_) | Value::Object(_)) => 5,
        }
    }
    match (a, b) {
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            a.total_cmp(&b)
        }
        (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comparisons_and_logic() {
        let pr = json!({
            "id": 7,
            "state": "OPEN",
            "title": "Add Feature X",
            "source": { "branch": { "name": "feature/x" } },
            "reviewers": [{ "nickname": "grace" }, { "nickname": "alan" }],
        });
        let yes = [
            r#"state = "OPEN""#,
            r#"title ~ "feature x""#,
            r#"source.branch.name = "feature/x" AND id > 5"#,
            r#"state = "MERGED" OR (id >= 7 and id <= 7)"#,
            r#"reviewers.nickname = "alan""#,
            r#"id = "7""#,
            r#"state != "MERGED""#,
            "closed_by = null",
        ];
        for q in yes {
            assert!(parse(q).unwrap().matches(&pr), "{q}");
        }
        let no = [
            r#"state = "MERGED""#,
            r#"title !~ "feature""#,
            "id < 7",
            r#"reviewers.nickname = "ada""#,
        ];
        for q in no {
            assert!(!parse(q).unwrap().matches(&pr), "{q}");
        }
        assert!(parse(r#"state = "OPEN"#).is_err());
        assert!(parse("state OPEN").is_err());
        assert!(parse("(state = 1").is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}state = \"OPEN\"{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&deep(MAX_DEPTH)).is_ok());
        let error = parse(&deep(MAX_DEPTH + 1)).unwrap_err();
        assert!(error.contains("nest"), "{error}");
        // Far too deep is refused as quickly, on a small stack.
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(&deep(100_000)).is_err())
            .unwrap();
        assert!(handle.join().unwrap());
    }

    #[test]
    fn sorting_mixed_values_is_a_total_order() {
        // Numbers, strings, nulls, objects and absent values in one field: `sort_by` panics
        // on an inconsistent order, so this must not.
        let mut items: Vec<Value> = (0..200)
            .map(|i| match i % 6 {
                0 => json!({"v": i}),
                1 => json!({"v": format!("s{i}")}),
                2 => json!({"v": null}),
                3 => json!({"v": {"x": i}}),
                4 => json!({"v": i % 2 == 0}),
                _ => json!({}),
            })
            .collect();
        sort(&mut items, "v");
        sort(&mut items, "-v");
        assert_eq!(items.len(), 200);
        sort(&mut items, "v");
        assert_eq!(items[0], json!({}));
        assert!(items[199]["v"].is_object());
    }

    #[test]
    fn sorts_both_ways() {
        let mut items = vec![json!({"n": 2}), json!({"n": 3}), json!({"n": 1})];
        sort(&mut items, "-n");
        assert_eq!(
            items,
            vec![json!({"n": 3}), json!({"n": 2}), json!({"n": 1})]
        );
        sort(&mut items, "n");
        assert_eq!(items[0], json!({"n": 1}));
    }
}
