//! Timeouts: `timeout connect`, `timeout server` (and `timeout client` in tcp
//! mode), `timeout queue`, and the idle timeout of kept connections — each a
//! deadline FIFO with one pending wake-up.

use super::{ConnFailure, Haproxy, HaproxyTimer, Phase};
use crate::engine::SimTime;
use crate::process::{CallRef, Ctx, MsgKind};

impl Haproxy {
    /// Whether a wake-up for a finished request must still happen: with
    /// `timeout check`, every event of the process runs its event loop,
    /// which looks at the checks that connected since ([`Haproxy::loop_woke`]),
    /// so skipping one would move when a check times out.
    fn every_wakeup_counts(&self) -> bool {
        self.checks.timeout_check.is_some()
    }

    /// `timeout connect`: attempts whose handshake has not completed fail.
    pub(super) fn connect_expired(&mut self, ctx: &mut Ctx) {
        let (attempts, every) = (&self.attempts, self.every_wakeup_counts());
        // An attempt is established once: one established by its deadline
        // never times out connecting.
        ctx.expire_with(&mut self.connect_deadlines, HaproxyTimer::ConnectDeadline, |r, at| {
            every
                || attempts
                    .get(r.slot, r.generation)
                    .is_some_and(|a| a.established_at > at)
        });
        while let Some(r) = self.connect_deadlines.next_due().map(CallRef::from) {
            let Some(a) = self.attempts.get(r.slot, r.generation).copied() else {
                continue;
            };
            if a.established_at > ctx.now {
                self.attempts.remove(r.slot, r.generation);
                self.connect_failed(ctx, a.session, ConnFailure::Timeout);
            }
        }
    }

    /// `timeout server`: the FIFO holds each attempt's earliest deadline; the
    /// exact one may be later.
    pub(super) fn response_expired(&mut self, ctx: &mut Ctx) {
        let (attempts, every) = (&self.attempts, self.every_wakeup_counts());
        ctx.expire_with(&mut self.response_deadlines, HaproxyTimer::ResponseDeadline, |r, _| {
            every || attempts.contains(r.slot, r.generation)
        });
        while let Some(r) = self.response_deadlines.next_due().map(CallRef::from) {
            match self.response_deadline(r) {
                Some(exact) if exact <= ctx.now => self.response_timed_out(ctx, r),
                Some(exact) => ctx.at(exact, HaproxyTimer::ResponseExact { attempt: r }),
                None => {}
            }
        }
    }

    /// The idle timeout of kept client connections.
    pub(super) fn idle_expired(&mut self, ctx: &mut Ctx) {
        let t = self.timeout_idle.unwrap_or_default();
        let (sessions, now, every) = (&self.sessions, ctx.now, self.every_wakeup_counts());
        // Only the deadline of a connection's latest idle spell counts; a busy
        // one goes idle again later, with a later deadline.
        ctx.expire_with(&mut self.idle_deadlines, HaproxyTimer::IdleDeadline, |r, at| {
            every
                || sessions.get(r.slot, r.generation).is_some_and(|s| {
                    s.idle_since + t == at && (s.phase == Phase::Idle || s.idle_since == now)
                })
        });
        while let Some(r) = self.idle_deadlines.next_due().map(CallRef::from) {
            let idle = self.sessions.get(r.slot, r.generation);
            if idle.is_some_and(|s| s.phase == Phase::Idle && s.idle_since + t <= ctx.now) {
                self.close_session(ctx, r, Some(MsgKind::Closed));
            }
        }
    }

    /// `timeout queue`: sessions still queued give up (`sQ`).
    pub(super) fn queue_expired(&mut self, ctx: &mut Ctx) {
        let (sessions, every) = (&self.sessions, self.every_wakeup_counts());
        ctx.expire_with(&mut self.queue_deadlines, HaproxyTimer::QueueDeadline, |r, _| {
            every || sessions.contains(r.slot, r.generation)
        });
        while let Some(r) = self.queue_deadlines.next_due().map(CallRef::from) {
            if self
                .sessions
                .get(r.slot, r.generation)
                .is_some_and(|s| s.phase == Phase::Queued)
            {
                self.give_up(ctx, r, "sQ");
            }
        }
    }

    /// When `timeout server` expires for attempt `aref`, if it awaits a reply:
    /// counted from the later of the handshake and the request's sending.
    pub(super) fn response_deadline(&self, aref: CallRef) -> Option<SimTime> {
        let a = self.attempts.get(aref.slot, aref.generation)?;
        let s = self.sessions.get(a.session.slot, a.session.generation)?;
        if a.established_at == SimTime::NEVER || s.phase != Phase::Established {
            return None; // still connecting (the connect timeout decides), or idle
        }
        Some(a.established_at.max(a.sent_at) + self.timeout_response?)
    }

    /// `timeout server` while waiting for the reply: 504 (http) or a close.
    pub(super) fn response_timed_out(&mut self, ctx: &mut Ctx, aref: CallRef) {
        let answer = if self.http {
            MsgKind::Response { status: 504 }
        } else {
            MsgKind::Closed
        };
        if let Some(a) = self.attempts.get(aref.slot, aref.generation).copied() {
            if let Some(i) = self.session_server(a.session) {
                self.health_adjust(ctx, i, Some("L7 timeout"), true);
            }
            self.log_end(ctx, a.session, "sH");
            self.close_session(ctx, a.session, Some(answer));
        }
    }
}
