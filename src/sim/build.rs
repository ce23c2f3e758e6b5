//! Stage two of the configuration: validated plain data -> the model graph.

use super::{Node, ProcState, Sim};
use crate::components::app::{CallCfg, Downstream};
use crate::components::client::Client;
use crate::components::db::DbIds;
use crate::components::db::etcd::Etcd;
use crate::components::db::galera::Galera;
use crate::components::db::mysql::Mysql;
use crate::components::db::patroni::Patroni;
use crate::components::haproxy::Haproxy;
use crate::components::nginx::Nginx;
use crate::components::server::Server;
use crate::components::{Event, Model, NodeId};
use crate::config::spec::{DbKind, ExperimentSpec, NodeKind};
use crate::engine::{EventQueue, SimTime, rng};
use crate::faults;
use crate::metrics::{History, Recorder};
use crate::net::Network;

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
    let net = Network::new(&spec.network, &host_names, rng::stream(seed, "network"));

    let mut client_index = 0;
    let mut nodes = Vec::with_capacity(names.len());
    for (i, n) in spec.nodes.values().enumerate() {
        let mut node_rng = rng::stream(seed, &n.name);
        let (model, backlog) = match &n.kind {
            NodeKind::Client(c) => {
                client_index += 1;
                let m = Client::new(
                    client_index - 1,
                    id(&c.target),
                    c.start,
                    c.stop,
                    c.timeout,
                    &c.load,
                );
                (Model::Client(m), 0)
            }
            NodeKind::Server(s) => (Model::Server(Server::new(s, None)), s.backlog),
            NodeKind::App(a) => {
                let calls = a
                    .calls
                    .iter()
                    .map(|c| CallCfg::new(c, id(&c.target)))
                    .collect();
                (
                    Model::Server(Server::new(&a.server, Some(Downstream::new(calls)))),
                    a.server.backlog,
                )
            }
            NodeKind::Haproxy(h) => {
                let servers: Vec<(NodeId, String)> = h
                    .servers
                    .iter()
                    .map(|s| (id(&s.name), s.name.clone()))
                    .collect();
                (Model::Haproxy(Haproxy::new(h, &servers)), h.backlog)
            }
            NodeKind::Nginx(x) => {
                let servers: Vec<NodeId> = x.servers.iter().map(|s| id(&s.name)).collect();
                (Model::Nginx(Nginx::new(x, &servers, &mut node_rng)), 511)
            }
            NodeKind::Database(d) => {
                let me = id(&n.name);
                let mut ids = DbIds {
                    members: d.members.iter().map(|m| id(m)).collect(),
                    dcs: Vec::new(),
                };
                let model = match &d.kind {
                    DbKind::Galera(_) => Model::Galera(Galera::new(d, me, &ids)),
                    DbKind::Mysql(_) => Model::Mysql(Mysql::new(d, me, &ids)),
                    DbKind::Patroni(p) => {
                        ids.dcs = p.dcs.iter().map(|m| id(m)).collect();
                        Model::Patroni(Patroni::new(d, me, &ids))
                    }
                    DbKind::Etcd(_) => Model::Etcd(Etcd::new(d, me, &ids)),
                };
                // Databases listen with a backlog like servers (MariaDB
                // back_log 80..; PostgreSQL listen backlog 2 x max_connections
                // capped by somaxconn); 511 is near both in practice.
                (model, 511)
            }
        };
        nodes.push(Node {
            name: n.name.clone(),
            host: hosts_of[i],
            state: ProcState::Running,
            incarnation: 0,
            frozen: Vec::new(),
            backlog,
            backlog_used: 0,
            slow: 1.0,
            pristine: model.clone(),
            model,
            rng: node_rng,
        });
    }

    let end = SimTime(spec.duration.0);
    let actions = faults::expand(&spec.faults, seed, end);
    let mut rec = Recorder::new(end, spec.bucket, actions.iter().map(|a| a.at).collect());
    let clusters = database_clusters(spec);
    if !clusters.is_empty() {
        let (names, data) = clusters.into_iter().unzip();
        rec.history = Some(History::with_data(names, data));
    }
    let mut queue = EventQueue::new();
    // Fault actions first: at an instant shared with other events they apply
    // before anything else happens at that instant.
    for (i, a) in actions.iter().enumerate() {
        queue.schedule(a.at, Event::Fault(i as u32));
    }
    let mut sim = Sim {
        queue,
        net,
        nodes,
        hosts_of,
        names,
        rec,
        actions,
        end,
        seed,
        spec: spec.clone(),
    };
    for i in 0..sim.nodes.len() as NodeId {
        sim.start_process(i);
    }
    sim
}

/// The database clusters by cluster index: name, and whether it holds client
/// data (an etcd cluster only serves Patroni).
pub(super) fn database_clusters(spec: &ExperimentSpec) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for n in spec.nodes.values() {
        if let NodeKind::Database(d) = &n.kind
            && out.len() as u32 <= d.cluster_index
        {
            out.push((d.cluster.clone(), !matches!(d.kind, DbKind::Etcd(_))));
        }
    }
    out
}
