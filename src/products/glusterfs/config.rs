//! `type = "glusterfs"`: a replica volume (`[databases.NAME]`, one brick per
//! member) and its FUSE mount (`[balancers.NAME]`, `volume = "NAME"`, placed
//! on the app's host with `host = "..."`). Defaults and sources in
//! `models/glusterfs-10.toml`; one preset serves both tables, each reads its
//! own keys and refuses the other's.

use crate::config::ConfigError;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub enum GlusterSpec {
    Volume(VolumeSpec),
    Mount(MountSpec),
}

/// The bricks and the self-heal daemon.
#[derive(Clone, Debug)]
pub struct VolumeSpec {
    /// A brick's time to serve one file operation.
    pub fop_time: DistSpec,
}

/// `cluster.quorum-type` (with `cluster.quorum-count` for fixed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quorum {
    None,
    Auto,
    Fixed(u32),
}

impl Quorum {
    /// afr_has_quorum: whether the bricks in `up` (a bit per brick, brick 0
    /// the first) make quorum among `n`.
    pub fn met(self, up: u32, n: u32) -> bool {
        let count = up.count_ones();
        match self {
            Quorum::None => count >= 1,
            Quorum::Auto => {
                if count * 2 == n {
                    // Exactly half: the half holding the first brick wins.
                    return up & 1 == 1;
                }
                count > n / 2
            }
            Quorum::Fixed(q) => count >= q,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Quorum::None => "none".into(),
            Quorum::Auto => "auto".into(),
            Quorum::Fixed(q) => format!("fixed (quorum_count {q})"),
        }
    }
}

/// The FUSE client: protocol/client (ping timer) and cluster/afr (quorum,
/// read child, pending heal).
#[derive(Clone, Debug)]
pub struct MountSpec {
    /// The volume it mounts (`volume = "NAME"`).
    pub volume: String,
    /// Its bricks, in volume order.
    pub bricks: Vec<String>,
    /// `network.ping-timeout`; zero turns the ping timer off.
    pub ping_timeout: Dur,
    pub quorum: Quorum,
    /// The distinct files operations spread over.
    pub files: u32,
    /// The self-heal daemon's time per entry healed: the model heals, from
    /// the mount, the entries its own writes left pending.
    pub heal_entry_time: Dur,
}

const MOUNT_KEYS: &[&str] = &[
    "ping_timeout",
    "quorum_type",
    "quorum_count",
    "files",
    "heal_entry_time",
];

pub(crate) fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<GlusterSpec, ConfigError> {
    match cx.section() {
        Section::Database => read_volume(r).map(GlusterSpec::Volume),
        _ => read_mount(r, cx).map(GlusterSpec::Mount),
    }
}

/// Refuses the keys of the other table when this one sets them; a preset's
/// values of them are left to the other table.
fn refuse_here(r: &mut Reader<'_>, keys: &[&'static str], why: &str) -> Result<(), ConfigError> {
    for k in keys {
        if r.set_here(k) {
            return Err(r.error_at(k, format!("`{k}` {why}")));
        }
    }
    // The preset's values of them are known keys here.
    r.allow(keys);
    Ok(())
}

fn read_volume(r: &mut Reader<'_>) -> Result<VolumeSpec, ConfigError> {
    r.reject("volume", "a volume's table declares its bricks (count = 3); `volume` names the volume a mount mounts")?;
    refuse_here(
        r,
        MOUNT_KEYS,
        "is a client-side option (protocol/client, cluster/afr): set it on the mount, the `[balancers.NAME]` table with volume = \"...\"",
    )?;
    Ok(VolumeSpec {
        fop_time: r.dist("fop_time")?,
    })
}

fn read_mount<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<MountSpec, ConfigError> {
    r.reject("servers", "a mount's bricks are its volume's members: write volume = \"NAME\"")?;
    let volume = r.string_opt("volume")?.ok_or_else(|| {
        r.missing("volume", "the glusterfs volume it mounts, a [databases.NAME] table, e.g. volume = \"gv0\"")
    })?;
    let at = r.item("volume").expect("read above").at.clone();
    let bricks = cx.cluster_ref(volume, &at, &r.key_path("volume"), "glusterfs")?;
    if bricks.len() > 32 {
        return Err(r.error_at("volume", format!("{} bricks: the model holds at most 32", bricks.len())));
    }
    refuse_here(
        r,
        &["fop_time"],
        "is a brick's setting: set it on the volume's [databases.NAME] table",
    )?;
    let n = bricks.len() as u32;
    let quorum = match r.string_enum("quorum_type", &["none", "auto", "fixed"])? {
        "none" => {
            r.reject("quorum_count", "read only with quorum_type = \"fixed\"")?;
            cx.warn(
                r,
                "quorum_type",
                "quorum_type = \"none\": a write succeeds on any one brick, so two mounts on \
                 either side of a partition both write and the file ends in split-brain"
                    .into(),
            );
            Quorum::None
        }
        "auto" => {
            r.reject("quorum_count", "read only with quorum_type = \"fixed\"")?;
            Quorum::Auto
        }
        _ => {
            let q = r.u32_min_opt("quorum_count", 1)?.ok_or_else(|| {
                r.missing("quorum_count", "the bricks a write needs with quorum_type = \"fixed\"")
            })?;
            if q > n {
                return Err(r.error_at(
                    "quorum_count",
                    format!("{q} is more than the volume's {n} bricks: no write would ever succeed"),
                ));
            }
            if q * 2 <= n {
                cx.warn(
                    r,
                    "quorum_count",
                    format!(
                        "quorum_count {q} of {n} bricks is not a majority: two sides of a \
                         partition can both write (split-brain)"
                    ),
                );
            }
            Quorum::Fixed(q)
        }
    };
    Ok(MountSpec {
        volume: volume.to_string(),
        bricks,
        ping_timeout: r.duration("ping_timeout")?,
        quorum,
        files: r.u32_min("files", 1)?,
        heal_entry_time: r.positive_duration("heal_entry_time")?,
    })
}
