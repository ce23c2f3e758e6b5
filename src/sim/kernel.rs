//! The kernels' part: what happens to a message when it arrives, given the
//! network and the receiving process's state (design.md, "What a failure looks
//! like on the wire"), and the fault actions that change those states.

use super::{ProcState, Sim};
use crate::config::spec::{Fault, FaultKind};
use crate::engine::Dur;
use crate::metrics::EventKind;
use crate::process::{Admin, Boot};
use crate::process::{CallRef, Event, Msg, MsgKind, NO_PEER, NodeId, ReqKind};

impl Sim {
    pub(super) fn deliver(&mut self, msg: Msg) {
        let (fh, th) = (
            self.hosts_of[msg.from as usize],
            self.hosts_of[msg.to as usize],
        );
        // EHOSTUNREACH comes from the caller's own kernel: no wire involved.
        // (`matches!`, not `!=`: the derived comparison of the whole enum
        // is an out-of-line call on every delivery, measured 1.3 %.)
        if !matches!(msg.kind, MsgKind::Unreachable)
            && (!self.net.reachable(fh, th) || self.net.lost(fh, th))
        {
            return self.dropped(msg);
        }
        // Not (or no longer) this host's address, and ip_forward is off.
        if let Some(v) = msg.vip {
            if !self.net.vips.holds(v, th) {
                return self.dropped(msg);
            }
            self.net.vips.confirm(v, fh, th, self.queue.now());
        }
        if let MsgKind::Connect(_) = msg.kind {
            // A retransmitted SYN of a caller that gave up is not sent at all.
            if msg.retx > 0 && !self.nodes[msg.from as usize].model.is_call_live(msg.call) {
                return;
            }
            // The handshake needs the way back too: without it the SYN-ACK is
            // lost and, for the caller, the SYN might as well have been.
            if !self.net.reachable(th, fh) {
                return self.dropped(msg);
            }
        }
        let to = &mut self.nodes[msg.to as usize];
        match (to.state, msg.kind) {
            (ProcState::Killed | ProcState::Off, MsgKind::Connect(_)) => {
                // Nothing listens: the kernel answers the SYN with RST.
                self.reply(msg, MsgKind::Refused);
            }
            (ProcState::Killed | ProcState::Off, MsgKind::Request(_)) => {
                // Data for a socket that died with its process: RST.
                self.reply(msg, MsgKind::Reset);
            }
            (ProcState::Killed | ProcState::Off, _) => {}
            (ProcState::Stopped, MsgKind::Connect(req)) => self.connect_to_stopped(msg, req.kind),
            (ProcState::Stopped, _) => to.frozen.push(Event::Deliver(msg)),
            (ProcState::Running, MsgKind::Connect(req)) => {
                if to.model.syn_backlog_full() {
                    return self.dropped(msg);
                }
                if to.model.refuses(req.kind) {
                    return self.reply(msg, MsgKind::Refused);
                }
                self.established(msg, req.kind);
                if req.kind != ReqKind::L4Check {
                    self.with_node(msg.to, |m, ctx, rng| m.on_message(ctx, rng, msg));
                }
            }
            (ProcState::Running, _) => {
                self.with_node(msg.to, |m, ctx, rng| m.on_message(ctx, rng, msg))
            }
        }
    }

    /// A stopped process's kernel completes handshakes while the accept queue
    /// has room (backlog + 1); pure L4 checks do not stay in it (haproxy.md §2).
    fn connect_to_stopped(&mut self, msg: Msg, kind: ReqKind) {
        let to = &mut self.nodes[msg.to as usize];
        if kind == ReqKind::L4Check {
            return self.established(msg, kind);
        }
        if to.backlog_used > to.backlog {
            return self.dropped(msg);
        }
        to.backlog_used += 1;
        to.frozen.push(Event::Deliver(msg));
        self.established(msg, kind);
    }

    /// The handshake of `msg` completed: the caller learns it one hop later.
    fn established(&mut self, msg: Msg, kind: ReqKind) {
        match kind {
            ReqKind::L4Check | ReqKind::HttpCheck => self.reply(msg, MsgKind::Established),
            ReqKind::Work => {
                let (fh, th) = (
                    self.hosts_of[msg.from as usize],
                    self.hosts_of[msg.to as usize],
                );
                let at = self.queue.now() + self.net.delay(th, fh);
                self.nodes[msg.from as usize]
                    .model
                    .on_established(msg.call, at);
            }
        }
    }

    /// Sends `kind` back to the sender of `msg`, from `msg.to`'s kernel.
    fn reply(&mut self, msg: Msg, kind: MsgKind) {
        let (fh, th) = (
            self.hosts_of[msg.from as usize],
            self.hosts_of[msg.to as usize],
        );
        let d = self.net.delay(th, fh);
        let back = Msg {
            from: msg.to,
            to: msg.from,
            vip: None,
            call: msg.call,
            kind,
            peer: NO_PEER,
            retx: 0,
        };
        self.queue.schedule_after(d, Event::Deliver(back));
    }

    /// The message did not arrive. TCP retransmits it while the sender's
    /// socket still wants it; a SYN to a powered-off host on the same subnet
    /// ends in EHOSTUNREACH once ARP gives up. A VIP's packets go to the MAC
    /// its ARP entry holds, without asking: lost, not EHOSTUNREACH, until a
    /// GARP moves the entry (`crate::net::vip`). Kept out of line (rare),
    /// as LLVM did before it became this small: inlined at every drop site
    /// it slowed the delivery path.
    #[inline(never)]
    fn dropped(&mut self, msg: Msg) {
        let th = self.hosts_of[msg.to as usize];
        let arp_fails = msg.vip.is_none() && !self.net.hosts[th as usize].powered();
        self.not_delivered(msg, arp_fails);
    }

    /// `msg` did not arrive, or could not leave (`arp_fails`: nobody answers
    /// ARP for its address). The EHOSTUNREACH comes from `msg.to`: the dead
    /// host's node, or the sender itself for a VIP nobody holds.
    pub(super) fn not_delivered(&mut self, msg: Msg, arp_fails: bool) {
        let fh = self.hosts_of[msg.from as usize];
        let sender = &self.nodes[msg.from as usize];
        if matches!(sender.state, ProcState::Killed | ProcState::Off)
            || !self.net.hosts[fh as usize].powered()
        {
            return;
        }
        // Cluster protocols resend on their own timers.
        if matches!(msg.kind, MsgKind::Wire(_)) {
            return;
        }
        let is_syn = matches!(msg.kind, MsgKind::Connect(_));
        if is_syn && !sender.model.is_call_live(msg.call) {
            return;
        }
        if is_syn && arp_fails && self.net.same_subnet && msg.retx == 0 {
            let back = Msg {
                from: msg.to,
                to: msg.from,
                vip: None,
                call: msg.call,
                kind: MsgKind::Unreachable,
                peer: NO_PEER,
                retx: 0,
            };
            self.queue.schedule(
                self.queue.now() + self.net.arp_timeout,
                Event::Deliver(back),
            );
            return;
        }
        self.retransmit(msg);
    }

    /// TCP sends `msg` again after its RTO (doubling per retransmission),
    /// to the same process, or to a VIP's holder as seen when it leaves.
    fn retransmit(&mut self, msg: Msg) {
        let wait = if matches!(msg.kind, MsgKind::Connect(_)) {
            self.net.syn_wait(msg.retx as u32)
        } else {
            ((msg.retx as u32) < self.net.data_retries)
                .then(|| Dur(self.net.rto_min.0 << msg.retx.min(20)))
        };
        let Some(wait) = wait else {
            return;
        };
        let again = Msg {
            retx: msg.retx + 1,
            ..msg
        };
        let now = self.queue.now();
        if again.vip.is_some() {
            return self.queue.schedule(now + wait, Event::Depart(again));
        }
        let (fh, th) = (
            self.hosts_of[msg.from as usize],
            self.hosts_of[msg.to as usize],
        );
        let d = self.net.delay(fh, th);
        self.queue.schedule(now + wait + d, Event::Deliver(again));
    }

    pub(super) fn apply_fault(&mut self, i: usize) {
        let a = self.actions[i].clone();
        let now = self.queue.now();
        for t in &a.targets {
            self.rec.event(
                now,
                "hasim",
                t,
                if a.recover {
                    EventKind::Recover
                } else {
                    EventKind::Fault
                },
                a.label(),
            );
        }
        if let Fault::Partition { groups, one_way } = &a.what {
            self.rec.event(
                now,
                "hasim",
                "network",
                if a.recover {
                    EventKind::Recover
                } else {
                    EventKind::Fault
                },
                a.label(),
            );
            let groups: Vec<Vec<u32>> = groups
                .iter()
                .map(|g| g.iter().map(|h| self.host_id(h)).collect())
                .collect();
            self.net.partition(&groups, *one_way, !a.recover);
            return;
        }
        if let Some(process) = a.what.process() {
            for t in &a.targets {
                let id = self.node_id(t);
                let stop = a.kind() == FaultKind::Stop;
                self.admin(
                    id,
                    Admin::Process {
                        process,
                        stop,
                        recover: a.recover,
                    },
                );
            }
            return;
        }
        for t in &a.targets {
            match &a.what {
                Fault::Action { action, candidate } => {
                    let candidate = candidate.as_deref().map(|c| self.node_id(c));
                    let name = action.name;
                    self.admin(self.node_id(t), Admin::Action { name, candidate });
                }
                Fault::Kill { .. } | Fault::Stop { .. } => {
                    let id = self.node_id(t);
                    self.process_fault(id, a.kind(), a.recover, 1.0);
                }
                Fault::Slow { factor } => {
                    let id = self.node_id(t);
                    self.process_fault(id, FaultKind::Slow, a.recover, *factor);
                }
                Fault::Blackhole => {
                    let h = self.host_id(t);
                    self.net.set_blackholed(h, !a.recover);
                }
                Fault::LinkDown { interface } => {
                    let (h, up) = (self.host_id(t), a.recover);
                    self.net.set_link(h, *interface, up);
                    let interface = *interface;
                    for n in self.nodes_on(h) {
                        self.admin(n, Admin::Link { interface, up });
                    }
                }
                Fault::PowerOff => {
                    let h = self.host_id(t);
                    self.net.set_powered(h, a.recover);
                    if !a.recover {
                        self.net.vips.host_down(h);
                        self.net.vips.track(self.queue.now());
                    }
                    for n in self.nodes_on(h) {
                        if a.recover {
                            self.start_process(n, Boot::FRESH);
                        } else {
                            self.crash(n, ProcState::Off);
                        }
                    }
                }
                Fault::Partition { .. } => unreachable!("handled above"),
            }
        }
    }

    /// The nodes on host `h`, in node order.
    fn nodes_on(&self, h: crate::net::HostId) -> Vec<NodeId> {
        (0..self.nodes.len() as u32)
            .filter(|&n| self.hosts_of[n as usize] == h)
            .collect()
    }

    /// An operator's action on a running database node (a dead or stopped
    /// one cannot act on it).
    fn admin(&mut self, id: NodeId, a: Admin) {
        let state = self.nodes[id as usize].state;
        let is_process_fault = matches!(a, Admin::Process { .. });
        if state == ProcState::Running || (is_process_fault && state == ProcState::Stopped) {
            self.with_node(id, |m, ctx, rng| m.admin(ctx, rng, a));
        }
    }

    fn process_fault(&mut self, id: NodeId, kind: FaultKind, recover: bool, factor: f64) {
        match (kind, recover) {
            (FaultKind::Kill, false) => self.crash(id, ProcState::Killed),
            (FaultKind::Kill, true) if self.nodes[id as usize].state == ProcState::Killed => {
                self.start_process(id, Boot::FRESH);
            }
            (FaultKind::Stop, false) => {
                let n = &mut self.nodes[id as usize];
                if n.state == ProcState::Running {
                    n.state = ProcState::Stopped;
                    if let Some(h) = self.rec.history.as_mut() {
                        h.suspend(self.queue.now(), id);
                    }
                }
            }
            (FaultKind::Stop, true) => self.continue_process(id),
            (FaultKind::Slow, false) => self.nodes[id as usize].slow = factor,
            (FaultKind::Slow, true) => self.nodes[id as usize].slow = 1.0,
            _ => {}
        }
    }

    /// The process dies: its kernel resets every accepted connection (unless
    /// the whole host went dark), and it forgets everything.
    fn crash(&mut self, id: NodeId, state: ProcState) {
        let n = &mut self.nodes[id as usize];
        if matches!(n.state, ProcState::Killed | ProcState::Off) {
            n.state = state;
            return;
        }
        let mut peers = n.model.inbound_peers();
        // Connections still in the accept queue are reset too.
        for ev in n.frozen.drain(..) {
            if let Event::Deliver(Msg {
                from,
                call,
                kind: MsgKind::Connect(_),
                ..
            }) = ev
            {
                peers.push((from, call));
            }
        }
        n.state = state;
        n.incarnation += 1;
        n.timers.clear();
        if let Some(h) = self.rec.history.as_mut() {
            h.crashed(self.queue.now(), id);
        }
        n.backlog_used = 0;
        n.model.crash(&n.pristine);
        // A dead database node accepts no writes (it cannot say so itself).
        if let Some(cluster) = n.model.final_data().map(|f| f.cluster)
            && let Some(h) = self.rec.history.as_mut()
        {
            h.set_writable(self.queue.now(), cluster, id, None);
        }
        if state == ProcState::Killed {
            for (peer, call) in peers {
                self.send_reset(id, peer, call);
            }
        }
    }

    fn send_reset(&mut self, from: NodeId, to: NodeId, call: CallRef) {
        let (fh, th) = (self.hosts_of[from as usize], self.hosts_of[to as usize]);
        let d = self.net.delay(fh, th);
        let msg = Msg {
            from,
            to,
            vip: None,
            call,
            kind: MsgKind::Reset,
            peer: NO_PEER,
            retx: 0,
        };
        self.queue.schedule_after(d, Event::Deliver(msg));
    }

    /// A process starts: at the beginning (booted `boot` ago), or afresh
    /// (restart, power on).
    pub(super) fn start_process(&mut self, id: NodeId, boot: Boot) {
        let n = &mut self.nodes[id as usize];
        n.state = ProcState::Running;
        n.frozen.clear();
        n.backlog_used = 0;
        self.with_node(id, |m, ctx, rng| m.start(ctx, rng, boot));
    }

    /// SIGCONT: the process handles, in order, what arrived while stopped.
    fn continue_process(&mut self, id: NodeId) {
        let now = self.queue.now();
        let n = &mut self.nodes[id as usize];
        if n.state != ProcState::Stopped {
            return;
        }
        n.state = ProcState::Running;
        n.backlog_used = 0;
        if let Some(h) = self.rec.history.as_mut() {
            h.resume(now, id);
        }
        for ev in std::mem::take(&mut n.frozen) {
            // A caller that gave up closed its socket: nothing to serve.
            if let Event::Deliver(Msg {
                from,
                call,
                kind: MsgKind::Connect(_),
                ..
            }) = ev
                && !self.nodes[from as usize].model.is_call_live(call)
            {
                continue;
            }
            let ev = match ev {
                Event::Deliver(
                    m @ Msg {
                        kind: MsgKind::Connect(_),
                        ..
                    },
                ) => Event::Accept(m),
                other => other,
            };
            self.queue.schedule(now, ev);
        }
    }

    fn node_id(&self, name: &str) -> NodeId {
        self.names
            .iter()
            .position(|n| n == name)
            .expect("validated fault target") as NodeId
    }

    /// A host name, or a node name meaning its host.
    fn host_id(&self, name: &str) -> u32 {
        match self.net.hosts.iter().position(|h| h.name == name) {
            Some(h) => h as u32,
            None => self.hosts_of[self.node_id(name) as usize],
        }
    }
}
