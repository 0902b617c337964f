//! The fuzz targets' bodies (fuzz/src/lib.rs, shared by path) in the normal test command, with
//! no cargo-fuzz, nightly or sanitizer build: every committed seed and every input that once
//! crashed (fuzz/seeds/TARGET, fuzz/regressions/TARGET) must pass, then a bounded random
//! mutation pass over them. A body fails on a panic, an error that is not a 4xx/503, or an
//! output that does not decode.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

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

fn run(target: &str, body: fn(&[u8]), name: &str, data: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| body(data))).is_err() {
        panic!("fuzz target `{target}` failed on {name} (the reason is printed above)");
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
            run(target, body, &path.display().to_string(), &data);
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
/// committed inputs. A failure prints the seed file and the mutations to replay it.
#[test]
fn random_mutations_of_the_seeds_pass() {
    let cases = std::env::var("FUZZ_REGRESSION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    for (target, body) in harness::TARGETS {
        let inputs = inputs(target);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (0..inputs.len(), prop::collection::vec(mutation(), 1..6));
        let result = runner.run(&strategy, |(pick, mutations)| {
            let (path, seed) = &inputs[pick];
            let data = mutate(seed.clone(), &mutations);
            let ok = catch_unwind(AssertUnwindSafe(|| body(&data))).is_ok();
            prop_assert!(ok, "{target} on {} mutated by {mutations:?}", path.display());
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz target `{target}`: {e}");
        }
    }
}
