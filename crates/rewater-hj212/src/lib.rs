//! The HJ 212 data-logger protocol (污染物在线监控(监测)系统数据传输标准), HJ 212-2017 with
//! HJ/T 212-2005 compatibility: framing and the HJ 212 CRC ([`frame`], [`crc`]), data segments
//! with typed header fields and CP items ([`segment`]), old factor codes ([`compat`]), and
//! builders for replies and uploads ([`encode`]). Pure: no I/O, never panics on input.

pub mod compat;
pub mod crc;
pub mod encode;
pub mod frame;
pub mod segment;

pub use frame::{
    check_line, encode_frame, Decoder, Event, Frame, FrameError, Options, INVALID_RAW_MAX,
};
pub use segment::{DataTime, FactorValues, Flag, Segment, SegmentError, Strictness, Version};
