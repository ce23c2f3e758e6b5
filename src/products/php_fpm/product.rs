//! php-fpm's registration: `[apps.NAME] type = "php-fpm"`.

use super::config::{self, PhpFpmSpec, PmStyle};
use super::{PhpFpm, PhpWake};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
use crate::products::{BuildCx, Product};
use crate::protocols::calls::{CallCfg, Downstream};

impl Product for PhpFpm {
    type Spec = PhpFpmSpec;
    const TYPE: &'static str = "php-fpm";
    const SECTIONS: &'static [Section] = &[Section::App];
    const PRESETS: &'static [Preset] = &[crate::preset!("php-fpm-7.2")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<PhpFpmSpec, ConfigError> {
        config::read(r, cx)
    }

    /// Call kinds in request order: the session's GET, the app's calls,
    /// the session's SET. The listen backlog is the kernel's while the
    /// node is stopped, and the model's own while it runs.
    fn build(_node: &NodeSpec, spec: &PhpFpmSpec, cx: &mut BuildCx) -> (PhpFpm, u32) {
        let mut cfgs = Vec::new();
        let session = spec.session.as_ref().map(|s| {
            let mut c = CallCfg {
                target: cx.addr(&s.save_path),
                count: 1,
                connect_timeout: s.timeout,
                timeout: s.read_timeout,
                pool: None,
                error_status: s.error_status,
                idempotent: Some(true),
                pass_op: false,
            };
            cfgs.push(c.clone());
            c.idempotent = Some(false);
            c
        });
        cfgs.extend(spec.calls.iter().map(|c| CallCfg::new(c, cx.addr(&c.target))));
        cfgs.extend(session);
        let model = PhpFpm::new(spec, Downstream::<PhpWake>::new(cfgs));
        (model, spec.backlog)
    }

    fn describe(o: &mut String, _node: &NodeSpec, s: &PhpFpmSpec) {
        use std::fmt::Write;
        let pm = match s.pm {
            PmStyle::Static => format!("pm = static, pm.max_children = {}", s.max_children),
            PmStyle::Dynamic => format!(
                "pm = dynamic, pm.max_children = {}, pm.start_servers = {}, \
                 pm.min_spare_servers = {}, pm.max_spare_servers = {}, pm.max_spawn_rate = {}",
                s.max_children,
                s.start_servers,
                s.min_spare_servers,
                s.max_spare_servers,
                s.max_spawn_rate
            ),
            PmStyle::Ondemand => format!(
                "pm = ondemand, pm.max_children = {}, pm.process_idle_timeout = {}",
                s.max_children, s.process_idle_timeout
            ),
        };
        let terminate = match s.request_terminate_timeout.is_zero() {
            true => "0 (off)".to_string(),
            false => s.request_terminate_timeout.to_string(),
        };
        let _ = writeln!(
            o,
            "{pm}, pm.max_requests = {}, listen.backlog = {}, request_terminate_timeout = {terminate}; \
             fork to accept {}, script {}",
            s.max_requests,
            s.backlog,
            s.spawn_time,
            crate::process::dist::describe(&s.service),
        );
        match &s.session {
            Some(x) => {
                let _ = writeln!(
                    o,
                    "    session.save_handler = redis, session.save_path = {} (GET at start, SET at end, \
                     no locking; timeout {}, read_timeout {}, unreadable -> {})",
                    x.save_path, x.timeout, x.read_timeout, x.error_status
                );
            }
            None => {
                let _ = writeln!(o, "    session.save_handler = files (local, no calls)");
            }
        }
        let calls = crate::protocols::calls::describe_calls(&s.calls);
        if !calls.is_empty() {
            let _ = writeln!(o, "    calls {}", calls.join(", "));
        }
    }

    /// php-fpm speaks FastCGI: the master answers no HTTP check.
    fn check_code(_path: &str) -> Result<u32, String> {
        Err("php-fpm speaks FastCGI and answers no HTTP check (no ping.path modelled): \
             check it at L4 (check without httpchk)"
            .to_string())
    }

    /// Its first children accept once forked.
    fn formation(s: &PhpFpmSpec) -> Dur {
        s.spawn_time
    }
}
