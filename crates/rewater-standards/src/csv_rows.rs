//! The one CSV row reader of the uploaded tables (the indicators' statistics tables and the
//! money ledgers' input tables): a UTF-8 byte-order mark dropped, rows of any width, each
//! row with its 1-based line, and a cap on the rows read so a huge file is refused early.

/// Why a CSV table could not be read, with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvRowError {
    pub line: usize,
    pub message: String,
}

/// The rows of a CSV table as text cells, each with its line; more than `max_rows` rows is
/// an error at the first row past the cap.
pub fn csv_rows(bytes: &[u8], max_rows: usize) -> Result<Vec<(usize, Vec<String>)>, CsvRowError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| CsvRowError {
            line: e.position().map_or(row, |p| p.line() as usize),
            message: match e.kind() {
                csv::ErrorKind::Utf8 { .. } => {
                    "not UTF-8 text (save the table as UTF-8 CSV)".into()
                }
                _ => e.to_string(),
            },
        })?;
        if out.len() > max_rows {
            return Err(CsvRowError {
                line: row,
                message: format!("more than {max_rows} rows"),
            });
        }
        out.push((row, rec.iter().map(|s| s.to_string()).collect()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_lines_and_the_cap_and_encoding_are_errors() {
        let rows = csv_rows(b"\xEF\xBB\xBFa,b\n1,2,3\n", 10).unwrap();
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".to_string(), "b".into()]),
                (2, vec!["1".into(), "2".into(), "3".into()])
            ]
        );
        let e = csv_rows(b"x\nx\nx\nx\n", 2).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (4, "more than 2 rows"));
        let e = csv_rows(b"a\n\xff\xfe\n", 10).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("UTF-8"), "{}", e.message);
    }
}
