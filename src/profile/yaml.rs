//! A YAML loader that keeps the position of every node.
//!
//! Profiles are small, but they come from people and from CI templating, so the loader is
//! defensive: it refuses input that is not UTF-8 text, too large, too deeply nested, or
//! that expands aliases into a "billion laughs". It builds the tree with an explicit stack
//! (no recursion on input depth) and keeps a `line:col` for every node so that every later
//! error can point at the line the user has to edit.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Largest profile accepted, in bytes. Real profiles are a few kilobytes.
pub const MAX_INPUT_BYTES: usize = 1 << 20;
/// Deepest nesting accepted. The schema itself is six levels deep.
pub const MAX_DEPTH: usize = 64;
/// Most nodes accepted after alias expansion.
pub const MAX_NODES: usize = 100_000;

/// A 1-based line and column in the profile source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, serde::Serialize)]
pub struct Mark {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are always strings (checked while loading).
    Map(Vec<(String, Mark, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

impl Node {
    /// What a user would call this node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON, for typed deserialization after the schema check.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A failure to read the document at all (as opposed to a document with wrong content).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    pub message: String,
    pub mark: Option<Mark>,
    pub hint: Option<String>,
}

impl LoadError {
    fn at(mark: Mark, message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            mark: Some(mark),
            hint: None,
        }
    }
    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Parses bytes into one YAML document with positions.
pub fn load(bytes: &[u8]) -> Result<Node, LoadError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(LoadError {
            message: format!(
                "the profile is {} bytes; the limit is {} bytes",
                bytes.len(),
                MAX_INPUT_BYTES
            ),
            mark: None,
            hint: Some("a profile is a few kilobytes; is this the right file?".into()),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        LoadError::at(position_of(before), "the profile is not UTF-8 text")
            .hint("profiles are YAML text files; is this the right file?")
    })?;
    if let Some(at) = text.find('\0') {
        return Err(
            LoadError::at(position_of(&bytes[..at]), "the profile contains a NUL byte")
                .hint("profiles are YAML text files; is this the right file?"),
        );
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(LoadError {
            message: "the profile is empty".into(),
            mark: None,
            hint: Some("`unionctl init --cloud aws --model byoc` writes a starter profile".into()),
        });
    }
    Builder::default().run(text)
}

/// Line and column of the end of `prefix`, for errors found before parsing.
fn position_of(prefix: &[u8]) -> Mark {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    Mark {
        line,
        col: prefix.len() - start + 1,
    }
}

enum Open {
    Seq {
        mark: Mark,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        mark: Mark,
        anchor: usize,
        entries: Vec<(String, Mark, Node)>,
        key: Option<(String, Mark)>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Node, LoadError> {
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| {
                let m = e.marker();
                LoadError::at(
                    Mark {
                        line: m.line(),
                        col: m.col() + 1,
                    },
                    format!("invalid YAML: {}", e.info()),
                )
            })?;
            let mark = Mark {
                line: span.start.line(),
                col: span.start.col() + 1,
            };
            match event {
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(LoadError::at(
                            mark,
                            "the file holds more than one YAML document",
                        )
                        .hint("a profile is one document; remove the extra `---`"));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let tag = tag.map(|t| t.suffix.clone());
                    let value = resolve_scalar(&text, style, tag.as_deref());
                    self.push(Node { value, mark }, anchor)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.open(Open::Seq {
                        mark,
                        anchor,
                        items: Vec::new(),
                    })?;
                }
                Event::MappingStart(anchor, _) => {
                    self.open(Open::Map {
                        mark,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    })?;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor) = match self.stack.pop() {
                        Some(Open::Seq {
                            mark,
                            anchor,
                            items,
                        }) => (
                            Node {
                                value: Value::Seq(items),
                                mark,
                            },
                            anchor,
                        ),
                        Some(Open::Map {
                            mark,
                            anchor,
                            entries,
                            ..
                        }) => (
                            Node {
                                value: Value::Map(entries),
                                mark,
                            },
                            anchor,
                        ),
                        None => {
                            return Err(LoadError::at(mark, "invalid YAML: unbalanced collection"))
                        }
                    };
                    self.push(node, anchor)?;
                }
                Event::Alias(id) => {
                    let node = self.anchors.get(&id).cloned().ok_or_else(|| {
                        LoadError::at(mark, "invalid YAML: alias to an unknown anchor")
                    })?;
                    self.count(count_nodes(&node), mark)?;
                    self.attach(Node { mark, ..node })?;
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        self.root.ok_or_else(|| LoadError {
            message: "the profile is empty".into(),
            mark: None,
            hint: None,
        })
    }

    fn count(&mut self, n: usize, mark: Mark) -> Result<(), LoadError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(LoadError::at(
                mark,
                format!("the profile expands to more than {MAX_NODES} values"),
            )
            .hint("aliases (`*name`) repeat whole subtrees; a profile needs few of them"));
        }
        Ok(())
    }

    fn open(&mut self, open: Open) -> Result<(), LoadError> {
        let mark = match &open {
            Open::Seq { mark, .. } | Open::Map { mark, .. } => *mark,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(LoadError::at(
                mark,
                format!("the profile is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.count(1, mark)?;
        self.stack.push(open);
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), LoadError> {
        if !matches!(node.value, Value::Seq(_) | Value::Map(_)) {
            self.count(1, node.mark)?;
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node)
    }

    fn attach(&mut self, node: Node) -> Result<(), LoadError> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Open::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Open::Map { entries, key, .. }) => match key.take() {
                Some((k, kmark)) => {
                    entries.push((k, kmark, node));
                    Ok(())
                }
                None => {
                    let k = match node.value {
                        Value::Str(s) => s,
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Float(f) => f.to_string(),
                        Value::Null => "null".to_string(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(LoadError::at(
                                node.mark,
                                "a mapping key must be a plain name, not a list or mapping",
                            ))
                        }
                    };
                    if entries.iter().any(|(existing, _, _)| *existing == k) {
                        return Err(LoadError::at(
                            node.mark,
                            format!("key `{k}` appears twice in the same mapping"),
                        )
                        .hint("remove one of them; YAML keeps only one value per key"));
                    }
                    *key = Some((k, node.mark));
                    Ok(())
                }
            },
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(_, _, v)| count_nodes(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// YAML 1.2 core schema resolution of a scalar: quoted or `!!str` scalars are strings,
/// plain ones may be null, booleans or numbers.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::Str(text.to_string()),
        Some("null") => return Value::Null,
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    let looks_numeric = text
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_numeric {
        if let Ok(f) = text.parse::<f64>() {
            if f.is_finite() {
                return Value::Float(f);
            }
        }
    }
    Value::Str(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_types() {
        let doc = load(b"a: 1\nb:\n  - 'x'\n  - true\nc: 1.31\n").unwrap();
        let Value::Map(entries) = &doc.value else {
            panic!("map")
        };
        assert_eq!(entries[0].0, "a");
        assert_eq!(entries[0].2.value, Value::Int(1));
        assert_eq!(entries[0].2.mark, Mark { line: 1, col: 4 });
        let Value::Seq(items) = &entries[1].2.value else {
            panic!("seq")
        };
        assert_eq!(items[0].value, Value::Str("x".into()));
        assert_eq!(items[1].mark, Mark { line: 4, col: 5 });
        assert_eq!(entries[2].2.value, Value::Float(1.31));
    }

    #[test]
    fn refuses_hostile_input() {
        assert!(load(b"").unwrap_err().message.contains("empty"));
        assert!(load(b"a: \xff\xfe").unwrap_err().message.contains("UTF-8"));
        assert!(load(b"a: 1\na: 2\n").unwrap_err().message.contains("twice"));
        assert!(load(b"a: 1\n---\nb: 2\n")
            .unwrap_err()
            .message
            .contains("more than one"));
        let deep = "[".repeat(500);
        assert!(load(deep.as_bytes()).is_err());
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            laughs.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(load(laughs.as_bytes())
            .unwrap_err()
            .message
            .contains("expands"));
    }
}
