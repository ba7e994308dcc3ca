//! Where a data plane's state lives, and its lock: a local file (the default), or an
//! object in the team's bucket so that everyone applies against one state.
//!
//! A backend loads and saves whole states and takes a lock that fails fast, naming its
//! holder. Terraform's S3 backend is the model: the state is one object in a versioned
//! bucket, the lock a second object written only if absent (`If-None-Match: *`), holding
//! who took it, when, and an ID that `unionctl state unlock ID` needs to break it.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::State;
use crate::error::UserError;

/// A state store with a lock. Saves are whole states; `save` gives the state its next
/// serial.
pub trait Backend {
    /// Where it is, for messages: a path or `s3://bucket/key`.
    fn location(&self) -> String;
    fn load(&self) -> Result<Option<State>>;
    fn save(&self, state: &mut State) -> Result<()>;
    /// Takes the lock or fails at once with [`Locked`], naming the holder.
    fn lock(&self, operation: &str) -> Result<Box<dyn LockGuard + '_>>;
    /// Breaks the lock whose ID is `id` (a holder that died). Returns what it held.
    fn unlock(&self, id: &str) -> Result<LockInfo>;
}

/// Held while a command works on the state; dropping it releases the lock.
pub trait LockGuard {
    fn info(&self) -> &LockInfo;
}

/// Who holds a lock: written into the lock, shown to whoever finds it taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub operation: String,
    /// `user@host`.
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// Unix seconds.
    pub created: u64,
    pub version: String,
}

impl LockInfo {
    pub fn new(operation: &str) -> LockInfo {
        let mut bytes = [0u8; 8];
        rand::Rng::fill(&mut rand::rng(), &mut bytes);
        let host = this_host();
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "someone".into());
        LockInfo {
            id: hex::encode(bytes),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            host,
            pid: std::process::id(),
            created: now(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Whether the holder is known to be gone: a process of this host that no longer
    /// runs. (A holder on another host can only be judged by the lock's age.)
    pub fn holder_is_dead(&self) -> bool {
        self.host == this_host() && self.pid != std::process::id() && !process_runs(self.pid)
    }

    fn age(&self) -> String {
        let secs = now().saturating_sub(self.created);
        match secs {
            s if s < 120 => format!("{s} s"),
            s if s < 7200 => format!("{} min", s / 60),
            s if s < 172_800 => format!("{} h", s / 3600),
            s => format!("{} days", s / 86_400),
        }
    }
}

/// The state is locked by someone else.
#[derive(Debug, thiserror::Error)]
#[error("the state {location} is locked by {} (pid {}, unionctl {}, {} ago, lock ID {})", .holder.who, .holder.pid, .holder.operation, .holder.age(), .holder.id)]
pub struct Locked {
    pub location: String,
    pub holder: LockInfo,
}

impl Locked {
    /// The error a command shows: who holds it, and what to do.
    pub fn into_error(self, unlock_command: &str) -> anyhow::Error {
        let hint = if self.holder.holder_is_dead() {
            format!(
                "that process no longer runs on this host: it died holding the lock, and its state was saved up to its last finished step; \
                 release the lock with `{unlock_command} {}`, then run the command again to resume",
                self.holder.id
            )
        } else {
            format!(
                "wait for that run to finish; if it died (a killed process or a lost machine leaves its lock behind), \
                 release the lock with `{unlock_command} {}`",
                self.holder.id
            )
        };
        UserError::new(self.to_string()).hint(hint).into()
    }
}

/// `unlock` was given an ID that is not the lock's.
pub fn wrong_id(location: &str, given: &str, holder: &LockInfo) -> anyhow::Error {
    UserError::new(format!(
        "the lock on {location} has ID {}, not {given}; nothing was released",
        holder.id
    ))
    .hint(format!(
        "it is held by {} (pid {}, unionctl {}, {} ago)",
        holder.who,
        holder.pid,
        holder.operation,
        holder.age()
    ))
    .into()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn process_runs(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Unknown elsewhere: treat it as running, so nothing is called stale wrongly.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_of_this_host_that_does_not_run_is_dead() {
        let mut info = LockInfo::new("apply");
        assert!(!info.holder_is_dead(), "this process runs");
        info.pid = u32::MAX - 1;
        assert_eq!(info.holder_is_dead(), cfg!(target_os = "linux"));
        info.host = "elsewhere".into();
        assert!(
            !info.holder_is_dead(),
            "another host's process cannot be judged"
        );
    }
}
