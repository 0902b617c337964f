//! The packaged Lambda artifacts (`scripts/package-lambda`): each `bootstrap.zip` holds an
//! executable `bootstrap` ELF for its architecture whose versioned glibc needs stop at 2.34, the
//! glibc of Amazon Linux 2023 (`provided.al2023`).

use object::elf;
use object::read::elf::{ElfFile64, FileHeader};
use object::Endianness;
use std::io::Read;
use std::path::PathBuf;

/// The newest glibc symbol version Amazon Linux 2023 provides.
const MAX_GLIBC: (u32, u32) = (2, 34);

/// `PIXFRONT_LAMBDA_DIR` (default `target/lambda`; the test command packages with `--check` into
/// `target/lambda-check`).
fn artifact(arch: &str) -> PathBuf {
    let dir = std::env::var("PIXFRONT_LAMBDA_DIR").unwrap_or_else(|_| "target/lambda".into());
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("{dir}/{arch}/bootstrap.zip"))
}

/// Architectures the caller just packaged (`PIXFRONT_LAMBDA_ARCHS="x86_64 arm64"`): for those a
/// missing zip is a failure, not a skip.
fn required(arch: &str) -> bool {
    std::env::var("PIXFRONT_LAMBDA_ARCHS").is_ok_and(|v| v.split_whitespace().any(|a| a == arch))
}

/// The `bootstrap` entry of the zip, with its Unix permission bits.
fn bootstrap(zip_path: &std::path::Path) -> (Vec<u8>, Option<u32>) {
    let file = std::fs::File::open(zip_path).unwrap();
    let mut zip = zip::ZipArchive::new(file).expect("a zip archive");
    let mut entry = zip
        .by_name("bootstrap")
        .expect("the zip holds `bootstrap` at its root");
    let mode = entry.unix_mode();
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    (bytes, mode)
}

/// Every `GLIBC_x.y` version the ELF's dynamic symbols require (`.gnu.version_r`).
fn glibc_versions(elf_bytes: &[u8]) -> Vec<(u32, u32)> {
    let file = ElfFile64::<Endianness>::parse(elf_bytes).expect("a 64-bit ELF");
    let endian = file.endian();
    let sections = file.elf_header().sections(endian, elf_bytes).unwrap();
    let mut out = Vec::new();
    if let Some((mut verneeds, link)) = sections.gnu_verneed(endian, elf_bytes).unwrap() {
        let strings = sections.strings(endian, elf_bytes, link).unwrap();
        while let Some((verneed, mut auxs)) = verneeds.next().unwrap() {
            let _ = verneed;
            while let Some(aux) = auxs.next().unwrap() {
                let name = String::from_utf8_lossy(aux.name(endian, strings).unwrap()).into_owned();
                if let Some(v) = name.strip_prefix("GLIBC_") {
                    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
                    out.push((parts.next().unwrap_or(0), parts.next().unwrap_or(0)));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn check(arch: &str, machine: elf::Machine) {
    let path = artifact(arch);
    if !path.exists() {
        assert!(!required(arch), "{arch}: {} is absent", path.display());
        println!(
            "SKIPPED {arch}: {} is absent (run scripts/package-lambda)",
            path.display()
        );
        return;
    }
    let (bytes, mode) = bootstrap(&path);
    assert_eq!(&bytes[..4], b"\x7fELF", "{arch}: bootstrap is an ELF");
    let file = ElfFile64::<Endianness>::parse(&*bytes).unwrap();
    assert_eq!(
        file.elf_header().e_machine(file.endian()),
        machine,
        "{arch}: wrong machine"
    );
    if let Some(mode) = mode {
        assert!(
            mode & 0o111 != 0,
            "{arch}: bootstrap must be executable (mode {mode:o})"
        );
    }
    let versions = glibc_versions(&bytes);
    assert!(
        !versions.is_empty(),
        "{arch}: no GLIBC versions found; is it dynamically linked to glibc?"
    );
    let newest = *versions.last().unwrap();
    println!(
        "{arch}: {} bytes, needs GLIBC up to {}.{}",
        bytes.len(),
        newest.0,
        newest.1
    );
    assert!(
        newest <= MAX_GLIBC,
        "{arch}: needs GLIBC_{}.{} > {}.{} (Amazon Linux 2023): {versions:?}",
        newest.0,
        newest.1,
        MAX_GLIBC.0,
        MAX_GLIBC.1
    );
}

#[test]
fn x86_64_bootstrap_needs_at_most_glibc_2_34() {
    check("x86_64", elf::EM_X86_64);
}

#[test]
fn arm64_bootstrap_needs_at_most_glibc_2_34() {
    check("arm64", elf::EM_AARCH64);
}

#[test]
fn reads_versions_of_the_test_binary_itself() {
    // The checker must find versions in an ordinary glibc-linked binary, or the checks above
    // could pass vacuously.
    let me = std::fs::read(env!("CARGO_BIN_EXE_pixfront")).unwrap();
    let versions = glibc_versions(&me);
    assert!(versions.iter().any(|v| v.0 == 2), "{versions:?}");
}
