//! `type = "etcd"`: an etcd 3.4 cluster (1 or 3 members usually), the DCS of
//! Patroni. Keys are etcd's own flags with `-` as `_`.

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::table::Reader;
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub struct EtcdSpec {
    /// `--heartbeat-interval`: the raft leader's heartbeat (TickMs).
    pub heartbeat_interval: Dur,
    /// `--election-timeout`: followers campaign after [et, 2·et) of silence.
    pub election_timeout: Dur,
}

impl EtcdSpec {
    /// `ServerConfig.ReqTimeout()`: 5 s + 2 × election timeout; a proposal
    /// not applied by then fails with "etcdserver: request timed out".
    pub fn request_timeout(&self) -> Dur {
        Dur::from_secs(5) + self.election_timeout.times(2)
    }
}

pub(crate) fn read<'a>(r: &mut Reader<'a>, ctx: &ReadCx<'_, 'a>) -> Result<EtcdSpec, ConfigError> {
    let heartbeat_interval = r.positive_duration("heartbeat_interval")?;
    let election_timeout = r.positive_duration("election_timeout")?;
    let n = ctx.members().len();
    if n > 1 && n.is_multiple_of(2) {
        ctx.warn(
            r,
            "count",
            format!(
                "{n} etcd members need {} for a quorum: they survive no more failures than {} would",
                n / 2 + 1,
                n - 1
            ),
        );
    }
    // etcd refuses to start unless election-timeout >= 5 × heartbeat-interval
    // (embed/config.go Validate: "--election-timeout[...] should be at least
    // as 5 times as --heartbeat-interval").
    if election_timeout.0 < heartbeat_interval.0 * 5 {
        return Err(r.error_at(
            "election_timeout",
            format!(
                "etcd refuses election-timeout {election_timeout} < 5 x heartbeat-interval ({heartbeat_interval})"
            ),
        ));
    }
    let _ = ctx; // any member count works; quorum = members / 2 + 1
    Ok(EtcdSpec {
        heartbeat_interval,
        election_timeout,
    })
}
