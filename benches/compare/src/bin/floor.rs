//! The floor: the benchmark model as a hand-written loop over one std
//! BinaryHeap of (time, seq, event), with hasim's 5 events per request.
//! Nothing but the model: no framework, no dispatch, no allocation per event.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use hasim_compare::{
    BATCH, HOP_NS, Health, INTER_NS, Scenario, Server, Stats, args, exp_ns, next_up, rng,
};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Copy)]
enum Ev {
    /// The client draws its next BATCH arrivals.
    ClientWake,
    /// Hop 1 done: a request sent at t0 reaches the balancer.
    AtLb {
        t0: u64,
    },
    /// Hop 2 done: it reaches server `srv`.
    AtServer {
        t0: u64,
        srv: u32,
    },
    /// Worker `slot` of `srv` finishes (stale if `epoch` is past).
    Done {
        srv: u32,
        slot: u8,
        epoch: u32,
    },
    /// Hop 3 done: the answer (or the refusal) is back at the balancer.
    BackAtLb {
        t0: u64,
        ok: bool,
    },
    /// Hop 4 done: the client has its answer.
    AtClient {
        t0: u64,
        ok: bool,
    },
    CheckStart {
        srv: u32,
    },
    CheckDone {
        srv: u32,
    },
    Crash {
        srv: u32,
    },
    Recover {
        srv: u32,
    },
}

struct Entry {
    time: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    // Reversed: the max-heap pops the earliest (time, seq).
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

struct Sim {
    sc: Scenario,
    now: u64,
    seq: u64,
    heap: BinaryHeap<Entry>,
    client_rng: ChaCha8Rng,
    last_arrival: u64,
    health: Vec<Health>,
    cursor: usize,
    servers: Vec<Server>,
    server_rngs: Vec<ChaCha8Rng>,
    stats: Stats,
}

impl Sim {
    fn new(sc: Scenario, seed: u64) -> Sim {
        let n = sc.servers;
        let mut sim = Sim {
            now: 0,
            seq: 0,
            heap: BinaryHeap::with_capacity(1024),
            client_rng: rng(seed, 0),
            last_arrival: 0,
            health: vec![Health::default(); n],
            cursor: 0,
            servers: (0..n).map(|_| Server::new()).collect(),
            server_rngs: (0..n).map(|i| rng(seed, 1 + i as u64)).collect(),
            stats: Stats::default(),
            sc,
        };
        sim.at(0, Ev::ClientWake);
        for i in 0..n {
            sim.at(sim.sc.first_check_ns(i), Ev::CheckStart { srv: i as u32 });
        }
        for c in sim.sc.crashes.clone() {
            sim.at(
                c.at_ns,
                Ev::Crash {
                    srv: c.server as u32,
                },
            );
            sim.at(
                c.back_ns,
                Ev::Recover {
                    srv: c.server as u32,
                },
            );
        }
        sim
    }

    #[inline]
    fn at(&mut self, time: u64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            ev,
        });
    }

    /// Runs to the end of the scenario; returns the events processed.
    fn run(&mut self) -> u64 {
        let mut events = 0;
        while let Some(e) = self.heap.pop() {
            if e.time >= self.sc.end_ns {
                break;
            }
            self.now = e.time;
            events += 1;
            self.handle(e.ev);
        }
        events
    }

    #[inline]
    fn handle(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::ClientWake => self.client_wake(),
            Ev::AtLb { t0 } => match next_up(&self.health, &mut self.cursor) {
                Some(srv) => self.at(
                    now + HOP_NS,
                    Ev::AtServer {
                        t0,
                        srv: srv as u32,
                    },
                ),
                None => self.at(now + HOP_NS, Ev::AtClient { t0, ok: false }),
            },
            Ev::AtServer { t0, srv } => {
                let s = &mut self.servers[srv as usize];
                if !s.alive {
                    // Refused: the RST travels back.
                    return self.at(now + HOP_NS, Ev::BackAtLb { t0, ok: false });
                }
                if let Some(slot) = s.arrive(t0) {
                    let epoch = s.epoch;
                    self.start(srv, slot, epoch);
                }
            }
            Ev::Done { srv, slot, epoch } => {
                let s = &mut self.servers[srv as usize];
                if s.epoch != epoch {
                    return;
                }
                let (t0, more) = s.done(slot);
                self.at(now + HOP_NS, Ev::BackAtLb { t0, ok: true });
                if more {
                    self.start(srv, slot, epoch);
                }
            }
            Ev::BackAtLb { t0, ok } => self.at(now + HOP_NS, Ev::AtClient { t0, ok }),
            Ev::AtClient { t0, ok } => {
                if ok {
                    self.stats.ok(now - t0)
                } else {
                    self.stats.failed()
                }
            }
            Ev::CheckStart { srv } => {
                if self.servers[srv as usize].alive {
                    // Succeeds after one round trip.
                    self.at(now + 2 * HOP_NS, Ev::CheckDone { srv });
                } else {
                    // Refused at once.
                    self.health[srv as usize].record(false);
                    self.at(now + INTER_NS, Ev::CheckStart { srv });
                }
            }
            Ev::CheckDone { srv } => {
                self.health[srv as usize].record(true);
                self.at(now + INTER_NS, Ev::CheckStart { srv });
            }
            Ev::Crash { srv } => {
                for t0 in self.servers[srv as usize].crash() {
                    self.at(now + HOP_NS, Ev::BackAtLb { t0, ok: false });
                }
            }
            Ev::Recover { srv } => self.servers[srv as usize].recover(),
        }
    }

    fn client_wake(&mut self) {
        let gap_mean = 1e9 / self.sc.rate_per_s;
        let mut t = self.last_arrival;
        for _ in 0..BATCH {
            t += exp_ns(&mut self.client_rng, gap_mean);
            if t >= self.sc.end_ns {
                return;
            }
            self.at(t + HOP_NS, Ev::AtLb { t0: t });
        }
        self.last_arrival = t;
        self.at(t, Ev::ClientWake);
    }

    #[inline]
    fn start(&mut self, srv: u32, slot: u8, epoch: u32) {
        let service = exp_ns(&mut self.server_rngs[srv as usize], self.sc.service_mean_ns);
        self.at(self.now + service, Ev::Done { srv, slot, epoch });
    }
}

fn main() {
    let (sc, seed) = args();
    let mut sim = Sim::new(sc.clone(), seed);
    let events = sim.run();
    sim.stats.print(&sc, "floor", Some(events));
}
