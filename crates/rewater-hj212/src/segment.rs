//! The data segment: `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&`, parsed by key
//! (real devices reorder or omit header fields) into typed fields and CP items.
//!
//! A [`Segment`] owns one string (the received frame, or the segment text) and records where
//! each field and pair lies in it, so parsing allocates little and nothing is lost.

use crate::frame::Frame;
use std::ops::Range;

/// How strictly a data segment is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strictness {
    /// Header fields required by the standard must be present and well formed.
    Strict,
    /// Accept what field devices send (missing QN/Flag, odd values), parse what is there.
    #[default]
    Lenient,
}

/// Why a data segment could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("no 'CP=&&' data area")]
    NoCp,
    #[error("CP data area is not closed by '&&'")]
    UnclosedCp,
    #[error("header item '{0}' is not NAME=VALUE")]
    BadHeaderItem(String),
    #[error("missing header field {0}")]
    Missing(&'static str),
    #[error("Flag '{0}' is not an integer 0–255")]
    BadFlag(String),
    #[error("{field} '{value}' is not a number")]
    BadNumber { field: &'static str, value: String },
    #[error("QN '{0}' is not a 17-digit YYYYMMDDhhmmsszzz time")]
    BadQn(String),
    #[error("CN '{0}' is not 4 digits")]
    BadCn(String),
    #[error("PNO {pno} is outside 1..={pnum}")]
    BadPacketNumber { pno: u32, pnum: u32 },
    #[error("DataTime '{0}' is not YYYYMMDDhhmmss")]
    BadDataTime(String),
    #[error("CP item '{0}' is not NAME=VALUE")]
    BadCpItem(String),
}

/// The protocol version announced in Flag bits 2–7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Version {
    /// HJ/T 212-2005 (version bits 000000, or no Flag at all).
    V2005,
    /// HJ 212-2017 (000001).
    V2017,
    /// HJ 212-2025 (000010), seen in the field.
    V2025,
    Other(u8),
}

/// The Flag field (拆分包及应答标志).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    pub value: u8,
}

impl Flag {
    /// Bit A: the receiver must acknowledge.
    pub fn ack_requested(self) -> bool {
        self.value & 1 == 1
    }
    /// Bit D: PNUM and PNO are present.
    pub fn split(self) -> bool {
        self.value & 2 == 2
    }
    /// Version bits.
    pub fn version(self) -> Version {
        match self.value >> 2 {
            0 => Version::V2005,
            1 => Version::V2017,
            2 => Version::V2025,
            v => Version::Other(v),
        }
    }
}

/// A wall-clock time `YYYYMMDDhhmmss` (Beijing time, as the protocol sends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

fn epoch() -> rewater_standards::Date {
    rewater_standards::Date::EPOCH
}

impl DataTime {
    /// Parses 14 digits (17-digit values with milliseconds are truncated, as seen in the field).
    pub fn parse(s: &str) -> Option<DataTime> {
        let s = s.trim();
        if !(s.len() == 14 || s.len() == 17) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |a: usize, b: usize| {
            s.as_bytes()[a..b]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + (d - b'0') as u16)
        };
        let t = DataTime {
            year: n(0, 4),
            month: n(4, 6) as u8,
            day: n(6, 8) as u8,
            hour: n(8, 10) as u8,
            minute: n(10, 12) as u8,
            second: n(12, 14) as u8,
        };
        rewater_standards::Date::from_ymd(t.year as i32, t.month as u32, t.day as u32)?;
        (t.hour < 24 && t.minute < 60 && t.second < 60).then_some(t)
    }

    /// Seconds since 1970-01-01 00:00:00 of the same wall clock (no time zone applied).
    pub fn wall_seconds(self) -> i64 {
        let d =
            rewater_standards::Date::from_ymd(self.year as i32, self.month as u32, self.day as u32)
                .map(|d| d.days_since(epoch()) as i64)
                .unwrap_or(0);
        d * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64
    }

    /// The inverse of [`DataTime::wall_seconds`].
    pub fn from_wall_seconds(s: i64) -> DataTime {
        let days = s.div_euclid(86_400);
        let rest = s.rem_euclid(86_400);
        let (y, m, d) = epoch().add_days(days as i32).ymd();
        DataTime {
            year: y as u16,
            month: m as u8,
            day: d as u8,
            hour: (rest / 3600) as u8,
            minute: (rest % 3600 / 60) as u8,
            second: (rest % 60) as u8,
        }
    }
}

impl std::fmt::Display for DataTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl serde::Serialize for DataTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

type Span = Range<u32>;

#[derive(Debug, Clone, PartialEq, Eq)]
struct PairSpan {
    key: Span,
    value: Span,
    group: u32,
}

/// One `key=value` pair of the CP area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CpPair<'a> {
    pub key: &'a str,
    pub value: &'a str,
    /// Index of the `;`-separated item it belongs to (pairs of one subject share it).
    pub group: u32,
}

/// A parsed data segment. Unknown header fields and CP pairs are kept; nothing is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    text: String,
    qn: Option<Span>,
    st: Option<Span>,
    cn: Option<Span>,
    pw: Option<Span>,
    mn: Option<Span>,
    pub flag: Option<Flag>,
    pub pnum: Option<u32>,
    pub pno: Option<u32>,
    extra: Vec<(Span, Span)>,
    cp: Vec<PairSpan>,
    segment: Span,
}

/// A value of one factor (subject) in the CP area: `w01018-Rtd=23.5,w01018-Flag=N`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorValues<'a> {
    /// The subject code as sent (`w01018`, or a 2005 code such as `011`).
    pub code: &'a str,
    /// (suffix, value) pairs in order (`Rtd`, `Avg`, `Min`, `Max`, `Cou`, `SampleTime`, …);
    /// a repeated suffix keeps its first value.
    pub values: Vec<(&'a str, &'a str)>,
    /// The `-Flag` data flag (N, F, M, S, D, C, T, B; 2005 also P).
    pub flag: Option<&'a str>,
}

impl FactorValues<'_> {
    /// A value text by suffix.
    pub fn value(&self, suffix: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(s, _)| *s == suffix)
            .map(|(_, v)| *v)
    }

    /// A numeric value by suffix.
    pub fn number(&self, suffix: &str) -> Option<f64> {
        self.value(suffix)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn trim_span(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && b[s] == b' ' {
        s += 1;
    }
    while e > s && b[e - 1] == b' ' {
        e -= 1;
    }
    (s, e)
}

impl Segment {
    /// Parses a data segment (copies the text once).
    pub fn parse(text: &str, strictness: Strictness) -> Result<Segment, SegmentError> {
        Segment::parse_in(text.to_string(), 0..text.len(), strictness)
    }

    /// Parses the segment of a decoded frame, keeping the whole frame text (no copy).
    pub fn from_frame(frame: Frame, strictness: Strictness) -> Result<Segment, SegmentError> {
        let range = frame.segment_range();
        // Frames are checked to be UTF-8 when decoded.
        let text = String::from_utf8(frame.raw).map_err(|_| SegmentError::NoCp)?;
        Segment::parse_in(text, range, strictness)
    }

    fn parse_in(
        text: String,
        range: Range<usize>,
        strictness: Strictness,
    ) -> Result<Segment, SegmentError> {
        let b = text.as_bytes();
        let base = range.start;
        let seg = &b[range.clone()];
        let cp_at = find(seg, b"CP=&&").ok_or(SegmentError::NoCp)?;
        let cp_start = cp_at + 5;
        // The CP area ends at the last "&&" (info text may hold "&&").
        let cp_end = cp_start + rfind(&seg[cp_start..], b"&&").ok_or(SegmentError::UnclosedCp)?;
        if strictness == Strictness::Strict
            && seg[cp_end + 2..].iter().any(|c| !c.is_ascii_whitespace())
        {
            return Err(SegmentError::UnclosedCp);
        }
        let sp = |s: usize, e: usize| (base + s) as u32..(base + e) as u32;
        let mut out = Segment {
            qn: None,
            st: None,
            cn: None,
            pw: None,
            mn: None,
            flag: None,
            pnum: None,
            pno: None,
            extra: Vec::new(),
            cp: Vec::with_capacity(16),
            segment: sp(0, seg.len()),
            text: String::new(),
        };
        // Header: items separated by ';' before CP.
        let mut i = 0;
        while i < cp_at {
            let end = seg[i..cp_at]
                .iter()
                .position(|&c| c == b';')
                .map_or(cp_at, |p| i + p);
            let (s, e) = trim_span(seg, i, end);
            if s < e {
                let eq = seg[s..e].iter().position(|&c| c == b'=').ok_or_else(|| {
                    SegmentError::BadHeaderItem(String::from_utf8_lossy(&seg[s..e]).into_owned())
                })?;
                let (ks, ke) = trim_span(seg, s, s + eq);
                let (vs, ve) = trim_span(seg, s + eq + 1, e);
                let value = &text[base + vs..base + ve];
                match &seg[ks..ke] {
                    b"QN" => out.qn = Some(sp(vs, ve)),
                    b"ST" => out.st = Some(sp(vs, ve)),
                    b"CN" => out.cn = Some(sp(vs, ve)),
                    b"PW" => out.pw = Some(sp(vs, ve)),
                    b"MN" => out.mn = Some(sp(vs, ve)),
                    b"Flag" => {
                        out.flag = Some(Flag {
                            value: value
                                .parse()
                                .map_err(|_| SegmentError::BadFlag(value.to_string()))?,
                        })
                    }
                    b"PNUM" => {
                        out.pnum = Some(value.parse().map_err(|_| SegmentError::BadNumber {
                            field: "PNUM",
                            value: value.to_string(),
                        })?)
                    }
                    b"PNO" => {
                        out.pno = Some(value.parse().map_err(|_| SegmentError::BadNumber {
                            field: "PNO",
                            value: value.to_string(),
                        })?)
                    }
                    _ => out.extra.push((sp(ks, ke), sp(vs, ve))),
                }
            }
            i = end + 1;
        }
        // CP pairs: ';' separates subjects, ',' pairs of one subject; `//…//` info text may
        // hold any character.
        let mut group = 0u32;
        let mut i = cp_start;
        while i < cp_end {
            match seg[i] {
                b';' => {
                    group += 1;
                    i += 1;
                    continue;
                }
                b',' | b' ' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let bad = || {
                SegmentError::BadCpItem(
                    String::from_utf8_lossy(&seg[i..cp_end.min(i + 40)]).into_owned(),
                )
            };
            let eq = seg[i..cp_end]
                .iter()
                .position(|&c| c == b'=')
                .map(|p| i + p)
                .ok_or_else(bad)?;
            let (ks, ke) = trim_span(seg, i, eq);
            if ks == ke || seg[ks..ke].iter().any(|&c| c == b';' || c == b',') {
                return Err(bad());
            }
            let vstart = eq + 1;
            let vend = if seg[vstart..cp_end].starts_with(b"//") {
                find(&seg[vstart + 2..cp_end], b"//").map_or(cp_end, |p| vstart + 2 + p + 2)
            } else {
                seg[vstart..cp_end]
                    .iter()
                    .position(|&c| c == b';' || c == b',')
                    .map_or(cp_end, |p| vstart + p)
            };
            let (vs, ve) = trim_span(seg, vstart, vend);
            out.cp.push(PairSpan {
                key: sp(ks, ke),
                value: sp(vs, ve),
                group,
            });
            i = vend;
        }
        out.text = text;
        out.validate(strictness)?;
        Ok(out)
    }

    fn validate(&self, strictness: Strictness) -> Result<(), SegmentError> {
        if let (Some(pnum), Some(pno)) = (self.pnum, self.pno) {
            if pno == 0 || pno > pnum {
                return Err(SegmentError::BadPacketNumber { pno, pnum });
            }
        }
        if let Some(cn) = self.cn() {
            if cn.len() != 4 || !cn.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SegmentError::BadCn(cn.to_string()));
            }
        }
        if strictness == Strictness::Strict {
            for (name, v) in [
                ("ST", self.st()),
                ("CN", self.cn()),
                ("PW", self.pw()),
                ("MN", self.mn()),
            ] {
                if v.is_none() {
                    return Err(SegmentError::Missing(name));
                }
            }
            let is_2005 = self.flag.is_none_or(|f| f.version() == Version::V2005);
            match self.qn() {
                Some(q) if q.len() == 17 && q.bytes().all(|b| b.is_ascii_digit()) => {}
                Some(q) => return Err(SegmentError::BadQn(q.to_string())),
                None if is_2005 => {}
                None => return Err(SegmentError::Missing("QN")),
            }
            if self.flag.is_some_and(|f| f.split()) && (self.pnum.is_none() || self.pno.is_none()) {
                return Err(SegmentError::Missing("PNUM/PNO"));
            }
            if let Some(dt) = self.cp_value("DataTime") {
                if DataTime::parse(dt).is_none() {
                    return Err(SegmentError::BadDataTime(dt.to_string()));
                }
            }
        }
        Ok(())
    }

    fn get(&self, s: &Span) -> &str {
        self.text
            .get(s.start as usize..s.end as usize)
            .unwrap_or("")
    }

    fn field(&self, s: &Option<Span>) -> Option<&str> {
        s.as_ref().map(|s| self.get(s))
    }

    pub fn qn(&self) -> Option<&str> {
        self.field(&self.qn)
    }
    pub fn st(&self) -> Option<&str> {
        self.field(&self.st)
    }
    pub fn cn(&self) -> Option<&str> {
        self.field(&self.cn)
    }
    pub fn pw(&self) -> Option<&str> {
        self.field(&self.pw)
    }
    pub fn mn(&self) -> Option<&str> {
        self.field(&self.mn)
    }

    /// The data segment text.
    pub fn segment_text(&self) -> &str {
        self.get(&self.segment)
    }

    /// The whole received text (the raw frame for [`Segment::from_frame`]).
    pub fn raw(&self) -> &str {
        &self.text
    }

    /// Header fields other than QN, ST, CN, PW, MN, Flag, PNUM, PNO.
    pub fn extra(&self) -> impl Iterator<Item = (&str, &str)> {
        self.extra.iter().map(|(k, v)| (self.get(k), self.get(v)))
    }

    /// The CP pairs in order.
    pub fn cp(&self) -> impl Iterator<Item = CpPair<'_>> {
        self.cp.iter().map(|p| CpPair {
            key: self.get(&p.key),
            value: self.get(&p.value),
            group: p.group,
        })
    }

    /// Number of CP pairs.
    pub fn cp_len(&self) -> usize {
        self.cp.len()
    }

    /// First CP value of a plain field (`DataTime`, `QnRtn`, `SystemTime`…).
    pub fn cp_value(&self, key: &str) -> Option<&str> {
        self.cp().find(|p| p.key == key).map(|p| p.value)
    }

    /// `DataTime` parsed, if present and valid.
    pub fn data_time(&self) -> Option<DataTime> {
        self.cp_value("DataTime").and_then(DataTime::parse)
    }

    /// Whether the sender asked for an acknowledgement.
    pub fn ack_requested(&self) -> bool {
        self.flag.is_some_and(|f| f.ack_requested())
    }

    /// Protocol version (no Flag means 2005).
    pub fn version(&self) -> Version {
        self.flag.map(|f| f.version()).unwrap_or(Version::V2005)
    }

    /// Factor values grouped by subject, in order of first appearance. Only keys of the form
    /// `subject-suffix`; plain fields (DataTime…) are not factors.
    pub fn factors(&self) -> Vec<FactorValues<'_>> {
        let mut out: Vec<FactorValues<'_>> = Vec::new();
        for p in self.cp() {
            let Some((subject, suffix)) = p.key.rsplit_once('-') else {
                continue;
            };
            if subject.is_empty() || suffix.is_empty() {
                continue;
            }
            // Pairs of one subject are usually adjacent: look at the last entry first.
            let idx = match out.iter().rposition(|f| f.code == subject) {
                Some(i) => i,
                None => {
                    out.push(FactorValues {
                        code: subject,
                        values: Vec::with_capacity(4),
                        flag: None,
                    });
                    out.len() - 1
                }
            };
            let f = &mut out[idx];
            if suffix == "Flag" {
                f.flag.get_or_insert(p.value);
            } else if !f.values.iter().any(|(s, _)| *s == suffix) {
                f.values.push((suffix, p.value));
            }
        }
        out
    }
}

impl serde::Serialize for Segment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Segment", 10)?;
        st.serialize_field("qn", &self.qn())?;
        st.serialize_field("st", &self.st())?;
        st.serialize_field("cn", &self.cn())?;
        st.serialize_field("pw", &self.pw())?;
        st.serialize_field("mn", &self.mn())?;
        st.serialize_field("flag", &self.flag.map(|f| f.value))?;
        st.serialize_field("pnum", &self.pnum)?;
        st.serialize_field("pno", &self.pno)?;
        st.serialize_field("items", &self.cp().collect::<Vec<_>>())?;
        st.serialize_field("factors", &self.factors())?;
        st.end()
    }
}
