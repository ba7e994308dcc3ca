//! State kept in a bucket: S3, Cloud Storage or Azure Blob, one protocol for all three,
//! after Terraform's S3 backend (≥ 1.10, `use_lockfile`).
//!
//! - The state is one object in a bucket that keeps versions: every save is a version, so
//!   an earlier state can always be brought back.
//! - The lock is a second object, `KEY.lock`, written only if absent (S3 and Azure
//!   `If-None-Match: *`, Cloud Storage `ifGenerationMatch=0`): of two writers exactly one
//!   succeeds. It holds who took it, when, and the ID that `state unlock` needs.
//! - The lock is released by deleting it, only if it is still the one we read (Cloud
//!   Storage and Azure make that delete conditional on the version read); a lock someone
//!   broke and took since is never deleted.
//!
//! The rest of unionctl calls a backend from synchronous code (state is saved after every
//! step of a walk, from inside the executor's runtime), so the store's requests run on a
//! small runtime of the backend's own, and the caller waits for the answer.

use std::future::Future;

use anyhow::{Context, Result};
use futures_util::future::BoxFuture;

use super::backend::wrong_id;
use super::{Backend, LockGuard, LockInfo, Locked, State};
use crate::error::UserError;

/// An object as read: its bytes, and the version (S3 or Azure ETag, Cloud Storage
/// generation) a delete can be made conditional on.
pub struct Object {
    pub bytes: Vec<u8>,
    pub version: String,
}

/// What a bucket offers a remote state. Each request is a future of its own (it owns what
/// it needs), run on the backend's runtime.
pub trait ObjectStore: Send + Sync {
    /// `s3://bucket/key`, `gs://bucket/key`, `azblob://account/container/key`.
    fn url(&self, key: &str) -> String;
    /// The object, or `None` when there is none.
    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Object>>>;
    /// Writes the object (a new version of it).
    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<()>>;
    /// Writes the object only if there is none: `false` when one exists (or is being
    /// written by someone else at this moment).
    fn create(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<bool>>;
    /// Deletes the object if it is still at `version`, where the store can make a delete
    /// conditional; an object already gone is success.
    fn delete(&self, key: &str, version: &str) -> BoxFuture<'static, Result<()>>;
}

/// A state in a bucket, with its lock beside it.
pub struct RemoteBackend {
    store: Box<dyn ObjectStore>,
    key: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RemoteBackend {
    /// Runs the store's connection (credentials, the bucket's checks) on the backend's
    /// runtime, and keeps the store for `key`.
    pub fn connect(
        key: &str,
        connect: impl Future<Output = Result<Box<dyn ObjectStore>>> + Send + 'static,
    ) -> Result<RemoteBackend> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let store = wait_on(&runtime, connect)?;
        Ok(RemoteBackend {
            store,
            key: key.to_string(),
            runtime: Some(runtime),
        })
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn run<T: Send + 'static>(&self, fut: BoxFuture<'static, Result<T>>) -> Result<T> {
        wait_on(
            self.runtime.as_ref().expect("the runtime lives until drop"),
            fut,
        )
    }

    /// The lock's holder, and the version of the lock object read.
    fn read_lock(&self) -> Result<Option<(LockInfo, String)>> {
        let key = self.lock_key();
        let got = self
            .run(self.store.get(&key))
            .with_context(|| format!("cannot read the lock {}", self.store.url(&key)))?;
        got.map(|o| {
            let info = serde_json::from_slice(&o.bytes).with_context(|| {
                format!("the lock {} is not a unionctl lock", self.store.url(&key))
            })?;
            Ok((info, o.version))
        })
        .transpose()
    }

    fn delete_lock(&self, version: &str) -> Result<()> {
        let key = self.lock_key();
        self.run(self.store.delete(&key, version))
            .with_context(|| format!("cannot delete the lock {}", self.store.url(&key)))
    }
}

impl Backend for RemoteBackend {
    fn location(&self) -> String {
        self.store.url(&self.key)
    }

    fn load(&self) -> Result<Option<State>> {
        let location = self.location();
        let got = self
            .run(self.store.get(&self.key))
            .with_context(|| format!("cannot read state {location}"))?;
        got.map(|o| super::parse(&o.bytes, &location)).transpose()
    }

    fn save(&self, state: &mut State) -> Result<()> {
        let bytes = super::next_version(state)?;
        self.run(self.store.put(&self.key, bytes))
            .with_context(|| format!("cannot write state {}", self.location()))
    }

    fn lock(&self, operation: &str) -> Result<Box<dyn LockGuard + '_>> {
        let info = LockInfo::new(operation);
        let body = serde_json::to_vec_pretty(&info)?;
        let location = self.location();
        if self
            .run(self.store.create(&self.lock_key(), body))
            .with_context(|| format!("cannot lock the state {location}"))?
        {
            return Ok(Box::new(RemoteLock {
                backend: self,
                info,
            }));
        }
        match self.read_lock()? {
            // Our own write, whose answer was lost and whose retry found it.
            Some((holder, _)) if holder.id == info.id => Ok(Box::new(RemoteLock {
                backend: self,
                info,
            })),
            Some((holder, _)) => Err(Locked { location, holder }.into()),
            // Released between our write and our read: say so rather than guess.
            None => Err(UserError::new(format!(
                "the state {location} was locked a moment ago and is free now"
            ))
            .hint("run the command again")
            .into()),
        }
    }

    fn unlock(&self, id: &str) -> Result<LockInfo> {
        let Some((holder, version)) = self.read_lock()? else {
            return Err(UserError::new(format!(
                "the state {} is not locked; nothing to release",
                self.location()
            ))
            .into());
        };
        if holder.id != id {
            return Err(wrong_id(&self.location(), id, &holder));
        }
        self.delete_lock(&version)?;
        Ok(holder)
    }
}

impl Drop for RemoteBackend {
    fn drop(&mut self) {
        // Dropping a runtime blocks on its threads, which is refused inside another
        // runtime; nothing of ours is in flight by now.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The lock while held: released (deleted) when dropped, if it is still ours.
struct RemoteLock<'a> {
    backend: &'a RemoteBackend,
    info: LockInfo,
}

impl LockGuard for RemoteLock<'_> {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for RemoteLock<'_> {
    fn drop(&mut self) {
        // Someone may have broken it (`state unlock`) and taken it since: never delete
        // another holder's lock.
        if let Ok(Some((holder, version))) = self.backend.read_lock() {
            if holder.id == self.info.id {
                let _ = self.backend.delete_lock(&version);
            }
        }
    }
}

/// Runs a request on the backend's runtime and waits for it: callable from inside another
/// runtime, where only this thread waits.
fn wait_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    fut: impl Future<Output = T> + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .expect("the backend's runtime runs until the backend is dropped")
}
