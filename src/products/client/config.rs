//! `[clients.NAME]`: load generators as k6 runs them, open loop (arrivals
//! at a rate) or closed loop (virtual users); defaults in `models/k6.toml`.

use crate::config::ConfigError;
use crate::config::read::{ReadCx, bytes};
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
use crate::engine::{Dur, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// nginx and HTTP semantics: POST (and LOCK, PATCH) are not idempotent.
    pub fn idempotent(self) -> bool {
        matches!(self, Method::Get)
    }
}

/// The client's library: what finds the node a request goes to.
#[derive(Clone, Debug, PartialEq)]
pub enum Library {
    /// k6: every request to the target.
    Direct,
    /// redis-py's `RedisCluster`: `target` names a redis-cluster database
    /// whose members are the startup nodes; a topology query that gets no
    /// answer within `connect_timeout` moves on to the next one.
    RedisCluster {
        nodes: Vec<String>,
        connect_timeout: Dur,
    },
    /// redis-py's `Sentinel.master_for`: `target` names the sentinel group,
    /// asked in member order for the master, each within `timeout`
    /// (`sentinel_timeout`: the socket timeout of the sentinel connections;
    /// redis-py has none by default, the measured client used 300 ms, taken
    /// as the default here).
    RedisSentinel { sentinels: Vec<String>, timeout: Dur },
}

#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// A node, or what the library is given: the cluster
    /// (`redis-cluster`), the sentinel group (`redis-sentinel`).
    pub target: String,
    pub library: Library,
    pub start: SimTime,
    /// End of issuing new requests (default: experiment duration).
    pub stop: SimTime,
    /// Per-request timeout; k6's default is 60s (models/k6.toml).
    pub timeout: Dur,
    pub load: LoadSpec,
}

/// `sentinel_timeout` when not given (the measured case's client).
const SENTINEL_TIMEOUT: Dur = Dur::from_ms(300);

#[derive(Clone, Debug)]
pub enum LoadSpec {
    Open(OpenLoopSpec),
    Closed(ClosedLoopSpec),
}

#[derive(Clone, Debug)]
pub struct OpenLoopSpec {
    /// (from instant, requests per second); first entry at `start`.
    pub rate_steps: Vec<(SimTime, f64)>,
    pub arrivals: Arrivals,
    pub method: Method,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrivals {
    Constant,
    Poisson,
}

/// k6 constant-vus (or ramping-vus with `ramp`): each virtual user runs
/// `iteration` again and again.
#[derive(Clone, Debug)]
pub struct ClosedLoopSpec {
    /// The most VUs that ever run (constant-vus: all of them, always).
    pub vus: u32,
    /// ramping-vus: how many run when.
    pub ramp: Option<RampSpec>,
    pub iteration: Vec<StepSpec>,
    /// Each virtual user keeps its connection open between requests (k6's
    /// default; `noConnectionReuse` turns it off).
    pub keep_alive: bool,
}

/// k6's ramping-vus executor: `startVUs`, `stages`, `gracefulRampDown`.
#[derive(Clone, Debug, PartialEq)]
pub struct RampSpec {
    pub start_vus: u32,
    /// (duration, target VUs at its end), ramped linearly.
    pub stages: Vec<(Dur, u32)>,
    /// A VU ramped down finishes its iteration within this, or is interrupted.
    pub graceful_ramp_down: Dur,
}

impl RampSpec {
    /// Σ stage durations: the executor's length.
    pub fn length(&self) -> Dur {
        Dur(self.stages.iter().map(|s| s.0.0).sum())
    }

    /// The VU count k6 plans, as (offset from start, VUs) at each change:
    /// `getRawExecutionSteps` of lib/executor/ramping_vus.go on one
    /// instance. Ramping up, VU `u` starts at `end - d·(to-u)/(to-from)`;
    /// ramping down, VU `u` stops at `end - d·(u-1-to)/(from-to)` (integer
    /// nanoseconds, as k6 divides its time.Duration).
    pub fn schedule(&self) -> Vec<(Dur, u32)> {
        let mut steps = vec![(Dur::ZERO, self.start_vus)];
        let mut add = |at: Dur, vus: u32| {
            if steps.last().is_some_and(|s| s.1 != vus) {
                steps.push((at, vus));
            }
        };
        let mut from = self.start_vus as i128;
        let mut end = 0u64;
        for &(d, target) in &self.stages {
            end += d.0;
            let to = target as i128;
            if to == from {
                continue;
            }
            if d.0 == 0 {
                add(Dur(end), target);
            } else if to > from {
                for u in from + 1..=to {
                    let back = (d.0 as i128 * (to - u) / (to - from)) as u64;
                    add(Dur(end - back), u as u32);
                }
            } else {
                for u in (to + 1..=from).rev() {
                    let back = (d.0 as i128 * (u - 1 - to) / (from - to)) as u64;
                    add(Dur(end - back), (u - 1) as u32);
                }
            }
            from = to;
        }
        steps
    }
}

#[derive(Clone, Debug)]
pub enum StepSpec {
    /// `count` requests in a row to the client's target.
    Request { method: Method, count: u32 },
    /// `sleep()`.
    Sleep(DistSpec),
}

/// Reads a `[clients.NAME]` table over its preset.
pub(crate) fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<ClientSpec, ConfigError> {
    let duration = cx.duration();
    let kind = r.string_enum("type", &["open", "closed"])?;
    let timeout = r.positive_duration("timeout")?;
    let (target, library) = library(r, cx, timeout)?;
    let start = r.duration_opt("start")?.unwrap_or(Dur::ZERO);
    let ramp = if kind == "closed" && r.has("stages") {
        Some(ramp(r)?)
    } else {
        for k in ["start_vus", "graceful_ramp_down"] {
            if r.set_here(k) {
                r.reject(k, &format!("`{k}` applies to a ramping client (`stages`)"))?;
            }
            r.has(k);
        }
        if kind == "open" {
            r.reject("stages", "`stages` only applies to type = \"closed\" (ramping VUs); an open loop takes `rate_steps`")?;
        }
        None
    };
    if start >= duration {
        return Err(r.error_at(
            "start",
            format!(
                "start ({start}) must be before the end of the experiment ({})",
                duration
            ),
        ));
    }
    let stop = match &ramp {
        Some(ramp) => {
            r.reject(
                "stop",
                "a ramping client ends after its `stages` (k6's ramping-vus has no stop)",
            )?;
            let stop = start + ramp.length();
            if stop > duration {
                return Err(r.error_at(
                    "stages",
                    format!(
                        "start ({start}) + the stages ({}) end after the experiment ({duration})",
                        ramp.length()
                    ),
                ));
            }
            stop
        }
        None => r.duration_opt("stop")?.unwrap_or(duration),
    };
    if stop <= start {
        return Err(r.error_at(
            "stop",
            format!("stop ({stop}) must be after start ({start})"),
        ));
    }
    if stop > duration {
        return Err(r.error_at(
            "stop",
            format!(
                "stop ({stop}) is after the end of the experiment ({})",
                duration
            ),
        ));
    }
    let load = if kind == "open" {
        for k in ["vus", "iteration"] {
            r.reject(k, &format!("`{k}` only applies to type = \"closed\""))?;
        }
        // The k6 preset's keep_alive is for virtual users; an open-loop
        // client opens a connection per request and says so if asked.
        if r.set_here("keep_alive") {
            r.reject("keep_alive", "`keep_alive` only applies to type = \"closed\" (open-loop clients open a connection per request)")?;
        }
        r.has("keep_alive");
        let rate = request_rate(r, "rate")?;
        let mut rate_steps = vec![(SimTime(start.0), rate)];
        for mut s in r.array_of_tables("rate_steps")? {
            let at = s.duration("at")?;
            let rate = request_rate(&mut s, "rate")?;
            s.finish()?;
            let prev = rate_steps.last().expect("first step").0;
            if at.0 <= prev.0 {
                return Err(s.error_at(
                    "at",
                    format!(
                        "steps must come after start and after each other: {at} is not after {}",
                        Dur(prev.0)
                    ),
                ));
            }
            if at >= stop {
                return Err(s.error_at(
                    "at",
                    format!("the step at {at} is not before the client's stop ({stop})"),
                ));
            }
            rate_steps.push((SimTime(at.0), rate));
        }
        let arrivals = match r.string_enum_opt("arrivals", &["constant", "poisson"])? {
            Some("constant") => Arrivals::Constant,
            _ => Arrivals::Poisson,
        };
        let method = method(
            r.string_enum_opt("method", &["GET", "POST"])?
                .unwrap_or("GET"),
        );
        let max_rate = rate_steps.iter().map(|s| s.1).fold(0.0, f64::max);
        let waiting = max_rate * timeout.min(stop.saturating_sub(start)).as_secs_f64();
        if waiting > MAX_WAITING {
            // At the experiment's own key (the timeout may be a preset's).
            let key = if r.set_here("timeout") {
                "timeout"
            } else {
                "rate"
            };
            return Err(r.error_at(
                key,
                format!(
                    "at {max_rate} requests/s (`rate`) with a timeout of {timeout}, up to \
                     {waiting:.0} requests may wait at once when the target stops answering \
                     ({} at ~{WAITING_BYTES} bytes each); at most {MAX_WAITING:.0} are \
                     allowed: lower `rate` or `timeout`",
                    bytes((waiting as u64).saturating_mul(WAITING_BYTES))
                ),
            ));
        }
        let mut requests = 0.0;
        for (i, &(at, rate)) in rate_steps.iter().enumerate() {
            let until = rate_steps.get(i + 1).map_or(SimTime(stop.0), |n| n.0);
            requests += rate * until.since(at).as_secs_f64();
        }
        let total = cx.add_requests(requests);
        if total > MAX_REQUESTS {
            return Err(r.error_at(
                "rate",
                format!(
                    "the open-loop clients up to this one issue ~{:.0} requests (`rate` x \
                     time); a run may issue at most {MAX_REQUESTS:.0} (requests are numbered \
                     in 32 bits; with --trace that is also ~{} of trace.csv): lower `rate` or \
                     the experiment's `duration`",
                    total,
                    bytes((total.min(u64::MAX as f64) as u64).saturating_mul(TRACE_ROW_BYTES))
                ),
            ));
        }
        LoadSpec::Open(OpenLoopSpec {
            rate_steps,
            arrivals,
            method,
        })
    } else {
        for k in ["rate", "rate_steps", "arrivals"] {
            r.reject(k, &format!("`{k}` only applies to type = \"open\""))?;
        }
        r.reject(
            "method",
            "a closed client gives the method per step: iteration = [{ request = \"POST\" }]",
        )?;
        let vus = match &ramp {
            Some(ramp) => {
                r.reject("vus", "a ramping client gives `start_vus` and `stages` (k6 ramping-vus); `vus` is constant-vus")?;
                ramp.stages.iter().map(|s| s.1).fold(ramp.start_vus, u32::max)
            }
            None => r.u32_range("vus", 1, MAX_VUS)?,
        };
        let keep_alive = r.bool("keep_alive")?;
        let mut iteration = Vec::new();
        if r.has("iteration") {
            for mut s in r.array_of_tables("iteration")? {
                let has_req = s.has("request");
                let has_sleep = s.has("sleep");
                let step = match (has_req, has_sleep) {
                    (true, true) => {
                        return Err(
                            s.error_here("a step is either `request` or `sleep`; write two steps")
                        );
                    }
                    (true, false) => StepSpec::Request {
                        method: method(s.string_enum("request", &["GET", "POST"])?),
                        count: s.u32_min_opt("count", 1)?.unwrap_or(1),
                    },
                    (false, true) => StepSpec::Sleep(s.dist("sleep")?),
                    (false, false) => {
                        return Err(s.error_here(
                            "a step needs `request = \"GET\"` (or \"POST\") or `sleep = \"100ms\"`",
                        ));
                    }
                };
                s.finish()?;
                iteration.push(step);
            }
            if !iteration
                .iter()
                .any(|s| matches!(s, StepSpec::Request { .. }))
            {
                return Err(r.error_at(
                    "iteration",
                    "an iteration needs at least one `request` step",
                ));
            }
        } else {
            iteration.push(StepSpec::Request {
                method: Method::Get,
                count: 1,
            });
        }
        LoadSpec::Closed(ClosedLoopSpec {
            vus,
            ramp,
            iteration,
            keep_alive,
        })
    };
    Ok(ClientSpec {
        target,
        library,
        start: SimTime(start.0),
        stop: SimTime(stop.0),
        timeout,
        load,
    })
}

/// `library` and `target`: k6 connects to the target node; a Redis
/// library is given a cluster or a sentinel group and finds the node itself.
fn library<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
    timeout: Dur,
) -> Result<(String, Library), ConfigError> {
    let lib = r
        .string_enum_opt("library", &["k6", "redis-cluster", "redis-sentinel"])?
        .unwrap_or("k6");
    if lib != "redis-cluster" {
        r.reject(
            "connect_timeout",
            "`connect_timeout` applies to library = \"redis-cluster\"",
        )?;
    }
    if lib != "redis-sentinel" {
        r.reject(
            "sentinel_timeout",
            "`sentinel_timeout` applies to library = \"redis-sentinel\"",
        )?;
    }
    let group = |r: &mut Reader<'a>, product: &str| -> Result<(String, Vec<String>), ConfigError> {
        let item = r.item("target").ok_or_else(|| {
            r.missing("target", &format!("the name of a {product} group"))
        })?;
        let path = r.key_path("target");
        let name = cx.src().as_string(item, &path)?;
        let members = cx.cluster_ref(name, &item.at, &path, product)?;
        Ok((name.to_string(), members))
    };
    Ok(match lib {
        "redis-cluster" => {
            let (name, nodes) = group(r, "redis-cluster")?;
            let connect_timeout = r.positive_duration_opt("connect_timeout")?.unwrap_or(timeout);
            (
                name,
                Library::RedisCluster {
                    nodes,
                    connect_timeout,
                },
            )
        }
        "redis-sentinel" => {
            let (name, sentinels) = group(r, "sentinel")?;
            let timeout = r
                .positive_duration_opt("sentinel_timeout")?
                .unwrap_or(SENTINEL_TIMEOUT);
            (name, Library::RedisSentinel { sentinels, timeout })
        }
        _ => (cx.target(r, "target", "a client's target")?, Library::Direct),
    })
}

/// Most virtual users a closed client may run.
const MAX_VUS: u32 = 1_000_000;

/// `stages = [{ duration, target }, ...]` with `start_vus` and
/// `graceful_ramp_down` (k6 ramping-vus; defaults 1 and 30s in models/k6.toml).
fn ramp(r: &mut Reader) -> Result<RampSpec, ConfigError> {
    let start_vus = r.u32_range("start_vus", 0, MAX_VUS)?;
    let graceful_ramp_down = r.duration("graceful_ramp_down")?;
    let mut stages = Vec::new();
    for mut s in r.array_of_tables("stages")? {
        let d = s.duration("duration")?;
        let target = s.u32_range("target", 0, MAX_VUS)?;
        s.finish()?;
        stages.push((d, target));
    }
    if stages.is_empty() {
        return Err(r.error_at("stages", "at least one stage: stages = [{ duration = \"30s\", target = 10 }]"));
    }
    if stages.iter().all(|s| s.1 == 0) && start_vus == 0 {
        // k6's Validate: "either startVUs or one of the stages' target values must be greater than 0".
        return Err(r.error_at("stages", "either start_vus or one of the stages' targets must be greater than 0"));
    }
    if stages.iter().all(|s| s.0 == Dur::ZERO) {
        return Err(r.error_at("stages", "the stages last no time at all: give a stage a duration"));
    }
    Ok(RampSpec {
        start_vus,
        stages,
        graceful_ramp_down,
    })
}

fn method(s: &str) -> Method {
    if s == "POST" {
        Method::Post
    } else {
        Method::Get
    }
}

/// Highest open-loop rate accepted: at 10 M requests/s one simulated second
/// is already ~60 M events; beyond it a typo (`1e30`) would run forever.
const MAX_RATE: f64 = 1e7;

/// A request rate: a number > 0 and at most [`MAX_RATE`] per second.
fn request_rate(r: &mut Reader, key: &'static str) -> Result<f64, ConfigError> {
    let rate = r.f64_positive(key)?;
    if rate > MAX_RATE {
        return Err(r.error_at(
            key,
            format!("at most {MAX_RATE:.0} requests per second, got {rate}"),
        ));
    }
    Ok(rate)
}
/// Most requests an open-loop client may have waiting at once, at its
/// highest rate, if every request waited its whole timeout (a blackholed
/// target): each costs [`WAITING_BYTES`] (call, deadline, connection).
const MAX_WAITING: f64 = 5e6;
const WAITING_BYTES: u64 = 200;
/// About the size of one row of trace.csv.
const TRACE_ROW_BYTES: u64 = 60;
/// Most requests the open-loop clients may issue in a run: operations are
/// numbered in 32 bits.
const MAX_REQUESTS: f64 = u32::MAX as f64;

#[cfg(test)]
mod tests {
    use super::*;

    /// k6's own expectation for one instance (lib/executor/ramping_vus_test.go,
    /// TestRampingVUsExecutionTupleTests): startVUs 4 and 14 stages, with
    /// zero-length stages that jump and stages that keep the count.
    #[test]
    fn ramp_schedule_is_k6s() {
        let s = |d: u64, n: u32| (Dur::from_secs(d), n);
        let ramp = RampSpec {
            start_vus: 4,
            stages: vec![
                s(2, 6),
                s(5, 1),
                s(4, 5),
                s(4, 1),
                s(3, 4),
                s(2, 4),
                s(0, 1),
                s(3, 1),
                s(0, 5),
                s(3, 5),
                s(0, 0),
                s(2, 2),
                s(2, 0),
                s(4, 4),
            ],
            graceful_ramp_down: Dur::from_secs(30),
        };
        let want: Vec<(Dur, u32)> = [
            (0, 4),
            (1, 5),
            (2, 6),
            (3, 5),
            (4, 4),
            (5, 3),
            (6, 2),
            (7, 1),
            (8, 2),
            (9, 3),
            (10, 4),
            (11, 5),
            (12, 4),
            (13, 3),
            (14, 2),
            (15, 1),
            (16, 2),
            (17, 3),
            (18, 4),
            (20, 1),
            (23, 5),
            (26, 0),
            (27, 1),
            (28, 2),
            (29, 1),
            (30, 0),
            (31, 1),
            (32, 2),
            (33, 3),
            (34, 4),
        ]
        .iter()
        .map(|&(t, n)| s(t, n))
        .collect();
        assert_eq!(ramp.schedule(), want);
        assert_eq!(ramp.length(), Dur::from_secs(34));
    }

    /// 0 -> 3 VUs in 1 s: k6 starts them at 1/3 s, 2/3 s and 1 s (the
    /// offset rounded up to the nanosecond, as `end - d*(to-u)/diff`).
    #[test]
    fn ramp_up_spreads_starts_evenly() {
        let ramp = RampSpec {
            start_vus: 0,
            stages: vec![(Dur::from_secs(1), 3)],
            graceful_ramp_down: Dur::from_secs(30),
        };
        assert_eq!(
            ramp.schedule(),
            vec![
                (Dur::ZERO, 0),
                (Dur(333_333_334), 1),
                (Dur(666_666_667), 2),
                (Dur::from_secs(1), 3)
            ]
        );
    }
}
