//! Kept client connections (pools, keep-alive): a session that outlives its
//! request. In tcp mode it stays bound to its server connection (holding that
//! server's `maxconn` slot) until a side closes it, an idle timeout fires, or
//! `shutdown-sessions` cuts it; in http mode each request is balanced anew.

use super::{Haproxy, HaproxyTimer, Phase};
use crate::process::{CallRef, Ctx, Msg, MsgKind, NO_PEER, Req};

impl Haproxy {
    /// The server answered the attempt `aref`. A kept client connection
    /// stays open (in tcp mode with its server connection, if the server kept
    /// it too); otherwise the session ends.
    pub(super) fn server_answered(
        &mut self,
        ctx: &mut Ctx,
        aref: CallRef,
        answer: MsgKind,
        server_peer: u32,
    ) {
        let Some(sref) = self.attempts.get(aref.slot, aref.generation).map(|a| a.session) else {
            return;
        };
        // The fields needed, not a copy of the whole session.
        let Some((srv, client_gone, keep)) = self
            .sessions
            .get(sref.slot, sref.generation)
            .map(|s| (s.srv, s.client_gone, s.req.keep))
        else {
            return;
        };
        if self.checks.observing
            && let Some(i) = srv
        {
            // `observe layer7`: 5xx but 501 and 505 are errors. A
            // database's error counts as one, as it did when it travelled
            // as a status >= 1000.
            let error = match answer {
                MsgKind::Response { status } => status >= 500 && status != 501 && status != 505,
                _ => true,
            };
            let error = error.then_some("L7 response error");
            self.health_adjust(ctx, i as usize, error, true);
        }
        self.log_end(ctx, sref, "--");
        let tcp_kept = !self.http && server_peer != NO_PEER;
        if client_gone {
            // The client closed meanwhile (abort.rs): the answer meets a
            // closed socket and the session ends, a kept server connection
            // with it.
            self.attempts.remove(aref.slot, aref.generation);
            if tcp_kept && let Some(i) = srv {
                let node = self.servers[i as usize].node;
                ctx.send_peer(node, aref, server_peer, MsgKind::Close);
            }
            return self.end_session(ctx, sref, Some(answer));
        }
        if !keep || (!self.http && !tcp_kept) {
            self.attempts.remove(aref.slot, aref.generation);
            return self.end_session(ctx, sref, Some(answer));
        }
        if !tcp_kept {
            // http: the server connection ends with its request.
            self.attempts.remove(aref.slot, aref.generation);
            if let Some(i) = srv {
                self.release_server(ctx, i as usize);
            }
        }
        let s = self
            .sessions
            .get_mut(sref.slot, sref.generation)
            .expect("live");
        s.phase = Phase::Idle;
        s.idle_since = ctx.now;
        if tcp_kept {
            s.server_peer = server_peer;
        } else {
            s.srv = None;
        }
        let (client, call) = (s.client, s.client_call);
        ctx.send_peer(client, call, sref.slot, answer);
        self.arm_idle_timeout(ctx, sref);
    }

    pub(super) fn arm_idle_timeout(&mut self, ctx: &mut Ctx, sref: CallRef) {
        if let Some(t) = self.timeout_idle {
            let at = ctx.now + t;
            ctx.arm_with(
                &mut self.idle_deadlines,
                at,
                sref,
                HaproxyTimer::IdleDeadline,
            );
        }
    }

    /// The session a client's message on a kept connection is about.
    pub(super) fn client_session(&self, msg: &Msg) -> Option<CallRef> {
        let generation = self.sessions.generation_of(msg.peer)?;
        let s = self.sessions.get(msg.peer, generation)?;
        (s.client == msg.from && s.client_call == msg.call).then_some(CallRef {
            slot: msg.peer,
            generation,
        })
    }

    /// A further request on a kept client connection: in tcp mode it goes to
    /// the session's server connection, in http mode it is balanced anew.
    pub(super) fn client_request(&mut self, ctx: &mut Ctx, msg: &Msg, req: Req) {
        let Some(sref) = self.client_session(msg) else {
            return ctx.send(msg.from, msg.call, MsgKind::Reset);
        };
        let s = self
            .sessions
            .get_mut(sref.slot, sref.generation)
            .expect("found");
        if s.phase != Phase::Idle {
            return;
        }
        s.req = req;
        s.retries_done = 0;
        match (self.http, s.srv) {
            (false, Some(i)) => {
                s.phase = Phase::Established;
                let (aref, peer) = (s.attempt, s.server_peer);
                if let Some(a) = self.attempts.get_mut(aref.slot, aref.generation) {
                    a.sent_at = ctx.now;
                }
                ctx.send_peer(
                    self.servers[i as usize].node,
                    aref,
                    peer,
                    MsgKind::Request(req),
                );
                self.arm_response_timeout(ctx, aref);
            }
            _ => {
                s.phase = Phase::Queued;
                self.dispatch(ctx, sref);
            }
        }
    }

    /// Ends a session from HAProxy's side or the client's (`answer` = what
    /// the client gets, if anything), closing a kept server connection.
    pub(super) fn close_session(&mut self, ctx: &mut Ctx, sref: CallRef, answer: Option<MsgKind>) {
        let Some(s) = self.sessions.get(sref.slot, sref.generation).copied() else {
            return;
        };
        if let Some(a) = self.attempts.remove(s.attempt.slot, s.attempt.generation)
            && a.established_at <= ctx.now
            && let Some(i) = s.srv
        {
            let node = self.servers[i as usize].node;
            ctx.send_peer(node, s.attempt, s.server_peer, MsgKind::Close);
        }
        self.end_session(ctx, sref, answer);
    }
}
