//! Presets: the documented defaults of a product, one TOML file each under
//! `models/`, embedded in the binary and listed by their product
//! ([`crate::products::Product::PRESETS`]). A node's table is read over its
//! preset: a key the experiment omits takes the preset's value.

/// One embedded preset file.
#[derive(Debug)]
pub struct Preset {
    /// The name experiments use: `preset = "haproxy-2.6"`.
    pub name: &'static str,
    /// The path shown in messages.
    pub file: &'static str,
    pub text: &'static str,
}

/// A preset of the file `models/NAME.toml`, embedded.
#[macro_export]
macro_rules! preset {
    ($name:literal) => {
        $crate::config::Preset {
            name: $name,
            file: concat!("models/", $name, ".toml"),
            text: include_str!(concat!("../../../models/", $name, ".toml")),
        }
    };
}

/// Every preset of every product, with its product.
pub fn all() -> impl Iterator<Item = (&'static ProductInfo, &'static Preset)> {
    crate::products::presets()
}

pub fn find(name: &str) -> Option<(&'static ProductInfo, &'static Preset)> {
    all().find(|(_, p)| p.name == name)
}

use crate::products::ProductInfo;
