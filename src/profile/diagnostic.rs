//! Problems found in a profile, each tied to a field path and a position.

use std::collections::HashMap;

use super::yaml::{Mark, Node, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Field path as written in the profile: `spec.cluster.nodePools[1].min`.
    pub path: String,
    pub mark: Option<Mark>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn set_hint(&mut self, hint: impl Into<String>) {
        self.hint = Some(hint.into());
    }
}

/// Where each field of the document is: path → position of its value (and of its key,
/// for mapping entries, where "unknown field" errors point).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    values: HashMap<String, Mark>,
}

impl SourceMap {
    pub fn of(root: &Node) -> Self {
        let mut map = SourceMap::default();
        let mut todo = vec![(String::new(), root)];
        while let Some((path, node)) = todo.pop() {
            map.values.insert(path.clone(), node.mark);
            match &node.value {
                Value::Map(entries) => {
                    for (key, _, value) in entries {
                        todo.push((join(&path, key), value));
                    }
                }
                Value::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        todo.push((format!("{path}[{i}]"), item));
                    }
                }
                _ => {}
            }
        }
        map
    }

    /// The position of `path`, or of its nearest written ancestor (a defaulted field has no
    /// position of its own; its parent is where the user would add it).
    /// Where `path` itself is written, if the profile writes it (no fallback to a parent).
    pub fn written(&self, path: &str) -> Option<Mark> {
        self.values.get(path).copied()
    }

    /// Where `path` is written, or else the nearest field above it that is.
    pub fn mark(&self, path: &str) -> Option<Mark> {
        let mut p = path;
        loop {
            if let Some(m) = self.values.get(p) {
                return Some(*m);
            }
            if p.is_empty() {
                return None;
            }
            p = match p.rfind(['.', '[']) {
                Some(i) => &p[..i],
                None => "",
            };
        }
    }
}

pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Collects diagnostics with positions looked up by path.
pub struct Report<'a> {
    pub source: &'a SourceMap,
    pub items: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub fn new(source: &'a SourceMap) -> Self {
        Report {
            source,
            items: Vec::new(),
        }
    }

    pub fn error(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Error, path.into(), message.into())
    }

    pub fn warning(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Warning, path.into(), message.into())
    }

    fn push(&mut self, severity: Severity, path: String, message: String) -> &mut Diagnostic {
        let mark = self.source.mark(&path);
        self.items.push(Diagnostic {
            severity,
            path,
            mark,
            message,
            hint: None,
        });
        self.items.last_mut().expect("just pushed")
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The closest candidate to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word_l = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_l, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edits that separate a typed name from a known one: insertions, deletions, substitutions
/// and swaps of two neighbours (optimal string alignment), ignoring letter case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("nodepools", ["nodePools", "kubernetesVersion"]),
            Some("nodePools")
        );
        assert_eq!(
            did_you_mean("us-east-9", ["us-east-1", "eu-west-1"]),
            Some("us-east-1")
        );
        assert_eq!(did_you_mean("zzzzzz", ["nodePools"]), None);
    }
}
