//! Addresses: a node, or a virtual IP that moves between hosts (keepalived's
//! VRRP address), and what each host's ARP cache believes about it.
//!
//! Modelling choices (Linux neighbour tables; keepalived's vrrp_arp.c sends
//! the gratuitous ARPs):
//! - A VIP is held by hosts, not processes (`ip addr add`): a process claims
//!   it for its host and releases it; a powered-off host loses it. A
//!   SIGKILLed claimer leaves it in place, as keepalived killed -9 does. Two
//!   hosts may hold it at once (a VRRP split brain).
//! - A VIP is an address and a port: on each host at most one process
//!   listens for it (its listener, e.g. that host's balancer). Only a host
//!   with a listener may claim it, so every address resolves to a process.
//! - A host that holds the VIP sends to its own listener (the local route).
//! - Another host sends where its ARP entry for the VIP points. The entry is
//!   made by the host's first packet to the VIP (an ARP request, answered by
//!   the newest holder it can reach both ways; with none, ARP fails as for a
//!   powered-off host). It then changes only when a gratuitous ARP arrives:
//!   a claim broadcasts one, which reaches each host one hop later (that
//!   link's latency from the new holder) if the network lets it through on
//!   arrival. Linux (arp_accept = 0) lets a GARP update an entry, not make
//!   one. A burst of `garp_master_repeat` copies is one message here, lost
//!   only if random loss eats every copy; a partition drops it.
//! - An entry is confirmed when it is made, by a GARP, and by every packet
//!   that reaches a holder through it (Linux confirms a neighbour on TCP's
//!   forward progress). One that points to a host no longer holding the
//!   VIP is given up [`ARP_STALE`] after its last confirmation: reachable
//!   time (base 30 s, drawn in 15–45 s: its mean), `delay_first_probe_time`
//!   5 s and 3 unicast probes 1 s apart, which the old host does not answer
//!   for an address it dropped; the next packet then asks anew. Claiming
//!   again re-sends the GARP (keepalived's second burst after
//!   `garp_master_delay`, `garp_master_refresh`), which is usually sooner.
//! - A packet for the VIP that reaches a host not holding it (any more) is
//!   dropped: not a local address, and with `ip_forward` off not routed.
//!   TCP retransmits it, resolved afresh when it leaves again. One sent to
//!   a powered-off old holder is lost the same way: the entry needs no ARP,
//!   so no EHOSTUNREACH (that is for a VIP nobody holds, or an unknown one).
//! - A connection made with the old holder: its next segments reach the new
//!   holder, which has no such socket and answers RST (real failovers reset
//!   kept connections, keepalived.md §6). No kernel rule is needed: every
//!   model checks a segment's connection slot against (sender, call) and
//!   resets what it does not know, as the new holder's kernel would.
//! - With `same_subnet = false` each host's cache stands for its router's.

use super::HostId;
use crate::engine::SimTime;
use crate::process::NodeId;
use std::num::NonZeroU16;

/// How long after its last confirmation an entry pointing to a host that
/// dropped the VIP is given up: reachable time 30 s (the mean of Linux's
/// 15–45 s) + delay_first_probe_time 5 s + ucast_probes 3 x 1 s.
pub const ARP_STALE: crate::engine::Dur = crate::engine::Dur::from_secs(38);

/// A virtual IP of the run. Two bytes, so that a message can carry one
/// without growing the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VipId(NonZeroU16);

impl VipId {
    fn new(index: usize) -> VipId {
        let n = u16::try_from(index + 1).expect("fewer than 65535 VIPs");
        VipId(NonZeroU16::new(n).expect("index + 1 > 0"))
    }

    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// Where a model sends: a node, or whoever holds a VIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    Node(NodeId),
    Vip(VipId),
}

impl From<NodeId> for Addr {
    #[inline]
    fn from(n: NodeId) -> Addr {
        Addr::Node(n)
    }
}

impl From<VipId> for Addr {
    #[inline]
    fn from(v: VipId) -> Addr {
        Addr::Vip(v)
    }
}

/// A gratuitous ARP on its way: host `from` announces `vip` to host `to`.
/// A struct of four-byte alignment, so that the event carrying it keeps a
/// four-byte tag (a bare two-byte field made it two, and every message copy
/// slower).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Garp {
    pub vip: VipId,
    pub from: HostId,
    pub to: HostId,
}

struct Vip {
    /// The process listening for the VIP on each host, by host.
    listener: Vec<Option<NodeId>>,
    /// Hosts holding it, the newest claim last.
    holders: Vec<HostId>,
    /// Each host's ARP entry: the host whose MAC it sends the VIP's packets
    /// to, and when the entry was last confirmed.
    arp: Vec<Option<(HostId, SimTime)>>,
}

/// Two hosts or more holding one VIP at once (a VRRP split brain): the
/// safety figure of a VIP, as split-brain is a database's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoHolders {
    pub vip: VipId,
    pub from: SimTime,
    pub to: SimTime,
    /// Every host that held it during the interval.
    pub hosts: Vec<HostId>,
}

/// The run's VIPs (none unless a product uses them).
#[derive(Default)]
pub struct VipTable {
    vips: Vec<Vip>,
    /// Their names, as the experiment gives them (set by the run's build).
    pub names: Vec<String>,
    /// Closed intervals of two holders or more, in the order they ended.
    pub two_holders: Vec<TwoHolders>,
    /// The open one of each VIP: since when, and its hosts so far.
    open: Vec<Option<(SimTime, Vec<HostId>)>>,
}

impl VipTable {
    /// A new VIP held by nobody, served on each host of `listeners` by its
    /// node; `hosts` is the number of hosts.
    pub fn add(&mut self, hosts: usize, listeners: &[(HostId, NodeId)]) -> VipId {
        let mut listener = vec![None; hosts];
        for &(h, n) in listeners {
            assert!(listener[h as usize].is_none(), "one listener per host");
            listener[h as usize] = Some(n);
        }
        self.vips.push(Vip {
            listener,
            holders: Vec::new(),
            arp: vec![None; hosts],
        });
        VipId::new(self.vips.len() - 1)
    }

    /// Whether host `h` holds `v` now.
    #[inline]
    pub fn holds(&self, v: VipId, h: HostId) -> bool {
        self.vips[v.index()].holders.contains(&h)
    }

    /// Host `h` takes `v` (again: it becomes the newest holder).
    pub fn claim(&mut self, v: VipId, h: HostId) {
        let vip = &mut self.vips[v.index()];
        assert!(
            vip.listener[h as usize].is_some(),
            "a VIP is claimed only where one of its listeners runs"
        );
        vip.holders.retain(|&x| x != h);
        vip.holders.push(h);
    }

    /// Host `h` gives `v` up (nothing if it did not hold it).
    pub fn release(&mut self, v: VipId, h: HostId) {
        self.vips[v.index()].holders.retain(|&x| x != h);
    }

    /// Host `h` lost power: its addresses go with it.
    pub fn host_down(&mut self, h: HostId) {
        for vip in &mut self.vips {
            vip.holders.retain(|&x| x != h);
        }
    }

    /// A gratuitous ARP from `holder` reached host `at` at `now`.
    pub fn gratuitous_arp(&mut self, v: VipId, holder: HostId, at: HostId, now: SimTime) {
        if let Some(entry) = &mut self.vips[v.index()].arp[at as usize] {
            *entry = (holder, now);
        }
    }

    /// A packet from host `from` reached holder `at` through its entry.
    #[inline]
    pub fn confirm(&mut self, v: VipId, from: HostId, at: HostId, now: SimTime) {
        if let Some(entry) = &mut self.vips[v.index()].arp[from as usize]
            && entry.0 == at
        {
            entry.1 = now;
        }
    }

    /// The process a packet from host `from` to `v` goes to at `now`, if
    /// `from` holds `v` (the local route) or has an ARP entry for it that
    /// was not given up ([`ARP_STALE`]).
    pub fn known(&self, v: VipId, from: HostId, now: SimTime) -> Option<NodeId> {
        let vip = &self.vips[v.index()];
        let h = if vip.holders.contains(&from) {
            from
        } else {
            let (h, confirmed) = vip.arp[from as usize]?;
            if !vip.holders.contains(&h) && now.since(confirmed) >= ARP_STALE {
                return None;
            }
            h
        };
        vip.listener[h as usize]
    }

    /// After a change of holders at `now`: opens or closes each VIP's
    /// interval of two holders or more.
    pub fn track(&mut self, now: SimTime) {
        self.open.resize(self.vips.len(), None);
        for (i, vip) in self.vips.iter().enumerate() {
            let many = vip.holders.len() >= 2;
            match (&mut self.open[i], many) {
                (None, true) => self.open[i] = Some((now, vip.holders.clone())),
                (Some((_, hosts)), true) => {
                    for h in &vip.holders {
                        if !hosts.contains(h) {
                            hosts.push(*h);
                        }
                    }
                }
                (Some(_), false) => {
                    let (from, hosts) = self.open[i].take().expect("open");
                    self.two_holders.push(TwoHolders {
                        vip: VipId::new(i),
                        from,
                        to: now,
                        hosts,
                    });
                }
                (None, false) => {}
            }
        }
    }

    /// Every interval of two holders or more, those still open closed at `end`.
    pub fn two_holders_until(&self, end: SimTime) -> Vec<TwoHolders> {
        let mut out = self.two_holders.clone();
        for (i, o) in self.open.iter().enumerate() {
            if let Some((from, hosts)) = o {
                out.push(TwoHolders {
                    vip: VipId::new(i),
                    from: *from,
                    to: end,
                    hosts: hosts.clone(),
                });
            }
        }
        out.sort_by_key(|t| (t.from, t.vip));
        out
    }

    /// Hosts holding `v`, the newest claim last.
    pub fn holders(&self, v: VipId) -> &[HostId] {
        &self.vips[v.index()].holders
    }

    /// `holder` answered `from`'s ARP request for `v` at `now`: the entry
    /// it makes, and the process the packet goes to.
    pub fn learn(&mut self, v: VipId, from: HostId, holder: HostId, now: SimTime) -> NodeId {
        let vip = &mut self.vips[v.index()];
        vip.arp[from as usize] = Some((holder, now));
        vip.listener[holder as usize].expect("holders have a listener")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Network;

    const T0: SimTime = SimTime(0);

    /// Three hosts; one VIP served by node 10 on host 0 and node 11 on host
    /// 1; host 2 sends.
    fn net() -> (Network, VipId) {
        let mut n = crate::net::tests::net(3);
        let v = n.vips.add(3, &[(0, 10), (1, 11)]);
        (n, v)
    }

    #[test]
    fn a_vip_nobody_holds_does_not_resolve() {
        let (mut n, v) = net();
        assert_eq!(n.resolve(v, 2, T0), None);
    }

    #[test]
    fn the_first_packet_learns_the_newest_holder_and_keeps_it_until_a_garp() {
        let (mut n, v) = net();
        n.vips.claim(v, 0);
        assert_eq!(n.resolve(v, 2, T0), Some(10));
        n.vips.release(v, 0);
        n.vips.claim(v, 1);
        assert_eq!(n.resolve(v, 2, T0), Some(10), "stale entry");
        n.gratuitous_arp(
            Garp {
                vip: v,
                from: 1,
                to: 2,
            },
            T0,
        );
        assert_eq!(n.resolve(v, 2, T0), Some(11));
    }

    #[test]
    fn a_garp_neither_makes_an_entry_nor_crosses_a_partition() {
        let (mut n, v) = net();
        n.vips.claim(v, 0);
        n.gratuitous_arp(
            Garp {
                vip: v,
                from: 0,
                to: 2,
            },
            T0,
        );
        n.vips.claim(v, 1);
        assert_eq!(n.resolve(v, 2, T0), Some(11), "newest holder");
        n.vips.claim(v, 0);
        n.partition(&[vec![0], vec![2]], false, true);
        n.gratuitous_arp(
            Garp {
                vip: v,
                from: 0,
                to: 2,
            },
            T0,
        );
        assert_eq!(n.resolve(v, 2, T0), Some(11));
    }

    #[test]
    fn a_holder_sends_to_itself_and_arp_skips_holders_that_cannot_answer() {
        let (mut n, v) = net();
        n.vips.claim(v, 1);
        n.vips.claim(v, 0);
        n.set_blackholed(0, true);
        assert_eq!(n.resolve(v, 1, T0), Some(11));
        assert_eq!(n.resolve(v, 2, T0), Some(11));
        n.vips.host_down(1);
        assert!(!n.vips.holds(v, 1) && n.vips.holds(v, 0));
    }

    #[test]
    fn an_entry_to_a_host_that_dropped_the_vip_is_given_up_once_stale() {
        let (mut n, v) = net();
        n.vips.claim(v, 0);
        assert_eq!(n.resolve(v, 2, T0), Some(10));
        // Confirmed by traffic until 10 s, then host 0 drops the VIP and
        // host 1 takes it without a GARP reaching host 2.
        let at = |s: u64| SimTime(s * 1_000_000_000);
        n.vips.confirm(v, 2, 0, at(10));
        n.vips.release(v, 0);
        n.vips.claim(v, 1);
        assert_eq!(n.resolve(v, 2, at(47)), Some(10), "still probing");
        assert_eq!(n.resolve(v, 2, at(48)), Some(11), "asked anew");
        // An entry to a host that still holds the VIP never goes stale.
        assert_eq!(n.resolve(v, 2, at(500)), Some(11));
    }

    #[test]
    fn two_holders_at_once_are_recorded_as_an_interval() {
        let (mut n, v) = net();
        n.vips.claim(v, 0);
        n.vips.track(SimTime(1));
        n.vips.claim(v, 1);
        n.vips.track(SimTime(5));
        n.vips.release(v, 0);
        n.vips.track(SimTime(9));
        n.vips.claim(v, 0);
        n.vips.track(SimTime(12));
        let t = n.vips.two_holders_until(SimTime(20));
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].from, t[0].to, t[0].hosts.clone()),
            (SimTime(5), SimTime(9), vec![0, 1])
        );
        assert_eq!((t[1].from, t[1].to), (SimTime(12), SimTime(20)));
    }

    #[test]
    #[should_panic(expected = "listeners")]
    fn only_a_host_with_a_listener_may_claim() {
        let (mut n, v) = net();
        n.vips.claim(v, 2);
    }
}
