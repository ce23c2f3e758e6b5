//! A Galera 4 / Percona XtraDB Cluster node (galera.md): EVS group
//! membership judged by message silence, the PC's weighted quorum, totally
//! ordered synchronous replication with flow control and certification,
//! state transfer (IST/SST) with a desynced donor, and the clustercheck HTTP
//! answer HAProxy polls.
//!
//! Membership (`gcomm/src/evs_proto.cpp`): every message from a peer advances
//! its timestamp; a keepalive goes to a peer nothing else was sent to for
//! `evs.keepalive_period`. Every `evs.inactive_check_period` a peer silent for
//! `evs.suspect_timeout` is suspected and, having sent no JOIN, declared
//! inactive (`evs.inactive_timeout` declares it regardless; when every other
//! node of a 3+ group is suspected all are). A declaration starts GATHER: JOIN
//! messages carry the proposed member set, the suspects and the set of nodes
//! whose JOIN the sender had when it sent it ("seen"). Entering GATHER resets
//! the inactivity check and the JOIN retransmission (`evs.join_retrans_period`)
//! timers; a JOIN is resent at once only when its set or suspects change. The
//! representative (lowest member) installs the view once every member's
//! last-sent JOIN proposes the same set and had seen every member's JOIN —
//! so the node that entered GATHER first must resend, at its next
//! retransmission: the ~1 s membership round of galera.md §2 (in the G1 logs
//! the view came exactly 1.0 s after the first "suspecting node"). The
//! inactivity check only sends the JOIN (`shift_to(S_GATHER, true)` ->
//! `send_join(false)`); consensus is evaluated in `handle_join()`, so a node
//! cut off alone, which hears no JOIN, installs its one-node view when the
//! retransmission timer handles its own JOIN (`handle_retrans_timer()` ->
//! `send_join(true)`): one `evs.join_retrans_period` after it entered GATHER,
//! or the next one after its last peer was declared (in GATHER the check
//! sends nothing) — 1.000 s in every trial of galera-partition-lone. A majority
//! of the view suspecting a node evicts it (`check_suspects`); an expired
//! `evs.install_timeout` declares the inconsistent nodes inactive, all others
//! after `evs.max_install_timeouts`. Messages tagged with a view the receiver
//! left are ignored; other messages from a node outside the view merge it.
//! A LEAVE (clean stop) removes the leaver at once and from the quorum base.
//!
//! PC (`pc_proto.cpp`): after an install every member sends its state (last
//! primary view, the write-sets it received, whether it is synced). The
//! component is Primary iff the weight of its members from the last primary
//! component is more than half of that component's weight minus graceful
//! leavers (`pc.ignore_sb`: or exactly half; `pc.ignore_quorum`: always).
//! The states travel SAFE (`send_state` uses the default `ProtoDownMeta`,
//! O_SAFE): EVS delivers a message, the sender's own included, only once
//! every member of the view is known to have received it (`safe_seq`, the
//! lowest member `aru_seq`), and `handle_state` decides on the states of all
//! members. So each member reports the states it has (`StateAck`, standing
//! for the `aru_seq` EVS messages carry) and decides once every member
//! reported all of them: a member whose messages stopped reaching the others
//! decides nothing, hence delivers and acknowledges nothing.
//!
//! Replication: the representative of the primary view orders write-sets (a
//! sequencer standing for EVS total order): WS -> ORDER to every member ->
//! ACK -> DELIVER once every member of the view has it. A commit therefore
//! stalls on every node while a member is silent, until the new view. At a
//! new primary view the survivors deliver what all of them received, and
//! originators resend the rest; a non-Primary node fails its waiting commits
//! with 1180. Delivered write-sets go through the node's receive queue and
//! one applier (`apply` time, x a `slow` fault); a local commit waits its turn
//! (commit order). A queue above `gcs.fc_limit` (x sqrt(N) unless
//! `gcs.fc_single_primary`) sends FC_PAUSE: the sequencer orders nothing until
//! it is below limit x `gcs.fc_factor`. Certification: each write-set ordered
//! after this one's statement began, from another node, conflicts with
//! probability `conflict_rate`; the loser gets 1213.
//!
//! State transfer: a member whose state is behind joins as JOINING (1) and asks
//! the lowest synced member; IST when the missing write-sets are in the donor's
//! gcache (`gcache.size` / `writeset_size` write-sets since the donor's start)
//! and its data is a prefix of the donor's, else SST (`data_size`); both at
//! `sst_rate`. The donor is DONOR/DESYNCED (2) meanwhile (blocked with rsync /
//! mysqldump), the joiner JOINED (3) then SYNCED (4) once its queue drained.
//! `wsrep_local_state` 0 here means "not in a Primary Component".

pub mod config;
pub mod errors;
mod formulas;
mod product;

use crate::config::spec::ClusterSpec;
use crate::data::{DataLog, FinalData};
use crate::engine::{Dur, Rng, SimTime};
use crate::faults::RESTART;
use crate::metrics::EventKind;
use crate::process::{Boot, Process};
use crate::process::dist::Sampler;
use crate::process::{Admin, DbIds};
use crate::process::{CallRef, Ctx, DbError, Msg, MsgKind, NodeId, ReqKind, TimerKey};
use crate::products::{Timer, Wire};
use crate::protocols::sql::Sessions;
use config::GaleraSpec;
use rand::Rng as _;
use std::collections::{BTreeMap, VecDeque};

/// Galera's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaleraTimer {
    /// mysqld is back after `startup` (a restart, or a recovery from a crash).
    Boot,
    /// `evs.keepalive_period`: keepalives to peers nothing was sent to, the
    /// sequencer's retransmissions, the state exchange resent.
    Keepalive,
    /// `evs.inactive_check_period`: `check_inactive()`.
    InactiveCheck,
    /// `evs.join_retrans_period` in GATHER: the JOIN is resent.
    JoinRetrans,
    /// `evs.install_timeout` in GATHER.
    InstallTimeout,
    /// A client statement's service time is over.
    QueryDone(CallRef),
    /// The applier finished its write-set.
    ApplyDone,
    /// The donor finished sending its state transfer.
    DonorDone,
    /// The joiner's transfer did not come in time: it asks again.
    JoinerRetry,
}

impl From<GaleraTimer> for Timer {
    fn from(t: GaleraTimer) -> Timer {
        Timer::Galera(t)
    }
}

/// Group communication between the members (gcomm: EVS membership, the PC
/// state exchange, the replication stream and state transfers, which Galera
/// all carries over gcomm). `view` is the sender's view (EVS tags its
/// messages with it); member sets are masks of member indexes (at most 31
/// members: validation refuses more at `count`, `Galera::new` asserts it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcommMsg {
    /// EVS keepalive; the sequencer adds the write-sets it delivered so far
    /// (`None` from any other member).
    Keepalive { view: u32, delivered: Option<u32> },
    /// EVS JOIN of a membership round, sent from view `view`.
    Join { view: u32, join: Join },
    /// EVS INSTALL of view `view` with members `set`.
    Install { view: u32, set: u32 },
    /// A clean leave of view `view`.
    Leave { view: u32 },
    /// PC state exchange after an install: the sender's [`PcState`]. Its
    /// `len` rides in the message's `call.slot`: a fifth word here would
    /// make this enum 24 bytes and `Event` 52, over its 48-byte bound, and
    /// the kernel has no arena for large payloads yet.
    State {
        view: u32,
        last_prim: u32,
        prim_members: u32,
        recv: u32,
        synced: bool,
    },
    /// The members of view `view` whose state the sender has received
    /// (its EVS `aru_seq` over the state exchange).
    StateAck { view: u32, have: u32 },
    /// Write-set `op` (its statement began with `depends` write-sets
    /// applied) to the sequencer, from its originator.
    Ws { view: u32, op: u32, depends: u32 },
    /// The sequencer ordered write-set `op` of member `origin` at `seqno`.
    Order {
        view: u32,
        seqno: u32,
        op: u32,
        origin: u32,
    },
    /// The sender received every write-set below `upto`.
    Ack { view: u32, upto: u32 },
    /// The sequencer: every write-set below `upto` may be delivered.
    Deliver { view: u32, upto: u32 },
    /// The sequencer: write-set `op` failed certification.
    Reject { view: u32, op: u32 },
    /// Flow control to the sequencer: FC_PAUSE (`pause`) or FC_CONT.
    FlowControl { view: u32, pause: bool },
    /// Joiner -> donor: state transfer request; the joiner holds `len`
    /// write-sets, the last being `last`.
    TransferRequest {
        view: u32,
        len: u32,
        last: Option<u32>,
    },
    /// Donor -> joiner: the transfer (IST if `ist`, else SST) takes
    /// `millis` ms (rounded up; saturated at `u32::MAX`, 49 days).
    TransferStart { view: u32, millis: u32, ist: bool },
    /// Donor -> joiner: the write-set at position `pos` is `op`.
    TransferEntry { view: u32, pos: u32, op: u32 },
    /// Donor -> joiner: the transfer covered positions `start..end`.
    TransferDone { view: u32, start: u32, end: u32 },
}

impl GcommMsg {
    /// The view the message is about, for the peer's timestamp; `None` for
    /// the membership round's messages, which always count.
    fn view(&self) -> Option<u32> {
        match *self {
            GcommMsg::Join { .. } | GcommMsg::Install { .. } | GcommMsg::Leave { .. } => None,
            GcommMsg::Keepalive { view, .. }
            | GcommMsg::State { view, .. }
            | GcommMsg::StateAck { view, .. }
            | GcommMsg::Ws { view, .. }
            | GcommMsg::Order { view, .. }
            | GcommMsg::Ack { view, .. }
            | GcommMsg::Deliver { view, .. }
            | GcommMsg::Reject { view, .. }
            | GcommMsg::FlowControl { view, .. }
            | GcommMsg::TransferRequest { view, .. }
            | GcommMsg::TransferStart { view, .. }
            | GcommMsg::TransferEntry { view, .. }
            | GcommMsg::TransferDone { view, .. } => Some(view),
        }
    }
}

impl From<GcommMsg> for MsgKind {
    fn from(m: GcommMsg) -> MsgKind {
        MsgKind::Wire(Wire::Gcomm(m))
    }
}

/// `wsrep_local_state` values.
pub const JOINING: u8 = 1;
pub const DONOR: u8 = 2;
pub const JOINED: u8 = 3;
pub const SYNCED: u8 = 4;

/// Write-sets the sequencer keeps for retransmission and certification.
const RING: usize = 4096;
/// Write-sets resent to a lagging member per retransmission tick.
const RETRANS_BATCH: u32 = 64;

fn bit(i: usize) -> u32 {
    1 << i
}

fn members_of(mask: u32) -> impl Iterator<Item = usize> {
    (0..32).filter(move |&i| mask & (1 << i) != 0)
}

/// An EVS JOIN: the member set the sender proposes, the members it
/// suspects, and the members whose JOIN it had when it sent this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Join {
    set: u32,
    suspects: u32,
    seen: u32,
}

#[derive(Clone, Copy, Debug)]
struct PcState {
    last_prim: u32,
    prim_members: u32,
    recv: u32,
    synced: bool,
    /// Write-sets in the node's data (its seqno, as --wsrep-recover reads it).
    len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The statement runs (service time).
    Exec,
    /// Replicated: waits for delivery in total order.
    Submitted,
    /// Waits for a blocking donor to finish.
    Held,
}

#[derive(Clone, Copy, Debug)]
struct Local {
    id: CallRef,
    op: u32,
    write: bool,
    phase: Phase,
    /// Write-sets applied when the statement began (certification).
    depends: u32,
}

/// The sequencer of a primary view (its representative).
#[derive(Clone, Debug)]
struct Seq {
    next: u32,
    /// Per member index: write-sets it acknowledged (count from 0).
    acked: Vec<u32>,
    acked_at_tick: Vec<u32>,
    delivered: u32,
    ring: VecDeque<(u32, u32)>,
    ring_base: u32,
    paused: u32,
    waiting: VecDeque<(u32, u32, u32)>,
}

/// A transfer this node serves as donor.
#[derive(Clone, Copy, Debug)]
struct Donation {
    joiner: usize,
    start: u32,
}

#[derive(Clone)]
pub struct Galera {
    spec: GaleraSpec,
    me: NodeId,
    idx: usize,
    members: Vec<NodeId>,
    all: u32,
    cluster: u32,
    service: Sampler,
    apply: Sampler,
    sessions: Sessions,

    // On disk (kept over a crash): data, grastate / gvwstate.
    log: DataLog,
    last_prim: u32,
    prim_members: u32,
    synced: bool,
    max_seq: u32,
    booted: bool,
    /// Position in the log where this process's gcache begins.
    gcache_from: u32,

    // Process.
    up: bool,

    // Timers armed with a key: the one live timer of each class (a new one
    // cancels the old; leaving its state cancels it). A crash makes every key
    // stale (the kernel clears the process's timer table), so `crash` only
    // forgets them; a restart cancels them.
    boot_timer: Option<TimerKey>,
    keepalive_timer: Option<TimerKey>,
    /// The live inactivity checks, oldest first. Usually one; two when a
    /// check entered GATHER or installed a view (which arms a check) and then
    /// re-armed its own: both run, `inactive_check_period` apart from their
    /// arming, until the next GATHER or install cancels them. All are armed
    /// the same period ahead, so they come due in arming order.
    check_timers: VecDeque<TimerKey>,
    join_timer: Option<TimerKey>,
    install_timer: Option<TimerKey>,
    apply_timer: Option<TimerKey>,
    donor_timer: Option<TimerKey>,
    joiner_timer: Option<TimerKey>,

    // EVS.
    view: u32,
    view_members: u32,
    prev_view_members: u32,
    gather: bool,
    active: u32,
    last_heard: Vec<SimTime>,
    last_sent: Vec<SimTime>,
    joins: Vec<Option<Join>>,
    my_join: Option<Join>,
    /// Nodes known to be gathering because they got the same LEAVE.
    leave_seen: u32,
    left: u32,
    prev_views: Vec<u32>,
    install_timeouts: u32,

    // PC.
    states: Vec<Option<PcState>>,
    /// Per member: the states of this view it reported having.
    state_acks: Vec<u32>,
    exchanging: bool,
    primary: bool,
    /// Whether the component was Primary before the view now exchanging
    /// states: a new view is non-Primary until the exchange decides.
    primary_before: bool,
    state: u8,
    rep: usize,
    cont: u32,
    writable: Option<u32>,

    // Replication.
    seq: Option<Seq>,
    ordered: BTreeMap<u32, (u32, u32)>,
    recv: u32,
    delivered: u32,
    apply_q: VecDeque<(u32, u32, u32)>,
    applying: Option<(u32, u32)>,
    fc_sent: bool,
    local: Vec<Local>,

    // State transfer.
    donation: Option<Donation>,
    donor_pick: usize,
    xfer_buf: Vec<(u32, u32)>,
    xfer_done: Option<(u32, u32)>,
}

impl Galera {
    pub fn new(spec: &ClusterSpec, g: &GaleraSpec, me: NodeId, ids: &DbIds) -> Galera {
        let n = ids.members.len();
        assert!(
            n <= 31,
            "at most 31 Galera members (validation refuses more at `count`)"
        );
        let idx = ids
            .members
            .iter()
            .position(|&m| m == me)
            .expect("a member of its cluster");
        Galera {
            spec: g.clone(),
            me,
            idx,
            members: ids.members.clone(),
            all: (1u32 << n) - 1,
            cluster: spec.cluster_index,
            service: Sampler::new(&g.service),
            apply: Sampler::new(&g.apply),
            sessions: Sessions::new(g.max_connections, errors::SESSION_ERRORS),
            log: DataLog::default(),
            last_prim: 0,
            prim_members: 0,
            synced: false,
            max_seq: 0,
            booted: false,
            gcache_from: 0,
            up: false,
            boot_timer: None,
            keepalive_timer: None,
            check_timers: VecDeque::new(),
            join_timer: None,
            install_timer: None,
            apply_timer: None,
            donor_timer: None,
            joiner_timer: None,
            view: 0,
            view_members: 0,
            prev_view_members: 0,
            gather: false,
            active: 0,
            last_heard: vec![SimTime::ZERO; n],
            last_sent: vec![SimTime::ZERO; n],
            joins: vec![None; n],
            my_join: None,
            leave_seen: 0,
            left: 0,
            prev_views: Vec::new(),
            install_timeouts: 0,
            states: vec![None; n],
            state_acks: vec![0; n],
            exchanging: false,
            primary: false,
            primary_before: false,
            state: 0,
            rep: 0,
            cont: 0,
            writable: None,
            seq: None,
            ordered: BTreeMap::new(),
            recv: 0,
            delivered: 0,
            apply_q: VecDeque::new(),
            applying: None,
            fc_sent: false,
            local: Vec::new(),
            donation: None,
            donor_pick: 0,
            xfer_buf: Vec::new(),
            xfer_done: None,
        }
    }

    // ------------------------------------------------------------ process --

    /// Time zero: the cluster is already formed, every node Synced in one
    /// primary view whose representative is the first member.
    fn form(&mut self, ctx: &mut Ctx, boot: Boot) {
        self.booted = true;
        self.up = true;
        self.max_seq = 1;
        self.view = 1 << 5;
        self.view_members = self.all;
        self.active = self.all;
        self.last_prim = self.view;
        self.prim_members = self.all;
        self.synced = true;
        self.primary = true;
        self.state = SYNCED;
        self.rep = 0;
        self.cont = self.all;
        if self.idx == 0 {
            self.seq = Some(self.new_seq(0));
        }
        for t in &mut self.last_heard {
            *t = ctx.now;
        }
        let (ka, chk) = (self.spec.keepalive_period, self.spec.inactive_check_period);
        self.start_timers(ctx, boot.first(Dur::ZERO, ka), boot.first(Dur::ZERO, chk));
        self.update_writable(ctx);
    }

    /// gcomm's keepalive and inactivity-check timers, first due after
    /// `keepalive` and `check`.
    fn start_timers(&mut self, ctx: &mut Ctx, keepalive: Dur, check: Dur) {
        let at = ctx.now + keepalive;
        ctx.rearm(&mut self.keepalive_timer, at, GaleraTimer::Keepalive);
        let at = ctx.now + check;
        self.rearm_check(ctx, at);
    }

    /// Cancels the inactivity checks and arms one at `at`.
    fn rearm_check(&mut self, ctx: &mut Ctx, at: SimTime) {
        for k in self.check_timers.drain(..) {
            ctx.cancel(k);
        }
        let k = ctx.at_cancellable(at, GaleraTimer::InactiveCheck);
        self.check_timers.push_back(k);
    }

    /// Cancels every timer the process's state arms (a clean restart).
    fn cancel_timers(&mut self, ctx: &mut Ctx) {
        let keys = [
            self.boot_timer,
            self.keepalive_timer,
            self.join_timer,
            self.install_timer,
            self.apply_timer,
            self.donor_timer,
            self.joiner_timer,
        ];
        for k in keys
            .into_iter()
            .flatten()
            .chain(self.check_timers.drain(..))
        {
            ctx.cancel(k);
        }
        self.forget_timers();
    }

    fn forget_timers(&mut self) {
        self.boot_timer = None;
        self.keepalive_timer = None;
        self.check_timers.clear();
        self.join_timer = None;
        self.install_timer = None;
        self.apply_timer = None;
        self.donor_timer = None;
        self.joiner_timer = None;
    }

    /// The process is up again (after a crash or a restart): it starts alone
    /// in a non-primary view and merges with whoever it hears.
    fn boot(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.up = true;
        // Back from disk: not Synced until it has joined and caught up.
        self.synced = false;
        self.max_seq += 1;
        self.view = (self.max_seq << 5) | self.idx as u32;
        self.view_members = bit(self.idx);
        self.active = bit(self.idx);
        self.gcache_from = self.log.len() as u32;
        // A restarted provider's timers: at an arbitrary phase of their
        // periods relative to the others'.
        let keepalive = Dur(rng.random_range(0..self.spec.keepalive_period.0));
        let check = Dur(rng.random_range(0..self.spec.inactive_check_period.0));
        self.start_timers(ctx, keepalive, check);
        self.pc_begin(ctx, rng);
        for j in 0..self.members.len() {
            if j != self.idx {
                let view = self.view;
                let ka = GcommMsg::Keepalive {
                    view,
                    delivered: None,
                };
                self.send(ctx, j, ka);
            }
        }
    }

    /// Everything but the disk is lost (SIGKILL, power-off). The kernel has
    /// made every timer key stale.
    pub fn crash(&mut self) {
        self.forget_timers();
        self.reset_volatile();
    }

    fn reset_volatile(&mut self) {
        self.up = false;
        self.view = 0;
        self.view_members = 0;
        self.prev_view_members = 0;
        self.gather = false;
        self.active = 0;
        self.joins.iter_mut().for_each(|j| *j = None);
        self.my_join = None;
        self.leave_seen = 0;
        self.left = 0;
        self.prev_views.clear();
        self.install_timeouts = 0;
        self.states.iter_mut().for_each(|s| *s = None);
        self.state_acks.iter_mut().for_each(|a| *a = 0);
        self.exchanging = false;
        self.primary = false;
        self.state = 0;
        self.cont = 0;
        self.writable = None;
        self.seq = None;
        self.ordered.clear();
        self.recv = 0;
        self.delivered = 0;
        self.apply_q.clear();
        self.applying = None;
        self.fc_sent = false;
        self.local.clear();
        self.donation = None;
        self.xfer_buf.clear();
        self.xfer_done = None;
    }

    /// `wsrep_local_state` (0: not in a Primary Component).
    pub fn local_state(&self) -> u8 {
        if self.primary { self.state } else { 0 }
    }

    /// wsrep_ready: the node serves queries.
    fn ready(&self) -> bool {
        self.up && self.primary && matches!(self.state, SYNCED | DONOR)
    }

    fn donor_blocked(&self) -> bool {
        self.state == DONOR && self.spec.sst_blocks_donor
    }

    // ----------------------------------------------------------- messages --

    fn send(&mut self, ctx: &mut Ctx, j: usize, m: GcommMsg) {
        self.send_with(ctx, j, CallRef::default(), m);
    }

    /// Sends `m` with `call` (only a state message has a word there).
    fn send_with(&mut self, ctx: &mut Ctx, j: usize, call: CallRef, m: GcommMsg) {
        self.last_sent[j] = ctx.now;
        ctx.send(self.members[j], call, m.into());
    }

    /// A gcomm message from member `j`, sent with `call`.
    fn on_gcomm(&mut self, ctx: &mut Ctx, rng: &mut Rng, j: usize, call: CallRef, m: GcommMsg) {
        // A message advances the peer's timestamp if it is about this view
        // (or the membership round); messages of another view do not.
        let tagged = m.view().unwrap_or(self.view);
        if self.active & bit(j) != 0 && tagged == self.view {
            self.last_heard[j] = ctx.now;
        }
        match m {
            GcommMsg::Keepalive { view, delivered } => {
                self.foreign(ctx, rng, j, view);
                if let Some(upto) = delivered
                    && view == self.view
                {
                    self.on_deliver(ctx, rng, upto);
                }
            }
            GcommMsg::Join { view, join } => self.on_join(ctx, rng, j, join, view),
            GcommMsg::Install { view, set } => {
                self.max_seq = self.max_seq.max(view >> 5);
                if self.gather
                    && self.active & bit(j) != 0
                    && self.my_set() == set
                    && set & bit(self.idx) != 0
                {
                    self.install(ctx, rng, view, set);
                }
            }
            GcommMsg::Leave { view } if self.active & bit(j) != 0 && view == self.view => {
                self.active &= !bit(j);
                self.left |= bit(j);
                // Every member got the same LEAVE: they all gather now.
                self.leave_seen = self.active & self.view_members;
                self.enter_gather(ctx);
                self.send_join(ctx);
                self.try_consensus(ctx, rng);
            }
            GcommMsg::State {
                view,
                last_prim,
                prim_members,
                recv,
                synced,
            } if view == self.view && self.exchanging => {
                let s = PcState {
                    len: call.slot,
                    last_prim,
                    recv,
                    prim_members,
                    synced,
                };
                self.on_state(ctx, rng, j, s);
            }
            // From a member still exchanging, after this node decided: EVS
            // retransmits until every member has every state. A reply is an
            // ack, or this node's state to an ack lacking it, never both, so
            // two members that both decided do not answer each other forever.
            GcommMsg::State { view, .. } if view == self.view && !self.gather => {
                self.send_state_ack_to(ctx, j);
            }
            GcommMsg::StateAck { view, have } if view == self.view && self.exchanging => {
                self.state_acks[j] |= have;
                self.pc_try_decide(ctx, rng);
            }
            GcommMsg::StateAck { view, have }
                if view == self.view && !self.gather && have & bit(self.idx) == 0 =>
            {
                if let Some(s) = self.states[self.idx] {
                    self.send_state_to(ctx, j, s);
                }
            }
            // The originator of a write-set is its sender.
            GcommMsg::Ws { view, op, depends }
                if view == self.view && self.primary && !self.gather =>
            {
                self.seq_ws(ctx, rng, op, j as u32, depends);
            }
            GcommMsg::Order {
                view,
                seqno,
                op,
                origin,
            } if view == self.view && self.primary => {
                self.on_order(ctx, rng, seqno, op, origin);
            }
            GcommMsg::Ack { view, upto } if view == self.view => {
                self.seq_ack(ctx, rng, j, upto);
            }
            GcommMsg::Deliver { view, upto } if view == self.view => {
                // EVS broadcasts every message, so each member's
                // acknowledgement (its `aru_seq`) reaches every member and
                // advances its timestamp there (evs_node.cpp `InspectNode`
                // reads `tstamp`). Here ACKs go to the sequencer only; its
                // DELIVER says that every member acknowledged, so it stands
                // for those broadcasts: without it a node written to alone
                // would hear a non-sequencer peer only by keepalive and
                // suspect it up to a keepalive period early, where the real
                // node cut off alone suspected both peers at the same check.
                let others = self.view_members & self.active & !bit(self.idx) & !bit(j);
                for m in members_of(others) {
                    self.last_heard[m] = ctx.now;
                }
                self.on_deliver(ctx, rng, upto);
            }
            GcommMsg::Reject { view, op } if view == self.view => {
                self.rejected(ctx, op);
            }
            GcommMsg::FlowControl { view, pause } if view == self.view => {
                self.seq_fc(ctx, rng, j, pause);
            }
            GcommMsg::TransferRequest { view, len, last } if view == self.view => {
                self.donor_request(ctx, j, len, last);
            }
            GcommMsg::TransferStart { view, millis, .. }
                if view == self.view && self.state == JOINING =>
            {
                let wait = Dur::from_ms(millis as u64) + Dur::from_secs(2);
                ctx.rearm(
                    &mut self.joiner_timer,
                    ctx.now + wait,
                    GaleraTimer::JoinerRetry,
                );
            }
            GcommMsg::TransferEntry { pos, op, .. } if self.state == JOINING => {
                self.xfer_buf.push((pos, op));
                self.joiner_try_finish(ctx, rng);
            }
            GcommMsg::TransferDone { view, start, end }
                if view == self.view && self.state == JOINING =>
            {
                self.xfer_done = Some((start, end));
                self.joiner_try_finish(ctx, rng);
            }
            // Of another view, or for a state this node left.
            GcommMsg::Leave { .. }
            | GcommMsg::State { .. }
            | GcommMsg::StateAck { .. }
            | GcommMsg::Ws { .. }
            | GcommMsg::Order { .. }
            | GcommMsg::Ack { .. }
            | GcommMsg::Deliver { .. }
            | GcommMsg::Reject { .. }
            | GcommMsg::FlowControl { .. }
            | GcommMsg::TransferRequest { .. }
            | GcommMsg::TransferStart { .. }
            | GcommMsg::TransferEntry { .. }
            | GcommMsg::TransferDone { .. } => {}
        }
    }

    // ---------------------------------------------------------------- EVS --

    fn keepalive_tick(&mut self, ctx: &mut Ctx) {
        let period = self.spec.keepalive_period;
        let ka = GcommMsg::Keepalive {
            view: self.view,
            delivered: self.seq.as_ref().map(|s| s.delivered),
        };
        for j in 0..self.members.len() {
            if j != self.idx && ctx.now.since(self.last_sent[j]) >= period {
                self.send(ctx, j, ka);
            }
        }
        self.seq_retransmit(ctx);
        if self.exchanging {
            self.send_state(ctx);
            self.send_state_ack(ctx);
        }
        let at = ctx.now + period;
        ctx.rearm(&mut self.keepalive_timer, at, GaleraTimer::Keepalive);
    }

    /// A message tagged with view `v` from `j`, who is not a known member: a
    /// node of another component (merge), unless `v` is a view we left.
    fn foreign(&mut self, ctx: &mut Ctx, rng: &mut Rng, j: usize, v: u32) -> bool {
        self.max_seq = self.max_seq.max(v >> 5);
        if self.active & bit(j) != 0 || v == self.view || self.prev_views.contains(&v) {
            return false;
        }
        self.active |= bit(j);
        self.last_heard[j] = ctx.now;
        self.enter_gather(ctx);
        self.send_join(ctx);
        self.try_consensus(ctx, rng);
        true
    }

    fn on_join(&mut self, ctx: &mut Ctx, rng: &mut Rng, j: usize, join: Join, v: u32) {
        self.max_seq = self.max_seq.max(v >> 5);
        // A JOIN of a round that ended in a view we since left or
        // installed (`is_msg_from_previous_view`) is stale.
        if self.prev_views.contains(&v) {
            return;
        }
        let known = self.active & bit(j) != 0;
        if !known {
            self.active |= bit(j);
            self.last_heard[j] = ctx.now;
        }
        let was_gathering = self.gather;
        self.enter_gather(ctx);
        self.joins[j] = Some(join);
        // `handle_join()`: a new JOIN goes out when the current one no longer
        // matches this node's state — here, when an inactivity check since
        // declared a node inactive (`check_inactive` sends nothing in GATHER).
        let stale = self.my_join.is_some_and(|m| m.set != self.my_set());
        if !was_gathering || !known || stale {
            self.send_join(ctx);
        }
        self.check_suspects(ctx);
        self.try_consensus(ctx, rng);
    }

    fn my_set(&self) -> u32 {
        self.active | bit(self.idx)
    }

    fn suspects(&self, now: SimTime) -> u32 {
        members_of(self.active)
            .filter(|&j| j != self.idx && now.since(self.last_heard[j]) > self.spec.suspect_timeout)
            .fold(0, |m, j| m | bit(j))
    }

    fn enter_gather(&mut self, ctx: &mut Ctx) {
        if self.gather {
            return;
        }
        self.gather = true;
        self.exchanging = false;
        self.install_timeouts = 0;
        self.joins.iter_mut().for_each(|j| *j = None);
        self.my_join = None;
        // No write can be acknowledged in this view any more.
        self.retire_view(ctx);
        let at = ctx.now + self.spec.join_retrans_period;
        ctx.rearm(&mut self.join_timer, at, GaleraTimer::JoinRetrans);
        let at = ctx.now + self.spec.install_timeout;
        ctx.rearm(&mut self.install_timer, at, GaleraTimer::InstallTimeout);
        self.rearm_check(ctx, ctx.now + self.spec.inactive_check_period);
    }

    fn send_join(&mut self, ctx: &mut Ctx) {
        let seen = self
            .joins
            .iter()
            .enumerate()
            .filter(|(_, j)| j.is_some())
            .fold(bit(self.idx) | self.leave_seen, |m, (i, _)| m | bit(i));
        let join = Join {
            set: self.my_set(),
            suspects: self.suspects(ctx.now),
            seen,
        };
        self.my_join = Some(join);
        let m = GcommMsg::Join {
            view: self.view,
            join,
        };
        for j in 0..self.members.len() {
            if j != self.idx {
                self.send(ctx, j, m);
            }
        }
    }

    /// Declares `mask` inactive; true if that changed anything.
    fn declare_inactive(&mut self, mask: u32) -> bool {
        let mask = mask & self.active & !bit(self.idx);
        if mask == 0 {
            return false;
        }
        self.active &= !mask;
        for j in members_of(mask) {
            self.joins[j] = None;
        }
        true
    }

    /// `check_inactive()`: every `evs.inactive_check_period`.
    fn check_inactive(&mut self, ctx: &mut Ctx) {
        let mut inactive = 0;
        let mut suspected = 0;
        for j in members_of(self.active) {
            if j == self.idx {
                continue;
            }
            let silent = ctx.now.since(self.last_heard[j]);
            if silent > self.spec.inactive_timeout {
                inactive |= bit(j);
            } else if silent > self.spec.suspect_timeout {
                suspected += 1;
                if self.joins[j].is_none() {
                    inactive |= bit(j);
                }
            }
        }
        let known = self.active.count_ones();
        if known > 2 && suspected + 1 == known {
            inactive = self.active & !bit(self.idx);
        }
        // evs_proto.cpp `check_inactive()`: `has_inactive && state() ==
        // S_OPERATIONAL` -> `shift_to(S_GATHER, true)`, which sends this
        // node's JOIN (`send_join(false)`) without handling it: consensus is
        // only looked at in `handle_join()`, for a peer's JOIN or for this
        // node's own one when `handle_retrans_timer()` resends it
        // (`send_join(true)`) one `evs.join_retrans_period` later. In GATHER
        // the check only marks nodes inactive (`set_inactive()`); the next
        // JOIN carries that. So a node cut off alone, which hears no JOIN,
        // installs its one-node view at the first JOIN retransmission after
        // its last peer was declared inactive, not at the check itself.
        if self.declare_inactive(inactive) && !self.gather {
            ctx.log(
                self.me,
                EventKind::Info,
                "WSREP: evs::proto suspecting node(s), declaring inactive; state change: OPERATIONAL -> GATHER",
            );
            self.enter_gather(ctx);
            self.send_join(ctx);
        }
    }

    /// `check_suspects()`: a node a majority of the view suspects is out.
    fn check_suspects(&mut self, ctx: &mut Ctx) {
        let view_n = self.view_members.count_ones();
        let mut out = 0;
        for k in members_of(self.active) {
            if k == self.idx {
                continue;
            }
            let mut votes = 0;
            for m in members_of(self.view_members) {
                let s = if m == self.idx {
                    self.suspects(ctx.now)
                } else {
                    self.joins[m].map_or(0, |j| j.suspects)
                };
                votes += (s & bit(k) != 0) as u32;
            }
            if votes * 2 > view_n {
                out |= bit(k);
            }
        }
        if self.declare_inactive(out) {
            self.send_join(ctx);
        }
    }

    fn install_timeout(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.install_timeouts += 1;
        let set = self.my_set();
        let out = if self.install_timeouts <= self.spec.max_install_timeouts {
            members_of(self.active)
                .filter(|&j| j != self.idx && self.joins[j].is_none_or(|m| m.set != set))
                .fold(0, |m, j| m | bit(j))
        } else {
            self.active & !bit(self.idx)
        };
        self.declare_inactive(out);
        self.send_join(ctx);
        self.try_consensus(ctx, rng);
        // Armed even when that installed a view: it then comes due outside
        // GATHER and does nothing, unless a new GATHER cancelled it first.
        let at = ctx.now + self.spec.install_timeout;
        ctx.rearm(&mut self.install_timer, at, GaleraTimer::InstallTimeout);
    }

    /// The representative installs once every member's last JOIN proposes
    /// the same set and was sent having seen every member's JOIN.
    fn try_consensus(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if !self.gather {
            return;
        }
        let set = self.my_set();
        if set.trailing_zeros() as usize != self.idx {
            return;
        }
        let Some(mine) = self.my_join else {
            return;
        };
        if mine.set != set || mine.seen & set != set {
            return;
        }
        for j in members_of(set) {
            if j == self.idx {
                continue;
            }
            match self.joins[j] {
                Some(m) if m.set == set && m.seen & set == set => {}
                _ => return,
            }
        }
        self.max_seq += 1;
        let id = (self.max_seq << 5) | self.idx as u32;
        for j in members_of(set) {
            if j != self.idx {
                self.send(ctx, j, GcommMsg::Install { view: id, set });
            }
        }
        self.install(ctx, rng, id, set);
    }

    fn install(&mut self, ctx: &mut Ctx, rng: &mut Rng, id: u32, set: u32) {
        self.max_seq = self.max_seq.max(id >> 5);
        if self.prev_views.len() >= 64 {
            self.prev_views.remove(0);
        }
        self.prev_views.push(self.view);
        let old_members = self.view_members;
        self.view = id;
        self.view_members = set;
        self.active = set;
        self.gather = false;
        for k in [self.join_timer.take(), self.install_timer.take()]
            .into_iter()
            .flatten()
        {
            ctx.cancel(k);
        }
        self.joins.iter_mut().for_each(|j| *j = None);
        self.my_join = None;
        self.leave_seen = 0;
        self.left &= !set;
        for j in members_of(set) {
            self.last_heard[j] = ctx.now;
        }
        self.rearm_check(ctx, ctx.now + self.spec.inactive_check_period);
        self.prev_view_members = old_members;
        // Until the state exchange decides, the new view orders nothing: the
        // old view's sequencer must not go on delivering with the new
        // members' acks (pc_proto.cpp: non-Primary until the PC install).
        self.primary_before = self.primary;
        self.primary = false;
        self.seq = None;
        self.update_writable(ctx);
        self.pc_begin(ctx, rng);
    }

    // ----------------------------------------------------------------- PC --

    fn pc_begin(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.exchanging = true;
        self.states.iter_mut().for_each(|s| *s = None);
        self.state_acks.iter_mut().for_each(|a| *a = 0);
        self.states[self.idx] = Some(self.my_state());
        self.send_state(ctx);
        self.pc_try_decide(ctx, rng);
    }

    /// The state of member `j`: this node has one more, which every member
    /// must learn before anyone may count it (SAFE delivery).
    fn on_state(&mut self, ctx: &mut Ctx, rng: &mut Rng, j: usize, s: PcState) {
        let new = self.states[j].is_none();
        self.states[j] = Some(s);
        if new {
            self.send_state_ack(ctx);
        }
        self.pc_try_decide(ctx, rng);
    }

    /// The members whose state this node has, itself included.
    fn states_have(&self) -> u32 {
        members_of(self.view_members)
            .filter(|&j| self.states[j].is_some())
            .fold(0, |m, j| m | bit(j))
    }

    /// Whether every state of the view is SAFE here: this node has them all
    /// and every other member reported having them all (`handle_state`
    /// counts only states EVS delivered, and EVS delivers O_SAFE at
    /// `safe_seq`, once every member's `aru_seq` passed the message).
    fn states_safe(&self) -> bool {
        let all = self.view_members;
        self.states_have() == all
            && members_of(all).all(|j| j == self.idx || self.state_acks[j] & all == all)
    }

    fn send_state_ack(&mut self, ctx: &mut Ctx) {
        for j in members_of(self.view_members) {
            if j != self.idx {
                self.send_state_ack_to(ctx, j);
            }
        }
    }

    fn send_state_ack_to(&mut self, ctx: &mut Ctx, j: usize) {
        let m = GcommMsg::StateAck {
            view: self.view,
            have: self.states_have(),
        };
        self.send(ctx, j, m);
    }

    fn my_state(&self) -> PcState {
        PcState {
            len: self.log.len() as u32,
            last_prim: self.last_prim,
            prim_members: self.prim_members,
            recv: self.recv,
            synced: self.synced,
        }
    }

    /// Sends the state this node took at the install (a retransmission
    /// repeats the message: every member decides on the same states).
    fn send_state(&mut self, ctx: &mut Ctx) {
        let Some(s) = self.states[self.idx] else {
            return;
        };
        for j in members_of(self.view_members) {
            if j != self.idx {
                self.send_state_to(ctx, j, s);
            }
        }
    }

    fn send_state_to(&mut self, ctx: &mut Ctx, j: usize, s: PcState) {
        let m = GcommMsg::State {
            view: self.view,
            last_prim: s.last_prim,
            prim_members: s.prim_members,
            recv: s.recv,
            synced: s.synced,
        };
        let call = CallRef {
            slot: s.len,
            generation: 0,
        };
        self.send_with(ctx, j, call, m);
    }

    fn pc_try_decide(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if !self.exchanging || !self.states_safe() {
            return;
        }
        self.exchanging = false;
        let st: Vec<(usize, PcState)> = members_of(self.view_members)
            .map(|j| (j, self.states[j].expect("checked")))
            .collect();
        let best = st.iter().map(|(_, s)| s.last_prim).max().unwrap_or(0);
        let p = st
            .iter()
            .find(|(_, s)| s.last_prim == best)
            .map_or(0, |(_, s)| s.prim_members);
        let in_prev: u32 = st
            .iter()
            .filter(|(_, s)| s.last_prim == best)
            .fold(0, |m, (j, _)| m | bit(*j));
        let mut cont: u32 = st
            .iter()
            .filter(|(_, s)| s.last_prim == best && s.synced)
            .fold(0, |m, (j, _)| m | bit(*j));
        if cont == 0 {
            // Nobody kept the state (every member restarted): the primary
            // is restored from the most advanced node(s), as an operator
            // bootstraps from the highest seqno; the others join by IST/SST.
            let most = st
                .iter()
                .filter(|(j, _)| in_prev & bit(*j) != 0)
                .map(|(_, s)| s.len)
                .max()
                .unwrap_or(0);
            cont = st
                .iter()
                .filter(|(j, s)| in_prev & bit(*j) != 0 && s.len == most)
                .fold(0, |m, (j, _)| m | bit(*j));
        }
        // Members back from a crash (not Synced) do not vote: they only
        // join a Primary Component, or restore the last one when all of
        // its members are back (pc.recovery).
        let voting = st
            .iter()
            .filter(|(_, s)| s.last_prim == best && s.synced)
            .fold(0, |m, (j, _)| m | bit(*j));
        let all_back = p != 0 && in_prev & p == p;
        let primary = quorum(&self.spec, p, voting, self.left & p)
            || (self.spec.recovery && all_back)
            || (self.spec.ignore_quorum && in_prev != 0);
        let was_primary = self.primary_before;
        let n = self.view_members.count_ones();
        let my_idx = members_of(self.view_members)
            .position(|j| j == self.idx)
            .unwrap_or(0);
        if !primary {
            self.primary = false;
            self.seq = None;
            if was_primary {
                ctx.log(
                    self.me,
                    EventKind::QuorumLost,
                    format!("WSREP: New COMPONENT: primary = no, bootstrap = no, my_idx = {my_idx}, memb_num = {n}"),
                );
            }
            // Commits waiting for the group fail: "Not connected to Primary
            // Component".
            self.fail_pending_commits(ctx, errors::ER_ERROR_DURING_COMMIT.error);
            self.update_writable(ctx);
            return;
        }
        let d = st
            .iter()
            .filter(|(j, _)| cont & bit(*j) != 0)
            .map(|(_, s)| s.recv)
            .min()
            .unwrap_or(0);
        self.primary = true;
        self.rep = cont.trailing_zeros() as usize;
        self.cont = cont;
        self.last_prim = self.view;
        self.prim_members = self.view_members;
        self.fc_sent = false;
        if cont & bit(self.idx) != 0 {
            // Deliver what every survivor received; drop the rest.
            for g in self.delivered..d {
                if let Some((op, origin)) = self.ordered.remove(&g) {
                    self.apply_q.push_back((g, op, origin));
                }
            }
            self.ordered.clear();
            self.recv = d;
            self.delivered = d;
            if self.state == 0 || self.state == JOINING {
                self.state = SYNCED;
            }
        } else {
            self.ordered.clear();
            self.apply_q.clear();
            self.recv = d;
            self.delivered = d;
            self.synced = false;
            self.state = JOINING;
            self.fail_pending_commits(ctx, errors::ER_UNKNOWN_COM_ERROR.error);
        }
        self.seq = (self.rep == self.idx).then(|| self.new_seq(d));
        let lowest = self.view_members.trailing_zeros() as usize;
        if self.idx == lowest {
            let detail = format!(
                "WSREP: New COMPONENT: primary = yes, bootstrap = no, my_idx = 0, memb_num = {n}"
            );
            for j in members_of(self.prev_view_members & !self.view_members) {
                ctx.log(self.members[j], EventKind::Evicted, detail.clone());
            }
        }
        if !was_primary && self.booted_before_view() && cont & bit(self.idx) != 0 {
            ctx.log(
                self.me,
                EventKind::QuorumRegained,
                format!("WSREP: New COMPONENT: primary = yes, bootstrap = no, my_idx = {my_idx}, memb_num = {n}"),
            );
        }
        if self.state == JOINING {
            ctx.log(
                self.me,
                EventKind::Info,
                "WSREP: Shifting OPEN -> PRIMARY -> JOINER",
            );
            self.donor_pick = 0;
            self.request_transfer(ctx);
        } else {
            // Resend own write-sets the survivors did not all receive.
            let queued: Vec<u32> = self
                .apply_q
                .iter()
                .filter(|e| e.2 == self.idx as u32)
                .map(|e| e.1)
                .collect();
            let resend: Vec<Local> = self
                .local
                .iter()
                .copied()
                .filter(|l| l.phase == Phase::Submitted && !queued.contains(&l.op))
                .collect();
            for l in resend {
                self.submit(ctx, rng, l.op, l.depends);
            }
        }
        self.kick_applier(ctx, rng);
        self.update_writable(ctx);
    }

    /// Whether the node was ever in a view before this one (not a boot).
    fn booted_before_view(&self) -> bool {
        self.prev_view_members != 0
    }

    // --------------------------------------------------------- history ----

    /// Commits submitted to the group (past execution) end with `status`.
    fn fail_pending_commits(&mut self, ctx: &mut Ctx, e: DbError) {
        let pending: Vec<Local> = self
            .local
            .iter()
            .copied()
            .filter(|l| l.phase != Phase::Exec)
            .collect();
        self.local.retain(|l| l.phase == Phase::Exec);
        for l in pending {
            self.sessions.fail(ctx, l.id, e);
        }
    }

    fn update_writable(&mut self, ctx: &mut Ctx) {
        let want = (self.up
            && self.primary
            && !self.gather
            && (self.state == SYNCED || (self.state == DONOR && !self.spec.sst_blocks_donor)))
            .then_some(self.view);
        self.set_writable(ctx, want);
    }

    fn set_writable(&mut self, ctx: &mut Ctx, want: Option<u32>) {
        if self.writable == want {
            return;
        }
        self.writable = want;
        let (now, cluster, me) = (ctx.now, self.cluster, self.me);
        if let Some(h) = ctx.history() {
            let group = want.filter(|&v| !retired(&h.writable, cluster, v));
            h.set_writable(now, cluster, me, group);
        }
    }

    /// This node leaves its view: a write can no longer be delivered in it
    /// on any member (delivery needs all of them), so none of them accepts
    /// writes for it any more, whether they noticed yet or not.
    fn retire_view(&mut self, ctx: &mut Ctx) {
        self.set_writable(ctx, None);
        let (now, cluster, view) = (ctx.now, self.cluster, self.view);
        if let Some(h) = ctx.history() {
            h.retire_group(now, cluster, view);
        }
    }

    // ------------------------------------------------------------ queries --

    fn on_query(&mut self, ctx: &mut Ctx, rng: &mut Rng, q: crate::protocols::sql::Query) {
        let dirty = !q.write && self.spec.dirty_reads && self.up;
        if !self.ready() && !dirty {
            self.sessions
                .fail(ctx, q.id, errors::ER_UNKNOWN_COM_ERROR.error);
            return;
        }
        self.local.push(Local {
            id: q.id,
            op: q.op,
            write: q.write,
            phase: Phase::Exec,
            depends: self.log.len() as u32,
        });
        let mut d = self.service.sample(rng);
        d = ctx.slowed(d);
        ctx.at(ctx.now + d, GaleraTimer::QueryDone(q.id));
    }

    fn service_done(&mut self, ctx: &mut Ctx, rng: &mut Rng, id: CallRef) {
        let Some(i) = self
            .local
            .iter()
            .position(|l| l.id == id && l.phase == Phase::Exec)
        else {
            return;
        };
        let l = self.local[i];
        if !l.write {
            self.local.remove(i);
            if self.ready() || (self.spec.dirty_reads && self.up) {
                let (op, me) = (l.op, self.me);
                if let Some(h) = ctx.history() {
                    let log = &self.log;
                    h.read(op, me, |w| log.contains(w));
                }
                self.sessions.ok(ctx, id);
            } else {
                self.sessions
                    .fail(ctx, id, errors::ER_UNKNOWN_COM_ERROR.error);
            }
            return;
        }
        if !self.ready() {
            self.local.remove(i);
            self.sessions
                .fail(ctx, id, errors::ER_UNKNOWN_COM_ERROR.error);
            return;
        }
        if self.donor_blocked() {
            self.local[i].phase = Phase::Held;
            return;
        }
        self.local[i].phase = Phase::Submitted;
        self.submit(ctx, rng, l.op, l.depends);
    }

    /// Replicates a write-set: to the sequencer, which orders it.
    fn submit(&mut self, ctx: &mut Ctx, rng: &mut Rng, op: u32, depends: u32) {
        if self.rep == self.idx {
            if !self.gather {
                self.seq_ws(ctx, rng, op, self.idx as u32, depends);
            }
        } else {
            let (rep, view) = (self.rep, self.view);
            self.send(ctx, rep, GcommMsg::Ws { view, op, depends });
        }
    }

    /// Certification failed: ERROR 1213 (brute-force abort).
    fn rejected(&mut self, ctx: &mut Ctx, op: u32) {
        if let Some(i) = self
            .local
            .iter()
            .position(|l| l.op == op && l.phase == Phase::Submitted)
        {
            let l = self.local.remove(i);
            self.sessions
                .fail(ctx, l.id, errors::ER_LOCK_DEADLOCK.error);
        }
    }

    // ----------------------------------------------------------- sequencer --

    fn new_seq(&self, d: u32) -> Seq {
        let n = self.members.len();
        Seq {
            next: d,
            acked: vec![d; n],
            acked_at_tick: vec![d; n],
            delivered: d,
            ring: VecDeque::new(),
            ring_base: d,
            paused: 0,
            waiting: VecDeque::new(),
        }
    }

    fn seq_ws(&mut self, ctx: &mut Ctx, rng: &mut Rng, op: u32, origin: u32, depends: u32) {
        let Some(s) = self.seq.as_mut() else {
            return;
        };
        if s.paused != 0 {
            s.waiting.push_back((op, origin, depends));
            return;
        }
        self.seq_order(ctx, rng, op, origin, depends);
    }

    fn seq_order(&mut self, ctx: &mut Ctx, rng: &mut Rng, op: u32, origin: u32, depends: u32) {
        let rate = self.spec.conflict_rate;
        let view = self.view;
        let Some(s) = self.seq.as_mut() else {
            return;
        };
        if rate > 0.0 {
            let from = depends.max(s.ring_base);
            for g in from..s.next {
                let (_, o) = s.ring[(g - s.ring_base) as usize];
                if o != origin && rng.random::<f64>() < rate {
                    if origin as usize == self.idx {
                        self.rejected(ctx, op);
                    } else {
                        self.send(ctx, origin as usize, GcommMsg::Reject { view, op });
                    }
                    return;
                }
            }
        }
        let g = s.next;
        s.next += 1;
        s.ring.push_back((op, origin));
        let min_acked = s
            .acked
            .iter()
            .zip(0..)
            .filter(|(_, j)| self.view_members & bit(*j) != 0)
            .map(|(a, _)| *a)
            .min()
            .unwrap_or(g);
        while s.ring.len() > RING && s.ring_base < min_acked {
            s.ring.pop_front();
            s.ring_base += 1;
        }
        let order = GcommMsg::Order {
            view,
            seqno: g,
            op,
            origin,
        };
        for j in members_of(self.view_members) {
            if j != self.idx {
                self.send(ctx, j, order);
            }
        }
        self.on_order(ctx, rng, g, op, origin);
    }

    fn seq_ack(&mut self, ctx: &mut Ctx, rng: &mut Rng, j: usize, upto: u32) {
        let members = self.view_members;
        let Some(s) = self.seq.as_mut() else {
            return;
        };
        s.acked[j] = s.acked[j].max(upto);
        let safe = members_of(members).map(|m| s.acked[m]).min().unwrap_or(0);
        if safe > s.delivered {
            s.delivered = safe;
            let view = self.view;
            for m in members_of(members) {
                if m != self.idx {
                    self.send(ctx, m, GcommMsg::Deliver { view, upto: safe });
                }
            }
            self.on_deliver(ctx, rng, safe);
        }
    }

    fn seq_fc(&mut self, ctx: &mut Ctx, rng: &mut Rng, j: usize, pause: bool) {
        let Some(s) = self.seq.as_mut() else {
            return;
        };
        if pause {
            s.paused |= bit(j);
            return;
        }
        s.paused &= !bit(j);
        while self
            .seq
            .as_ref()
            .is_some_and(|s| s.paused == 0 && !s.waiting.is_empty())
        {
            let (op, origin, depends) = self
                .seq
                .as_mut()
                .expect("checked")
                .waiting
                .pop_front()
                .expect("checked");
            self.seq_order(ctx, rng, op, origin, depends);
        }
    }

    /// Write-sets a member has not acknowledged since the last tick are sent
    /// again (EVS retransmission, every `evs.keepalive_period`).
    fn seq_retransmit(&mut self, ctx: &mut Ctx) {
        let Some(mut s) = self.seq.take() else {
            return;
        };
        for j in members_of(self.view_members) {
            if j == self.idx || s.acked[j] >= s.next || s.acked[j] != s.acked_at_tick[j] {
                continue;
            }
            let from = s.acked[j].max(s.ring_base);
            for g in from..s.next.min(from + RETRANS_BATCH) {
                let (op, origin) = s.ring[(g - s.ring_base) as usize];
                let order = GcommMsg::Order {
                    view: self.view,
                    seqno: g,
                    op,
                    origin,
                };
                self.send(ctx, j, order);
            }
        }
        s.acked_at_tick.clone_from(&s.acked);
        self.seq = Some(s);
    }

    // ------------------------------------------------------------ members --

    fn on_order(&mut self, ctx: &mut Ctx, rng: &mut Rng, g: u32, op: u32, origin: u32) {
        if g >= self.recv {
            self.ordered.insert(g, (op, origin));
            while self.ordered.contains_key(&self.recv) {
                self.recv += 1;
            }
        }
        let (rep, upto, view) = (self.rep, self.recv, self.view);
        // Acknowledgements go to every member (EVS broadcasts its
        // messages): under write traffic every node hears every other.
        for m in members_of(self.view_members) {
            if m != self.idx {
                self.send(ctx, m, GcommMsg::Ack { view, upto });
            }
        }
        if rep == self.idx {
            self.seq_ack(ctx, rng, rep, upto);
        }
    }

    fn on_deliver(&mut self, ctx: &mut Ctx, rng: &mut Rng, upto: u32) {
        let end = upto.min(self.recv);
        while self.delivered < end {
            let g = self.delivered;
            if let Some((op, origin)) = self.ordered.remove(&g) {
                self.apply_q.push_back((g, op, origin));
            }
            self.delivered += 1;
        }
        self.kick_applier(ctx, rng);
    }

    fn can_apply(&self) -> bool {
        self.up
            && (matches!(self.state, SYNCED | JOINED | 0)
                || (self.state == DONOR && !self.spec.sst_blocks_donor))
    }

    /// The applier takes write-sets in total order; a local one commits
    /// when its turn comes (commit order).
    fn kick_applier(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        while self.applying.is_none() && self.can_apply() {
            let Some(&(g, op, origin)) = self.apply_q.front() else {
                break;
            };
            if (g as usize) > self.log.len() {
                break;
            }
            self.apply_q.pop_front();
            if (g as usize) < self.log.len() {
                continue;
            }
            if origin as usize == self.idx {
                self.log.push(op);
                if let Some(i) = self
                    .local
                    .iter()
                    .position(|l| l.op == op && l.phase == Phase::Submitted)
                {
                    let l = self.local.remove(i);
                    let (now, me) = (ctx.now, self.me);
                    if let Some(h) = ctx.history() {
                        h.committed(op, me, now);
                    }
                    self.sessions.ok(ctx, l.id);
                }
            } else {
                let mut d = self.apply.sample(rng);
                d = ctx.slowed(d);
                self.applying = Some((g, op));
                ctx.rearm(&mut self.apply_timer, ctx.now + d, GaleraTimer::ApplyDone);
            }
        }
        if self.state == JOINED && self.apply_q.is_empty() && self.applying.is_none() {
            self.state = SYNCED;
            let name = ctx.name_of(self.me).to_string();
            ctx.log(
                self.me,
                EventKind::Joined,
                format!("WSREP: Member {} ({name}) synced with group.", self.idx),
            );
            self.update_writable(ctx);
        }
        self.flow_control(ctx, rng);
    }

    /// `gcs.fc_limit` scaled by sqrt(N), resumed below limit x fc_factor.
    fn fc_limits(&self) -> (usize, usize) {
        let n = self.view_members.count_ones().max(1) as f64;
        let upper = if self.spec.fc_single_primary {
            self.spec.fc_limit as f64
        } else {
            (self.spec.fc_limit as f64 * n.sqrt()).round()
        };
        (
            upper as usize,
            (upper * self.spec.fc_factor).round() as usize,
        )
    }

    fn flow_control(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if !self.primary || !matches!(self.state, SYNCED | JOINED) {
            return;
        }
        let q = self.apply_q.len() + self.applying.is_some() as usize;
        let (upper, lower) = self.fc_limits();
        let pause = if !self.fc_sent && q > upper {
            true
        } else if self.fc_sent && q <= lower {
            false
        } else {
            return;
        };
        self.fc_sent = pause;
        let (rep, view) = (self.rep, self.view);
        if rep == self.idx {
            self.seq_fc(ctx, rng, rep, pause);
        } else {
            self.send(ctx, rep, GcommMsg::FlowControl { view, pause });
        }
    }

    // ----------------------------------------------------- state transfer --

    fn request_transfer(&mut self, ctx: &mut Ctx) {
        let donors: Vec<usize> = members_of(self.cont).filter(|&j| j != self.idx).collect();
        if donors.is_empty() {
            return;
        }
        let donor = donors[self.donor_pick % donors.len()];
        let last = self.log.entries().last().copied();
        let (len, view) = (self.log.len() as u32, self.view);
        self.xfer_buf.clear();
        self.xfer_done = None;
        self.send(ctx, donor, GcommMsg::TransferRequest { view, len, last });
        let at = ctx.now + self.spec.install_timeout;
        ctx.rearm(&mut self.joiner_timer, at, GaleraTimer::JoinerRetry);
    }

    /// Op at position `pos` of what this node holds in order: its data, then
    /// the write-set being applied, then its receive queue.
    fn held_at(&self, pos: u32) -> Option<u32> {
        let n = self.log.len() as u32;
        if pos < n {
            return self.log.get(pos as usize);
        }
        if let Some((g, op)) = self.applying
            && g == pos
        {
            return Some(op);
        }
        self.apply_q.iter().find(|e| e.0 == pos).map(|e| e.1)
    }

    fn held_len(&self) -> u32 {
        let mut n = self.log.len() as u32;
        while self.held_at(n).is_some() {
            n += 1;
        }
        n
    }

    fn donor_request(&mut self, ctx: &mut Ctx, j: usize, len: u32, last: Option<u32>) {
        if !self.primary || self.state != SYNCED || self.donation.is_some() {
            return;
        }
        let have = self.log.len() as u32;
        let prefix = len <= have && (len == 0 || self.log.get(len as usize - 1) == last);
        let ist =
            prefix && len >= self.gcache_from && (have - len) as u64 <= self.spec.gcache_writes();
        let bytes = if ist {
            (have - len) as u64 * self.spec.writeset_size
        } else {
            self.spec.data_size
        };
        let d = Dur::from_secs_f64(bytes as f64 / self.spec.sst_rate as f64);
        self.state = DONOR;
        self.donation = Some(Donation {
            joiner: j,
            start: if ist { len } else { 0 },
        });
        ctx.rearm(&mut self.donor_timer, ctx.now + d, GaleraTimer::DonorDone);
        let name = ctx.name_of(self.members[j]).to_string();
        ctx.log(
            self.me,
            EventKind::Info,
            format!(
                "WSREP: Shifting SYNCED -> DONOR/DESYNCED ({} to {name}, {})",
                if ist { "IST" } else { "SST" },
                d
            ),
        );
        let start = GcommMsg::TransferStart {
            view: self.view,
            millis: u32::try_from(d.0.div_ceil(Dur::MS)).unwrap_or(u32::MAX),
            ist,
        };
        self.send(ctx, j, start);
        self.update_writable(ctx);
    }

    fn donor_done(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let Some(don) = self.donation.take() else {
            return;
        };
        if self.state == DONOR {
            let end = self.held_len();
            let view = self.view;
            for pos in don.start..end {
                let op = self.held_at(pos).expect("held");
                self.send(ctx, don.joiner, GcommMsg::TransferEntry { view, pos, op });
            }
            let done = GcommMsg::TransferDone {
                view,
                start: don.start,
                end,
            };
            self.send(ctx, don.joiner, done);
            self.state = SYNCED;
            ctx.log(
                self.me,
                EventKind::Info,
                "WSREP: Shifting DONOR/DESYNCED -> JOINED -> SYNCED",
            );
        }
        let held: Vec<Local> = self
            .local
            .iter()
            .copied()
            .filter(|l| l.phase == Phase::Held)
            .collect();
        for l in held {
            if let Some(x) = self.local.iter_mut().find(|x| x.id == l.id) {
                x.phase = Phase::Submitted;
            }
            self.submit(ctx, rng, l.op, l.depends);
        }
        self.kick_applier(ctx, rng);
        self.update_writable(ctx);
    }

    fn joiner_try_finish(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let Some((start, end)) = self.xfer_done else {
            return;
        };
        if (self.xfer_buf.len() as u32) < end - start {
            return;
        }
        self.xfer_buf.sort_unstable();
        self.xfer_buf.dedup();
        let complete = self.xfer_buf.len() as u32 == end - start
            && self.xfer_buf.iter().zip(start..).all(|(e, p)| e.0 == p);
        if !complete {
            return;
        }
        let ist = start > 0 || self.log.is_empty();
        self.log.truncate(start as usize);
        for &(_, op) in &self.xfer_buf {
            self.log.push(op);
        }
        self.xfer_buf.clear();
        self.xfer_done = None;
        if let Some(k) = self.joiner_timer.take() {
            ctx.cancel(k);
        }
        self.synced = true;
        self.gcache_from = self.log.len() as u32;
        self.state = JOINED;
        ctx.log(
            self.me,
            EventKind::Info,
            format!(
                "WSREP: {} received: Shifting JOINER -> JOINED",
                if ist { "IST" } else { "SST" }
            ),
        );
        self.kick_applier(ctx, rng);
    }
}

/// PC's weighted quorum: the members of the last primary component present
/// weigh more than half of it, graceful leavers excluded (pc.ignore_sb: or
/// exactly half; pc.ignore_quorum: any).
fn quorum(spec: &GaleraSpec, prim: u32, present: u32, left: u32) -> bool {
    let w = |mask: u32| -> u32 {
        members_of(mask)
            .map(|j| spec.weights.get(j).copied().unwrap_or(0))
            .sum()
    };
    let have = w(present & prim) * 2;
    let base = w(prim) - w(left & prim);
    have > base
        || (spec.ignore_sb && have == base && have > 0)
        || (spec.ignore_quorum && present & prim != 0)
}

/// Whether some node stopped accepting writes for group `v` (a member left
/// that view, so it can commit nothing more).
fn retired(changes: &[crate::metrics::history::WritableChange], cluster: u32, v: u32) -> bool {
    let mut holders: Vec<u32> = Vec::new();
    for c in changes.iter().filter(|c| c.cluster == cluster) {
        if c.group == Some(v) {
            if !holders.contains(&c.node) {
                holders.push(c.node);
            }
        } else if holders.contains(&c.node) {
            return true;
        }
    }
    false
}

impl Process for Galera {
    type Timer = GaleraTimer;

    fn crashed(&mut self, _pristine: &Self) {
        self.crash();
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        if !self.booted {
            self.form(ctx, boot);
        } else {
            let at = ctx.now + self.spec.startup;
            ctx.rearm(&mut self.boot_timer, at, GaleraTimer::Boot);
        }
    }

    fn admin(&mut self, ctx: &mut Ctx, _rng: &mut Rng, a: Admin) {
        if !matches!(a, Admin::Action { name, .. } if name == RESTART.name) || !self.up {
            return;
        }
        // `systemctl restart`: the provider sends LEAVE, mysqld closes its
        // connections and comes back after `startup`.
        for j in members_of(self.view_members) {
            if j != self.idx {
                let view = self.view;
                self.send(ctx, j, GcommMsg::Leave { view });
            }
        }
        ctx.log(self.me, EventKind::Info, "WSREP: Shutdown: sending LEAVE");
        self.set_writable(ctx, None);
        self.sessions.close_all(ctx);
        self.cancel_timers(ctx);
        self.reset_volatile();
        let at = ctx.now + self.spec.startup;
        ctx.rearm(&mut self.boot_timer, at, GaleraTimer::Boot);
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.sessions.inbound_peers()
    }

    /// mysqld's port is closed while it restarts; clustercheck still answers.
    fn refuses(&self, kind: ReqKind) -> bool {
        kind == ReqKind::Work && !self.up
    }

    fn final_data(&self) -> Option<FinalData<'_>> {
        // A node cannot tell that its view died while it was frozen (SIGSTOP)
        // or cut off, so "writable at the end" is not a node-local fact here:
        // the cluster's data is the longest log (a primary's log holds every
        // write delivered anywhere, a minority's cannot grow).
        Some(FinalData {
            cluster: self.cluster,
            writable: false,
            log: &self.log,
        })
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => {
                // clustercheck: 200 iff Synced (or a donor, if allowed).
                let ok = self.up
                    && self.primary
                    && (self.state == SYNCED
                        || (self.state == DONOR && self.spec.available_when_donor));
                let status = if ok { 200 } else { 503 };
                ctx.send(msg.from, msg.call, MsgKind::Response { status });
            }
            MsgKind::Wire(Wire::Gcomm(m)) => {
                if !self.up {
                    return;
                }
                let Some(j) = self.members.iter().position(|&m| m == msg.from) else {
                    return;
                };
                self.on_gcomm(ctx, rng, j, msg.call, m);
            }
            _ => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    self.on_query(ctx, rng, q);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: GaleraTimer) {
        match t {
            GaleraTimer::Boot if !self.up => self.boot(ctx, rng),
            GaleraTimer::Keepalive if self.up => self.keepalive_tick(ctx),
            GaleraTimer::InactiveCheck if self.up => {
                // The oldest live check is the one due (see `check_timers`).
                self.check_timers.pop_front();
                self.check_inactive(ctx);
                let at = ctx.now + self.spec.inactive_check_period;
                let k = ctx.at_cancellable(at, GaleraTimer::InactiveCheck);
                self.check_timers.push_back(k);
            }
            GaleraTimer::JoinRetrans if self.gather => {
                self.send_join(ctx);
                self.try_consensus(ctx, rng);
                // Armed even when that installed a view (see
                // `install_timeout`).
                let at = ctx.now + self.spec.join_retrans_period;
                ctx.rearm(&mut self.join_timer, at, GaleraTimer::JoinRetrans);
            }
            GaleraTimer::InstallTimeout if self.gather => self.install_timeout(ctx, rng),
            GaleraTimer::QueryDone(id) => self.service_done(ctx, rng, id),
            GaleraTimer::ApplyDone => {
                self.apply_timer = None;
                if let Some((g, op)) = self.applying.take()
                    && g as usize == self.log.len()
                {
                    self.log.push(op);
                }
                self.kick_applier(ctx, rng);
            }
            GaleraTimer::DonorDone => {
                self.donor_timer = None;
                self.donor_done(ctx, rng);
            }
            GaleraTimer::JoinerRetry if self.state == JOINING && self.primary => {
                self.donor_pick += 1;
                self.request_transfer(ctx);
            }
            GaleraTimer::Boot
            | GaleraTimer::Keepalive
            | GaleraTimer::InactiveCheck
            | GaleraTimer::JoinRetrans
            | GaleraTimer::InstallTimeout
            | GaleraTimer::JoinerRetry => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(weights: Vec<u32>, ignore_quorum: bool, ignore_sb: bool) -> GaleraSpec {
        GaleraSpec {
            max_connections: 10,
            service: crate::config::spec::DistSpec::Constant(Dur::from_ms(1)),
            apply: crate::config::spec::DistSpec::Constant(Dur::from_ms(1)),
            dirty_reads: false,
            available_when_donor: false,
            conflict_rate: 0.0,
            startup: Dur::from_secs(2),
            keepalive_period: Dur::from_secs(1),
            inactive_check_period: Dur::from_ms(500),
            suspect_timeout: Dur::from_secs(5),
            inactive_timeout: Dur::from_secs(15),
            install_timeout: Dur::from_ms(7500),
            join_retrans_period: Dur::from_secs(1),
            max_install_timeouts: 3,
            weights,
            ignore_quorum,
            ignore_sb,
            recovery: true,
            fc_limit: 16,
            fc_factor: 1.0,
            fc_single_primary: false,
            gcache_size: 128 << 20,
            writeset_size: 1024,
            data_size: 1 << 30,
            sst_rate: 100 << 20,
            sst_blocks_donor: true,
        }
    }

    #[test]
    fn quorum_is_a_strict_weighted_majority_of_the_last_primary() {
        let s = spec(vec![1, 1, 1], false, false);
        assert!(quorum(&s, 0b111, 0b011, 0));
        assert!(!quorum(&s, 0b111, 0b001, 0));
        // 2/2 split of 4: non-Primary on both sides.
        let s4 = spec(vec![1, 1, 1, 1], false, false);
        assert!(!quorum(&s4, 0b1111, 0b0011, 0));
        assert!(!quorum(&s4, 0b1111, 0b1100, 0));
        // Graceful leavers leave the base: 1 of the remaining 2 is not > 1.
        assert!(!quorum(&s, 0b111, 0b001, 0b100));
        assert!(quorum(&s, 0b111, 0b001, 0b110));
        // pc.weight breaks the tie.
        let w = spec(vec![3, 1, 1, 0], false, false);
        assert!(quorum(&w, 0b1111, 0b0001, 0));
        assert!(!quorum(&w, 0b1111, 0b0110, 0));
    }

    #[test]
    fn the_unsafe_options_keep_a_minority_primary() {
        let sb = spec(vec![1, 1, 1, 1], false, true);
        assert!(quorum(&sb, 0b1111, 0b0011, 0) && quorum(&sb, 0b1111, 0b1100, 0));
        assert!(!quorum(&sb, 0b1111, 0b0001, 0));
        let iq = spec(vec![1, 1, 1], true, false);
        assert!(quorum(&iq, 0b111, 0b001, 0));
    }

    #[test]
    fn flow_control_interval_matches_the_g1_log() {
        // "Flow-control interval: [23, 23]" with 2 members, fc_limit 16.
        let mut g = Galera::new(
            &ClusterSpec {
                cluster: "g".into(),
                cluster_index: 0,
                members: vec!["g1".into(), "g2".into()].into(),
            },
            &spec(vec![1, 1], false, false),
            0,
            &DbIds {
                members: vec![0, 1],
            },
        );
        g.view_members = 0b11;
        assert_eq!(g.fc_limits(), (23, 23));
        g.view_members = 0b111;
        assert_eq!(g.fc_limits().0, 28);
    }

    #[test]
    fn a_group_is_retired_once_a_holder_leaves_it() {
        use crate::metrics::history::WritableChange;
        let c = |node, group| WritableChange {
            at: SimTime::ZERO,
            cluster: 0,
            node,
            group,
        };
        assert!(!retired(&[c(1, Some(7)), c(2, Some(7))], 0, 7));
        assert!(retired(&[c(1, Some(7)), c(1, None)], 0, 7));
        assert!(!retired(&[c(1, Some(7)), c(1, None)], 0, 9));
    }
}
