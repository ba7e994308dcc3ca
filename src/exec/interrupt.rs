//! Ctrl-C: a walk that is asked to stop starts no new step, lets the ones in flight finish
//! and records them, then stops with [`Interrupted`]. State is saved after every step, and
//! every create's intent before it, so re-running the command resumes.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every walk of this process to stop after its steps in flight.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// A walk stopped on request: what finished is recorded.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: {done} of {total} steps were finished and recorded, the rest were not started; running the same command again resumes")]
pub struct Interrupted {
    pub done: usize,
    pub total: usize,
}
