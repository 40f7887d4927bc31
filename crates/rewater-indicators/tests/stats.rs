//! The statistics table: CSV and XLSX read; hostile files refused naming file, row and field;
//! nothing half-applied.

use rewater_indicators::stats::{statistics_from_bytes, MAX_STATS_BYTES};
use rewater_indicators::{Catalog, Origin};
use std::io::Write;

const GOOD: &str = "district,year,quantity,value,unit,note\n\
north,2025,sewer_pipe_built_km,12.5,km,\n\
全市,2025,water_supplied_m3,1000,m3,whole region\n\
north,2024,villages_sewage_works_built_count,30,,\n";

#[test]
fn a_csv_table_is_read_with_rows_named() {
    let c = Catalog::bundled();
    let t = statistics_from_bytes(GOOD.as_bytes(), "s.csv", &c).unwrap();
    assert_eq!(t.len(), 3);
    let v = t.get("north", 2025, "sewer_pipe_built_km").unwrap();
    assert_eq!(v.value, 12.5);
    assert_eq!(
        v.origin,
        Origin::Statistics {
            file: "s.csv".into(),
            row: 2
        }
    );
    assert_eq!(t.get("", 2025, "water_supplied_m3").unwrap().value, 1000.0);
    // Chinese headers, any order, a BOM.
    let zh = "\u{feff}年份,区,数值,指标量\n2025,south,7,plants_count\n";
    let t = statistics_from_bytes(zh.as_bytes(), "zh.csv", &c).unwrap();
    assert_eq!(t.get("south", 2025, "plants_count").unwrap().value, 7.0);
}

fn refused(text: &str) -> String {
    let c = Catalog::bundled();
    statistics_from_bytes(text.as_bytes(), "bad.csv", &c)
        .unwrap_err()
        .to_string()
}

#[test]
fn hostile_csv_rows_are_refused_naming_file_row_and_field() {
    let h = "district,year,quantity,value,unit\n";
    let cases = [
        ("a,2025,no_such_quantity,1,", "bad.csv, row 2, field quantity: unknown quantity 'no_such_quantity'"),
        ("a,20x5,plants_count,1,", "bad.csv, row 2, field year: '20x5' is not a year"),
        ("a,1800,plants_count,1,", "bad.csv, row 2, field year: 1800 is not between"),
        ("a,2025,plants_count,-1,", "bad.csv, row 2, field value: -1 must be a finite number ≥ 0"),
        ("a,2025,plants_count,NaN,", "bad.csv, row 2, field value: NaN must be"),
        ("a,2025,plants_count,inf,", "bad.csv, row 2, field value: inf must be"),
        ("a,2025,plants_count,,", "bad.csv, row 2, field value: empty"),
        ("a,2025,plants_count,1 234,", "bad.csv, row 2, field value: '1 234' is not a number"),
        ("a,2025,sewer_pipe_built_km,3,m", "bad.csv, row 2, field unit: 'm' is not the unit"),
        ("a,2025,wetland_outlet_days_class_v,3,", ""),
        ("a,2025,monitoring_compliant,3,", "bad.csv, row 2, field quantity: 'monitoring_compliant' comes from model runs or monitoring"),
        ("a,2025,plants_count,1,,extra", "bad.csv, row 2: 6 cells, the header has 5"),
        ("a\u{7},2025,plants_count,1,", "bad.csv, row 2, field district"),
    ];
    for (row, want) in cases {
        let text = format!("{h}{row}\n");
        if want.is_empty() {
            // Wetland days may come from the bureau's own records too.
            assert!(statistics_from_bytes(text.as_bytes(), "ok.csv", &Catalog::bundled()).is_ok());
            continue;
        }
        let e = refused(&text);
        assert!(e.starts_with(want), "{row}: {e}");
    }
    // Duplicates name both rows; the first error refuses the whole file.
    let e = refused(&format!(
        "{h}a,2025,plants_count,1,\nb,2025,plants_count,2,\na,2025,plants_count,3,\n"
    ));
    assert!(e.starts_with("bad.csv, row 4, field quantity: plants_count of district 'a' in 2025 is already given in row 2"), "{e}");
    assert!(refused("district,year,quantity\na,2025,x\n").contains("field value: missing column"));
    assert!(
        refused("district,year,quantity,value,colour\n").contains("field colour: unknown column")
    );
    assert!(refused("district,year,year,quantity,value\n").contains("column given twice"));
    assert!(refused("").contains("empty: no header row"));
    assert!(refused("district,year,quantity,value\n\"a,2025\n").starts_with("bad.csv"));
    let latin1 = b"district,year,quantity,value\n\xe9,2025,plants_count,1\n";
    let e = statistics_from_bytes(latin1, "l.csv", &Catalog::bundled()).unwrap_err();
    assert!(e.to_string().starts_with("l.csv, row 2: not UTF-8"), "{e}");
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("rewater-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("huge.csv");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(MAX_STATS_BYTES + 1).unwrap();
    let e = rewater_indicators::stats::read_statistics(&p, &Catalog::bundled()).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    let e = rewater_indicators::stats::read_statistics(&dir, &Catalog::bundled()).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    #[cfg(unix)]
    {
        let e = rewater_indicators::stats::read_statistics(
            std::path::Path::new("/dev/zero"),
            &Catalog::bundled(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}

/// A minimal XLSX workbook (stored, inline strings) with `rows` of cells: a number cell if
/// the text parses as f64, else an inline string.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (i, r) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, i + 1));
        for (j, c) in r.iter().enumerate() {
            let col = (b'A' + j as u8) as char;
            if c.parse::<f64>().is_ok() {
                sheet.push_str(&format!(r#"<c r="{col}{}"><v>{c}</v></c>"#, i + 1));
            } else {
                sheet.push_str(&format!(
                    r#"<c r="{col}{}" t="inlineStr"><is><t>{c}</t></is></c>"#,
                    i + 1
                ));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="statistics" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opt = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, body) in files {
            z.start_file(name, opt).unwrap();
            z.write_all(body.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn an_xlsx_table_is_read_and_its_bad_rows_are_named() {
    let c = Catalog::bundled();
    let book = xlsx(&[
        &["district", "year", "quantity", "value"],
        &["north", "2025", "reclaimed_pipe_built_km", "8.5"],
        &["全域", "2025", "households_count", "1200"],
    ]);
    let t = statistics_from_bytes(&book, "s.xlsx", &c).unwrap();
    let v = t.get("north", 2025, "reclaimed_pipe_built_km").unwrap();
    assert_eq!(v.value, 8.5);
    assert_eq!(
        v.origin,
        Origin::Statistics {
            file: "s.xlsx".into(),
            row: 2
        }
    );
    assert_eq!(t.get("", 2025, "households_count").unwrap().value, 1200.0);
    let bad = xlsx(&[
        &["district", "year", "quantity", "value"],
        &["north", "2025", "plants_count", "3"],
        &["north", "2025.5", "plants_count", "3"],
    ]);
    let e = statistics_from_bytes(&bad, "b.xlsx", &c).unwrap_err();
    assert!(
        e.to_string().starts_with("b.xlsx, row 3, field year"),
        "{e}"
    );
    let e = statistics_from_bytes(b"PK\x03\x04 not really a zip", "z.xlsx", &c).unwrap_err();
    assert!(e.to_string().starts_with("z.xlsx: not an XLSX file"), "{e}");
}
