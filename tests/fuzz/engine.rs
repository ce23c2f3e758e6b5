//! A small deterministic mutation fuzzer shared by the `fuzz_*` targets
//! (cargo-fuzz needs nightly and libFuzzer; this needs neither).
//!
//! Each target gives a corpus (valid inputs: experiment files, baselines, …)
//! and a function that must accept or refuse any text cleanly. The engine
//! derives inputs from the corpus with byte, line and token mutations and
//! splices, from a fixed seed, and runs the function on each under
//! `catch_unwind`; a watchdog thread aborts the process, printing the input,
//! if one input runs longer than the hang limit. At the end it prints what it
//! tried and fails listing every input that panicked (also written to
//! `target/fuzz-failures/`).
//!
//! - `HASIM_FUZZ_INPUTS`: inputs per target (default: the target's CI count);
//! - `HASIM_FUZZ_SEED`: the seed (default 1); the same seed gives the same
//!   inputs;
//! - `HASIM_FUZZ_HANG_S`: seconds one input may take (default 20).
//!
//! `scripts/fuzz` runs millions in release mode.
#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the target made of one input.
pub enum Verdict {
    /// Accepted (parsed, and run if it was small enough).
    Accepted,
    /// Refused with a proper error.
    Refused,
}

/// splitmix64: small, fast, the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values that broke parsers before, or sit on a boundary.
pub const TOKENS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "31",
    "32",
    "10000",
    "10001",
    "1000000",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "99999999999999999999",
    "-9223372036854775808",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e-300",
    "5e-324",
    "0.0",
    "-0.0",
    "nan",
    "inf",
    "-inf",
    "true",
    "false",
    "\"\"",
    "\"0\"",
    "\"0s\"",
    "\"1ns\"",
    "\"1ms\"",
    "\"1s\"",
    "\"-5s\"",
    "\"1e30s\"",
    "\"999999h\"",
    "\"99999999999999999999h\"",
    "\"10000h\"",
    "\"nope\"",
    "\"s9\"",
    "\"g1\"",
    "[]",
    "{}",
    "[[]]",
    "[\"x\"]",
    "[1, 1]",
    "{ from = 0.0, to = inf, step = 1e-300 }",
    "{ from = 1, to = 2, step = 1e-300 }",
    "{ from = \"1ns\", to = \"10000h\", step = \"1ns\" }",
    "{ from = 1, to = 1000, points = 100000, log = true }",
    "null",
    "\"\\u0000\"",
    "\"é\"",
];

/// Keys worth inserting (they scale memory or time when abused).
pub const KEYS: &[&str] = &[
    "count",
    "bucket",
    "duration",
    "rate",
    "timeout",
    "vus",
    "mtbf",
    "every",
    "at",
    "recover_at",
    "step",
    "from",
    "to",
    "points",
    "replications",
    "seed",
    "workers",
    "backlog",
    "maxconn",
    "weight",
    "value",
    "abs",
    "rel",
    "bucket_s",
    "duration_s",
    "p99_ms",
    "ok_per_s",
    "",
];

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// One mutation of `text`, using `corpus` for splices.
pub fn mutate(rng: &mut Rng, text: &str, corpus: &[String]) -> String {
    let mut b: Vec<u8> = text.as_bytes().to_vec();
    let at = |rng: &mut Rng, b: &Vec<u8>| rng.below(b.len() + 1);
    match rng.below(12) {
        // A random byte flipped, inserted or deleted.
        0 => {
            if !b.is_empty() {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let i = at(rng, &b);
            let c = *rng.pick(b"\"'[]{}=.,:#\n\\0123456789-+e ");
            b.insert(i, c);
        }
        2 => {
            if !b.is_empty() {
                let i = rng.below(b.len());
                let n = 1 + rng.below(16.min(b.len() - i));
                b.drain(i..i + n);
            }
        }
        // A byte range duplicated.
        3 => {
            if !b.is_empty() {
                let i = rng.below(b.len());
                let n = 1 + rng.below(64.min(b.len() - i));
                let chunk: Vec<u8> = b[i..i + n].to_vec();
                let j = at(rng, &b);
                b.splice(j..j, chunk);
            }
        }
        // Lines deleted, duplicated, swapped.
        4..=5 => {
            let mut lines: Vec<String> = String::from_utf8_lossy(&b)
                .lines()
                .map(String::from)
                .collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                match rng.below(3) {
                    0 => {
                        lines.remove(i);
                    }
                    1 => {
                        let l = lines[i].clone();
                        lines.insert(rng.below(lines.len() + 1), l);
                    }
                    _ => {
                        let j = rng.below(lines.len());
                        lines.swap(i, j);
                    }
                }
            }
            return lines.join("\n") + "\n";
        }
        // A value (after `=` or `:`) replaced by a token.
        6..=8 => {
            let s = String::from_utf8_lossy(&b).into_owned();
            let mut lines: Vec<String> = s.lines().map(String::from).collect();
            let with_value: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains('=') || lines[i].contains(':'))
                .collect();
            if !with_value.is_empty() {
                let i = *rng.pick(&with_value);
                let l = &lines[i];
                let sep = l.find('=').or_else(|| l.find(':')).unwrap_or(0);
                let tail = if l.trim_end().ends_with(',') { "," } else { "" };
                lines[i] = format!("{} {}{tail}", &l[..=sep], rng.pick(TOKENS));
            }
            return lines.join("\n") + "\n";
        }
        // A number somewhere replaced by a token.
        9 => {
            let s = String::from_utf8_lossy(&b).into_owned();
            let digits: Vec<usize> = s
                .char_indices()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            if !digits.is_empty() {
                let i = *rng.pick(&digits);
                let end = s[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                    .map_or(s.len(), |k| i + k);
                return format!(
                    "{}{}{}",
                    &s[..i],
                    rng.pick(TOKENS).trim_matches('"'),
                    &s[end..]
                );
            }
        }
        // A key = token line inserted.
        10 => {
            let s = String::from_utf8_lossy(&b).into_owned();
            let mut lines: Vec<String> = s.lines().map(String::from).collect();
            let i = rng.below(lines.len() + 1);
            let key = rng.pick(KEYS);
            let line = if s.trim_start().starts_with('{') {
                format!("\"{key}\": {},", rng.pick(TOKENS))
            } else {
                format!("{key} = {}", rng.pick(TOKENS))
            };
            lines.insert(i, line);
            return lines.join("\n") + "\n";
        }
        // A splice of another corpus entry.
        _ => {
            let other = rng.pick(corpus).as_bytes();
            if !other.is_empty() {
                let i = rng.below(other.len());
                let n = 1 + rng.below(200.min(other.len() - i));
                let j = at(rng, &b);
                b.splice(j..j, other[i..i + n].iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Files of `dir` ending in one of `exts`, sorted.
pub fn files(dir: &str, exts: &[&str]) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&root) {
        for e in rd.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.is_file()
                && exts.iter().any(|x| name.ends_with(x))
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                out.push((p, t));
            }
        }
    }
    out.sort();
    out
}

/// Runs `check` on the corpus itself, then on `default_inputs` mutated
/// inputs (or `HASIM_FUZZ_INPUTS`); fails if any panicked.
pub fn fuzz(
    target: &str,
    corpus: Vec<String>,
    default_inputs: u64,
    check: impl Fn(&str) -> Verdict,
) {
    assert!(!corpus.is_empty(), "{target}: empty corpus");
    let inputs = env_u64("HASIM_FUZZ_INPUTS").unwrap_or(default_inputs);
    let seed = env_u64("HASIM_FUZZ_SEED").unwrap_or(1);
    let hang = Duration::from_secs(env_u64("HASIM_FUZZ_HANG_S").unwrap_or(20));

    // Silence the default hook: panics are collected, not printed per input.
    let messages: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = messages.clone();
    std::panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        sink.lock().unwrap().push(format!("{msg}{at}"));
    }));

    // Watchdog: the current input, and when it started (ms since `t0`).
    let current: Arc<Mutex<String>> = Arc::default();
    let started_ms = Arc::new(AtomicU64::new(u64::MAX));
    let t0 = Instant::now();
    {
        let current = current.clone();
        let started_ms = started_ms.clone();
        let target = target.to_string();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let s = started_ms.load(Ordering::SeqCst);
                if s != u64::MAX && t0.elapsed().as_millis() as u64 > s + hang.as_millis() as u64 {
                    let input = current.lock().map(|c| c.clone()).unwrap_or_default();
                    let path = save(&target, "hang", &input);
                    eprintln!(
                        "\n{target}: HANG: an input ran more than {}s; saved to {}:\n{input}",
                        hang.as_secs(),
                        path.display()
                    );
                    std::process::abort();
                }
            }
        });
    }

    let mut rng = Rng::new(seed);
    let (mut accepted, mut refused) = (0u64, 0u64);
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let total = corpus.len() as u64 + inputs;
    for n in 0..total {
        let input = if (n as usize) < corpus.len() {
            corpus[n as usize].clone()
        } else {
            let mut t = rng.pick(&corpus).clone();
            for _ in 0..1 + rng.below(4) {
                t = mutate(&mut rng, &t, &corpus);
            }
            t
        };
        *current.lock().unwrap() = input.clone();
        let t = Instant::now();
        started_ms.store(t0.elapsed().as_millis() as u64, Ordering::SeqCst);
        let r = catch_unwind(AssertUnwindSafe(|| check(&input)));
        started_ms.store(u64::MAX, Ordering::SeqCst);
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, input.clone());
        }
        match r {
            Ok(Verdict::Accepted) => accepted += 1,
            Ok(Verdict::Refused) => refused += 1,
            Err(_) => {
                let msg = messages.lock().unwrap().pop().unwrap_or_default();
                if failures.len() < 50 {
                    let p = save(target, "panic", &input);
                    let _ = std::fs::write(p.with_extension("msg"), &msg);
                }
                failures.push((msg, input));
            }
        }
    }
    let _ = std::panic::take_hook();
    println!(
        "{target}: {total} inputs (corpus {}, mutated {inputs}, seed {seed}) in {:.1}s: \
         {accepted} accepted, {refused} refused, {} panics; slowest {:.0}ms",
        corpus.len(),
        t0.elapsed().as_secs_f64(),
        failures.len(),
        slowest.0.as_secs_f64() * 1e3
    );
    if !failures.is_empty() {
        // One example per distinct panic (its first line and location).
        let mut kinds: Vec<(String, usize, &str)> = Vec::new();
        for (msg, input) in &failures {
            let first = msg.lines().next().unwrap_or("");
            let at = msg.rfind(" at ").map_or("", |i| &msg[i..]);
            let kind = format!("{first}{}", if first.ends_with(at) { "" } else { at });
            match kinds.iter_mut().find(|k| k.0 == kind) {
                Some(k) => k.1 += 1,
                None => kinds.push((kind, 1, input)),
            }
        }
        let mut shown = String::new();
        for (kind, n, input) in &kinds {
            shown.push_str(&format!("--- panic ({n} inputs): {kind}\n{input}\n"));
        }
        panic!(
            "{target}: {} of {total} inputs panicked (saved under target/fuzz-failures/):\n{shown}",
            failures.len()
        );
    }
}

/// Writes a failing input under `target/fuzz-failures/`.
fn save(target: &str, what: &str, input: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in input.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let p = dir.join(format!("{target}-{what}-{h:016x}.txt"));
    let _ = std::fs::write(&p, input);
    p
}
