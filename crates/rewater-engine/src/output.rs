//! Daily CSV output: `nodes.csv` and `links.csv`, one row per node (link) and day.

use crate::sim::{DailySink, LinkDay, NodeDay, Simulation};
use rewater_standards::Date;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes the daily CSV files as the run goes (nothing is kept in memory).
pub struct CsvDailyWriter {
    nodes: BufWriter<File>,
    links: BufWriter<File>,
}

impl CsvDailyWriter {
    /// Creates `nodes.csv` and `links.csv` in `dir` and writes their headers.
    pub fn create(dir: &Path, sim: &Simulation) -> std::io::Result<CsvDailyWriter> {
        let mut nodes = BufWriter::with_capacity(1 << 20, File::create(dir.join("nodes.csv"))?);
        let mut links = BufWriter::with_capacity(1 << 20, File::create(dir.join("links.csv"))?);
        write!(
            nodes,
            "date,node,kind,inflow_m3,outflow_m3,storage_m3,demand_m3,delivered_m3,deficit_m3,influent_m3,treated_m3,bypassed_m3,discharged_m3,unrouted_m3,pond_loss_m3,compliant"
        )?;
        for f in &sim.region.factors {
            write!(nodes, ",{}_mg_per_l", f.short_name())?;
        }
        writeln!(nodes)?;
        writeln!(links, "date,link,from,to,flow_m3,arrived_m3,loss_m3,open")?;
        Ok(CsvDailyWriter { nodes, links })
    }

    /// Flushes the files.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.nodes.flush()?;
        self.links.flush()
    }
}

fn num(w: &mut impl Write, v: f64) -> std::io::Result<()> {
    if v.is_nan() {
        write!(w, ",")
    } else if v == v.trunc() && v.abs() < 1e15 {
        write!(w, ",{}", v as i64)
    } else {
        write!(w, ",{:.6}", v)
    }
}

impl DailySink for CsvDailyWriter {
    fn day(
        &mut self,
        sim: &Simulation,
        date: Date,
        nodes: &[NodeDay],
        links: &[LinkDay],
    ) -> std::io::Result<()> {
        let region = sim.region;
        for (i, n) in region.nodes.iter().enumerate() {
            let d = &nodes[i];
            write!(self.nodes, "{date},{},{}", n.id, n.kind.name())?;
            for v in [
                d.inflow_m3,
                d.outflow_m3,
                d.storage_m3,
                d.demand_m3,
                d.delivered_m3,
                d.deficit_m3,
                d.influent_m3,
                d.treated_m3,
                d.bypassed_m3,
                d.discharged_m3,
                d.unrouted_m3,
                d.pond_loss_m3,
            ] {
                num(&mut self.nodes, v)?;
            }
            match d.compliant {
                Some(c) => write!(self.nodes, ",{c}")?,
                None => write!(self.nodes, ",")?,
            }
            for &c in sim.concentration(i) {
                num(&mut self.nodes, c)?;
            }
            writeln!(self.nodes)?;
        }
        for (li, l) in region.links.iter().enumerate() {
            let d = &links[li];
            write!(
                self.links,
                "{date},{},{},{}",
                l.id, region.nodes[l.from].id, region.nodes[l.to].id
            )?;
            for v in [d.flow_m3, d.arrived_m3, d.loss_m3] {
                num(&mut self.links, v)?;
            }
            writeln!(self.links, ",{}", d.open)?;
        }
        Ok(())
    }
}

/// Why a run into an output folder failed; each names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum RunToDirError {
    #[error("creating {path}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("creating CSV files in {path}")]
    CreateCsv {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] crate::EngineError),
    #[error(transparent)]
    FinishCsv(std::io::Error),
    #[error("writing {path}")]
    WriteSummary {
        path: String,
        source: std::io::Error,
    },
}

/// Runs a region into folder `out` (created if need be): `nodes.csv` and `links.csv` when
/// `daily`, and `summary.json` always. `progress(day, days)` is called as the days go.
pub fn run_to_dir(
    region: &rewater_model::Region,
    out: &Path,
    daily: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<crate::Summary, RunToDirError> {
    let path = out.display().to_string();
    std::fs::create_dir_all(out).map_err(|source| RunToDirError::CreateDir {
        path: path.clone(),
        source,
    })?;
    let mut sim = Simulation::new(region)?;
    let summary = if daily {
        let mut writer = CsvDailyWriter::create(out, &sim)
            .map_err(|source| RunToDirError::CreateCsv { path, source })?;
        let s = sim.run(Some(&mut writer), progress)?;
        writer.finish().map_err(RunToDirError::FinishCsv)?;
        s
    } else {
        sim.run(None, progress)?
    };
    let file = out.join("summary.json");
    serde_json::to_vec_pretty(&summary)
        .map_err(std::io::Error::from)
        .and_then(|json| std::fs::write(&file, json))
        .map_err(|source| RunToDirError::WriteSummary {
            path: file.display().to_string(),
            source,
        })?;
    Ok(summary)
}
