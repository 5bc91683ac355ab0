//! `pdmp diff` on real dumps: self-diffs, re-dumps, org, a modified string,
//! growth limits.

mod common;

use assert_cmd::Command;
use pdmp::graph::{Graph, NodeKind};
use pdmp::lisp::LispType;
use pdmp::symbol::{lisp_string, StringData, SymbolNames, SymbolSlot};
use std::path::Path;

fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::cargo_bin("pdmp")
        .unwrap()
        .arg("diff")
        .arg("--json")
        .args(extra)
        .arg(old)
        .arg(new)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).expect("one JSON document");
    (out.status.code().unwrap(), json)
}

fn figure(json: &serde_json::Value, section: &str, name: &str) -> i64 {
    json["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["section"] == section && f["name"] == name)
        .unwrap_or_else(|| panic!("no figure {section}.{name}"))["change"]
        .as_i64()
        .unwrap()
}

#[test]
fn a_dump_compared_with_itself_is_the_same() {
    let Some(dump) = common::distribution_dump() else {
        return;
    };
    let (code, json) = diff(&dump, &dump, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["identical_bytes"], true);
    assert_eq!(json["same_content"], true);
    for list in [
        "added", "removed", "changed", "strings", "objects", "retained",
    ] {
        assert_eq!(json[list].as_array().unwrap().len(), 0, "{list}");
    }
    assert!(json["new_symbols"].as_u64().unwrap() > 10_000);
    assert!(json["figures"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["change"] == 0));
}

#[test]
fn vanilla_redump_against_distribution_dump() {
    let (Some(dist), Some(fresh)) = (common::distribution_dump(), common::vanilla_dump()) else {
        return;
    };
    let (code, json) = diff(&dist, &fresh.path, &[]);
    assert_eq!(code, 1);
    let size_change = std::fs::metadata(&fresh.path).unwrap().len() as i64
        - std::fs::metadata(&dist).unwrap().len() as i64;
    assert_eq!(figure(&json, "file", "size"), size_change);
    // The region deltas account for the whole size change.
    let parts = figure(&json, "byte_counts", "header")
        + figure(&json, "byte_counts", "hot")
        + figure(&json, "regions", "discardable")
        + figure(&json, "byte_counts", "cold");
    assert_eq!(parts, size_change);
    // Growth limits: only growth beyond the limit fails.
    let grown_percent = size_change as f64 * 100.0 / std::fs::metadata(&dist).unwrap().len() as f64;
    assert!(grown_percent > 0.0, "the re-dump is larger");
    let above = format!("{}", grown_percent * 2.0);
    let below = format!("{}", grown_percent / 2.0);
    assert_eq!(diff(&dist, &fresh.path, &["--fail-on-growth", &above]).0, 0);
    assert_eq!(diff(&dist, &fresh.path, &["--fail-on-growth", &below]).0, 1);
    let bytes_above = (size_change + 1).to_string();
    let bytes_below = (size_change - 1).to_string();
    assert_eq!(
        diff(&dist, &fresh.path, &["--max-growth", &bytes_above]).0,
        0
    );
    assert_eq!(
        diff(&dist, &fresh.path, &["--max-growth", &bytes_below]).0,
        1
    );
    // Shrinking never trips a growth limit.
    assert_eq!(diff(&fresh.path, &dist, &["--max-growth", "0"]).0, 0);
}

#[test]
fn diff_of_a_broken_file_is_trouble() {
    let Some(dist) = common::distribution_dump() else {
        return;
    };
    let out = Command::cargo_bin("pdmp")
        .unwrap()
        .args(["diff", "/dev/null"])
        .arg(&dist)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("pdmp: error: /dev/null: empty file"));
}

fn names(json: &serde_json::Value, list: &str) -> Vec<String> {
    json[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn changed<'j>(json: &'j serde_json::Value, name: &str) -> Option<&'j serde_json::Value> {
    json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
}

#[test]
fn org_against_the_distribution_dump() {
    let (Some(dist), Some(org)) = (
        common::distribution_dump(),
        common::fresh_dump("org", "(require 'org)"),
    ) else {
        return;
    };
    let (code, json) = diff(&dist, &org.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(json["same_content"], false);
    let added = names(&json, "added");
    for name in [
        "org-element-parse-buffer",
        "org-entities",
        "org-agenda-files",
    ] {
        assert!(added.iter().any(|a| a == name), "{name} added");
    }
    assert!(added.len() > 3000, "org adds thousands of symbols");
    assert!(names(&json, "removed").is_empty());
    // `org-mode` is an autoload in the distribution dump: its function changed.
    let org_mode = changed(&json, "org-mode").expect("org-mode changed");
    assert!(org_mode["changed"]
        .as_array()
        .unwrap()
        .contains(&"function".into()));
    assert!(org_mode["new_retained"].as_u64() > org_mode["old_retained"].as_u64());
    // Symbols org does not touch are not reported.
    for name in [
        "emacs-lisp-mode",
        "find-file",
        "kill-emacs-hook",
        "text-mode",
    ] {
        assert!(changed(&json, name).is_none(), "{name} unchanged");
    }
    // The largest retained growth is an org symbol.
    let top = &json["retained"][0];
    assert!(top["name"].as_str().unwrap().starts_with("org"), "{top}");
    assert!(top["change"].as_i64().unwrap() > 100_000);
    // The figure deltas add up to the file-size change.
    let size_change = std::fs::metadata(&org.path).unwrap().len() as i64
        - std::fs::metadata(&dist).unwrap().len() as i64;
    assert_eq!(figure(&json, "file", "size"), size_change);
    let parts = figure(&json, "byte_counts", "header")
        + figure(&json, "byte_counts", "hot")
        + figure(&json, "regions", "discardable")
        + figure(&json, "byte_counts", "cold");
    assert_eq!(parts, size_change);
}

#[test]
fn two_vanilla_redumps_differ_only_where_emacs_state_differs() {
    // Two re-dumps by separate Emacs runs: the `--eval` argument (part of
    // `command-line-args`) has another length, so offsets after it move.
    let (Some(a), Some(b)) = (
        common::vanilla_dump(),
        common::fresh_dump("vanilla-again", "(ignore)"),
    ) else {
        return;
    };
    let (code, json) = diff(&a.path, &b.path, &[]);
    assert_eq!(json["identical_bytes"], false);
    assert!(figure(&json, "file", "size") != 0, "offsets moved");
    // No symbol defined in Lisp differs: moved objects are not changes.
    assert!(names(&json, "added").is_empty());
    assert!(names(&json, "removed").is_empty());
    assert_eq!(
        json["changed"].as_array().unwrap().len(),
        0,
        "{}",
        json["changed"]
    );
    // What differs is a handful of objects (the command line, times).
    let objects: u64 = json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["old_only"].as_u64().unwrap() + o["new_only"].as_u64().unwrap())
        .sum();
    assert!(objects > 0 && objects < 200, "{objects} objects differ");
    assert_eq!(code, 1, "genuinely different content");
}

#[test]
fn vanilla_redump_reports_few_symbol_changes() {
    let (Some(dist), Some(fresh)) = (common::distribution_dump(), common::vanilla_dump()) else {
        return;
    };
    let (_, json) = diff(&dist, &fresh.path, &[]);
    let symbols = json["old_symbols"].as_u64().unwrap();
    let changed = json["changed"].as_array().unwrap().len() as u64;
    // Startup state (buffer-locals of *scratch*, paths, the command line)
    // differs; native functions whose units moved directory do not.
    assert!(changed * 20 < symbols, "{changed} of {symbols} changed");
    for name in ["car", "regexp-quote", "emacs-lisp-mode", "org-mode"] {
        assert!(
            self::changed(&json, name).is_none(),
            "{name} reported changed"
        );
    }
}

#[test]
fn a_changed_string_is_shown_as_a_text_diff() {
    let Some(dist) = common::distribution_dump() else {
        return;
    };
    let mut bytes = std::fs::read(&dist).unwrap();
    // With the library: an interned symbol whose value is a string of
    // letters that nothing else points at.
    let (name, old_text, data) = {
        let dump = pdmp::Dump::parse(&bytes).unwrap();
        let graph = Graph::build(&dump).unwrap();
        let names = SymbolNames::new(&dump, &graph, None);
        let (_, targets) = graph.csr();
        let mut referrers = vec![0u32; graph.len()];
        for &t in targets {
            referrers[t as usize] += 1;
        }
        (0..graph.len() as u32)
            .filter(|&i| graph.node(i).kind == NodeKind::Object(LispType::Symbol))
            .filter(|&i| dump.bytes()[graph.node(i).offset as usize] >> 6 == 2)
            .find_map(|symbol| {
                let site = u64::from(graph.node(symbol).offset) + SymbolSlot::Value.offset();
                let string = graph.edge_at(symbol, site)?;
                if graph.node(string).kind != NodeKind::Object(LispType::String)
                    || referrers[string as usize] != 1
                {
                    return None;
                }
                let s = lisp_string(&dump, &graph, string).ok()?;
                let StringData::Dump(at) = s.data else {
                    return None;
                };
                let text = dump.bytes_at(at, s.bytes, "text").ok()?;
                (text.len() >= 6 && text.iter().all(u8::is_ascii_lowercase)).then(|| {
                    (
                        names.name(symbol).unwrap(),
                        String::from_utf8(text.to_vec()).unwrap(),
                        at as usize,
                    )
                })
            })
            .expect("a symbol with a string value")
    };
    let new_text = old_text.to_ascii_uppercase();
    bytes[data..data + new_text.len()].copy_from_slice(new_text.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("modified.pdmp");
    std::fs::write(&copy, &bytes).unwrap();
    let (code, json) = diff(&dist, &copy, &[]);
    assert_eq!(code, 1);
    let changed = json["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["name"], name.as_str());
    assert_eq!(changed[0]["changed"], serde_json::json!(["value"]));
    let strings = json["strings"].as_array().unwrap();
    assert_eq!(strings.len(), 1);
    assert_eq!(strings[0]["symbol"], name.as_str());
    let text = strings[0]["diff"].as_str().unwrap();
    assert!(text.contains(&format!("-{old_text}")), "{text}");
    assert!(text.contains(&format!("+{new_text}")), "{text}");
    // The string and the symbol holding it differ, nothing else.
    let objects = json["objects"].as_array().unwrap();
    let mut kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["string", "symbol"], "{objects:?}");
    assert!(objects
        .iter()
        .all(|o| o["old_only"] == 1 && o["new_only"] == 1));
    // The human output shows the diff too.
    let out = Command::cargo_bin("pdmp")
        .unwrap()
        .arg("diff")
        .arg(&dist)
        .arg(&copy)
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains(&format!("+{new_text}")), "{human}");
    assert!(human.contains("1 changed"), "{human}");
}
