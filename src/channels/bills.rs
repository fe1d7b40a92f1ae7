//! Channel bills (对账单) as files: the helpers both clients share to fetch them safely. What
//! is in them is the reconciliation's business; here they are bytes that must arrive whole.

use std::io::Read;

use sha1::{Digest, Sha1};

use crate::{Error, Result};

/// The largest statement FeeDesk reads as a stream (counted after unpacking).
pub const MAX_BILL_BYTES: u64 = 1 << 30;

/// The largest bill FeeDesk holds in memory: a download as it arrives, and a packed bill
/// unpacked (a day of a busy merchant is a few MB). Kept low so that a download and its
/// unpacked copy together stay within FeeDesk's memory bound.
pub const MAX_BILL_IN_MEMORY: u64 = 96 << 20;

/// The SHA1 of `bytes`, lowercase hex (how WeChat Pay writes `hash_value`).
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// Whether `bytes` start like a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Unpacks a gzip stream (every member), refusing more than [`MAX_BILL_IN_MEMORY`].
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_BILL_IN_MEMORY + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::Channel(format!("the bill's gzip stream is damaged ({e})")))?;
    if out.len() as u64 > MAX_BILL_IN_MEMORY {
        return Err(Error::TooLarge(format!(
            "the bill unpacks to more than {} MB",
            MAX_BILL_IN_MEMORY >> 20
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_lowercase_hex() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn gzip_round_trip_and_damage() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all("交易时间,商户号\r\n".as_bytes()).unwrap();
        let packed = enc.finish().unwrap();
        assert!(is_gzip(&packed) && !is_gzip(b"plain"));
        assert_eq!(gunzip(&packed).unwrap(), "交易时间,商户号\r\n".as_bytes());
        let mut damaged = packed.clone();
        let n = damaged.len();
        damaged[n - 6] ^= 0xff; // the CRC trailer
        assert!(gunzip(&damaged).is_err());
    }
}
