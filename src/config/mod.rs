//! Experiment files: parse, merge presets, validate, explain errors.
//!
//! An experiment file is TOML. Each node's table is read over the preset of
//! its product (`models/*.toml`, embedded): a key the experiment omits takes
//! the preset's value. Every error names the file, line, column and key path,
//! says what was expected and what was found, and shows the line.
//!
//! - [`load`] reads a file, [`parse`] a text, [`parse_with_overrides`] a text
//!   with some values replaced first (for sweeps);
//! - [`spec`] holds the result: plain, validated data.

pub(crate) mod error;
mod experiment;
pub mod presets;
pub mod read;
pub mod settings;
pub mod spec;
pub(crate) mod table;
pub mod thresholds;

pub use error::{ConfigError, levenshtein, suggest};
pub use presets::Preset;

use spec::ExperimentSpec;
use std::path::Path;
use table::{Pos, Sources};

/// Reads, parses and validates the experiment file at `path`.
pub fn load(path: &Path) -> Result<ExperimentSpec, ConfigError> {
    let file = path.display().to_string();
    let text = read_input(path, MAX_INPUT_BYTES)
        .map_err(|e| ConfigError::whole_file(&file, format!("cannot read the file: {e}")))?;
    parse(&text, &file)
}

/// Experiment, sweep and baseline files are small: anything larger is not one.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Reads a text file hasim takes as input: a regular file (not a device or
/// a pipe, which could be endless) of at most `limit` bytes, in UTF-8.
pub fn read_input(path: &Path, limit: u64) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > limit {
        return Err(format!("larger than {} MB", limit >> 20));
    }
    Ok(text)
}

/// Parses and validates an experiment given as text; `file` names it in
/// messages and gives the default experiment name (its stem).
pub fn parse(text: &str, file: &str) -> Result<ExperimentSpec, ConfigError> {
    parse_with_overrides(text, file, &[])
}

/// Like [`parse`], after setting each `(key path, TOML value)` of
/// `overrides` in the file's tree, e.g.
/// `("balancers.lb.default_server.inter", "\"500ms\"")` or
/// `("faults[0].at", "\"10s\"")`. Missing tables on the path are created;
/// the result is validated as a whole, and errors about an override's value
/// name its key path (file `override`).
pub fn parse_with_overrides(
    text: &str,
    file: &str,
    overrides: &[(String, String)],
) -> Result<ExperimentSpec, ConfigError> {
    let mut sources = Sources::default();
    let id = sources.add(file, text);
    if text.trim().is_empty() {
        return Err(sources.error(
            &Pos { src: id, span: 0..0 },
            "experiment",
            "the file is empty; an experiment needs at least `[experiment]` with `duration = \"…\"`",
        ));
    }
    let mut root = table::parse_document(&sources, id)?;
    for (path, value) in overrides {
        table::apply_override(&mut sources, &mut root, path, value)?;
    }
    let ids: Vec<_> = presets::all()
        .map(|(_, p)| (p, sources.add(p.file, p.text)))
        .collect();
    let mut presets = Vec::new();
    for (p, pid) in ids {
        presets.push((p, table::parse_document(&sources, pid)?));
    }
    experiment::build(&sources, &root, &presets, file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Dur;

    #[test]
    fn every_preset_parses_alone() {
        let mut s = Sources::default();
        for (_, p) in presets::all() {
            let id = s.add(p.file, p.text);
            table::parse_document(&s, id).unwrap();
        }
    }

    #[test]
    fn minimal_experiment_uses_defaults() {
        let spec = parse(
            "[experiment]\nduration = \"10s\"\n[servers.s]\nservice = \"1ms\"\n",
            "dir/min.toml",
        )
        .unwrap();
        assert_eq!(spec.name, "min");
        assert_eq!(spec.seed, 1);
        let s = &spec.nodes["s"];
        assert_eq!(s.host, "s");
        assert_eq!(s.line, 3);
        let spec::NodeKind::Server(b) = &s.kind else {
            panic!()
        };
        let sv = b.server();
        assert_eq!((sv.workers, sv.backlog, sv.check_status), (8, 511, 200));
    }

    #[test]
    fn a_measured_service_time_is_its_quantiles_in_order() {
        let with = |service: &str| {
            parse(
                &format!("[experiment]\nduration = \"10s\"\n[servers.s]\nservice = {service}\n"),
                "e.toml",
            )
        };
        let spec = with(
            "{ dist = \"empirical\", min = \"1ms\", p50 = \"3ms\", p99 = \"60ms\", max = \"200ms\" }",
        )
        .unwrap();
        let spec::NodeKind::Server(b) = &spec.nodes["s"].kind else {
            panic!()
        };
        let spec::DistSpec::Empirical(q) = &b.server().service else {
            panic!("{:?}", b.server().service)
        };
        assert_eq!(q.points().len(), 4);
        assert_eq!((q.min(), q.max()), (Dur::from_ms(1), Dur::from_ms(200)));
        let e = with(
            "{ dist = \"empirical\", min = \"1ms\", p50 = \"3ms\", p90 = \"2ms\", max = \"9ms\" }",
        )
        .unwrap_err();
        assert_eq!(e.key, "servers.s.service.p90");
        assert!(e.message.contains("quantiles ascend"), "{}", e.message);
        let e = with("{ dist = \"empirical\", p50 = \"3ms\", max = \"9ms\" }").unwrap_err();
        assert_eq!(e.key, "servers.s.service.min");
        let e = with("{ dist = \"empirical\", min = \"1ms\", p97 = \"3ms\", max = \"9ms\" }")
            .unwrap_err();
        assert!(e.key.ends_with("p97"), "{}", e.key);
    }

    #[test]
    fn the_kernel_decides_linear_syn_timeouts() {
        let with = |net: &str| {
            parse(
                &format!(
                    "[experiment]\nduration = \"10s\"\n[network]\n{net}\n[servers.s]\nservice = \"1ms\"\n"
                ),
                "k.toml",
            )
        };
        let linear = |net: &str| with(net).unwrap().network.syn_linear_timeouts;
        assert_eq!(linear(""), 0, "Debian 12's 6.1 by default");
        assert_eq!(linear("kernel = \"6.5\""), 4);
        assert_eq!(linear("kernel = \"6.8.0-45-generic\""), 4);
        assert_eq!(linear("kernel = \"5.10\""), 0);
        assert_eq!(linear("kernel = \"6.8\"\nsyn_linear_timeouts = 0"), 0);
        let e = with("kernel = \"6.1\"\nsyn_linear_timeouts = 4")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("k.toml:5")
                && e.contains("network.syn_linear_timeouts")
                && e.contains("6.5"),
            "{e}"
        );
        let e = with("kernel = \"latest\"").unwrap_err().to_string();
        assert!(e.contains("network.kernel") && e.contains("\"6.1\""), "{e}");
    }

    #[test]
    fn overrides_apply_before_validation() {
        let text = "[experiment]\nduration = \"10s\"\n\
            [balancers.lb]\ntype = \"haproxy\"\nservers = [\"s\"]\n\
            [servers.s]\ncount = 2\nservice = \"1ms\"\n";
        let o = |k: &str, v: &str| (k.to_string(), v.to_string());
        let spec = parse_with_overrides(
            text,
            "x.toml",
            &[
                o("balancers.lb.default_server.inter", "\"500ms\""),
                o("experiment.seed", "7"),
            ],
        )
        .unwrap();
        assert_eq!(spec.seed, 7);
        let spec::NodeKind::Haproxy(h) = &spec.nodes["lb"].kind else {
            panic!()
        };
        assert_eq!(h.servers.len(), 2);
        assert_eq!(h.servers[1].inter, crate::engine::Dur::from_ms(500));
        assert_eq!(h.servers[1].fastinter, crate::engine::Dur::from_ms(500));

        let e = parse_with_overrides(
            text,
            "x.toml",
            &[o("balancers.lb.default_server.fall", "0")],
        )
        .unwrap_err();
        assert_eq!(e.key, "balancers.lb.default_server.fall");
        assert_eq!(e.file, "override");
        assert!(e.message.contains("at least 1, got 0"));

        let e = parse_with_overrides(
            text,
            "x.toml",
            &[o("balancers.lb.default_server.intr", "\"1s\"")],
        )
        .unwrap_err();
        assert!(e.message.contains("did you mean `inter`?"), "{e}");
    }
}
