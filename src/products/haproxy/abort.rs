//! A client that closes its connection before its answer came (it gave up):
//! what HAProxy 2.6 does with its FIN in each phase of the stream, with and
//! without `option abortonclose` (haproxy-2.6 src/backend.c
//! `back_may_abort_req()`, `back_try_conn_req()`, `back_handle_st_con()`,
//! `back_handle_st_cer()`; src/stream.c `process_stream()`, the
//! `channel_shutw_now(req)` rule; src/http_ana.c `http_process_request()`,
//! `http_return_srv_error()`; configuration.txt "option abortonclose").
//!
//! - Without the option (the default, "HTTP compliant"): in http mode the
//!   request channel does not auto-close, so the client's shutdown never
//!   becomes `CF_SHUTW_NOW` and the stream is queued, connected, retried and
//!   forwarded as if nothing happened; the server runs the request and its
//!   answer meets a closed socket. In tcp mode `CF_SHUTW_NOW` is set outside
//!   the connect state, but `back_may_abort_req()` only aborts an *empty*
//!   request buffer, and the model's request rides with its connection: the
//!   same outcome, and once connected the FIN is forwarded to the server.
//! - With it: the stream is aborted while it still may be — waiting in a
//!   queue (`CQ`), or before the server acknowledged the connection
//!   (assigned, connecting, or in a retry's turn-around: `CC`); the status
//!   logged is -1 and nothing is sent back. In http mode a request already
//!   forwarded is cut too (`http_wait_for_response()`, "client abort with an
//!   abortonclose": 400, `CH`): the request channel auto-closes, HAProxy
//!   shuts the server connection and frees the server's `maxconn` slot at
//!   once, while the server, which already has the request, may run it to
//!   the end (measured here: a Python backend did, every time —
//!   tests/validation/measured/haproxy-queue-abortonclose.toml). In tcp mode
//!   the FIN is forwarded and the server decides.
//! - A connection still in the listen backlog (not accepted, frontend
//!   `maxconn` reached): the FIN waits in the socket behind the request;
//!   HAProxy accepts it later, reads both, and the rules above apply.
//!
//! An aborted stream frees its `maxconn` slots at once: the frontend's
//! (the next connection of the listen backlog is accepted) and the
//! server's (its queue's oldest stream goes).

use super::{Haproxy, Phase};
use crate::process::{CallRef, Ctx, Msg, MsgKind};

impl Haproxy {
    /// The client closed its connection (`msg` is its FIN).
    pub(super) fn client_closed(&mut self, ctx: &mut Ctx, msg: &Msg) {
        // A kept connection names HAProxy's side; a connection of its own
        // only the client's (rare: scanned).
        let sref = self
            .client_session(msg)
            .or_else(|| self.session_of(msg.from, msg.call));
        let Some(sref) = sref else {
            if let Some(e) = self
                .listen_queue
                .iter_mut()
                .find(|e| e.0 == msg.from && e.1 == msg.call)
            {
                e.3 = true;
            }
            return;
        };
        let phase = self.sessions.get(sref.slot, sref.generation).expect("found").phase;
        match phase {
            // Between two requests: the connection simply ends.
            Phase::Idle => self.close_session(ctx, sref, None),
            Phase::Queued if self.abortonclose => self.client_abort(ctx, sref, "CQ"),
            Phase::Connecting | Phase::TurnAround if self.abortonclose => {
                self.client_abort(ctx, sref, "CC")
            }
            // http_wait_for_response() "client abort with an abortonclose":
            // the request channel auto-closes, the shutdown reaches the
            // server and the stream ends at once (400, `CH`), freeing the
            // server's slot; the server may still run the request.
            Phase::Established if self.abortonclose && self.http => {
                self.client_abort(ctx, sref, "CH")
            }
            _ => {
                let s = self
                    .sessions
                    .get_mut(sref.slot, sref.generation)
                    .expect("found");
                s.client_gone = true;
                // tcp mode: the shutdown is forwarded to the server once
                // connected (`channel_shutw_now()` then `sc_shutw()`).
                if !self.http
                    && phase == Phase::Established
                    && let Some(i) = s.srv
                {
                    let (aref, peer) = (s.attempt, s.server_peer);
                    let node = self.servers[i as usize].node;
                    ctx.send_peer(node, aref, peer, MsgKind::Close);
                }
            }
        }
    }

    /// `option abortonclose` aborts session `sref` (`CQ`: in a queue, `CC`:
    /// before the server acknowledged the connection): status -1, nothing
    /// sent back, the connection attempt closed.
    pub(super) fn client_abort(&mut self, ctx: &mut Ctx, sref: CallRef, state: &str) {
        self.log_end(ctx, sref, state);
        let phase = self.sessions.get(sref.slot, sref.generation).map(|s| s.phase);
        match phase {
            // A connection attempt to close.
            Some(Phase::Connecting | Phase::Established) => self.close_session(ctx, sref, None),
            // None open (a queued session's `attempt` is no live one).
            _ => self.end_session(ctx, sref, None),
        }
    }

    /// The session of the client's connection `(client, call)`.
    fn session_of(&self, client: u32, call: CallRef) -> Option<CallRef> {
        self.sessions
            .iter()
            .find(|(_, _, s)| s.client == client && s.client_call == call)
            .map(|(slot, generation, _)| CallRef { slot, generation })
    }
}
