//! Stage two of the configuration: validated plain data -> the model graph.

use super::{Node, ProcState, Sim};
use crate::config::spec::ExperimentSpec;
use crate::engine::{Dur, EventQueue, SimTime, rng};
use crate::faults;
use crate::metrics::{History, Recorder};
use crate::net::{Network, VipId};
use crate::process::{Boot, Event, NodeId};
use crate::products as registry;

pub(super) fn build(spec: &ExperimentSpec, seed: u64) -> Sim {
    let names: Vec<String> = spec.nodes.keys().cloned().collect();
    let id = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .expect("validated reference") as NodeId
    };

    let mut host_names: Vec<String> = Vec::new();
    for n in spec.nodes.values() {
        if !host_names.contains(&n.host) {
            host_names.push(n.host.clone());
        }
    }
    let hosts_of: Vec<u32> = spec
        .nodes
        .values()
        .map(|n| {
            host_names
                .iter()
                .position(|h| *h == n.host)
                .expect("just added") as u32
        })
        .collect();
    let mut net = Network::new(&spec.network, &host_names, rng::stream(seed, "network"));

    // VIPs, in file order of their daemons: each served on a daemon's host
    // by the listener it claims it for.
    let mut vips: Vec<(String, Vec<(u32, NodeId)>)> = Vec::new();
    for n in spec.nodes.values() {
        if let Some((vip, listener)) = registry::vip_of(n) {
            let l = id(&listener);
            let entry = match vips.iter().position(|(v, _)| *v == vip) {
                Some(i) => &mut vips[i].1,
                None => {
                    vips.push((vip, Vec::new()));
                    &mut vips.last_mut().expect("just pushed").1
                }
            };
            entry.push((hosts_of[l as usize], l));
        }
    }
    let vip_ids: Vec<(String, VipId)> = vips
        .into_iter()
        .map(|(name, by_host)| (name, net.vips.add(host_names.len(), &by_host)))
        .collect();
    net.vips.names = vip_ids.iter().map(|(n, _)| n.clone()).collect();
    let vip = |name: &str| vip_ids.iter().find(|(v, _)| v == name).map(|&(_, v)| v);

    // The experiment's 0 comes after the warm-up: the engine runs from the
    // processes' boot, the recorder counts from `origin`.
    let origin = SimTime(spec.start.warm_up.0);
    let mut clients: Vec<String> = Vec::new();
    let shard_base = shard_bases(spec);
    let mut nodes = Vec::with_capacity(names.len());
    for (i, n) in spec.nodes.values().enumerate() {
        let mut node_rng = rng::stream(seed, &n.name);
        let mut cx = registry::BuildCx {
            id: &id,
            clients: &mut clients,
            rng: &mut node_rng,
            shard_base: &shard_base,
            vip: &vip,
            seed,
            origin,
        };
        let (model, backlog) = registry::build(n, &mut cx);
        nodes.push(Node {
            name: n.name.clone(),
            host: hosts_of[i],
            state: ProcState::Running,
            incarnation: 0,
            frozen: Vec::new(),
            backlog,
            backlog_used: 0,
            slow: 1.0,
            timers: Default::default(),
            pristine: model.clone(),
            model,
            rng: node_rng,
        });
    }

    let duration = SimTime(spec.duration.0);
    let engine_end = origin + spec.duration;
    let actions = faults::expand(&spec.faults, seed, duration);
    let mut rec = Recorder::new(
        origin,
        duration,
        spec.bucket,
        actions.iter().map(|a| (a.at, a.recover)).collect(),
    );
    rec.name_clients(clients);
    let clusters = database_clusters(spec);
    if !clusters.is_empty() {
        let (names, data) = clusters.into_iter().unzip();
        rec.history = Some(History::with_data(names, data, origin));
    }
    let mut queue = EventQueue::new();
    for d in net.constant_latencies() {
        queue.add_lane(d);
    }
    // Fault actions first: at an instant shared with other events they apply
    // before anything else happens at that instant.
    for (i, a) in actions.iter().enumerate() {
        queue.schedule(origin + Dur(a.at.0), Event::Fault(i as u32));
    }
    let mut sim = Sim {
        queue,
        net,
        nodes,
        hosts_of,
        names,
        rec,
        actions,
        origin,
        end: duration,
        engine_end,
        seed,
        spec: spec.clone(),
    };
    for i in 0..sim.nodes.len() as NodeId {
        let boot = if spec.start.aligned {
            Boot::FRESH
        } else {
            Boot::drawn(&mut rng::stream(
                seed,
                &format!("uptime/{}", sim.names[i as usize]),
            ))
        };
        sim.start_process(i, boot);
    }
    sim
}

/// The database clusters by cluster index: name, and whether it holds client
/// data (a cluster-state store such as etcd holds none). A cluster with
/// several shards (one data log each) is named by its first shard at its own
/// index, its other shards follow every cluster, in order
/// ([`registry::BuildCx::data_index`]).
pub(super) fn database_clusters(spec: &ExperimentSpec) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut more: Vec<(String, bool)> = Vec::new();
    for n in spec.nodes.values() {
        if let Some(c) = &n.cluster
            && out.len() as u32 <= c.cluster_index
        {
            let (shards, data) = (n.kind.data_shards(), n.kind.holds_client_data());
            if shards == 1 {
                out.push((c.cluster.clone(), data));
                continue;
            }
            out.push((format!("{} shard 1", c.cluster), data));
            for s in 2..=shards {
                more.push((format!("{} shard {s}", c.cluster), data));
            }
        }
    }
    out.extend(more);
    out
}

/// The history index of shard 2 of each cluster, by cluster index (see
/// [`database_clusters`]).
fn shard_bases(spec: &ExperimentSpec) -> Vec<u32> {
    let mut shards: Vec<u32> = Vec::new();
    for n in spec.nodes.values() {
        if let Some(c) = &n.cluster
            && shards.len() as u32 <= c.cluster_index
        {
            shards.push(n.kind.data_shards());
        }
    }
    let mut next = shards.len() as u32;
    shards
        .iter()
        .map(|&s| {
            let base = next;
            next += s - 1;
            base
        })
        .collect()
}
