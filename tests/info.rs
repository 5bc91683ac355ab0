//! `pdmp info` on real GNU Emacs dumps and on broken files.

mod common;

use assert_cmd::Command;
use std::path::Path;

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

fn info_json(path: &Path) -> serde_json::Value {
    let out = pdmp().arg("info").arg("--json").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// The numbers after `key=` on the line starting with `prefix`.
fn emacs_figures(log: &str, prefix: &str) -> Vec<(String, u64)> {
    let line = log
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in: {log}"));
    line[prefix.len()..]
        .split_whitespace()
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("key=value");
            (k.to_string(), v.parse().expect("number"))
        })
        .collect()
}

#[test]
fn byte_and_reloc_counts_equal_what_emacs_printed_when_dumping() {
    let Some(dump) = common::vanilla_dump() else {
        return;
    };
    let json = info_json(&dump.path);
    let bytes = emacs_figures(&dump.log, "Byte counts:");
    assert_eq!(bytes.len(), 4);
    for (name, value) in &bytes {
        assert_eq!(json["byte_counts"][name], *value, "Byte counts {name}");
    }
    let relocs = emacs_figures(&dump.log, "Reloc counts:");
    assert_eq!(relocs.len(), 2);
    for (name, value) in &relocs {
        assert_eq!(json["reloc_counts"][name], *value, "Reloc counts {name}");
    }
    // The human output carries the same two lines, word for word.
    let human = pdmp().arg("info").arg(&dump.path).output().unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    for prefix in ["Byte counts:", "Reloc counts:"] {
        let emacs_line = dump.log.lines().find(|l| l.starts_with(prefix)).unwrap();
        assert!(
            human.lines().any(|l| l == emacs_line),
            "{emacs_line} missing from:\n{human}"
        );
    }
}

#[test]
fn distribution_dump_is_consistent_with_its_tables() {
    let Some(path) = common::distribution_dump() else {
        return;
    };
    let json = info_json(&path);
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["layout"], "emacs-28");
    assert_eq!(json["pvec_numbering"]["numbering"], "emacs-28");
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(json["size"], size);
    // Regions and tables tile the file.
    let b = &json["byte_counts"];
    let r = &json["regions"];
    assert_eq!(
        b["header"].as_u64().unwrap()
            + b["hot"].as_u64().unwrap()
            + r["discardable"]["size"].as_u64().unwrap()
            + b["cold"].as_u64().unwrap(),
        size
    );
    let tables = json["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 5);
    let last = tables.last().unwrap();
    assert_eq!(
        last["offset"].as_u64().unwrap() + last["bytes"].as_u64().unwrap(),
        size
    );
    // Every relocation site lies in the hot or the discardable region.
    assert_eq!(json["reloc_counts"]["elsewhere"], 0);
    // Per-type counts add up to the table lengths.
    let object_total: u64 = json["object_starts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(object_total, tables[3]["count"].as_u64().unwrap());
    let vectorlike: u64 = json["vectorlike"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        vectorlike,
        json["object_starts"]["vectorlike"].as_u64().unwrap()
    );
    // Every hash-list entry is a hash table.
    assert_eq!(
        json["hash_list"]["length"].as_u64().unwrap(),
        json["vectorlike"]["HASH_TABLE"].as_u64().unwrap()
    );
    // Native compilation: one LATE relocation per native-comp unit.
    assert_eq!(
        json["relocations"][1]["by_kind"]["NATIVE_COMP_UNIT"],
        json["vectorlike"]["NATIVE_COMP_UNIT"]
    );
}

#[test]
fn info_without_a_file_reads_the_installed_emacs_dump() {
    let Some(path) = common::distribution_dump() else {
        return;
    };
    let out = pdmp().args(["info", "--json"]).output().unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["file"], path.display().to_string());
}

/// A copy of a real dump (or, without Emacs, nothing to test on).
fn real_dump_bytes() -> Option<Vec<u8>> {
    Some(std::fs::read(common::distribution_dump()?).unwrap())
}

fn expect_error(bytes: &[u8], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pdmp");
    std::fs::write(&path, bytes).unwrap();
    let out = pdmp().arg("info").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("pdmp: error: "), "{stderr}");
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{part:?} not in {stderr}");
    }
    assert!(!stderr.contains("panicked"));
}

#[test]
fn broken_files_get_one_line_errors_with_exit_status_2() {
    expect_error(b"", &["empty file"]);
    expect_error(b"DUMPEDGNUEMACS", &["too short", "14 bytes"]);
    expect_error(&[0u8; 4096], &["magic at offset 0", "not a dump file"]);
    let Some(real) = real_dump_bytes() else {
        return;
    };
    let size = real.len();
    // Truncations: inside each table, and one byte short.
    expect_error(
        &real[..size - 1],
        &["emacs_relocs table", "1 bytes missing", "truncated"],
    );
    expect_error(
        &real[..size - 100_000],
        &["object_starts table at offset", "runs past the end"],
    );
    expect_error(&real[..4096], &["dump_relocs[EARLY] table"]);
    // The failed-dump marker.
    let mut failed = real.clone();
    failed[0] = b'!';
    expect_error(&failed, &["failed dump attempt"]);
    // Magic right, everything else zero.
    let mut zeroed = vec![0u8; size];
    zeroed[..16].copy_from_slice(&real[..16]);
    expect_error(&zeroed, &["header field", "offset 48"]);
    // A table locator that breaks the chain.
    let mut broken = real.clone();
    broken[72..76].copy_from_slice(&12345678i32.to_le_bytes());
    expect_error(&broken, &["object_starts", "offset 72", "12345678"]);
    // A negative count.
    let mut negative = real;
    negative[76..80].copy_from_slice(&(-5i32).to_le_bytes());
    expect_error(&negative, &["object_starts", "offset 76", "negative"]);
}

#[test]
fn releasing_the_pages_of_a_file_map_changes_neither_bytes_nor_summary() {
    let Some(path) = common::distribution_dump() else {
        return;
    };
    let file = pdmp::DumpFile::open(&path).unwrap();
    let copy = file.bytes().to_vec();
    let in_memory = pdmp::summary::Summary::of(&pdmp::Dump::parse(&copy).unwrap());
    let dump = file.dump().unwrap();
    // The counting threads release the pages they read, as `pdmp info` has them do.
    let released = pdmp::summary::Summary::of_releasing(&dump, &|range| file.release(range));
    assert_eq!(released, in_memory);
    // Every page released (the range is clipped to the map), then read again.
    file.release(0..usize::MAX);
    assert!(
        file.bytes() == &copy[..],
        "released pages read back other bytes"
    );
}

/// `pdmp info`'s human report drawn the plain way, one comfy-table row per
/// entry: the binary gathers each table's rows into one row of multi-line
/// cells, which must print the same bytes.
fn report_row_by_row(file: &str, s: &pdmp::summary::Summary) -> String {
    use comfy_table::{presets, ContentArrangement, Table};
    let table = |header: &[&str]| {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .force_no_tty();
        if !header.is_empty() {
            t.set_header(header.iter().copied());
        }
        t
    };
    let mut out = String::new();
    let numbering = s.pvec_numbering.numbering.map_or("unknown", |n| n.name());
    let mut overview = table(&[]);
    overview.add_row(vec!["file".to_string(), file.to_string()]);
    overview.add_row(vec!["size".to_string(), format!("{} bytes", s.size)]);
    overview.add_row(vec![
        "layout".to_string(),
        format!("{}: {}", s.layout.name(), s.layout.describe()),
    ]);
    overview.add_row(vec![
        "pvec numbering".to_string(),
        format!("{numbering} ({})", s.pvec_numbering.evidence.join("; ")),
    ]);
    overview.add_row(vec!["magic", "DUMPEDGNUEMACS (dump complete)"]);
    overview.add_row(vec!["fingerprint", &s.fingerprint]);
    if let Some(list) = s.hash_list {
        let entries = match list.length {
            Some(n) => format!("offset {}, {n} entries", list.offset),
            None => format!("offset {} (not a plain vector)", list.offset),
        };
        overview.add_row(vec!["hash list".to_string(), entries]);
    }
    if s.trailing_bytes > 0 {
        overview.add_row(vec![
            "trailing bytes".to_string(),
            format!("{} after the last table", s.trailing_bytes),
        ]);
    }
    out += &format!("{overview}\n");
    let b = s.byte_counts;
    out += &format!(
        "Byte counts: header={} hot={} discardable={} cold={}\n",
        b.header, b.hot, b.discardable, b.cold
    );
    out += &format!(
        "Reloc counts: hot={} discardable={}\n",
        s.reloc_counts.hot, s.reloc_counts.discardable
    );
    let r = &s.regions;
    let mut regions = table(&["region", "offset", "size", "note"]);
    let padding = r.discardable.size.saturating_sub(r.discardable_used);
    for (name, span, note) in [
        ("header", r.header, String::new()),
        ("hot", r.hot, String::new()),
        (
            "discardable",
            r.discardable,
            format!("{} used, {padding} padding", r.discardable_used),
        ),
        ("cold heap data", r.cold_heap, String::new()),
        ("tables", r.tables, String::new()),
    ] {
        regions.add_row(vec![
            name.to_string(),
            span.offset.to_string(),
            span.size.to_string(),
            note,
        ]);
    }
    out += &format!("{regions}\n");
    let mut tables = table(&["table", "offset", "entries", "bytes"]);
    for t in &s.tables {
        tables.add_row(vec![
            t.name.to_string(),
            t.offset.to_string(),
            t.count.to_string(),
            t.bytes.to_string(),
        ]);
    }
    out += &format!("{tables}\n");
    let mut relocs = table(&["phase", "relocation kind", "count"]);
    for phase in &s.relocations {
        for (kind, count) in &phase.by_kind.0 {
            relocs.add_row(vec![
                phase.phase.name().to_string(),
                kind.clone(),
                count.to_string(),
            ]);
        }
        relocs.add_row(vec![
            phase.phase.name().to_string(),
            "total".to_string(),
            phase.total.to_string(),
        ]);
    }
    out += &format!("{relocs}\n");
    for (title, counts) in [
        ("object starts by Lisp type", &s.object_starts),
        ("vectorlike objects by pvec type", &s.vectorlike),
        ("emacs relocations by kind", &s.emacs_relocs),
    ] {
        let mut t = table(&[title, "count"]);
        for (name, count) in &counts.0 {
            t.add_row(vec![name.clone(), count.to_string()]);
        }
        t.add_row(vec!["total".to_string(), counts.total().to_string()]);
        out += &format!("{t}\n");
    }
    out
}

#[test]
fn human_report_is_the_row_by_row_rendering_of_the_summary() {
    let dir = std::env::temp_dir().join(format!("pdmp-info-rows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference");
    let mut files: Vec<std::path::PathBuf> = ["27", "28", "29", "30"]
        .iter()
        .map(|v| reference.join(format!("sample-emacs-{v}.pdmp")))
        .collect();
    // A name of two lines makes the file cell two lines tall.
    let two_lines = dir.join("two\nlines.pdmp");
    std::fs::copy(&files[1], &two_lines).unwrap();
    files.push(two_lines);
    files.extend(common::distribution_dump());
    for path in &files {
        let out = pdmp().arg("info").arg(path).output().unwrap();
        assert!(out.status.success(), "{}", path.display());
        let bytes = std::fs::read(path).unwrap();
        let summary = pdmp::summary::Summary::of(&pdmp::Dump::parse(&bytes).unwrap());
        let expected = report_row_by_row(&path.display().to_string(), &summary);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            expected,
            "{}",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
