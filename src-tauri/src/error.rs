//! The one error shape that crosses IPC: `{ code, message }`.
//!
//! `code` is the core's stable [`ErrorCode`] (snake_case); the UI branches on it and shows
//! `message`, never parsing text. Commands return `Result<T, IpcError>` and use `?` on core
//! calls thanks to `From<feedesk::Error>`.

use serde::Serialize;

pub use feedesk::ErrorCode;

/// An error as the window receives it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "IpcErrorPayload")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl IpcError {
    /// The message is bounded (values quoted in it are clipped by the core already), so no
    /// file's content can flood the window.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: feedesk::text::bound_message(message.into()),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<feedesk::Error> for IpcError {
    fn from(error: feedesk::Error) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for IpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let json =
            serde_json::to_value(IpcError::new(ErrorCode::NotFound, "no such unit")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "code": "not_found", "message": "no such unit" })
        );
    }

    #[test]
    fn long_messages_are_bounded() {
        let error = IpcError::from(feedesk::Error::ImportFormat("x".repeat(1 << 20)));
        assert_eq!(
            error.message.chars().count(),
            feedesk::text::MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn keeps_the_core_code() {
        let error = IpcError::from(feedesk::Error::Conflict("member number taken".into()));
        assert_eq!(error.code, ErrorCode::Conflict);
        assert_eq!(error.message, "member number taken");
    }
}
