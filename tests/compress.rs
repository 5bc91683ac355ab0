//! `pdmp compress` / `decompress` and the container library on real GNU
//! Emacs dumps: exact round trips, transparent input, and corrupted or
//! truncated containers rejected without panic or partial output.

mod common;

use assert_cmd::Command;
use pdmp::container::{self, ChecksumKind, Options, Transform};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// Compresses `dump` with the CLI, decompresses the result, and checks that
/// the bytes come back exactly and that the relocation transform was used.
fn cli_round_trip(dump: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("d.pdmp.pdmpz");
    let back = dir.path().join("d.pdmp");
    let report = json(
        &pdmp()
            .args(["compress", "--json", "-o"])
            .arg(&packed)
            .arg(dump)
            .output()
            .unwrap(),
    );
    let original = std::fs::read(dump).unwrap();
    let container = std::fs::read(&packed).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["transform"], "relocation");
    assert_eq!(report["original_size"], original.len() as u64);
    assert_eq!(report["compressed_size"], container.len() as u64);
    // Plain zstd -19 reaches about 5.5x on these dumps; the transform must beat it.
    let ratio = report["ratio"].as_f64().unwrap();
    assert!(ratio > 6.0, "ratio {ratio}");

    let report = json(
        &pdmp()
            .arg("decompress")
            .arg("--json")
            .arg(&packed)
            .output()
            .unwrap(),
    );
    assert_eq!(report["output"], back.display().to_string());
    assert!(std::fs::read(&back).unwrap() == original, "bytes differ");
}

#[test]
fn distribution_dump_round_trips_bit_exact() {
    let Some(dump) = common::distribution_dump() else {
        return;
    };
    cli_round_trip(&dump);
}

#[test]
fn fresh_dumps_round_trip_bit_exact() {
    let Some(vanilla) = vanilla() else {
        return;
    };
    cli_round_trip(vanilla);
    let org = common::fresh_dump("with-cl-lib", "(require 'cl-lib) (require 'subr-x)").unwrap();
    cli_round_trip(&org.path);
}

#[test]
fn info_reads_a_container_as_the_dump_it_holds() {
    let Some(dump) = vanilla() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("v.pdmpz");
    pdmp()
        .args(["compress", "--fast", "-o"])
        .arg(&packed)
        .arg(dump)
        .assert()
        .success();
    let info = |path: &Path| {
        let mut v = json(&pdmp().args(["info", "--json"]).arg(path).output().unwrap());
        v.as_object_mut().unwrap().remove("file");
        v
    };
    assert_eq!(info(dump), info(&packed));
}

#[test]
fn bytes_that_are_not_a_dump_are_stored_plain_and_round_trip() {
    let text = b"not a dump at all, just some text\n".repeat(1000);
    let packed = container::compress(&text, Options::default(), &|_| ()).unwrap();
    assert_eq!(packed.transform, Transform::None);
    assert_eq!(container::decompress(&packed.bytes).unwrap(), text);
    // A dump whose relocation table is broken also falls back, exactly.
    let Some(dump) = vanilla() else {
        return;
    };
    let mut data = std::fs::read(dump).unwrap();
    let table = pdmp::Dump::parse(&data).unwrap().header().tables_start() as usize;
    // Two relocations at the same site: the transform refuses to rewrite it.
    let first: [u8; 4] = data[table..table + 4].try_into().unwrap();
    data[table + 4..table + 8].copy_from_slice(&first);
    let packed = container::compress(&data, Options { fast: true }, &|_| ()).unwrap();
    assert_eq!(packed.transform, Transform::None);
    assert!(container::decompress(&packed.bytes).unwrap() == data);
}

#[test]
fn truncated_container_is_rejected_naming_field_and_offset() {
    let Some(dump) = vanilla() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("v.pdmpz");
    std::fs::write(&packed, &vanilla_container().1[..5000]).unwrap();
    let out = dir.path().join("v.pdmp");
    let assert = pdmp().arg("decompress").arg(&packed).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.starts_with("pdmp: error: "), "{stderr}");
    assert!(
        stderr.contains("truncated") && stderr.contains("offset"),
        "{stderr}"
    );
    assert!(!out.exists(), "no partial output");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "no temp file left"
    );
    // The input and a raw dump given to decompress are rejected too.
    let assert = pdmp()
        .args(["decompress", "-o"])
        .arg(&out)
        .arg(dump)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("field `magic` at offset 0"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn corrupted_checksum_is_rejected() {
    let mut bytes = vanilla_container().1.clone();
    let header = container::Header::parse(&bytes).unwrap();
    assert_eq!(header.version, container::VERSION);
    assert_eq!(header.checksum_kind, ChecksumKind::Xxh3_128);
    bytes[40] ^= 1;
    let error = container::decompress(&bytes).unwrap_err().to_string();
    assert!(
        error.contains("field `checksum` (xxh3-128) at offset 32"),
        "{error}"
    );
    // The padding after a 16-byte checksum must stay zero.
    let mut bytes = vanilla_container().1.clone();
    bytes[60] = 1;
    let error = container::decompress(&bytes).unwrap_err().to_string();
    assert!(error.contains("the rest must be zero"), "{error}");
}

/// The container's header rewritten with another version or checksum: the
/// streams stay as they are.
fn rewrite_header(v2: &[u8], version: u16, sha256: bool) -> Vec<u8> {
    use sha2::Digest;
    let original = &vanilla_container().0;
    let digest: [u8; 32] = sha2::Sha256::digest(original).into();
    let mut out = v2[..24].to_vec();
    out[8..10].copy_from_slice(&version.to_le_bytes());
    if version == 2 {
        out.push(if sha256 { 1 } else { 2 });
        out.extend_from_slice(&[0; 7]);
    }
    out.extend_from_slice(if sha256 { &digest } else { &v2[32..64] });
    out.extend_from_slice(&v2[container::HEADER_SIZE..]);
    out
}

#[test]
fn version_1_and_sha256_containers_are_still_read() {
    let (original, packed) = vanilla_container();
    let v1 = rewrite_header(packed, 1, true);
    let header = container::Header::parse(&v1).unwrap();
    assert_eq!(
        (header.version, header.checksum_kind),
        (1, ChecksumKind::Sha256)
    );
    assert!(container::decompress(&v1).unwrap() == *original);
    let mut bad = v1.clone();
    bad[24] ^= 1;
    let error = container::decompress(&bad).unwrap_err().to_string();
    assert!(error.contains("(sha256) at offset 24"), "{error}");

    let v2_sha = rewrite_header(packed, 2, true);
    assert!(container::decompress(&v2_sha).unwrap() == *original);
    let mut bad = v2_sha.clone();
    bad[63] ^= 1;
    let error = container::decompress(&bad).unwrap_err().to_string();
    assert!(error.contains("(sha256) at offset 32"), "{error}");

    // The CLI too, reporting which checksum it checked.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.pdmpz");
    std::fs::write(&path, &v1).unwrap();
    let report = json(
        &pdmp()
            .args(["decompress", "--json"])
            .arg(&path)
            .output()
            .unwrap(),
    );
    assert_eq!(report["checksum_kind"], "sha256");
    assert!(std::fs::read(dir.path().join("old")).unwrap() == *original);

    let mut future = packed.clone();
    future[8] = 3;
    let error = container::decompress(&future).unwrap_err().to_string();
    assert!(
        error.contains("field `version` at offset 8 is 3"),
        "{error}"
    );
}

#[test]
fn decompress_replaces_an_existing_output_only_with_force() {
    let (original, packed) = vanilla_container();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("v.pdmp.pdmpz");
    let out = dir.path().join("v.pdmp");
    std::fs::write(&input, packed).unwrap();
    std::fs::write(&out, b"old contents").unwrap();
    pdmp().arg("decompress").arg(&input).assert().code(2);
    assert_eq!(std::fs::read(&out).unwrap(), b"old contents");
    pdmp()
        .args(["decompress", "--force"])
        .arg(&input)
        .assert()
        .success();
    assert!(std::fs::read(&out).unwrap() == *original);
    // Only the input and the output: the old file went with the temporary name.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// The vanilla dump, made once per run (tests run on parallel threads and
/// `common::fresh_dump` names its partial file by process only).
fn vanilla() -> Option<&'static PathBuf> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    CELL.get_or_init(|| common::vanilla_dump().map(|d| d.path))
        .as_ref()
}

/// The vanilla dump and its container (fast level), made once per run.
fn vanilla_container() -> &'static (Vec<u8>, Vec<u8>) {
    static CELL: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    CELL.get_or_init(|| {
        let dump = vanilla().expect("Emacs for the vanilla dump");
        let data = std::fs::read(dump).unwrap();
        let packed = container::compress(&data, Options { fast: true }, &|_| ()).unwrap();
        assert_eq!(packed.transform, Transform::Relocation);
        (data, packed.bytes)
    })
}

fn have_emacs() -> bool {
    common::emacs().is_some()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Flipping bytes anywhere in a container gives an error or the exact
    /// original, never other bytes and never a panic.
    #[test]
    fn mutated_container_is_rejected_or_exact(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4)
    ) {
        if !have_emacs() {
            return Ok(());
        }
        let (original, packed) = vanilla_container();
        let mut bytes = packed.clone();
        for (index, mask) in flips {
            let i = index.index(bytes.len());
            bytes[i] ^= mask;
        }
        match container::decompress(&bytes) {
            Ok(data) => prop_assert!(data == *original, "wrong output accepted"),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Mutations in the header region hit the field checks rather than zstd.
    #[test]
    fn mutated_header_is_rejected_or_exact(at in 0usize..200, mask in 1u8..=255) {
        if !have_emacs() {
            return Ok(());
        }
        let (original, packed) = vanilla_container();
        let mut bytes = packed.clone();
        bytes[at] ^= mask;
        if let Ok(data) = container::decompress(&bytes) {
            prop_assert!(data == *original);
        }
    }

    /// Every truncation is an error.
    #[test]
    fn truncated_container_is_rejected(len in any::<prop::sample::Index>()) {
        if !have_emacs() {
            return Ok(());
        }
        let packed = &vanilla_container().1;
        let len = len.index(packed.len());
        prop_assert!(container::decompress(&packed[..len]).is_err());
    }

    /// Random dumps (a real dump with random words overwritten, tables
    /// included): the transform either declines or inverts exactly.
    #[test]
    fn transform_of_a_randomised_dump_inverts_exactly(
        writes in prop::collection::vec((any::<prop::sample::Index>(), any::<u64>()), 1..64)
    ) {
        if !have_emacs() {
            return Ok(());
        }
        let mut data = vanilla_container().0.clone();
        let words = data.len() / 8;
        for (index, value) in writes {
            let at = index.index(words) * 8;
            data[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        if let Some(streams) = pdmp::transform::split(&data) {
            let back = pdmp::transform::join(&streams);
            prop_assert!(back.is_ok_and(|b| b == data));
        }
    }
}
