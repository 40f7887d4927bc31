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

/// The element types of the arrays written (`pg_type.oid`, fixed in PostgreSQL's catalogue).
const TEXT_OID: u32 = 25;
const FLOAT8_OID: u32 = 701;

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

    /// A one-dimensional `text[]` of `items` (none NULL).
    pub(super) fn text_array<'a>(
        &mut self,
        items: impl ExactSizeIterator<Item = &'a str>,
    ) -> Result<()> {
        let at = self.array_head(items.len(), false, TEXT_OID)?;
        for s in items {
            self.text(s)?;
        }
        self.array_end(at)
    }

    /// A one-dimensional `text[]` of `items`, `None` as NULL elements.
    pub(super) fn opt_text_array<'a>(
        &mut self,
        items: impl ExactSizeIterator<Item = Option<&'a str>> + Clone,
    ) -> Result<()> {
        let nulls = items.clone().any(|s| s.is_none());
        let at = self.array_head(items.len(), nulls, TEXT_OID)?;
        for s in items {
            self.opt_text(s)?;
        }
        self.array_end(at)
    }

    /// A one-dimensional `float8[]` of `items`, `None` as NULL elements.
    pub(super) fn opt_float8_array(
        &mut self,
        items: impl ExactSizeIterator<Item = Option<f64>> + Clone,
    ) -> Result<()> {
        let nulls = items.clone().any(|v| v.is_none());
        let at = self.array_head(items.len(), nulls, FLOAT8_OID)?;
        for v in items {
            self.opt_float8(v);
        }
        self.array_end(at)
    }

    /// An array field's head (`array_send`: dimensions, NULL flag, element type, then per
    /// dimension its length and lower bound 1); returns where its byte length goes.
    fn array_head(&mut self, len: usize, nulls: bool, oid: u32) -> Result<usize> {
        let len = i32::try_from(len)
            .map_err(|_| StoreError::Invalid(format!("an array of {len} elements")))?;
        let at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // the field's length, set at the end
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.extend_from_slice(&i32::from(nulls).to_be_bytes());
        self.buf.extend_from_slice(&oid.to_be_bytes());
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        Ok(at)
    }

    fn array_end(&mut self, at: usize) -> Result<()> {
        let len = self.buf.len() - at - 4;
        let len = i32::try_from(len)
            .map_err(|_| StoreError::Invalid(format!("an array of {len} bytes")))?;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
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

    #[test]
    fn an_array_is_encoded_as_array_send_gives_it() {
        let mut c = CopyRows::with_capacity(0);
        c.row(1);
        c.opt_float8_array([Some(1.5), None].into_iter()).unwrap();
        let got = c.finish();
        let mut want: Vec<u8> = b"PGCOPY\n\xff\r\n\0".to_vec();
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0, 1]);
        // 20 bytes of head, 12 of 1.5, 4 of the NULL
        want.extend_from_slice(&[0, 0, 0, 36]);
        want.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 2, 189, 0, 0, 0, 2, 0, 0, 0, 1]);
        want.extend_from_slice(&[0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(got, want);
    }
}
