//! keepalived's registration: `[vips.NAME] type = "keepalived"`.

use super::config::{self, InstanceSpec, KeepalivedSpec};
use super::Keepalived;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, Fault, FaultKind, NodeSpec};
use crate::net::IfName;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::{Action, FaultAction, RESTART};
use crate::products::{BuildCx, Product};
use crate::report::FormulaRange;
use crate::engine::Dur;
use rand::Rng as _;
use std::fmt::Write;

impl KeepalivedSpec {
    /// Node `name`'s instance and its member index.
    pub fn own(&self, name: &str) -> (usize, &InstanceSpec) {
        self.instances
            .iter()
            .enumerate()
            .find(|(_, i)| i.node == name)
            .expect("every member has its instance")
    }
}

impl Product for Keepalived {
    type Spec = KeepalivedSpec;
    const TYPE: &'static str = "keepalived";
    const SECTIONS: &'static [Section] = &[Section::Vip];
    const PRESETS: &'static [Preset] = &[crate::preset!("keepalived-2.2")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;
    const ACTIONS: &'static [&'static Action] = &[&RESTART];

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<KeepalivedSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &KeepalivedSpec, cx: &mut BuildCx) -> (Keepalived, u32) {
        let (rank, own) = spec.own(&node.name);
        let vip = (cx.vip)(&spec.vip).expect("the run made every daemon's VIP");
        let peers = spec
            .instances
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != rank)
            .map(|(j, i)| ((cx.id)(&i.node), j))
            .collect();
        let listener = (cx.id)(&own.listener);
        // The pair boots together at a random instant of its first advert
        // interval: the faults' place in the adverts' phase changes with
        // the seed, the election at start does not.
        let phase: f64 = cx
            .shared_stream(&format!("keepalived {}", spec.vip))
            .random();
        let mut k = Keepalived::new(own, vip, listener, peers, rank);
        k.boot_at = Dur((own.advert_int.0 as f64 * phase) as u64);
        (k, 0)
    }

    /// keepalived serves no checks.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// The VIP held: the daemons boot within one advert interval, a
    /// BACKUP-only group waits out its master-down interval (a MASTER one
    /// less), and a tracking script first passes after `rise` runs.
    fn formation(spec: &KeepalivedSpec) -> Dur {
        let one = |i: &InstanceSpec| {
            let script = i
                .script
                .as_ref()
                .map_or(Dur::ZERO, |s| (s.interval + s.timeout).times(u64::from(s.rise)));
            i.advert_int + i.master_down(0, i.advert_int) + script
        };
        spec.instances.iter().map(one).max().unwrap_or(Dur::ZERO)
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &KeepalivedSpec) {
        let (_, i) = spec.own(&node.name);
        let _ = write!(
            o,
            "VRRPv{} for VIP {} beside {}: state {}, priority {}, advert_int {}, master down {} ({} adverts + skew {})",
            i.version,
            spec.vip,
            i.listener,
            if i.master { "MASTER" } else { "BACKUP" },
            i.priority,
            i.advert_int,
            i.master_down(i.priority, i.advert_int),
            i.down_timer_adverts,
            i.skew(i.priority, i.advert_int),
        );
        if i.nopreempt {
            let _ = write!(o, ", nopreempt");
        } else if !i.preempt_delay.is_zero() {
            let _ = write!(o, ", preempt_delay {}", i.preempt_delay);
        }
        let _ = write!(
            o,
            ", garp_master_delay {}, garp_master_repeat {}",
            i.garp_master_delay, i.garp_master_repeat
        );
        if i.higher_prio_send_advert {
            let _ = write!(o, ", higher_prio_send_advert");
        }
        if let Some(s) = i.script {
            let _ = write!(
                o,
                ", vrrp_script on {} every {} (timeout {}, fall {}, rise {}, weight {})",
                i.listener, s.interval, s.timeout, s.fall, s.rise, s.weight
            );
        }
        let links: Vec<String> = (i.tracked.iter())
            .map(|t| match t.weight {
                0 => format!("{} (FAULT)", t.name),
                w => format!("{} (weight {w})", t.name),
            })
            .collect();
        match links.is_empty() {
            true => {
                let _ = write!(o, ", tracks no link");
            }
            false => {
                let _ = write!(o, ", tracks {}", links.join(", "));
            }
        }
        let _ = writeln!(o);
    }

    fn vip(node: &NodeSpec, spec: &KeepalivedSpec) -> Option<(String, String)> {
        let (_, i) = spec.own(&node.name);
        Some((spec.vip.clone(), i.listener.clone()))
    }

    fn detection(
        spec: &ExperimentSpec,
        node: &NodeSpec,
        own: &KeepalivedSpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        detection(spec, node, own, a, subjects)
    }
}

/// How long this daemon takes to react to fault action `a` on `subjects`:
/// its vrrp_script noticing its listener killed, or (as a BACKUP) taking
/// the VIP over from a higher-priority daemon that fell silent
/// (keepalived.md §3): the last advert arrived up to one interval before,
/// so [(k-1)A + skew, kA + skew]; after a clean stop's priority-0 advert,
/// skew alone.
pub fn detection(
    spec: &ExperimentSpec,
    node: &NodeSpec,
    own: &KeepalivedSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    let (_, me) = own.own(&node.name);
    let hop = spec.network.latency.base;
    let kind = a.kind();
    // A process fault strikes its target alone, not the other processes
    // of a host named like it.
    let subjects = match kind {
        FaultKind::Kill | FaultKind::Stop | FaultKind::Slow | FaultKind::Action(_) => &a.targets,
        _ => subjects,
    };
    if let Fault::LinkDown { interface } = a.what {
        return link_detection(spec, node, own, a, interface);
    }
    if a.recover {
        return preemption(node, own, me, a, subjects);
    }
    if let Some(s) = me.script
        && subjects.contains(&me.listener)
        && !subjects.contains(&node.name)
    {
        // killall -0: a killed listener fails at once, a stopped one passes.
        return match kind {
            FaultKind::Kill => Some(Some(FormulaRange {
                lo: s.interval.times(s.fall as u64 - 1),
                hi: s.interval.times(s.fall as u64) + hop.times(2),
                formula: "U(0,interval) + (fall-1)*interval".to_string(),
            })),
            _ => None,
        };
    }
    let partition = kind == FaultKind::Partition;
    if subjects.contains(&node.name) && !partition {
        return None;
    }
    // A higher-priority member (the MASTER before the fault) was struck;
    // under a partition every member is a subject, and the takeover is a
    // lower-priority one's.
    let struck = own
        .instances
        .iter()
        .any(|i| i.node != node.name && subjects.contains(&i.node) && i.priority > me.priority);
    if !struck {
        return None;
    }
    let p = me.priority;
    let a_int = me.advert_int;
    let skew = me.skew(p, a_int);
    let k = me.down_timer_adverts as u64;
    match kind {
        FaultKind::Action(x) if x.name == RESTART.name => Some(Some(FormulaRange {
            lo: skew + hop,
            hi: skew + hop,
            formula: "skew after the priority-0 advert".to_string(),
        })),
        FaultKind::Kill
        | FaultKind::Stop
        | FaultKind::PowerOff
        | FaultKind::Blackhole
        | FaultKind::Partition => Some(Some(FormulaRange {
            lo: a_int.times(k - 1) + skew,
            hi: a_int.times(k) + skew + hop,
            formula: format!("U({}A, {k}A) + skew, skew={}", k - 1, skew),
        })),
        _ => None,
    }
}

/// A higher-priority daemon back from a power-off or a kill preempts the
/// lower-priority MASTER: its start-up timer (Master_Down_Interval) runs
/// out while it discards the lower adverts; with `preempt_delay D` it keeps
/// accepting them (re-arming the timer) until D after its start, so the
/// takeover comes [D + (k-1)A + skew, D + kA + skew] after the start.
fn preemption(
    node: &NodeSpec,
    own: &KeepalivedSpec,
    me: &InstanceSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    let restarts = matches!(a.kind(), FaultKind::PowerOff | FaultKind::Kill);
    let lower = own
        .instances
        .iter()
        .any(|i| i.node != node.name && i.priority < me.priority);
    if !restarts || !subjects.contains(&node.name) || !lower {
        return None;
    }
    if me.nopreempt {
        return Some(None);
    }
    if me.master {
        // vrrp_init_state: one advert interval and the minimal skew.
        let t = me.advert_int + me.skew(254, me.advert_int);
        return Some(Some(FormulaRange {
            lo: t,
            hi: t,
            formula: "A + skew(254) (state MASTER start-up timer)".to_string(),
        }));
    }
    let skew = me.skew(me.priority, me.advert_int);
    let k = me.down_timer_adverts as u64;
    let full = me.advert_int.times(k) + skew;
    let d = me.preempt_delay;
    let (lo, formula) = match d.is_zero() {
        true => (full, "kA + skew (start-up timer)".to_string()),
        false => (
            d + me.advert_int.times(k - 1) + skew,
            format!("preempt_delay + U({}A, {k}A) + skew", k - 1),
        ),
    };
    Some(Some(FormulaRange {
        lo,
        hi: d + full,
        formula,
    }))
}

/// What a link going down (or up) on the targeted hosts does to this
/// daemon, by how each instance tracks `interface`
/// (keepalived_netlink.c process_if_status_change):
/// - down, as the BACKUP of a higher-priority instance that loses it: the
///   host's own interface takes the host off the network (its priority-0
///   advert is lost, the down timer runs out: [(k-1)A + skew, kA + skew]);
///   another interface tracked unweighted sends the priority-0 advert
///   (skew); weighted, the priority drops and, if below ours, we stop
///   accepting the adverts ([(k-1)A + skew, kA + skew]);
/// - up, as the higher-priority instance itself: out of FAULT into BACKUP
///   with a full Master_Down_Interval (vrrp_state_leave_fault), or its
///   priority back, its running timer moved by the skew's change.
fn link_detection(
    spec: &ExperimentSpec,
    node: &NodeSpec,
    own: &KeepalivedSpec,
    a: &FaultAction,
    interface: IfName,
) -> Option<Option<FormulaRange>> {
    let (my_rank, me) = own.own(&node.name);
    let hop = spec.network.latency.base;
    let struck = |n: &str| spec.nodes.get(n).is_some_and(|s| a.targets.contains(&s.host));
    let weight = |i: &InstanceSpec| i.tracked.iter().find(|t| t.name == interface).map(|t| t.weight);
    let k = me.down_timer_adverts as u64;
    let a_int = me.advert_int;
    let timer = |skew: Dur, formula: String| {
        Some(Some(FormulaRange {
            lo: a_int.times(k - 1) + skew,
            hi: a_int.times(k) + skew + hop,
            formula,
        }))
    };
    if a.recover {
        let lower = own.instances.iter().any(|i| i.node != node.name && i.priority < me.priority);
        if !struck(&node.name) || !lower || me.nopreempt || !me.preempt_delay.is_zero() {
            return None;
        }
        return match weight(me)? {
            0 => {
                let full = me.master_down(me.priority, a_int);
                Some(Some(FormulaRange {
                    lo: full,
                    hi: full,
                    formula: "kA + skew (out of FAULT into BACKUP)".to_string(),
                }))
            }
            _ => timer(
                me.skew(me.priority, a_int),
                format!("U({}A, {k}A) + skew (priority back)", k - 1),
            ),
        };
    }
    if struck(&node.name) {
        return None;
    }
    let (rank, master) = own
        .instances
        .iter()
        .enumerate()
        .find(|(_, i)| i.node != node.name && struck(&i.node) && i.priority > me.priority)?;
    let skew = me.skew(me.priority, a_int);
    let silent = format!("U({}A, {k}A) + skew, skew={skew}", k - 1);
    if interface == IfName::host() {
        return timer(skew, silent);
    }
    match weight(master)? {
        0 => Some(Some(FormulaRange {
            lo: skew + hop,
            hi: skew + hop,
            formula: "skew after the priority-0 advert (FAULT)".to_string(),
        })),
        w => {
            let up = if w > 0 { w } else { 0 };
            let down = if w < 0 { w } else { 0 };
            let lowered = (i32::from(master.priority) - up + down).clamp(1, 254) as u8;
            let beaten = lowered < me.priority || (lowered == me.priority && my_rank < rank);
            if !beaten || me.nopreempt || !me.preempt_delay.is_zero() {
                return None;
            }
            timer(skew, silent)
        }
    }
}
