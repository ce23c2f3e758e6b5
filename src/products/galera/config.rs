//! `type = "galera"`: Galera 4 / Percona XtraDB Cluster nodes (defaults in
//! `models/galera-26.4.toml`). Key names are the wsrep provider options
//! (`evs.suspect_timeout` is written `[databases.NAME.evs] suspect_timeout`)
//! and the server variables; the model's own keys (`service`, `apply`,
//! `conflict_rate`, `writeset_size`, `data_size`, `sst_rate`, `startup`) are
//! documented in the preset.

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::spec::DistSpec;
use crate::config::table::{Reader, Val};
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub struct GaleraSpec {
    pub max_connections: u32,
    pub service: DistSpec,
    pub apply: DistSpec,
    pub dirty_reads: bool,
    pub available_when_donor: bool,
    /// Probability that two concurrent writes on different nodes touch the
    /// same row (certification conflict).
    pub conflict_rate: f64,
    pub startup: Dur,
    // evs.*
    pub keepalive_period: Dur,
    pub inactive_check_period: Dur,
    pub suspect_timeout: Dur,
    pub inactive_timeout: Dur,
    pub install_timeout: Dur,
    pub join_retrans_period: Dur,
    pub max_install_timeouts: u32,
    // pc.*
    /// Weight of each member, in member order.
    pub weights: Vec<u32>,
    pub ignore_quorum: bool,
    pub ignore_sb: bool,
    /// `pc.recovery`: restarted members restore the last Primary Component
    /// once all of its members are back (gvwstate.dat).
    pub recovery: bool,
    // gcs.*
    pub fc_limit: u32,
    pub fc_factor: f64,
    pub fc_single_primary: bool,
    // state transfer
    pub gcache_size: u64,
    pub writeset_size: u64,
    pub data_size: u64,
    pub sst_rate: u64,
    /// The SST method blocks the donor (rsync, mysqldump).
    pub sst_blocks_donor: bool,
}

impl GaleraSpec {
    /// Write-sets a donor's gcache holds.
    pub fn gcache_writes(&self) -> u64 {
        self.gcache_size / self.writeset_size.max(1)
    }
}

/// `"128M"`, `"1G"`, `"512K"`, or an integer number of bytes.
fn bytes(r: &mut Reader, key: &'static str) -> Result<u64, ConfigError> {
    let Some(item) = r.item(key) else {
        return Err(r.missing(key, "a size such as \"128M\""));
    };
    let parsed = match &item.val {
        Val::Int(n) if *n > 0 => Some(*n as u64),
        Val::Str(s) => {
            let s = s.trim();
            let (num, mult) = match s.chars().last() {
                Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
                Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
                Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
                Some('T' | 't') => (&s[..s.len() - 1], 1 << 40),
                _ => (s, 1),
            };
            num.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(|v| (v * mult as f64) as u64)
                .filter(|&b| b > 0)
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        r.error_at(
            key,
            "expected a size greater than zero such as \"128M\", \"1G\" or a number of bytes",
        )
    })
}

pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    ctx: &ReadCx<'_, 'a>,
) -> Result<GaleraSpec, ConfigError> {
    let n = ctx.members().len();
    let mut evs = r.sub("evs")?;
    let keepalive_period = evs.positive_duration("keepalive_period")?;
    let inactive_check_period = evs.positive_duration("inactive_check_period")?;
    let suspect_timeout = evs.positive_duration("suspect_timeout")?;
    let inactive_timeout = evs.positive_duration("inactive_timeout")?;
    let install_timeout = evs.positive_duration("install_timeout")?;
    let join_retrans_period = evs.positive_duration("join_retrans_period")?;
    let max_install_timeouts = evs.u32_range("max_install_timeouts", 0, 255)?;
    // The constraints evs_proto.cpp's constructor checks (it refuses to start).
    if keepalive_period.0 > suspect_timeout.0 / 3 {
        return Err(evs.error_at(
            "keepalive_period",
            format!(
                "must be at most suspect_timeout / 3 ({}): Galera refuses to start otherwise",
                Dur(suspect_timeout.0 / 3)
            ),
        ));
    }
    if inactive_check_period.0 > suspect_timeout.0 / 2 {
        return Err(evs.error_at(
            "inactive_check_period",
            format!(
                "must be at most suspect_timeout / 2 ({}): Galera refuses to start otherwise",
                Dur(suspect_timeout.0 / 2)
            ),
        ));
    }
    if inactive_timeout < suspect_timeout {
        return Err(evs.error_at(
            "inactive_timeout",
            format!("must be at least suspect_timeout ({suspect_timeout})"),
        ));
    }
    evs.finish()?;

    let mut pc = r.sub("pc")?;
    let weight = pc.u32_range("weight", 0, 255)?;
    let weights = match pc.item("weights") {
        None => vec![weight; n],
        Some(item) => {
            let Val::Array(items) = &item.val else {
                return Err(pc.error_at("weights", "expected an array of integers, one per member"));
            };
            if items.len() != n {
                return Err(pc.error_at(
                    "weights",
                    format!(
                        "{} weights for {n} members ({})",
                        items.len(),
                        ctx.members().join(", ")
                    ),
                ));
            }
            let mut w = Vec::with_capacity(n);
            for it in items {
                match it.val {
                    Val::Int(v) if (0..=255).contains(&v) => w.push(v as u32),
                    _ => {
                        return Err(pc.error_at(
                            "weights",
                            "each weight is an integer from 0 to 255 (pc.weight)",
                        ));
                    }
                }
            }
            w
        }
    };
    if weights.iter().all(|&w| w == 0) {
        let key = if pc.set_here("weights") {
            "weights"
        } else {
            "weight"
        };
        return Err(pc.error_at(
            key,
            "every member has weight 0: no component can ever be Primary",
        ));
    }
    let ignore_quorum = pc.bool("ignore_quorum")?;
    let ignore_sb = pc.bool("ignore_sb")?;
    let recovery = pc.bool("recovery")?;
    pc.finish()?;

    let mut gcs = r.sub("gcs")?;
    let fc_limit = gcs.u32_min("fc_limit", 1)?;
    let fc_factor = gcs
        .f64_range_opt("fc_factor", 0.0, 1.0)?
        .ok_or_else(|| gcs.missing("fc_factor", "a number from 0 to 1"))?;
    let fc_single_primary = gcs.bool("fc_single_primary")?;
    gcs.finish()?;

    let mut gcache = r.sub("gcache")?;
    let gcache_size = bytes(&mut gcache, "size")?;
    gcache.finish()?;

    let method = r.string_enum(
        "wsrep_sst_method",
        &[
            "rsync",
            "mariabackup",
            "xtrabackup-v2",
            "mysqldump",
            "clone",
        ],
    )?;
    let conflict_rate = r
        .f64_range_opt("conflict_rate", 0.0, 1.0)?
        .ok_or_else(|| r.missing("conflict_rate", "a probability from 0 to 1"))?;
    Ok(GaleraSpec {
        max_connections: r.u32_min("max_connections", 1)?,
        service: r.dist("service")?,
        apply: r.dist("apply")?,
        dirty_reads: r.bool("wsrep_dirty_reads")?,
        available_when_donor: r.bool("available_when_donor")?,
        conflict_rate,
        startup: r.duration("startup")?,
        keepalive_period,
        inactive_check_period,
        suspect_timeout,
        inactive_timeout,
        install_timeout,
        join_retrans_period,
        max_install_timeouts,
        weights,
        ignore_quorum,
        ignore_sb,
        recovery,
        fc_limit,
        fc_factor,
        fc_single_primary,
        gcache_size,
        writeset_size: bytes(r, "writeset_size")?,
        data_size: bytes(r, "data_size")?,
        sst_rate: bytes(r, "sst_rate")?,
        sst_blocks_donor: matches!(method, "rsync" | "mysqldump"),
    })
}
