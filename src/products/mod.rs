//! The product registry: the one place outside a product's folder that names
//! products. A product is a folder here plus one line in the `products!`
//! list below, which makes:
//! - [`Model`], [`Timer`] and [`NodeKind`] (its model, its timers, its
//!   settings), with every dispatch an exhaustive `match` — so a product
//!   missing its [`Process`] or [`Product`] implementation does not compile,
//!   and no wildcard arm decides what a new product does;
//! - [`PRODUCTS`], the table config plumbing reads (names, sections,
//!   presets, readers) and the registry-wide tests walk.

mod product;

pub use product::{Product, ProductInfo};

use crate::config::spec::{ClusterSpec, ExperimentSpec, NodeSpec};
use crate::data::FinalData;
use crate::engine::{Dur, Rng, SimTime};
use crate::faults::FaultAction;
use crate::process::{
    Addr, Admin, Boot, CallRef, Ctx, DbIds, Msg, NodeId, Process, ReqKind, VipId,
};
use crate::report::{Breakdown, CheckTiming, FormulaRange};

macro_rules! products {
    ($($(#[$attr:meta])* $variant:ident($module:ident::$model:ident)),+ $(,)?) => {
        $($(#[$attr])* pub mod $module;)+
        products!(@generate $($(#[$attr])* $variant($module::$model)),+);
    };
    (@generate $($(#[$attr:meta])* $variant:ident($ty:ty)),+) => {
        /// Every product's settings, as the experiment declared a node.
        #[derive(Clone, Debug)]
        pub enum NodeKind {
            $($(#[$attr])* $variant(<$ty as Product>::Spec)),+
        }

        $($(#[$attr])* impl From<<$ty as Product>::Spec> for NodeKind {
            fn from(s: <$ty as Product>::Spec) -> NodeKind {
                NodeKind::$variant(s)
            }
        })+

        /// Every product, in registry order.
        pub static PRODUCTS: &[ProductInfo] = &[$($(#[$attr])* ProductInfo::of::<$ty>()),+];

        impl NodeKind {
            /// The product's name (`type = "..."`).
            pub fn product(&self) -> &'static str {
                match self { $($(#[$attr])* NodeKind::$variant(_) => <$ty as Product>::TYPE),+ }
            }

            /// The node's name in `--dry-run` and messages.
            pub fn label(&self) -> &'static str {
                match self { $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::label(s)),+ }
            }

            /// Its nodes hold client data the write history checks.
            pub fn holds_client_data(&self) -> bool {
                match self { $($(#[$attr])* NodeKind::$variant(_) => <$ty as Product>::HOLDS_CLIENT_DATA),+ }
            }

            /// How long it takes to form ([`Product::formation`]).
            pub fn formation(&self) -> Dur {
                match self { $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::formation(s)),+ }
            }

            /// The data logs (shards) its cluster holds.
            pub fn data_shards(&self) -> u32 {
                match self { $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::data_shards(s)),+ }
            }
        }

        /// Builds node `n`'s model from its spec: (model, listen backlog).
        pub fn build(n: &NodeSpec, cx: &mut BuildCx) -> (Model, u32) {
            match &n.kind {
                $($(#[$attr])* NodeKind::$variant(s) => {
                    let (m, backlog) = <$ty as Product>::build(n, s, cx);
                    (Model::$variant(m), backlog)
                }),+
            }
        }

        /// `--dry-run`: node `n` as the experiment resolved it.
        pub fn describe(o: &mut String, n: &NodeSpec) {
            match &n.kind { $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::describe(o, n, s)),+ }
        }

        /// The reference formula for how long node `n` takes to notice fault
        /// action `a` on `subjects`: `None` when `n` does not react to it,
        /// `Some(None)` when it reacts but no formula applies.
        pub fn detection_formula(
            spec: &ExperimentSpec,
            n: &NodeSpec,
            a: &FaultAction,
            subjects: &[String],
        ) -> Option<Option<FormulaRange>> {
            match &n.kind {
                $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::detection(spec, n, s, a, subjects)),+
            }
        }

        /// Whether node `n` hides the failures of `subjects` from clients
        /// (retries elsewhere), so no error-window formula applies.
        pub fn hides_failures(n: &NodeSpec, subjects: &[String]) -> bool {
            match &n.kind {
                $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::hides_failures(s, subjects)),+
            }
        }

        /// The checks a balancer node runs on the first of `members` it checks.
        pub fn check_timing(n: &NodeSpec, members: &[String]) -> Option<CheckTiming> {
            match &n.kind {
                $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::check_timing(s, members)),+
            }
        }

        /// The VIP node `n` moves between hosts and its listener there.
        pub fn vip_of(n: &NodeSpec) -> Option<(String, String)> {
            match &n.kind { $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::vip(n, s)),+ }
        }

        /// The reference's failover phases of the cluster node `n` belongs
        /// to, for products that have them.
        pub fn breakdown(spec: &ExperimentSpec, n: &NodeSpec) -> Option<Breakdown> {
            match &n.kind { $($(#[$attr])* NodeKind::$variant(s) => <$ty as Product>::breakdown(spec, n, s)),+ }
        }

        /// Every model, for dispatch by `match`.
        // A run has a handful of nodes: the size difference costs nothing,
        // while boxing the big variants would add an indirection to every
        // event.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone)]
        pub enum Model {
            $($(#[$attr])* $variant($ty)),+
        }

        /// Every product's timer, as the event queue carries it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Timer {
            $($(#[$attr])* $variant(<$ty as Process>::Timer),)+
        }

        impl Model {
            #[inline]
            pub fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng, boot: Boot) {
                match self { $($(#[$attr])* Model::$variant(m) => Process::start(m, ctx, rng, boot)),+ }
            }
            #[inline]
            pub fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
                match self { $($(#[$attr])* Model::$variant(m) => Process::on_message(m, ctx, rng, msg)),+ }
            }
            /// Timer `t` of this process came due (a node's timers are
            /// always its own product's).
            #[inline]
            pub fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: Timer) {
                match (self, t) {
                    $($(#[$attr])* (Model::$variant(m), Timer::$variant(t)) => Process::on_timer(m, ctx, rng, t),)+
                    #[allow(unreachable_patterns)]
                    (_, t) => debug_assert!(false, "timer {t:?} reached another product"),
                }
            }
            #[inline]
            pub fn on_established(&mut self, call: CallRef, at: SimTime) {
                match self { $($(#[$attr])* Model::$variant(m) => Process::on_established(m, call, at)),+ }
            }
            #[inline]
            pub fn is_call_live(&self, call: CallRef) -> bool {
                match self { $($(#[$attr])* Model::$variant(m) => Process::is_call_live(m, call)),+ }
            }
            pub fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
                match self { $($(#[$attr])* Model::$variant(m) => Process::inbound_peers(m)),+ }
            }
            /// The process died: it restarts from `pristine` (this node's
            /// model at time zero), keeping what its product keeps.
            pub fn crash(&mut self, pristine: &Model) {
                match self {
                    $($(#[$attr])* Model::$variant(m) => match pristine {
                        Model::$variant(p) => Process::crashed(m, p),
                        // A node's pristine copy is made from the node itself.
                        #[allow(unreachable_patterns)]
                        _ => *self = pristine.clone(),
                    }),+
                }
            }
            #[inline]
            pub fn syn_backlog_full(&self) -> bool {
                match self { $($(#[$attr])* Model::$variant(m) => Process::syn_backlog_full(m)),+ }
            }
            #[inline]
            pub fn refuses(&self, kind: ReqKind) -> bool {
                match self { $($(#[$attr])* Model::$variant(m) => Process::refuses(m, kind)),+ }
            }
            pub fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
                match self { $($(#[$attr])* Model::$variant(m) => Process::admin(m, ctx, rng, a)),+ }
            }
            pub fn final_data(&self) -> Option<FinalData<'_>> {
                match self { $($(#[$attr])* Model::$variant(m) => Process::final_data(m)),+ }
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
    /// Redis Cluster's bus, its replication link and its topology replies.
    RedisCluster(redis_cluster::BusMsg),
    /// Redis replication, and sentinels' commands to Redis nodes.
    Redis(redis::RedisMsg),
    /// Between sentinels, and their answers to client libraries.
    Sentinel(sentinel::SentinelMsg),
    /// VRRP advertisements between keepalived daemons.
    Vrrp(keepalived::Advert),
}

products! {
    // A product that exists to prove the point above: a folder plus this
    // line (and its unit tests run it through the whole pipeline).
    #[cfg(test)]
    Echo(echo::Echo),
    Client(client::Client),
    Server(server::Server),
    Haproxy(haproxy::Haproxy),
    Nginx(nginx::Nginx),
    Galera(galera::Galera),
    Mysql(mysql::Mysql),
    Patroni(patroni::Patroni),
    Etcd(etcd::Etcd),
    RedisCluster(redis_cluster::RedisCluster),
    Redis(redis::Redis),
    Sentinel(sentinel::Sentinel),
    Keepalived(keepalived::Keepalived),
    Proxysql(proxysql::Proxysql),
    PhpFpm(php_fpm::PhpFpm),
    Glusterfs(glusterfs::Glusterfs),
}

/// What building one node's model needs from the rest of the graph.
pub struct BuildCx<'a> {
    /// Node id by name (every reference was validated).
    pub id: &'a dyn Fn(&str) -> NodeId,
    /// The clients so far, in experiment order: a client's number (its
    /// operations' ids, its row in the summary) is its place here.
    pub clients: &'a mut Vec<String>,
    /// The node's own random stream.
    pub rng: &'a mut Rng,
    /// The write history's index of shard 1 of each cluster that holds
    /// several ([`Product::data_shards`]), by cluster index.
    pub shard_base: &'a [u32],
    /// The run's VIPs by name.
    pub vip: &'a dyn Fn(&str) -> Option<VipId>,
    /// The run's seed.
    pub seed: u64,
    /// The experiment's 0 in engine time (after the warm-up): what the
    /// experiment file times from (a client's `start`).
    pub origin: SimTime,
}

impl BuildCx<'_> {
    /// Numbers client `name`: 0, 1, ... in experiment order.
    pub fn register_client(&mut self, name: &str) -> u32 {
        self.clients.push(name.to_string());
        self.clients.len() as u32 - 1
    }

    /// Where a reference sends: the VIP of that name, or the node.
    pub fn addr(&self, name: &str) -> Addr {
        match (self.vip)(name) {
            Some(v) => Addr::Vip(v),
            None => Addr::Node((self.id)(name)),
        }
    }

    /// A random stream every node asking for `key` gets the same draws
    /// from (a group's common phase), fixed by the run's seed.
    pub fn shared_stream(&self, key: &str) -> Rng {
        crate::engine::rng::stream(self.seed, key)
    }

    /// Node ids of `names`.
    pub fn ids(&self, names: &[String]) -> Vec<NodeId> {
        names.iter().map(|m| (self.id)(m)).collect()
    }

    /// The write history's index of shard `shard` of `cluster`: the
    /// cluster's own index for the first, indices after every cluster's
    /// for the others.
    pub fn data_index(&self, cluster: &ClusterSpec, shard: u32) -> u32 {
        match shard {
            0 => cluster.cluster_index,
            s => self.shard_base[cluster.cluster_index as usize] + s - 1,
        }
    }

    /// A cluster member's cluster, its own id and its members' ids.
    pub fn cluster<'n>(&self, node: &'n NodeSpec) -> (&'n ClusterSpec, NodeId, DbIds) {
        let cluster = node
            .cluster
            .as_ref()
            .expect("config gives every database node its cluster");
        let ids = DbIds {
            members: self.ids(&cluster.members),
        };
        (cluster, (self.id)(&node.name), ids)
    }
}

/// Databases listen with a backlog like servers (MariaDB back_log 80..;
/// PostgreSQL listen backlog 2 x max_connections capped by somaxconn); 511
/// is near both in practice.
pub const DB_BACKLOG: u32 = 511;

/// Products whose nodes are declared in `section`.
pub fn in_section(
    section: crate::config::read::Section,
) -> impl Iterator<Item = &'static ProductInfo> {
    PRODUCTS
        .iter()
        .filter(move |p| p.sections.contains(&section))
}

/// Every preset of every product, with its product.
pub fn presets() -> impl Iterator<Item = (&'static ProductInfo, &'static crate::config::Preset)> {
    PRODUCTS
        .iter()
        .flat_map(|p| p.presets.iter().map(move |x| (p, x)))
}

/// The product named `name`.
pub fn find(name: &str) -> Option<&'static ProductInfo> {
    PRODUCTS.iter().find(|p| p.name == name)
}
