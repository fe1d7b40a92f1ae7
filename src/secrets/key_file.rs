//! Reading a key or secret from a file the user named: a PEM key, an APIv3 key, a password
//! file. One reader with one limit for the CLI and the window, so a wrong pick (a video, a
//! device, a huge log) is refused before it is read, and no error ever quotes the content.

use std::io::Read;
use std::path::Path;

use super::Sensitive;
use crate::{Error, Result};

/// The largest key file read: a PEM key or certificate is a few KB.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads `path` as `what` (e.g. "the APIv3 key"). Errors name the file, never its content.
pub fn read_key_file(path: &Path, what: &str) -> Result<Sensitive<String>> {
    let too_big = || {
        Error::Validation(format!(
            "{} cannot be {what}: it is not a small text file (keys are under {} KB)",
            path.display(),
            MAX_KEY_FILE / 1024
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.len() > MAX_KEY_FILE {
        return Err(too_big());
    }
    // Read at most one byte past the limit: the file may have grown since it was measured.
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(too_big());
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Validation(format!(
            "{} cannot be {what}: it is not a text file (a PEM key or a text file holding the key)",
            path.display()
        ))
    })?;
    Ok(Sensitive::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_text_files_are_read_and_others_refused_without_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("apiv3.txt");
        std::fs::write(&key, "0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            read_key_file(&key, "the APIv3 key").unwrap().expose(),
            "0123456789abcdef0123456789abcdef"
        );

        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; MAX_KEY_FILE as usize + 1]).unwrap();
        let err = read_key_file(&big, "the key").unwrap_err().to_string();
        assert!(
            err.contains("big.pem") && err.contains("not a small text file"),
            "{err}"
        );
        assert!(!err.contains("AAAA"), "{err}");

        let binary = dir.path().join("key.bin");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x9f]).unwrap();
        let err = read_key_file(&binary, "the key").unwrap_err().to_string();
        assert!(err.contains("not a text file"), "{err}");

        let err = read_key_file(dir.path(), "the key")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a small text file"), "a folder: {err}");
    }
}
