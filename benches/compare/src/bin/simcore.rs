//! The benchmark model in SimCore (DSLab's simulation core), written the way
//! its docs and examples write a model: one component per node, each an
//! `EventHandler` holding its `SimulationContext`, messages as typed events
//! emitted to another component with a delay, the payload matched with
//! `cast!`. The constant 0.1 ms hops use `emit_ordered`, SimCore's documented
//! fast path for events created in time order (its deque instead of its
//! heap); delays that vary (service times, arrivals, checks) use `emit`.
//! Time is SimCore's f64 seconds; random draws come from SimCore's generator.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use hasim_compare::{BATCH, HOP_NS, Health, INTER_NS, NS_PER_S, Server, Stats, args, next_up};
use rand_distr_08::Exp1;
use serde::Serialize;
use simcore::{Event, EventHandler, Id, Simulation, SimulationContext, cast};

const HOP: f64 = HOP_NS as f64 / NS_PER_S as f64;
const INTER: f64 = INTER_NS as f64 / NS_PER_S as f64;

#[derive(Clone, Serialize)]
struct ClientWake {}
/// Client -> balancer, and balancer -> server.
#[derive(Clone, Serialize)]
struct Request {
    t0: f64,
}
/// Server -> balancer, and balancer -> client.
#[derive(Clone, Serialize)]
struct Response {
    t0: f64,
    ok: bool,
}
#[derive(Clone, Serialize)]
struct Done {
    slot: u8,
    epoch: u32,
}
#[derive(Clone, Serialize)]
struct CheckStart {
    srv: usize,
}
#[derive(Clone, Serialize)]
struct CheckDone {
    srv: usize,
}
#[derive(Clone, Serialize)]
struct Crash {}
#[derive(Clone, Serialize)]
struct Recover {}

/// Which servers' ports accept connections: the network's view, set by the
/// servers, read by the balancer's checks (a refused probe fails at once).
type Ports = Rc<Vec<Cell<bool>>>;

struct Client {
    ctx: SimulationContext,
    lb: Id,
    gap_mean: f64,
    end: f64,
    last_arrival: f64,
    stats: Stats,
}

impl Client {
    /// Draws the next BATCH Poisson arrivals; each is sent to the balancer
    /// to arrive one hop after its instant.
    fn wake(&mut self) {
        let now = self.ctx.time();
        let mut t = self.last_arrival;
        for _ in 0..BATCH {
            let gap: f64 = self.ctx.sample_from_distribution(&Exp1);
            t += gap * self.gap_mean;
            if t >= self.end {
                return;
            }
            self.ctx.emit(Request { t0: t }, self.lb, t - now + HOP);
        }
        self.last_arrival = t;
        self.ctx.emit_self(ClientWake {}, t - now);
    }
}

impl EventHandler for Client {
    fn on(&mut self, event: Event) {
        cast!(match event.data {
            ClientWake {} => {
                self.wake()
            }
            Response { t0, ok } => {
                if ok {
                    let ns = ((self.ctx.time() - t0) * NS_PER_S as f64).round();
                    self.stats.ok(ns as u64);
                } else {
                    self.stats.failed();
                }
            }
        })
    }
}

struct Balancer {
    ctx: SimulationContext,
    client: Id,
    servers: Vec<Id>,
    health: Vec<Health>,
    cursor: usize,
    ports: Ports,
}

impl EventHandler for Balancer {
    fn on(&mut self, event: Event) {
        cast!(match event.data {
            Request { t0 } => {
                match next_up(&self.health, &mut self.cursor) {
                    Some(i) => self.ctx.emit_ordered(Request { t0 }, self.servers[i], HOP),
                    None => self
                        .ctx
                        .emit_ordered(Response { t0, ok: false }, self.client, HOP),
                };
            }
            Response { t0, ok } => {
                self.ctx.emit_ordered(Response { t0, ok }, self.client, HOP);
            }
            CheckStart { srv } => {
                if self.ports[srv].get() {
                    self.ctx.emit_self(CheckDone { srv }, 2.0 * HOP);
                } else {
                    self.health[srv].record(false);
                    self.ctx.emit_self(CheckStart { srv }, INTER);
                }
            }
            CheckDone { srv } => {
                self.health[srv].record(true);
                self.ctx.emit_self(CheckStart { srv }, INTER);
            }
        })
    }
}

struct ServerNode {
    ctx: SimulationContext,
    lb: Id,
    index: usize,
    mean: f64,
    state: Server,
    ports: Ports,
}

impl ServerNode {
    fn start(&mut self, slot: u8) {
        let x: f64 = self.ctx.sample_from_distribution(&Exp1);
        let epoch = self.state.epoch;
        self.ctx.emit_self(Done { slot, epoch }, x * self.mean);
    }
}

impl EventHandler for ServerNode {
    fn on(&mut self, event: Event) {
        cast!(match event.data {
            Request { t0 } => {
                if !self.state.alive {
                    // Refused: the RST travels back.
                    self.ctx
                        .emit_ordered(Response { t0, ok: false }, self.lb, HOP);
                } else if let Some(slot) = self.state.arrive(to_ns(t0)) {
                    self.start(slot);
                }
            }
            Done { slot, epoch } => {
                if epoch == self.state.epoch {
                    let (t0, more) = self.state.done(slot);
                    self.ctx.emit_ordered(
                        Response {
                            t0: to_s(t0),
                            ok: true,
                        },
                        self.lb,
                        HOP,
                    );
                    if more {
                        self.start(slot);
                    }
                }
            }
            Crash {} => {
                for t0 in self.state.crash() {
                    self.ctx.emit_ordered(
                        Response {
                            t0: to_s(t0),
                            ok: false,
                        },
                        self.lb,
                        HOP,
                    );
                }
                self.ports[self.index].set(false);
            }
            Recover {} => {
                self.state.recover();
                self.ports[self.index].set(true);
            }
        })
    }
}

// The shared server state keeps send times in ns; f64 seconds round-trip
// through them exactly enough (well under a nanosecond at an hour).
fn to_ns(s: f64) -> u64 {
    (s * NS_PER_S as f64).round() as u64
}
fn to_s(ns: u64) -> f64 {
    ns as f64 / NS_PER_S as f64
}

fn main() {
    let (sc, seed) = args();
    let mut sim = Simulation::new(seed);
    let ports: Ports = Rc::new((0..sc.servers).map(|_| Cell::new(true)).collect());

    let client_ctx = sim.create_context("client");
    let lb_ctx = sim.create_context("lb");
    let server_ctxs: Vec<_> = (0..sc.servers)
        .map(|i| sim.create_context(format!("s{}", i + 1)))
        .collect();
    let (client_id, lb_id) = (client_ctx.id(), lb_ctx.id());
    let server_ids: Vec<Id> = server_ctxs.iter().map(|c| c.id()).collect();

    let client = Rc::new(RefCell::new(Client {
        ctx: client_ctx,
        lb: lb_id,
        gap_mean: 1.0 / sc.rate_per_s,
        end: (sc.end_ns / NS_PER_S) as f64,
        last_arrival: 0.0,
        stats: Stats::default(),
    }));
    sim.add_handler("client", client.clone());
    let lb = Balancer {
        ctx: lb_ctx,
        client: client_id,
        servers: server_ids.clone(),
        health: vec![Health::default(); sc.servers],
        cursor: 0,
        ports: ports.clone(),
    };
    for i in 0..sc.servers {
        lb.ctx
            .emit_self(CheckStart { srv: i }, to_s(sc.first_check_ns(i)));
    }
    sim.add_handler("lb", Rc::new(RefCell::new(lb)));
    for (i, ctx) in server_ctxs.into_iter().enumerate() {
        let node = ServerNode {
            ctx,
            lb: lb_id,
            index: i,
            mean: sc.service_mean_ns / NS_PER_S as f64,
            state: Server::new(),
            ports: ports.clone(),
        };
        sim.add_handler(format!("s{}", i + 1), Rc::new(RefCell::new(node)));
    }
    let faults = sim.create_context("faults");
    for c in &sc.crashes {
        faults.emit(Crash {}, server_ids[c.server], to_s(c.at_ns));
        faults.emit(Recover {}, server_ids[c.server], to_s(c.back_ns));
    }
    client.borrow().ctx.emit_self(ClientWake {}, 0.0);

    // Events at the end instant are past the run, as in the floor.
    sim.step_until_time(to_s(sc.end_ns - 1));
    let events = sim.event_count() - sim.dump_events().len() as u64;
    client.borrow().stats.print(&sc, "simcore", Some(events));
}
