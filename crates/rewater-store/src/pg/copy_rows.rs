//! Rows for `COPY … FROM STDIN (FORMAT binary)`, encoded into one buffer (issue 19).
//!
//! The `postgres` crate's `BinaryCopyInWriter` enters its runtime and polls the connection
//! for every row; at 50,000 readings/s that was about a tenth of the gateway's CPU
//! (docs/benchmarks.md). The batch's rows are instead written here and handed to the copy
//! sink at once. The format is PostgreSQL's own ("COPY", section "Binary Format", of the
//! PostgreSQL 15 manual; confidence: high): an 11-byte signature, a 32-bit flags field and a
//! 32-bit header-extension length; then per row a 16-bit field count and per field a 32-bit
//! byte length (−1 for NULL) followed by the value in the type's binary form (`text`: its
//! bytes; `int8`, `float8`: 8 bytes, network order); a 16-bit −1 ends the data.

use crate::{Result, StoreError};

/// The signature every binary COPY stream starts with.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// A binary COPY stream being written.
pub(super) struct CopyRows {
    buf: Vec<u8>,
}

impl CopyRows {
    /// An empty stream (header only), with room for about `bytes` of rows.
    pub(super) fn with_capacity(bytes: usize) -> CopyRows {
        let mut buf = Vec::with_capacity(bytes + 19);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // no header extension
        CopyRows { buf }
    }

    /// Starts a row of `fields` fields.
    pub(super) fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    pub(super) fn text(&mut self, s: &str) -> Result<()> {
        let len = i32::try_from(s.len())
            .map_err(|_| StoreError::Invalid(format!("a text of {} bytes", s.len())))?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(s.as_bytes());
        Ok(())
    }

    pub(super) fn opt_text(&mut self, s: Option<&str>) -> Result<()> {
        match s {
            Some(s) => self.text(s),
            None => {
                self.null();
                Ok(())
            }
        }
    }

    pub(super) fn int8(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(super) fn opt_float8(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.buf.extend_from_slice(&8i32.to_be_bytes());
                self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            None => self.null(),
        }
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// The whole stream, trailer included.
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_encoded_as_the_manual_gives_it() {
        let mut c = CopyRows::with_capacity(0);
        c.row(4);
        c.text("MN").unwrap();
        c.int8(-2);
        c.opt_float8(Some(1.5));
        c.opt_text(None).unwrap();
        let mut want: Vec<u8> = b"PGCOPY\n\xff\r\n\0".to_vec();
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0, 4]);
        want.extend_from_slice(&[0, 0, 0, 2, b'M', b'N']);
        want.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        // 1.5 = 0x3FF8000000000000
        want.extend_from_slice(&[0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(c.finish(), want);
    }
}
