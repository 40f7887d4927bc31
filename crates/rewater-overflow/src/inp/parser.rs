//! The lexical layer of a SWMM input file: tokenized lines grouped by section, the
//! file's unit system, and field readers whose errors name the line.

use crate::OverflowError;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

/// One line of a section, split into tokens.
pub(super) struct Line {
    pub no: usize,
    pub tokens: Vec<String>,
}

/// Split a line into tokens: whitespace separates, double quotes group, `;` starts a
/// comment.
pub(super) fn tokenize(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut had = false;
    for c in raw.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                had = true;
            }
            ';' if !quoted => break,
            c if c.is_whitespace() && !quoted => {
                if had {
                    out.push(std::mem::take(&mut cur));
                    had = false;
                }
            }
            c => {
                cur.push(c);
                had = true;
            }
        }
    }
    if had {
        out.push(cur);
    }
    out
}

/// Unit conversions from the file's unit system to SI.
#[derive(Debug, Clone, Copy)]
pub(super) struct Units {
    pub us: bool,
    /// Flow unit to m³/s.
    pub flow: f64,
}

impl Units {
    pub fn length(&self) -> f64 {
        if self.us {
            0.3048
        } else {
            1.0
        }
    }
    /// Subcatchment area unit (acre or ha) to m².
    pub fn area(&self) -> f64 {
        if self.us {
            4046.856
        } else {
            1e4
        }
    }
    /// Rain, infiltration and storage depths (in or mm) to m.
    pub fn depth(&self) -> f64 {
        if self.us {
            0.0254
        } else {
            0.001
        }
    }
    /// mm (SI) or inches (US) per file unit of rain, infiltration rate or evaporation.
    pub fn depth_mm(&self) -> f64 {
        if self.us {
            25.4
        } else {
            1.0
        }
    }
    /// Weir coefficients are given for CFS or CMS whatever the flow unit.
    pub fn weir_coeff(&self, length_exp: f64) -> f64 {
        if self.us {
            0.028_316_85 / 0.3048f64.powf(length_exp)
        } else {
            1.0
        }
    }
}

/// The file's sections and the notes collected while reading them.
pub(super) struct Parser<'a> {
    pub file: &'a str,
    pub dir: PathBuf,
    pub sections: HashMap<String, Vec<Line>>,
    pub notes: std::cell::RefCell<BTreeSet<String>>,
}

impl Parser<'_> {
    pub fn err(&self, line: usize, message: impl Into<String>) -> OverflowError {
        OverflowError::Input {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    pub fn note(&self, text: String) {
        self.notes.borrow_mut().insert(text);
    }

    pub fn section(&self, name: &str) -> &[Line] {
        self.sections.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    pub fn num(&self, line: &Line, k: usize, what: &str) -> Result<f64, OverflowError> {
        let tok = line
            .tokens
            .get(k)
            .ok_or_else(|| self.err(line.no, format!("missing {what} (field {})", k + 1)))?;
        let v: f64 = tok
            .parse()
            .map_err(|_| self.err(line.no, format!("{what} '{tok}' is not a number")))?;
        if !v.is_finite() {
            return Err(self.err(line.no, format!("{what} '{tok}' is not finite")));
        }
        Ok(v)
    }

    pub fn num_or(
        &self,
        line: &Line,
        k: usize,
        default: f64,
        what: &str,
    ) -> Result<f64, OverflowError> {
        if line.tokens.get(k).is_some_and(|t| t != "*") {
            self.num(line, k, what)
        } else {
            Ok(default)
        }
    }

    pub fn tok<'l>(&self, line: &'l Line, k: usize, what: &str) -> Result<&'l str, OverflowError> {
        line.tokens
            .get(k)
            .map(|s| s.as_str())
            .ok_or_else(|| self.err(line.no, format!("missing {what} (field {})", k + 1)))
    }
}
