//! Where FeeDesk keeps its data.
//!
//! `FEEDESK_DATA_DIR` wins (tests and e2e point it at a temp folder so they never touch a
//! user's data); otherwise the platform data folder, e.g. `~/.local/share/feedesk`.

use std::path::PathBuf;

use crate::error::IpcError;

/// Environment variable that overrides the data folder.
pub const DATA_DIR_ENV: &str = "FEEDESK_DATA_DIR";

/// The data folder, resolved from the environment and the platform.
pub fn data_dir() -> Result<PathBuf, IpcError> {
    resolve(
        std::env::var_os(DATA_DIR_ENV).map(PathBuf::from),
        dirs::data_dir(),
    )
}

fn resolve(from_env: Option<PathBuf>, platform: Option<PathBuf>) -> Result<PathBuf, IpcError> {
    match (from_env, platform) {
        (Some(dir), _) if !dir.as_os_str().is_empty() => Ok(dir),
        (_, Some(base)) => Ok(base.join("feedesk")),
        _ => Err(IpcError::internal(format!(
            "no data folder: set {DATA_DIR_ENV} or a platform data directory"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_override_wins() {
        let dir = resolve(Some("/tmp/x".into()), Some("/home/u/.local/share".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn empty_env_falls_back_to_platform() {
        let dir = resolve(Some("".into()), Some("/home/u/.local/share".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/home/u/.local/share/feedesk"));
    }

    #[test]
    fn no_folder_is_an_internal_error() {
        let err = resolve(None, None).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::Internal);
    }
}
