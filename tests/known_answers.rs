//! Known answers: `pdmp stats` and `pdmp diff` on reference dumps of heaps
//! whose contents the test knows.
//!
//! Three kinds of expectation: sizes computed by hand from the object sizes
//! of spec §8 for small heaps (so the check is not circular); the dumper's
//! own tally of what it placed, for random heaps; and retained sizes of
//! symbols computed here from the values they hold. For `diff`, two heaps
//! that differ in known ways must differ in exactly those ways.

use assert_cmd::Command;
use num_bigint::BigInt;
use pdmp::graph::Graph;
use pdmp::heap::{obarray_bucket, obarray_size, Heap};
use pdmp::pvec::PvecNumbering;
use pdmp::stats::{self, Context, Stats};
use pdmp::symbol::{SymbolNames, SymbolSlot};
use pdmp::value::{HashTableValue, LispString, Value};
use pdmp::writer::{write_dump_tallied, DumpOptions, Tally};
use proptest::prelude::*;

#[path = "common/random_values.rs"]
mod random_values;
use random_values::value;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bytes of a string's data in the cold region: its bytes, a NUL, padding
/// to the next 8-byte boundary.
fn data(len: usize) -> u64 {
    (len as u64 + 1).next_multiple_of(8)
}

const SYMBOL: u64 = 48;
const CONS: u64 = 16;
const STRING: u64 = 32;
const FLOAT: u64 = 8;
const HASH_TABLE: u64 = 128;
const BIGNUM: u64 = 24;
const SUBR_IMAGE: u64 = 48;

/// The reference runtime's built-in symbols: copied images in the
/// discardable region, with their names as dumped strings.
fn builtin_names() -> Vec<&'static str> {
    let symbols = pdmp::image::BUILTIN_SYMBOLS.iter().copied();
    symbols
        .chain(pdmp::image::BUILTIN_SUBRS.iter().map(|s| s.0))
        .collect()
}

struct Written {
    _dir: tempfile::TempDir,
    path: PathBuf,
    tally: Tally,
}

fn write(heap: &mut Heap, version: PvecNumbering) -> Written {
    let (bytes, _, tally) = write_dump_tallied(heap, &DumpOptions::new(version)).expect("dump");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{}.pdmp", version.name()));
    std::fs::write(&path, bytes).unwrap();
    Written {
        _dir: dir,
        path,
        tally,
    }
}

fn pdmp_json(args: &[&str], paths: &[&Path]) -> (i32, serde_json::Value) {
    let out = Command::cargo_bin("pdmp")
        .unwrap()
        .args(args)
        .args(paths)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

type Rows = BTreeMap<(String, String, Option<String>), (u64, u64)>;

/// The object rows of `pdmp stats --json` (header, tables and unaccounted
/// bytes aside) by region, kind and pvec type.
fn json_rows(json: &serde_json::Value) -> Rows {
    json["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !["header", "tables"].contains(&r["region"].as_str().unwrap()))
        .filter(|r| r["kind"] != "unaccounted")
        .map(|r| {
            (
                (
                    r["region"].as_str().unwrap().to_string(),
                    r["kind"].as_str().unwrap().to_string(),
                    r["pvec"].as_str().map(str::to_string),
                ),
                (r["count"].as_u64().unwrap(), r["bytes"].as_u64().unwrap()),
            )
        })
        .collect()
}

/// The same rows from the library's report.
fn report_rows(stats: &Stats) -> Rows {
    stats
        .by_type
        .iter()
        .filter(|r| !["header", "tables"].contains(&r.region) && r.kind != "unaccounted")
        .map(|r| {
            (
                (r.region.to_string(), r.kind.clone(), r.pvec.clone()),
                (r.count, r.bytes),
            )
        })
        .collect()
}

/// The dumper's tally as rows.
fn tally_rows(tally: &Tally, version: PvecNumbering) -> Rows {
    tally
        .placed
        .iter()
        .map(|((region, kind, pvec), p)| {
            let pvec = pvec.map(|n| version.type_name(n).unwrap().to_string());
            (
                (region.to_string(), kind.name().to_string(), pvec),
                (p.count, p.bytes),
            )
        })
        .collect()
}

fn row(region: &str, kind: &str, pvec: Option<&str>, count: u64, bytes: u64) -> Rows {
    BTreeMap::from([(
        (region.into(), kind.into(), pvec.map(Into::into)),
        (count, bytes),
    )])
}

/// Adds the rows every heap of the reference runtime has: the obarray
/// (127 buckets while there are few symbols), the hash list (28+), the
/// built-in symbols' images and names, and the subr images.
fn with_fixed_rows(mut rows: Rows, version: PvecNumbering, hash_tables: u64) -> Rows {
    let mut add = |r: Rows| {
        for (k, (c, b)) in r {
            let e = rows.entry(k).or_default();
            e.0 += c;
            e.1 += b;
        }
    };
    let builtins = builtin_names();
    let subrs = pdmp::image::BUILTIN_SUBRS.len() as u64;
    add(row(
        "hot",
        "vectorlike",
        Some("NORMAL_VECTOR"),
        1,
        8 + 127 * 8,
    ));
    if version != PvecNumbering::Emacs27 {
        add(row(
            "hot",
            "vectorlike",
            Some("NORMAL_VECTOR"),
            1,
            8 + 8 * hash_tables,
        ));
    }
    let n = builtins.len() as u64;
    add(row("hot", "string", None, n, n * STRING));
    add(row(
        "cold",
        "raw data",
        None,
        n,
        builtins.iter().map(|b| data(b.len())).sum(),
    ));
    add(row("discardable", "copied symbol", None, n, n * SYMBOL));
    add(row(
        "discardable",
        "copied subr",
        Some("SUBR"),
        subrs,
        subrs * SUBR_IMAGE,
    ));
    rows
}

/// Library analysis of a dump: the stats report and the retained size of
/// named symbols.
fn analyse(path: &Path, symbols: &[&str]) -> (Stats, Vec<u64>) {
    let file = pdmp::DumpFile::open(path).unwrap();
    let dump = file.dump().unwrap();
    let graph = Graph::build(&dump).unwrap();
    let dominators = stats::dominators(&graph);
    let names = SymbolNames::new(&dump, &graph, None);
    let context = Context::new(&dump, &graph, &dominators, &names);
    let retained = symbols
        .iter()
        .map(|name| {
            let found = names.find(name);
            assert_eq!(found.len(), 1, "one symbol {name}");
            dominators.retained(found[0])
        })
        .collect();
    (context.stats(5), retained)
}

/// Checks the report against the tally: every row, the padding, strings.
fn check_against_tally(stats: &Stats, tally: &Tally, version: PvecNumbering) {
    assert_eq!(
        report_rows(stats),
        tally_rows(tally, version),
        "{}",
        version.name()
    );
    for region in &stats.regions {
        if let Some(&pad) = tally.padding.get(region.region) {
            assert_eq!(region.unaccounted, pad, "{} padding", region.region);
            assert_eq!(region.in_nodes + pad, region.size, "{}", region.region);
        }
    }
    let s = &stats.strings;
    assert_eq!(
        (s.unibyte.count, s.unibyte.bytes),
        (tally.unibyte.count, tally.unibyte.bytes)
    );
    assert_eq!(
        (s.multibyte.count, s.multibyte.bytes),
        (tally.multibyte.count, tally.multibyte.bytes)
    );
    assert_eq!(s.in_executable.count, 0);
    assert_eq!(stats.build_notes, Default::default());
    assert_eq!(stats.retention.unreachable.count, 0);
}

fn retained_json(path: &Path, symbol: &str) -> u64 {
    let (code, json) = pdmp_json(&["stats", "--json", "--symbol", symbol], &[path]);
    assert_eq!(code, 0);
    let matches = json["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{symbol}");
    matches[0]["symbol"]["retained"].as_u64().unwrap()
}

/// A symbol whose value is a list of four fresh strings (one multibyte).
#[test]
fn list_of_strings_by_hand() {
    let texts = ["a", "abcdefg", "abcdefgh", "héllo"];
    let builtins = builtin_names();
    for version in PvecNumbering::ALL {
        let mut heap = Heap::new();
        let list = Value::list(
            texts
                .iter()
                .map(|t| Value::Str(LispString::from_text(t)))
                .collect(),
        );
        heap.set_value("words", &list, true);
        let written = write(&mut heap, version);
        let (code, json) = pdmp_json(&["stats", "--json"], &[&written.path]);
        assert_eq!(code, 0);

        // By hand: the symbol `words`, its name, four conses, four strings
        // and their data.
        let mut expected = row("hot", "symbol", None, 1, SYMBOL);
        expected.extend(row("hot", "cons", None, 4, 4 * CONS));
        let strings = 1 + texts.len() as u64;
        expected.extend(row(
            "cold",
            "raw data",
            None,
            strings,
            data("words".len()) + texts.iter().map(|t| data(t.len())).sum::<u64>(),
        ));
        expected.extend(row("hot", "string", None, strings, strings * STRING));
        let expected = with_fixed_rows(expected, version, 0);
        assert_eq!(json_rows(&json), expected, "{}", version.name());

        // String data: "héllo" is the multibyte one (5 chars, 6 bytes).
        let unibyte_bytes: u64 = builtins.iter().map(|b| b.len() as u64).sum::<u64>() + 5 + 16;
        assert_eq!(
            json["strings"]["unibyte"],
            json!({"count": builtins.len() + 4, "bytes": unibyte_bytes})
        );
        assert_eq!(
            json["strings"]["multibyte"],
            json!({"count": 1, "bytes": 6})
        );

        // `words` retains itself, its name and the list with its strings.
        let retained = SYMBOL
            + STRING
            + data(5)
            + 4 * CONS
            + 4 * STRING
            + texts.iter().map(|t| data(t.len())).sum::<u64>();
        assert_eq!(retained, 320);
        assert_eq!(retained_json(&written.path, "words"), retained);

        // The dumper's tally says the same.
        let (stats, _) = analyse(&written.path, &[]);
        check_against_tally(&stats, &written.tally, version);
        assert_eq!(tally_rows(&written.tally, version), expected);
    }
}

/// A hash table, a bignum and a bool-vector: a hash table is a root of its
/// own where the layout has a hash list (Emacs 28+), and not in Emacs 27.
#[test]
fn hash_table_bignum_bool_vector_by_hand() {
    for version in PvecNumbering::ALL {
        let mut heap = Heap::new();
        let two_limbs = BigInt::from(1) << 70u32;
        heap.set_value(
            "table",
            &Value::HashTable(Box::new(HashTableValue {
                test: "equal".into(),
                weakness: None,
                data: vec![
                    (Value::Str(LispString::from_text("k")), Value::Float(1.5)),
                    (Value::Int(7), Value::Bignum(two_limbs)),
                ],
                purecopy: false,
            })),
            true,
        );
        heap.set_value("big", &Value::Bignum(-(BigInt::from(1) << 64u32)), true);
        heap.set_value(
            "bits",
            &Value::BoolVector {
                len: 65,
                bytes: vec![0xff; 9],
            },
            true,
        );
        let written = write(&mut heap, version);
        let (code, json) = pdmp_json(&["stats", "--json"], &[&written.path]);
        assert_eq!(code, 0);

        let mut expected = row("hot", "symbol", None, 3, 3 * SYMBOL);
        // Names of the three symbols and "k".
        expected.extend(row("hot", "string", None, 4, 4 * STRING));
        expected.extend(row(
            "cold",
            "raw data",
            None,
            // String data, then the limbs of the two bignums (2 each).
            4 + 2,
            data(5) + data(3) + data(4) + data(1) + 2 * 16,
        ));
        expected.extend(row("hot", "vectorlike", Some("HASH_TABLE"), 1, HASH_TABLE));
        expected.extend(row("hot", "vectorlike", Some("BIGNUM"), 2, 2 * BIGNUM));
        expected.extend(row("cold", "float", None, 1, FLOAT));
        // 65 bits: a header word, the bit count, two words of bits.
        expected.extend(row("cold", "vectorlike", Some("BOOL_VECTOR"), 1, 32));
        let mut expected = with_fixed_rows(expected, version, 1);
        // The key-and-value vector of the table: two pairs.
        let kv = 8 + 4 * 8;
        let e = expected
            .get_mut(&(
                "hot".into(),
                "vectorlike".into(),
                Some("NORMAL_VECTOR".into()),
            ))
            .unwrap();
        e.0 += 1;
        e.1 += kv;
        assert_eq!(json_rows(&json), expected, "{}", version.name());

        let table_contents = HASH_TABLE + kv + STRING + data(1) + FLOAT + BIGNUM + 16;
        let table_name = STRING + data(5);
        let (stats, retained) = analyse(&written.path, &["table", "big", "bits"]);
        if version == PvecNumbering::Emacs27 {
            assert_eq!(retained[0], SYMBOL + table_name + table_contents);
        } else {
            assert_eq!(retained[0], SYMBOL + table_name);
            // The table is a hash-list root retaining what it holds.
            let root = stats
                .retention
                .top_retainers
                .iter()
                .find(|r| r.pvec.as_deref() == Some("HASH_TABLE"))
                .expect("the table is a root");
            assert_eq!(root.roots, ["hash list"]);
            assert_eq!(root.retained, table_contents);
        }
        assert_eq!(retained[1], SYMBOL + STRING + data(3) + BIGNUM + 16);
        assert_eq!(retained[2], SYMBOL + STRING + data(4) + 32);
        assert_eq!(retained_json(&written.path, "table"), retained[0]);
        check_against_tally(&stats, &written.tally, version);
    }
}

// Random heaps: the report equals the dumper's tally, and each symbol
// retains exactly what its value holds.

/// Bytes `value` makes the symbol holding it retain: every object of its
/// tree, by the sizes of spec §8. Interned symbols are roots of their own;
/// so are hash tables where the layout has a hash list.
fn expected_retained(value: &Value, hash_list: bool) -> u64 {
    let all =
        |items: &[Value]| -> u64 { items.iter().map(|v| expected_retained(v, hash_list)).sum() };
    match value {
        Value::Int(_) | Value::Symbol(_) | Value::Subr(_) => 0,
        Value::Bignum(n) => BIGNUM + 8 * n.bits().div_ceil(64),
        Value::Float(_) => FLOAT,
        Value::Str(s) => STRING + data(s.bytes.len()),
        Value::Uninterned(name) => SYMBOL + STRING + data(name.len()),
        Value::List(items, tail) => {
            CONS * items.len() as u64 + all(items) + expected_retained(tail, hash_list)
        }
        Value::Vector(items)
        | Value::Record(items)
        | Value::ByteCode(items)
        | Value::CharTable(items) => 8 + 8 * items.len() as u64 + all(items),
        Value::SubCharTable(items) => 16 + 8 * (items.len() as u64 - 2) + all(&items[2..]),
        Value::BoolVector { len, .. } => 16 + 8 * len.div_ceil(64),
        Value::HashTable(_) if hash_list => 0,
        Value::HashTable(h) => {
            let pairs: u64 = h
                .data
                .iter()
                .map(|(k, v)| expected_retained(k, hash_list) + expected_retained(v, hash_list))
                .sum();
            HASH_TABLE + 8 + 16 * h.data.len() as u64 + pairs
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_heaps_report_what_the_dumper_placed(
        values in proptest::collection::vec(value(), 1..6)
    ) {
        for version in PvecNumbering::ALL {
            let mut heap = Heap::new();
            let names: Vec<String> = (0..values.len()).map(|i| format!("v{i}")).collect();
            for (name, v) in names.iter().zip(&values) {
                heap.set_value(name, v, true);
            }
            let written = write(&mut heap, version);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let (stats, retained) = analyse(&written.path, &names);
            check_against_tally(&stats, &written.tally, version);
            for (i, v) in values.iter().enumerate() {
                let name_bytes = STRING + data(names[i].len());
                let hash_list = version != PvecNumbering::Emacs27;
                prop_assert_eq!(
                    retained[i],
                    SYMBOL + name_bytes + expected_retained(v, hash_list),
                    "v{} = {} ({})", i, v.to_lisp_string(), version.name()
                );
            }
        }
    }
}

// `pdmp diff` of two known heaps.

/// Texts of the strings `keep` holds.
const KEPT: [&str; 3] = ["alpha", "beta", "gamma"];

fn str_value(text: &str) -> Value {
    Value::Str(LispString::from_text(text))
}

/// The old heap: `keep` (unchanged), `gone` (removed), `counter` and
/// `greeting` (values changed), `ratio` (unchanged).
fn old_heap() -> Heap {
    let mut heap = Heap::new();
    let kept = Value::list(KEPT.iter().map(|t| str_value(t)).collect());
    heap.set_value("keep", &kept, true);
    heap.set_value("gone", &str_value("removed text"), true);
    heap.set_value("counter", &Value::Int(1), true);
    heap.set_value("greeting", &str_value("hello world"), true);
    heap.set_value("ratio", &Value::Float(0.25), true);
    heap
}

/// The new heap: `added-first` comes first and holds a vector and a
/// string, `gone` is gone, `counter` is 2, `greeting` says "hello there".
fn new_heap() -> Heap {
    let mut heap = Heap::new();
    let added = Value::list(vec![
        Value::Vector(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
        str_value("new stuff"),
    ]);
    heap.set_value("added-first", &added, true);
    let kept = Value::list(KEPT.iter().map(|t| str_value(t)).collect());
    heap.set_value("keep", &kept, true);
    heap.set_value("counter", &Value::Int(2), true);
    heap.set_value("greeting", &str_value("hello there"), true);
    heap.set_value("ratio", &Value::Float(0.25), true);
    heap
}

/// Offset of the object in `symbol`'s value cell.
fn value_offset(path: &Path, symbol: &str) -> u32 {
    let file = pdmp::DumpFile::open(path).unwrap();
    let dump = file.dump().unwrap();
    let graph = Graph::build(&dump).unwrap();
    let names = SymbolNames::new(&dump, &graph, None);
    let s = names.find(symbol)[0];
    let site = u64::from(graph.node(s).offset) + SymbolSlot::Value.offset();
    graph.node(graph.edge_at(s, site).unwrap()).offset
}

/// Names of the bucket heads of a heap's obarray: each bucket's first
/// symbol in creation order (built-ins first), as the obarray chains them.
fn bucket_heads(heap: &Heap) -> Vec<Option<String>> {
    let builtins =
        (0..pdmp::image::builtin_count()).map(|i| pdmp::image::builtin_name(i).to_string());
    let interned =
        (0..heap.symbols.len()).map(|i| String::from_utf8_lossy(heap.symbols.name(i)).into_owned());
    let names: Vec<String> = builtins.chain(interned).collect();
    let size = obarray_size(names.len());
    let mut heads = vec![None; size];
    for name in names {
        let bucket = obarray_bucket(name.as_bytes(), size);
        heads[bucket].get_or_insert(name);
    }
    heads
}

fn figure(json: &serde_json::Value, section: &str, name: &str) -> i64 {
    json["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["section"] == section && f["name"] == name)
        .map_or(0, |f| f["change"].as_i64().unwrap())
}

#[test]
fn diff_of_two_known_heaps_is_their_difference() {
    for version in PvecNumbering::ALL {
        let (mut old, mut new) = (old_heap(), new_heap());
        let a = write(&mut old, version);
        let b = write(&mut new, version);
        let layout = version.name();

        // `keep` holds the same list in both, at another offset.
        assert_ne!(
            value_offset(&a.path, "keep"),
            value_offset(&b.path, "keep"),
            "{layout}: the unchanged list moved"
        );

        for path in [&a.path, &b.path] {
            let (code, json) = pdmp_json(&["diff", "--json"], &[path, path]);
            assert_eq!(code, 0, "{layout}: self-diff");
            assert_eq!(json["same_content"], true);
        }
        let (code, json) = pdmp_json(&["diff", "--json"], &[&a.path, &b.path]);
        assert_eq!(code, 1, "{layout}");
        assert_eq!(json["same_content"], false);
        assert_eq!(json["added"], json!(["added-first"]), "{layout}");
        assert_eq!(json["removed"], json!(["gone"]), "{layout}");
        let changed: Vec<(&str, &serde_json::Value)> = json["changed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), &c["changed"]))
            .collect();
        assert_eq!(
            changed,
            [
                ("counter", &json!(["value"])),
                ("greeting", &json!(["value"]))
            ],
            "{layout}"
        );
        // Built-in symbols are named from the dump: none is unnamed.
        assert_eq!(json["old_unnamed_symbols"], 0);
        let builtins = builtin_names().len() as u64;
        assert_eq!(json["old_symbols"], builtins + 5);
        assert_eq!(json["new_symbols"], builtins + 5);

        // The changed string, as a text diff.
        let strings = json["strings"].as_array().unwrap();
        assert_eq!(strings.len(), 1, "{layout}: {strings:?}");
        assert_eq!(strings[0]["symbol"], "greeting");
        let text = strings[0]["diff"].as_str().unwrap();
        assert!(text.contains("-hello world") && text.contains("+hello there"));

        // Objects found on one side only, by kind: the symbols that
        // changed or came and went, their names and strings, the new
        // vector, and the obarray where a bucket's first symbol differs.
        let obarray_changed = bucket_heads(&old) != bucket_heads(&new);
        let mut expected = vec![
            ("string", None, 3, 3 * STRING, 3, 3 * STRING),
            ("symbol", None, 3, 3 * SYMBOL, 3, 3 * SYMBOL),
            ("cons", None, 0, 0, 2, 2 * CONS),
        ];
        let (o, n) = if obarray_changed { (1, 1024) } else { (0, 0) };
        expected.push(("vectorlike", Some("NORMAL_VECTOR"), o, n, 1 + o, 32 + n));
        expected.sort();
        let mut objects: Vec<_> = json["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap(),
                    o["pvec"].as_str(),
                    o["old_only"].as_u64().unwrap(),
                    o["old_only_bytes"].as_u64().unwrap(),
                    o["new_only"].as_u64().unwrap(),
                    o["new_only_bytes"].as_u64().unwrap(),
                )
            })
            .collect();
        objects.sort();
        assert_eq!(objects, expected, "{layout}");

        // Figures: one symbol removed and one added, two conses and a
        // vector more; hot grows by those, cold by the longer name's data
        // ("gone" 8 bytes, "added-first" 16; "removed text" and "new stuff"
        // both 16).
        assert_eq!(figure(&json, "object_starts", "symbol"), 0);
        assert_eq!(figure(&json, "object_starts", "string"), 0);
        assert_eq!(figure(&json, "object_starts", "cons"), 2);
        assert_eq!(figure(&json, "object_starts", "vectorlike"), 1);
        assert_eq!(figure(&json, "object_starts", "float"), 0);
        assert_eq!(figure(&json, "vectorlike", "NORMAL_VECTOR"), 1);
        let hot = 2 * CONS + 32;
        let cold = data("added-first".len()) - data("gone".len());
        assert_eq!(figure(&json, "byte_counts", "hot"), hot as i64, "{layout}");
        let tally_bytes = |t: &Tally, region: &str| -> i64 {
            t.placed
                .iter()
                .filter(|((r, _, _), _)| *r == region)
                .map(|(_, p)| p.bytes as i64)
                .sum()
        };
        assert_eq!(
            tally_bytes(&b.tally, "hot") - tally_bytes(&a.tally, "hot"),
            hot as i64
        );
        assert_eq!(
            tally_bytes(&b.tally, "cold") - tally_bytes(&a.tally, "cold"),
            cold as i64
        );
        assert_eq!(
            figure(&json, "regions", "cold_heap"),
            cold as i64,
            "{layout}"
        );

        // Retained sizes: `gone` and `added-first` come and go whole.
        let retained: BTreeMap<&str, i64> = json["retained"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap(), r["change"].as_i64().unwrap()))
            .collect();
        let gone = SYMBOL + STRING + data(4) + STRING + data("removed text".len());
        let added = SYMBOL + STRING + data(11) + 2 * CONS + 32 + STRING + data(9);
        assert_eq!(retained.get("gone"), Some(&-(gone as i64)));
        assert_eq!(retained.get("added-first"), Some(&(added as i64)));
        assert_eq!(retained.get("keep"), None, "{layout}");
        assert_eq!(retained.get("counter"), None, "{layout}");
        assert!(json["retained"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| ["gone", "added-first"].contains(&r["name"].as_str().unwrap())));
    }
}
