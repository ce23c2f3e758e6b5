//! A test-only product, the smallest there can be: a server that answers
//! every request at once with the status its config gives. It exists to
//! prove that a product is a folder plus one line in the registry — its
//! tests below go through the whole pipeline (experiment file, preset,
//! reader, build, `--dry-run`, the event loop, the report) without any
//! other file knowing it.

use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::{Dur, Rng, SimTime};
use crate::process::{Boot, CallRef, Ctx, Msg, MsgKind, NodeId, Process, ReqKind};
use crate::products::{BuildCx, Product};
use std::fmt::Write;

/// `[databases.NAME] type = "echo"`: the status every request gets.
#[derive(Clone, Debug)]
pub struct EchoSpec {
    pub status: u16,
}

#[derive(Clone)]
pub struct Echo {
    status: u16,
}

/// It keeps no timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoTimer {}

impl Process for Echo {
    type Timer = EchoTimer;

    fn start(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _boot: Boot) {}

    fn on_message(&mut self, ctx: &mut Ctx, _rng: &mut Rng, msg: Msg) {
        if let MsgKind::Connect(req) = msg.kind
            && req.kind != ReqKind::L4Check
        {
            let status = self.status;
            ctx.send(msg.from, msg.call, MsgKind::Response { status });
        }
    }

    fn on_timer(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, t: EchoTimer) {
        match t {}
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }

    fn crashed(&mut self, pristine: &Echo) {
        self.clone_from(pristine);
    }
}

impl Product for Echo {
    type Spec = EchoSpec;
    const TYPE: &'static str = "echo";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[Preset {
        name: "echo-1",
        file: "src/products/echo/mod.rs",
        text: "status = 200\n",
    }];
    const HOLDS_CLIENT_DATA: bool = false;
    const EXAMPLE: &'static str = "[experiment]\nduration = \"2s\"\n\
        [clients.c]\ntype = \"open\"\ntarget = \"kv\"\nrate = 100\narrivals = \"constant\"\n\
        [databases.kv]\ntype = \"echo\"\nstatus = 203\n";

    fn read<'a>(r: &mut Reader<'a>, _cx: &ReadCx<'_, 'a>) -> Result<EchoSpec, ConfigError> {
        let status = r.u32_range("status", 100, 599)? as u16;
        Ok(EchoSpec { status })
    }

    fn build(_node: &NodeSpec, spec: &EchoSpec, _cx: &mut BuildCx) -> (Echo, u32) {
        (
            Echo {
                status: spec.status,
            },
            crate::products::DB_BACKLOG,
        )
    }

    fn describe(o: &mut String, _node: &NodeSpec, spec: &EchoSpec) {
        let _ = writeln!(o, "answers every request with status {}", spec.status);
    }

    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    fn formation(_: &EchoSpec) -> Dur {
        Dur::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{self, NodeKind};

    fn example() -> crate::config::spec::ExperimentSpec {
        crate::config::parse(Echo::EXAMPLE, "echo.toml").unwrap()
    }

    #[test]
    fn the_registry_lists_it() {
        let p = products::find("echo").expect("registered");
        assert_eq!(p.sections, &[Section::Database]);
        assert_eq!(p.noun(), "echo databases");
        assert!(crate::config::presets::find("echo-1").is_some());
    }

    #[test]
    fn its_reader_reads_its_key_over_its_preset() {
        let spec = example();
        let NodeKind::Echo(e) = &spec.nodes["kv"].kind else {
            panic!("not an echo node")
        };
        assert_eq!(e.status, 203);
        let text = Echo::EXAMPLE.replace("status = 203\n", "");
        let spec = crate::config::parse(&text, "echo.toml").unwrap();
        let NodeKind::Echo(e) = &spec.nodes["kv"].kind else {
            panic!()
        };
        assert_eq!(e.status, 200, "the preset's value");
        let bad = Echo::EXAMPLE.replace("status = 203", "status = 42");
        let err = crate::config::parse(&bad, "echo.toml").unwrap_err();
        assert_eq!(err.key, "databases.kv.status");
    }

    #[test]
    fn dry_run_describes_it() {
        let text = crate::describe::topology(&example(), 1);
        assert!(text.contains("answers every request with status 203"), "{text}");
    }

    #[test]
    fn it_runs_and_every_request_gets_its_status() {
        let mut sim = crate::sim::Sim::new(&example(), 1);
        sim.run();
        let r = sim.finish();
        assert_eq!(r.recorder.requests, 200);
        assert_eq!(r.recorder.failed, 0);
    }

    #[test]
    fn a_kill_fault_reaches_it_through_the_kernel() {
        let text = format!(
            "{}[[faults]]\nkind = \"kill\"\ntarget = \"kv\"\nat = \"1s\"\n",
            Echo::EXAMPLE
        );
        let spec = crate::config::parse(&text, "echo.toml").unwrap();
        let mut sim = crate::sim::Sim::new(&spec, 1);
        sim.run();
        let r = sim.finish();
        assert_eq!(r.recorder.failed, 100, "refused after the kill");
    }
}
