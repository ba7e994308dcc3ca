//! The local state lock: an OS file lock (`flock`), so that it is released when its holder
//! dies, even by `kill -9`. The file also says who holds it ([`LockInfo`] as JSON), for the
//! error the second apply shows.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use fs4::fs_std::FileExt;

use super::backend::{LockGuard, LockInfo, Locked};

pub struct StateLock {
    file: File,
    info: LockInfo,
}

impl StateLock {
    /// Takes the lock, or answers who holds it.
    pub fn acquire(path: &Path, operation: &str) -> anyhow::Result<Result<StateLock, LockInfo>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if !FileExt::try_lock_exclusive(&file)? {
            return Ok(Err(holder(&mut file)));
        }
        let info = LockInfo::new(operation);
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&serde_json::to_vec(&info)?)?;
        file.sync_all()?;
        Ok(Ok(StateLock { file, info }))
    }

    /// Takes the lock or fails with [`Locked`].
    pub fn acquire_or_fail(path: &Path, operation: &str) -> anyhow::Result<StateLock> {
        StateLock::acquire(path, operation)?.map_err(|holder| {
            Locked {
                location: path.display().to_string(),
                holder,
            }
            .into()
        })
    }
}

/// Who holds a lock file, as its holder wrote it.
fn holder(file: &mut File) -> LockInfo {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    serde_json::from_str(&text).unwrap_or_else(|_| {
        // Written by an older unionctl, or not yet: still a live holder (flock says so).
        let mut unknown = LockInfo::new("(unknown)");
        unknown.who = "another unionctl process".into();
        unknown.id = "(unknown)".into();
        unknown
    })
}

impl LockGuard for StateLock {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let first = StateLock::acquire_or_fail(&p, "apply").unwrap();
        let err = StateLock::acquire_or_fail(&p, "apply").err().unwrap();
        let locked = err.downcast_ref::<Locked>().expect("a Locked error");
        assert_eq!(locked.holder.pid, std::process::id());
        assert_eq!(locked.holder.id, first.info().id);
        assert!(
            err.to_string()
                .contains(&format!("lock ID {}", first.info().id)),
            "{err}"
        );
        drop(first);
        StateLock::acquire_or_fail(&p, "apply").unwrap();
    }
}
