//! Fleets: `plan` and `apply` over several profiles (or a directory of them). Each data
//! plane runs as the single-profile command does, on its own thread and with its own
//! state and lock, at most `--fleet-parallelism` at once; their API rate limits are shared
//! per account (see `exec::ratelimit::shared`). What each would print is kept, not
//! interleaved; the fleet ends with one table and an exit status that says whether any
//! data plane failed. One data plane's failure never stops the others.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{json, Value};

use crate::error::{ExitStatus, UserError};
use crate::settings::Settings;
use crate::ui::Ui;

/// What `-f` named: one profile, or a fleet.
pub enum Targets {
    One(PathBuf),
    Fleet(Vec<PathBuf>),
}

/// Files as given, and directories as the `*.yaml` / `*.yml` files in them (not
/// recursive), sorted. One file alone is a single data plane.
pub fn targets(given: &[PathBuf]) -> Result<Targets> {
    if let [one] = given {
        if !one.is_dir() {
            return Ok(Targets::One(one.clone()));
        }
    }
    let mut files = Vec::new();
    for path in given {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut yaml: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| UserError::new(format!("cannot read directory {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        yaml.sort();
        // A directory of profiles may hold other YAML too (Helm values, CI files): only
        // documents of `kind: DataPlane` are profiles.
        let found: Vec<PathBuf> = yaml
            .into_iter()
            .filter(|p| kind_of(p).is_none_or(|k| k == crate::profile::schema::KIND))
            .collect();
        if found.is_empty() {
            return Err(UserError::new(format!(
                "{} holds no profiles (YAML files of kind: DataPlane)",
                path.display()
            ))
            .into());
        }
        files.extend(found);
    }
    // Each data plane once: two profiles of one name (in one account) would be one data
    // plane, worked on twice at once.
    let mut seen: Vec<(String, &PathBuf)> = Vec::new();
    for f in &files {
        let Some(key) = data_plane_of(f) else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(UserError::new(format!(
                "{} and {} are both data plane {key}: a fleet holds each data plane once",
                first.display(),
                f.display()
            ))
            .hint("give one of them another metadata.name, or leave it out")
            .into());
        }
        seen.push((key, f));
    }
    Ok(Targets::Fleet(files))
}

/// A YAML file's `kind`, if it parses: `None` for a file that does not (it is reported as
/// the broken profile it may be).
fn kind_of(file: &Path) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    let doc = crate::profile::yaml::load(&bytes).ok()?.to_json();
    Some(
        doc.get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string(),
    )
}

/// `name (cloud account)` of a profile, as far as it parses.
fn data_plane_of(file: &Path) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    let doc = crate::profile::yaml::load(&bytes).ok()?.to_json();
    let name = doc.pointer("/metadata/name")?.as_str()?;
    let cloud = doc
        .pointer("/spec/cloud/provider")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?");
    let account = [
        "/spec/cloud/aws/accountId",
        "/spec/cloud/gcp/projectId",
        "/spec/cloud/azure/subscriptionId",
    ]
    .iter()
    .find_map(|p| doc.pointer(p).and_then(serde_json::Value::as_str))
    .unwrap_or("?");
    Some(format!("`{name}` ({cloud} {account})"))
}

/// One data plane's run.
pub struct Row {
    pub file: PathBuf,
    pub data_plane: String,
    pub cloud: String,
    pub model: String,
    pub status: ExitStatus,
    /// The command's result object (as `--output json` would write it).
    pub result: Value,
    /// What it printed.
    pub log: String,
    pub elapsed: Duration,
}

impl Row {
    fn failed(&self) -> bool {
        !matches!(self.status, ExitStatus::Success | ExitStatus::Changes)
    }

    /// "+3 ~1 -/+0 -0", from the plan in the result.
    fn changes(&self) -> String {
        let summary = self
            .result
            .get("summary")
            .or_else(|| self.result.pointer("/plan/summary"));
        match summary {
            Some(s) => {
                let n = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
                if n("create") + n("update") + n("replace") + n("delete") == 0 {
                    "none".into()
                } else {
                    format!(
                        "+{} ~{} -/+{} -{}",
                        n("create"),
                        n("update"),
                        n("replace"),
                        n("delete")
                    )
                }
            }
            None => "-".into(),
        }
    }

    fn outcome(&self) -> String {
        match self.status {
            ExitStatus::Success => "ok".into(),
            ExitStatus::Changes => "changes".into(),
            status => {
                let message = self
                    .result
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("failed");
                let label = if status == ExitStatus::Invariant {
                    "invariant violated"
                } else {
                    "failed"
                };
                format!("{label}: {message}")
            }
        }
    }
}

/// Runs `one` for every file, at most `limit` at once; never stops early.
pub fn run_all(
    files: &[PathBuf],
    limit: usize,
    settings: &Settings,
    command: &str,
    one: &(dyn Fn(&Path, &Settings) -> Result<ExitStatus> + Sync),
) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new(files.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..limit.clamp(1, files.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(file) = files.get(i) else { break };
                let row = run_one(file, settings, command, one);
                rows.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(row);
            });
        }
    });
    rows.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

fn run_one(
    file: &Path,
    settings: &Settings,
    command: &str,
    one: &(dyn Fn(&Path, &Settings) -> Result<ExitStatus> + Sync),
) -> Row {
    let ui = Ui::captured();
    let own = Settings {
        ui: ui.clone(),
        state_dir: settings.state_dir.clone(),
        state_url: None,
    };
    let t0 = Instant::now();
    let status = match std::panic::catch_unwind(AssertUnwindSafe(|| one(file, &own))) {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => {
            let status = crate::error::exit_status(&err);
            ui.error(&err);
            ui.error_result(command, &err, status);
            status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let err = anyhow::anyhow!("unionctl failed unexpectedly on this data plane: {what}");
            ui.error(&err);
            ui.error_result(command, &err, ExitStatus::Failure);
            ExitStatus::Failure
        }
    };
    let capture = ui.capture.expect("a captured UI");
    let mut result = capture
        .result
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or(Value::Null);
    let log = std::mem::take(&mut *capture.log.lock().unwrap_or_else(|e| e.into_inner()));
    if !settings.ui.json_events {
        // Only the table is shown: the per-resource changes need not be kept (a fleet of
        // thousands would hold every plan).
        for at in ["/changes", "/plan/changes"] {
            if let Some(changes) = result.pointer_mut(at) {
                *changes = Value::Null;
            }
        }
    }
    // The columns come from the result; from the profile itself when the command failed
    // before it knew them.
    let of_result = |key: &str| {
        result
            .get(key)
            .or_else(|| result.pointer(&format!("/plan/{key}")))
            .and_then(Value::as_str)
            .map(String::from)
    };
    let (data_plane, cloud, model) = match (
        of_result("data_plane"),
        of_result("cloud"),
        of_result("model"),
    ) {
        (Some(d), Some(c), Some(m)) => (d, c, m),
        _ => match crate::profile::load_file(file) {
            Ok(p) => (
                p.profile.metadata.name.clone(),
                p.profile.spec.cloud.provider.to_string(),
                p.profile.spec.model.to_string(),
            ),
            Err(_) => (
                file.file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                "?".into(),
                "?".into(),
            ),
        },
    };
    Row {
        file: file.to_path_buf(),
        data_plane,
        cloud,
        model,
        status,
        result,
        log,
        elapsed: t0.elapsed(),
    }
}

/// The summary table, then what each failed data plane printed.
pub fn table(rows: &[Row]) -> String {
    let headers = ["DATA PLANE", "CLOUD", "MODEL", "CHANGES", "RESULT", "TIME"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let mut outcome = r.outcome();
            if let Some(first) = outcome.lines().next() {
                outcome = first.to_string();
            }
            [
                r.data_plane.clone(),
                r.cloud.clone(),
                r.model.clone(),
                r.changes(),
                outcome,
                format!("{:.1}s", r.elapsed.as_secs_f64()),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()).take(5) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |c: &[String]| -> String {
        let mut s = String::new();
        for (i, cell) in c.iter().enumerate() {
            if i < 5 {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                s.push_str(cell);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&headers.map(String::from));
    for row in &cells {
        out.push_str(&line(row));
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| r.failed()).collect();
    out.push_str(&format!(
        "\n{} data planes: {} failed.\n",
        rows.len(),
        failed.len()
    ));
    for r in failed {
        out.push_str(&format!(
            "\n--- {} ({}) ---\n{}",
            r.data_plane,
            r.file.display(),
            tail(&r.log, 30)
        ));
    }
    out
}

/// The last `n` lines of a log: where a failure is explained.
fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].iter().map(|l| format!("{l}\n")).collect()
}

/// The fleet's exit status: failure if any failed; with `changes_status`, 2 if any has
/// changes.
pub fn status(rows: &[Row], changes_status: bool) -> ExitStatus {
    if rows.iter().any(Row::failed) {
        ExitStatus::Failure
    } else if changes_status && rows.iter().any(|r| r.status == ExitStatus::Changes) {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// The fleet's result object for `--output json`.
pub fn result(rows: &[Row]) -> Value {
    let failed = rows.iter().filter(|r| r.failed()).count();
    let mut result = json!({
        "fleet": rows.iter().map(|r| json!({
            "file": r.file,
            "data_plane": r.data_plane,
            "cloud": r.cloud,
            "model": r.model,
            "exit_code": r.status as u8,
            "elapsed_ms": r.elapsed.as_millis() as u64,
            "result": r.result,
        })).collect::<Vec<_>>(),
        "failed": failed,
    });
    if failed > 0 {
        let names: Vec<&str> = rows
            .iter()
            .filter(|r| r.failed())
            .map(|r| r.data_plane.as_str())
            .collect();
        result["error"] = json!({ "message": format!("{failed} of {} data planes failed: {}", rows.len(), names.join(", ")), "causes": [], "hints": [] });
    }
    result
}

/// Shows the fleet's table (or its JSON result) and returns its status.
pub fn report(rows: &[Row], command: &str, changes_status: bool, ui: &Ui) -> ExitStatus {
    let status = status(rows, changes_status);
    if !ui.json_events {
        ui.out(&table(rows));
    }
    ui.result(command, status, result(rows));
    status
}
