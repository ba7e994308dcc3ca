//! The default backend: `<state-dir>/<profile>.state.json`, written atomically, and an OS
//! file lock beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::backend::{wrong_id, Backend, LockGuard, LockInfo};
use super::lock::StateLock;
use super::{write_atomically, State};
use crate::error::UserError;

/// Where a profile's state and lock live.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    pub state: PathBuf,
    pub lock: PathBuf,
}

impl LocalBackend {
    pub fn for_profile(state_dir: &Path, profile: &Path) -> Self {
        let stem = profile
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "profile".into());
        LocalBackend {
            state: state_dir.join(format!("{stem}.state.json")),
            lock: state_dir.join(format!("{stem}.lock")),
        }
    }
}

impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.state.display().to_string()
    }

    fn load(&self) -> Result<Option<State>> {
        let bytes = match std::fs::read(&self.state) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read state {}", self.state.display()))
            }
        };
        super::parse(&bytes, &self.location()).map(Some)
    }

    fn save(&self, state: &mut State) -> Result<()> {
        let bytes = super::next_version(state)?;
        write_atomically(&self.state, &bytes)
            .with_context(|| format!("cannot write state {}", self.state.display()))
    }

    fn lock(&self, operation: &str) -> Result<Box<dyn LockGuard + '_>> {
        Ok(Box::new(StateLock::acquire_or_fail(&self.lock, operation)?))
    }

    fn unlock(&self, id: &str) -> Result<LockInfo> {
        match StateLock::acquire(&self.lock, "unlock")? {
            // Free: its holder, if any, has exited (the OS released its lock).
            Ok(_free) => Err(UserError::new(format!("the state {} is not locked; nothing to release", self.location()))
                .hint("a local lock is released by the operating system when its process exits, even when killed")
                .into()),
            Err(holder) if holder.id != id => Err(wrong_id(&self.lock.display().to_string(), id, &holder)),
            Err(holder) => Err(UserError::new(format!(
                "the lock on {} is held by pid {} ({}), which is still running; a local lock cannot be broken",
                self.location(),
                holder.pid,
                holder.who
            ))
            .hint("stop that process (the lock is released when it exits); its state is saved after every step")
            .into()),
        }
    }
}
