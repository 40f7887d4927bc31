//! Building segments and frames: replies the platform sends and uploads the simulator sends.

use crate::frame::encode_frame;
use crate::segment::{DataTime, Segment, Version};
use std::fmt::Write;

/// A QN (request number) for a time and a millisecond count: `YYYYMMDDhhmmsszzz`.
pub fn qn(t: DataTime, millis: u16) -> String {
    format!("{t}{:03}", millis % 1000)
}

/// The 9014 data acknowledgement for an upload (HJ 212-2017 C.14: same QN, ST=91, Flag=4,
/// empty CP; PW and MN echoed). To a 2005 device, the 2005 shape with QN and CN inside CP.
pub fn ack_9014(upload: &Segment) -> String {
    reply(upload, "9014")
}

/// The 9013 notification acknowledgement (e.g. for a 1013 time-calibration request).
pub fn ack_9013(notice: &Segment) -> String {
    reply(notice, "9013")
}

fn reply(to: &Segment, cn: &str) -> String {
    let pw = to.pw().unwrap_or("");
    let mn = to.mn().unwrap_or("");
    let qn = to.qn().unwrap_or("");
    let seg = if to.version() == Version::V2005 {
        format!(
            "ST=91;CN={cn};PW={pw};MN={mn};CP=&&QN={qn};CN={}&&",
            to.cn().unwrap_or("")
        )
    } else {
        // Keep the device's version bits, clear the ack bit.
        let flag = to.flag.map(|f| f.value & !1 & !2).unwrap_or(4);
        format!("QN={qn};ST=91;CN={cn};PW={pw};MN={mn};Flag={flag};CP=&&&&")
    };
    encode_frame(&seg)
}

/// A 1012 request setting the device clock.
pub fn set_time_1012(qn_value: &str, st: &str, pw: &str, mn: &str, now: DataTime) -> String {
    encode_frame(&format!(
        "QN={qn_value};ST={st};CN=1012;PW={pw};MN={mn};Flag=5;CP=&&SystemTime={now}&&"
    ))
}

/// One factor's values in an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadFactor {
    pub code: String,
    /// (suffix, value) pairs, e.g. ("Avg", 23.5).
    pub values: Vec<(String, f64)>,
    pub flag: Option<char>,
}

/// A data upload (2011 real-time, 2051 minute, 2061 hourly, 2031 daily).
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub qn: String,
    pub st: String,
    pub cn: String,
    pub pw: String,
    pub mn: String,
    pub ack: bool,
    pub data_time: DataTime,
    pub factors: Vec<UploadFactor>,
}

impl Upload {
    /// The data segment (HJ 212-2017 layout).
    pub fn segment(&self) -> String {
        let mut s = String::with_capacity(256);
        let flag = if self.ack { 5 } else { 4 };
        let _ = write!(
            s,
            "QN={};ST={};CN={};PW={};MN={};Flag={flag};CP=&&DataTime={}",
            self.qn, self.st, self.cn, self.pw, self.mn, self.data_time
        );
        for f in &self.factors {
            s.push(';');
            let mut first = true;
            for (suffix, v) in &f.values {
                if !first {
                    s.push(',');
                }
                first = false;
                let _ = write!(s, "{}-{suffix}={v}", f.code);
            }
            if let Some(flag) = f.flag {
                let _ = write!(s, "{}{}-Flag={flag}", if first { "" } else { "," }, f.code);
            }
        }
        s.push_str("&&");
        s
    }

    /// The whole frame.
    pub fn frame(&self) -> String {
        encode_frame(&self.segment())
    }
}
