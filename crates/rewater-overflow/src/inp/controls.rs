//! `[CONTROLS]`: RULE / IF / AND / OR / THEN / ELSE / PRIORITY control rules on node
//! depth, head, volume and inflow, link flow, setting, TIMEOPEN and TIMECLOSED, and
//! simulation time; actions set a number or a control CURVE of the last condition's value.

use super::parser::{Line, Parser, Units};
use super::tables::Curve;
use crate::network::{Action, Compare, Link, LinkKind, Premise, Rule, Subject};
use crate::time::parse_clock;
use crate::OverflowError;
use std::collections::HashMap;

pub(super) fn read_rules(
    p: &Parser,
    nodes: &HashMap<String, usize>,
    links: &HashMap<String, usize>,
    invert: &[f64],
    link_defs: &[Link],
    units: Units,
    curves: &HashMap<String, Curve>,
) -> Result<Vec<Rule>, OverflowError> {
    let mut rules: Vec<Rule> = Vec::new();
    #[derive(PartialEq)]
    enum Part {
        If,
        Then,
        Else,
    }
    let mut part = Part::If;
    for l in p.section("CONTROLS") {
        let head = l.tokens[0].to_ascii_uppercase();
        let t = &l.tokens;
        match head.as_str() {
            "RULE" => {
                rules.push(Rule {
                    name: t.get(1).cloned().unwrap_or_default(),
                    premises: Vec::new(),
                    then: Vec::new(),
                    otherwise: Vec::new(),
                    priority: 0.0,
                    curves: Vec::new(),
                });
                part = Part::If;
                continue;
            }
            "PRIORITY" => {
                let rule = rules
                    .last_mut()
                    .ok_or_else(|| p.err(l.no, "PRIORITY before RULE"))?;
                rule.priority = p.num(l, 1, "priority")?;
                continue;
            }
            _ => {}
        }
        let rule = rules
            .last_mut()
            .ok_or_else(|| p.err(l.no, "a control line before the first RULE"))?;
        let (joiner, rest) = match head.as_str() {
            "IF" => {
                part = Part::If;
                ("IF", &t[1..])
            }
            "THEN" => {
                part = Part::Then;
                ("THEN", &t[1..])
            }
            "ELSE" => {
                part = Part::Else;
                ("ELSE", &t[1..])
            }
            "AND" | "OR" => (head.as_str(), &t[1..]),
            _ => return Err(p.err(l.no, format!("control line starts with '{}'", t[0]))),
        };
        if part == Part::If {
            let premise = parse_premise(p, l, rest, joiner == "OR", nodes, links, invert, units)?;
            rule.premises.push(premise);
        } else {
            if joiner == "OR" {
                return Err(p.err(l.no, "OR joins conditions, not actions"));
            }
            let action = parse_action(p, l, rest, links, link_defs, curves, rule, units)?;
            match part {
                Part::Then => rule.then.push(action),
                _ => rule.otherwise.push(action),
            }
        }
    }
    Ok(rules)
}

#[allow(clippy::too_many_arguments)]
fn parse_premise(
    p: &Parser,
    l: &Line,
    t: &[String],
    or: bool,
    nodes: &HashMap<String, usize>,
    links: &HashMap<String, usize>,
    invert: &[f64],
    units: Units,
) -> Result<Premise, OverflowError> {
    let up = |i: usize| t.get(i).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    let cmp = |s: &str| -> Result<Compare, OverflowError> {
        Ok(match s {
            "<" => Compare::Lt,
            "<=" => Compare::Le,
            ">" => Compare::Gt,
            ">=" => Compare::Ge,
            "=" => Compare::Eq,
            "<>" => Compare::Ne,
            other => return Err(p.err(l.no, format!("'{other}' is not a comparison"))),
        })
    };
    let value_at = |i: usize| -> Result<f64, OverflowError> {
        let s = t
            .get(i)
            .ok_or_else(|| p.err(l.no, "condition has no value"))?;
        if t.len() > i + 1 {
            return Err(p.err(
                l.no,
                "comparing two attributes is not supported; compare with a number",
            ));
        }
        match s.to_ascii_uppercase().as_str() {
            "ON" | "OPEN" => Ok(1.0),
            "OFF" | "CLOSED" => Ok(0.0),
            _ => s
                .parse::<f64>()
                .ok()
                .or_else(|| parse_clock(s).map(|x| x as f64 / 3600.0))
                .ok_or_else(|| p.err(l.no, format!("'{s}' is not a number"))),
        }
    };
    let object = up(0);
    if object == "SIMULATION" {
        let subject = match up(1).as_str() {
            "TIME" => Subject::SimulationHours,
            "CLOCKTIME" => Subject::ClockHour,
            other => {
                return Err(p.err(
                    l.no,
                    format!("SIMULATION {other} is not supported (TIME, CLOCKTIME)"),
                ))
            }
        };
        return Ok(Premise {
            or,
            subject,
            compare: cmp(&up(2))?,
            value: value_at(3)?,
        });
    }
    let name = t
        .get(1)
        .ok_or_else(|| p.err(l.no, "condition names no object"))?;
    let attr = up(2);
    let compare = cmp(&up(3))?;
    let raw = value_at(4)?;
    let (subject, value) = match object.as_str() {
        "NODE" | "JUNCTION" | "STORAGE" | "OUTFALL" | "DIVIDER" => {
            let i = *nodes
                .get(name)
                .ok_or_else(|| p.err(l.no, format!("node '{name}' is not defined")))?;
            match attr.as_str() {
                "DEPTH" => (Subject::NodeDepth(i), raw * units.length()),
                "HEAD" => (Subject::NodeDepth(i), raw * units.length() - invert[i]),
                "VOLUME" => (Subject::NodeVolume(i), raw * units.length().powi(3)),
                "INFLOW" => (Subject::NodeLateral(i), raw * units.flow),
                other => {
                    return Err(p.err(
                        l.no,
                        format!(
                            "node attribute {other} is not supported (DEPTH, HEAD, VOLUME, INFLOW)"
                        ),
                    ))
                }
            }
        }
        "LINK" | "CONDUIT" | "PUMP" | "ORIFICE" | "WEIR" | "OUTLET" => {
            let i = *links
                .get(name)
                .ok_or_else(|| p.err(l.no, format!("link '{name}' is not defined")))?;
            match attr.as_str() {
                "FLOW" => (Subject::LinkFlow(i), raw * units.flow),
                "STATUS" | "SETTING" => (Subject::LinkSetting(i), raw),
                "TIMEOPEN" => (Subject::LinkTimeOpen(i), raw),
                "TIMECLOSED" => (Subject::LinkTimeClosed(i), raw),
                other => {
                    return Err(p.err(
                        l.no,
                        format!("link attribute {other} is not supported (FLOW, STATUS, SETTING, TIMEOPEN, TIMECLOSED)"),
                    ))
                }
            }
        }
        other => return Err(p.err(l.no, format!("condition object '{other}' is not supported"))),
    };
    Ok(Premise {
        or,
        subject,
        compare,
        value,
    })
}

#[allow(clippy::too_many_arguments)]
fn parse_action(
    p: &Parser,
    l: &Line,
    t: &[String],
    links: &HashMap<String, usize>,
    link_defs: &[Link],
    curves: &HashMap<String, Curve>,
    rule: &mut Rule,
    units: Units,
) -> Result<Action, OverflowError> {
    let name = t
        .get(1)
        .ok_or_else(|| p.err(l.no, "action names no link"))?;
    let link = *links
        .get(name)
        .ok_or_else(|| p.err(l.no, format!("link '{name}' is not defined")))?;
    let attr = t.get(2).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    if t.get(3).map(|s| s.as_str()) != Some("=") {
        return Err(p.err(l.no, "an action reads 'LINK name STATUS|SETTING = value'"));
    }
    let v = t.get(4).ok_or_else(|| p.err(l.no, "action has no value"))?;
    let setting = match (attr.as_str(), v.to_ascii_uppercase().as_str()) {
        ("STATUS", "ON" | "OPEN") => 1.0,
        ("STATUS", "OFF" | "CLOSED") => 0.0,
        ("SETTING", "CURVE") => {
            let cname = t
                .get(5)
                .ok_or_else(|| p.err(l.no, "SETTING = CURVE names no curve"))?;
            let c = curves.get(&cname.to_ascii_uppercase()).ok_or_else(|| {
                p.err(l.no, format!("control curve '{cname}' is not in [CURVES]"))
            })?;
            // The curve's x is the last condition's value in the file's units.
            let x_factor = match rule.premises.last().map(|q| q.subject) {
                Some(Subject::NodeDepth(_)) => units.length(),
                Some(Subject::NodeVolume(_)) => units.length().powi(3),
                Some(Subject::NodeLateral(_) | Subject::LinkFlow(_)) => units.flow,
                Some(_) => 1.0,
                None => return Err(p.err(l.no, "SETTING = CURVE needs a condition to read")),
            };
            rule.curves
                .push(c.points.iter().map(|&(x, y)| (x * x_factor, y)).collect());
            return Ok(Action {
                link,
                setting: 0.0,
                curve: Some(rule.curves.len() - 1),
            });
        }
        ("SETTING", "TIMESERIES" | "PID") => {
            return Err(p.err(
                l.no,
                format!("SETTING = {v} is not supported; give a number"),
            ))
        }
        ("SETTING", s) => s
            .parse::<f64>()
            .map_err(|_| p.err(l.no, format!("'{v}' is not a setting")))?,
        _ => return Err(p.err(l.no, format!("'{attr} = {v}' is not an action"))),
    };
    let setting = if matches!(link_defs[link].kind, LinkKind::Pump { .. }) {
        setting.max(0.0)
    } else {
        setting.clamp(0.0, 1.0)
    };
    Ok(Action {
        link,
        setting,
        curve: None,
    })
}
