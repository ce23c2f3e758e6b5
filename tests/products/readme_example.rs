//! The README's complete experiment example must stay valid.

#[test]
fn the_readme_example_parses() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n[experiment]")
        .expect("example in README")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let spec =
        hasim::config::parse(&readme[start..end], "README.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.name, "shop");
    assert_eq!(spec.faults.len(), 4);
    let mut sim = hasim::sim::Sim::new(&spec, 1);
    sim.run();
    assert!(sim.finish().recorder.requests > 10_000);
}

#[test]
fn the_readme_database_example_parses_and_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n[experiment]\nname = \"data-tier\"")
        .expect("database example in README")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let spec =
        hasim::config::parse(&readme[start..end], "README.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.warnings.len(), 0, "{:?}", spec.warnings);
    let mut sim = hasim::sim::Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let h = r.history.expect("databases keep a history");
    assert!(h.writes > 5_000);
    // Three data clusters (etcd holds none).
    assert_eq!(h.clusters.len(), 3);
}
