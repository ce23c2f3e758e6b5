//! The Sentinel-aware client library, as redis-py's `Sentinel.master_for`
//! behaves: a connection to the master is made after asking the sentinels,
//! in list order, for the master (`SENTINEL MASTERS`), each within its
//! socket timeout; an answer whose master is flagged s_down or o_down is
//! rejected and the next sentinel is asked (the one that answers moves to
//! the top of the list); when none names one, the
//! request fails with `MasterNotFoundError`. While the pooled connection is
//! healthy, requests go straight to the master it connected to; a
//! connection error, a timeout or -READONLY drops it, and the next request
//! asks again.
//!
//! Simplified: one pool-wide master (the real pool asks once per new
//! connection: requests that wait for an answer here share one query), no
//! retries, no `ROLE` check after connecting.

use super::{NO_MASTER, SentinelMsg};
use crate::engine::Dur;
use crate::metrics::Outcome;
use crate::process::{Addr, CallRef, Ctx, Msg, MsgKind, NodeId, Req, ReqKind};
use crate::products::Wire;
use crate::products::client::driver::{DRIVER_BIT, DriverTimer, Release, Route, Verdict};
use crate::products::redis::errors::READONLY;

/// The library's timer: a sentinel's answer is overdue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AskTimeout {
    generation: u32,
}

#[derive(Clone, Debug)]
pub struct SentinelLib {
    sentinels: Vec<NodeId>,
    timeout: Dur,
    /// The master of the pooled connection, while it is healthy.
    master: Option<NodeId>,
    /// The sentinel being asked (index), and the query's generation.
    asking: Option<usize>,
    generation: u32,
    /// Requests waiting for the answer.
    held: Vec<CallRef>,
}

impl SentinelLib {
    pub fn new(sentinels: Vec<NodeId>, timeout: Dur) -> SentinelLib {
        SentinelLib {
            sentinels,
            timeout,
            master: None,
            asking: None,
            generation: 0,
            held: Vec::new(),
        }
    }

    pub fn route(&mut self, ctx: &mut Ctx, call: CallRef) -> Route {
        if let Some(m) = self.master {
            return Route::To(Addr::Node(m));
        }
        self.held.push(call);
        if self.asking.is_none() {
            self.ask(ctx, 0);
        }
        Route::Hold
    }

    fn ask(&mut self, ctx: &mut Ctx, i: usize) {
        self.generation = self.generation.wrapping_add(1);
        self.asking = Some(i);
        let call = CallRef {
            slot: DRIVER_BIT | i as u32,
            generation: self.generation,
        };
        let req = Req::once(ReqKind::Work, true);
        ctx.send(self.sentinels[i], call, MsgKind::Connect(req));
        let t = AskTimeout {
            generation: self.generation,
        };
        ctx.at(ctx.now + self.timeout, crate::products::client::ClientTimer::Driver(DriverTimer::Sentinel(t)));
    }

    /// The sentinel being asked did not name a usable master: the next
    /// one, or MasterNotFoundError for every waiting request.
    fn next(&mut self, ctx: &mut Ctx, released: &mut Vec<Release>) {
        let i = self.asking.map_or(0, |i| i + 1);
        if i < self.sentinels.len() {
            return self.ask(ctx, i);
        }
        self.asking = None;
        let e = Outcome::Db(NO_MASTER.error);
        released.extend(self.held.drain(..).map(|c| Release::Fail(c, e)));
    }

    pub fn verdict(&mut self, outcome: Outcome) -> Verdict {
        match outcome {
            Outcome::Ok(_) => {}
            Outcome::Db(e) if e != READONLY.error => {}
            // The connection is dropped (redis-py disconnects on a
            // ConnectionError, a TimeoutError, and turns -READONLY into a
            // ConnectionError "The previous master is now a slave").
            _ => self.master = None,
        }
        Verdict::Done(outcome)
    }

    /// A request timed out: redis-py disconnects its connection.
    pub fn timed_out(&mut self) {
        self.master = None;
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, msg: Msg, released: &mut Vec<Release>) {
        if !self.is_call_live(msg.call) {
            return;
        }
        match msg.kind {
            MsgKind::Wire(Wire::Sentinel(SentinelMsg::MasterIs { master, down })) => {
                if down {
                    return self.next(ctx, released);
                }
                // redis-py puts the sentinel that answered first in its list.
                if let Some(i) = self.asking.take() {
                    self.sentinels.swap(0, i);
                }
                self.master = Some(master);
                let to = Addr::Node(master);
                released.extend(self.held.drain(..).map(|c| Release::To(c, to)));
            }
            MsgKind::Refused | MsgKind::Reset | MsgKind::Closed | MsgKind::Unreachable => {
                self.next(ctx, released)
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, t: AskTimeout, released: &mut Vec<Release>) {
        if self.asking.is_some() && t.generation == self.generation {
            self.next(ctx, released);
        }
    }

    pub fn is_call_live(&self, call: CallRef) -> bool {
        self.asking == Some((call.slot & !DRIVER_BIT) as usize) && call.generation == self.generation
    }

    pub fn target(&self) -> Addr {
        Addr::Node(self.master.unwrap_or(self.sentinels[0]))
    }
}
