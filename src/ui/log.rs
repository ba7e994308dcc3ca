//! Logs on stderr: each retry as it happens (always), every API call with `-v`, the SDKs'
//! own debug logs with `-vv`, or what `RUST_LOG` asks for. The clouds log through
//! `tracing` (targets `unionctl::retry`, `unionctl::api`); only this module writes them.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Installs the stderr logger for this process (once; later calls do nothing).
pub fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) if !f.is_empty() => EnvFilter::new(f),
        _ => EnvFilter::new(match verbose {
            0 => "off,unionctl::retry=info",
            1 => "off,unionctl=debug",
            _ => "debug",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| AboveBars(Vec::new()))
        .event_format(Lines)
        .try_init();
}

/// `  retrying …` for retries; `HH:MM:SS.mmm api: …` for the call log; the level and
/// target for anything else.
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        match meta.target() {
            "unionctl::retry" => write!(w, "  ")?,
            "unionctl::api" => write!(w, "{} api: ", clock())?,
            target => write!(w, "{} {} {target}: ", clock(), level(*meta.level()))?,
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

fn level(l: Level) -> &'static str {
    match l {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// The time of day (UTC), to the millisecond: enough to read a log's timing.
fn clock() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (secs, ms) = (now.as_secs() % 86_400, now.subsec_millis());
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A log line goes above the progress bars when they are on screen, else to stderr.
struct AboveBars(Vec<u8>);

impl std::io::Write for AboveBars {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for AboveBars {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let text = text.trim_end_matches('\n');
        if !text.is_empty() && !super::progress::print_above_bars(text) {
            eprintln!("{text}");
        }
    }
}
