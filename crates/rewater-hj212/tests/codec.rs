//! HJ 212 codec tests: the standard's examples, public frames, every malformed class of the
//! project's HJ 212 notes (§6), split and coalesced reads, and encode → decode round trips.

use rewater_hj212::encode::{ack_9013, ack_9014, Upload, UploadFactor};
use rewater_hj212::{
    check_line, encode_frame, DataTime, Decoder, Event, FrameError, Options, Segment, SegmentError,
    Strictness, Version,
};
use std::path::PathBuf;

const APPENDIX_A: &str = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";

fn decode_all(bytes: &[u8], options: Options) -> Vec<Event> {
    let mut d = Decoder::new(options);
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(e) = d.next_event() {
        out.push(e);
    }
    out
}

fn frames(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Frame(f) = e {
                Some(f.segment())
            } else {
                None
            }
        })
        .collect()
}

fn errors(events: &[Event]) -> Vec<&FrameError> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Invalid { error, .. } = e {
                Some(error)
            } else {
                None
            }
        })
        .collect()
}

fn data_upload(mn: &str, ack: bool) -> Upload {
    Upload {
        qn: "20250601080000123".into(),
        st: "32".into(),
        cn: "2061".into(),
        pw: "123456".into(),
        mn: mn.into(),
        ack,
        data_time: DataTime::parse("20250601070000").unwrap(),
        factors: vec![
            UploadFactor {
                code: "w01018".into(),
                values: vec![
                    ("Avg".into(), 23.5),
                    ("Min".into(), 20.0),
                    ("Max".into(), 27.25),
                ],
                flag: Some('N'),
            },
            UploadFactor {
                code: "w21003".into(),
                values: vec![("Avg".into(), 0.412)],
                flag: Some('M'),
            },
            UploadFactor {
                code: "w00000".into(),
                values: vec![("Avg".into(), 115.3), ("Cou".into(), 415.08)],
                flag: Some('N'),
            },
        ],
    }
}

#[test]
fn appendix_a_frame_and_its_fields() {
    let ev = decode_all(APPENDIX_A.as_bytes(), Options::strict());
    assert_eq!(frames(&ev).len(), 1);
    let seg = Segment::parse(frames(&ev)[0], Strictness::Strict).unwrap();
    assert_eq!(seg.qn(), Some("20160801085857223"));
    assert_eq!(
        (seg.st(), seg.cn(), seg.pw()),
        (Some("32"), Some("1062"), Some("100000"))
    );
    assert_eq!(seg.mn(), Some("010000A8900016F000169DC0"));
    let flag = seg.flag.unwrap();
    assert!(flag.ack_requested() && !flag.split());
    assert_eq!(flag.version(), Version::V2017);
    assert_eq!(seg.cp_value("RtdInterval"), Some("30"));
    // Encoding the segment again gives the same frame.
    assert_eq!(encode_frame(frames(&ev)[0]), APPENDIX_A);
}

#[test]
fn the_9014_and_9013_replies_have_the_standard_shape() {
    let up = data_upload("MN0001", true).frame();
    let ev = decode_all(up.as_bytes(), Options::strict());
    let seg = Segment::parse(frames(&ev)[0], Strictness::Strict).unwrap();
    let ack = ack_9014(&seg);
    // HJ 212-2017 C.14: QN echoed, ST=91, CN=9014, PW and MN echoed, Flag=4, empty CP.
    assert_eq!(
        ack,
        encode_frame("QN=20250601080000123;ST=91;CN=9014;PW=123456;MN=MN0001;Flag=4;CP=&&&&")
    );
    let back = Segment::parse(
        frames(&decode_all(ack.as_bytes(), Options::strict()))[0],
        Strictness::Strict,
    )
    .unwrap();
    assert!(!back.ack_requested());
    // A 2005 device gets QN and CN inside CP.
    let old = Segment::parse(
        "ST=32;CN=2051;PW=123456;MN=88888880000001;CP=&&DataTime=20040516010101;060-Rtd=1.2&&",
        Strictness::Lenient,
    )
    .unwrap();
    assert_eq!(old.version(), Version::V2005);
    assert!(ack_9014(&old).contains("ST=91;CN=9014;PW=123456;MN=88888880000001;CP=&&QN=;CN=2051&&"));
    let notice = Segment::parse(
        "QN=20250601080000001;ST=32;CN=1013;PW=1;MN=X;Flag=5;CP=&&&&",
        Strictness::Strict,
    )
    .unwrap();
    assert!(ack_9013(&notice).contains("CN=9013"));
}

#[test]
fn factor_values_suffixes_flags_and_duplicates() {
    let seg = "QN=20250601080000123;ST=32;CN=2061;PW=1;MN=M;Flag=5;CP=&&DataTime=20250601070000;w01018-Flag=N,w01018-Avg=23.5,w01018-Avg=99,w01018-SampleTime=20250601065000;w21003-Avg=-0.10000000000001,w21003-Flag=D,w21003-Weird=x;&&";
    let s = Segment::parse(seg, Strictness::Strict).unwrap();
    assert_eq!(
        s.data_time().map(|t| t.to_string()),
        Some("20250601070000".into())
    );
    let f = s.factors();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].code, "w01018");
    // A repeated key keeps its first value; -Flag before -Avg is fine; unknown suffixes kept.
    assert_eq!(f[0].number("Avg"), Some(23.5));
    assert_eq!(f[0].flag, Some("N"));
    assert_eq!(f[0].value("SampleTime"), Some("20250601065000"));
    assert_eq!(f[1].number("Avg"), Some(-0.10000000000001));
    assert_eq!(f[1].value("Weird"), Some("x"));
}

#[test]
fn info_text_may_hold_separators_and_chinese() {
    let seg = "QN=20250601080000123;ST=32;CN=3020;PW=1;MN=M;Flag=4;CP=&&DataTime=20250601070000;PolId=w01018;i11001-Info=//设备故障;原因=泵&&阀,检查##//&&";
    let frame = encode_frame(seg);
    // Length counts bytes of the UTF-8 segment.
    assert_eq!(&frame[2..6], format!("{:04}", seg.len()));
    let ev = decode_all(frame.as_bytes(), Options::strict());
    let s = Segment::parse(frames(&ev)[0], Strictness::Strict).unwrap();
    assert_eq!(
        s.cp_value("i11001-Info"),
        Some("//设备故障;原因=泵&&阀,检查##//")
    );
    assert_eq!(s.cp_value("PolId"), Some("w01018"));
}

#[test]
fn stream_survives_garbage_probes_split_and_coalesced_reads() {
    let a = data_upload("A", true).frame();
    let b = data_upload("B", false).frame();
    let probe =
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\x02\x00\x01\x00SSH-2.0-OpenSSH_9.0\r\n";
    let stream = format!("{probe}{a}{b}###garbage##{a}");
    // One read.
    let ev = decode_all(stream.as_bytes(), Options::strict());
    assert_eq!(frames(&ev).len(), 3);
    assert!(ev.iter().any(|e| matches!(e, Event::Garbage(_))));
    // Byte by byte, and in random chunks: same frames.
    for chunk in [1usize, 2, 3, 7, 64, 1000] {
        let mut d = Decoder::new(Options::strict());
        let mut got = 0;
        for part in stream.as_bytes().chunks(chunk) {
            d.push(part);
            while let Some(e) = d.next_event() {
                got += usize::from(matches!(e, Event::Frame(_)));
            }
        }
        assert_eq!(got, 3, "chunk {chunk}");
        assert!(d.pending() < 4, "chunk {chunk}: {} bytes left", d.pending());
    }
}

#[test]
fn malformed_frames_are_reported_and_the_next_frame_still_decodes() {
    let good = data_upload("G", true).frame();
    let seg = data_upload("X", true).segment();
    let crc = rewater_hj212::crc::crc16(seg.as_bytes());
    type Expect = fn(&FrameError) -> bool;
    let cases: Vec<(String, Expect)> = vec![
        // 1. CRC mismatch.
        (
            format!("##{:04}{seg}{:04X}\r\n", seg.len(), crc ^ 0x0100),
            |e| matches!(e, FrameError::CrcMismatch { .. }),
        ),
        // 2. MODBUS CRC printed low byte first (rejected unless the device is configured for it).
        (
            format!(
                "##{:04}{seg}{:04X}\r\n",
                seg.len(),
                rewater_hj212::crc::crc16_modbus(seg.as_bytes()).swap_bytes()
            ),
            |e| matches!(e, FrameError::CrcMismatch { .. }),
        ),
        // 3. CRC without zero padding.
        (format!("##{:04}{seg}{:X}\r\n", seg.len(), 0x00C0u16), |e| {
            matches!(
                e,
                FrameError::BadCrcField(_)
                    | FrameError::CrcMismatch { .. }
                    | FrameError::BadTail
                    | FrameError::LengthMismatch { .. }
            )
        }),
        // 4. Length not 4 digits; non-digit length; length smaller than the segment.
        (format!("##{}{seg}{crc:04X}\r\n", seg.len()), |e| {
            matches!(
                e,
                FrameError::BadLength(_) | FrameError::CrcMismatch { .. } | FrameError::BadTail
            )
        }),
        (format!("##0x12{seg}{crc:04X}\r\n"), |e| {
            matches!(e, FrameError::BadLength(_))
        }),
        (format!("##{:04}{seg}{crc:04X}\r\n", seg.len() - 5), |e| {
            matches!(
                e,
                FrameError::CrcMismatch { .. } | FrameError::BadCrcField(_) | FrameError::BadTail
            )
        }),
        // 6. Payload edited without a new CRC.
        (
            format!(
                "##{:04}{}{crc:04X}\r\n",
                seg.len(),
                seg.replace("23.5", "24.5")
            ),
            |e| matches!(e, FrameError::CrcMismatch { .. }),
        ),
        // 8. LF-only tail in strict mode.
        (format!("##{:04}{seg}{crc:04X}\n", seg.len()), |e| {
            matches!(e, FrameError::BadTail)
        }),
    ];
    for (i, (bad, expect)) in cases.iter().enumerate() {
        let ev = decode_all(format!("{bad}{good}").as_bytes(), Options::strict());
        assert_eq!(frames(&ev).len(), 1, "case {i}: {ev:?}");
        assert!(frames(&ev)[0].contains("MN=G"), "case {i}");
        let errs = errors(&ev);
        assert!(!errs.is_empty() && expect(errs[0]), "case {i}: {errs:?}");
    }
}

#[test]
fn truncated_frame_followed_by_a_good_one() {
    // Declared length larger than the bytes sent (the logger lost a piece).
    let good = data_upload("G", true).frame();
    let seg = data_upload("X", true).segment();
    let bad = format!("##{:04}{}\r\n", seg.len() + 40, &seg[..seg.len() - 10]);
    let ev = decode_all(format!("{bad}{good}").as_bytes(), Options::strict());
    assert_eq!(frames(&ev).len(), 1);
    assert!(matches!(errors(&ev)[0], FrameError::LengthMismatch { .. }));
}

#[test]
fn modes_lenient_and_strict() {
    let seg = data_upload("X", true).segment();
    let crc = rewater_hj212::crc::crc16(seg.as_bytes());
    // Lower-case CRC is accepted in both modes.
    let lower = format!("##{:04}{seg}{:04x}\r\n", seg.len(), crc);
    assert_eq!(
        frames(&decode_all(lower.as_bytes(), Options::strict())).len(),
        1
    );
    // LF-only, none, and trailing spaces: lenient accepts.
    for tail in ["\n", "", "  \r\n"] {
        let f = format!("##{:04}{seg}{crc:04X}{tail}", seg.len());
        assert_eq!(
            frames(&decode_all(f.as_bytes(), Options::lenient())).len(),
            1,
            "tail {tail:?}"
        );
    }
    // Oversize (> 1024) but self-consistent: lenient accepts, strict reports.
    let long_seg = format!(
        "QN=20250601080000123;ST=31;CN=2051;PW=1;MN=M;Flag=4;CP=&&DataTime=20250601070000;{}&&",
        (0..120)
            .map(|i| format!("a{i:05}-Avg=1.000"))
            .collect::<Vec<_>>()
            .join(";")
    );
    assert!(long_seg.len() > 1024);
    let f = encode_frame(&long_seg);
    assert_eq!(
        frames(&decode_all(f.as_bytes(), Options::lenient())).len(),
        1
    );
    assert!(matches!(
        errors(&decode_all(f.as_bytes(), Options::strict()))[0],
        FrameError::Oversize(_)
    ));
    // MODBUS CRC accepted only with the per-device switch, and marked.
    let m = format!(
        "##{:04}{seg}{:04X}\r\n",
        seg.len(),
        rewater_hj212::crc::crc16_modbus(seg.as_bytes()).swap_bytes()
    );
    let opts = Options {
        accept_modbus_crc: true,
        ..Options::strict()
    };
    match &decode_all(m.as_bytes(), opts)[0] {
        Event::Frame(f) => assert!(f.modbus_crc),
        other => panic!("{other:?}"),
    }
}

#[test]
fn segment_level_malformations() {
    let parse = |s: &str, st| Segment::parse(s, st);
    // 5. Missing closing && of CP.
    assert_eq!(parse("QN=20250601080000123;ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20250601070000;w01018-Rtd=1", Strictness::Lenient), Err(SegmentError::UnclosedCp));
    assert_eq!(
        parse("ST=32;CN=2011", Strictness::Lenient),
        Err(SegmentError::NoCp)
    );
    // 10. Missing / empty / 13-digit QN: lenient accepts, strict refuses for 2017 frames.
    for qn in ["", "QN=;", "QN=1717000000000;"] {
        let s = format!("{qn}ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20250601070000&&");
        assert!(parse(&s, Strictness::Lenient).is_ok(), "{qn}");
        assert!(parse(&s, Strictness::Strict).is_err(), "{qn}");
    }
    // 17-digit DataTime is truncated to seconds.
    let s = parse(
        "QN=20250601080000123;ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20250601070000123&&",
        Strictness::Strict,
    )
    .unwrap();
    assert_eq!(
        s.data_time().map(|t| t.to_string()),
        Some("20250601070000".into())
    );
    // 11. Flag=7 without PNUM/PNO: strict refuses; PNO > PNUM and PNO = 0 always refused.
    assert!(parse(
        "QN=20250601080000123;ST=32;CN=2061;PW=1;MN=M;Flag=7;CP=&&&&",
        Strictness::Strict
    )
    .is_err());
    assert!(parse(
        "QN=20250601080000123;ST=32;CN=2061;PW=1;MN=M;Flag=7;CP=&&&&",
        Strictness::Lenient
    )
    .is_ok());
    assert_eq!(
        parse(
            "QN=1;ST=32;CN=2061;PW=1;MN=M;Flag=7;PNUM=2;PNO=3;CP=&&&&",
            Strictness::Lenient
        ),
        Err(SegmentError::BadPacketNumber { pno: 3, pnum: 2 })
    );
    assert!(parse(
        "QN=1;ST=32;CN=2061;PW=1;MN=M;Flag=7;PNUM=2;PNO=0;CP=&&&&",
        Strictness::Lenient
    )
    .is_err());
    // 12. Trailing ';' before && and spaces inside CP.
    let s = parse("QN=20250601080000123;ST=32;CN=2061;PW=1;MN=M;Flag=4;CP=&&DataTime=20250601070000;w01018-Avg=1;&&", Strictness::Strict).unwrap();
    assert_eq!(s.factors().len(), 1);
    assert_eq!(
        parse(
            "QN=20250601080000123;ST=91;CN=9013;PW=1;MN=M;Flag=4;CP=&& &&",
            Strictness::Strict
        )
        .unwrap()
        .cp_len(),
        0
    );
    // 13. Header order, unknown ST and CN kept as strings.
    let s = parse(
        "MN=M;PW=1;QN=20250601080000123;ST=101;CN=9021;Flag=4;CP=&&&&",
        Strictness::Strict,
    )
    .unwrap();
    assert_eq!((s.st(), s.cn()), (Some("101"), Some("9021")));
    // Bad Flag, bad CN, bad DataTime.
    assert!(matches!(
        parse("ST=32;CN=2011;Flag=x;CP=&&&&", Strictness::Lenient),
        Err(SegmentError::BadFlag(_))
    ));
    assert!(matches!(
        parse("ST=32;CN=20111;CP=&&&&", Strictness::Lenient),
        Err(SegmentError::BadCn(_))
    ));
    assert!(matches!(
        parse(
            "QN=20250601080000123;ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20251301070000&&",
            Strictness::Strict
        ),
        Err(SegmentError::BadDataTime(_))
    ));
    // 15. 2005 reply with QN inside CP and no header QN.
    let s = parse(
        "ST=91;CN=9014;PW=123456;MN=M;CP=&&QN=20040516010101001;CN=2051&&",
        Strictness::Strict,
    )
    .unwrap();
    assert_eq!(s.cp_value("QN"), Some("20040516010101001"));
    assert_eq!(s.version(), Version::V2005);
}

#[test]
fn check_line_reports_length_and_crc_separately() {
    let c = check_line(APPENDIX_A.trim_end().as_bytes(), &Options::strict());
    assert!(c.errors.is_empty());
    // Wrong length, right CRC (the "81" frame class).
    let seg = "QN=;ST=23;CN=1012;PW=123456;MN=0507A010003242;CP=&&SystemTime=20250221141050&&";
    let line = format!("##81{seg}{:04X}", rewater_hj212::crc::crc16(seg.as_bytes()));
    let c = check_line(line.as_bytes(), &Options::strict());
    assert!(
        matches!(c.errors[..], [FrameError::BadLength(_)]),
        "{:?}",
        c.errors
    );
    assert_eq!(c.segment.as_deref(), Some(seg));
    assert_eq!(
        check_line(b"hello", &Options::strict()).errors,
        vec![FrameError::NoHeader]
    );
    assert!(!check_line(b"##", &Options::strict()).errors.is_empty());
    assert!(!check_line(b"##00", &Options::strict()).errors.is_empty());
}

#[test]
fn uploads_round_trip() {
    let mut x: u64 = 7;
    for i in 0..500 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut up = data_upload(&format!("MN{i:05}"), i % 2 == 0);
        up.factors[0].values[0].1 = (x >> 11) as f64 / (1u64 << 40) as f64;
        up.data_time = DataTime::from_wall_seconds(1_700_000_000 + (x % 100_000_000) as i64);
        let frame = up.frame();
        let ev = decode_all(frame.as_bytes(), Options::strict());
        let seg = Segment::parse(frames(&ev)[0], Strictness::Strict).unwrap();
        assert_eq!(seg.mn(), Some(up.mn.as_str()));
        assert_eq!(seg.ack_requested(), up.ack);
        assert_eq!(seg.data_time(), Some(up.data_time));
        let f = seg.factors();
        assert_eq!(f.len(), up.factors.len());
        for (got, want) in f.iter().zip(&up.factors) {
            assert_eq!(got.code, want.code);
            for (suffix, v) in &want.values {
                assert_eq!(got.number(suffix), Some(*v), "{suffix}");
            }
            assert_eq!(got.flag.and_then(|s| s.chars().next()), want.flag);
        }
    }
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let good = data_upload("G", true).frame();
    let mut x: u64 = 99;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let mut bytes = good.clone().into_bytes();
        for _ in 0..(1 + next() % 4) {
            let i = (next() % bytes.len() as u64) as usize;
            match next() % 3 {
                0 => bytes[i] = next() as u8,
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, b"#&;=,/\r\n"[(next() % 8) as usize]),
            }
        }
        for options in [Options::strict(), Options::lenient()] {
            for e in decode_all(&bytes, options) {
                if let Event::Frame(f) = e {
                    let _ = Segment::parse(f.segment(), Strictness::Strict);
                    let _ = Segment::from_frame(f, Strictness::Lenient)
                        .map(|s| (s.factors().len(), s.data_time()));
                }
            }
            let _ = check_line(&bytes, &options);
        }
    }
}

/// The 52 public frames of the project's HJ 212 notes, read from `../shared` at test time
/// (they are public data that must not be copied into this repository).
#[test]
fn public_frames_from_shared_reference() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/hj212/public_frames.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: {} is absent; the public-frame test needs the shared reference folder",
            path.display()
        );
        return;
    };
    let mut n = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let raw = v["raw"].as_str().unwrap();
        let (valid_length, valid_crc) = (
            v["valid_length"].as_bool().unwrap(),
            v["valid_crc"].as_bool().unwrap(),
        );
        let c = check_line(raw.as_bytes(), &Options::lenient());
        let length_bad = c.errors.iter().any(|e| {
            matches!(
                e,
                FrameError::LengthMismatch { .. } | FrameError::BadLength(_)
            )
        });
        let crc_bad = c.errors.iter().any(|e| {
            matches!(
                e,
                FrameError::CrcMismatch { .. } | FrameError::BadCrcField(_)
            )
        });
        assert_eq!(!length_bad, valid_length, "line {}: {:?}", i + 1, c.errors);
        assert_eq!(!crc_bad, valid_crc, "line {}: {:?}", i + 1, c.errors);
        if valid_length && valid_crc {
            let seg = Segment::parse(c.segment.as_deref().unwrap(), Strictness::Lenient)
                .unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            assert_eq!(seg.cn(), v["cn"].as_str(), "line {}", i + 1);
            // The stream decoder finds the same frame (lenient: some real frames exceed 1024
            // bytes or lack CR LF).
            assert!(
                frames(&decode_all(raw.as_bytes(), Options::lenient())).len() == 1,
                "line {}",
                i + 1
            );
        }
        n += 1;
    }
    assert_eq!(n, 52);
}
