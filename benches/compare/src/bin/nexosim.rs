//! The benchmark model in NeXosim, written the way its docs write a model:
//! one model per node with typed input and output ports wired at bench
//! assembly, delays by self-scheduling (`cx.schedule_event` on a
//! `#[nexosim(schedulable)]` method that then sends on an output port, as the
//! docs' `Delay` model does), faults injected by the scheduler through event
//! sources, the health check's port lookup as a request-reply (`UniRequestor`)
//! and the results read with a query at the end. One executor thread
//! (`SimInit::with_num_threads(1)`). Time is NeXosim's nanosecond clock.

use std::time::Duration;

use hasim_compare::{BATCH, HOP_NS, Health, INTER_NS, Server, Stats, args, exp_ns, next_up, rng};
use nexosim::model::{Context, Model, schedulable};
use nexosim::ports::{EventSource, Output, QuerySource, UniRequestor};
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const HOP: Duration = Duration::from_nanos(HOP_NS);
const INTER: Duration = Duration::from_nanos(INTER_NS);

/// A request's answer (or its failure), carrying its send time.
#[derive(Clone, Copy, Serialize, Deserialize)]
struct Resp {
    t0: u64,
    ok: bool,
}

fn ns(t: MonotonicTime) -> u64 {
    t.duration_since(MonotonicTime::EPOCH).as_nanos() as u64
}
fn at(ns: u64) -> MonotonicTime {
    MonotonicTime::EPOCH + Duration::from_nanos(ns)
}

#[derive(Serialize, Deserialize)]
struct Client {
    /// Requests (their send time) to the balancer.
    request: Output<u64>,
    rng: ChaCha8Rng,
    gap_mean: f64,
    end_ns: u64,
    last_arrival: u64,
    stats: Stats,
}

#[Model]
impl Client {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        self.wake((), cx).await;
    }

    /// Draws the next BATCH Poisson arrivals; each reaches the balancer one
    /// hop after its instant.
    #[nexosim(schedulable)]
    async fn wake(&mut self, _: (), cx: &Context<Self>) {
        let mut t = self.last_arrival;
        for _ in 0..BATCH {
            t += exp_ns(&mut self.rng, self.gap_mean);
            if t >= self.end_ns {
                return;
            }
            cx.schedule_event(at(t + HOP_NS), schedulable!(Self::send), t)
                .unwrap();
        }
        self.last_arrival = t;
        cx.schedule_event(at(t), schedulable!(Self::wake), ())
            .unwrap();
    }

    #[nexosim(schedulable)]
    async fn send(&mut self, t0: u64) {
        self.request.send(t0).await;
    }

    pub fn response(&mut self, r: Resp, cx: &Context<Self>) {
        if r.ok {
            self.stats.ok(ns(cx.time()) - r.t0);
        } else {
            self.stats.failed();
        }
    }

    pub async fn stats(&mut self, _: ()) -> Stats {
        self.stats.clone()
    }
}

#[derive(Serialize, Deserialize)]
struct Balancer {
    servers: Vec<Output<u64>>,
    /// Whether a server's port accepts a connection, asked at once.
    ports: Vec<UniRequestor<(), bool>>,
    client: Output<Resp>,
    health: Vec<Health>,
    cursor: usize,
    first_checks: Vec<u64>,
}

#[Model]
impl Balancer {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        for (srv, first) in self.first_checks.clone().into_iter().enumerate() {
            if first == 0 {
                self.check(srv, cx).await;
            } else {
                cx.schedule_event(at(first), schedulable!(Self::check), srv)
                    .unwrap();
            }
        }
    }

    pub fn request(&mut self, t0: u64, cx: &Context<Self>) {
        match next_up(&self.health, &mut self.cursor) {
            Some(srv) => cx
                .schedule_event(HOP, schedulable!(Self::hop_to_server), (srv, t0))
                .unwrap(),
            None => cx
                .schedule_event(
                    HOP,
                    schedulable!(Self::hop_to_client),
                    Resp { t0, ok: false },
                )
                .unwrap(),
        }
    }

    #[nexosim(schedulable)]
    async fn hop_to_server(&mut self, (srv, t0): (usize, u64)) {
        self.servers[srv].send(t0).await;
    }

    pub fn response(&mut self, r: Resp, cx: &Context<Self>) {
        cx.schedule_event(HOP, schedulable!(Self::hop_to_client), r)
            .unwrap();
    }

    #[nexosim(schedulable)]
    async fn hop_to_client(&mut self, r: Resp) {
        self.client.send(r).await;
    }

    #[nexosim(schedulable)]
    async fn check(&mut self, srv: usize, cx: &Context<Self>) {
        if self.ports[srv].send(()).await {
            // Succeeds after one round trip.
            cx.schedule_event(2 * HOP, schedulable!(Self::check_done), srv)
                .unwrap();
        } else {
            // Refused at once.
            self.health[srv].record(false);
            cx.schedule_event(INTER, schedulable!(Self::check), srv)
                .unwrap();
        }
    }

    #[nexosim(schedulable)]
    async fn check_done(&mut self, srv: usize, cx: &Context<Self>) {
        self.health[srv].record(true);
        cx.schedule_event(INTER, schedulable!(Self::check), srv)
            .unwrap();
    }
}

#[derive(Serialize, Deserialize)]
struct ServerNode {
    response: Output<Resp>,
    rng: ChaCha8Rng,
    mean_ns: f64,
    state: Server,
}

#[Model]
impl ServerNode {
    pub fn request(&mut self, t0: u64, cx: &Context<Self>) {
        if !self.state.alive {
            // Refused: the RST travels back.
            return self.reply_later(Resp { t0, ok: false }, cx);
        }
        if let Some(slot) = self.state.arrive(t0) {
            self.start(slot, cx);
        }
    }

    /// Starts the request in worker `slot`. NeXosim schedules nothing at the
    /// current instant, so a service time that rounds to 0 ns ends here.
    fn start(&mut self, slot: u8, cx: &Context<Self>) {
        loop {
            let service = exp_ns(&mut self.rng, self.mean_ns);
            if service > 0 {
                let epoch = self.state.epoch;
                let after = Duration::from_nanos(service);
                cx.schedule_event(after, schedulable!(Self::done), (slot, epoch))
                    .unwrap();
                return;
            }
            let (t0, more) = self.state.done(slot);
            self.reply_later(Resp { t0, ok: true }, cx);
            if !more {
                return;
            }
        }
    }

    #[nexosim(schedulable)]
    async fn done(&mut self, (slot, epoch): (u8, u32), cx: &Context<Self>) {
        if epoch != self.state.epoch {
            return;
        }
        let (t0, more) = self.state.done(slot);
        self.reply_later(Resp { t0, ok: true }, cx);
        if more {
            self.start(slot, cx);
        }
    }

    fn reply_later(&mut self, r: Resp, cx: &Context<Self>) {
        cx.schedule_event(HOP, schedulable!(Self::reply), r)
            .unwrap();
    }

    #[nexosim(schedulable)]
    async fn reply(&mut self, r: Resp) {
        self.response.send(r).await;
    }

    pub async fn is_open(&mut self, _: ()) -> bool {
        self.state.alive
    }

    pub fn crash(&mut self, _: (), cx: &Context<Self>) {
        for t0 in self.state.crash() {
            self.reply_later(Resp { t0, ok: false }, cx);
        }
    }

    pub fn recover(&mut self, _: ()) {
        self.state.recover();
    }
}

fn main() {
    let (sc, seed) = args();
    let n = sc.servers;

    let mut client = Client {
        request: Output::default(),
        rng: rng(seed, 0),
        gap_mean: 1e9 / sc.rate_per_s,
        end_ns: sc.end_ns,
        last_arrival: 0,
        stats: Stats::default(),
    };
    let mut lb = Balancer {
        servers: (0..n).map(|_| Output::default()).collect(),
        ports: Vec::with_capacity(n),
        client: Output::default(),
        health: vec![Health::default(); n],
        cursor: 0,
        first_checks: (0..n).map(|i| sc.first_check_ns(i)).collect(),
    };
    let mut servers: Vec<ServerNode> = (0..n)
        .map(|i| ServerNode {
            response: Output::default(),
            rng: rng(seed, 1 + i as u64),
            mean_ns: sc.service_mean_ns,
            state: Server::new(),
        })
        .collect();

    let client_mbox = Mailbox::new();
    let lb_mbox = Mailbox::new();
    let server_mboxes: Vec<Mailbox<ServerNode>> = (0..n).map(|_| Mailbox::new()).collect();

    client.request.connect(Balancer::request, &lb_mbox);
    lb.client.connect(Client::response, &client_mbox);
    for (i, (s, mbox)) in servers.iter_mut().zip(&server_mboxes).enumerate() {
        lb.servers[i].connect(ServerNode::request, mbox);
        lb.ports.push(UniRequestor::new(ServerNode::is_open, mbox));
        s.response.connect(Balancer::response, &lb_mbox);
    }

    let mut bench = SimInit::with_num_threads(1);
    let stats = QuerySource::new()
        .connect(Client::stats, &client_mbox)
        .register(&mut bench);
    let mut faults = Vec::new();
    for c in &sc.crashes {
        let mbox = &server_mboxes[c.server];
        let crash = EventSource::new()
            .connect(ServerNode::crash, mbox)
            .register(&mut bench);
        let recover = EventSource::new()
            .connect(ServerNode::recover, mbox)
            .register(&mut bench);
        faults.push((c, crash, recover));
    }

    bench = bench
        .add_model(client, client_mbox, "client")
        .add_model(lb, lb_mbox, "lb");
    for (i, (s, mbox)) in servers.into_iter().zip(server_mboxes).enumerate() {
        bench = bench.add_model(s, mbox, &format!("s{}", i + 1));
    }
    let mut simu = bench.init(MonotonicTime::EPOCH).unwrap();
    let scheduler = simu.scheduler();
    for (c, crash, recover) in &faults {
        scheduler.schedule_event(at(c.at_ns), crash, ()).unwrap();
        scheduler
            .schedule_event(at(c.back_ns), recover, ())
            .unwrap();
    }

    // Events at the end instant are past the run, as in the floor.
    simu.step_until(at(sc.end_ns - 1)).unwrap();
    let stats = simu.process_query(&stats, ()).unwrap();
    stats.print(&sc, "nexosim", None);
}
