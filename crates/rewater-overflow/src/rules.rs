//! Control rules (控制规则) as the routing applies them each step, and whether they can
//! change anything over a quiet dry-weather stretch (so that the stretch may be skipped
//! with rules present).

use crate::network::{interpolate, Compare, Rule, Subject, System};

/// State the control rules read.
pub(crate) struct RuleState<'a> {
    pub(crate) depth: &'a [f64],
    pub(crate) volume: &'a [f64],
    pub(crate) lateral: &'a [f64],
    pub(crate) link_flow: &'a [f64],
    pub(crate) hours: f64,
    pub(crate) clock_hour: f64,
    pub(crate) time_s: i64,
    /// When each link last switched between closed and open.
    pub(crate) last_switch_s: &'a [i64],
    pub(crate) half_step_h: f64,
}

/// The links some rule acts on, ascending (the only ones whose action is ever set).
pub(crate) fn rule_links(system: &System) -> Vec<usize> {
    let mut links: Vec<usize> = system
        .rules
        .iter()
        .flat_map(|r| r.then.iter().chain(&r.otherwise).map(|a| a.link))
        .collect();
    links.sort_unstable();
    links.dedup();
    links
}

/// Evaluate the rules; for each link the action of the highest-priority rule wins.
/// `rule_links` is [`rule_links`] of the system: only their actions are reset and read.
pub(crate) fn apply_rules(
    system: &System,
    settings: &mut [f64],
    actions: &mut [(f64, f64)],
    rule_links: &[usize],
    s: RuleState,
) {
    for &l in rule_links {
        actions[l] = (f64::NEG_INFINITY, 0.0);
    }
    for rule in &system.rules {
        let mut result = true;
        // The value the rule's last condition read (a control curve's x).
        let mut control_value = 0.0;
        for (k, p) in rule.premises.iter().enumerate() {
            let since = |i: usize| (s.time_s - s.last_switch_s[i]) as f64 / 3600.0;
            let (value, time) = match p.subject {
                Subject::NodeDepth(i) => (Some(s.depth[i]), false),
                Subject::NodeVolume(i) => (Some(s.volume[i]), false),
                Subject::NodeLateral(i) => (Some(s.lateral[i]), false),
                Subject::LinkFlow(i) => (Some(s.link_flow[i]), false),
                Subject::LinkSetting(i) => (Some(settings[i]), false),
                Subject::SimulationHours => (Some(s.hours), true),
                Subject::ClockHour => (Some(s.clock_hour), true),
                // SWMM: no value (the premise is false) while the link is in the other state.
                Subject::LinkTimeOpen(i) => ((settings[i] > 0.0).then(|| since(i)), true),
                Subject::LinkTimeClosed(i) => ((settings[i] <= 0.0).then(|| since(i)), true),
            };
            let holds = match value {
                None => false,
                Some(v) if time => p.compare.holds_time(v, p.value, s.half_step_h),
                Some(v) => p.compare.holds(v, p.value),
            };
            if let Some(v) = value {
                control_value = v;
            }
            if k == 0 {
                result = holds;
            } else if p.or {
                result = result || holds;
            } else {
                result = result && holds;
            }
        }
        let list = if result { &rule.then } else { &rule.otherwise };
        for a in list {
            if rule.priority >= actions[a.link].0 {
                let setting = match a.curve.and_then(|c| rule.curves.get(c)) {
                    Some(curve) => interpolate(curve, control_value).clamp(0.0, 1.0),
                    None => a.setting,
                };
                actions[a.link] = (rule.priority, setting);
            }
        }
    }
    for &l in rule_links {
        let a = actions[l];
        if a.0 > f64::NEG_INFINITY {
            settings[l] = a.1;
        }
    }
}

/// Whether the rules leave every setting as it is for as long as the system is quiet
/// (no runoff or external inflow, every storage unit empty or holding still): evaluated in
/// three-valued logic where only what is certain then is known — the depth and volume of
/// every node (`depth`, `volume`: the fast routing keeps junctions at 0, quiet storage
/// does not change), the lateral
/// inflow of a node without runoff or dry-weather flow (0), link settings (`settings`);
/// flows, times and inflows with dry-weather flow are unknown. True when each rule's
/// outcome is certain and the actions it takes (by priority, as [`apply_rules`]) equal
/// the current settings.
pub(crate) fn quiet_rules_change_nothing(
    system: &System,
    settings: &[f64],
    depth: &[f64],
    volume: &[f64],
    lateral_always_zero: &[bool],
) -> bool {
    let mut actions = vec![(f64::NEG_INFINITY, 0.0); settings.len()];
    quiet_rules_hold(
        system,
        &rule_links(system),
        settings,
        depth,
        volume,
        lateral_always_zero,
        &|_| None,
        &mut actions,
    )
}

/// The premises of the rules whose value can change while a draining stretch lasts
/// (the depth and volume of the draining tanks, the flow of their pumps), and whether
/// each held at the last check: while none changes, [`quiet_rules_hold`] gives what it
/// gave then, since everything else it reads stays as it is.
pub(crate) struct PremiseWatch {
    premises: Vec<(Subject, Compare, f64)>,
    last: Option<Vec<bool>>,
}

impl PremiseWatch {
    /// Watch the premises of `rules` whose subject `changes`.
    pub(crate) fn new(rules: &[Rule], changes: impl Fn(&Subject) -> bool) -> PremiseWatch {
        PremiseWatch {
            premises: rules
                .iter()
                .flat_map(|r| &r.premises)
                .filter(|p| changes(&p.subject))
                .map(|p| (p.subject, p.compare, p.value))
                .collect(),
            last: None,
        }
    }

    /// Whether a watched premise holds differently from the last call (always on the
    /// first). Their subjects are known exactly: a node's depth or volume, a link's flow.
    pub(crate) fn changed(&mut self, depth: &[f64], volume: &[f64], link_flow: &[f64]) -> bool {
        let now = |&(subject, compare, value): &(Subject, Compare, f64)| {
            let v = match subject {
                Subject::NodeDepth(i) => depth[i],
                Subject::NodeVolume(i) => volume[i],
                Subject::LinkFlow(i) => link_flow[i],
                // Not watched (see `new`'s callers); treat as always changing.
                _ => return None,
            };
            Some(compare.holds(v, value))
        };
        match &mut self.last {
            Some(last) => {
                let mut changed = false;
                for (p, held) in self.premises.iter().zip(last.iter_mut()) {
                    match now(p) {
                        Some(h) if h == *held => {}
                        Some(h) => {
                            *held = h;
                            changed = true;
                        }
                        None => changed = true,
                    }
                }
                changed
            }
            None => {
                self.last = Some(self.premises.iter().map(|p| now(p) == Some(true)).collect());
                true
            }
        }
    }

    /// Whether every watched premise holds as at the last check for any value of its
    /// subject in the range `range` gives it (None: unknown, so it may not).
    pub(crate) fn holds_as_last_over(&self, range: impl Fn(Subject) -> Option<(f64, f64)>) -> bool {
        if self.premises.is_empty() {
            return true;
        }
        let Some(last) = &self.last else {
            return false;
        };
        self.premises
            .iter()
            .zip(last)
            .all(|(&(subject, compare, value), &held)| {
                range(subject)
                    .is_some_and(|(lo, hi)| holds_over(compare, lo, hi, value) == Some(held))
            })
    }
}

/// Whether `compare` holds for every value in `[lo, hi]` (Some(true)), for none
/// (Some(false)), or for some only (None).
fn holds_over(compare: Compare, lo: f64, hi: f64, value: f64) -> Option<bool> {
    if lo == hi {
        return Some(compare.holds(lo, value));
    }
    let (all, none) = match compare {
        Compare::Lt => (hi < value, lo >= value),
        Compare::Le => (hi <= value, lo > value),
        Compare::Gt => (lo > value, hi <= value),
        Compare::Ge => (lo >= value, hi < value),
        Compare::Eq => (false, hi < value - 1e-9 || lo > value + 1e-9),
        Compare::Ne => (hi < value - 1e-9 || lo > value + 1e-9, false),
    };
    match (all, none) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// As [`quiet_rules_change_nothing`], where the flow of some links is known to lie in a
/// range (`flow(link)`: Some((lo, hi)), m³/s); `actions` is scratch space, one per link,
/// of which only the `rule_links` ([`rule_links`]) are used.
#[allow(clippy::too_many_arguments)]
pub(crate) fn quiet_rules_hold(
    system: &System,
    rule_links: &[usize],
    settings: &[f64],
    depth: &[f64],
    volume: &[f64],
    lateral_always_zero: &[bool],
    flow: &dyn Fn(usize) -> Option<(f64, f64)>,
    actions: &mut [(f64, f64)],
) -> bool {
    for &l in rule_links {
        actions[l] = (f64::NEG_INFINITY, 0.0);
    }
    for rule in &system.rules {
        let mut result: Option<bool> = None;
        for (k, p) in rule.premises.iter().enumerate() {
            let known = match p.subject {
                Subject::NodeDepth(i) => Some((depth[i], depth[i])),
                Subject::NodeVolume(i) => Some((volume[i], volume[i])),
                Subject::NodeLateral(i) if lateral_always_zero[i] => Some((0.0, 0.0)),
                Subject::LinkSetting(i) => Some((settings[i], settings[i])),
                Subject::LinkFlow(i) => flow(i),
                _ => None,
            };
            let holds = known.and_then(|(lo, hi)| holds_over(p.compare, lo, hi, p.value));
            result = if k == 0 {
                holds
            } else if p.or {
                match (result, holds) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            } else {
                match (result, holds) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            };
        }
        let Some(result) = result else {
            return false;
        };
        let list = if result { &rule.then } else { &rule.otherwise };
        for a in list {
            if a.curve.is_some() {
                return false;
            }
            if rule.priority >= actions[a.link].0 {
                actions[a.link] = (rule.priority, a.setting);
            }
        }
    }
    rule_links.iter().all(|&l| {
        let a = actions[l];
        a.0 == f64::NEG_INFINITY || a.1 == settings[l]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Action, Premise};

    #[test]
    fn premise_watch_sees_only_a_change_of_outcome() {
        // IF NODE 0 DEPTH > 0.01 AND LINK 1 FLOW < 0.5: only the depth is watched.
        let premise = |subject, compare, value| Premise {
            or: false,
            subject,
            compare,
            value,
        };
        let rules = vec![Rule {
            name: "DRAIN".into(),
            premises: vec![
                premise(Subject::NodeDepth(0), Compare::Gt, 0.01),
                premise(Subject::LinkFlow(1), Compare::Lt, 0.5),
            ],
            then: vec![Action {
                link: 0,
                setting: 1.0,
                curve: None,
            }],
            otherwise: vec![],
            priority: 0.0,
            curves: vec![],
        }];
        let mut watch = PremiseWatch::new(&rules, |s| matches!(s, Subject::NodeDepth(0)));
        let (volume, flow) = ([0.0; 2], [0.0, 9.0]);
        assert!(watch.changed(&[2.0, 0.0], &volume, &flow), "first check");
        assert!(!watch.changed(&[2.0, 0.0], &volume, &flow));
        // The level falls but stays above 0.01 m: the same outcome.
        assert!(!watch.changed(&[0.5, 0.0], &volume, &flow));
        // An unwatched subject may change (the caller knows it stays in its range).
        assert!(!watch.changed(&[0.02, 3.0], &volume, &[0.0, 0.1]));
        assert!(
            watch.changed(&[0.01, 0.0], &volume, &flow),
            "no longer > 0.01"
        );
        assert!(!watch.changed(&[0.0, 0.0], &volume, &flow));
    }
}
