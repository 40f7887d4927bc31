//! Issue 12, finding 1: a flood of `##9999` headers. The decoder resynchronises at the next
//! `##` after each bad header and reports only the head of each invalid frame.

use rewater_hj212::encode::{Upload, UploadFactor};
use rewater_hj212::{DataTime, Decoder, Event, FrameError, Options, INVALID_RAW_MAX};

fn good() -> String {
    Upload {
        qn: "20250601000000001".into(),
        st: "32".into(),
        cn: "2051".into(),
        pw: "pw".into(),
        mn: "MN1".into(),
        ack: true,
        data_time: DataTime::from_wall_seconds(1_748_736_000),
        factors: vec![UploadFactor {
            code: "w01018".into(),
            values: vec![("Avg".into(), 1.0)],
            flag: Some('N'),
        }],
    }
    .frame()
}

fn decode(bytes: &[u8], options: Options) -> Vec<Event> {
    let mut d = Decoder::new(options);
    let mut out = Vec::new();
    // In TCP-sized pieces, as the gateway feeds it.
    for piece in bytes.chunks(8192) {
        d.push(piece);
        while let Some(e) = d.next_event() {
            out.push(e);
        }
    }
    out
}

#[test]
fn a_flood_of_9999_headers_yields_small_reports_and_the_next_frame() {
    let mut bytes = b"##9999".repeat(50_000); // 300 kB
                                              // A device's frame on its own line (inside the span the last headers declare).
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(good().as_bytes());
    let events = decode(&bytes, Options::lenient());
    let invalid: Vec<&Vec<u8>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Invalid { raw, .. } => Some(raw),
            _ => None,
        })
        .collect();
    // One report per header whose declared span is complete; each at most 256 bytes.
    assert!(invalid.len() >= 48_000, "{}", invalid.len());
    assert!(invalid.len() <= 50_000);
    assert!(invalid.iter().all(|r| r.len() <= INVALID_RAW_MAX));
    let total: usize = invalid.iter().map(|r| r.len()).sum();
    assert!(total <= 50_000 * INVALID_RAW_MAX);
    // The good frame at the end is found.
    let frames = events
        .iter()
        .filter(|e| matches!(e, Event::Frame(_)))
        .count();
    assert_eq!(frames, 1);
}

#[test]
fn resync_skips_the_bad_header_but_not_a_frame_inside_it() {
    // A stray '#' before a good frame: the non-numeric "header" moves one byte.
    let bytes = format!("#{}", good());
    let events = decode(bytes.as_bytes(), Options::strict());
    assert!(matches!(events.last(), Some(Event::Frame(_))), "{events:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Invalid {
            error: FrameError::BadLength(_),
            ..
        }
    )));
    // A truncated frame followed by a good one on the next line.
    let bytes = format!("##0200QN=20250601\r\n{}", good());
    let events = decode(bytes.as_bytes(), Options::strict());
    assert!(matches!(events.last(), Some(Event::Frame(_))), "{events:?}");
    // A bad CRC: reported once, then the next frame.
    let mut bad = good();
    let at = bad.len() - 3;
    bad.replace_range(at..at + 1, if &bad[at..at + 1] == "0" { "1" } else { "0" });
    let bytes = format!("{bad}{}", good());
    let events = decode(bytes.as_bytes(), Options::strict());
    // (What follows the bad frame's header up to the next frame is counted as garbage.)
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Frame(_) => Some("frame"),
            Event::Invalid { .. } => Some("invalid"),
            Event::Garbage(_) => None,
        })
        .collect();
    assert_eq!(kinds, ["invalid", "frame"], "{events:?}");
}

/// A device's frame right after a flood of `##9999` headers with no line break between them:
/// decoded in the same read, not after the flood's declared 9,999 bytes arrive (or the
/// gateway's frame timeout).
#[test]
fn a_valid_frame_inside_a_waiting_flood_is_decoded_at_once() {
    let mut bytes = b"##9999".repeat(1000); // 6 kB: every declared span is still open
    bytes.extend_from_slice(good().as_bytes());
    let mut d = Decoder::new(Options::lenient());
    d.push(&bytes);
    let mut events = Vec::new();
    while let Some(e) = d.next_event() {
        events.push(e);
    }
    let frames: Vec<&rewater_hj212::Frame> = events
        .iter()
        .filter_map(|e| match e {
            Event::Frame(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 1, "{events:?}");
    assert_eq!(frames[0].raw, good().as_bytes());
    // The flood before it is reported once, by its head only.
    let invalid: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Invalid { raw, .. } => Some(raw.len()),
            _ => None,
        })
        .collect();
    assert_eq!(invalid, vec![INVALID_RAW_MAX]);
    assert_eq!(d.pending(), 0);
}

/// Candidates that look complete but fail their CRC are not taken for frames, and checking
/// them is bounded: 2,000 headers all declaring lengths that end on one CR LF, then a real
/// frame; the real frame is still found, nothing else is.
#[test]
fn crc_probing_is_bounded_and_never_invents_a_frame() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"##9999");
    let n = 2000;
    let body = 6 * n + 100;
    for i in 0..n {
        // Header i at offset 6 + 6·i declares a length ending at the shared CR LF.
        let len = body - 6 * i - 6;
        bytes.extend_from_slice(format!("##{:04}", len.min(9999)).as_bytes());
    }
    bytes.extend_from_slice(&[b'x'; 100]);
    bytes.extend_from_slice(b"ABCD\r\n");
    bytes.extend_from_slice(good().as_bytes());
    let events = decode(&bytes, Options::lenient());
    let frames: Vec<&Vec<u8>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Frame(f) => Some(&f.raw),
            _ => None,
        })
        .collect();
    assert_eq!(frames, vec![&good().into_bytes()]);
}
