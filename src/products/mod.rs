//! The product registry: the one place outside a product's folder that names
//! products. The `products!` list makes the [`Model`] enum and its dispatch —
//! each method an exhaustive `match`, so a model added here without its
//! [`Process`] implementation is a compile error — and the functions below
//! map each kind of node in an experiment to its product's builder and
//! formulas, again by exhaustive `match` (no wildcard decides what a new
//! product does).

pub mod client;
pub mod etcd;
pub mod galera;
pub mod haproxy;
pub mod mysql;
pub mod nginx;
pub mod patroni;
pub mod server;

use crate::config::spec::{DbKind, ExperimentSpec, NodeKind, NodeSpec};
use crate::data::FinalData;
use crate::engine::{Rng, SimTime};
use crate::faults::FaultAction;
use crate::process::{Admin, CallRef, Ctx, DbIds, Msg, NodeId, Process, ReqKind};
use crate::report::{Breakdown, FormulaRange};
use patroni::CheckTiming;
use server::app::{CallCfg, Downstream};

macro_rules! products {
    ($($variant:ident($ty:ty)),+ $(,)?) => {
        /// Every model, for dispatch by `match`.
        // A run has a handful of nodes: the size difference costs nothing,
        // while boxing the big variants would add an indirection to every
        // event.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone)]
        pub enum Model {
            $($variant($ty)),+
        }

        /// Every product's timer, as the event queue carries it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Timer {
            $($variant(<$ty as Process>::Timer),)+
        }

        impl Model {
            #[inline]
            pub fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
                match self { $(Model::$variant(m) => Process::start(m, ctx, rng)),+ }
            }
            #[inline]
            pub fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
                match self { $(Model::$variant(m) => Process::on_message(m, ctx, rng, msg)),+ }
            }
            /// Timer `t` of this process came due (a node's timers are
            /// always its own product's).
            #[inline]
            pub fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: Timer) {
                match (self, t) {
                    $((Model::$variant(m), Timer::$variant(t)) => Process::on_timer(m, ctx, rng, t),)+
                    #[allow(unreachable_patterns)]
                    (_, t) => debug_assert!(false, "timer {t:?} reached another product"),
                }
            }
            #[inline]
            pub fn on_established(&mut self, call: CallRef, at: SimTime) {
                match self { $(Model::$variant(m) => Process::on_established(m, call, at)),+ }
            }
            #[inline]
            pub fn is_call_live(&self, call: CallRef) -> bool {
                match self { $(Model::$variant(m) => Process::is_call_live(m, call)),+ }
            }
            pub fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
                match self { $(Model::$variant(m) => Process::inbound_peers(m)),+ }
            }
            /// The process died: it restarts from `pristine` (this node's
            /// model at time zero), keeping what its product keeps.
            pub fn crash(&mut self, pristine: &Model) {
                match self {
                    $(Model::$variant(m) => match pristine {
                        Model::$variant(p) => Process::crashed(m, p),
                        // A node's pristine copy is made from the node itself.
                        #[allow(unreachable_patterns)]
                        _ => *self = pristine.clone(),
                    }),+
                }
            }
            #[inline]
            pub fn syn_backlog_full(&self) -> bool {
                match self { $(Model::$variant(m) => Process::syn_backlog_full(m)),+ }
            }
            #[inline]
            pub fn refuses(&self, kind: ReqKind) -> bool {
                match self { $(Model::$variant(m) => Process::refuses(m, kind)),+ }
            }
            pub fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
                match self { $(Model::$variant(m) => Process::admin(m, ctx, rng, a)),+ }
            }
            pub fn final_data(&self) -> Option<FinalData<'_>> {
                match self { $(Model::$variant(m) => Process::final_data(m)),+ }
            }
        }
    };
}

/// The cluster protocols' messages, as they travel between members
/// ([`crate::process::MsgKind::Wire`]): one variant per protocol, its own enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// MySQL binlog replication.
    Binlog(mysql::BinlogMsg),
    /// The DCS API between Patroni and etcd.
    Dcs(crate::protocols::dcs::DcsMsg),
    /// Raft between etcd members.
    Raft(etcd::RaftMsg),
    /// Streaming replication and the REST poll between Patroni members.
    Patroni(patroni::PatroniMsg),
    /// Galera's group communication (gcomm: EVS, PC, replication).
    Gcomm(galera::GcommMsg),
}

products! {
    Client(client::Client),
    Server(server::Server),
    Haproxy(haproxy::Haproxy),
    Nginx(nginx::Nginx),
    Galera(galera::Galera),
    Mysql(mysql::Mysql),
    Patroni(patroni::Patroni),
    Etcd(etcd::Etcd),
}

/// What building one node's model needs from the rest of the graph.
pub struct BuildCx<'a> {
    /// Node id by name (every reference was validated).
    pub id: &'a dyn Fn(&str) -> NodeId,
    /// Clients are numbered in experiment order.
    pub client_index: &'a mut u32,
    /// The node's own random stream.
    pub rng: &'a mut Rng,
}

/// Builds a node's model from its spec: (model, listen backlog).
pub fn build(n: &NodeSpec, cx: BuildCx) -> (Model, u32) {
    let id = cx.id;
    match &n.kind {
        NodeKind::Client(c) => {
            *cx.client_index += 1;
            let m = client::Client::new(
                *cx.client_index - 1,
                id(&c.target),
                c.start,
                c.stop,
                c.timeout,
                &c.load,
            );
            (Model::Client(m), 0)
        }
        NodeKind::Server(s) => (Model::Server(server::Server::new(s, None)), s.backlog),
        NodeKind::App(a) => {
            let calls = a.calls.iter().map(|c| CallCfg::new(c, id(&c.target)));
            let app = server::Server::new(&a.server, Some(Downstream::new(calls.collect())));
            (Model::Server(app), a.server.backlog)
        }
        NodeKind::Haproxy(h) => {
            let servers: Vec<(NodeId, String)> = h
                .servers
                .iter()
                .map(|s| (id(&s.name), s.name.clone()))
                .collect();
            (
                Model::Haproxy(haproxy::Haproxy::new(h, &servers)),
                h.backlog,
            )
        }
        NodeKind::Nginx(x) => {
            let servers: Vec<NodeId> = x.servers.iter().map(|s| id(&s.name)).collect();
            (Model::Nginx(nginx::Nginx::new(x, &servers, cx.rng)), 511)
        }
        NodeKind::Database(d) => {
            let me = id(&n.name);
            let mut ids = DbIds {
                members: d.members.iter().map(|m| id(m)).collect(),
                dcs: Vec::new(),
            };
            let model = match &d.kind {
                DbKind::Galera(_) => Model::Galera(galera::Galera::new(d, me, &ids)),
                DbKind::Mysql(_) => Model::Mysql(mysql::Mysql::new(d, me, &ids)),
                DbKind::Patroni(p) => {
                    ids.dcs = p.dcs.iter().map(|m| id(m)).collect();
                    Model::Patroni(patroni::Patroni::new(d, me, &ids))
                }
                DbKind::Etcd(_) => Model::Etcd(etcd::Etcd::new(d, me, &ids)),
            };
            // Databases listen with a backlog like servers (MariaDB back_log
            // 80..; PostgreSQL listen backlog 2 x max_connections capped by
            // somaxconn); 511 is near both in practice.
            (model, 511)
        }
    }
}

/// Whether a database cluster holds client data the write history checks
/// (etcd only serves Patroni).
pub fn holds_client_data(d: &DbKind) -> bool {
    match d {
        DbKind::Galera(_) | DbKind::Mysql(_) | DbKind::Patroni(_) => true,
        DbKind::Etcd(_) => false,
    }
}

/// The reference formula for how long node `n` takes to notice fault action
/// `a` on `subjects`: `None` when `n` does not react to it, `Some(None)` when
/// it is the reacting component but no formula applies.
pub fn detection_formula(
    spec: &ExperimentSpec,
    n: &NodeSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    match &n.kind {
        NodeKind::Haproxy(h) => haproxy::formulas::detection(spec, h, a, subjects),
        NodeKind::Nginx(x) => nginx::formulas::detection(spec, &n.name, x, a, subjects).map(Some),
        NodeKind::Client(_) | NodeKind::Server(_) | NodeKind::App(_) | NodeKind::Database(_) => {
            None
        }
    }
}

/// Whether node `n` hides the failures of `subjects` from clients (retries
/// elsewhere), so no error-window formula applies.
pub fn hides_failures(n: &NodeSpec, subjects: &[String]) -> bool {
    match &n.kind {
        NodeKind::Haproxy(h) => haproxy::formulas::hides_failures(h, subjects),
        NodeKind::Nginx(_) => nginx::formulas::hides_failures(),
        NodeKind::Client(_) | NodeKind::Server(_) | NodeKind::App(_) | NodeKind::Database(_) => {
            false
        }
    }
}

/// The checks a balancer node runs on the first of `members` it checks.
fn check_timing(n: &NodeSpec, members: &[String]) -> Option<CheckTiming> {
    match &n.kind {
        NodeKind::Haproxy(h) => haproxy::formulas::check_timing(h, members),
        // nginx has no active checks (passive max_fails only).
        NodeKind::Nginx(_) => None,
        NodeKind::Client(_) | NodeKind::Server(_) | NodeKind::App(_) | NodeKind::Database(_) => {
            None
        }
    }
}

/// The reference's failover phases of the cluster node `n` belongs to, for
/// products that have them.
pub fn breakdown(spec: &ExperimentSpec, n: &NodeSpec) -> Option<Breakdown> {
    let NodeKind::Database(d) = &n.kind else {
        return None;
    };
    match &d.kind {
        DbKind::Patroni(p) => {
            let check = spec
                .nodes
                .values()
                .find_map(|b| check_timing(b, &d.members));
            patroni::for_cluster(spec, d, p, check)
        }
        DbKind::Galera(_) | DbKind::Mysql(_) | DbKind::Etcd(_) => None,
    }
}

/// `--dry-run`: node kind `kind` as the experiment resolved it, one line (and
/// the lines of its servers, for a balancer).
pub fn describe(o: &mut String, kind: &NodeKind) {
    use std::fmt::Write;
    match kind {
        NodeKind::Client(c) => client::describe(o, c),
        NodeKind::Server(s) => server::describe(o, s),
        NodeKind::App(a) => server::app::describe(o, a),
        NodeKind::Haproxy(h) => haproxy::describe::describe(o, h),
        NodeKind::Nginx(x) => nginx::describe::describe(o, x),
        // A database cluster's settings are its product's spec, as resolved.
        NodeKind::Database(d) => {
            let _ = writeln!(
                o,
                "{} cluster `{}` of {} ({}): {:?}",
                d.kind.label(),
                d.cluster,
                d.members.len(),
                crate::describe::names(&d.members),
                d.kind
            );
        }
    }
}
