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

#[test]
fn the_readme_vip_example_parses_and_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n[vips.vip]")
        .expect("VIP example in README")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let text = format!(
        "[experiment]\nduration = \"80s\"\n[clients.c]\ntype = \"open\"\ntarget = \"vip\"\nrate = 10\n\
         [balancers.lb1]\ntype = \"haproxy\"\nservers = [\"s\"]\n\
         [balancers.lb2]\ntype = \"haproxy\"\nservers = [\"s\"]\n[servers.s]\nservice = \"1ms\"\n{}",
        &readme[start..end]
    );
    let spec = hasim::config::parse(&text, "README.md").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = hasim::sim::Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    // The clean restart at 30 s hands the VIP to lb2 after its skew.
    let f = &r.faults[0];
    let d = f.detected.as_ref().expect("lb2 took over");
    assert_eq!(d.by, "vip-lb2");
    // lb1 preempted back; its link going down at 60 s is a FAULT, and lb2
    // takes over when its master-down timer runs out.
    let f = &r.faults[1];
    let d = f.detected.as_ref().expect("lb2 took over again");
    assert_eq!(d.by, "vip-lb2");
    let took = d.at.secs_from(f.at);
    assert!((2.6..=3.7).contains(&took), "{took}");
    assert!(
        r.recorder
            .two_holders
            .iter()
            .all(|x| (x.to - x.from).0 < 1_000_000)
    );
}
