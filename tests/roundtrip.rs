//! Property test: random heaps, dumped in every layout, loaded by mmap and
//! by read, come back structurally equal.

use num_bigint::BigInt;
use pdmp::heap::Heap;
use pdmp::loader::{LoadOptions, LoadedHeap};
use pdmp::pvec::PvecNumbering;
use pdmp::value::{HashTableValue, LispString, Value, MOST_POSITIVE_FIXNUM};
use pdmp::writer::{write_dump, DumpOptions};
use proptest::prelude::*;

fn symbol_name() -> impl Strategy<Value = String> {
    "[a-z:][a-z0-9-]{0,8}".prop_filter("not a built-in marker", |s| s != "unbound")
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-(1i64 << 61)..=MOST_POSITIVE_FIXNUM).prop_map(Value::Int),
        (any::<i128>(), any::<u64>()).prop_map(|(a, b)| {
            Value::integer(BigInt::from(a) * BigInt::from(b) + BigInt::from(1u128 << 100))
        }),
        any::<f64>().prop_map(Value::Float),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(|bytes| Value::Str(LispString {
            bytes,
            multibyte: false
        })),
        ".{0,12}".prop_map(|s: String| Value::Str(LispString::from_text(&s))),
        symbol_name().prop_map(Value::Symbol),
        symbol_name().prop_map(Value::Uninterned),
        Just(Value::nil()),
        Just(Value::Subr("car".into())),
        (0u64..200).prop_flat_map(|len| {
            proptest::collection::vec(any::<u8>(), len.div_ceil(8) as usize).prop_map(
                move |mut bytes| {
                    if len % 8 != 0 {
                        if let Some(last) = bytes.last_mut() {
                            *last &= (1u8 << (len % 8)) - 1;
                        }
                    }
                    Value::BoolVector { len, bytes }
                },
            )
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            (
                proptest::collection::vec(inner.clone(), 1..6),
                inner.clone()
            )
                .prop_map(|(items, tail)| Value::list_with_tail(items, tail)),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Vector),
            proptest::collection::vec(inner.clone(), 1..6).prop_map(Value::Record),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::ByteCode),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::CharTable),
            (
                1i64..4,
                0i64..1000,
                proptest::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(d, m, rest)| {
                    let mut items = vec![Value::Int(d), Value::Int(m)];
                    items.extend(rest);
                    Value::SubCharTable(items)
                }),
            (
                proptest::collection::vec((inner.clone(), inner), 0..5),
                any::<bool>()
            )
                .prop_map(|(data, purecopy)| Value::HashTable(Box::new(
                    HashTableValue {
                        test: "equal".into(),
                        weakness: None,
                        data,
                        purecopy,
                    }
                ))),
        ]
    })
}

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
