//! The product registry: one list of every model. The `products!` macro
//! makes from it the [`Model`] enum and its dispatch — each method an
//! exhaustive `match`, so a model added here without its [`Process`]
//! implementation, or one left out here, is a compile error.

use super::process::Process;
use super::{CallRef, Ctx, Msg, NodeId, ReqKind, Timer, client, db, haproxy, nginx, server};
use crate::engine::{Rng, SimTime};

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

        /// The model's type name, as experiment files and messages say it.
        pub const MODELS: &[&str] = &[$(stringify!($variant)),+];

        impl Model {
            #[inline]
            pub fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
                match self { $(Model::$variant(m) => Process::start(m, ctx, rng)),+ }
            }
            #[inline]
            pub fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
                match self { $(Model::$variant(m) => Process::on_message(m, ctx, rng, msg)),+ }
            }
            #[inline]
            pub fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: Timer) {
                match self { $(Model::$variant(m) => Process::on_timer(m, ctx, rng, t)),+ }
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
            pub fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: db::Admin) {
                match self { $(Model::$variant(m) => Process::admin(m, ctx, rng, a)),+ }
            }
            pub fn final_data(&self) -> Option<db::FinalData<'_>> {
                match self { $(Model::$variant(m) => Process::final_data(m)),+ }
            }
        }
    };
}

products! {
    Client(client::Client),
    Server(server::Server),
    Haproxy(haproxy::Haproxy),
    Nginx(nginx::Nginx),
    Galera(db::galera::Galera),
    Mysql(db::mysql::Mysql),
    Patroni(db::patroni::Patroni),
    Etcd(db::etcd::Etcd),
}
