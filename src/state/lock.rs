//! The state lock: an OS file lock (`flock`), so that it is released when its holder
//! dies, even by `kill -9`. The file also says who holds it, for the error the second
//! apply shows.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use fs4::fs_std::FileExt;

use crate::error::UserError;

pub struct StateLock {
    file: File,
}

impl StateLock {
    /// Takes the lock or fails at once, naming the holder.
    pub fn acquire(path: &Path, operation: &str) -> anyhow::Result<StateLock> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let taken = FileExt::try_lock_exclusive(&file)?;
        if !taken {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() { "another unionctl process".to_string() } else { holder.to_string() };
            return Err(UserError::new(format!("the state is locked by {holder}"))
                .hint(format!("wait for it to finish; the lock ({}) is released when that process exits", path.display()))
                .into());
        }
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "this host".into());
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        write!(file, "pid {} on {host} (unionctl {operation}, since unix time {since})", std::process::id())?;
        file.sync_all()?;
        Ok(StateLock { file })
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
        let first = StateLock::acquire(&p, "apply").unwrap();
        let err = StateLock::acquire(&p, "apply").err().unwrap().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        StateLock::acquire(&p, "apply").unwrap();
    }
}
