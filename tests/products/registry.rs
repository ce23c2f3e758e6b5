//! Registry-wide tests: every product in `PRODUCTS` is complete and works
//! through the registry alone — as ripgrep tests every flag in `FLAGS`. A
//! new product added to the registry is checked here without a line of its
//! own: its name, sections and presets, its example experiment (parsed,
//! described, run twice to the same result), its error codes, its operator actions and
//! processes (each exercised by some example), its formulas (the simulated
//! detection of its examples' faults within the formula's range).

use hasim::config::read::Section;
use hasim::products::{PRODUCTS, ProductInfo};
use hasim::sim::Sim;

fn example_spec(p: &ProductInfo) -> hasim::config::spec::ExperimentSpec {
    let file = format!("src/products/{}/example.toml", p.name);
    hasim::config::parse(p.example, &file).unwrap_or_else(|e| panic!("{}: {e}", p.name))
}

#[test]
fn names_sections_and_presets_are_complete_and_unique() {
    let mut names = Vec::new();
    let mut presets = Vec::new();
    for p in PRODUCTS {
        assert!(!p.name.is_empty() && !names.contains(&p.name), "{}", p.name);
        names.push(p.name);
        assert!(
            !p.sections.is_empty(),
            "{} is declared in no section",
            p.name
        );
        assert!(!p.presets.is_empty(), "{} has no preset", p.name);
        for preset in p.presets {
            assert!(
                !presets.contains(&preset.name),
                "preset {} twice",
                preset.name
            );
            presets.push(preset.name);
            assert!(preset.file.ends_with(".toml") && !preset.text.is_empty());
        }
    }
    for s in Section::ALL {
        assert!(
            PRODUCTS.iter().any(|p| p.sections.contains(&s)),
            "no product for [{}]",
            s.key()
        );
    }
}

#[test]
fn every_example_parses_and_declares_its_product() {
    for p in PRODUCTS {
        let spec = example_spec(p);
        assert!(
            spec.nodes.values().any(|n| n.kind.product() == p.name),
            "{}'s example has no {} node",
            p.name,
            p.name
        );
        assert!(spec.warnings.is_empty(), "{}: {:?}", p.name, spec.warnings);
    }
}

#[test]
fn every_example_is_described_with_its_products_settings() {
    for p in PRODUCTS {
        let spec = example_spec(p);
        let text = hasim::describe::topology(&spec, 1);
        // The products' own words, never Rust's `Debug`.
        for debug in [" { ", "Dur(", "Some(", "Action(", "[\""] {
            assert!(!text.contains(debug), "{}: `{debug}` in\n{text}", p.name);
        }
        for n in spec.nodes.values().filter(|n| n.kind.product() == p.name) {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{} ", n.name)))
                .unwrap_or_else(|| panic!("{}: no line for {}\n{text}", p.name, n.name));
            assert!(line.contains(n.kind.label()), "{line}");
            // More than the name, label and host: the product's own words.
            assert!(line.len() > 60, "{}: {line}", p.name);
        }
    }
}

#[test]
fn every_example_runs_to_the_same_result_twice() {
    for p in PRODUCTS {
        let spec = example_spec(p);
        let run = || {
            let mut sim = Sim::new(&spec, 7);
            sim.run();
            let r = sim.finish();
            (hasim::report::summary_json(&r), r.recorder.requests)
        };
        let (a, requests) = run();
        assert_eq!(a, run().0, "{}: two runs differ", p.name);
        let has_clients = spec.nodes.values().any(|n| n.kind.product() == "client");
        assert!(!has_clients || requests > 0, "{}: no requests", p.name);
    }
}

#[test]
fn every_operator_action_and_process_is_exercised_by_an_example() {
    let examples: Vec<_> = PRODUCTS.iter().map(example_spec).collect();
    for p in PRODUCTS {
        for a in p.actions {
            let used = examples.iter().any(|s| {
                s.faults.iter().any(|f| {
                    matches!(f.fault.kind(), hasim::config::spec::FaultKind::Action(x) if x.name == a.name)
                })
            });
            assert!(used, "{}'s action `{}` is in no example", p.name, a.name);
        }
        for proc in p.processes {
            let used = examples
                .iter()
                .any(|s| s.faults.iter().any(|f| f.fault.process() == Some(*proc)));
            assert!(used, "{}'s process `{proc}` is in no example", p.name);
        }
    }
}

#[test]
fn every_formula_covers_its_examples_simulated_detection() {
    let mut checked = 0;
    for p in PRODUCTS {
        let spec = example_spec(p);
        let mut sim = Sim::new(&spec, 1);
        sim.run();
        for f in sim.finish().faults {
            let (Some(formula), Some(d)) = (&f.formula_detect, &f.detected) else {
                continue;
            };
            let took = d.at.since(f.at);
            assert!(
                formula.lo <= took && took <= formula.hi,
                "{}: `{}` detected after {took}, formula {}..{} ({})",
                p.name,
                f.label,
                formula.lo,
                formula.hi,
                formula.formula
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} formulas checked");
}

#[test]
fn every_database_declares_its_own_error_codes_once() {
    for p in PRODUCTS {
        let codes: Vec<&str> = p.errors.iter().map(|e| e.error.code.as_str()).collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(!c.is_empty(), "{}: an empty code", p.name);
            assert!(!codes[..i].contains(c), "{}: code {c} twice", p.name);
        }
        for e in p.errors {
            assert!(
                !e.name.is_empty() && !e.message.is_empty(),
                "{}: {c:?}",
                p.name,
                c = e.name
            );
            let kind = hasim::metrics::Outcome::Db(e.error).failure_index();
            assert!(
                kind.is_some(),
                "{}: {} counts as no failure",
                p.name,
                e.name
            );
        }
        // A database that holds client data answers some statements with
        // errors (not ready, read-only...): it must say which.
        assert!(
            !p.holds_client_data || !p.errors.is_empty(),
            "{} holds data but declares no error codes",
            p.name
        );
    }
}
