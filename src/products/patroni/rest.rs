//! Patroni's REST API as a balancer's health check reaches it (api.py of
//! 3.0.2): `do_GET` picks the answer by substrings of the path (`/` means
//! `/primary`), `?lag=` bounds a replica's replay lag; `/liveness` and
//! `/readiness` have handlers of their own. HAProxy's `option httpchk` path is
//! parsed once, when the experiment is read, into a code the check carries.

/// What a check asks, in the order `do_GET` tests the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `standby_leader`, `standby-leader`: no standby cluster is modelled,
    /// so always 503.
    StandbyLeader,
    /// `leader`: the node holds the leader lock.
    Leader,
    /// `master`, `primary`, `read-write`, and `/`.
    Primary,
    /// `replica`: a running replica, not tagged `noloadbalance`, not lagging.
    Replica,
    /// `read-only` (without `sync`): the primary, or what `/replica` says.
    ReadOnly,
    /// `health`: PostgreSQL running, any role.
    Health,
    /// `/sync`, `/synchronous`: the synchronous standby (as `/replica`).
    Sync,
    /// `/async`, `/asynchronous`: a replica that is not the synchronous one.
    Async,
    /// `/read-only-sync`, `/read-only-synchronous`: the primary or the
    /// synchronous standby.
    ReadOnlySync,
    /// `/liveness`: the HA loop ran within `ttl` (2 × on a replica).
    Liveness,
    /// `/readiness`: the leader, or PostgreSQL running with the DCS reachable.
    Readiness,
}

const ENDPOINTS: [Endpoint; 11] = [
    Endpoint::StandbyLeader,
    Endpoint::Leader,
    Endpoint::Primary,
    Endpoint::Replica,
    Endpoint::ReadOnly,
    Endpoint::Health,
    Endpoint::Sync,
    Endpoint::Async,
    Endpoint::ReadOnlySync,
    Endpoint::Liveness,
    Endpoint::Readiness,
];

/// Bits of a check code that hold the endpoint; the rest hold `?lag=` in
/// KiB (all ones: no bound).
const ENDPOINT_BITS: u32 = 4;
const NO_LAG: u32 = u32::MAX >> ENDPOINT_BITS;

/// A check of `path`, as its code: the endpoint and the `?lag=` bound.
pub fn code(path: &str) -> Result<u32, String> {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let endpoint = endpoint(route)?;
    let mut lag = NO_LAG;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "lag" => lag = lag_kib(value)?,
            k if k.starts_with("tag_") => {
                return Err(format!(
                    "`{pair}`: tag queries are not modelled (only `nofailover` and \
                     `noloadbalance` tags exist here, and they are read from the cluster's \
                     table); use `?lag=` or no query"
                ));
            }
            _ => {} // api.py ignores other parameters
        }
    }
    let index = ENDPOINTS.iter().position(|e| *e == endpoint).expect("listed") as u32;
    Ok(index | lag << ENDPOINT_BITS)
}

/// The endpoint and the replica lag bound in bytes of a check code.
pub fn decode(code: u32) -> (Endpoint, Option<u64>) {
    let endpoint = ENDPOINTS[(code & ((1 << ENDPOINT_BITS) - 1)) as usize % ENDPOINTS.len()];
    let lag = code >> ENDPOINT_BITS;
    (endpoint, (lag != NO_LAG).then(|| u64::from(lag) * 1024))
}

/// `do_GET`'s routing by substring, `/liveness` and `/readiness` first
/// (their own handlers); a path that matches nothing always answers 503 in
/// the real API, so it is refused as a mistake.
fn endpoint(route: &str) -> Result<Endpoint, String> {
    let has = |s: &str| route.contains(s);
    Ok(match route {
        "/liveness" => Endpoint::Liveness,
        "/readiness" => Endpoint::Readiness,
        "/" => Endpoint::Primary,
        _ if has("standby_leader") || has("standby-leader") => Endpoint::StandbyLeader,
        _ if has("leader") => Endpoint::Leader,
        _ if has("master") || has("primary") || has("read-write") => Endpoint::Primary,
        _ if has("replica") => Endpoint::Replica,
        _ if has("read-only") && !has("sync") => Endpoint::ReadOnly,
        _ if has("health") => Endpoint::Health,
        "/sync" | "/synchronous" => Endpoint::Sync,
        "/async" | "/asynchronous" => Endpoint::Async,
        "/read-only-sync" | "/read-only-synchronous" => Endpoint::ReadOnlySync,
        _ => {
            return Err(format!(
                "Patroni's REST API answers {route:?} with 503 whatever the node's state; \
                 expected /primary (/master, /leader, /read-write, /), /replica, /read-only, \
                 /standby-leader, /sync, /async, /read-only-sync, /health, /liveness or \
                 /readiness"
            ));
        }
    })
}

/// `parse_int(value, 'B')`: a byte count with an optional unit.
fn lag_kib(value: &str) -> Result<u32, String> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`lag={value}`: expected a byte count such as 16MB"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "kB" | "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        u => return Err(format!("`lag={value}`: unknown unit {u:?} (B, kB, MB, GB, TB)")),
    };
    let kib = n.saturating_mul(scale).div_ceil(1024);
    Ok(kib.min(u64::from(NO_LAG - 1)) as u32)
}

/// What the node is, as `do_GET` reads it.
#[derive(Clone, Copy, Debug)]
pub struct NodeState {
    /// `ha.is_leader()`: holds the lock, its last update less than ttl ago.
    pub leader: bool,
    /// PostgreSQL's state is `running`.
    pub running: bool,
    /// PostgreSQL's role is `replica`.
    pub replica: bool,
    /// Tagged `noloadbalance`.
    pub noloadbalance: bool,
    /// The leader's WAL position (as last read from the DCS) minus this
    /// node's replayed position, in bytes.
    pub lag_bytes: u64,
    /// The DCS answered Patroni's last read (`dcs.cluster` is set).
    pub dcs_reachable: bool,
    /// The cluster's `/sync` key names this node (synchronous mode).
    pub synchronous: bool,
    /// The HA loop last ran within its liveness threshold.
    pub loop_alive: bool,
}

/// The status code of a check with `code` on a node in state `n`.
pub fn status(code: u32, n: &NodeState) -> u16 {
    let (endpoint, lag) = decode(code);
    let lagging = lag.is_some_and(|max| n.lag_bytes > max);
    let replica = n.replica && n.running && !n.noloadbalance && !lagging;
    let ok = match endpoint {
        Endpoint::StandbyLeader => false,
        Endpoint::Leader | Endpoint::Primary => n.leader,
        Endpoint::Replica => replica,
        Endpoint::ReadOnly => n.leader || replica,
        Endpoint::Health => n.running,
        Endpoint::Sync => n.dcs_reachable && n.synchronous && replica,
        Endpoint::Async => n.dcs_reachable && !n.synchronous && replica,
        Endpoint::ReadOnlySync => n.dcs_reachable && (n.leader || (n.synchronous && replica)),
        Endpoint::Liveness => n.loop_alive,
        Endpoint::Readiness => n.leader || (n.running && n.dcs_reachable),
    };
    if ok { 200 } else { 503 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica() -> NodeState {
        NodeState {
            leader: false,
            running: true,
            replica: true,
            noloadbalance: false,
            lag_bytes: 0,
            dcs_reachable: true,
            synchronous: false,
            loop_alive: true,
        }
    }

    fn at(path: &str, n: &NodeState) -> u16 {
        status(code(path).unwrap(), n)
    }

    #[test]
    fn paths_route_by_substring_as_do_get_does() {
        for (path, e) in [
            ("/", Endpoint::Primary),
            ("/master", Endpoint::Primary),
            ("/read-write", Endpoint::Primary),
            ("/leader", Endpoint::Leader),
            ("/standby-leader", Endpoint::StandbyLeader),
            ("/replica?lag=1MB", Endpoint::Replica),
            ("/read-only", Endpoint::ReadOnly),
            ("/read-only-sync", Endpoint::ReadOnlySync),
            ("/synchronous", Endpoint::Sync),
            ("/async", Endpoint::Async),
            ("/health", Endpoint::Health),
            ("/liveness", Endpoint::Liveness),
            ("/readiness", Endpoint::Readiness),
        ] {
            assert_eq!(decode(code(path).unwrap()).0, e, "{path}");
        }
        assert!(code("/leaderboard").is_ok(), "'leader' in path, as api.py");
        let e = code("/status").unwrap_err();
        assert!(e.contains("503 whatever"), "{e}");
        assert!(code("/replica?tag_zone=a").unwrap_err().contains("tag queries"));
        assert!(code("/replica?lag=5XB").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn a_replica_answers_by_role_tags_and_lag() {
        let r = replica();
        assert_eq!((at("/primary", &r), at("/replica", &r)), (503, 200));
        assert_eq!((at("/read-only", &r), at("/health", &r)), (200, 200));
        let lagging = NodeState {
            lag_bytes: 2 << 20,
            ..r
        };
        assert_eq!(at("/replica?lag=1MB", &lagging), 503);
        assert_eq!(at("/replica?lag=4MB", &lagging), 200);
        assert_eq!(at("/replica", &lagging), 200, "no bound without ?lag=");
        let tagged = NodeState {
            noloadbalance: true,
            ..r
        };
        assert_eq!((at("/replica", &tagged), at("/health", &tagged)), (503, 200));
        assert_eq!((at("/async", &r), at("/sync", &r)), (200, 503));
        let sync = NodeState {
            synchronous: true,
            ..r
        };
        assert_eq!((at("/async", &sync), at("/sync", &sync)), (503, 200));
        assert_eq!(at("/read-only-sync", &sync), 200);
        assert_eq!(at("/read-only-sync", &r), 503);
    }

    #[test]
    fn the_leader_answers_primary_leader_and_read_only_never_standby_leader() {
        let l = NodeState {
            leader: true,
            replica: false,
            ..replica()
        };
        for p in ["/", "/primary", "/leader", "/read-only", "/readiness", "/read-only-sync"] {
            assert_eq!(at(p, &l), 200, "{p}");
        }
        for p in ["/replica", "/standby-leader", "/sync", "/async"] {
            assert_eq!(at(p, &l), 503, "{p}");
        }
        let stopped_loop = NodeState {
            loop_alive: false,
            ..l
        };
        assert_eq!(at("/liveness", &stopped_loop), 503);
        let cut_off = NodeState {
            dcs_reachable: false,
            ..replica()
        };
        assert_eq!((at("/readiness", &cut_off), at("/replica", &cut_off)), (503, 200));
    }
}
