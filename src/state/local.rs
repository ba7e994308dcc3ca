//! The default backend: `<state-dir>/<cloud>-<account>/<data plane>.state.json`, written
//! atomically, and an OS file lock beside it. The state is keyed by the data plane (where
//! it lives and its name), not by the profile's file: a renamed profile, or one run from
//! another copy of it, finds the same state.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::backend::{wrong_id, Backend, LockGuard, LockInfo};
use super::lock::StateLock;
use super::{write_atomically, State};
use crate::error::UserError;
use crate::profile::{Profile, Provider};

/// Where a data plane's state and lock live.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    pub state: PathBuf,
    pub lock: PathBuf,
    /// Where earlier versions kept it (`<state-dir>/<profile file stem>.state.json`): moved
    /// to `state` when first read, if it is this data plane's.
    legacy: Option<PathBuf>,
    data_plane: String,
}

impl LocalBackend {
    /// The state of the data plane `profile` names, in `state_dir`; `file` is the profile's
    /// path (where an earlier version may have named the state after it).
    pub fn for_data_plane(state_dir: &Path, profile: &Profile, file: &Path) -> Self {
        let c = &profile.spec.cloud;
        let account = match c.provider {
            Provider::Aws => c.aws.as_ref().map(|a| a.account_id.clone()),
            Provider::Gcp => c.gcp.as_ref().map(|g| g.project_id.clone()),
            Provider::Azure => c.azure.as_ref().map(|a| a.subscription_id.clone()),
        }
        .unwrap_or_default();
        let dir = state_dir.join(format!("{}-{account}", c.provider));
        let name = &profile.metadata.name;
        let legacy = file
            .file_stem()
            .map(|s| state_dir.join(format!("{}.state.json", s.to_string_lossy())));
        LocalBackend {
            state: dir.join(format!("{name}.state.json")),
            lock: dir.join(format!("{name}.lock")),
            legacy,
            data_plane: name.clone(),
        }
    }

    /// Moves an earlier version's state of this data plane to where it is kept now.
    fn adopt_legacy(&self) -> Result<()> {
        let Some(old) = self
            .legacy
            .as_ref()
            .filter(|old| old.exists() && !self.state.exists())
        else {
            return Ok(());
        };
        let bytes =
            std::fs::read(old).with_context(|| format!("cannot read state {}", old.display()))?;
        let Ok(state) = super::parse(&bytes, &old.display().to_string()) else {
            return Ok(());
        };
        if state.data_plane != self.data_plane {
            return Ok(());
        }
        if let Some(dir) = self.state.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::rename(old, &self.state).with_context(|| {
            format!(
                "cannot move state {} to {}",
                old.display(),
                self.state.display()
            )
        })
    }
}

impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.state.display().to_string()
    }

    fn load(&self) -> Result<Option<State>> {
        self.adopt_legacy()?;
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
