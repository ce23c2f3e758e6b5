//! `slowstart` (haproxy.md §4, src/server.c `server_recalc_eweight()`,
//! `server_warmup()`): a server that comes back UP after being DOWN starts
//! with a fraction of its weight and dynamic `maxconn`, growing linearly over
//! `slowstart` seconds, recomputed every max(1 s, slowstart/20) from whole
//! seconds since the UP mark. Not applied at start-up.

use super::{Haproxy, HaproxyTimer};
use crate::engine::Dur;
use crate::process::Ctx;

/// `lbprm.wdiv` of the dynamic algorithms: weights count in sixteenths.
const WDIV: u32 = 16;

#[derive(Clone, Copy, Debug)]
pub struct Warmup {
    /// `slowstart` in whole seconds (0 = off).
    seconds: u64,
    /// While STARTING: the second of the UP mark, and the weight factor now
    /// (`w` of `server_recalc_eweight()`, out of WDIV).
    since_s: Option<u64>,
    w: u32,
}

impl Warmup {
    pub fn new(seconds: u64) -> Warmup {
        Warmup {
            seconds,
            since_s: None,
            w: WDIV,
        }
    }

    /// Weight in sixteenths for the balancing algorithms.
    pub fn weight16(&self, uweight: u32) -> u32 {
        uweight * self.w
    }

    /// `srv_dynamic_maxconn()`: maxconn scaled by the throttle, at least 1.
    pub fn maxconn(&self, maxconn: u32) -> u32 {
        (maxconn * self.w / WDIV).max(1)
    }

    /// Recomputes `w` at whole second `now_s`; false once warm.
    fn recalc(&mut self, now_s: u64) -> bool {
        let Some(since) = self.since_s else {
            return false;
        };
        let elapsed = now_s.saturating_sub(since);
        if elapsed >= self.seconds {
            self.since_s = None;
            self.w = WDIV;
            return false;
        }
        self.w = ((WDIV as u64 * elapsed + self.seconds) / self.seconds).min(WDIV as u64) as u32;
        true
    }
}

impl Haproxy {
    /// Server `i` was marked UP after being DOWN: start its warm-up.
    pub(super) fn start_warmup(&mut self, ctx: &mut Ctx, i: usize) {
        let w = &mut self.servers[i].slowstart;
        if w.seconds == 0 {
            return;
        }
        w.since_s = Some(ctx.now.0 / Dur::S);
        self.warmup_tick(ctx, i);
    }

    pub(super) fn warmup_tick(&mut self, ctx: &mut Ctx, i: usize) {
        let w = &mut self.servers[i].slowstart;
        let warming = w.recalc(ctx.now.0 / Dur::S);
        // server_warmup(): back in 1 s or slowstart/20, whichever is greater.
        let period = Dur((w.seconds * Dur::S / 20).max(Dur::S));
        self.refresh_candidates();
        if warming {
            ctx.at(ctx.now + period, HaproxyTimer::Warmup { server: i as u32 });
        }
    }

    /// The server went DOWN: a later UP starts a new warm-up.
    pub(super) fn stop_warmup(&mut self, i: usize) {
        let w = &mut self.servers[i].slowstart;
        w.since_s = None;
        w.w = WDIV;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_grows_linearly_from_a_first_step_to_full() {
        let mut w = Warmup::new(10);
        w.since_s = Some(100);
        let steps: Vec<u32> = (100..=110)
            .map(|s| {
                w.recalc(s);
                w.w
            })
            .collect();
        // (16 * elapsed + 10) / 10: 1, 2, 4, 5, 7, 9, 10, 12, 13, 15, then full.
        assert_eq!(steps, vec![1, 2, 4, 5, 7, 9, 10, 12, 13, 15, 16]);
        assert_eq!(w.maxconn(32), 32);
    }

    #[test]
    fn dynamic_maxconn_is_at_least_one() {
        let mut w = Warmup::new(60);
        w.since_s = Some(0);
        w.recalc(0);
        assert_eq!(w.maxconn(4), 1);
    }
}
