//! Presets: the documented defaults of a product, one TOML file each under
//! `models/`, embedded in the binary. A node's table is read over its preset:
//! a key the experiment omits takes the preset's value.

/// What a preset configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetKind {
    Haproxy,
    Nginx,
    Client,
    Server,
    Galera,
    Mysql,
    Patroni,
    Etcd,
}

impl PresetKind {
    pub fn noun(self) -> &'static str {
        match self {
            PresetKind::Haproxy => "haproxy balancers",
            PresetKind::Nginx => "nginx balancers",
            PresetKind::Client => "clients",
            PresetKind::Server => "servers and apps",
            PresetKind::Galera => "galera databases",
            PresetKind::Mysql => "mysql databases",
            PresetKind::Patroni => "patroni databases",
            PresetKind::Etcd => "etcd databases",
        }
    }

    /// The kind of a database `type`.
    pub fn of_database(ty: &str) -> PresetKind {
        match ty {
            "galera" => PresetKind::Galera,
            "mysql" => PresetKind::Mysql,
            "patroni" => PresetKind::Patroni,
            _ => PresetKind::Etcd,
        }
    }
}

/// One embedded preset file.
#[derive(Debug)]
pub struct Preset {
    /// The name experiments use: `preset = "haproxy-2.6"`.
    pub name: &'static str,
    /// The path shown in messages.
    pub file: &'static str,
    pub kind: PresetKind,
    pub text: &'static str,
}

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "haproxy-2.6",
        file: "models/haproxy-2.6.toml",
        kind: PresetKind::Haproxy,
        text: include_str!("../../models/haproxy-2.6.toml"),
    },
    Preset {
        name: "nginx-1.22",
        file: "models/nginx-1.22.toml",
        kind: PresetKind::Nginx,
        text: include_str!("../../models/nginx-1.22.toml"),
    },
    Preset {
        name: "k6",
        file: "models/k6.toml",
        kind: PresetKind::Client,
        text: include_str!("../../models/k6.toml"),
    },
    Preset {
        name: "server",
        file: "models/server.toml",
        kind: PresetKind::Server,
        text: include_str!("../../models/server.toml"),
    },
    Preset {
        name: "galera-26.4",
        file: "models/galera-26.4.toml",
        kind: PresetKind::Galera,
        text: include_str!("../../models/galera-26.4.toml"),
    },
    Preset {
        name: "mariadb-10.11",
        file: "models/mariadb-10.11.toml",
        kind: PresetKind::Mysql,
        text: include_str!("../../models/mariadb-10.11.toml"),
    },
    Preset {
        name: "patroni-3.0",
        file: "models/patroni-3.0.toml",
        kind: PresetKind::Patroni,
        text: include_str!("../../models/patroni-3.0.toml"),
    },
    Preset {
        name: "etcd-3.4",
        file: "models/etcd-3.4.toml",
        kind: PresetKind::Etcd,
        text: include_str!("../../models/etcd-3.4.toml"),
    },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset used when a node names none: the first of its kind.
pub fn default_for(kind: PresetKind) -> &'static Preset {
    PRESETS
        .iter()
        .find(|p| p.kind == kind)
        .expect("every kind has a preset")
}
