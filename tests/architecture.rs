//! The module graph, read from the imports: the dependency rules of docs/architecture.md.
//! The core (profile, plan, exec, state, ui, error) never names a cloud module or an SDK;
//! a cloud's module never reaches into another cloud's; the graph has no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Which top-level modules each module may import (`crate::<module>`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("profile", &[]),
    ("plan", &["profile"]),
    ("error", &["plan", "profile"]),
    ("state", &["plan", "profile", "error"]),
    ("exec", &["plan", "state", "profile", "error"]),
    ("ui", &["plan", "profile", "exec", "error"]),
    ("clouds", &["plan", "profile", "exec", "state", "error"]),
    ("cli", &["profile"]),
    ("settings", &["cli", "ui"]),
    (
        "ops",
        &[
            "clouds", "error", "exec", "plan", "profile", "settings", "state", "ui",
        ],
    ),
    (
        "commands",
        &[
            "cli", "clouds", "error", "exec", "ops", "plan", "profile", "settings", "state", "ui",
        ],
    ),
];

/// Crates only a cloud's module may use.
const SDKS: &[&str] = &[
    "aws_sdk_",
    "aws_config",
    "aws_smithy",
    "aws_types",
    "google_cloud",
    "azure_core",
    "azure_identity",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a source file belongs to: `src/plan/diff.rs` → `plan`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix("src").unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// `crate::<module>` names in a file, outside comments.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
    {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let name: String = rest[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
            rest = &rest[i + 7..];
        }
    }
    out
}

#[test]
fn modules_import_only_what_the_rules_allow() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut broken = Vec::new();
    for f in &files {
        let module = module_of(f);
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let rules = allowed.get(module.as_str()).unwrap_or_else(|| {
            panic!(
                "{}: module `{module}` has no rule in this test",
                f.display()
            )
        });
        for dep in imports(&text) {
            if dep != module && !rules.contains(&dep.as_str()) {
                broken.push(format!("{} imports crate::{dep}", f.display()));
            }
            if dep != module {
                graph.entry(module.clone()).or_default().insert(dep);
            }
        }
        if module != "clouds" {
            for sdk in SDKS {
                if text
                    .lines()
                    .any(|l| !l.trim_start().starts_with("//") && l.contains(sdk))
                {
                    broken.push(format!(
                        "{} uses the SDK crate {sdk}*, which only src/clouds may",
                        f.display()
                    ));
                }
            }
        }
        // A cloud's files never reach into another cloud's module.
        if let Ok(rel) = f.strip_prefix("src/clouds") {
            if let Some(cloud) = rel
                .components()
                .next()
                .filter(|_| rel.components().count() > 1)
            {
                let cloud = cloud.as_os_str().to_string_lossy();
                for other in ["aws", "gcp", "azure"].iter().filter(|o| **o != cloud) {
                    if text.contains(&format!("clouds::{other}"))
                        || text.contains(&format!("super::{other}"))
                    {
                        broken.push(format!("{} reaches into the {other} module", f.display()));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports that break docs/architecture.md:\n{}",
        broken.join("\n")
    );

    // No cycle among the top-level modules (depth-first, three colours).
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) {
        match state.get(m) {
            Some(2) => return,
            Some(1) => panic!("import cycle: {} -> {m}", path.join(" -> ")),
            _ => {}
        }
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, state, path);
        }
        path.pop();
        state.insert(m.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        visit(m, &graph, &mut state, &mut Vec::new());
    }
}

#[test]
fn the_rule_table_catches_a_core_module_importing_a_cloud() {
    // The checker itself: a line that names a cloud module is seen.
    assert!(imports("use crate::clouds::aws::plan::ADMIN_ROLE;").contains("clouds"));
    assert!(imports("// use crate::clouds::aws;").is_empty());
    assert!(!ALLOWED
        .iter()
        .find(|(m, _)| *m == "plan")
        .unwrap()
        .1
        .contains(&"clouds"));
}
