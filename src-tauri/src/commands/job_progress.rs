//! Progress of a long job (an import, a report) as the window receives it: one event payload
//! for every job, named by the job's id, sent at most every 50 ms (and always the last one), so
//! a fast loop in the core cannot flood the IPC channel.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use feedesk::progress::Progress;
use serde::Serialize;
use tauri::{AppHandle, Emitter};

/// The least time between two progress events of one job.
const EVERY: Duration = Duration::from_millis(50);

/// One progress report of a running job.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JobProgress {
    pub job_id: String,
    /// The core's phase name (`read`, `validate`, `commit`; `sheets` for a report).
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
}

/// A progress callback for the core that forwards reports as `event` events of `job_id`.
pub(crate) fn emitter<'a>(
    app: &'a AppHandle,
    event: &'static str,
    job_id: &'a str,
) -> impl Fn(Progress) + Send + Sync + 'a {
    let last = Mutex::new(None::<Instant>);
    move |p: Progress| {
        let finished = p.total.is_some_and(|t| p.done >= t);
        if let Ok(mut last) = last.lock() {
            if !finished && last.is_some_and(|at| at.elapsed() < EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = app.emit(
            event,
            JobProgress {
                job_id: job_id.to_owned(),
                phase: p.phase.to_owned(),
                done: p.done,
                total: p.total,
            },
        );
    }
}
