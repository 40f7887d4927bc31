//! Issue 13 over HTTP on the real router: daily means with online and data-validity rates,
//! the daily and monthly reports as CSV, XLSX (read back with calamine) and printable HTML,
//! the series export, names by language, and the public endpoint — with hand-computed values
//! and hostile or malformed requests.

mod common;

use common::*;
use rewater_store::{FactorReading, Upload};

/// 2025-06-02 00:00 on the wall clock.
const DAY: i64 = 1_748_736_000 + 86_400;
const SOUTH: &str = "south-outlet";

/// Six valid hourly COD values at the south site on 2025-06-02 (10…60 mg/L, hours 0–5) and
/// one flagged for calibration (C) at hour 6: mean 35, 6 valid and 7 online hours of 24.
fn add_day(server: &TestServer) {
    let mut s = rewater_store::open(&server.db.display().to_string()).unwrap();
    let up = |h: i64, v: f64, flag: &str| Upload {
        mn: "RWTEST0000000002".into(),
        cn: "2051".into(),
        data_time: DAY + h * 3600 + 60,
        pno: 1,
        received_at_ms: 1_748_800_000_000 + h,
        peer: "127.0.0.1:1".into(),
        raw: String::new(),
        readings: vec![FactorReading {
            factor: "w01018".into(),
            value: Some(v),
            min: None,
            max: None,
            cou: None,
            flag: Some(flag.into()),
        }],
    };
    let mut batch: Vec<Upload> = (0..6).map(|h| up(h, 10.0 * (h + 1) as f64, "N")).collect();
    batch.push(up(6, 999.0, "C"));
    s.ingest(&batch).unwrap();
}

#[test]
fn daily_means_and_validity_by_hand() {
    let server = serve("daily", Default::default());
    add_day(&server);
    let r = api(
        &server.addr,
        "GET",
        &format!("/api/sites/{SOUTH}/daily?from=2025-06-02&to=2025-06-03"),
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let d = &v["days"][0];
    assert_eq!(d["date"], "2025-06-02");
    assert_eq!(d["mean"], 35.0);
    assert_eq!(
        (d["min"].clone(), d["max"].clone()),
        (10.0.into(), 60.0.into())
    );
    assert_eq!(d["valid_values"], 6);
    assert_eq!(
        (
            d["valid_hours"].clone(),
            d["online_hours"].clone(),
            d["expected_hours"].clone()
        ),
        (6.into(), 7.into(), 24.into())
    );
    assert_eq!(d["validity_rate"], 0.25);
    assert!((d["online_rate"].as_f64().unwrap() - 7.0 / 24.0).abs() < 1e-12);
    assert_eq!(d["limit"], "≤ 30 mg/L");
    assert_eq!(d["limit_value"], 30.0);
    assert_eq!(d["meets"], false, "35 > 30");
    // Hostile periods.
    for q in [
        "from=2025-06-02&to=2025-06-02",
        "from=2025-01-01&to=2025-06-02",
        "from=x&to=2025-06-03",
        "from=-9223372036854775807&to=9223372036854775807",
    ] {
        let r = api(
            &server.addr,
            "GET",
            &format!("/api/sites/{SOUTH}/daily?{q}"),
            "",
        );
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
    // An operator of the north sees no south site.
    let op = login(&server.addr, OPERATOR.0, OPERATOR.1);
    let r = as_session(
        &server.addr,
        &op,
        "GET",
        &format!("/api/sites/{SOUTH}/daily?from=2025-06-02&to=2025-06-03"),
        "",
    );
    assert_eq!(r.status, 403);
}

fn get_bytes(addr: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..at]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[at + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let (mut out, mut rest) = (Vec::new(), &body[..]);
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let n =
                usize::from_str_radix(std::str::from_utf8(&rest[..p]).unwrap().trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + n]);
            rest = &rest[p + 4 + n..];
        }
        body = out;
    }
    (status, headers, body)
}

#[test]
fn reports_as_xlsx_csv_and_html() {
    use calamine::Reader;
    let server = serve("reports", Default::default());
    add_day(&server);
    let (st, h, xlsx) = get_bytes(
        &server.addr,
        &format!("/api/exports/report?kind=daily&date=2025-06-02&site={SOUTH}&format=xlsx"),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&xlsx));
    assert!(h.iter().any(|(k, v)| k == "content-disposition"
        && v.contains("rewater-daily-2025-06-02-south-outlet.xlsx")));
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    assert_eq!(sheet, "逐日明细");
    let range = wb.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][6], "日均值");
    let cod = rows.iter().find(|r| r[4] == "w01018").unwrap();
    assert_eq!(
        (cod[0].as_str(), cod[3].as_str(), cod[5].as_str()),
        ("2025-06-02", "化学需氧量", "mg/L")
    );
    assert_eq!(
        (cod[6].as_str(), cod[7].as_str(), cod[8].as_str()),
        ("35", "10", "60")
    );
    assert_eq!((cod[10].as_str(), cod[11].as_str()), ("≤ 30 mg/L", "超标"));
    assert_eq!((cod[12].as_str(), cod[13].as_str()), ("29.2", "25"));
    // The month in English as CSV: the summary (1 day judged, 1 exceedance day, 0 %).
    let (st, _, csv) = get_bytes(
        &server.addr,
        "/api/exports/report?kind=monthly&month=2025-06&district=south&format=csv&lang=en",
    );
    assert_eq!(st, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark for Excel");
    let line = csv
        .lines()
        .find(|l| l.contains("w01018") && !l.starts_with("2025"))
        .unwrap();
    assert_eq!(
        line,
        "south-outlet (test),south,chemical oxygen demand (CODCr),w01018,mg/L,1,1,1,0,35,0.8",
        "days with data, judged, exceeding, 达标率 0 %, mean 35; validity 25 % on one day of 30 expected = 0.8 %: {csv}"
    );
    // Printable page: HTML with its own strict policy.
    let (st, h, html) = get_bytes(
        &server.addr,
        &format!("/api/exports/report?kind=monthly&month=2025-06&site={SOUTH}&format=html"),
    );
    assert_eq!(st, 200);
    let csp = h
        .iter()
        .find(|(k, _)| k == "content-security-policy")
        .unwrap()
        .1
        .clone();
    assert!(
        csp.starts_with("default-src 'none'")
            && csp.contains("style-src 'unsafe-inline'")
            && !csp.contains("script"),
        "{csp}"
    );
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("水质监测月报 2025-06")
            && html.contains("月度汇总")
            && !html.contains("<script")
    );
    // Malformed and hostile requests.
    for q in [
        "kind=weekly&date=2025-06-02",
        "kind=daily",
        "kind=daily&date=2025-13-01",
        "kind=monthly&month=abc",
        "kind=monthly&month=2025-06&format=pdf",
        "kind=daily&date=2025-06-02&lang=fr",
        "kind=daily&date=2025-06-02&unknown=1",
    ] {
        let r = api(&server.addr, "GET", &format!("/api/exports/report?{q}"), "");
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
    let op = login(&server.addr, OPERATOR.0, OPERATOR.1);
    let r = as_session(
        &server.addr,
        &op,
        "GET",
        &format!("/api/exports/report?kind=daily&date=2025-06-02&site={SOUTH}"),
        "",
    );
    assert_eq!(r.status, 403, "another district's report");
    let r = as_session(
        &server.addr,
        &op,
        "GET",
        "/api/exports/report?kind=daily&date=2025-06-02&format=csv",
        "",
    );
    assert!(
        r.status == 200 && !r.body.contains("south-outlet"),
        "the operator's report holds its district only"
    );
    let r = request(
        &server.addr,
        "GET",
        "/api/exports/report?kind=daily&date=2025-06-02",
        &[],
        b"",
    );
    assert_eq!(r.status, 401);
    // The series export: readings with their flags.
    let (st, _, csv) = get_bytes(
        &server.addr,
        &format!("/api/exports/series?site={SOUTH}&factor=cod&from=2025-06-02&to=2025-06-03"),
    );
    assert_eq!(st, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 8, "header and seven readings: {csv}");
    assert!(
        csv.contains("2025-06-02T06:01:00+08:00,RWTEST0000000002,w01018,999,mg/L,C"),
        "{csv}"
    );
    for q in [
        "factor=cod&from=2025-01-01&to=2025-06-03",
        "factor=nope&from=2025-06-02&to=2025-06-03",
        "factor=cod&from=2025-06-02&to=2025-06-03&format=html",
    ] {
        let r = api(
            &server.addr,
            "GET",
            &format!("/api/exports/series?site={SOUTH}&{q}"),
            "",
        );
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
}

#[test]
fn names_and_the_public_page() {
    let server = serve("public", Default::default());
    add_day(&server);
    let r = api(&server.addr, "GET", "/api/labels", "");
    assert_eq!(r.status, 200);
    let v = r.json();
    let cod = v["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "w01018")
        .unwrap()
        .clone();
    assert_eq!(
        (cod["name_zh"].as_str(), cod["unit"].as_str()),
        (Some("化学需氧量"), Some("mg/L"))
    );
    let label = r#"{"kind":"site","id":"south-outlet","name_zh":"南厂出水口","name_en":"South outlet","public":true}"#;
    let op = login(&server.addr, OPERATOR.0, OPERATOR.1);
    assert_eq!(
        as_session(&server.addr, &op, "PUT", "/api/labels", label).status,
        403,
        "administrators only"
    );
    for bad in [
        r#"{"kind":"river","id":"x","name_zh":"a","name_en":"b"}"#,
        r#"{"kind":"site","id":"","name_zh":"a","name_en":"b"}"#,
        r#"{"kind":"site","id":"x","name_zh":"a\u0007","name_en":"b"}"#,
        r#"{"kind":"site","id":"x","name_zh":"a","name_en":"b","extra":1}"#,
    ] {
        let r = api(&server.addr, "PUT", "/api/labels", bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(api(&server.addr, "PUT", "/api/labels", label).status, 200);
    let r = api(
        &server.addr,
        "PUT",
        "/api/labels",
        r#"{"kind":"district","id":"south","name_zh":"南区","name_en":"South district"}"#,
    );
    assert_eq!(r.status, 200);
    // Without any credentials: the public site with its latest value against the limit, no
    // operator data.
    let r = request(&server.addr, "GET", "/api/public", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("set-cookie").is_none());
    let v = r.json();
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "only the public site: {v}");
    assert_eq!(
        (
            sites[0]["name_zh"].as_str(),
            sites[0]["district_zh"].as_str()
        ),
        (Some("南厂出水口"), Some("南区"))
    );
    let cod = &sites[0]["values"][0];
    assert_eq!(
        (cod["value"].as_f64(), cod["meets"].as_bool()),
        (Some(999.0), Some(false))
    );
    for secret in ["RWTEST", "north-outlet", "boss", "\"mn\"", "alert"] {
        assert!(!r.body.contains(secret), "{secret} in {}", r.body);
    }
    // Read-only, and limited: at most 600 requests a minute from everyone together.
    assert_eq!(
        request(&server.addr, "POST", "/api/public", &[], b"{}").status,
        405
    );
    let mut limited = false;
    for _ in 0..rewater_api::public::MAX_PER_MINUTE + 1 {
        if request(&server.addr, "GET", "/api/public", &[], b"").status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the public endpoint is rate-limited");
}
