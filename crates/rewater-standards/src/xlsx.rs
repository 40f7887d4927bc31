//! The one zip-bomb guard of the XLSX readers (the indicators' statistics tables and the
//! money ledgers' input tables both read a workbook's first sheet): the sizes the archive's
//! central directory declares are added up, and a file that would unpack to more than a cap
//! is refused before anything is unpacked.

/// The most bytes an XLSX file may unpack to.
pub const MAX_XLSX_UNPACKED_BYTES: u64 = 128 << 20;

/// Why a workbook is refused before it is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XlsxGuardError {
    /// Not a zip archive (an XLSX file is one).
    #[error("not an XLSX file: {0}")]
    NotXlsx(String),
    /// It would unpack to more than the cap.
    #[error("unpacks to {unpacked} bytes, more than {max}")]
    TooLarge { unpacked: u64, max: u64 },
}

/// The bytes `bytes` (an XLSX file) would unpack to, or an error when that is more than
/// `max` or the archive cannot be read. Nothing is decompressed.
pub fn check_unpacked_size(bytes: &[u8], max: u64) -> Result<u64, XlsxGuardError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| XlsxGuardError::NotXlsx(e.to_string()))?;
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| XlsxGuardError::NotXlsx(e.to_string()))?;
        unpacked = unpacked.saturating_add(f.size());
    }
    if unpacked > max {
        return Err(XlsxGuardError::TooLarge { unpacked, max });
    }
    Ok(unpacked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stored(len: usize) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let opt = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            z.start_file("xl/worksheets/sheet1.xml", opt).unwrap();
            z.write_all(&vec![b' '; len]).unwrap();
            z.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn a_workbook_that_unpacks_to_too_much_is_refused_before_unpacking() {
        let bytes = stored(3 << 20);
        assert_eq!(
            check_unpacked_size(&bytes, 1 << 20)
                .unwrap_err()
                .to_string(),
            format!("unpacks to {} bytes, more than {}", 3 << 20, 1 << 20)
        );
        assert_eq!(check_unpacked_size(&bytes, 4 << 20), Ok(3 << 20));
        let e = check_unpacked_size(b"id,name\n1,a\n", 1 << 20).unwrap_err();
        assert!(e.to_string().starts_with("not an XLSX file"), "{e}");
    }
}
