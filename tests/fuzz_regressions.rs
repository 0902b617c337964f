//! The fuzz targets' bodies (fuzz/src/lib.rs, shared by path) in the normal test command, with
//! no cargo-fuzz, nightly or sanitizer build: every committed seed and every input that once
//! crashed (fuzz/seeds/TARGET, fuzz/regressions/TARGET) must pass, then a bounded random
//! mutation pass over them. A body fails on a panic, an error that is not a 4xx/503, or an
//! output that does not decode, or one that takes more than 10 s.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Longer than any input of these sizes takes (milliseconds) by far, even on a busy CI machine.
const HANG: Duration = Duration::from_secs(10);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The committed inputs of a target: seeds, then past crashes.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> = ["seeds", "regressions"]
        .iter()
        .filter_map(|d| std::fs::read_dir(fuzz_dir().join(d).join(target)).ok())
        .flat_map(|dir| dir.map(|e| e.unwrap().path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Runs a body on its own thread: a panic is an `Err` (its message is printed above by the
/// panic hook) and so is a hang, which would otherwise stall the whole test command.
fn run(body: fn(&[u8]), data: &[u8]) -> Result<(), &'static str> {
    let (tx, rx) = mpsc::channel();
    let data = data.to_vec();
    std::thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(|| body(&data))).is_ok());
    });
    match rx.recv_timeout(HANG) {
        Ok(true) => Ok(()),
        Ok(false) => Err("panicked"),
        Err(_) => Err("hangs (still running after 10 s)"),
    }
}

#[test]
fn every_seed_and_past_crash_passes() {
    for (target, body) in harness::TARGETS {
        let inputs = inputs(target);
        assert!(
            !inputs.is_empty(),
            "no seeds for `{target}` in {}",
            fuzz_dir().display()
        );
        for (path, data) in inputs {
            if let Err(why) = run(body, &data) {
                panic!("fuzz target `{target}` {why} on {}", path.display());
            }
        }
    }
}

/// The edits a fuzzer makes: flip a bit, overwrite with an edge value, insert, delete, cut
/// short, repeat a slice.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize, usize),
    Truncate(usize),
    Repeat(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let edge = prop_oneof![
        Just(0u8),
        Just(0xFF),
        Just(0x7F),
        Just(0x80),
        Just(b'0'),
        any::<u8>()
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), edge.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), edge).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Remove(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..64, 1usize..8).prop_map(|(i, n, k)| Mutation::Repeat(i, n, k)),
    ]
}

fn mutate(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = data.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !data.is_empty() => data[i % len] ^= 1 << b,
            Mutation::Set(i, b) if !data.is_empty() => data[i % len] = b,
            Mutation::Insert(i, b) => data.insert(i % (data.len() + 1), b),
            Mutation::Remove(i, n) if !data.is_empty() => {
                let at = i % len;
                data.drain(at..(at + n).min(data.len()));
            }
            Mutation::Truncate(i) => data.truncate(i % len),
            Mutation::Repeat(i, n, k) if !data.is_empty() => {
                let at = i % len;
                let slice = data[at..(at + n).min(data.len())].to_vec();
                for _ in 0..k {
                    data.splice(at..at, slice.iter().copied());
                }
            }
            _ => {}
        }
    }
    data
}

/// A bounded pass (`FUZZ_REGRESSION_CASES` per target, default 48): random mutations of the
/// committed inputs, from a fixed RNG seed so that a failure is the same on every machine (set
/// `FUZZ_REGRESSION_SEED` to explore others). A failure prints the seed file and mutations.
#[test]
fn random_mutations_of_the_seeds_pass() {
    let cases = std::env::var("FUZZ_REGRESSION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let seed: u64 = std::env::var("FUZZ_REGRESSION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    for (target, body) in harness::TARGETS {
        let inputs = inputs(target);
        let config = Config {
            cases,
            failure_persistence: None,
            // Each shrinking step of a hang costs 10 s.
            max_shrink_iters: 64,
            ..Config::default()
        };
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..8 + target.len()].copy_from_slice(target.as_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let strategy = (0..inputs.len(), prop::collection::vec(mutation(), 1..6));
        let result = runner.run(&strategy, |(pick, mutations)| {
            let (path, seed) = &inputs[pick];
            let data = mutate(seed.clone(), &mutations);
            let result = run(body, &data);
            prop_assert!(
                result.is_ok(),
                "{target} {} on {} mutated by {mutations:?}",
                result.unwrap_err(),
                path.display()
            );
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz target `{target}`: {e}");
        }
    }
}
