//! keepalived 2.2's VRRP (vrrp.c `vrrp_state_backup`, `vrrp_state_master_rx`,
//! vrrp_scheduler.c `vrrp_init_state`, vrrp.h timer macros; digest in
//! shared/reference/keepalived.md): one daemon per listener of a VIP,
//! adverts every `advert_int` from the MASTER, a BACKUP's master-down timer
//! (down_timer_adverts x advert_int + skew) re-armed by each advert it
//! accepts, preemption (`nopreempt`, `preempt_delay`), a `vrrp_script`
//! tracking the listener beside it, and the VIP claimed (gratuitous ARPs)
//! on becoming MASTER and released on leaving it.
//!
//! Simplifications:
//! - Adverts are one message to each peer daemon (multicast 224.0.0.18 as
//!   unicast copies); a partition or a dead peer loses them, TCP never
//!   resends them. Equal priorities: the member declared first wins (it
//!   stands for the higher primary address).
//! - The `vrrp_script` is `killall -0 LISTENER`: a process check, modelled as
//!   a TCP handshake with the listener on the same host, so a killed
//!   listener fails it (refused) and a stopped one passes it (the kernel
//!   completes the handshake, as `killall -0` finds a stopped process).
//!   Scripts start OK.
//! - A GARP burst of `garp_master_repeat` copies reaches a host unless
//!   random loss eats every copy (`crate::net::vip`); the second burst
//!   after `garp_master_delay` and `garp_master_refresh` (one copy)
//!   re-announce. A MASTER
//!   hearing a lower-priority advert re-announces too
//!   (`garp_lower_prio_repeat`, default garp_master_repeat).
//! - `state MASTER` below priority 255 starts as BACKUP with the short
//!   start-up timer `advert_int + skew(254)` (vrrp_init_state's
//!   VRRP_TIMER_SKEW_MIN); priority 255 with `state MASTER` takes the VIP at
//!   once. At start (and restart) the daemon removes the VIP from its host.
//! - SIGKILL leaves the VIP on the host (keepalived -9 does not clean up);
//!   `restart` is a clean stop (priority-0 advert, VIP removed) and start.
//! - `track_interface` and the instance's own interface follow the links of
//!   `link-down` faults at once (netlink; no `interface_up_down_delays`
//!   debounce). The instance runs on the host's one interface, eth0:
//!   `interface` is not a key. A FAULT counts its causes (a weight-0 script
//!   KO, each weight-0 link down) and ends when the last clears
//!   (vrrp_track.c down_instance, vrrp_scheduler.c try_up_instance).
//! - No sync groups, unicast peers or authentication.

mod config;
mod product;

pub use config::{InstanceSpec, KeepalivedSpec, ScriptSpec, TrackedInterface};

use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::process::{
    Boot,
    Admin, CallRef, Ctx, Msg, MsgKind, NodeId, Process, Req, ReqKind, TimerKey, VipId,
};
use crate::net::IfName;
use crate::products::Wire;

/// A VRRP advertisement: the sender's effective priority (0: it stops
/// being MASTER) and, for VRRPv3, its advert interval in centiseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advert {
    pub priority: u8,
    pub adver_int_cs: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepalivedTimer {
    /// The daemon of a run's time zero starts (its phase).
    Boot,
    /// MASTER: the next advert.
    Advert,
    /// BACKUP: Master_Down_Interval ran out.
    MasterDown,
    /// MASTER: the second GARP burst (garp_master_delay) or a refresh.
    Garp { refresh: bool },
    /// The next run of the vrrp_script.
    Script,
    /// Run `n` of the script took longer than its timeout.
    ScriptTimeout(u32),
}

impl From<KeepalivedTimer> for crate::products::Timer {
    fn from(t: KeepalivedTimer) -> Self {
        crate::products::Timer::Keepalived(t)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Backup,
    Master,
    /// A `weight 0` script is KO or a tracked link is down: no VIP, no
    /// adverts, deaf to adverts.
    Fault,
}

#[derive(Clone)]
pub struct Keepalived {
    i: InstanceSpec,
    vip: VipId,
    listener: NodeId,
    /// The other daemons of the VIP, with their member index (lower wins
    /// a tie of priorities).
    peers: Vec<(NodeId, usize)>,
    rank: usize,
    pub state: State,
    master_adver_int: Dur,
    down: Option<TimerKey>,
    /// When the armed master-down timer runs out (a priority change moves it).
    down_at: SimTime,
    advert: Option<TimerKey>,
    garp: Option<TimerKey>,
    script: Option<TimerKey>,
    /// preempt_delay: until when lower-priority adverts are still accepted.
    preempt_time: Option<SimTime>,
    /// The daemon whose adverts this BACKUP accepted last, and whether it
    /// advertised a lower priority than ours (we then preempt it).
    master_seen: Option<NodeId>,
    /// The priority of that daemon's last accepted advert.
    master_prio: u8,
    preempting: bool,
    script_ok: bool,
    /// Per tracked interface (`i.tracked`), whether its link is down.
    links_down: Vec<bool>,
    fails: u32,
    successes: u32,
    /// The script run in progress, by number.
    run: Option<u32>,
    runs: u32,
    /// Started (adverts before the boot find nobody listening).
    booted: bool,
    /// When the daemon of the run's time zero starts.
    pub boot_at: Dur,
}

impl Keepalived {
    pub fn new(
        i: &InstanceSpec,
        vip: VipId,
        listener: NodeId,
        peers: Vec<(NodeId, usize)>,
        rank: usize,
    ) -> Keepalived {
        Keepalived {
            i: i.clone(),
            vip,
            listener,
            peers,
            rank,
            state: State::Backup,
            master_adver_int: i.advert_int,
            down: None,
            down_at: SimTime::ZERO,
            advert: None,
            garp: None,
            script: None,
            preempt_time: None,
            master_seen: None,
            master_prio: 0,
            preempting: false,
            script_ok: true,
            links_down: vec![false; i.tracked.len()],
            fails: 0,
            successes: 0,
            run: None,
            runs: 0,
            booted: false,
            boot_at: Dur::ZERO,
        }
    }

    /// The priority adverts carry: the configured one moved by the
    /// script's and the tracked links' weights (an owner's 255 stays),
    /// within 1..254 (vrrp_track.c vrrp_set_effective_priority).
    pub fn effective_priority(&self) -> u8 {
        let base = self.i.priority;
        if base == 255 {
            return 255;
        }
        let moved = |weight: i32, ok: bool| match weight {
            w if w > 0 && ok => w,
            w if w < 0 && !ok => w,
            _ => 0,
        };
        let script = self.i.script.map_or(0, |s| moved(s.weight, self.script_ok));
        let links: i32 = (self.i.tracked.iter().zip(&self.links_down))
            .map(|(t, &down)| moved(t.weight, !down))
            .sum();
        (base as i32 + script + links).clamp(1, 254) as u8
    }

    /// How many causes hold the instance in FAULT (vrrp->num_script_if_fault):
    /// a weight-0 script that is KO, each weight-0 link that is down.
    fn faults(&self) -> usize {
        let script = self.i.script.is_some_and(|s| s.weight == 0 && !self.script_ok);
        let links = (self.i.tracked.iter().zip(&self.links_down))
            .filter(|(t, down)| t.weight == 0 && **down)
            .count();
        usize::from(script) + links
    }

    fn advert(&self, priority: u8) -> MsgKind {
        MsgKind::Wire(Wire::Vrrp(Advert {
            priority,
            adver_int_cs: (self.i.advert_int.0 / (10 * Dur::MS)) as u16,
        }))
    }

    fn send_adverts(&self, ctx: &mut Ctx, priority: u8) {
        let kind = self.advert(priority);
        for &(p, _) in &self.peers {
            ctx.send(p, CallRef::default(), kind);
        }
    }

    fn arm_down(&mut self, ctx: &mut Ctx, after: Dur) {
        self.arm_down_at(ctx, ctx.now + after);
    }

    fn arm_down_at(&mut self, ctx: &mut Ctx, at: SimTime) {
        self.down_at = at;
        ctx.rearm(&mut self.down, at, KeepalivedTimer::MasterDown);
    }

    /// The effective priority moved from `before`: a BACKUP's running
    /// master-down timer moves by the change of its skew
    /// (vrrp_set_effective_priority); a MASTER's next advert carries it.
    fn priority_changed(&mut self, ctx: &mut Ctx, before: u8) {
        let now = self.effective_priority();
        if now == before || self.state != State::Backup || self.down.is_none() {
            return;
        }
        let old = self.i.master_down(before, self.master_adver_int);
        let new = self.i.master_down(now, self.master_adver_int);
        let at = match new >= old {
            true => self.down_at + new.saturating_sub(old),
            false => SimTime(self.down_at.0.saturating_sub(old.saturating_sub(new).0)),
        };
        self.arm_down_at(ctx, at.max(ctx.now));
    }

    /// A cause of FAULT appeared (`down_instance`): on the first, a MASTER
    /// resigns (priority-0 advert, VIP removed) and a BACKUP stops its timer.
    fn fault_began(&mut self, ctx: &mut Ctx, why: &str) {
        if self.faults() != 1 || self.state == State::Fault {
            return;
        }
        self.resign(ctx);
        self.state = State::Fault;
        let me = ctx.me;
        ctx.log(me, EventKind::Info, format!("VRRP: entering FAULT ({why})"));
    }

    /// A cause of FAULT cleared (`try_up_instance`): after the last, BACKUP
    /// with a full master-down timer (vrrp_state_leave_fault).
    fn fault_ended(&mut self, ctx: &mut Ctx) {
        if self.faults() != 0 || self.state != State::Fault {
            return;
        }
        self.state = State::Backup;
        self.master_adver_int = self.i.advert_int;
        self.preempt_time = (!self.i.preempt_delay.is_zero()).then(|| ctx.now + self.i.preempt_delay);
        let after = self.i.master_down(self.effective_priority(), self.i.advert_int);
        self.enter_backup(ctx, after);
        let me = ctx.me;
        ctx.log(me, EventKind::Info, "VRRP: leaving FAULT, entering BACKUP");
    }

    /// Netlink reports interface `name` down or up.
    fn link_changed(&mut self, ctx: &mut Ctx, name: IfName, up: bool) {
        let Some(k) = self.i.tracked.iter().position(|t| t.name == name) else {
            return;
        };
        if self.links_down[k] != up {
            return;
        }
        let before = self.effective_priority();
        self.links_down[k] = !up;
        if self.i.tracked[k].weight != 0 {
            let me = ctx.me;
            let detail = format!(
                "VRRP: {name} {}: priority {before} -> {}",
                if up { "up" } else { "down" },
                self.effective_priority()
            );
            ctx.log(me, EventKind::Info, detail);
            self.priority_changed(ctx, before);
        } else if up {
            self.fault_ended(ctx);
        } else {
            self.fault_began(ctx, &format!("{name} down"));
        }
    }

    fn cancel(ctx: &mut Ctx, slot: &mut Option<TimerKey>) {
        if let Some(k) = slot.take() {
            ctx.cancel(k);
        }
    }

    /// Enters BACKUP with the master-down timer `after` from now.
    fn enter_backup(&mut self, ctx: &mut Ctx, after: Dur) {
        if self.state == State::Master {
            ctx.release_vip(self.vip);
            let me = ctx.me;
            ctx.log(me, EventKind::Demoted, "VRRP: entering BACKUP, VIP removed");
        }
        self.state = State::Backup;
        Self::cancel(ctx, &mut self.advert);
        Self::cancel(ctx, &mut self.garp);
        self.arm_down(ctx, after);
    }

    fn enter_master(&mut self, ctx: &mut Ctx) {
        self.state = State::Master;
        Self::cancel(ctx, &mut self.down);
        self.master_adver_int = self.i.advert_int;
        ctx.claim_vip(self.vip, self.i.garp_master_repeat);
        // The event is about the daemon that fell silent, or about this
        // one when it preempts a lower priority master (its own return).
        let subject = match self.master_seen.take() {
            Some(m) if !self.preempting => m,
            _ => ctx.me,
        };
        self.preempting = false;
        ctx.log(
            subject,
            EventKind::VipTakeover,
            format!("VRRP: entering MASTER, VIP claimed (priority {})", self.effective_priority()),
        );
        self.send_adverts(ctx, self.effective_priority());
        let next = ctx.now + self.i.advert_int;
        ctx.rearm(&mut self.advert, next, KeepalivedTimer::Advert);
        if !self.i.garp_master_delay.is_zero() {
            let at = ctx.now + self.i.garp_master_delay;
            ctx.rearm(&mut self.garp, at, KeepalivedTimer::Garp { refresh: false });
        } else if !self.i.garp_master_refresh.is_zero() {
            let at = ctx.now + self.i.garp_master_refresh;
            ctx.rearm(&mut self.garp, at, KeepalivedTimer::Garp { refresh: true });
        }
    }

    /// Leaves MASTER cleanly (FAULT, stop): priority-0 advert, VIP removed.
    fn resign(&mut self, ctx: &mut Ctx) {
        if self.state == State::Master {
            self.send_adverts(ctx, 0);
            ctx.release_vip(self.vip);
            let me = ctx.me;
            ctx.log(me, EventKind::Demoted, "VRRP: priority 0 advert, VIP removed");
        }
        Self::cancel(ctx, &mut self.advert);
        Self::cancel(ctx, &mut self.garp);
        Self::cancel(ctx, &mut self.down);
    }

    /// vrrp_init_state: BACKUP, the VIP removed from this host.
    fn boot(&mut self, ctx: &mut Ctx) {
        self.booted = true;
        self.init(ctx);
        if self.i.script.is_some() {
            self.run_script(ctx);
        }
    }

    fn init(&mut self, ctx: &mut Ctx) {
        ctx.release_vip(self.vip);
        // initialise_interface_tracking_priorities: the links as netlink
        // reports them at start; one down and unweighted means FAULT.
        for (t, down) in self.i.tracked.iter().zip(&mut self.links_down) {
            *down = !ctx.link_up(t.name);
        }
        if self.faults() > 0 {
            self.state = State::Fault;
            let me = ctx.me;
            ctx.log(me, EventKind::Info, "VRRP: entering FAULT (a tracked link is down)");
            return;
        }
        self.master_adver_int = self.i.advert_int;
        self.preempt_time = (!self.i.preempt_delay.is_zero()).then(|| ctx.now + self.i.preempt_delay);
        if self.i.master && self.i.priority == 255 {
            self.enter_master(ctx);
        } else if self.i.master {
            let after = self.i.advert_int + self.i.skew(254, self.i.advert_int);
            self.enter_backup(ctx, after);
        } else {
            let after = self.i.master_down(self.effective_priority(), self.i.advert_int);
            self.enter_backup(ctx, after);
        }
    }

    /// Whether an advert of priority `p` from member `rank` beats ours.
    fn beats(&self, p: u8, rank: usize) -> bool {
        let mine = self.effective_priority();
        p > mine || (p == mine && rank < self.rank)
    }

    fn on_advert(&mut self, ctx: &mut Ctx, from: NodeId, a: Advert) {
        let Some(&(_, rank)) = self.peers.iter().find(|(p, _)| *p == from) else {
            return;
        };
        if !self.booted {
            return;
        }
        let mine = self.effective_priority();
        match self.state {
            State::Fault => {}
            State::Backup => {
                if a.priority == 0 {
                    let skew = self.i.skew(mine, self.master_adver_int);
                    self.master_seen = Some(from);
                    self.master_prio = 0;
                    self.preempting = false;
                    self.arm_down(ctx, skew);
                    return;
                }
                let delaying = !self.i.preempt_delay.is_zero()
                    && self.preempt_time.is_none_or(|t| t > ctx.now);
                if self.i.nopreempt || a.priority >= mine || delaying {
                    if self.i.version == 3 {
                        self.master_adver_int = Dur::from_ms(a.adver_int_cs as u64 * 10);
                    }
                    self.master_seen = Some(from);
                    self.master_prio = a.priority;
                    self.preempting = false;
                    let after = self.i.master_down(mine, self.master_adver_int);
                    self.arm_down(ctx, after);
                    if !self.i.preempt_delay.is_zero() {
                        if a.priority >= mine {
                            self.preempt_time = None;
                        } else if self.preempt_time.is_none() {
                            self.preempt_time = Some(ctx.now + self.i.preempt_delay);
                        }
                    }
                }
                else {
                    // A lower priority advert, preempting: discarded, the
                    // down timer keeps running. The takeover is about us
                    // (our return) unless this master's own priority fell
                    // (its tracked link or script).
                    let fell = self.master_seen == Some(from) && a.priority < self.master_prio;
                    self.master_seen = Some(from);
                    self.preempting = !fell;
                }
            }
            State::Master => {
                if a.priority == 0 {
                    self.send_adverts(ctx, mine);
                } else if self.beats(a.priority, rank) {
                    // vrrp_state_master_rx: with higher_prio_send_advert the
                    // MASTER first adverts its own (lower) priority, so a
                    // better master that had been cut off answers with its
                    // GARPs and the clients' ARP entries follow it back.
                    if self.i.higher_prio_send_advert {
                        self.send_adverts(ctx, mine);
                    }
                    if self.i.version == 3 {
                        self.master_adver_int = Dur::from_ms(a.adver_int_cs as u64 * 10);
                    }
                    self.master_seen = Some(from);
                    let after = self.i.master_down(mine, self.master_adver_int);
                    self.enter_backup(ctx, after);
                } else {
                    // A lower priority master: advert back and re-announce
                    // the VIP (garp_lower_prio_repeat).
                    self.send_adverts(ctx, mine);
                    ctx.claim_vip(self.vip, self.i.garp_master_repeat);
                }
            }
        }
    }

    fn run_script(&mut self, ctx: &mut Ctx) {
        let Some(s) = self.i.script else { return };
        let at = ctx.now + s.interval;
        ctx.rearm(&mut self.script, at, KeepalivedTimer::Script);
        if self.run.is_some() {
            return;
        }
        self.runs = self.runs.wrapping_add(1);
        self.run = Some(self.runs);
        let call = CallRef {
            slot: 0,
            generation: self.runs,
        };
        ctx.send(self.listener, call, MsgKind::Connect(Req::once(ReqKind::L4Check, true)));
        ctx.at(ctx.now + s.timeout, KeepalivedTimer::ScriptTimeout(self.runs));
    }

    fn script_result(&mut self, ctx: &mut Ctx, ok: bool) {
        let Some(s) = self.i.script else { return };
        self.run = None;
        let before = self.effective_priority();
        let listener = self.listener;
        if ok {
            self.fails = 0;
            self.successes += 1;
            if !self.script_ok && self.successes >= s.rise {
                self.script_ok = true;
                ctx.log(listener, EventKind::MarkedUp, "vrrp_script OK");
                match s.weight {
                    0 => self.fault_ended(ctx),
                    _ => self.priority_changed(ctx, before),
                }
            }
        } else {
            self.successes = 0;
            self.fails += 1;
            if self.script_ok && self.fails >= s.fall {
                self.script_ok = false;
                let detail = match s.weight {
                    0 => "vrrp_script KO: entering FAULT".to_string(),
                    _ => format!(
                        "vrrp_script KO: priority {before} -> {}",
                        self.effective_priority()
                    ),
                };
                ctx.log(listener, EventKind::MarkedDown, detail);
                match s.weight {
                    0 => self.fault_began(ctx, "vrrp_script KO"),
                    _ => self.priority_changed(ctx, before),
                }
            }
        }
    }
}

impl Process for Keepalived {
    type Timer = KeepalivedTimer;

    /// Daemons that were running before the run (`boot` drawn) started
    /// together at `boot_at` (a random instant of their first advert
    /// interval, drawn per VIP), so the adverts' phase, and a fault's place
    /// in it, changes with the seed; a fresh start (a restart, a cold or
    /// aligned start) boots at once.
    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        if !boot.running_for().is_zero() && !self.boot_at.is_zero() {
            ctx.at(ctx.now + self.boot_at, KeepalivedTimer::Boot);
        } else {
            self.boot(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, _rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Wire(Wire::Vrrp(a)) => self.on_advert(ctx, msg.from, a),
            MsgKind::Established | MsgKind::Refused | MsgKind::Unreachable
                if msg.from == self.listener
                    && msg.call.slot == 0
                    && self.run == Some(msg.call.generation) =>
            {
                self.script_result(ctx, msg.kind == MsgKind::Established)
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _rng: &mut Rng, t: KeepalivedTimer) {
        match t {
            KeepalivedTimer::Boot => self.boot(ctx),
            KeepalivedTimer::Advert => {
                if self.state == State::Master {
                    self.advert = None;
                    self.send_adverts(ctx, self.effective_priority());
                    let next = ctx.now + self.i.advert_int;
                    ctx.rearm(&mut self.advert, next, KeepalivedTimer::Advert);
                }
            }
            KeepalivedTimer::MasterDown => {
                self.down = None;
                if self.state == State::Backup {
                    self.enter_master(ctx);
                }
            }
            KeepalivedTimer::Garp { refresh } => {
                self.garp = None;
                if self.state == State::Master {
                    // garp_master_refresh_repeat is 1 by default.
                    let copies = if refresh { 1 } else { self.i.garp_master_repeat };
                    ctx.claim_vip(self.vip, copies);
                    if !self.i.garp_master_refresh.is_zero() {
                        let at = ctx.now + self.i.garp_master_refresh;
                        ctx.rearm(&mut self.garp, at, KeepalivedTimer::Garp { refresh: true });
                    }
                }
            }
            KeepalivedTimer::Script => {
                self.script = None;
                self.run_script(ctx)
            }
            KeepalivedTimer::ScriptTimeout(n) => {
                if self.run == Some(n) {
                    self.script_result(ctx, false);
                }
            }
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, call: CallRef) -> bool {
        call.slot == 0 && self.run == Some(call.generation)
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }

    fn crashed(&mut self, pristine: &Keepalived) {
        self.clone_from(pristine);
    }

    /// `restart`: a clean stop (priority-0 advert, VIP removed), then a
    /// start in BACKUP.
    fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        if let Admin::Link { interface, up } = a {
            if self.booted {
                self.link_changed(ctx, interface, up);
            }
            return;
        }
        if let Admin::Action { name, .. } = a
            && name == crate::faults::RESTART.name
        {
            self.resign(ctx);
            Self::cancel(ctx, &mut self.script);
            let runs = self.runs;
            let mut pristine =
                Keepalived::new(&self.i, self.vip, self.listener, self.peers.clone(), self.rank);
            pristine.boot_at = self.boot_at;
            *self = pristine;
            // Script runs of the old process answer nobody.
            self.runs = runs;
            self.start(ctx, rng, Boot::FRESH);
        }
    }
}

#[cfg(test)]
mod tests;
