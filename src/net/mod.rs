//! Hosts, links and what happens to a packet on its way.
//!
//! The network decides *whether* and *when* a message arrives; what the
//! receiving kernel does with it (accept, RST, backlog) is in [`crate::sim`].
//!
//! Modelling choices (README, "Network"):
//! - Latency is one-way per hop: a base plus optional jitter, per host pair.
//! - Reachability is judged when a message *arrives*, so a partition or a
//!   blackhole also catches messages already in flight.
//! - A lost or dropped SYN is retransmitted by the sender's kernel after
//!   `syn_rto`, doubling, `syn_retries` times (Linux: 1s, 3s, 7s, ...), as long
//!   as the caller still waits; Linux 6.5+ first resends
//!   `syn_linear_timeouts` more at a fixed `syn_rto` ([`Network::syn_wait`]).
//!   A dropped data segment is resent after `rto_min`, doubling.
//! - The TCP handshake is folded into the first message of a connection: the
//!   SYN carries the request, and the receiving kernel's verdict (accepted,
//!   refused, dropped) is applied when it arrives.
//! - An address is a node or a virtual IP ([`vip`]): a VIP is resolved when
//!   a packet leaves, through the sender's ARP cache.

pub mod latency;
pub mod vip;

pub use latency::Latency;
pub use vip::{Addr, Garp, VipId, VipTable};

use crate::config::spec::NetworkSpec;
use crate::engine::{Dur, Rng, SimTime};
use crate::process::NodeId;
use rand::Rng as _;
use std::collections::HashMap;

pub type HostId = u32;

/// The name of a host's one network interface: every connection hasim
/// models goes through it. A `link-down` fault may name another interface,
/// which carries nothing modelled: only the daemons tracking it notice.
pub const HOST_INTERFACE: &str = "eth0";

/// An interface name as Linux bounds it (IFNAMSIZ: 15 bytes and a NUL),
/// kept inline so a link event is a plain value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfName {
    len: u8,
    bytes: [u8; 15],
}

impl IfName {
    /// `None` unless 1 to 15 bytes without '/', whitespace or ':' (what
    /// the kernel's dev_valid_name accepts, less the alias colon).
    pub fn new(name: &str) -> Option<IfName> {
        let ok = (1..=15).contains(&name.len())
            && name != "."
            && name != ".."
            && !name
                .bytes()
                .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace());
        ok.then(|| {
            let mut bytes = [0; 15];
            bytes[..name.len()].copy_from_slice(name.as_bytes());
            IfName {
                len: name.len() as u8,
                bytes,
            }
        })
    }

    /// The host's own interface, [`HOST_INTERFACE`].
    pub fn host() -> IfName {
        IfName::new(HOST_INTERFACE).expect("a valid name")
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("built from a str")
    }
}

impl std::fmt::Debug for IfName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for IfName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    /// Powered on ([`Network::set_powered`] keeps [`Network::whole`] true to it).
    powered: bool,
    /// Every packet to or from it is dropped ([`Network::set_blackholed`]).
    blackholed: bool,
    /// Its interfaces whose link is down ([`Network::set_link`]).
    links_down: Vec<IfName>,
}

impl Host {
    #[inline]
    pub fn powered(&self) -> bool {
        self.powered
    }

    #[inline]
    pub fn blackholed(&self) -> bool {
        self.blackholed
    }

    /// Whether the link of interface `name` is up.
    pub fn link_up(&self, name: IfName) -> bool {
        !self.links_down.contains(&name)
    }

    /// Nothing gets in or out: blackholed, or its interface's link down.
    fn cut_off(&self) -> bool {
        self.blackholed || !self.link_up(IfName::host())
    }
}

/// An active partition: each host's group (0 = not part of it).
#[derive(Clone, Debug, PartialEq)]
struct Partition {
    group_of: Vec<u8>,
    one_way: bool,
}

impl Partition {
    /// Packets from `from` to `to` are dropped by this partition.
    #[inline]
    fn blocks(&self, from: HostId, to: HostId) -> bool {
        let (gf, gt) = (self.group_of[from as usize], self.group_of[to as usize]);
        gf != 0 && gt != 0 && gf != gt && (!self.one_way || gf == 1)
    }
}

/// The network's state. Memory is linear in the number of hosts: latency and
/// loss are a default plus per-link overrides, partitions a group per host.
pub struct Network {
    pub hosts: Vec<Host>,
    partitions: Vec<Partition>,
    /// No host is off or blackholed and no partition is on: every packet can
    /// get through, answered by [`Network::reachable`] with one load (the
    /// full test cost 4 % of bench-steady's time, once per message).
    whole: bool,
    /// Per host: powered and not cut off. Rebuilt when a fault changes a
    /// host, so that a run with one host down (`whole` false for good) pays
    /// two loads per packet, not the hosts' fields and interface names
    /// (measured: 5 % of check-interval's sweep).
    talks: Vec<bool>,
    latency: Latency,
    loss: f64,
    /// `[[network.links]]` overrides, both directions.
    links: HashMap<(HostId, HostId), (Latency, f64)>,
    /// Every hop's latency, when all are the same and jitter-free: the
    /// common case answered without a lookup or a match (measured: 3 % of
    /// bench-steady's instructions went to `delay`).
    uniform: Option<Dur>,
    any_loss: bool,
    pub same_subnet: bool,
    pub arp_timeout: Dur,
    pub syn_rto: Dur,
    pub syn_retries: u32,
    /// SYNs resent at a fixed `syn_rto` before the doubling (Linux 6.5+).
    pub syn_linear_timeouts: u32,
    pub rto_min: Dur,
    /// Data segments are retransmitted at most this often (Linux tcp_retries2 = 15).
    pub data_retries: u32,
    pub vips: VipTable,
    rng: Rng,
}

impl Network {
    pub fn new(spec: &NetworkSpec, host_names: &[String], rng: Rng) -> Network {
        let latency = Latency::from_spec(&spec.latency);
        let index = |name: &str| {
            host_names
                .iter()
                .position(|h| h == name)
                .map(|i| i as HostId)
        };
        let mut links = HashMap::new();
        for link in &spec.links {
            let (Some(a), Some(b)) = (index(&link.a), index(&link.b)) else {
                continue;
            };
            let l = link.latency.as_ref().map_or(latency, Latency::from_spec);
            let p = link.loss.unwrap_or(spec.loss);
            links.insert((a, b), (l, p));
            links.insert((b, a), (l, p));
        }
        Network {
            hosts: host_names
                .iter()
                .map(|name| Host {
                    name: name.clone(),
                    powered: true,
                    blackholed: false,
                    links_down: Vec::new(),
                })
                .collect(),
            partitions: Vec::new(),
            whole: true,
            talks: vec![true; host_names.len()],
            uniform: latency.constant().filter(|_| links.is_empty()),
            any_loss: spec.loss > 0.0 || links.values().any(|&(_, p)| p > 0.0),
            latency,
            loss: spec.loss,
            links,
            same_subnet: spec.same_subnet,
            arp_timeout: spec.arp_timeout,
            syn_rto: spec.syn_rto,
            syn_retries: spec.syn_retries,
            syn_linear_timeouts: spec.syn_linear_timeouts,
            rto_min: spec.rto_min,
            data_retries: 15,
            vips: VipTable::default(),
            rng,
        }
    }

    /// How long the kernel waits before resending a SYN it has resent
    /// `retx` times already, or `None` once it gives up. tcp_timer.c
    /// (6.5+): the RTO doubles only once the backoff exceeds
    /// tcp_syn_linear_timeouts, and SYN_SENT gives up after tcp_syn_retries
    /// plus tcp_syn_linear_timeouts retransmissions (defaults: waits of 1, 1,
    /// 1, 1, 1, 2, 4 up to 32 s, failing at 131 s instead of 127 s).
    pub fn syn_wait(&self, retx: u32) -> Option<Dur> {
        if retx >= self.syn_retries + self.syn_linear_timeouts {
            return None;
        }
        let doublings = retx.saturating_sub(self.syn_linear_timeouts).min(20);
        Some(Dur(self.syn_rto.0 << doublings))
    }

    /// One-way latency of the next packet from `from` to `to`. The
    /// constant case stays inline at every send; the rest is out of line
    /// (as one function LLVM kept it out of line whole: ~25 instructions
    /// per message for a constant, measured with cachegrind on bench-steady).
    #[inline(always)]
    pub fn delay(&mut self, from: HostId, to: HostId) -> Dur {
        match self.uniform {
            Some(d) => d,
            None => self.sampled_delay(from, to),
        }
    }

    #[inline(never)]
    fn sampled_delay(&mut self, from: HostId, to: HostId) -> Dur {
        let l = if self.links.is_empty() {
            self.latency
        } else {
            self.links
                .get(&(from, to))
                .map_or(self.latency, |&(l, _)| l)
        };
        l.sample(&mut self.rng)
    }

    /// The jitter-free latencies of the network, the default first (the
    /// most used), then the links' in increasing order: the delays whose
    /// hops the event queue keeps in FIFO lanes.
    pub fn constant_latencies(&self) -> Vec<Dur> {
        let mut links: Vec<Dur> = self
            .links
            .values()
            .filter_map(|&(l, _)| l.constant())
            .collect();
        links.sort();
        let mut all: Vec<Dur> = self.latency.constant().into_iter().collect();
        for d in links {
            if !all.contains(&d) {
                all.push(d);
            }
        }
        all
    }

    /// Whether the next packet from `from` to `to` is lost at random.
    #[inline]
    pub fn lost(&mut self, from: HostId, to: HostId) -> bool {
        if !self.any_loss {
            return false;
        }
        let p = self.links.get(&(from, to)).map_or(self.loss, |&(_, p)| p);
        p > 0.0 && self.rng.random::<f64>() < p
    }

    /// Whether a packet from `from` can reach `to` right now.
    #[inline]
    pub fn reachable(&self, from: HostId, to: HostId) -> bool {
        self.whole || self.reachable_now(from, to)
    }

    /// Out of line: inlined, its checks made every delivery of a network
    /// without faults longer (bench-steady +0.085 % instructions).
    #[inline(never)]
    fn reachable_now(&self, from: HostId, to: HostId) -> bool {
        self.talks[from as usize]
            && self.talks[to as usize]
            && !self.partitions.iter().any(|p| p.blocks(from, to))
    }

    /// The process a packet from host `from` to VIP `v` goes to, or `None`
    /// when ARP fails ([`vip`]: an ARP request and its answer need the way
    /// to a holder and back).
    #[inline]
    pub fn resolve(&mut self, v: VipId, from: HostId, now: SimTime) -> Option<NodeId> {
        if let Some(n) = self.vips.known(v, from, now) {
            return Some(n);
        }
        let holder = self
            .vips
            .holders(v)
            .iter()
            .rev()
            .copied()
            .find(|&h| self.reachable(from, h) && self.reachable(h, from))?;
        Some(self.vips.learn(v, from, holder, now))
    }

    /// A gratuitous ARP arrives; the network judges it on arrival, as any
    /// packet.
    pub fn gratuitous_arp(&mut self, g: Garp, now: SimTime) {
        if self.reachable(g.from, g.to) {
            self.vips.gratuitous_arp(g.vip, g.from, g.to, now);
        }
    }

    /// Drops packets between the groups (both ways, or from the first group to
    /// the others only when `one_way`) while `on`; hosts in no group are not
    /// affected. Turning it off removes exactly that partition.
    pub fn partition(&mut self, groups: &[Vec<HostId>], one_way: bool, on: bool) {
        let mut group_of = vec![0u8; self.hosts.len()];
        for (gi, g) in groups.iter().enumerate() {
            for &h in g {
                group_of[h as usize] = (gi + 1).min(255) as u8;
            }
        }
        let p = Partition { group_of, one_way };
        if on {
            self.partitions.push(p);
        } else if let Some(i) = self.partitions.iter().position(|q| *q == p) {
            self.partitions.remove(i);
        }
        self.refresh();
    }

    /// Host `h` is powered on (`true`) or off.
    pub fn set_powered(&mut self, h: HostId, on: bool) {
        self.hosts[h as usize].powered = on;
        self.refresh();
    }

    /// Every packet to or from host `h` is dropped (`true`), or none.
    pub fn set_blackholed(&mut self, h: HostId, on: bool) {
        self.hosts[h as usize].blackholed = on;
        self.refresh();
    }

    /// The link of interface `name` of host `h` goes up (`true`) or down.
    pub fn set_link(&mut self, h: HostId, name: IfName, up: bool) {
        let down = &mut self.hosts[h as usize].links_down;
        down.retain(|&l| l != name);
        if !up {
            down.push(name);
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        for (talks, h) in self.talks.iter_mut().zip(&self.hosts) {
            *talks = h.powered && !h.cut_off();
        }
        self.whole = self.partitions.is_empty() && self.talks.iter().all(|&t| t);
    }

    /// A random draw in [0, 1) from the network's stream (jitter of timers).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::spec::{Jitter, LatencySpec};

    pub(crate) fn net(n: usize) -> Network {
        let spec = NetworkSpec {
            latency: LatencySpec {
                base: Dur::from_us(100),
                jitter: Jitter::None,
            },
            loss: 0.0,
            same_subnet: true,
            arp_timeout: Dur::from_secs(3),
            syn_rto: Dur::from_secs(1),
            syn_retries: 6,
            kernel: "6.1".into(),
            syn_linear_timeouts: 0,
            rto_min: Dur::from_ms(200),
            links: vec![],
        };
        let names: Vec<String> = (0..n).map(|i| format!("h{i}")).collect();
        Network::new(&spec, &names, crate::engine::rng::stream(1, "net"))
    }

    /// Waits between SYN retransmissions until the kernel gives up, and the
    /// instant it gives up (ip-sysctl.rst: ~127 s before 6.5, ~131 s after).
    fn syn_schedule(n: &Network) -> (Vec<u64>, u64) {
        let mut waits = Vec::new();
        let mut retx = 0;
        while let Some(w) = n.syn_wait(retx) {
            waits.push(w.0 / 1_000_000_000);
            retx += 1;
        }
        // After the last retransmission the kernel waits one more RTO.
        let last = n.syn_rto.0 << retx.saturating_sub(n.syn_linear_timeouts).min(20);
        (
            waits.clone(),
            waits.iter().sum::<u64>() + last / 1_000_000_000,
        )
    }

    #[test]
    fn syn_timeouts_double_from_the_first_before_linux_6_5() {
        let n = net(1);
        assert_eq!(syn_schedule(&n), (vec![1, 2, 4, 8, 16, 32], 127));
    }

    #[test]
    fn linux_6_5_resends_four_more_syns_at_the_initial_rto() {
        let mut n = net(1);
        n.syn_linear_timeouts = 4;
        assert_eq!(
            syn_schedule(&n),
            (vec![1, 1, 1, 1, 1, 2, 4, 8, 16, 32], 131)
        );
    }

    #[test]
    fn one_way_partition_blocks_only_from_the_first_group() {
        let mut n = net(3);
        n.partition(&[vec![0], vec![1, 2]], true, true);
        assert!(!n.reachable(0, 1) && !n.reachable(0, 2));
        assert!(n.reachable(1, 0) && n.reachable(2, 0) && n.reachable(1, 2));
        n.partition(&[vec![0], vec![1, 2]], true, false);
        assert!(n.reachable(0, 1));
    }

    #[test]
    fn blackholed_and_powered_off_hosts_are_unreachable_both_ways() {
        let mut n = net(2);
        assert!(n.reachable(0, 1) && n.whole);
        n.set_blackholed(1, true);
        assert!(!n.reachable(0, 1) && !n.reachable(1, 0));
        n.set_blackholed(1, false);
        assert!(n.reachable(0, 1) && n.whole);
        n.set_powered(0, false);
        assert!(!n.reachable(0, 1) && !n.reachable(1, 0));
        n.set_powered(0, true);
        assert!(n.reachable(0, 1) && n.whole);
    }

    /// The formula `reachable` answered with before hosts' flags were
    /// precomputed: read from the hosts and partitions themselves.
    fn reachable_from_scratch(n: &Network, from: HostId, to: HostId) -> bool {
        let (f, t) = (&n.hosts[from as usize], &n.hosts[to as usize]);
        f.powered
            && t.powered
            && !f.cut_off()
            && !t.cut_off()
            && !n.partitions.iter().any(|p| p.blocks(from, to))
    }

    #[test]
    fn reachability_agrees_with_the_hosts_and_partitions_under_random_faults() {
        let mut rng = crate::engine::rng::stream(7, "faults");
        let other = IfName::new("eth1").expect("valid");
        for _ in 0..50 {
            let hosts = rng.random_range(1..7u32);
            let mut n = net(hosts as usize);
            let mut on: Vec<(Vec<Vec<HostId>>, bool)> = Vec::new();
            for _ in 0..60 {
                let h = rng.random_range(0..hosts);
                let up = rng.random_bool(0.6);
                match rng.random_range(0..6) {
                    0 => n.set_powered(h, up),
                    1 => n.set_blackholed(h, !up),
                    2 => n.set_link(h, IfName::host(), up),
                    3 => n.set_link(h, other, up),
                    4 => {
                        let groups: Vec<Vec<HostId>> = (0..rng.random_range(1..4))
                            .map(|_| (0..hosts).filter(|_| rng.random_bool(0.4)).collect())
                            .collect();
                        let one_way = rng.random_bool(0.3);
                        n.partition(&groups, one_way, true);
                        on.push((groups, one_way));
                    }
                    _ if !on.is_empty() => {
                        let (groups, one_way) = on.remove(rng.random_range(0..on.len()));
                        n.partition(&groups, one_way, false);
                    }
                    _ => {}
                }
                for f in 0..hosts {
                    for t in 0..hosts {
                        assert_eq!(n.reachable(f, t), reachable_from_scratch(&n, f, t));
                    }
                }
            }
        }
    }

    #[test]
    fn constant_latency_draws_nothing() {
        let mut n = net(2);
        assert_eq!(n.delay(0, 1), Dur::from_us(100));
    }
}
