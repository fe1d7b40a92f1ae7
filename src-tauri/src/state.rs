//! What the shell keeps for the window's lifetime: the open data folder, the OS keyring, the
//! running jobs and the files the user picked.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use feedesk::FeeDesk;
use feedesk::progress::CancelToken;
use feedesk::secrets::SecretStore;

use crate::error::IpcError;

/// Managed Tauri state.
pub struct AppState {
    /// The data folder opened at startup, or why it could not be opened.
    desk: Result<FeeDesk, IpcError>,
    /// The OS keyring, where channel secrets live (`FEEDESK_KEYRING_SERVICE` names another
    /// service, as the CLI honours it too).
    secrets: SecretStore,
    /// Cancellable long work, by the job id the window chose.
    jobs: Mutex<HashMap<String, CancelToken>>,
    /// Files the user picked in the native dialog: the only files outside the data folder the
    /// window may have the core read.
    picked: Mutex<HashSet<PathBuf>>,
}

impl AppState {
    pub fn new(desk: Result<FeeDesk, IpcError>) -> Self {
        Self {
            desk,
            secrets: SecretStore::from_env(),
            jobs: Mutex::new(HashMap::new()),
            picked: Mutex::new(HashSet::new()),
        }
    }

    /// The open FeeDesk, or the error that kept it from opening.
    pub fn desk(&self) -> Result<&FeeDesk, IpcError> {
        self.desk.as_ref().map_err(Clone::clone)
    }

    /// The OS keyring the channel commands read keys from.
    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    /// Registers a job and returns its token; a second job with the same id is refused.
    pub fn start_job(&self, job_id: &str) -> Result<CancelToken, IpcError> {
        let mut jobs = self
            .jobs
            .lock()
            .map_err(|_| IpcError::internal("job table poisoned"))?;
        if jobs.contains_key(job_id) {
            return Err(IpcError::new(
                feedesk::ErrorCode::Conflict,
                format!("job {job_id} is already running"),
            ));
        }
        let token = CancelToken::new();
        jobs.insert(job_id.to_owned(), token.clone());
        Ok(token)
    }

    pub fn finish_job(&self, job_id: &str) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.remove(job_id);
        }
    }

    /// Asks a running job to stop; false when no such job runs.
    pub fn cancel_job(&self, job_id: &str) -> bool {
        match self.jobs.lock() {
            Ok(jobs) => jobs.get(job_id).map(CancelToken::cancel).is_some(),
            Err(_) => false,
        }
    }

    /// Remembers a file the user picked.
    pub fn allow_file(&self, path: &Path) {
        if let Ok(mut picked) = self.picked.lock() {
            picked.insert(path.to_path_buf());
        }
    }

    /// Whether the user picked this file (in this run of the app).
    pub fn is_allowed(&self, path: &Path) -> bool {
        self.picked.lock().is_ok_and(|picked| picked.contains(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_cancellable_once_registered() {
        let state = AppState::new(Err(IpcError::internal("no data folder in this test")));
        assert_eq!(state.desk().unwrap_err().code, feedesk::ErrorCode::Internal);
        let token = state.start_job("j1").unwrap();
        assert_eq!(
            state.start_job("j1").unwrap_err().code,
            feedesk::ErrorCode::Conflict
        );
        assert!(!token.is_cancelled());
        assert!(state.cancel_job("j1"));
        assert!(token.is_cancelled());
        state.finish_job("j1");
        assert!(!state.cancel_job("j1"), "a finished job is gone");
    }
}
