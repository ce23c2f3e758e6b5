//! The fault schedule: every fault of the experiment expanded into timed
//! actions (inject, recover), fixed, staggered or random (MTBF/MTTR), sorted
//! by instant (ties keep the file's order).

use crate::config::spec::{Fault, FaultKind, FaultSpec, FaultTiming};
use crate::engine::{Dur, SimTime, rng};
use crate::process::dist::Sampler;
use rand_distr::{Distribution, Exp1};

/// An operator action a product accepts as a fault (`kind = "switchover"`),
/// declared by the product ([`crate::products::Product::ACTIONS`]); the
/// kernel hands it to the target's model, which decides what it does.
#[derive(Debug, PartialEq, Eq)]
pub struct Action {
    /// `kind = "..."` in a `[[faults]]` entry.
    pub name: &'static str,
    /// It takes a `candidate`: the member to hand over to.
    pub candidate: bool,
}

/// `restart`: a clean restart of a database process (`systemctl restart`,
/// `patronictl restart`); staggered over members, a rolling restart.
pub const RESTART: Action = Action {
    name: "restart",
    candidate: false,
};

#[derive(Clone, Debug, PartialEq)]
pub struct FaultAction {
    pub at: SimTime,
    /// Index of the fault in the experiment file.
    pub fault: usize,
    pub recover: bool,
    /// What it does (the entry's kind and its data).
    pub what: Fault,
    /// Node names (kill, stop, slow, actions) or host names (blackhole,
    /// power-off): the entry's, or one of them for staggered and random
    /// faults.
    pub targets: Vec<String>,
}

impl FaultAction {
    pub fn kind(&self) -> FaultKind {
        self.what.kind()
    }

    /// The injection is named as the file names its kind; a recovery has a
    /// word of its own (an operator action has none: it ends by itself).
    pub fn verb(&self) -> &'static str {
        if !self.recover {
            return self.kind().name();
        }
        match self.kind() {
            FaultKind::Kill => "restart",
            FaultKind::Stop => "continue",
            FaultKind::Blackhole => "unblackhole",
            FaultKind::PowerOff => "power-on",
            FaultKind::LinkDown { .. } => "link-up",
            FaultKind::Partition => "heal",
            FaultKind::Slow => "unslow",
            FaultKind::Action(a) => a.name,
        }
    }

    pub fn label(&self) -> String {
        match &self.what {
            Fault::Partition { groups, one_way } => {
                let g: Vec<String> = groups
                    .iter()
                    .map(|g| format!("[{}]", g.join(" ")))
                    .collect();
                let sep = if *one_way { " -> " } else { " | " };
                return format!("{} {}", self.verb(), g.join(sep));
            }
            // A hand-over names where it goes, not the cluster it acts on.
            Fault::Action { action, candidate } if action.candidate => {
                return match candidate {
                    Some(c) => format!("{} to {c}", action.name),
                    None => action.name.to_string(),
                };
            }
            _ => {}
        }
        let mut l = format!("{} {}", self.verb(), self.targets.join(" "));
        if let Some(p) = self.what.process() {
            l.push_str(&format!(" ({p})"));
        }
        if let Fault::LinkDown { interface } = &self.what {
            l.push_str(&format!(" ({interface})"));
        }
        if let Fault::Slow { factor } = self.what
            && !self.recover
        {
            l.push_str(&format!(" x{factor}"));
        }
        l
    }
}

/// Expands the faults of an experiment of length `end` run with `seed`.
pub fn expand(specs: &[FaultSpec], seed: u64, end: SimTime) -> Vec<FaultAction> {
    let mut out = Vec::new();
    for (fi, f) in specs.iter().enumerate() {
        let action = |at: SimTime, recover: bool, targets: Vec<String>| FaultAction {
            at,
            fault: fi,
            recover,
            what: f.fault.clone(),
            targets,
        };
        match &f.timing {
            FaultTiming::Fixed { at, recover_at } => {
                out.push(action(*at, false, f.targets.clone()));
                if let Some(r) = recover_at {
                    out.push(action(*r, true, f.targets.clone()));
                }
            }
            FaultTiming::Staggered {
                at,
                every,
                duration,
            } => {
                for (j, t) in f.targets.iter().enumerate() {
                    let start = *at + every.times(j as u64);
                    out.push(action(start, false, vec![t.clone()]));
                    if let Some(d) = duration {
                        out.push(action(start + *d, true, vec![t.clone()]));
                    }
                }
            }
            FaultTiming::Random { mtbf, mttr, start } => {
                let repair = Sampler::new(mttr);
                let targets: Vec<Vec<String>> = if f.targets.is_empty() {
                    vec![vec![]]
                } else {
                    f.targets.iter().map(|t| vec![t.clone()]).collect()
                };
                for t in targets {
                    let mut r = rng::stream(seed, &format!("faults/{fi}/{}", t.join(",")));
                    let mut now = *start;
                    loop {
                        let x: f64 = Exp1.sample(&mut r);
                        now += Dur((x * mtbf.0 as f64) as u64);
                        if now >= end {
                            break;
                        }
                        out.push(action(now, false, t.clone()));
                        now += repair.sample(&mut r).max(Dur(1));
                        if now >= end {
                            break;
                        }
                        out.push(action(now, true, t.clone()));
                    }
                }
            }
        }
    }
    // Stable: simultaneous actions keep the file's order.
    out.sort_by_key(|a| a.at);
    out
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::spec::DistSpec;

    fn spec(timing: FaultTiming, targets: &[&str]) -> FaultSpec {
        FaultSpec {
            fault: Fault::Kill { process: None },
            targets: targets.iter().map(|s| s.to_string()).collect(),
            timing,
            line: 1,
        }
    }

    #[test]
    fn staggered_targets_fail_one_after_the_other() {
        let f = spec(
            FaultTiming::Staggered {
                at: SimTime(10),
                every: Dur(5),
                duration: Some(Dur(2)),
            },
            &["a", "b"],
        );
        let a = expand(&[f], 1, SimTime(1000));
        let got: Vec<(u64, bool, String)> = a
            .iter()
            .map(|x| (x.at.0, x.recover, x.targets[0].clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, false, "a".into()),
                (12, true, "a".into()),
                (15, false, "b".into()),
                (17, true, "b".into())
            ]
        );
    }

    #[test]
    fn random_faults_alternate_and_are_reproducible() {
        let f = spec(
            FaultTiming::Random {
                mtbf: Dur::from_secs(60),
                mttr: DistSpec::Constant(Dur::from_secs(10)),
                start: SimTime::ZERO,
            },
            &["a"],
        );
        let end = SimTime(Dur::from_secs(3600).0);
        let a = expand(std::slice::from_ref(&f), 7, end);
        assert_eq!(a, expand(&[f], 7, end));
        assert!(a.len() > 20);
        for (i, x) in a.iter().enumerate() {
            assert_eq!(x.recover, i % 2 == 1);
        }
    }
}
