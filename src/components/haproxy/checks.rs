//! Active health checks (haproxy.md §2–§4): when each check starts, how long
//! a failing one lasts, and the rise/fall state machine.

use super::{CHECK_BIT, CHECK_START, CHECK_TIMEOUT, Haproxy};
use crate::components::{CallRef, Ctx, MsgKind, Req, ReqKind};
use crate::config::spec::HaproxyServerSpec;
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use rand::Rng as _;

#[derive(Clone, Copy)]
pub struct CheckConfig {
    pub http: bool,
    pub timeout_check: Option<Dur>,
    pub timeout_connect: Option<Dur>,
    /// `spread-checks` percent.
    pub spread: u32,
}

#[derive(Clone)]
pub struct CheckState {
    pub enabled: bool,
    pub inter: Dur,
    pub fastinter: Dur,
    pub downinter: Dur,
    pub rise: u32,
    pub fall: u32,
    /// 0 ..= rise + fall - 1; UP iff >= rise (once UP, until it falls to 0).
    pub health: u32,
    pub seq: u32,
    pub in_flight: bool,
    pub started: SimTime,
    pub connected_at: Option<SimTime>,
}

impl CheckState {
    pub fn new(s: &HaproxyServerSpec) -> CheckState {
        CheckState {
            enabled: s.check,
            inter: s.inter,
            fastinter: s.fastinter,
            downinter: s.downinter,
            rise: s.rise,
            fall: s.fall,
            // src/server.c: health = rise: UP but transitional at start-up.
            health: s.rise,
            seq: 0,
            in_flight: false,
            started: SimTime::ZERO,
            connected_at: None,
        }
    }

    fn full(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// §3: applies one check result to the health counter; returns whether
    /// the server is UP afterwards (`up` = before).
    pub fn record(&mut self, ok: bool, up: bool) -> bool {
        if ok {
            if self.health < self.full() {
                self.health += 1;
            }
            if self.health >= self.rise {
                self.health = self.full();
                return true;
            }
        } else {
            self.health = self.health.saturating_sub(1);
            if self.health < self.rise {
                self.health = 0;
                return false;
            }
        }
        up
    }

    /// `srv_getinter()`: the interval before the next check.
    pub fn interval(&self, up: bool) -> Dur {
        if self.health == self.full() {
            self.inter
        } else if !up && self.health == 0 {
            self.downinter
        } else {
            self.fastinter
        }
    }
}

/// Why a check failed, in HAProxy's words.
#[derive(Clone, Copy)]
enum Failure {
    L4Con(&'static str),
    L4Tout,
    L7Tout,
    L7Sts(u16),
}

impl Failure {
    fn describe(self, d: Dur) -> String {
        let ms = d.0 / 1_000_000;
        match self {
            Failure::L4Con(info) => {
                format!("Layer4 connection problem, info: \"{info}\", check duration: {ms}ms")
            }
            Failure::L4Tout => format!("Layer4 timeout, check duration: {ms}ms"),
            Failure::L7Tout => format!("Layer7 timeout, check duration: {ms}ms"),
            Failure::L7Sts(code) => {
                format!("Layer7 wrong status, code: {code}, check duration: {ms}ms")
            }
        }
    }
}

impl Haproxy {
    /// `start_checks()`: the check at global position `pos` of `n` first runs
    /// `max(min_inter, interval) * pos / n` after start, where `min_inter` is
    /// the smallest interval of at least 1 s among all checks.
    pub(super) fn schedule_first_checks(&mut self, ctx: &mut Ctx) {
        let checked: Vec<usize> = (0..self.servers.len())
            .filter(|&i| self.servers[i].check.enabled)
            .collect();
        let n = checked.len() as u64;
        let min_inter = checked
            .iter()
            .map(|&i| self.servers[i].check.interval(true))
            .filter(|d| *d >= Dur::from_secs(1))
            .min()
            .unwrap_or(Dur::from_secs(1));
        for (pos, &i) in checked.iter().enumerate() {
            let own = self.servers[i].check.interval(true);
            let offset = Dur(min_inter.max(own).0 * pos as u64 / n);
            ctx.timer(ctx.now + offset, CHECK_START, i as u32, 0);
        }
    }

    pub(super) fn start_check(&mut self, ctx: &mut Ctx, i: usize) {
        let http = self.checks.http;
        let node = self.servers[i].node;
        let c = &mut self.servers[i].check;
        c.seq = c.seq.wrapping_add(1);
        c.in_flight = true;
        c.started = ctx.now;
        c.connected_at = None;
        let call = CallRef {
            slot: CHECK_BIT | i as u32,
            generation: c.seq,
        };
        let kind = if http {
            ReqKind::HttpCheck
        } else {
            ReqKind::L4Check
        };
        ctx.send(node, call, MsgKind::Connect(Req::once(kind, true)));
        // §2: the task wakes at start + C whatever happens in between.
        let bound = match (self.checks.timeout_check, self.checks.timeout_connect) {
            (Some(_), Some(tc)) => c.inter.min(tc),
            _ => c.inter,
        };
        ctx.timer(ctx.now + bound, CHECK_TIMEOUT, i as u32, c.seq);
    }

    pub(super) fn on_check_reply(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        i: usize,
        seq: u32,
        kind: MsgKind,
    ) {
        let Some(srv) = self.servers.get_mut(i) else {
            return;
        };
        let c = &mut srv.check;
        if !c.in_flight || c.seq != seq {
            return;
        }
        match kind {
            MsgKind::Established if !self.checks.http => self.check_done(ctx, rng, i, None),
            MsgKind::Established => c.connected_at = Some(ctx.now),
            MsgKind::Response { status } if (200..400).contains(&status) => {
                self.check_done(ctx, rng, i, None)
            }
            MsgKind::Response { status } => {
                self.check_done(ctx, rng, i, Some(Failure::L7Sts(status)))
            }
            MsgKind::Refused => {
                self.check_done(ctx, rng, i, Some(Failure::L4Con("Connection refused")))
            }
            MsgKind::Unreachable => {
                self.check_done(ctx, rng, i, Some(Failure::L4Con("No route to host")))
            }
            MsgKind::Reset | MsgKind::Closed => self.check_done(
                ctx,
                rng,
                i,
                Some(Failure::L4Con("Connection reset by peer")),
            ),
            MsgKind::Connect(_) | MsgKind::Request(_) | MsgKind::Close => {}
        }
    }

    /// The check task wakes at start + C (§2): L4 timeout if the handshake
    /// did not complete, else L7 timeout once `connected + timeout check` has
    /// passed (in 2.6 it can lengthen the check, never shorten it below C).
    pub(super) fn check_timed_out(&mut self, ctx: &mut Ctx, rng: &mut Rng, i: usize, seq: u32) {
        let c = &self.servers[i].check;
        if !c.in_flight || c.seq != seq {
            return;
        }
        match c.connected_at {
            None => self.check_done(ctx, rng, i, Some(Failure::L4Tout)),
            Some(conn) => match self.checks.timeout_check {
                Some(tchk) if conn + tchk > ctx.now => {
                    ctx.timer(conn + tchk, CHECK_TIMEOUT, i as u32, seq)
                }
                _ => self.check_done(ctx, rng, i, Some(Failure::L7Tout)),
            },
        }
    }

    /// §3: the health state machine, then the next check from the end of this one.
    fn check_done(&mut self, ctx: &mut Ctx, rng: &mut Rng, i: usize, failure: Option<Failure>) {
        let spread = self.checks.spread;
        let srv = &mut self.servers[i];
        let c = &mut srv.check;
        c.in_flight = false;
        let took = ctx.now - c.started;
        let was_up = srv.up;
        srv.up = c.record(failure.is_none(), was_up);
        let mut next = c.interval(srv.up);
        if spread > 0 {
            let p = rng.random_range(-(spread as i64)..=spread as i64);
            next = Dur((next.0 as i64 + next.0 as i64 * p / 100).max(0) as u64);
        }
        ctx.timer(ctx.now + next, CHECK_START, i as u32, 0);
        let node = srv.node;
        if was_up != srv.up {
            self.refresh_candidates();
            let (active, backup) = (
                self.active_up(),
                self.servers.iter().filter(|s| s.backup && s.up).count(),
            );
            let name = &self.servers[i].name;
            if self.servers[i].up {
                let detail = format!(
                    "Server {name} is UP, reason: Layer{} check passed, check duration: {}ms. {active} active and {backup} backup servers online.",
                    if self.checks.http { 7 } else { 4 },
                    took.0 / 1_000_000
                );
                ctx.log(node, EventKind::MarkedUp, detail);
                self.on_marked_up(ctx, i);
            } else {
                let why = failure.map(|f| f.describe(took)).unwrap_or_default();
                let detail = format!(
                    "Server {name} is DOWN, reason: {why}. {active} active and {backup} backup servers left."
                );
                ctx.log(node, EventKind::MarkedDown, detail);
                if active + backup == 0 {
                    ctx.log(
                        node,
                        EventKind::NoServerLeft,
                        "backend has no server available!",
                    );
                }
                self.on_marked_down(ctx, i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rise: u32, fall: u32) -> CheckState {
        let spec = HaproxyServerSpec {
            name: "s".into(),
            weight: 1,
            backup: false,
            maxconn: 0,
            check: true,
            inter: Dur::from_secs(2),
            fastinter: Dur::from_secs(1),
            downinter: Dur::from_secs(5),
            rise,
            fall,
        };
        CheckState::new(&spec)
    }

    /// Feeds results; returns UP after each.
    fn feed(c: &mut CheckState, mut up: bool, results: &str) -> String {
        results
            .chars()
            .map(|r| {
                up = c.record(r == '+', up);
                if up { 'U' } else { 'D' }
            })
            .collect()
    }

    #[test]
    fn at_start_up_one_failure_marks_down() {
        let mut c = state(2, 3);
        assert_eq!(feed(&mut c, true, "-"), "D");
    }

    #[test]
    fn from_full_health_exactly_fall_failures_mark_down_and_a_success_restores() {
        let mut c = state(2, 3);
        feed(&mut c, true, "+");
        assert_eq!(c.health, c.full());
        assert_eq!(feed(&mut c, true, "--+"), "UUU");
        assert_eq!(
            c.health,
            c.full(),
            "any success while UP restores full health"
        );
        assert_eq!(feed(&mut c, true, "---"), "UUD");
    }

    #[test]
    fn rising_needs_rise_consecutive_successes_and_a_failure_resets() {
        let mut c = state(3, 2);
        assert_eq!(feed(&mut c, true, "-"), "D");
        assert_eq!(feed(&mut c, false, "++-+++"), "DDDDDU");
    }

    #[test]
    fn intervals_follow_the_state() {
        let mut c = state(2, 3);
        feed(&mut c, true, "+");
        assert_eq!(c.interval(true), Dur::from_secs(2), "full health: inter");
        feed(&mut c, true, "-");
        assert_eq!(
            c.interval(true),
            Dur::from_secs(1),
            "transitional: fastinter"
        );
        let up = c.record(false, true);
        let up = c.record(false, up);
        assert!(!up);
        assert_eq!(c.interval(up), Dur::from_secs(5), "down: downinter");
    }
}
