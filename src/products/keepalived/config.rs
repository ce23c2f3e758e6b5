//! `[vips.NAME] type = "keepalived"`: one VRRP instance (`vrrp_instance`)
//! per listener the VIP moves between, each read from
//! `[vips.NAME.on.LISTENER]` stacked over the table (shared settings) and
//! the preset (keepalived's defaults, `models/keepalived-2.2.toml`). Key
//! names are keepalived.conf's.

use crate::config::ConfigError;
use crate::config::read::ReadCx;
use crate::config::table::Reader;
use crate::engine::Dur;
use crate::net::IfName;

/// The VIP and its instances, in member order. Every member node holds the
/// whole list and finds its own by name (a node's peers are the others).
#[derive(Clone, Debug)]
pub struct KeepalivedSpec {
    pub vip: String,
    pub instances: Vec<InstanceSpec>,
}

/// One host's `vrrp_instance`.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceSpec {
    /// The daemon's node (`VIP-LISTENER`) and the listener beside it.
    pub node: String,
    pub listener: String,
    /// `version` (vrrp_version): 2 or 3.
    pub version: u8,
    pub advert_int: Dur,
    pub priority: u8,
    /// `state MASTER` (true) or `BACKUP`.
    pub master: bool,
    pub nopreempt: bool,
    pub preempt_delay: Dur,
    pub down_timer_adverts: u32,
    /// Second GARP burst after becoming MASTER (zero: none).
    pub garp_master_delay: Dur,
    pub garp_master_repeat: u32,
    /// GARPs re-sent this often while MASTER (zero: never).
    pub garp_master_refresh: Dur,
    /// A MASTER that hears a better advert sends its own before it steps
    /// down (`higher_prio_send_advert`, vrrp.c vrrp_state_master_rx).
    pub higher_prio_send_advert: bool,
    /// `track_script`: the `vrrp_script` checking the listener (`killall -0`).
    pub script: Option<ScriptSpec>,
    /// The links this instance follows: its own interface (the host's,
    /// [`crate::net::HOST_INTERFACE`]) with weight 0 unless `dont_track_primary`, and
    /// each `track_interface` entry.
    pub tracked: Vec<TrackedInterface>,
    pub dont_track_primary: bool,
}

/// One tracked interface: while its link is down a weight of 0 puts the
/// instance in FAULT, a negative one is added to the priority; a positive
/// one is added while it is up (keepalived_netlink.c
/// process_if_status_change).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackedInterface {
    pub name: IfName,
    pub weight: i32,
}

/// `vrrp_script`: run every `interval`, a run longer than `timeout` fails;
/// KO after `fall` failures in a row, OK after `rise` successes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScriptSpec {
    pub interval: Dur,
    pub timeout: Dur,
    pub fall: u32,
    pub rise: u32,
    /// 0: FAULT while KO; < 0 added to the priority while KO; > 0 while OK.
    pub weight: i32,
}

impl InstanceSpec {
    /// `Skew_Time` at priority `p` (vrrp.h VRRP_TIMER_SKEW): v2
    /// (256 - p)/256 s whatever advert_int is (RFC 3768); v3 (256 - p) x
    /// Master_Adver_Interval / 256, in whole centiseconds (RFC 5798).
    pub fn skew(&self, p: u8, master_adver_int: Dur) -> Dur {
        let p = 256 - p as u64;
        match self.version {
            3 => {
                let cs = master_adver_int.0 / (10 * Dur::MS);
                Dur(p * cs / 256 * 10 * Dur::MS)
            }
            _ => Dur::from_us(p * 1_000_000 / 256),
        }
    }

    /// Master_Down_Interval: down_timer_adverts x interval + skew.
    pub fn master_down(&self, p: u8, master_adver_int: Dur) -> Dur {
        master_adver_int.times(self.down_timer_adverts as u64) + self.skew(p, master_adver_int)
    }
}

pub fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<KeepalivedSpec, ConfigError> {
    // The shared settings, checked once where they are written.
    instance(r, String::new(), String::new())?;
    let on = r.entries("on")?;
    let members = cx.vip_members();
    let mut instances = Vec::with_capacity(members.len());
    for (node, listener) in members {
        let own = on
            .iter()
            .find(|e| e.name == listener)
            .expect("the members were registered from these tables");
        let mut ir = r.stacked(own.path.clone(), Some(own.item));
        instances.push(instance(&mut ir, node, listener)?);
        ir.finish()?;
    }
    Ok(KeepalivedSpec {
        vip: cx.name().to_string(),
        instances,
    })
}

fn instance<'a>(
    r: &mut Reader<'a>,
    node: String,
    listener: String,
) -> Result<InstanceSpec, ConfigError> {
    let version = r.u32_range("version", 2, 3)? as u8;
    let advert_int = r.positive_duration("advert_int")?;
    match version {
        2 if advert_int.0 % Dur::S != 0 || advert_int > Dur::from_secs(255) => {
            return Err(r.error_at(
                "advert_int",
                format!(
                    "VRRPv2 advertises whole seconds, 1s to 255s: got {advert_int} \
                     (sub-second intervals need version = 3)"
                ),
            ));
        }
        3 if advert_int.0 % (10 * Dur::MS) != 0 || advert_int > Dur::from_ms(40_950) => {
            return Err(r.error_at(
                "advert_int",
                format!("VRRPv3 advertises centiseconds, 10ms to 40.95s: got {advert_int}"),
            ));
        }
        _ => {}
    }
    let priority = r.u32_range("priority", 1, 255)? as u8;
    let master = r.string_enum("state", &["MASTER", "BACKUP"])? == "MASTER";
    let nopreempt = r.bool("nopreempt")?;
    let preempt_delay = r.duration("preempt_delay")?;
    if preempt_delay > Dur::from_secs(1000) {
        return Err(r.error_at(
            "preempt_delay",
            format!("keepalived takes 0 to 1000 s: got {preempt_delay}"),
        ));
    }
    if !preempt_delay.is_zero() && nopreempt {
        let key = match r.set_here("preempt_delay") {
            true => "preempt_delay",
            false => "nopreempt",
        };
        return Err(r.error_at(
            key,
            "preempt_delay delays a preemption that nopreempt forbids: set one of them",
        ));
    }
    if (nopreempt || !preempt_delay.is_zero()) && master {
        let key = if nopreempt { "nopreempt" } else { "preempt_delay" };
        return Err(r.error_at(
            key,
            format!(
                "{key} needs the initial state BACKUP (keepalived.conf(5): \"the initial state \
                 must not be MASTER\")"
            ),
        ));
    }
    let down_timer_adverts = r.u32_range("down_timer_adverts", 1, 100)?;
    let garp_master_delay = r.duration("garp_master_delay")?;
    let garp_master_repeat = r.u32_range("garp_master_repeat", 1, 10_000)?;
    let garp_master_refresh = r.duration("garp_master_refresh")?;
    let higher_prio_send_advert = r.bool("higher_prio_send_advert")?;
    let track = r.bool("track_script")?;
    let mut s = r.sub("vrrp_script")?;
    let interval = s.positive_duration("interval")?;
    let timeout = s.positive_duration_opt("timeout")?.unwrap_or(interval);
    let fall = s.u32_range("fall", 1, 1000)?;
    let rise = s.u32_range("rise", 1, 1000)?;
    let weight = s.int_range_opt("weight", -253, 253)?.unwrap_or(0) as i32;
    s.finish()?;
    let dont_track_primary = r.bool("dont_track_primary")?;
    let tracked = tracked_interfaces(r, dont_track_primary)?;
    Ok(InstanceSpec {
        node,
        listener,
        version,
        advert_int,
        priority,
        master,
        nopreempt,
        preempt_delay,
        down_timer_adverts,
        garp_master_delay,
        garp_master_repeat,
        garp_master_refresh,
        higher_prio_send_advert,
        script: track.then_some(ScriptSpec {
            interval,
            timeout,
            fall,
            rise,
            weight,
        }),
        tracked,
        dont_track_primary,
    })
}

/// `track_interface = { eth1 = 0, bond0 = -20 }` (name = weight, 0 for
/// FAULT) and the instance's own interface. vrrp.c add_vrrp_to_interface
/// merges an interface tracked twice: an unweighted entry wins, so the own
/// interface keeps FAULT unless `dont_track_primary`, and then its weight
/// (if listed) is the `track_interface` one.
fn tracked_interfaces(
    r: &mut Reader<'_>,
    dont_track_primary: bool,
) -> Result<Vec<TrackedInterface>, ConfigError> {
    let mut out = Vec::new();
    if !dont_track_primary {
        out.push(TrackedInterface {
            name: IfName::host(),
            weight: 0,
        });
    }
    let Some(item) = r.item("track_interface") else {
        return Ok(out);
    };
    let path = r.key_path("track_interface");
    let Some(tab) = item.as_table() else {
        return Err(r.src.error(
            &item.at,
            &path,
            format!(
                "expected a table of interface = weight, e.g. {{ eth1 = 0, bond0 = -20 }}, \
                 found {}",
                item.val.describe()
            ),
        ));
    };
    for (k, v) in &tab.entries {
        let p = format!("{path}.{}", k.name);
        let name = IfName::new(&k.name).ok_or_else(|| {
            r.src.error(
                &k.at,
                &p,
                "an interface name as Linux takes it (1 to 15 bytes, no '/', ':' or space)",
            )
        })?;
        let weight = r.src.as_int_range(v, &p, -253, 253)? as i32;
        match out.iter_mut().find(|t| t.name == name) {
            // The own interface, tracked unweighted: FAULT stays.
            Some(_) => {}
            None => out.push(TrackedInterface { name, weight }),
        }
    }
    Ok(out)
}
