//! The client side of a database server: accepted connections (one per call,
//! or kept by a pool), one statement at a time on each, `max_connections`.

use crate::engine::{SimTime, Slab};
use crate::process::{CallRef, Ctx, DbError, Msg, MsgKind, NodeId, ReqKind};

/// The errors the sessions answer with on their own, in the product's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionErrors {
    /// A connection beyond `max_connections`.
    pub too_many_connections: DbError,
    /// A statement in progress when the server shuts down cleanly.
    pub shutting_down: DbError,
}

#[derive(Clone, Copy, Debug)]
struct Conn {
    caller: NodeId,
    call: CallRef,
    keep: bool,
    busy: bool,
    op: u32,
    write: bool,
    started: SimTime,
}

/// A statement to run, on the session `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    pub id: CallRef,
    /// The client operation (write history id).
    pub op: u32,
    pub write: bool,
    pub started: SimTime,
}

#[derive(Clone)]
pub struct Sessions {
    conns: Slab<Conn>,
    max_connections: u32,
    errors: SessionErrors,
}

impl Sessions {
    pub fn new(max_connections: u32, errors: SessionErrors) -> Sessions {
        Sessions {
            conns: Slab::default(),
            max_connections,
            errors,
        }
    }

    /// Handles a client's `Connect(Work)`, `Request` or `Close`; returns the
    /// statement to run, if one arrived. Health checks are the model's.
    pub fn on_message(&mut self, ctx: &mut Ctx, msg: &Msg) -> Option<Query> {
        match msg.kind {
            MsgKind::Connect(req) if req.kind == ReqKind::Work => {
                if self.conns.len() as u32 >= self.max_connections {
                    let refusal = MsgKind::DbError(self.errors.too_many_connections);
                    ctx.send(msg.from, msg.call, refusal);
                    return None;
                }
                let c = Conn {
                    caller: msg.from,
                    call: msg.call,
                    keep: req.keep,
                    busy: true,
                    op: req.op,
                    write: !req.idempotent,
                    started: ctx.now,
                };
                let id = CallRef::new(self.conns.insert(c));
                Some(Query {
                    id,
                    op: req.op,
                    write: !req.idempotent,
                    started: ctx.now,
                })
            }
            MsgKind::Request(req) => {
                let Some(id) = self.connection(msg) else {
                    ctx.send(msg.from, msg.call, MsgKind::Reset);
                    return None;
                };
                let c = self.conns.get_mut(id.slot, id.generation).expect("found");
                if c.busy {
                    return None;
                }
                c.busy = true;
                c.op = req.op;
                c.write = !req.idempotent;
                c.started = ctx.now;
                Some(Query {
                    id,
                    op: req.op,
                    write: !req.idempotent,
                    started: ctx.now,
                })
            }
            MsgKind::Close => {
                if let Some(id) = self.connection(msg) {
                    self.conns.remove(id.slot, id.generation);
                }
                None
            }
            _ => None,
        }
    }

    fn connection(&self, msg: &Msg) -> Option<CallRef> {
        let generation = self.conns.generation_of(msg.peer)?;
        let c = self.conns.get(msg.peer, generation)?;
        (c.caller == msg.from && c.call == msg.call).then_some(CallRef {
            slot: msg.peer,
            generation,
        })
    }

    /// The statement in progress on session `id`.
    pub fn query(&self, id: CallRef) -> Option<Query> {
        let c = self.conns.get(id.slot, id.generation)?;
        c.busy.then_some(Query {
            id,
            op: c.op,
            write: c.write,
            started: c.started,
        })
    }

    /// The statement on session `id` is still wanted (its client is there).
    pub fn is_live(&self, id: CallRef) -> bool {
        self.conns
            .get(id.slot, id.generation)
            .is_some_and(|c| c.busy)
    }

    /// The statement on session `id` succeeded; a kept session stays open.
    pub fn ok(&mut self, ctx: &mut Ctx, id: CallRef) {
        self.reply(ctx, id, MsgKind::Response { status: 200 });
    }

    /// The statement on session `id` failed with `e`; a kept session stays
    /// open.
    pub fn fail(&mut self, ctx: &mut Ctx, id: CallRef, e: DbError) {
        self.reply(ctx, id, MsgKind::DbError(e));
    }

    fn reply(&mut self, ctx: &mut Ctx, id: CallRef, answer: MsgKind) {
        let Some(c) = self.conns.get_mut(id.slot, id.generation) else {
            return;
        };
        if !c.busy {
            return;
        }
        if c.keep {
            c.busy = false;
            let (caller, call) = (c.caller, c.call);
            ctx.send_peer(caller, call, id.slot, answer);
        } else {
            let c = self.conns.remove(id.slot, id.generation).expect("found");
            ctx.send(c.caller, c.call, answer);
        }
    }

    /// Closes every session with an error reply (the server shuts down
    /// cleanly: clients get an error, not a reset).
    pub fn close_all(&mut self, ctx: &mut Ctx) {
        for (slot, generation) in self.conns.keys() {
            let c = self.conns.remove(slot, generation).expect("listed");
            if c.busy {
                let e = MsgKind::DbError(self.errors.shutting_down);
                ctx.send(c.caller, c.call, e);
            } else {
                ctx.send(c.caller, c.call, MsgKind::Closed);
            }
        }
    }

    /// Resets every session (the connections die with their process).
    pub fn reset_all(&mut self, ctx: &mut Ctx) {
        for (slot, generation) in self.conns.keys() {
            let c = self.conns.remove(slot, generation).expect("listed");
            ctx.send(c.caller, c.call, MsgKind::Reset);
        }
    }

    /// Statements in progress, oldest first: (session, op, write, started).
    pub fn busy(&self) -> Vec<Query> {
        let mut v: Vec<Query> = self
            .conns
            .keys()
            .into_iter()
            .filter_map(|(s, g)| {
                let c = self.conns.get(s, g)?;
                c.busy.then_some(Query {
                    id: CallRef {
                        slot: s,
                        generation: g,
                    },
                    op: c.op,
                    write: c.write,
                    started: c.started,
                })
            })
            .collect();
        v.sort_by_key(|q| (q.started, q.id.slot));
        v
    }

    pub fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.conns.values().map(|c| (c.caller, c.call)).collect()
    }
}
