//! Server selection (haproxy.md §7): which servers are usable, and the
//! `balance` algorithms over them.

use super::{Haproxy, Srv};
use crate::process::NodeId;
use crate::products::haproxy::config::Balance;

impl Srv {
    /// Can take one more connection now (`maxconn` 0 = unlimited).
    pub(super) fn has_room(&self) -> bool {
        self.maxconn == 0 || self.cur < self.slowstart.maxconn(self.maxconn)
    }

    /// Weight for the algorithms, in sixteenths (a warming-up server less).
    pub(super) fn eweight(&self) -> u32 {
        self.slowstart.weight16(self.weight)
    }
}

pub(super) enum Pick {
    /// Connect to this server now.
    Server(usize),
    /// Usable servers exist but all are full: wait in the backend queue.
    Queue,
    /// No usable server (and no backup): `<NOSRV>`.
    NoServer,
}

impl Haproxy {
    /// Recomputes the usable servers after a state change: active servers
    /// that are UP; if none, the first UP backup, or all of them with
    /// `option allbackups`.
    pub(super) fn refresh_candidates(&mut self) {
        let s = &self.servers;
        let mut c: Vec<usize> = (0..s.len()).filter(|&i| !s[i].backup && s[i].up).collect();
        if c.is_empty() {
            let backups = (0..s.len()).filter(|&i| s[i].backup && s[i].up);
            if self.allbackups {
                c.extend(backups);
            } else {
                c.extend(backups.take(1));
            }
        }
        let w = c.first().map(|&i| s[i].eweight());
        self.equal_weights = c.iter().all(|&i| Some(s[i].eweight()) == w);
        self.candidates = c;
    }

    /// Active servers counted by the redispatch rule ("more than one UP").
    pub(super) fn active_up(&self) -> usize {
        self.servers.iter().filter(|s| !s.backup && s.up).count()
    }

    /// Round robin over equal weights inline (B1's balancer, per request);
    /// the other algorithms out of line.
    #[inline]
    pub(super) fn pick(&mut self, client: NodeId) -> Pick {
        if self.candidates.is_empty() {
            return Pick::NoServer;
        }
        if self.balance == Balance::RoundRobin && self.equal_weights {
            return self.rotate();
        }
        self.pick_weighted(client)
    }

    #[inline(never)]
    fn pick_weighted(&mut self, client: NodeId) -> Pick {
        // Reused buffers: no allocation per request.
        let cands = std::mem::take(&mut self.candidates);
        let mut open = std::mem::take(&mut self.scratch);
        open.clear();
        open.extend(
            cands
                .iter()
                .copied()
                .filter(|&i| self.servers[i].has_room()),
        );
        let pick = self.pick_among(client, &cands, &open);
        self.candidates = cands;
        self.scratch = open;
        pick
    }

    fn pick_among(&mut self, client: NodeId, cands: &[usize], open: &[usize]) -> Pick {
        if open.is_empty() {
            return Pick::Queue;
        }
        let chosen = match self.balance {
            Balance::RoundRobin => self.smooth_weighted_rr(open),
            Balance::LeastConn => {
                // Fewest connections (+ queued); ties by round robin order.
                let load = |i: usize| self.servers[i].cur as usize + self.servers[i].queue.len();
                let min = open.iter().map(|&i| load(i)).min().unwrap_or(0);
                let tied: Vec<usize> = open.iter().copied().filter(|&i| load(i) == min).collect();
                self.smooth_weighted_rr(&tied)
            }
            Balance::First => open[0],
            Balance::Source => {
                // map-based hash of the client address over the running servers' weights.
                let total: u64 = cands
                    .iter()
                    .map(|&i| self.servers[i].eweight() as u64)
                    .sum();
                let mut h = crate::engine::rng::mix64(client as u64 ^ 0x5eed) % total.max(1);
                let mut pick = cands[0];
                for &i in cands {
                    let w = self.servers[i].eweight() as u64;
                    if h < w {
                        pick = i;
                        break;
                    }
                    h -= w;
                }
                if !self.servers[pick].has_room() {
                    return Pick::Queue;
                }
                pick
            }
        };
        Pick::Server(chosen)
    }

    /// Round robin over equal weights: the next server with room, in order
    /// (the sequence smooth weighted round robin gives), without a scan.
    /// The position wraps by a compare, not a division per request.
    #[inline]
    fn rotate(&mut self) -> Pick {
        let n = self.candidates.len();
        let mut at = self.rr_next;
        if at >= n {
            at %= n; // the candidates shrank
        }
        for _ in 0..n {
            let i = self.candidates[at];
            at += 1;
            if at == n {
                at = 0;
            }
            if self.servers[i].has_room() {
                self.rr_next = at;
                return Pick::Server(i);
            }
        }
        Pick::Queue
    }

    /// Smooth weighted round robin (HAProxy's roundrobin gives the same
    /// sequence for equal weights: s1, s2, s3, s1, ...).
    fn smooth_weighted_rr(&mut self, among: &[usize]) -> usize {
        let total: i64 = among
            .iter()
            .map(|&i| self.servers[i].eweight() as i64)
            .sum();
        for &i in among {
            let s = &mut self.servers[i];
            s.rr_weight += s.eweight() as i64;
        }
        let mut best = among[0];
        for &i in among {
            if self.servers[i].rr_weight > self.servers[best].rr_weight {
                best = i;
            }
        }
        self.servers[best].rr_weight -= total;
        best
    }
}
