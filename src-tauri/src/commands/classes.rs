//! Terms and the classes that run in them.

use chrono::NaiveDate;
use feedesk::org::{self, Class, Term};
use tauri::State;

use crate::error::{ErrorCode, IpcError};
use crate::state::AppState;

fn date(text: &str, what: &str) -> Result<NaiveDate, IpcError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        IpcError::new(
            ErrorCode::Validation,
            format!("{what} '{text}' is not a date; use YYYY-MM-DD"),
        )
    })
}

#[tauri::command]
pub async fn term_list(state: State<'_, AppState>) -> Result<Vec<Term>, IpcError> {
    Ok(org::list_terms(state.desk()?).await?)
}

/// Adds a term; `start` and `end` are `YYYY-MM-DD`.
#[tauri::command]
pub async fn term_add(
    state: State<'_, AppState>,
    name: String,
    start: String,
    end: String,
) -> Result<Term, IpcError> {
    let (start, end) = (date(&start, "start")?, date(&end, "end")?);
    Ok(org::add_term(state.desk()?, &name, start, end).await?)
}

#[tauri::command]
pub async fn class_list(
    state: State<'_, AppState>,
    term: Option<String>,
) -> Result<Vec<Class>, IpcError> {
    Ok(org::list_classes(state.desk()?, term.as_deref()).await?)
}

#[tauri::command]
pub async fn class_add(
    state: State<'_, AppState>,
    unit: String,
    term: String,
    name: String,
) -> Result<Class, IpcError> {
    Ok(org::add_class(state.desk()?, &unit, &term, &name).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_iso() {
        assert_eq!(
            super::date("2026-09-01", "start").unwrap().to_string(),
            "2026-09-01"
        );
        assert_eq!(
            super::date("2026/9/1", "start").unwrap_err().code,
            super::ErrorCode::Validation
        );
    }
}
