//! ProxySQL's registration: `type = "proxysql"` under `[balancers.NAME]`.

use super::config::{self, ProxysqlSpec};
use super::{Proxysql, errors, formulas};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
use crate::faults::FaultAction;
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};
use crate::report::FormulaRange;
use std::fmt::Write;

/// ProxySQL's listen backlog on its MySQL port (`mysql-interfaces`, listened
/// with the kernel's somaxconn cap; near the others' 511 in practice).
const BACKLOG: u32 = 511;

impl Product for Proxysql {
    type Spec = ProxysqlSpec;
    const TYPE: &'static str = "proxysql";
    const SECTIONS: &'static [Section] = &[Section::Balancer];
    const PRESETS: &'static [Preset] = &[crate::preset!("proxysql-2.x")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;
    const ERRORS: &'static [DbErrorCode] = errors::ALL;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<ProxysqlSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(_node: &NodeSpec, x: &ProxysqlSpec, cx: &mut BuildCx) -> (Proxysql, u32) {
        (Proxysql::new(x, &cx.ids(&x.servers)), BACKLOG)
    }

    /// A balancer checked by another answers by being alive.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// Hostgroups settled: the Galera monitor's first round (within one
    /// interval, lasting up to its timeout) moves each node where it
    /// belongs.
    fn formation(x: &ProxysqlSpec) -> Dur {
        x.monitor_galera_healthcheck_interval.times(2) + x.monitor_galera_healthcheck_timeout
    }

    fn describe(o: &mut String, _node: &NodeSpec, x: &ProxysqlSpec) {
        let _ = writeln!(
            o,
            "mysql_galera_hostgroups over `{}` ({}): writer_hostgroup {} backup_writer_hostgroup {} \
             reader_hostgroup {} offline_hostgroup {} max_writers {} writer_is_also_reader {}; \
             query rules: writes -> writer_hostgroup, reads -> reader_hostgroup",
            x.galera,
            x.servers.join(", "),
            x.writer_hostgroup,
            x.backup_writer_hostgroup,
            x.reader_hostgroup,
            x.offline_hostgroup,
            x.max_writers,
            x.writer_is_also_reader,
        );
        let _ = writeln!(
            o,
            "  monitor_galera_healthcheck_interval {} timeout {} max_timeout_count {}; \
             monitor_ping_interval {} timeout {} max_failures {}",
            x.monitor_galera_healthcheck_interval,
            x.monitor_galera_healthcheck_timeout,
            x.monitor_galera_healthcheck_max_timeout_count,
            x.monitor_ping_interval,
            x.monitor_ping_timeout,
            x.monitor_ping_max_failures,
        );
        let _ = writeln!(
            o,
            "  shun_on_failures {} shun_recovery_time_sec {}; connect_retries_on_failure {} \
             connect_retries_delay {} connect_timeout_server {} connect_timeout_server_max {}",
            x.shun_on_failures,
            x.shun_recovery_time_sec,
            x.connect_retries_on_failure,
            x.connect_retries_delay,
            x.connect_timeout_server,
            x.connect_timeout_server_max,
        );
    }

    fn detection(
        spec: &ExperimentSpec,
        _node: &NodeSpec,
        x: &ProxysqlSpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        formulas::detection(spec, x, a, subjects)
    }
}
