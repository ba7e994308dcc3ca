//! What the integration tests share: the Python of the test tools, a raw HTTP call to a
//! local server, the stderr of a finished command, killing applies at given points, the
//! changed addresses of a JSON plan.

// Each test binary uses its own subset.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `.venv/bin/python` with the test tools (moto, parliament, cel-python), or
/// `UNIONCTL_EMULATOR_PYTHON`.
pub fn python() -> PathBuf {
    let p = std::env::var_os("UNIONCTL_EMULATOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} is missing: run `scripts/test` (it installs the test tools into .venv)",
        p.display()
    );
    p
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; the whole answer, head and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    http_as(port, None, method, path, body)
}

/// The same, with `Authorization: Bearer TOKEN` when a token is given.
pub fn http_as(
    port: u16,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: &str,
) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.starts_with("HTTP/1.").then_some(text)
}

/// Where unionctl keeps the local state of the data plane `profile` names, in `state_dir`.
pub fn state_file(state_dir: &Path, profile: &str) -> PathBuf {
    let loaded = unionctl::profile::load_file(Path::new(profile)).unwrap();
    unionctl::state::LocalBackend::for_data_plane(state_dir, &loaded.profile, Path::new(profile))
        .state
}

/// … and its lock.
pub fn lock_file(state_dir: &Path, profile: &str) -> PathBuf {
    let loaded = unionctl::profile::load_file(Path::new(profile)).unwrap();
    unionctl::state::LocalBackend::for_data_plane(state_dir, &loaded.profile, Path::new(profile))
        .lock
}

pub fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Runs `command` once per entry of `serials`, SIGKILLing each run as soon as the state
/// file's serial reaches that entry (a run that ends first is left to end).
pub fn kill_at_serials(mut command: impl FnMut() -> Command, state: &Path, serials: &[u64]) {
    for &kill_at in serials {
        let mut child: Child = command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        loop {
            let serial = std::fs::read(state)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["serial"].as_u64())
                .unwrap_or(0);
            if serial >= kill_at || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(300),
                "the run made no progress"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
}

/// The addresses a JSON plan (`plan --format json`) changes, with whether each is drift.
pub fn changed_addresses(plan_json: &[u8]) -> Vec<(String, bool)> {
    let plan: serde_json::Value = serde_json::from_slice(plan_json).unwrap();
    let mut changed: Vec<(String, bool)> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op" && c["action"] != "read")
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["drift"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    changed.sort();
    changed
}

/// A remote state's bucket as the test reads it, with the cloud's own API (never with
/// unionctl): the lock object, how many versions the state object has, and the serial of
/// the current one.
pub struct Bucket {
    pub lock: Option<serde_json::Value>,
    pub versions: u64,
    pub serial: Option<u64>,
}

/// The remote-state contract, the same on every cloud, against one state `url`:
/// - two applies at once: the second fails within 30 s naming the first's pid, the first
///   succeeds and leaves no lock; every save is a version; no local state file; plan is
///   clean;
/// - a destroy killed (SIGKILL) after three saves leaves its lock: the next apply is
///   refused, naming the dead holder and saying it no longer runs; `state unlock` with a
///   wrong ID is refused naming the right one, with the right ID releases it; the re-run
///   applies back everything (the caller then checks the cloud against the plan).
///
/// `unionctl()` is a unionctl process with the cloud's environment; `bucket()` reads the
/// bucket.
pub fn remote_state_contract(
    unionctl: &dyn Fn() -> Command,
    bucket: &dyn Fn() -> Bucket,
    url: &str,
    profile: &str,
    model: &str,
    local_state: &Path,
) {
    let run = |args: &[&str]| {
        let out = unionctl()
            .args(args)
            .args(["--state", url])
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let apply = ["apply", "--model", model, "-f", profile, "--auto-approve"];

    // Two applies at once: the second fails fast, naming the first.
    let first = unionctl()
        .args(apply)
        .args(["--state", url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while bucket().lock.is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the first apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let t1 = Instant::now();
    let (code, err) = run(&apply);
    assert!(
        t1.elapsed() < Duration::from_secs(30),
        "the second apply waited instead of failing fast"
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("the state {url} is locked by"))
            && err.contains(&format!("(pid {}, unionctl apply", first.id())),
        "{err}"
    );
    assert!(err.contains("wait for that run to finish"), "{err}");
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = bucket();
    assert!(
        after.lock.is_none(),
        "the lock outlived its apply: {:?}",
        after.lock
    );
    assert!(
        after.versions >= 5,
        "every save is a version: {} versions",
        after.versions
    );
    assert_eq!(Some(after.versions), after.serial, "one version per save");
    assert!(
        !local_state.exists(),
        "remote state wrote a local state file"
    );
    let (code, err) = run(&["plan", "-f", profile, "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{err}");

    // A holder killed mid-destroy: its lock stays, and is explained as a dead process's.
    let mut dying = unionctl()
        .args(["destroy", "-f", profile, "--auto-approve", "--state", url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while bucket().versions < after.versions + 3 {
        assert!(
            dying.try_wait().unwrap().is_none(),
            "the destroy ended before it could be killed"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the destroy saved nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = dying.kill(); // SIGKILL
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        dying.wait().unwrap().signal(),
        Some(9),
        "the destroy was not killed"
    );
    let (code, err) = run(&apply);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("(pid {}, unionctl destroy", dying.id()))
            && err.contains("no longer runs on this host"),
        "{err}"
    );
    let id = err
        .split("lock ID ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the lock ID in the error")
        .to_string();
    let (code, err) = run(&["state", "unlock", "not-the-id", "-f", profile]);
    assert!(
        code == Some(1) && err.contains(&format!("has ID {id}")),
        "{err}"
    );
    let (code, err) = run(&["state", "unlock", &id, "-f", profile]);
    assert!(
        code == Some(0) && err.contains("Released the lock"),
        "{err}"
    );
    assert!(bucket().lock.is_none());
    // The killed destroy's progress was saved: the re-run applies back everything.
    let (code, err) = run(&apply);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(&["plan", "-f", profile, "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{err}");
}
