//! Property test: random heaps, dumped in every layout, loaded by mmap and
//! by read, come back structurally equal.

use pdmp::heap::Heap;
use pdmp::loader::{LoadOptions, LoadedHeap};
use pdmp::pvec::PvecNumbering;
use pdmp::value::{LispString, Value};
use pdmp::writer::{write_dump, DumpOptions};
use proptest::prelude::*;

#[path = "common/random_values.rs"]
mod random_values;
use random_values::value;

fn check(values: &[Value], version: PvecNumbering, preferred: Option<u64>) {
    let mut heap = Heap::new();
    for (i, v) in values.iter().enumerate() {
        heap.set_value(&format!("v{i}"), v, true);
    }
    let mut options = DumpOptions::new(version);
    options.preferred_base = preferred;
    let (bytes, _) = write_dump(&mut heap, &options).expect("dump");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("heap.pdmp");
    std::fs::write(&path, &bytes).expect("write");
    // Every dump parses with the format library.
    let file = pdmp::DumpFile::open(&path).expect("open");
    let dump = file.dump().expect("parse");
    assert_eq!(dump.header().layout, version.layout());
    assert_eq!(dump.pvec_numbering().numbering, Some(version));
    // ... and passes every invariant of spec §11, pre-relocated or not.
    let verification = pdmp::verify::verify(&dump);
    let failed: Vec<_> = verification
        .checks
        .iter()
        .filter(|c| c.status == pdmp::verify::Status::Fail)
        .collect();
    assert!(
        failed.is_empty(),
        "{} {preferred:?}: {failed:#?}",
        version.name()
    );
    assert_eq!(
        verification.pre_relocated.map(|p| p.bases.dump_base),
        preferred
    );
    for mmap in [true, false] {
        let loaded = LoadedHeap::load(
            &path,
            &LoadOptions {
                mmap,
                ..LoadOptions::default()
            },
        )
        .expect("load");
        for (i, v) in values.iter().enumerate() {
            let got = loaded.symbol_value(&format!("v{i}")).expect("decode");
            assert_eq!(
                got,
                Some(Some(v.clone())),
                "v{i} ({}, mmap {mmap})",
                version.name()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_heaps_survive_dump_and_load(values in proptest::collection::vec(value(), 1..8)) {
        for version in PvecNumbering::ALL {
            check(&values, version, None);
        }
        check(&values, PvecNumbering::Emacs30, Some(0x7f10_0000_0000));
    }
}

#[test]
fn isolates_load_one_dump_in_parallel() {
    let value = Value::list(vec![
        Value::Int(1),
        Value::Str(LispString::from_text("two")),
    ]);
    let mut heap = Heap::new();
    heap.set_value("shared", &value, true);
    let (bytes, _) = write_dump(&mut heap, &DumpOptions::new(PvecNumbering::Emacs28)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iso.pdmp");
    std::fs::write(&path, bytes).unwrap();
    let heaps: Vec<LoadedHeap> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let heap = LoadedHeap::load(&path, &LoadOptions::default()).unwrap();
                    assert_eq!(
                        heap.symbol_value("shared").unwrap(),
                        Some(Some(value.clone()))
                    );
                    heap
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let bases: Vec<u64> = heaps.iter().map(|h| h.report.dump_base).collect();
    let mut distinct = bases.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        4,
        "each isolate has its own heap: {bases:x?}"
    );
}

#[test]
fn preferred_base_skips_relocation_only_when_free() {
    let mut heap = Heap::new();
    heap.set_value(
        "x",
        &Value::list(vec![Value::Float(1.5), Value::sym("y")]),
        true,
    );
    let base = 0x7e20_0000_0000;
    let mut options = DumpOptions::new(PvecNumbering::Emacs29);
    options.preferred_base = Some(base);
    let (bytes, _) = write_dump(&mut heap, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pref.pdmp");
    std::fs::write(&path, bytes).unwrap();
    let first = LoadedHeap::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(first.report.dump_base, base);
    assert_eq!(first.report.dump_relocs_applied, 0);
    // Nothing to write: the hot part stays mapped from the file.
    assert!(!first.report.hot_read);
    // The address is taken now: the second heap relocates and still decodes.
    let second = LoadedHeap::load(&path, &LoadOptions::default()).unwrap();
    assert_ne!(second.report.dump_base, base);
    assert!(second.report.dump_relocs_applied > 0);
    assert!(second.report.hot_read);
    for h in [&first, &second] {
        assert_eq!(
            h.symbol_value("x").unwrap(),
            Some(Some(Value::list(vec![Value::Float(1.5), Value::sym("y")])))
        );
    }
}
