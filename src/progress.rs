//! Progress and cancellation for long work (imports today; issuing, reconciling, reports later).
//!
//! The core reports through a callback; the CLI draws a bar, the desktop forwards events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Error, Result};

/// One progress report: which phase, and how far along it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    /// Phase name: `read`, `validate` or `commit`.
    pub phase: &'static str,
    /// Units of work done in this phase.
    pub done: u64,
    /// Units of work in this phase, when known.
    pub total: Option<u64>,
}

/// Receives progress reports. Must be cheap; it is called often.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// A progress sink that ignores every report.
pub fn ignore_progress(_: Progress) {}

/// A cancellation flag shared between the worker and whoever may cancel.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Returns `Err(Cancelled)` once cancellation was requested.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
