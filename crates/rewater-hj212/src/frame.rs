//! Packet framing: `##` + 4-digit length + data segment + 4 hex CRC + CR LF.
//!
//! [`Decoder`] turns a TCP byte stream into frames. It survives what real ports receive:
//! garbage and HTTP/TLS/SSH probes before `##`, frames split over many reads or several in
//! one read, truncated frames followed by good ones. On a failure it resynchronises at the
//! next `##` after the bad header (a header with a numeric length cannot hold the start of
//! another one; a non-numeric "header" is skipped one byte, so `###0101…` still decodes), so
//! one bad frame never hides the next. A complete, valid frame (CRC and CR LF) that starts
//! inside a frame still waiting for its declared bytes ends that frame as truncated at once,
//! so a device's frame right after a flood of `##9999` headers is not held back until the
//! flood's declared span fills or times out; checking such candidates' CRCs is bounded by a
//! budget of twice the bytes received. An invalid frame is reported with its first
//! [`INVALID_RAW_MAX`] bytes only: a hostile peer declaring 9,999 bytes per header must not make
//! the receiver copy or keep 10 kB per 6 bytes it sent.

use crate::crc::{crc16, crc16_modbus};

/// Largest data segment accepted (the 4-digit length allows 9999; the standard says 1024, but
/// real loggers send more).
pub const MAX_SEGMENT: usize = 9999;
/// The standard's limit on the data segment.
pub const STANDARD_MAX_SEGMENT: usize = 1024;
/// Bytes of an invalid frame reported in [`Event::Invalid`].
pub const INVALID_RAW_MAX: usize = 256;

/// How strictly frames are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Accept frames ending in LF only or with no terminator.
    pub lenient_tail: bool,
    /// Accept segments longer than 1024 bytes (up to 9999).
    pub allow_oversize: bool,
    /// Accept CRC-16/MODBUS printed low byte first (a per-device compatibility switch; never
    /// on by default).
    pub accept_modbus_crc: bool,
}

impl Options {
    /// The standard, to the letter.
    pub fn strict() -> Options {
        Options {
            lenient_tail: false,
            allow_oversize: false,
            accept_modbus_crc: false,
        }
    }

    /// What field traffic needs: LF-only tails and long segments tolerated.
    pub fn lenient() -> Options {
        Options {
            lenient_tail: true,
            allow_oversize: true,
            accept_modbus_crc: false,
        }
    }
}

/// Why bytes were not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("no '##' header")]
    NoHeader,
    #[error("length field '{0}' is not 4 decimal digits")]
    BadLength(String),
    #[error("declared length {declared} but the data segment has {actual} bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("data segment of {0} bytes exceeds the 1024-byte limit")]
    Oversize(usize),
    #[error("CRC field '{0}' is not 4 hex digits")]
    BadCrcField(String),
    #[error("CRC mismatch: frame says {found:04X}, data gives {expected:04X}")]
    CrcMismatch { found: u16, expected: u16 },
    #[error("frame does not end in CR LF")]
    BadTail,
    #[error("data segment is not valid UTF-8")]
    NotUtf8,
}

/// A frame whose length and CRC are valid (and whose bytes are UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The whole frame as received (for the audit trail).
    pub raw: Vec<u8>,
    /// Length of the data segment, which starts at byte 6.
    pub segment_len: usize,
    /// The CRC matched only as byte-swapped MODBUS (compatibility mode).
    pub modbus_crc: bool,
}

impl Frame {
    /// Where the data segment lies in `raw`.
    pub fn segment_range(&self) -> std::ops::Range<usize> {
        6..6 + self.segment_len
    }

    /// The data segment (between the length and the CRC).
    pub fn segment(&self) -> &str {
        std::str::from_utf8(&self.raw[self.segment_range()]).unwrap_or("")
    }
}

/// What the decoder found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Frame(Frame),
    /// Bytes that were not part of any frame (probes, noise), counted not kept.
    Garbage(usize),
    /// A frame-like sequence that failed; `raw` holds its first bytes (at most
    /// [`INVALID_RAW_MAX`] of the declared frame).
    Invalid {
        raw: Vec<u8>,
        error: FrameError,
    },
}

/// Streaming frame decoder. Feed bytes with [`Decoder::push`], take events with
/// [`Decoder::next_event`] until it returns `None`.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    options: Options,
    /// Index in `buf` up to which no `\n##` was found: overlapping spans of successive bad
    /// headers are searched once, not once per header (linear, not span × headers).
    clean_until: usize,
    /// Bytes of CRC the search for a valid frame inside a waiting one may still compute
    /// (grows by twice the bytes pushed, at most [`PROBE_BUDGET_MAX`]).
    probe_budget: usize,
}

/// Most CRC bytes saved up for the embedded-frame search.
const PROBE_BUDGET_MAX: usize = 64 * 1024;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The 4-digit length field of a header, if it is one.
fn decimal4(b: &[u8]) -> Option<usize> {
    (b.len() == 4 && b.iter().all(u8::is_ascii_digit))
        .then(|| b.iter().fold(0, |a, d| a * 10 + (d - b'0') as usize))
}

fn hex4(b: &[u8]) -> Option<u16> {
    if b.len() != 4 || !b.iter().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok()
}

/// Checks the CRC field against the segment; Ok(true) if it matched only as swapped MODBUS.
fn check_crc(segment: &[u8], field: &[u8], options: &Options) -> Result<bool, FrameError> {
    let found = hex4(field)
        .ok_or_else(|| FrameError::BadCrcField(String::from_utf8_lossy(field).into_owned()))?;
    let expected = crc16(segment);
    if found == expected {
        return Ok(false);
    }
    if options.accept_modbus_crc && found == crc16_modbus(segment).swap_bytes() {
        return Ok(true);
    }
    Err(FrameError::CrcMismatch { found, expected })
}

impl Decoder {
    /// A decoder with the given options.
    pub fn new(options: Options) -> Decoder {
        Decoder {
            buf: Vec::with_capacity(2048),
            start: 0,
            options,
            clean_until: 0,
            probe_budget: 0,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.clean_until = self.clean_until.saturating_sub(self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        self.probe_budget = self
            .probe_budget
            .saturating_add(2 * bytes.len())
            .min(PROBE_BUDGET_MAX);
    }

    /// Bytes waiting for the rest of a frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete event, or `None` if more bytes are needed.
    pub fn next_event(&mut self) -> Option<Event> {
        let data = &self.buf[self.start..];
        if data.is_empty() {
            return None;
        }
        // Skip to the next "##"; whitespace between frames is not garbage.
        let Some(pos) = find(data, b"##") else {
            // Keep a trailing '#' that may start a header.
            let keep = usize::from(data.last() == Some(&b'#'));
            let skipped = data.len() - keep;
            let noise = data[..skipped]
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .count();
            self.start += skipped;
            return (noise > 0).then_some(Event::Garbage(noise));
        };
        if pos > 0 {
            let noise = data[..pos]
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .count();
            self.start += pos;
            if noise > 0 {
                return Some(Event::Garbage(noise));
            }
        }
        let data = &self.buf[self.start..];
        if data.len() < 6 {
            return None;
        }
        let len_field = &data[2..6];
        let Some(declared) = decimal4(len_field) else {
            return Some(self.fail(
                6,
                FrameError::BadLength(String::from_utf8_lossy(len_field).into_owned()),
            ));
        };
        let oversize = declared > STANDARD_MAX_SEGMENT && !self.options.allow_oversize;
        let body_end = 6 + declared;
        let crc_end = body_end + 4;
        if data.len() < crc_end {
            // A new frame header inside the awaited bytes means this frame was truncated.
            return self
                .truncated(declared)
                .or_else(|| self.embedded_frame(declared));
        }
        let tail = &data[crc_end..];
        let tail_len = if tail.starts_with(b"\r\n") {
            2
        } else if tail.len() < 2
            && !self.options.lenient_tail
            && tail.first().is_none_or(|b| *b == b'\r')
        {
            return None; // wait for the CR LF
        } else if tail.starts_with(b"\n") && self.options.lenient_tail {
            1
        } else if self.options.lenient_tail {
            0
        } else {
            // Not CR LF: report against what the frame claims, then resync one byte on.
            if let Some(ev) = self.truncated(declared) {
                return Some(ev);
            }
            let data = &self.buf[self.start..];
            let segment = &data[6..body_end];
            let error = match check_crc(segment, &data[body_end..crc_end], &self.options) {
                Err(e) => e,
                Ok(_) => FrameError::BadTail,
            };
            return Some(self.fail(crc_end, error));
        };
        let segment = &data[6..body_end];
        let result = check_crc(segment, &data[body_end..crc_end], &self.options);
        let total = crc_end + tail_len;
        match result {
            Ok(_) if oversize => Some(self.fail(total, FrameError::Oversize(declared))),
            Ok(modbus) => {
                if std::str::from_utf8(&data[..total]).is_err() {
                    return Some(self.fail(total, FrameError::NotUtf8));
                }
                let frame = Frame {
                    raw: data[..total].to_vec(),
                    segment_len: declared,
                    modbus_crc: modbus,
                };
                self.start += total;
                Some(Event::Frame(frame))
            }
            Err(e) => self
                .truncated(declared)
                .or_else(|| Some(self.fail(total, e))),
        }
    }

    /// If a new frame starts inside the current one's declared span, reports the current one
    /// as truncated (up to the new header).
    fn truncated(&mut self, declared: usize) -> Option<Event> {
        let data = &self.buf[self.start..];
        let span_end = data.len().min(6 + declared + 4 + 2);
        // Resume after what was searched before (less 2 bytes: a match may straddle).
        let from = self
            .clean_until
            .saturating_sub(self.start + 2)
            .max(6)
            .min(span_end);
        let Some(p) = find(&data[from..span_end], b"\n##") else {
            self.clean_until = self.clean_until.max(self.start + span_end);
            return None;
        };
        self.clean_until = self.clean_until.max(self.start + from + p);
        let next = from + p + 1;
        let actual = next.saturating_sub(6 + 4 + 2);
        Some(self.fail(next, FrameError::LengthMismatch { declared, actual }))
    }

    /// If a complete, valid frame starts inside the current (incomplete) one, reports the
    /// current one as truncated up to it. Only candidates whose span is complete and ends in
    /// CR LF have their CRC computed, within the probe budget.
    fn embedded_frame(&mut self, declared: usize) -> Option<Event> {
        let data = &self.buf[self.start..];
        let mut at = 2;
        while let Some(q) = find(&data[at..], b"##") {
            at += q;
            if let Some(len) = decimal4(data.get(at + 2..at + 6)?) {
                let body_end = at + 6 + len;
                let crc_end = body_end + 4;
                let complete = data.get(crc_end..crc_end + 2) == Some(b"\r\n");
                if complete && self.probe_budget >= len {
                    self.probe_budget -= len;
                    let ok = check_crc(
                        &data[at + 6..body_end],
                        &data[body_end..crc_end],
                        &self.options,
                    );
                    if ok.is_ok() {
                        // Everything before it is one invalid frame; go straight to it.
                        let raw = data[..at.min(INVALID_RAW_MAX)].to_vec();
                        let actual = at.saturating_sub(6 + 4 + 2);
                        self.start += at;
                        let error = FrameError::LengthMismatch { declared, actual };
                        return Some(Event::Invalid { raw, error });
                    }
                }
            }
            at += 2;
        }
        None
    }

    /// Reports an invalid frame of `len` bytes and resynchronises at the next `##` after its
    /// header: past the 6-byte header when the length was numeric (no `##` can start inside
    /// it), one byte on otherwise. A `##` inside the declared span is found again.
    fn fail(&mut self, len: usize, error: FrameError) -> Event {
        let data = &self.buf[self.start..];
        let raw = data[..len.min(data.len()).min(INVALID_RAW_MAX)].to_vec();
        let numeric = data.get(2..6).and_then(decimal4).is_some();
        self.start += if numeric { 6 } else { 1 };
        Event::Invalid { raw, error }
    }
}

/// The result of checking one frame given as a line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCheck {
    /// The data segment as far as it could be located.
    pub segment: Option<String>,
    /// Errors found in framing (empty when the length and CRC are valid).
    pub errors: Vec<FrameError>,
}

/// Checks a single frame (one line, CR LF optional): locates the data segment by the CRC at the
/// end rather than by the declared length, so that a wrong length is reported, not fatal.
pub fn check_line(line: &[u8], options: &Options) -> LineCheck {
    let mut errors = Vec::new();
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n' | b' ' | b'\t') {
        end -= 1;
    }
    let line = &line[..end];
    let Some(start) = find(line, b"##") else {
        return LineCheck {
            segment: None,
            errors: vec![FrameError::NoHeader],
        };
    };
    let line = &line[start..];
    if line.len() < 2 + 4 + 4 {
        return LineCheck {
            segment: None,
            errors: vec![FrameError::BadLength(
                String::from_utf8_lossy(&line[2..]).into_owned(),
            )],
        };
    }
    // The length field is the digits after "##" (4 in a correct frame).
    let digits = line[2..].iter().take_while(|b| b.is_ascii_digit()).count();
    let seg_start = 2 + digits.min(4);
    if digits != 4 {
        errors.push(FrameError::BadLength(
            String::from_utf8_lossy(&line[2..2 + digits.min(6)]).into_owned(),
        ));
    }
    let crc_start = line.len() - 4;
    if crc_start < seg_start {
        return LineCheck {
            segment: None,
            errors: vec![FrameError::BadLength(
                String::from_utf8_lossy(&line[2..]).into_owned(),
            )],
        };
    }
    let segment = &line[seg_start..crc_start];
    if digits == 4 {
        let declared: usize = line[2..6]
            .iter()
            .fold(0, |a, d| a * 10 + (d - b'0') as usize);
        if declared != segment.len() {
            errors.push(FrameError::LengthMismatch {
                declared,
                actual: segment.len(),
            });
        }
    }
    if segment.len() > STANDARD_MAX_SEGMENT && !options.allow_oversize {
        errors.push(FrameError::Oversize(segment.len()));
    }
    if let Err(e) = check_crc(segment, &line[crc_start..], options) {
        errors.push(e);
    }
    match std::str::from_utf8(segment) {
        Ok(s) => LineCheck {
            segment: Some(s.to_string()),
            errors,
        },
        Err(_) => {
            errors.push(FrameError::NotUtf8);
            LineCheck {
                segment: Some(String::from_utf8_lossy(segment).into_owned()),
                errors,
            }
        }
    }
}

/// Wraps a data segment into a frame: `##`, length, segment, upper-case CRC, CR LF.
pub fn encode_frame(segment: &str) -> String {
    use std::fmt::Write;
    // Sized once: `format!` would grow the string while copying the segment (one frame per
    // acknowledgement, so it showed in the gateway's profile).
    let mut out = String::with_capacity(segment.len() + 12);
    out.push_str("##");
    let _ = write!(out, "{:04}", segment.len());
    out.push_str(segment);
    let _ = write!(out, "{:04X}\r\n", crc16(segment.as_bytes()));
    out
}
