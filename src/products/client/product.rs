//! The client's registration: `[clients.NAME]`, load as k6 generates it.

use super::config::{self, ClientSpec, Library, LoadSpec};
use crate::engine::{Dur, SimTime};
use crate::products::redis_cluster::client::ClusterLib;
use crate::products::sentinel::client::SentinelLib;
use super::driver::Driver;
use super::{Client, describe};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::products::{BuildCx, Product};

impl Product for Client {
    type Spec = ClientSpec;
    const TYPE: &'static str = "client";
    const SECTIONS: &'static [Section] = &[Section::Client];
    const PRESETS: &'static [Preset] = &[crate::preset!("k6")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<ClientSpec, ConfigError> {
        config::read(r, cx)
    }

    /// Clients are numbered in experiment order (their operations' ids).
    fn build(node: &NodeSpec, c: &ClientSpec, cx: &mut BuildCx) -> (Client, u32) {
        let index = cx.register_client(&node.name);
        let driver = match &c.library {
            Library::Direct => Driver::Direct(cx.addr(&c.target)),
            Library::RedisCluster {
                nodes,
                connect_timeout,
            } => Driver::RedisCluster(ClusterLib::new(cx.ids(nodes), *connect_timeout)),
            Library::RedisSentinel { sentinels, timeout } => {
                Driver::Sentinel(SentinelLib::new(cx.ids(sentinels), *timeout))
            }
        };
        // The file times the load from the experiment's 0.
        let at = |t: SimTime| cx.origin + Dur(t.0);
        let mut load = c.load.clone();
        if let LoadSpec::Open(o) = &mut load {
            for step in &mut o.rate_steps {
                step.0 = at(step.0);
            }
        }
        let m = Client::new(index, driver, at(c.start), at(c.stop), c.timeout, &load);
        (m, 0)
    }

    /// A load generator serves no checks.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// A load generator has nothing to form.
    fn formation(_: &ClientSpec) -> Dur {
        Dur::ZERO
    }

    fn describe(o: &mut String, _node: &NodeSpec, c: &ClientSpec) {
        describe(o, c)
    }
}
