//! Formulas over named quantities: `+ - * /`, parentheses, numbers and quantity names
//! (`reclaimed_used_m3 / wastewater_treated_m3 * 100`). A formula with an unknown quantity, or
//! one that divides by zero, has no value ("not reported"), never 0.

use serde::{Serialize, Serializer};

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// Why a formula cannot be read: the character position (from 1) and what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("formula '{text}', character {position}: {message}")]
pub struct FormulaError {
    pub text: String,
    pub position: usize,
    pub message: String,
}

/// Why a formula has no value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Missing {
    /// These quantities were not reported.
    Quantities { names: Vec<String> },
    /// A denominator was 0.
    DivisionByZero,
}

impl Formula {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = Parser {
            text,
            chars: &chars,
            pos: 0,
        };
        let expr = p.expr()?;
        p.skip_ws();
        if p.pos < chars.len() {
            return Err(p.err(format!("unexpected '{}'", chars[p.pos])));
        }
        Ok(Formula {
            text: text.to_string(),
            expr,
        })
    }

    /// The formula as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The quantity names used, in order of first use.
    pub fn quantities(&self) -> Vec<&str> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
            match e {
                Expr::Num(_) => {}
                Expr::Var(v) => {
                    if !out.contains(&v.as_str()) {
                        out.push(v)
                    }
                }
                Expr::Neg(a) => walk(a, out),
                Expr::Bin(a, _, b) => {
                    walk(a, out);
                    walk(b, out)
                }
            }
        }
        walk(&self.expr, &mut out);
        out
    }

    /// Evaluates with `lookup` (None = not reported). All missing quantities are named.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<f64>) -> Result<f64, Missing> {
        let missing: Vec<String> = self
            .quantities()
            .into_iter()
            .filter(|q| lookup(q).is_none())
            .map(str::to_string)
            .collect();
        if !missing.is_empty() {
            return Err(Missing::Quantities { names: missing });
        }
        fn ev(e: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> Result<f64, Missing> {
            Ok(match e {
                Expr::Num(n) => *n,
                Expr::Var(v) => lookup(v).ok_or_else(|| Missing::Quantities {
                    names: vec![v.clone()],
                })?,
                Expr::Neg(a) => -ev(a, lookup)?,
                Expr::Bin(a, op, b) => {
                    let (x, y) = (ev(a, lookup)?, ev(b, lookup)?);
                    match op {
                        Op::Add => x + y,
                        Op::Sub => x - y,
                        Op::Mul => x * y,
                        Op::Div if y == 0.0 => return Err(Missing::DivisionByZero),
                        Op::Div => x / y,
                    }
                }
            })
        }
        ev(&self.expr, lookup)
    }
}

impl Serialize for Formula {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: String) -> FormulaError {
        FormulaError {
            text: self.text.to_string(),
            position: self.pos + 1,
            message,
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.term()?;
        while let Some(c @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let op = if c == '+' { Op::Add } else { Op::Sub };
            left = Expr::Bin(Box::new(left), op, Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.factor()?;
        while let Some(c @ ('*' | '/' | '×' | '÷')) = self.peek() {
            self.pos += 1;
            let op = if matches!(c, '*' | '×') {
                Op::Mul
            } else {
                Op::Div
            };
            left = Expr::Bin(Box::new(left), op, Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, FormulaError> {
        match self.peek() {
            None => {
                Err(self.err("the formula ends where a number or quantity was expected".into()))
            }
            Some('(') => {
                self.pos += 1;
                let e = self.expr()?;
                if self.peek() != Some(')') {
                    return Err(self.err("')' expected".into()));
                }
                self.pos += 1;
                Ok(e)
            }
            Some('-') => {
                self.pos += 1;
                Ok(Expr::Neg(Box::new(self.factor()?)))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.pos;
                while self.pos < self.chars.len()
                    && (self.chars[self.pos].is_ascii_digit()
                        || matches!(self.chars[self.pos], '.' | 'e' | 'E'))
                {
                    self.pos += 1;
                }
                let s: String = self.chars[start..self.pos].iter().collect();
                match s.parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Expr::Num(n)),
                    _ => {
                        self.pos = start;
                        Err(self.err(format!("'{s}' is not a number")))
                    }
                }
            }
            Some(c) if c.is_ascii_lowercase() || c == '_' => {
                let start = self.pos;
                while self.pos < self.chars.len()
                    && (self.chars[self.pos].is_ascii_lowercase()
                        || self.chars[self.pos].is_ascii_digit()
                        || self.chars[self.pos] == '_')
                {
                    self.pos += 1;
                }
                Ok(Expr::Var(self.chars[start..self.pos].iter().collect()))
            }
            Some(c) => Err(self.err(format!("unexpected '{c}'"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(name: &str) -> Option<f64> {
        match name {
            "a" => Some(6.0),
            "b" => Some(4.0),
            "zero" => Some(0.0),
            _ => None,
        }
    }

    #[test]
    fn formulas_follow_precedence_and_parentheses() {
        let f = Formula::parse("(a - b) / a * 100").unwrap();
        assert!((f.eval(&vals).unwrap() - 100.0 / 3.0).abs() < 1e-12);
        assert_eq!(Formula::parse("a + b * 2").unwrap().eval(&vals), Ok(14.0));
        assert_eq!(Formula::parse("-a + 1e1").unwrap().eval(&vals), Ok(4.0));
        assert_eq!(Formula::parse("a ÷ b × 2").unwrap().eval(&vals), Ok(3.0));
        assert_eq!(Formula::parse("a/b").unwrap().quantities(), vec!["a", "b"]);
    }

    #[test]
    fn an_unknown_quantity_or_a_zero_denominator_gives_no_value() {
        let f = Formula::parse("a / (c + d) + c").unwrap();
        assert_eq!(
            f.eval(&vals),
            Err(Missing::Quantities {
                names: vec!["c".into(), "d".into()]
            })
        );
        assert_eq!(
            Formula::parse("a / zero").unwrap().eval(&vals),
            Err(Missing::DivisionByZero)
        );
    }

    #[test]
    fn bad_formulas_name_the_character() {
        let e = Formula::parse("a / (b + 2").unwrap_err();
        assert_eq!(e.position, 11, "{e}");
        let e = Formula::parse("a $ b").unwrap_err();
        assert_eq!((e.position, e.message.as_str()), (3, "unexpected '$'"));
        assert!(Formula::parse("").is_err());
        assert!(Formula::parse("1..2").is_err());
        assert!(Formula::parse("A").is_err());
    }
}
