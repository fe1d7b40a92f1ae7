//! `feedesk bill-file download`: a day's channel bill, checked, written to a file.

use std::path::Path;

use feedesk::channels::accounts;
use feedesk::secrets::SecretStore;
use feedesk::{Error, FeeDesk, Result};

use crate::cli::BillFileCommand;
use crate::output;

pub async fn bill_file(desk: &FeeDesk, cmd: BillFileCommand, json: bool) -> Result<()> {
    match cmd {
        BillFileCommand::Download { account, date, out } => {
            let bill =
                accounts::download_bill(desk, &SecretStore::from_env(), &account, date).await?;
            write_whole(&out, &bill.content)?;
            if json {
                let mut value =
                    serde_json::to_value(&bill).map_err(|e| Error::Internal(e.to_string()))?;
                value["file"] = serde_json::Value::String(out.display().to_string());
                return output::json(&value);
            }
            let what = match bill.channel.as_str() {
                "wechat" => "WeChat Pay trade bill (SHA1 checked)".to_string(),
                _ => format!(
                    "Alipay business-detail bill ({})",
                    bill.source.as_deref().unwrap_or("from the bill zip")
                ),
            };
            say!(
                "Wrote the {what} of {} for {} to {}: {} bytes, {}",
                bill.date,
                bill.account,
                out.display(),
                bill.bytes,
                bill.encoding
            );
        }
    }
    Ok(())
}

/// Writes through a temporary sibling and renames, so `out` is either the whole bill or
/// untouched.
fn write_whole(out: &Path, content: &[u8]) -> Result<()> {
    let name = out
        .file_name()
        .ok_or_else(|| Error::Validation(format!("{} is not a file name", out.display())))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".part");
    let tmp = out.with_file_name(tmp_name);
    std::fs::write(&tmp, content).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(out, e)
    })
}
