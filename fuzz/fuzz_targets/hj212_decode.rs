//! Fuzz target: any bytes, split at any point, through the stream decoder, the line checker
//! and the segment parser (strict and lenient). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewater_hj212::{check_line, Decoder, Event, Options, Segment, Strictness};

fuzz_target!(|data: &[u8]| {
    let split = data.first().map(|b| *b as usize).unwrap_or(0).min(data.len());
    for options in [Options::strict(), Options::lenient(), Options { accept_modbus_crc: true, ..Options::lenient() }] {
        let mut d = Decoder::new(options);
        d.push(&data[..split]);
        while let Some(e) = d.next_event() {
            touch(e);
        }
        d.push(&data[split..]);
        while let Some(e) = d.next_event() {
            touch(e);
        }
        let _ = check_line(data, &options);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for s in [Strictness::Strict, Strictness::Lenient] {
            if let Ok(seg) = Segment::parse(text, s) {
                let _ = (seg.factors(), seg.data_time(), seg.version(), rewater_hj212::encode::ack_9014(&seg));
            }
        }
    }
});

fn touch(e: Event) {
    if let Event::Frame(f) = e {
        for s in [Strictness::Strict, Strictness::Lenient] {
            if let Ok(seg) = Segment::from_frame(f.clone(), s) {
                let _ = (seg.factors(), seg.data_time(), seg.cp_len());
            }
        }
    }
}
