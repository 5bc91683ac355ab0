//! The object graph and `pdmp stats` on real GNU Emacs dumps.
//!
//! Reference dumps with known contents (counts, bytes and retained sizes the
//! writer knows) are checked in `tests/known_answers.rs`; these tests check
//! what can be checked against Emacs's own dumps: the object table, region
//! sizes, Emacs's own symbol names and what `(require 'org)` adds.

mod common;

use assert_cmd::Command;
use pdmp::graph::{Graph, NodeKind};
use pdmp::stats::{self, Context};
use pdmp::symbol::SymbolNames;
use pdmp::{DumpFile, Layout};
use std::path::Path;

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

fn stats_json(args: &[&str], path: &Path) -> serde_json::Value {
    let out = pdmp().arg("stats").args(args).arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// Checks that hold for every sound dump Emacs writes.
fn check_graph_and_totals(path: &Path) {
    let file = DumpFile::open(path).unwrap();
    let dump = file.dump().unwrap();
    let graph = Graph::build(&dump).unwrap();

    // One object node per object_starts entry, at the same offsets and tags.
    let objects: Vec<_> = graph
        .nodes()
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Object(_)))
        .collect();
    let starts = dump.object_starts();
    assert_eq!(objects.len(), starts.len());
    for (node, start) in objects.iter().zip(starts.iter()) {
        assert_eq!(u64::from(node.offset), start.offset);
        assert_eq!(Some(node.kind), start.lisp_type().map(NodeKind::Object));
    }
    // §8 sizes never reach into the next object in a sound dump, and every
    // relocation lies in a node and lands in one.
    assert_eq!(graph.notes.overlapping_objects, 0, "{:?}", graph.notes);
    assert_eq!(graph.notes.unowned_sites, 0, "{:?}", graph.notes);
    assert_eq!(graph.notes.dangling_targets, 0, "{:?}", graph.notes);

    let dominators = stats::dominators(&graph);
    let names = SymbolNames::new(&dump, &graph, None);
    let context = Context::new(&dump, &graph, &dominators, &names);
    let report = context.stats(10);

    // Rows reconcile with the regions `pdmp info` shows, and the regions
    // with the file.
    let regions = dump.regions();
    let region = |name: &str| report.regions.iter().find(|r| r.region == name).unwrap();
    assert_eq!(region("hot").size, regions.hot.size);
    assert_eq!(region("discardable").size, regions.discardable.size);
    assert_eq!(region("cold").size, regions.cold_heap.size);
    assert_eq!(region("tables").size, regions.tables.size);
    assert_eq!(
        report.regions.iter().map(|r| r.size).sum::<u64>(),
        dump.size()
    );
    for r in &report.regions {
        let rows: u64 = report
            .by_type
            .iter()
            .filter(|row| row.region == r.region)
            .map(|row| row.bytes)
            .sum();
        assert_eq!(rows, r.size, "rows of region {}", r.region);
    }
    // Only the 4 pad bytes after a 100-byte header are unaccounted in hot;
    // in discardable, exactly the padding after the copied images.
    let pad = if dump.header().layout == Layout::Emacs28 {
        4
    } else {
        0
    };
    assert_eq!(region("hot").unaccounted, pad);
    assert_eq!(
        region("discardable").unaccounted,
        regions.discardable.size - regions.discardable_used
    );
    assert!(region("cold").unaccounted < 8);
    // The object rows count what object_starts lists.
    let object_rows: u64 = report
        .by_type
        .iter()
        .filter(|r| ["symbol", "cons", "string", "vectorlike", "float"].contains(&r.kind.as_str()))
        .map(|r| r.count)
        .sum();
    assert_eq!(object_rows, starts.len() as u64);
    let strings = starts.iter().filter(|s| s.type_bits == 4).count() as u64;
    assert_eq!(
        report.strings.unibyte.count + report.strings.multibyte.count,
        strings
    );

    // Retained sizes: the top-level subtrees partition the reachable bytes.
    let top_level: u64 = (0..graph.len() as u32)
        .filter(|&i| dominators.idom(i) == Some(None))
        .map(|i| dominators.retained(i))
        .sum();
    assert_eq!(top_level, report.retention.reachable.bytes);
    assert!(report.retention.roots_emacs_reloc > 0);
    assert!(report.retention.roots_copied > 0);
    // Every relocation phase wrote pages; EARLY the most.
    assert!(report.phases[0].pages_4k > 0);
}

#[test]
fn distribution_dump_counts_and_bytes_reconcile() {
    let Some(path) = common::distribution_dump() else {
        return;
    };
    check_graph_and_totals(&path);
}

#[test]
fn fresh_dump_counts_and_bytes_reconcile() {
    let Some(dump) = common::vanilla_dump() else {
        return;
    };
    check_graph_and_totals(&dump.path);
}

#[test]
fn built_in_symbol_names_come_from_the_executable() {
    let Some(path) = common::distribution_dump() else {
        return;
    };
    let emacs = common::emacs().unwrap();
    let out = pdmp()
        .args(["stats", "--symbol", "car", "--json", "--emacs"])
        .arg(&emacs)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema_version"], 1);
    let matches = json["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0]["symbol"]["name"], "car");
    assert_eq!(matches[0]["symbol"]["kind"], "copied symbol");
    assert!(json["executable"]["emacs_basis"].as_u64().unwrap() > 0);

    // Every symbol of the dump gets a name with the executable.
    let file = DumpFile::open(&path).unwrap();
    let dump = file.dump().unwrap();
    let graph = Graph::build(&dump).unwrap();
    let exe = pdmp::executable::Executable::open(&emacs, &dump).unwrap();
    let names = SymbolNames::new(&dump, &graph, Some(&exe));
    let symbols: Vec<u32> = (0..graph.len() as u32)
        .filter(|&i| graph.node(i).kind.is_symbol())
        .collect();
    let named: Vec<String> = symbols.iter().filter_map(|&i| names.name(i)).collect();
    assert_eq!(named.len(), symbols.len());
    for expected in [
        "nil",
        "t",
        "car",
        "defun",
        "emacs-version",
        "auto-mode-alist",
    ] {
        assert!(named.iter().any(|n| n == expected), "no symbol {expected}");
    }

    // An executable that did not write the dump is refused with exit 2.
    let out = pdmp()
        .args(["stats", "--emacs", "/bin/sh"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("pdmp: error: /bin/sh: ") && err.contains("fingerprint"));
}

#[test]
fn org_symbols_are_among_the_top_retainers_after_require_org() {
    let Some(org) = common::fresh_dump("org", "(require 'org)") else {
        return;
    };
    let json = stats_json(&["--json", "--top", "20"], &org.path);
    let top: Vec<&str> = json["retention"]["top_symbols"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        top.iter().filter(|n| n.starts_with("org-")).count() >= 1,
        "no org symbol among {top:?}"
    );
    // In a dump without org, no org symbol at all.
    let vanilla = common::vanilla_dump().unwrap();
    let plain = stats_json(&["--json", "--top", "20"], &vanilla.path);
    assert!(plain["retention"]["top_symbols"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["name"].as_str().unwrap_or("").starts_with("org-")));

    // `--symbol org-mode`: a vanilla dump holds only its autoload; after
    // `(require 'org)` its function retains the compiled definition.
    let retained = |path: &Path| {
        let json = stats_json(&["--json", "--symbol", "org-mode"], path);
        let symbol = &json["matches"][0]["symbol"];
        assert_eq!(symbol["name"], "org-mode");
        (
            symbol["retained"].as_u64().unwrap(),
            symbol["via"][0]["slot"].as_str().unwrap().to_string(),
        )
    };
    let (loaded, slot) = retained(&org.path);
    let (autoload, _) = retained(&vanilla.path);
    assert_eq!(slot, "function");
    assert!(
        loaded > 1000 && loaded > 4 * autoload,
        "{loaded} vs {autoload}"
    );
    let out = pdmp()
        .args(["stats", "--symbol", "no-such-symbol-anywhere"])
        .arg(&vanilla.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn csv_has_a_header_and_reconciling_rows() {
    let Some(path) = common::distribution_dump() else {
        return;
    };
    let out = pdmp().args(["stats", "--csv"]).arg(&path).output().unwrap();
    assert!(out.status.success());
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["section", "region", "kind", "pvec", "name", "offset", "count", "bytes", "retained"]
    );
    let total: u64 = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[0] == "by_type")
        .map(|r| r[7].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn broken_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pdmp");
    std::fs::write(&empty, b"").unwrap();
    let out = pdmp().arg("stats").arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pdmp: error: "));

    // A real dump with its object_starts table scrambled: a named error.
    let Some(path) = common::distribution_dump() else {
        return;
    };
    let mut bytes = std::fs::read(&path).unwrap();
    let dump = pdmp::Dump::parse(&bytes).unwrap();
    let table = dump.object_starts().offset as usize;
    bytes[table..table + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let broken = dir.path().join("broken.pdmp");
    std::fs::write(&broken, &bytes).unwrap();
    let out = pdmp().arg("stats").arg(&broken).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("object_starts entry at offset"), "{err}");
}
