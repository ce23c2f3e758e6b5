//! Fuzz target: `hasim import`'s readers (haproxy.cfg, nginx.conf,
//! patroni.yml, a Galera my.cnf, etcd flags, redis.conf, sentinel.conf,
//! keepalived.conf, proxysql.cnf). Any text is imported or
//! refused with an error naming the file — never a panic, never a hang; an
//! import that succeeds is an experiment the loader accepts (import checks
//! it before returning).
//!
//! Corpus: `tests/fixtures/import/`.

use crate::engine;

use engine::Verdict;
use hasim::import::{Options, import};

/// One format: the file name it is imported under, and its corpus.
fn target(name: &str, dirs: &[&str], ext: &[&str], inputs: u64) {
    let dir = std::env::temp_dir().join(format!(
        "hasim-fuzz-import-{}-{}",
        name.replace('.', "-"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(name);
    let mut corpus = Vec::new();
    for d in dirs {
        corpus.extend(engine::files(d, ext).into_iter().map(|(_, t)| t));
    }
    assert!(!corpus.is_empty(), "no corpus for {name}");
    engine::fuzz(&format!("fuzz_import_{name}"), corpus, inputs, |text| {
        std::fs::write(&input, text).unwrap();
        match import(std::slice::from_ref(&input), &Options::default()) {
            Err(e) => {
                let shown = e.to_string();
                assert!(shown.contains(name), "the error names no file: {shown}");
                Verdict::Refused
            }
            Ok(i) => {
                assert!(i.toml.contains("[experiment]"));
                Verdict::Accepted
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_import_haproxy() {
    let d = [
        "tests/fixtures/import/report-2",
        "tests/fixtures/import/patroni",
        "tests/fixtures/import/galera",
    ];
    target("haproxy.cfg", &d, &["haproxy.cfg"], 400);
}

#[test]
fn fuzz_import_nginx() {
    target(
        "nginx.conf",
        &["tests/fixtures/import/report-2"],
        &["nginx.conf"],
        300,
    );
}

#[test]
fn fuzz_import_patroni() {
    let d = [
        "tests/fixtures/import/patroni",
        "tests/fixtures/import/report-5",
    ];
    target("patroni.yml", &d, &[".yml"], 300);
}

#[test]
fn fuzz_import_galera() {
    target(
        "my.cnf",
        &["tests/fixtures/import/galera"],
        &["my.cnf"],
        300,
    );
}

#[test]
fn fuzz_import_redis() {
    target(
        "redis.conf",
        &["tests/fixtures/import/redis"],
        &["redis.conf"],
        200,
    );
    target(
        "sentinel.conf",
        &["tests/fixtures/import/redis"],
        &["sentinel.conf"],
        200,
    );
}

#[test]
fn fuzz_import_etcd() {
    let d = [
        "tests/fixtures/import/patroni",
        "tests/fixtures/import/report-5",
    ];
    target("etcd.service", &d, &[".service"], 200);
}

#[test]
fn fuzz_import_keepalived() {
    target(
        "keepalived.conf",
        &["tests/fixtures/import/keepalived"],
        &[".conf"],
        300,
    );
}

#[test]
fn fuzz_import_proxysql() {
    target(
        "proxysql.cnf",
        &["tests/fixtures/import/proxysql"],
        &["proxysql.cnf"],
        300,
    );
}
