//! The Alipay business-detail bill (业务明细) as delivered: a zip holding
//! `<pid>_<yyyyMMdd>_业务明细.csv` and `<pid>_<yyyyMMdd>_业务明细(汇总).csv`, both GBK CSVs
//! with `#` comment lines around the detail block. Names inside the zip are GBK too, unless the
//! zip flags them UTF-8.

use std::io::{Cursor, Read};

use crate::channels::bills::MAX_BILL_IN_MEMORY as MAX_BILL_BYTES;
use crate::{Error, Result};

/// One CSV taken out of a bill zip, bytes untouched (GBK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayBillCsv {
    /// Its name inside the zip, decoded.
    pub name: String,
    /// The file as delivered: GBK.
    pub gbk: Vec<u8>,
}

impl AlipayBillCsv {
    /// The CSV as text; refused if it is not valid GBK.
    pub fn text(&self) -> Result<String> {
        decode_gbk(&self.gbk).ok_or_else(|| {
            Error::Channel(format!(
                "the Alipay bill file {} is not valid GBK",
                self.name
            ))
        })
    }
}

/// GBK (strictly: any malformed byte refuses the whole text).
pub fn decode_gbk(bytes: &[u8]) -> Option<String> {
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
}

fn entry_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(name) => name.to_string(),
        Err(_) => decode_gbk(raw).unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned()),
    }
}

/// Takes the business-detail CSV (业务明细, not its 汇总 summary) out of a bill zip.
pub fn business_detail_csv(zip_bytes: &[u8]) -> Result<AlipayBillCsv> {
    let unreadable = |e: zip::result::ZipError| {
        Error::Channel(format!("the Alipay bill is not a readable zip ({e})"))
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(unreadable)?;
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).map_err(unreadable)?;
        names.push((i, entry_name(file.name_raw()), file.is_file()));
    }
    let csvs: Vec<&(usize, String, bool)> = names
        .iter()
        .filter(|(_, name, is_file)| *is_file && name.to_ascii_lowercase().ends_with(".csv"))
        .filter(|(_, name, _)| !name.contains("汇总"))
        .collect();
    let detail: Vec<_> = csvs
        .iter()
        .filter(|(_, n, _)| n.contains("业务明细"))
        .collect();
    let chosen = match (detail.as_slice(), csvs.as_slice()) {
        ([one, ..], _) => **one,
        ([], [only]) => *only,
        _ => {
            return Err(Error::Channel(format!(
                "the Alipay bill zip holds no business-detail CSV (it holds: {})",
                names
                    .iter()
                    .map(|(_, n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let (index, name, _) = chosen.clone();
    let file = archive.by_index(index).map_err(unreadable)?;
    let too_large = || {
        Error::TooLarge(format!(
            "the Alipay bill file {name} unpacks to more than {} MB",
            MAX_BILL_BYTES >> 20
        ))
    };
    if file.size() > MAX_BILL_BYTES {
        return Err(too_large());
    }
    let mut gbk = Vec::with_capacity(file.size() as usize);
    // Read to the end, so the zip's CRC is checked.
    file.take(MAX_BILL_BYTES + 1)
        .read_to_end(&mut gbk)
        .map_err(|e| Error::Channel(format!("the Alipay bill file {name} is damaged ({e})")))?;
    if gbk.len() as u64 > MAX_BILL_BYTES {
        return Err(too_large());
    }
    Ok(AlipayBillCsv { name, gbk })
}
