//! Placeholder: being written.

use super::{Admin, FinalData};
use crate::components::{CallRef, Ctx, Msg, NodeId, ReqKind, Timer};
use crate::config::spec::DatabaseSpec;
use crate::engine::{Rng, SimTime};

#[derive(Clone)]
pub struct Mysql {}

impl Mysql {
    pub fn new(_spec: &DatabaseSpec, _me: NodeId, _ids: &super::DbIds) -> Mysql {
        Mysql {}
    }
    pub fn start(&mut self, _ctx: &mut Ctx, _rng: &mut Rng) {}
    pub fn on_message(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _msg: Msg) {}
    pub fn on_timer(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _t: Timer) {}
    pub fn on_established(&mut self, _call: CallRef, _at: SimTime) {}
    pub fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }
    pub fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }
    pub fn refuses(&self, _kind: ReqKind) -> bool {
        false
    }
    pub fn crash(&mut self) {}
    pub fn admin(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _a: Admin) {}
    pub fn final_data(&self) -> Option<FinalData<'_>> {
        None
    }
}
