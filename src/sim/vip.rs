//! The kernel's part of virtual IPs ([`crate::net::vip`]): a message to a VIP
//! that leaves after it was sent (a batch of arrivals, a retransmission), and
//! the run's VIPs.

use super::Sim;
use crate::net::{Garp, HostId, VipId};
use crate::process::{Event, Msg, NodeId};

impl Sim {
    /// A message to a VIP leaves its sender now: to the holder the sender's
    /// ARP cache names then, or nowhere when ARP fails (as for a powered-off
    /// host: EHOSTUNREACH from the sender's own kernel on the same subnet).
    /// Out of line, like every VIP path: the event loop of runs without VIPs
    /// stays as fast as before.
    #[cold]
    #[inline(never)]
    pub(super) fn depart(&mut self, msg: Msg) {
        let v = msg.vip.expect("only messages to a VIP depart later");
        let fh = self.hosts_of[msg.from as usize];
        match self.net.resolve(v, fh, self.queue.now()) {
            Some(to) => {
                let d = self.net.delay(fh, self.hosts_of[to as usize]);
                let msg = Msg { to, ..msg };
                self.queue.schedule_after(d, Event::Deliver(msg));
            }
            None => self.not_delivered(
                Msg {
                    to: msg.from,
                    ..msg
                },
                true,
            ),
        }
    }

    /// A gratuitous ARP lands.
    #[cold]
    #[inline(never)]
    pub(super) fn gratuitous_arp(&mut self, g: Garp) {
        self.net.gratuitous_arp(g, self.queue.now());
    }

    /// A VIP held by nobody yet, served on each listener's host by that
    /// listener (one per host). Products claim it through their context.
    pub fn add_vip(&mut self, listeners: &[NodeId]) -> VipId {
        let by_host: Vec<(HostId, NodeId)> = listeners
            .iter()
            .map(|&n| (self.hosts_of[n as usize], n))
            .collect();
        self.net.vips.add(self.net.hosts.len(), &by_host)
    }
}

#[cfg(test)]
mod tests {
    //! A client sends to a VIP served by `s1` (10 ms a request) or `s2` (30
    //! ms), each on its own host, every hop 0.1 ms: a request's latency says
    //! who served it. No product claims VIPs yet, so the tests claim and
    //! release them through the servers' contexts.

    use super::*;
    use crate::engine::SimTime;
    use crate::net::Addr;
    use crate::products::Model;
    use crate::products::client::driver::Driver;
    use crate::report::testutil::Shared;

    const MS: u64 = 1_000_000;
    const US: u64 = 1_000;
    const S: u64 = 1_000_000_000;
    /// Served by s1, s2: service plus two hops.
    const BY_S1: u64 = 10 * MS + 200 * US;
    const BY_S2: u64 = 30 * MS + 200 * US;

    /// One request as the client saw it: issue instant, latency, outcome.
    #[derive(Debug, PartialEq)]
    struct Req {
        start: u64,
        latency: u64,
        outcome: String,
    }

    struct Run {
        sim: Sim,
        trace: Shared,
        vip: VipId,
        s1: NodeId,
        s2: NodeId,
    }

    /// The experiment with client `load` (its `[clients.load]` body in
    /// `load`) sending to a VIP served by s1 and s2, held by nobody yet.
    fn setup(load: &str, network: &str) -> Run {
        let toml = format!(
            r#"
[experiment]
duration = "20s"
[network]
latency = "0.1ms"
{network}
[clients.load]
target = "s1"
{load}
[servers.s1]
service = "10ms"
[servers.s2]
service = "30ms"
"#
        );
        let spec = crate::config::parse(&toml, "vip.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut sim = Sim::new(&spec, 1);
        let trace = Shared::default();
        sim.rec.trace = Some(Box::new(trace.clone()));
        let id = |name: &str| sim.names.iter().position(|n| n == name).unwrap() as NodeId;
        let (client, s1, s2) = (id("load"), id("s1"), id("s2"));
        let vip = sim.add_vip(&[s1, s2]);
        let node = &mut sim.nodes[client as usize];
        for m in [&mut node.model, &mut node.pristine] {
            let Model::Client(c) = m else {
                panic!("a client")
            };
            c.driver = Driver::Direct(Addr::Vip(vip));
        }
        Run {
            sim,
            trace,
            vip,
            s1,
            s2,
        }
    }

    /// Constant open-loop arrivals every 100 ms from 0, new connection each.
    const OPEN: &str = r#"type = "open"
rate = 10
arrivals = "constant"
timeout = "10s""#;

    impl Run {
        /// Runs to `t` (inclusive) and lets the test act at `t`.
        fn until(&mut self, t: u64) -> &mut Self {
            self.sim.run_until(SimTime(t));
            self.sim.queue.advance_to(SimTime(t));
            self
        }

        fn claim(&mut self, node: NodeId) -> &mut Self {
            let v = self.vip;
            self.sim.with_node(node, |_, ctx, _| ctx.claim_vip(v, 1));
            self
        }

        fn release(&mut self, node: NodeId) -> &mut Self {
            let v = self.vip;
            self.sim.with_node(node, |_, ctx, _| ctx.release_vip(v));
            self
        }

        /// Runs to the end: the requests in issue order.
        fn finish(mut self) -> Vec<Req> {
            self.sim.run();
            let text = String::from_utf8(self.trace.0.borrow().clone()).unwrap();
            let ns = |s: &str| {
                let (whole, frac) = s.split_once('.').expect("9 decimals");
                whole.parse::<u64>().unwrap() * S + frac.parse::<u64>().unwrap()
            };
            let mut reqs: Vec<Req> = text
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    let (start, end) = (ns(f[0]), ns(f[1]));
                    Req {
                        start,
                        latency: end - start,
                        outcome: f[3].to_string(),
                    }
                })
                .collect();
            reqs.sort_by_key(|r| r.start);
            reqs
        }
    }

    fn client(r: &Run) -> NodeId {
        r.sim.names.iter().position(|n| n == "load").unwrap() as NodeId
    }

    fn issued(reqs: &[Req], from: u64, to: u64) -> Vec<&Req> {
        reqs.iter()
            .filter(|r| r.start >= from && r.start < to)
            .collect()
    }

    fn all_served(reqs: &[&Req], latency: u64) {
        assert!(!reqs.is_empty());
        for r in reqs {
            assert_eq!((r.outcome.as_str(), r.latency), ("200", latency), "{r:?}");
        }
    }

    /// The move happens 50 µs before the request of 5 s leaves; the GARP
    /// reaches the client 100 µs after the move.
    const MOVE: u64 = 5 * S - 50 * US;

    #[test]
    fn requests_follow_the_vip_once_the_new_holders_garp_arrives() {
        let mut r = setup(OPEN, "");
        let (s1, s2) = (r.s1, r.s2);
        r.claim(s1);
        r.until(MOVE).release(s1).claim(s2);
        let reqs = r.finish();
        all_served(&issued(&reqs, 0, MOVE), BY_S1);
        // Sent before the GARP: to s1's MAC, dropped there (no longer its
        // address); the SYN's retransmission 1 s later reaches s2.
        let stale = issued(&reqs, MOVE, MOVE + 100 * US);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].start, 5 * S);
        assert_eq!(stale[0].outcome, "200");
        assert_eq!(stale[0].latency, 100 * US + S + BY_S2);
        all_served(&issued(&reqs, MOVE + 100 * US, 20 * S), BY_S2);
    }

    #[test]
    fn a_request_to_a_dead_old_holder_is_lost_until_the_garp() {
        let network = r#"[[faults]]
kind = "power-off"
target = "s1"
at = "4.99995s""#;
        let mut r = setup(OPEN, network);
        let (s1, s2) = (r.s1, r.s2);
        r.claim(s1);
        // Powered off, s1's host lost the address; s2 takes it.
        r.until(MOVE).claim(s2);
        let reqs = r.finish();
        all_served(&issued(&reqs, 0, MOVE), BY_S1);
        // Not EHOSTUNREACH (the entry needs no ARP): the SYN is lost and
        // its retransmission goes to s2.
        let stale = issued(&reqs, MOVE, MOVE + 100 * US);
        assert_eq!((stale.len(), stale[0].latency), (1, 100 * US + S + BY_S2));
        all_served(&issued(&reqs, MOVE + 100 * US, 20 * S), BY_S2);
    }

    #[test]
    fn a_kept_connection_is_reset_by_the_new_holder() {
        // One VU: a request on its kept connection every second.
        let closed = r#"type = "closed"
vus = 1
keep_alive = true
iteration = [{ request = "GET" }, { sleep = "1s" }]
timeout = "10s""#;
        let mut r = setup(closed, "");
        let (s1, s2) = (r.s1, r.s2);
        r.claim(s1);
        r.until(3 * S + 500 * MS).release(s1).claim(s2);
        let reqs = r.finish();
        assert!(reqs.len() > 10);
        // Before: s1 on one connection, opened by the first request.
        let before = issued(&reqs, 0, 3500 * MS);
        assert_eq!(before.len(), 4);
        all_served(&before, BY_S1);
        // The next request on it reaches s2, which knows no such connection:
        // RST after one round trip. The VU then connects to s2 afresh.
        let reset = &reqs[4];
        assert_eq!((reset.outcome.as_str(), reset.latency), ("reset", 200 * US));
        all_served(&reqs[5..].iter().collect::<Vec<_>>(), BY_S2);
    }

    #[test]
    fn a_vip_nobody_holds_is_an_unreachable_host_on_the_same_subnet() {
        let mut r = setup(OPEN, "");
        let s1 = r.s1;
        r.until(9 * S + 950 * MS).claim(s1);
        let reqs = r.finish();
        // ARP gets no answer: EHOSTUNREACH after 3 s, as for a host that is off.
        for q in issued(&reqs, 0, 9950 * MS) {
            assert_eq!(
                (q.outcome.as_str(), q.latency),
                ("unreachable", 3 * S),
                "{q:?}"
            );
        }
        // Once held, the first packet's ARP finds the holder.
        all_served(&issued(&reqs, 10 * S, 20 * S), BY_S1);
    }

    #[test]
    fn a_vip_nobody_holds_on_another_subnet_is_silence() {
        let mut r = setup(OPEN, "same_subnet = false");
        let s1 = r.s1;
        r.until(8 * S + 50 * MS).claim(s1);
        let reqs = r.finish();
        // SYNs retransmitted at 1 s, 3 s, 7 s... find the holder once it is.
        let q = issued(&reqs, 0, 1)[0];
        assert_eq!((q.outcome.as_str(), q.latency), ("timeout", 10 * S));
        let q = issued(&reqs, 5 * S, 5 * S + 1)[0];
        assert_eq!(q.latency, 7 * S + BY_S1, "{q:?}");
        all_served(&issued(&reqs, 9 * S, 20 * S), BY_S1);
    }

    #[test]
    fn a_partitioned_host_misses_the_garp() {
        let mut r = setup(OPEN, "");
        let (s1, s2) = (r.s1, r.s2);
        let host = |n: NodeId| r.sim.hosts_of[n as usize];
        let groups = [vec![host(r.s2)], vec![host(client(&r))]];
        r.claim(s1);
        r.sim.net.partition(&groups, false, true);
        r.until(MOVE).release(s1).claim(s2);
        r.until(MOVE + MS);
        r.sim.net.partition(&groups, false, false);
        let reqs = r.finish();
        // The client (host 0) still sends to s1, which drops every SYN.
        for q in issued(&reqs, MOVE, 10 * S) {
            assert_eq!(q.outcome, "timeout", "{q:?}");
        }
    }
    /// A burst of GARPs reaches a host unless random loss eats every copy:
    /// at 50 % loss one copy gets through about half the time, ten nearly
    /// always (`garp_master_repeat`).
    #[test]
    fn more_copies_in_a_garp_burst_survive_loss_more_often() {
        let sent = |copies: u32| {
            let mut r = setup(OPEN, "loss = 0.5");
            let (v, s2) = (r.vip, r.s2);
            let before = r.sim.queue.len();
            for _ in 0..200 {
                r.sim.with_node(s2, |_, ctx, _| ctx.claim_vip(v, copies));
            }
            // Two other hosts (load, s1) per claim.
            r.sim.queue.len() - before
        };
        let (one, ten) = (sent(1), sent(10));
        assert!((150..250).contains(&one), "one copy: {one} of 400");
        assert!(ten >= 398, "ten copies: {ten} of 400");
    }
}
