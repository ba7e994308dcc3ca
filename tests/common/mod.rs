//! What the integration tests share: the Python of the test tools, a raw HTTP call to a
//! local server, the stderr of a finished command.

// Each test binary uses its own subset.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

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
