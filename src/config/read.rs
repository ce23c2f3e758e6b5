//! What a product's config reader may ask of the experiment besides its own
//! table ([`ReadCx`]), and the sections nodes are declared in ([`Section`]).
//! Products read their keys themselves (in `src/products/NAME/config.rs`);
//! names, references, presets and limits across the file stay here.

use super::error::ConfigError;
use super::experiment::Builder;
use super::table::{Entry, Pos, Reader, Sources};
use crate::engine::Dur;

/// The sections of an experiment file that declare nodes: roles, not
/// products (a product says which sections it is declared in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Client,
    Balancer,
    App,
    Server,
    Database,
    /// `[vips.NAME]`: a virtual IP and the daemons that move it between the
    /// hosts of its listeners, one node per `[vips.NAME.on.LISTENER]`.
    Vip,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Client,
        Section::Balancer,
        Section::App,
        Section::Server,
        Section::Database,
        Section::Vip,
    ];

    /// The table's key: `[balancers.NAME]`.
    pub fn key(self) -> &'static str {
        match self {
            Section::Client => "clients",
            Section::Balancer => "balancers",
            Section::App => "apps",
            Section::Server => "servers",
            Section::Database => "databases",
            Section::Vip => "vips",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Section::Client => "a client",
            Section::Balancer => "a balancer",
            Section::App => "an app",
            Section::Server => "a server",
            Section::Database => "a database",
            Section::Vip => "a VIP's daemon",
        }
    }

    /// Tables of this section may stand for several instances (`count`).
    pub fn counts(self) -> bool {
        matches!(self, Section::App | Section::Server | Section::Database)
    }
}

/// Sections a client or a call may target.
pub(crate) const SERVING: &[Section] = &[
    Section::Balancer,
    Section::App,
    Section::Server,
    Section::Database,
];
/// Sections whose nodes a kill, stop, slow or action fault may target.
pub(crate) const FAULTABLE: &[Section] = &[
    Section::Balancer,
    Section::App,
    Section::Server,
    Section::Database,
    Section::Vip,
];
/// Sections a balancer may balance over (a balancer too: HAProxy in front
/// of nginx, report 4).
pub(crate) const BACKENDS: &[Section] = &[
    Section::Balancer,
    Section::App,
    Section::Server,
    Section::Database,
];

/// The experiment as one product's reader sees it while it reads one table.
pub struct ReadCx<'b, 'a> {
    pub(super) b: &'b Builder<'a>,
    pub(super) e: &'b Entry<'a>,
    pub(super) section: Section,
}

impl<'b, 'a> ReadCx<'b, 'a> {
    /// The section the table is in.
    pub fn section(&self) -> Section {
        self.section
    }

    /// The table's name (a node, a `count` group or a cluster).
    pub fn name(&self) -> &str {
        &self.e.name
    }

    /// The node names the table declares: itself, or its `count` members.
    pub fn members(&self) -> Vec<String> {
        self.b.members_of(&self.e.name)
    }

    pub fn src(&self) -> &'a Sources {
        self.b.src
    }

    /// `[experiment] duration`.
    pub fn duration(&self) -> Dur {
        self.b.duration
    }

    /// The listeners of the VIP being read, by member node: (node, listener),
    /// in file order of its `[vips.NAME.on.LISTENER]` tables.
    pub fn vip_members(&self) -> Vec<(String, String)> {
        self.b.vip_members(&self.e.name)
    }

    /// One node a client or a call sends to, named by the string at `key`
    /// (a VIP's name stands for whoever holds it).
    pub fn target(
        &self,
        r: &mut Reader<'a>,
        key: &'static str,
        role: &str,
    ) -> Result<String, ConfigError> {
        let vip_ok = matches!(self.section, Section::Client | Section::App);
        self.b.single_target(r, key, SERVING, role, vip_ok)
    }

    /// A balancer's `servers = [...]`: apps, servers or database members,
    /// groups expanded, in order, none twice.
    pub fn servers(&self, r: &mut Reader<'a>) -> Result<Vec<String>, ConfigError> {
        self.b.balanced_servers(r)
    }

    /// Readers for each of a balancer's servers: `[server.NAME]` stacked
    /// over `default_server`; `read` gets the server's name and whether it
    /// reads a server's own table (false for `default_server` alone).
    pub fn per_server<T>(
        &self,
        r: &mut Reader<'a>,
        servers: &[String],
        read: impl Fn(&mut Reader<'a>, &str, bool) -> Result<T, ConfigError>,
    ) -> Result<Vec<T>, ConfigError> {
        self.b.per_server(r, servers, read)
    }

    /// What an HTTP check of `path` asks server `server`: its product's code
    /// for the path ([`crate::products::Product::check_code`]).
    pub fn check_code(&self, server: &str, path: &str) -> Result<u32, String> {
        match self.b.product_of(server) {
            Some(p) => (p.check_code)(path),
            None => Ok(0),
        }
    }

    /// Resolves a reference to another database cluster, which must be of
    /// product `want`: its members.
    pub fn cluster_ref(
        &self,
        name: &str,
        at: &Pos,
        path: &str,
        want: &str,
    ) -> Result<Vec<String>, ConfigError> {
        self.b.cluster_ref(name, at, path, want)
    }

    /// Records a warning about `key` of the table being read: a setting the
    /// real software accepts although it risks data (printed before the run).
    pub fn warn(&self, r: &Reader, key: &str, risk: String) {
        self.b.warn(self.e, r, key, risk)
    }

    /// Adds `n` requests the open-loop client being read will issue; the
    /// total so far.
    pub fn add_requests(&self, n: f64) -> f64 {
        let total = self.b.requests.get() + n;
        self.b.requests.set(total);
        total
    }
}

/// `1.3 GB`, `130 MB`, `12 kB`: a size in a limit's message.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    for (unit, name) in [
        (1e15, "PB"),
        (1e12, "TB"),
        (1e9, "GB"),
        (1e6, "MB"),
        (1e3, "kB"),
    ] {
        if n >= unit {
            return format!("~{:.1} {name}", n / unit);
        }
    }
    format!("~{n:.0} bytes")
}

/// A balancer's `backup` is a per-server key: refused in `default_server`.
pub fn backup(s: &mut Reader<'_>, per_server: bool) -> Result<bool, ConfigError> {
    if per_server {
        Ok(s.bool_opt("backup")?.unwrap_or(false))
    } else {
        s.reject(
            "backup",
            "`backup` is set per server: `[balancers.NAME.server.SERVER]` backup = true",
        )?;
        Ok(false)
    }
}
