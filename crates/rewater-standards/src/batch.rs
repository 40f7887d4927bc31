//! Many samples or a whole series at once, as a command or a service needs it: classify each
//! sample of an input (with a default water body) and write one line per sample; check a series
//! and write its compliance report.

use crate::comply::{comply, ComplianceReport, TimedReading};
use crate::evaluate::{classify, ClassifyError, ClassifyOptions};
use crate::input::Sample;
use crate::report;
use crate::standard::{Context, Standard, WaterBody};
use crate::unit::UnitError;
use std::io::{self, Write};

/// Why a batch stopped: a sample or series the standard cannot take, or the writer failing.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{source_name}:{line}: sample {id}: {error}")]
    Sample {
        source_name: String,
        line: usize,
        id: String,
        error: ClassifyError,
    },
    #[error("{0}")]
    Compliance(UnitError),
    /// Writing the results failed (a closed pipe among others): not the input's fault.
    #[error(transparent)]
    Write(#[from] io::Error),
}

/// Classifies each sample of `source_name` against `std` and writes one line per sample, as
/// text or as JSON lines; a sample that does not say its water body gets `default_body`.
/// Stops at the first sample that cannot be classified, naming its line and id.
pub fn classify_samples(
    std: &Standard,
    samples: impl IntoIterator<Item = Sample>,
    opts: &ClassifyOptions,
    default_body: Option<WaterBody>,
    source_name: &str,
    w: &mut impl Write,
    json: bool,
) -> Result<(), BatchError> {
    for mut s in samples {
        if s.context.water_body.is_none() {
            s.context.water_body = default_body;
        }
        let result =
            classify(std, &s.readings, &s.context, opts).map_err(|error| BatchError::Sample {
                source_name: source_name.to_string(),
                line: s.line,
                id: s.id.clone(),
                error,
            })?;
        if json {
            report::write_classification_json(w, &s.id, &result)?;
        } else {
            report::write_classification(w, &s.id, &result)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Checks `series` against class `class` of `std` and writes the report (text or pretty JSON).
pub fn comply_series(
    std: &Standard,
    class: usize,
    series: &[TimedReading],
    ctx: &Context,
    w: &mut impl Write,
    json: bool,
) -> Result<ComplianceReport, BatchError> {
    let r = comply(std, class, series, ctx).map_err(BatchError::Compliance)?;
    if json {
        report::write_compliance_json(w, &r)?;
    } else {
        report::write_compliance(w, &r)?;
    }
    w.flush()?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{samples_from_text, series_from_csv};
    use crate::Standards;

    /// A reader who has gone away: every write fails as a closed pipe does.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    const SAMPLES: &str = "id,water_body,cod,tp\nR,,10,0.15\nL,lake,10,0.15\n";

    #[test]
    fn samples_without_a_water_body_take_the_default() {
        let standards = Standards::builtin();
        let std = standards.get("GB3838-2002").unwrap();
        let samples = samples_from_text(SAMPLES, "s.csv", false).unwrap();
        let mut out = Vec::new();
        let opts = ClassifyOptions::default();
        classify_samples(
            std,
            samples,
            &opts,
            Some(WaterBody::River),
            "s.csv",
            &mut out,
            false,
        )
        .unwrap();
        // TP 0.15 mg/L: class III in a river (III ≤ 0.2) but V in a lake (IV ≤ 0.1, V ≤ 0.2),
        // 2.00 times over the lake class III limit of 0.05.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "R: GB3838-2002 III (良好) — limiting: tp\n\
             L: GB3838-2002 V (中度污染) — limiting: tp (超标 2.00 倍)\n"
        );
        let samples = samples_from_text(SAMPLES, "s.csv", false).unwrap();
        let mut out = Vec::new();
        classify_samples(
            std,
            samples,
            &opts,
            Some(WaterBody::Lake),
            "s.csv",
            &mut out,
            true,
        )
        .unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            (lines[0]["id"].as_str(), lines[0]["class"].as_str()),
            (Some("R"), Some("V"))
        );
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn a_sample_that_cannot_be_classified_names_file_line_and_id() {
        let standards = Standards::builtin();
        let std = standards.get("GB18918-2002").unwrap();
        let samples = samples_from_text(SAMPLES, "s.csv", false).unwrap();
        let opts = ClassifyOptions::default();
        let e = classify_samples(std, samples, &opts, None, "s.csv", &mut Vec::new(), false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.csv:2: sample R: standard GB18918-2002 is not a classification standard \
             (use a compliance check instead)"
        );
    }

    #[test]
    fn a_closed_pipe_is_a_write_error_not_a_panic() {
        let standards = Standards::builtin();
        let std = standards.get("GB3838-2002").unwrap();
        let samples = samples_from_text(SAMPLES, "s.csv", false).unwrap();
        let opts = ClassifyOptions::default();
        let e = classify_samples(std, samples, &opts, None, "s.csv", &mut ClosedPipe, false)
            .unwrap_err();
        assert!(
            matches!(&e, BatchError::Write(io) if io.kind() == io::ErrorKind::BrokenPipe),
            "{e:?}"
        );
        let (std, class) = standards.resolve("GB18918-2002:1A").unwrap();
        let series =
            series_from_csv("time,factor,value\n2025-06-01,cod,40\n".as_bytes(), "c").unwrap();
        let e = comply_series(
            std,
            class,
            &series,
            &Context::default(),
            &mut ClosedPipe,
            true,
        )
        .unwrap_err();
        assert!(matches!(e, BatchError::Write(_)), "{e:?}");
    }

    #[test]
    fn a_series_report_is_written_and_returned() {
        let standards = Standards::builtin();
        let (std, class) = standards.resolve("GB18918-2002:1A").unwrap();
        let csv = "time,factor,value\n2025-06-01,cod,40\n2025-06-02,cod,55\n";
        let series = series_from_csv(csv.as_bytes(), "c.csv").unwrap();
        let mut out = Vec::new();
        let r = comply_series(std, class, &series, &Context::default(), &mut out, false).unwrap();
        assert_eq!(r.factors[0].exceedance_days, 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("GB18918-2002 1A (DailyMean), 2025-06-01 to 2025-06-02\n"));
        assert!(
            text.contains("cod             2          1      50.0 %"),
            "{text}"
        );
    }

    #[test]
    fn water_bodies_and_factor_lists_parse_from_names() {
        assert_eq!("river".parse(), Ok(WaterBody::River));
        assert_eq!("reservoir".parse(), Ok(WaterBody::Lake));
        assert_eq!(
            "sea".parse::<WaterBody>().unwrap_err().to_string(),
            "water body 'sea' must be river or lake"
        );
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = ClassifyOptions::from_names(&[], &names(&["tn", ""]), &names(&["ph"])).unwrap();
        let f = |s: &str| crate::Factor::parse(s).unwrap();
        assert_eq!(
            (o.only, o.include, o.exclude),
            (None, vec![f("tn")], vec![f("ph")])
        );
        let o = ClassifyOptions::from_names(&names(&["cod", "tp"]), &[], &[]).unwrap();
        assert_eq!(o.only, Some(vec![f("cod"), f("tp")]));
        let e = ClassifyOptions::from_names(&[], &names(&["zzz"]), &[]).unwrap_err();
        assert!(e.to_string().contains("unknown factor 'zzz'"), "{e}");
    }
}
