//! Remote state in S3, as Terraform's S3 backend keeps it (≥ 1.10, `use_lockfile`): the
//! state is one object in a bucket with versioning (every save is a version, so an earlier
//! state can be brought back); the lock is a second object, `KEY.lock`, created with
//! `If-None-Match: *` so that of two writers exactly one succeeds (S3 answers the other
//! 412 Precondition Failed, or 409 ConditionalRequestConflict while the first is in
//! flight). The lock object says who holds it; releasing deletes it.
//!
//! The rest of unionctl calls the backend from synchronous code (state is saved after
//! every step of a walk), so it runs its requests on a small runtime of its own and waits
//! for the answer.

use std::future::Future;

use anyhow::{anyhow, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::UserError;
use crate::state::backend::wrong_id;
use crate::state::{Backend, LockGuard, LockInfo, Locked, State};

pub struct S3Backend {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl S3Backend {
    /// Connects with the caller's AWS configuration and checks that the bucket keeps
    /// versions.
    pub fn connect(bucket: &str, key: &str) -> Result<S3Backend> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let client = wait_on(&runtime, async {
            let config = super::provider::sdk_defaults().load().await;
            // An endpoint override (an emulator) cannot serve virtual-hosted buckets.
            let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(config.endpoint_url().is_some()).build();
            aws_sdk_s3::Client::from_conf(s3)
        });
        let backend = S3Backend { client, bucket: bucket.to_string(), key: key.to_string(), runtime: Some(runtime) };
        let (client, bucket) = (backend.client.clone(), backend.bucket.clone());
        let versioning = backend.run(async move { client.get_bucket_versioning().bucket(&bucket).send().await });
        let location = backend.location();
        match versioning {
            Ok(v) if v.status().map(|s| s.as_str()) == Some("Enabled") => Ok(backend),
            Ok(_) => Err(UserError::new(format!("the state bucket `{}` does not keep versions; remote state needs them to bring back an earlier state", backend.bucket))
                .hint(format!("aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled", backend.bucket))
                .into()),
            Err(e) => Err(anyhow!("s3:GetBucketVersioning: {}", message(&e))).with_context(|| format!("cannot reach the state {location}")),
        }
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        wait_on(self.runtime.as_ref().expect("the runtime lives until drop"), fut)
    }

    fn read_lock(&self) -> Result<Option<LockInfo>> {
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.lock_key());
        let got = self.run(async move {
            match client.get_object().bucket(bucket).key(key).send().await {
                Ok(o) => o.body.collect().await.map(|b| Some(b.into_bytes().to_vec())).map_err(|e| anyhow!("reading the lock: {e}")),
                Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
                Err(e) => Err(anyhow!("s3:GetObject: {}", message(&e))),
            }
        })?;
        got.map(|bytes| serde_json::from_slice(&bytes).with_context(|| format!("the lock s3://{}/{} is not a unionctl lock", self.bucket, self.lock_key()))).transpose()
    }

    fn delete_lock(&self) -> Result<()> {
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.lock_key());
        self.run(async move { client.delete_object().bucket(bucket).key(key).send().await.map(|_| ()).map_err(|e| anyhow!("s3:DeleteObject: {}", message(&e))) })
    }
}

impl Backend for S3Backend {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn load(&self) -> Result<Option<State>> {
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key.clone());
        let bytes = self.run(async move {
            match client.get_object().bucket(bucket).key(key).send().await {
                Ok(o) => o.body.collect().await.map(|b| Some(b.into_bytes().to_vec())).map_err(|e| anyhow!("reading the state: {e}")),
                Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
                Err(e) => Err(anyhow!("s3:GetObject: {}", message(&e))),
            }
        });
        let location = self.location();
        bytes.with_context(|| format!("cannot read state {location}"))?.map(|b| crate::state::parse(&b, &location)).transpose()
    }

    fn save(&self, state: &mut State) -> Result<()> {
        let bytes = crate::state::next_version(state)?;
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key.clone());
        let location = self.location();
        self.run(async move {
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type("application/json")
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| anyhow!("s3:PutObject: {}", message(&e)))
        })
        .with_context(|| format!("cannot write state {location}"))
    }

    fn lock(&self, operation: &str) -> Result<Box<dyn LockGuard + '_>> {
        let info = LockInfo::new(operation);
        let body = serde_json::to_vec_pretty(&info)?;
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.lock_key());
        let taken = self.run(async move {
            match client.put_object().bucket(bucket).key(key).if_none_match("*").content_type("application/json").body(ByteStream::from(body)).send().await {
                Ok(_) => Ok(true),
                // Someone holds it (412), or is taking it at this moment (409).
                Err(e) if matches!(e.code(), Some("PreconditionFailed" | "ConditionalRequestConflict")) => Ok(false),
                Err(e) => Err(anyhow!("s3:PutObject (If-None-Match): {}", message(&e))),
            }
        });
        let location = self.location();
        if taken.with_context(|| format!("cannot lock the state {location}"))? {
            return Ok(Box::new(S3Lock { backend: self, info }));
        }
        match self.read_lock()? {
            Some(holder) => Err(Locked { location, holder }.into()),
            // Released between our write and our read: say so rather than guess.
            None => Err(UserError::new(format!("the state {location} was locked a moment ago and is free now")).hint("run the command again").into()),
        }
    }

    fn unlock(&self, id: &str) -> Result<LockInfo> {
        let Some(holder) = self.read_lock()? else {
            return Err(UserError::new(format!("the state {} is not locked; nothing to release", self.location())).into());
        };
        if holder.id != id {
            return Err(wrong_id(&self.location(), id, &holder));
        }
        self.delete_lock()?;
        Ok(holder)
    }
}

impl Drop for S3Backend {
    fn drop(&mut self) {
        // Dropping a runtime blocks on its threads, which is refused inside another
        // runtime; nothing of ours is in flight by now.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The lock while held: released (deleted) when dropped, if it is still ours.
struct S3Lock<'a> {
    backend: &'a S3Backend,
    info: LockInfo,
}

impl LockGuard for S3Lock<'_> {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for S3Lock<'_> {
    fn drop(&mut self) {
        // Someone may have broken it (`state unlock`) and taken it since: never delete
        // another holder's lock.
        if let Ok(Some(holder)) = self.backend.read_lock() {
            if holder.id == self.info.id {
                let _ = self.backend.delete_lock();
            }
        }
    }
}

fn message<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String {
    match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or("no message")),
        None => DisplayErrorContext(e).to_string(),
    }
}

/// Runs a request on the backend's runtime and waits for it: callable from inside another
/// runtime, where only this thread waits.
fn wait_on<T: Send + 'static>(runtime: &tokio::runtime::Runtime, fut: impl Future<Output = T> + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the backend's runtime runs until the backend is dropped")
}
