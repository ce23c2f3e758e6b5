//! A cluster-aware client library as redis-py's `RedisCluster` behaves
//! (redis/cluster.py, `_execute_command` and `NodesManager.initialize`):
//!
//! - a slot map from a topology query (CLUSTER SLOTS) to the startup nodes in
//!   order, the first that answers with every slot covered; each command
//!   goes to its key's master;
//! - `MOVED`: the map is refreshed from the node that answered and the
//!   command follows, up to 16 redirects (redis-py reads the new owner from
//!   the error itself; asking the node that knows costs one round trip
//!   more here);
//! - a connection error (refused, reset, unreachable) or a timeout: the node
//!   goes to the back of the startup nodes, the map is queried again, and the
//!   command fails once the query is done;
//! - `CLUSTERDOWN`: 0.25 s of sleep, a new query, then the command fails;
//! - no retries. A query that gets no answer within `connect_timeout` moves
//!   on to the next startup node.
//!
//! Its own exchanges are topology queries on the call slot [`DRIVER_BIT`].

use super::{errors, slot};
use crate::engine::{Dur, SimTime};
use crate::metrics::Outcome;
use crate::process::{Addr, CallRef, Ctx, Msg, MsgKind, NO_PEER, NodeId, Req, ReqKind};
use crate::products::Wire;
use crate::products::client::ClientTimer;
use crate::products::client::driver::{DRIVER_BIT, DriverTimer, Release, Route, Verdict};

/// redis-py's `RedisCluster.RedisClusterRequestTTL`.
const MAX_REDIRECTS: u8 = 16;
/// redis-py sleeps this long after CLUSTERDOWN before it refreshes.
const CLUSTERDOWN_SLEEP: Dur = Dur::from_ms(250);

/// The library's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibTimer {
    /// Topology query `.0` got no answer in time.
    QueryTimeout(u32),
    /// A command that met CLUSTERDOWN has slept.
    Slept(CallRef),
}

impl From<LibTimer> for crate::products::Timer {
    fn from(t: LibTimer) -> crate::products::Timer {
        ClientTimer::Driver(DriverTimer::RedisCluster(t)).into()
    }
}

/// What a held command waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Then {
    /// The map: then it is sent.
    Send,
    /// The refresh: then it fails with this.
    Fail(Outcome),
    /// Its sleep after CLUSTERDOWN, then the refresh.
    Sleep(Outcome),
}

#[derive(Clone, Copy, Debug)]
struct Command {
    call: CallRef,
    op: u32,
    node: NodeId,
    redirects: u8,
    held: Option<Then>,
}

#[derive(Clone, Debug)]
pub struct ClusterLib {
    /// Startup nodes, in the order they are asked.
    startup: Vec<NodeId>,
    map: Vec<(u16, u16, NodeId)>,
    fresh: Vec<(u16, u16, NodeId)>,
    /// The topology query under way: its node and how many nodes it tried.
    query: Option<(NodeId, usize)>,
    generation: u32,
    commands: Vec<Command>,
    connect_timeout: Dur,
}

impl ClusterLib {
    pub fn new(startup: Vec<NodeId>, connect_timeout: Dur) -> ClusterLib {
        ClusterLib {
            startup,
            map: Vec::new(),
            fresh: Vec::new(),
            query: None,
            generation: 0,
            commands: Vec::new(),
            connect_timeout,
        }
    }

    fn master_of(&self, op: u32) -> Option<NodeId> {
        let s = slot::of_op(op);
        self.map
            .iter()
            .find(|&&(a, b, _)| a <= s && s <= b)
            .map(|&(_, _, m)| m)
            .filter(|&m| m != NO_PEER)
    }

    fn index(&self, call: CallRef) -> Option<usize> {
        self.commands.iter().position(|c| c.call == call)
    }

    pub fn route(&mut self, ctx: &mut Ctx, call: CallRef, op: u32) -> Route {
        let mut c = Command {
            call,
            op,
            node: NO_PEER,
            redirects: 0,
            held: None,
        };
        let route = match self.master_of(op) {
            Some(m) if !self.map.is_empty() => {
                c.node = m;
                Route::To(Addr::Node(m))
            }
            _ => {
                c.held = Some(Then::Send);
                self.refresh(ctx, None);
                Route::Hold
            }
        };
        self.commands.push(c);
        route
    }

    pub fn verdict(&mut self, ctx: &mut Ctx, call: CallRef, from: NodeId, o: Outcome) -> Verdict {
        let Some(i) = self.index(call) else {
            return Verdict::Done(o);
        };
        match o {
            Outcome::Db(e) if e == errors::MOVED.error => {
                self.commands[i].redirects += 1;
                if self.commands[i].redirects > MAX_REDIRECTS {
                    self.commands.swap_remove(i);
                    return Verdict::Done(o);
                }
                self.commands[i].held = Some(Then::Send);
                self.refresh(ctx, Some(from));
                Verdict::Again(Route::Hold)
            }
            Outcome::Db(e) if e == errors::CLUSTERDOWN.error => {
                self.commands[i].held = Some(Then::Sleep(o));
                ctx.at(ctx.now + CLUSTERDOWN_SLEEP, LibTimer::Slept(call));
                Verdict::Again(Route::Hold)
            }
            Outcome::Refused | Outcome::Reset | Outcome::Unreachable | Outcome::Closed => {
                self.drop_node(from);
                self.commands[i].held = Some(Then::Fail(o));
                self.refresh(ctx, None);
                Verdict::Again(Route::Hold)
            }
            _ => {
                self.commands.swap_remove(i);
                Verdict::Done(o)
            }
        }
    }

    /// The client gave up on `call` (its timeout): the node it waited for
    /// is dropped and the map refreshed, as after a connection error.
    pub fn timed_out(&mut self, ctx: &mut Ctx, call: CallRef) {
        let Some(i) = self.index(call) else { return };
        let c = self.commands.swap_remove(i);
        if c.held.is_none() && c.node != NO_PEER {
            self.drop_node(c.node);
            self.refresh(ctx, None);
        }
    }

    /// The node goes to the back of the startup nodes.
    fn drop_node(&mut self, n: NodeId) {
        if let Some(i) = self.startup.iter().position(|&x| x == n) {
            let x = self.startup.remove(i);
            self.startup.push(x);
        }
    }

    /// Starts a topology query unless one is under way: to `at`, or to the
    /// first startup node.
    fn refresh(&mut self, ctx: &mut Ctx, at: Option<NodeId>) {
        if self.query.is_some() {
            return;
        }
        let node = at.unwrap_or(self.startup[0]);
        self.ask(ctx, node, 0);
    }

    fn ask(&mut self, ctx: &mut Ctx, node: NodeId, tried: usize) {
        self.generation = self.generation.wrapping_add(1);
        self.query = Some((node, tried));
        self.fresh.clear();
        let call = CallRef {
            slot: DRIVER_BIT,
            generation: self.generation,
        };
        let req = Req::once(ReqKind::HttpCheck, true);
        ctx.send(node, call, MsgKind::Connect(req));
        let at = ctx.now + self.connect_timeout;
        ctx.at(at, LibTimer::QueryTimeout(self.generation));
    }

    /// The query failed at its node: the next startup node, or give up.
    fn next(&mut self, ctx: &mut Ctx, failed: Outcome, released: &mut Vec<Release>) {
        let Some((node, tried)) = self.query.take() else {
            return;
        };
        let tried = tried + 1;
        if tried < self.startup.len() {
            let i = self.startup.iter().position(|&x| x == node).unwrap_or(0);
            let next = self.startup[(i + 1) % self.startup.len()];
            return self.ask(ctx, next, tried);
        }
        // No startup node answered: every command waiting for the map fails.
        self.release(ctx.now, Some(failed), released);
    }

    /// Lets the held commands go: with the new map, or failing with
    /// `failed` when there is none.
    fn release(&mut self, _now: SimTime, failed: Option<Outcome>, released: &mut Vec<Release>) {
        let mut i = 0;
        while i < self.commands.len() {
            let c = self.commands[i];
            let out = match (c.held, failed) {
                (Some(Then::Send), None) => match self.master_of(c.op) {
                    Some(m) => {
                        self.commands[i].node = m;
                        self.commands[i].held = None;
                        released.push(Release::To(c.call, Addr::Node(m)));
                        i += 1;
                        continue;
                    }
                    None => Some(Outcome::Db(errors::CLUSTERDOWN.error)),
                },
                (Some(Then::Send), Some(f)) => Some(f),
                (Some(Then::Fail(o)), _) => Some(o),
                _ => None,
            };
            match out {
                Some(o) => {
                    released.push(Release::Fail(c.call, o));
                    self.commands.swap_remove(i);
                }
                None => i += 1,
            }
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, msg: Msg, released: &mut Vec<Release>) {
        let Some((node, tried)) = self.query else {
            return;
        };
        if msg.call.generation != self.generation || msg.from != node {
            return;
        }
        match msg.kind {
            MsgKind::Wire(Wire::RedisCluster(super::BusMsg::Slots {
                first,
                last,
                master,
                more,
            })) => {
                self.fresh.push((first, last, master));
                if more {
                    return;
                }
                let covered = self.fresh.iter().all(|&(_, _, m)| m != NO_PEER);
                if !covered && tried + 1 < self.startup.len() {
                    let o = Outcome::Db(errors::CLUSTERDOWN.error);
                    return self.next(ctx, o, released);
                }
                std::mem::swap(&mut self.map, &mut self.fresh);
                self.query = None;
                self.release(ctx.now, None, released);
            }
            MsgKind::Refused => self.next(ctx, Outcome::Refused, released),
            MsgKind::Reset => self.next(ctx, Outcome::Reset, released),
            MsgKind::Unreachable => self.next(ctx, Outcome::Unreachable, released),
            MsgKind::Closed => self.next(ctx, Outcome::Closed, released),
            _ => {}
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, t: LibTimer, released: &mut Vec<Release>) {
        match t {
            LibTimer::QueryTimeout(g) => {
                if g == self.generation && self.query.is_some() {
                    self.next(ctx, Outcome::Timeout, released);
                }
            }
            LibTimer::Slept(call) => {
                let Some(i) = self.index(call) else { return };
                if let Some(Then::Sleep(o)) = self.commands[i].held {
                    self.commands[i].held = Some(Then::Fail(o));
                    self.refresh(ctx, None);
                }
            }
        }
    }

    pub fn is_call_live(&self, call: CallRef) -> bool {
        self.query.is_some() && call.generation == self.generation
    }

    /// The node the last command went to (for closing a connection).
    pub fn target(&self) -> Addr {
        Addr::Node(self.commands.last().map_or(self.startup[0], |c| c.node))
    }
}
