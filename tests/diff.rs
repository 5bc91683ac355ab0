//! `pdmp diff` on real dumps: self-diffs, a vanilla re-dump, growth limits.

mod common;

use assert_cmd::Command;
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
