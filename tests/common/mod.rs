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
    let p = std::env::var_os("UNIONCTL_EMULATOR_PYTHON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    assert!(p.exists(), "{} is missing: run `scripts/test` (it installs the test tools into .venv)", p.display());
    p
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; the whole answer, head and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.starts_with("HTTP/1.").then_some(text)
}

pub fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Runs `command` once per entry of `serials`, SIGKILLing each run as soon as the state
/// file's serial reaches that entry (a run that ends first is left to end).
pub fn kill_at_serials(mut command: impl FnMut() -> Command, state: &Path, serials: &[u64]) {
    for &kill_at in serials {
        let mut child: Child = command().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let t0 = Instant::now();
        loop {
            let serial = std::fs::read(state).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()).and_then(|v| v["serial"].as_u64()).unwrap_or(0);
            if serial >= kill_at || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(300), "the run made no progress");
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
        .map(|c| (c["address"].as_str().unwrap().to_string(), c["drift"].as_bool().unwrap_or(false)))
        .collect();
    changed.sort();
    changed
}
