//! Active health checks (haproxy.md §2–§4): when each check starts, how long
//! a failing one lasts, and the rise/fall state machine.

use super::{CHECK_BIT, Haproxy, HaproxyTimer};
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::process::{Boot, CallRef, Ctx, MsgKind, Req, ReqKind, TimerKey};
use crate::products::haproxy::config::{HaproxyServerSpec, Observe, OnError};
use rand::Rng as _;

/// HAProxy 2.6's scheduler, as far as `timeout check` depends on it. When a
/// check's connection completes, tcpcheck_eval_connect (src/tcpcheck.c)
/// moves the task's expiry to now + `timeout check` but does not requeue the
/// task: it stays in the timer tree at start + C. Only a later pass of
/// wake_expired_tasks (src/task.c) — at the next wake-up of the event loop
/// for any reason — sees the earlier expiry and wakes or requeues it (fixed
/// upstream by 7c788f098, 2025, which requeues on I/O; not in 2.6.12).
/// An idle process still wakes once a second: the task of the `default`
/// resolvers section every 2.6 creates from resolv.conf
/// (resolvers_create_default, `timeout resolve` 1 s). Measured here with
/// strace on Debian's 2.6.12: epoll_wait timeouts of 1001 ms when idle, and
/// a failing check's duration equal to the first wake-up after connect +
/// `timeout check` (docs/haproxy-timeout-check.md).
#[derive(Clone, Copy, Default)]
pub struct LoopWakes {
    /// Checks connected since the loop last woke (their expiry not yet seen).
    unseen: u32,
    /// The resolvers task's phase: it runs at `phase + k s`.
    resolvers_phase: SimTime,
    /// A `ResolversTick` is pending.
    tick_armed: bool,
}

/// Period of the `default` resolvers task: it re-arms at its run + 1 s
/// (`timeout resolve`), and the poller, which sleeps whole milliseconds
/// plus one (compute_poll_timeout), runs it a millisecond late: 1001 ms
/// between runs, as strace showed. The drift keeps it from locking onto
/// the checks' own period.
pub const RESOLVERS_TICK: Dur = Dur::from_ms(1001);

#[derive(Clone, Copy)]
pub struct CheckConfig {
    pub http: bool,
    pub timeout_check: Option<Dur>,
    pub timeout_connect: Option<Dur>,
    /// `spread-checks` percent.
    pub spread: u32,
    /// Some server has `observe`: real traffic adjusts its health.
    pub observing: bool,
}

#[derive(Clone)]
pub struct CheckState {
    pub enabled: bool,
    /// What an HTTP check asks this server (its product's code for the path).
    pub code: u32,
    pub inter: Dur,
    pub fastinter: Dur,
    pub downinter: Dur,
    pub rise: u32,
    pub fall: u32,
    /// 0 ..= rise + fall - 1; UP iff >= rise (once UP, until it falls to 0).
    pub health: u32,
    pub seq: u32,
    pub in_flight: bool,
    /// The pending `CheckStart` (a reschedule cancels it) and when it fires.
    pub next_key: TimerKey,
    pub next_at: SimTime,
    pub fastinter_set: bool,
    pub observe: Option<Observe>,
    pub error_limit: u32,
    pub on_error: OnError,
    pub consecutive_errors: u32,
    pub started: SimTime,
    pub connected_at: Option<SimTime>,
    /// The task was requeued (or woken) after its connection completed.
    pub expiry_seen: bool,
}

impl CheckState {
    pub fn new(s: &HaproxyServerSpec) -> CheckState {
        CheckState {
            enabled: s.check,
            code: s.check_code,
            inter: s.inter,
            fastinter: s.fastinter,
            downinter: s.downinter,
            rise: s.rise,
            fall: s.fall,
            // src/server.c: health = rise: UP but transitional at start-up.
            health: s.rise,
            seq: 0,
            in_flight: false,
            next_key: TimerKey::NONE,
            next_at: SimTime::ZERO,
            fastinter_set: s.fastinter_set,
            observe: s.observe,
            error_limit: s.error_limit,
            on_error: s.on_error,
            consecutive_errors: 0,
            started: SimTime::ZERO,
            connected_at: None,
            expiry_seen: false,
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
    /// `observe`: error-limit consecutive errors of real traffic.
    Analyze(u32, &'static str),
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
            Failure::Analyze(n, last) => {
                format!(
                    "Health analyze, info: \"Detected {n} consecutive errors, last one was: {last}\""
                )
            }
            Failure::L7Sts(code) => {
                format!("Layer7 wrong status, code: {code}, check duration: {ms}ms")
            }
        }
    }
}

impl Haproxy {
    /// `start_checks()`: the check at global position `pos` of `n` first runs
    /// `max(min_inter, interval) * pos / n` after start, where `min_inter` is
    /// the smallest interval of at least 1 s among all checks; a process
    /// booted before the run is at the same place of that cycle (`boot`).
    pub(super) fn schedule_first_checks(&mut self, ctx: &mut Ctx, boot: Boot) {
        self.wakes.resolvers_phase = ctx.now + boot.first(Dur::ZERO, RESOLVERS_TICK);
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
            let cycle = min_inter.max(own);
            let offset = Dur(cycle.0 * pos as u64 / n);
            let c = &mut self.servers[i].check;
            c.next_at = ctx.now + boot.first(offset, cycle);
            let start = HaproxyTimer::CheckStart { server: i as u32 };
            c.next_key = ctx.at_cancellable(c.next_at, start);
        }
    }

    /// The scheduled check of server `i` starts.
    pub(super) fn start_check(&mut self, ctx: &mut Ctx, i: usize) {
        let http = self.checks.http;
        let node = self.servers[i].node;
        let c = &mut self.servers[i].check;
        if c.in_flight {
            return;
        }
        c.seq = c.seq.wrapping_add(1);
        c.in_flight = true;
        c.started = ctx.now;
        c.connected_at = None;
        c.expiry_seen = false;
        let call = CallRef {
            slot: CHECK_BIT | i as u32,
            generation: c.seq,
        };
        let req = if http {
            Req::http_check(c.code)
        } else {
            Req::once(ReqKind::L4Check, true)
        };
        ctx.send(node, call, MsgKind::Connect(req));
        // §2: the task wakes at start + C whatever happens in between.
        let bound = match (self.checks.timeout_check, self.checks.timeout_connect) {
            (Some(_), Some(tc)) => c.inter.min(tc),
            _ => c.inter,
        };
        let wake = HaproxyTimer::CheckTimeout {
            server: i as u32,
            seq: c.seq,
        };
        ctx.at(ctx.now + bound, wake);
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
            MsgKind::Established => {
                c.connected_at = Some(ctx.now);
                if self.checks.timeout_check.is_some() {
                    self.connected_unseen(ctx);
                }
            }
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
            // No check speaks SQL: no database answers one with its error.
            MsgKind::Connect(_)
            | MsgKind::Request(_)
            | MsgKind::Close
            | MsgKind::Wire(_)
            | MsgKind::DbError(_) => {}
        }
    }

    /// A check connected: its new expiry waits for the loop's next wake-up;
    /// an idle loop is woken by the resolvers task at the latest.
    fn connected_unseen(&mut self, ctx: &mut Ctx) {
        let w = &mut self.wakes;
        w.unseen += 1;
        if !w.tick_armed {
            w.tick_armed = true;
            let since = ctx.now.since(w.resolvers_phase).0 % RESOLVERS_TICK.0;
            ctx.at(ctx.now + Dur(RESOLVERS_TICK.0 - since), HaproxyTimer::ResolversTick);
        }
    }

    /// The event loop woke (any event of this process): every check whose
    /// connection completed since is seen at its `timeout check` expiry —
    /// failed now if that has passed, else requeued there.
    #[inline]
    pub(super) fn loop_woke(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.wakes.unseen != 0 {
            self.see_connected_checks(ctx, rng);
        }
    }

    /// [`Haproxy::loop_woke`] when checks connected since: out of the
    /// per-message path (with `timeout check` set, at most once per check).
    #[cold]
    #[inline(never)]
    fn see_connected_checks(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.wakes.unseen = 0;
        let Some(tchk) = self.checks.timeout_check else {
            return;
        };
        for i in 0..self.servers.len() {
            let c = &mut self.servers[i].check;
            let Some(conn) = c.connected_at.filter(|_| c.in_flight && !c.expiry_seen) else {
                continue;
            };
            c.expiry_seen = true;
            if conn + tchk <= ctx.now {
                self.check_done(ctx, rng, i, Some(Failure::L7Tout));
            } else {
                let wake = HaproxyTimer::CheckTimeout {
                    server: i as u32,
                    seq: c.seq,
                };
                ctx.at(conn + tchk, wake);
            }
        }
    }

    /// The resolvers task ran (an event of its own: the loop woke).
    pub(super) fn resolvers_tick(&mut self) {
        self.wakes.tick_armed = false;
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
                    let wake = HaproxyTimer::CheckTimeout {
                        server: i as u32,
                        seq,
                    };
                    ctx.at(conn + tchk, wake)
                }
                _ => self.check_done(ctx, rng, i, Some(Failure::L7Tout)),
            },
        }
    }

    /// A check ended: §3's state machine, then the next check from the end
    /// of this one.
    fn check_done(&mut self, ctx: &mut Ctx, rng: &mut Rng, i: usize, failure: Option<Failure>) {
        let c = &mut self.servers[i].check;
        c.in_flight = false;
        let took = ctx.now - c.started;
        self.apply_result(ctx, i, failure, took);
        let spread = self.checks.spread;
        let srv = &mut self.servers[i];
        let mut next = srv.check.interval(srv.up);
        if spread > 0 {
            let p = rng.random_range(-(spread as i64)..=spread as i64);
            next = Dur((next.0 as i64 + next.0 as i64 * p / 100).max(0) as u64);
        }
        self.schedule_check(ctx, i, ctx.now + next);
    }

    fn schedule_check(&mut self, ctx: &mut Ctx, i: usize, at: SimTime) {
        let c = &mut self.servers[i].check;
        ctx.cancel(c.next_key);
        c.next_at = at;
        c.next_key = ctx.at_cancellable(at, HaproxyTimer::CheckStart { server: i as u32 });
    }

    /// Applies one result (a check's, or one simulated by `observe`) and
    /// logs and acts on a change of state.
    fn apply_result(&mut self, ctx: &mut Ctx, i: usize, failure: Option<Failure>, took: Dur) {
        let srv = &mut self.servers[i];
        let was_up = srv.up;
        srv.up = srv.check.record(failure.is_none(), was_up);
        if was_up == srv.up {
            return;
        }
        let node = srv.node;
        self.refresh_candidates();
        let (active, backup) = (
            self.active_up(),
            self.servers.iter().filter(|s| s.backup && s.up).count(),
        );
        let name = &self.servers[i].name;
        if self.servers[i].up {
            let layer = if self.checks.http { 7 } else { 4 };
            let detail = format!(
                "Server {name} is UP, reason: Layer{layer} check passed, check duration: {}ms. {active} active and {backup} backup servers online.",
                took.0 / 1_000_000
            );
            ctx.log(node, EventKind::MarkedUp, detail);
            self.start_warmup(ctx, i);
            self.on_marked_up(ctx, i);
        } else {
            let why = failure.map(|f| f.describe(took)).unwrap_or_default();
            let detail = format!(
                "Server {name} is DOWN, reason: {why}. {active} active and {backup} backup servers left."
            );
            ctx.log(node, EventKind::MarkedDown, detail);
            self.stop_warmup(i);
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

    /// `observe` (§5, `__health_adjust()`): a connection or response of real
    /// traffic to server `i` succeeded (`error = None`) or failed. After
    /// `error-limit` consecutive errors, `on-error` acts once.
    #[inline]
    pub(super) fn health_adjust(
        &mut self,
        ctx: &mut Ctx,
        i: usize,
        error: Option<&'static str>,
        layer7: bool,
    ) {
        if self.checks.observing {
            self.observe(ctx, i, error, layer7);
        }
    }

    /// [`Haproxy::health_adjust`] in a backend where some server has
    /// `observe` (most have none: nothing to do per request).
    #[inline(never)]
    fn observe(&mut self, ctx: &mut Ctx, i: usize, error: Option<&'static str>, layer7: bool) {
        let c = &mut self.servers[i].check;
        let Some(observe) = c.observe else { return };
        if layer7 && observe == Observe::Layer4 {
            return;
        }
        let Some(what) = error else {
            c.consecutive_errors = 0;
            return;
        };
        c.consecutive_errors += 1;
        if c.consecutive_errors < c.error_limit {
            return;
        }
        let n = c.consecutive_errors;
        c.consecutive_errors = 0;
        let fail = match c.on_error {
            OnError::Fastinter => false,
            OnError::FailCheck => true,
            OnError::SuddenDeath => {
                c.health = c.health.min(c.rise + 1);
                true
            }
            OnError::MarkDown => {
                c.health = c.rise;
                true
            }
        };
        if fail {
            self.apply_result(ctx, i, Some(Failure::Analyze(n, what)), Dur::ZERO);
        }
        // Every mode brings the next check forward, only if fastinter is set.
        let c = &self.servers[i].check;
        let sooner = ctx.now + c.fastinter;
        if c.enabled && c.fastinter_set && !c.in_flight && sooner < c.next_at {
            self.schedule_check(ctx, i, sooner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rise: u32, fall: u32) -> CheckState {
        let spec = HaproxyServerSpec {
            name: "s".into(),
            check_code: 0,
            weight: 1,
            backup: false,
            maxconn: 0,
            check: true,
            inter: Dur::from_secs(2),
            fastinter: Dur::from_secs(1),
            downinter: Dur::from_secs(5),
            rise,
            fall,
            fastinter_set: true,
            slowstart_s: 0,
            observe: None,
            error_limit: 10,
            on_error: OnError::FailCheck,
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
