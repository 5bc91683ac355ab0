//! `pdmp verify` on real GNU Emacs dumps, on copies broken on purpose, and
//! against the installed Emacs executable.

mod common;

use assert_cmd::Command;
use pdmp::lisp::LispType;
use pdmp::tables::RelocKind;
use pdmp::{DumpFile, Phase};
use std::path::{Path, PathBuf};

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

/// Runs `pdmp verify --json ARGS`, returning exit code and the document.
fn verify_json(args: &[&std::ffi::OsStr]) -> (i32, serde_json::Value) {
    let out = pdmp()
        .arg("verify")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().expect("exit code");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

fn failed_checks(json: &serde_json::Value) -> Vec<String> {
    json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn check<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}"))
}

fn pristine_dumps() -> Vec<PathBuf> {
    let mut dumps = Vec::new();
    dumps.extend(common::distribution_dump());
    dumps.extend(common::vanilla_dump().map(|d| d.path));
    dumps.extend(common::fresh_dump("org", "(require 'org)").map(|d| d.path));
    dumps
}

#[test]
fn every_pristine_real_dump_is_sound() {
    for dump in pristine_dumps() {
        let (code, json) = verify_json(&[dump.as_os_str()]);
        assert_eq!(
            failed_checks(&json),
            Vec::<String>::new(),
            "{}",
            dump.display()
        );
        assert_eq!(code, 0, "{}", dump.display());
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["sound"], true);
        // Every check ran (nothing skipped on a 28 dump) and examined something.
        for c in json["checks"].as_array().unwrap() {
            assert_eq!(c["status"], "pass", "{c}");
        }
        assert!(check(&json, "dump_lv_targets")["checked"].as_u64().unwrap() > 100_000);
        assert!(check(&json, "lisp_slots")["checked"].as_u64().unwrap() > 100_000);
    }
}

/// A copy of `dump` with `edit` applied, in a private directory.
fn broken_copy(
    dump: &Path,
    name: &str,
    edit: impl FnOnce(&mut Vec<u8>),
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(dump).unwrap();
    edit(&mut bytes);
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Table entry offset and site of the first EARLY relocation of `kind`.
fn first_reloc(dump: &Path, kind: RelocKind) -> (u64, u64) {
    let file = DumpFile::open(dump).unwrap();
    let d = file.dump().unwrap();
    let (_, early) = d.dump_relocs().find(|(p, _)| *p == Phase::Early).unwrap();
    let i = early.iter().position(|r| r.kind == kind).unwrap();
    (early.entry_offset(i), early.get(i).unwrap().offset)
}

fn put_u64(bytes: &mut [u8], at: u64, value: u64) {
    bytes[at as usize..at as usize + 8].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn corruptions_are_named_with_their_offsets() {
    let Some(dump) = common::vanilla_dump().map(|d| d.path) else {
        return;
    };
    // A Lisp value relocation whose word no longer names an object start.
    let (entry, site) = first_reloc(&dump, RelocKind::DumpLispValue(LispType::Cons));
    let (_d, path) = broken_copy(&dump, "lv.pdmp", |b| put_u64(b, site, 0x108));
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert!(failed_checks(&json).contains(&"dump_lv_targets".to_string()));
    let lv = check(&json, "dump_lv_targets");
    assert_eq!(lv["failures"], 1);
    assert_eq!(lv["examples"][0]["offset"], entry);
    assert!(lv["examples"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("site {site}")));

    // A placeholder left in a raw-pointer slot.
    let (_, site) = first_reloc(&dump, RelocKind::DumpPtrRaw);
    let (_d, path) = broken_copy(&dump, "placeholder.pdmp", |b| put_u64(b, site, 0xDEADF00D));
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(check(&json, "placeholders")["examples"][0]["offset"], site);

    // Two object starts swapped.
    let file = DumpFile::open(&dump).unwrap();
    let starts = file.dump().unwrap().object_starts();
    let at = starts.entry_offset(1000) as usize;
    let (_d, path) = broken_copy(&dump, "starts.pdmp", |b| {
        let (x, y) = b.split_at_mut(at + 4);
        x[at..].swap_with_slice(&mut y[..4]);
    });
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&json, "object_starts_order")["examples"][0]["offset"],
        at + 4
    );

    // A byte appended after the last table.
    let (_d, path) = broken_copy(&dump, "trailing.pdmp", |b| b.push(0));
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(failed_checks(&json), ["tables_end_at_eof"]);
}

#[test]
fn truncated_and_failed_dumps_get_clear_messages() {
    let Some(dump) = common::vanilla_dump().map(|d| d.path) else {
        return;
    };
    let (_d, path) = broken_copy(&dump, "short.pdmp", |b| {
        b.truncate(b.len() - 1000);
    });
    let out = pdmp().args(["verify"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1000 bytes missing"), "{text}");
    assert!(text.contains("truncated"), "{text}");

    let (_d, path) = broken_copy(&dump, "failed.pdmp", |b| b[0] = b'!');
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(failed_checks(&json), ["header"]);
    let message = check(&json, "header")["examples"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("failed dump"), "{message}");
    assert_eq!(check(&json, "dump_lv_targets")["status"], "skipped");

    // Not a dump at all: could not run.
    let (_d, path) = broken_copy(&dump, "magic.pdmp", |b| b[3] = b'X');
    let out = pdmp().args(["verify"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("pdmp: error: ") && stderr.contains("not a dump file"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);

    let (_d, path) = broken_copy(&dump, "empty.pdmp", |b| b.clear());
    pdmp().arg("verify").arg(&path).assert().code(2);
    pdmp()
        .args(["verify", "/nonexistent/x.pdmp"])
        .assert()
        .code(2);
}

#[test]
fn the_installed_emacs_pairs_with_its_dump() {
    let (Some(emacs), Some(dump)) = (common::emacs(), common::distribution_dump()) else {
        return;
    };
    let (code, json) = verify_json(&[dump.as_os_str(), "--exe".as_ref(), emacs.as_os_str()]);
    assert_eq!(code, 0, "{json}");
    let pairing = &json["pairing"];
    let occurrences = pairing["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 1);
    assert_eq!(occurrences[0]["section"], ".data");
    // The fingerprint really is at that offset of the executable.
    let exe = std::fs::read(&emacs).unwrap();
    let at = occurrences[0]["file_offset"].as_u64().unwrap() as usize;
    let header = std::fs::read(&dump).unwrap();
    assert_eq!(exe[at..at + 32], header[16..48]);
    assert_eq!(pairing["native_comp"]["missing"], 0);

    // --emacs finds the same dump Emacs reports loading.
    let (code, json) = verify_json(&["--emacs".as_ref()]);
    assert_eq!(code, 0);
    assert_eq!(json["file"], dump.display().to_string());
    let (code, json) = verify_json(&["--emacs".as_ref(), emacs.as_os_str()]);
    assert_eq!(code, 0);
    assert_eq!(json["file"], dump.display().to_string());
}

#[test]
fn a_mismatched_pair_names_the_stale_file_and_both_fingerprints() {
    let (Some(emacs), Some(dump)) = (common::emacs(), common::distribution_dump()) else {
        return;
    };
    // A rebuilt executable: the same binary with another fingerprint, newer
    // than the dump.
    let exe_bytes = std::fs::read(&emacs).unwrap();
    let fingerprint = std::fs::read(&dump).unwrap()[16..48].to_vec();
    let at = memchr_find(&exe_bytes, &fingerprint).expect("fingerprint in the executable");
    let dir = tempfile::tempdir().unwrap();
    let rebuilt = dir.path().join("emacs");
    let mut bytes = exe_bytes.clone();
    bytes[at] ^= 0xff;
    std::fs::write(&rebuilt, &bytes).unwrap();

    let out = pdmp()
        .arg("verify")
        .arg(&dump)
        .arg("--exe")
        .arg(&rebuilt)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("does not occur in"), "{text}");
    assert!(text.contains("the dump is stale"), "{text}");
    assert!(text.contains(&pdmp::header::hex(&fingerprint)), "{text}");
    assert!(text.contains("executable fingerprint:"), "{text}");
    // Next to a copied executable the relative .eln names resolve to nothing.
    assert!(text.contains("missing .eln file"), "{text}");
    let (_, json) = verify_json(&[dump.as_os_str(), "--exe".as_ref(), rebuilt.as_os_str()]);
    let native = &json["pairing"]["native_comp"];
    let late = DumpFile::open(&dump)
        .unwrap()
        .dump()
        .unwrap()
        .dump_relocs()
        .find(|(p, _)| *p == Phase::Late)
        .map(|(_, t)| t.len() as u64)
        .unwrap();
    assert_eq!(native["missing"], late);
    assert!(native["units"][0]["installed"]
        .as_str()
        .unwrap()
        .ends_with(".eln"));
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes a reference dump of `sample.el` plus a file of big integer
/// literals (each one a bignum object with a BIGNUM relocation) with
/// `pdmp dump --layout LAYOUT`.
fn reference_dump(dir: &Path, layout: &str) -> PathBuf {
    reference_dump_with(dir, layout, &[])
}

/// [`reference_dump`] with more `pdmp dump` arguments, into a file named
/// after the layout and the arguments.
fn reference_dump_with(dir: &Path, layout: &str, extra: &[&str]) -> PathBuf {
    let bignums = dir.join("bignums.el");
    std::fs::write(
        &bignums,
        "(defconst verify-bignums '(340282366920938463463374607431768211456\n  \
         -18446744073709551617 98765432109876543210987654321))\n",
    )
    .unwrap();
    let out = dir.join(format!("{layout}{}.pdmp", extra.concat()));
    pdmp()
        .args(["dump", "--quiet", "--layout", layout, "-o"])
        .arg(&out)
        .args(extra)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/sample.el"))
        .arg(&bignums)
        .assert()
        .success();
    out
}

/// Table entry offset, site and raw u32 of the first relocation of `kind`
/// in the first dump relocation table (EARLY, or the only one of Emacs 27).
fn first_entry(dump: &Path, kind: RelocKind) -> (u64, u64, u32) {
    let file = DumpFile::open(dump).unwrap();
    let d = file.dump().unwrap();
    let (_, table) = d.dump_relocs().next().unwrap();
    let i = table.iter().position(|r| r.kind == kind).unwrap();
    let at = table.entry_offset(i);
    let raw = u32::from_le_bytes(file.bytes()[at as usize..][..4].try_into().unwrap());
    (at, table.get(i).unwrap().offset, raw)
}

fn put_u32(bytes: &mut [u8], at: u64, value: u32) {
    bytes[at as usize..at as usize + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn reference_dumps_with_bignums_of_every_layout_are_sound() {
    let dir = tempfile::tempdir().unwrap();
    for layout in ["emacs-27", "emacs-28", "emacs-29", "emacs-30"] {
        let dump = reference_dump(dir.path(), layout);
        let (code, json) = verify_json(&[dump.as_os_str()]);
        assert_eq!(failed_checks(&json), Vec::<String>::new(), "{layout}");
        assert_eq!(code, 0, "{layout}");
        assert_eq!(
            json["layout"],
            layout.replace("29", "28").replace("30", "28")
        );
        // 2 bignums in sample.el, 3 more here: each BIGNUM site was examined.
        assert_eq!(check(&json, "bignum_sites")["checked"], 5, "{layout}");
        assert_eq!(check(&json, "bignum_sites")["status"], "pass");
        assert_eq!(check(&json, "dump_lv_targets")["status"], "pass");
        let skipped: Vec<&str> = json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "skipped")
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        // Emacs 27 has no hash list and no native compilation.
        let expected: &[&str] = if layout == "emacs-27" {
            &["native_comp_counts", "hash_list"]
        } else {
            &[]
        };
        assert_eq!(skipped, expected, "{layout}");
    }
}

#[test]
fn corrupted_reference_dumps_are_rejected_by_the_right_check() {
    let dir = tempfile::tempdir().unwrap();
    for layout in ["emacs-27", "emacs-28"] {
        let dump = reference_dump(dir.path(), layout);

        // A BIGNUM relocation moved one word on: its site is no object start.
        let (entry, site, raw) = first_entry(&dump, RelocKind::Bignum);
        let (_d, path) = broken_copy(&dump, "bignum-site.pdmp", |b| put_u32(b, entry, raw + 2));
        let (code, json) = verify_json(&[path.as_os_str()]);
        assert_eq!(code, 1, "{layout}");
        assert_eq!(failed_checks(&json), ["bignum_sites"], "{layout}");
        let example = &check(&json, "bignum_sites")["examples"][0];
        assert_eq!(example["offset"], entry);
        let message = example["message"].as_str().unwrap();
        assert!(message.contains(&format!("site {}", site + 8)), "{message}");

        // The bignum's limbs said to lie in the hot region.
        let (_d, path) = broken_copy(&dump, "bignum-limbs.pdmp", |b| {
            put_u32(b, site + 8, 4096);
        });
        let (code, json) = verify_json(&[path.as_os_str()]);
        assert_eq!(code, 1, "{layout}");
        assert_eq!(failed_checks(&json), ["bignum_sites"], "{layout}");
        assert!(check(&json, "bignum_sites")["examples"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limbs at 4096"));

        // A relocation type that the layout does not define (31).
        let (entry, _, raw) = first_entry(&dump, RelocKind::DumpPtrRaw);
        let (_d, path) = broken_copy(&dump, "kind.pdmp", |b| {
            put_u32(b, entry, raw | 31 << 27);
        });
        let (code, json) = verify_json(&[path.as_os_str()]);
        assert_eq!(code, 1, "{layout}");
        assert_eq!(failed_checks(&json), ["dump_relocs_kinds"], "{layout}");
        assert_eq!(
            check(&json, "dump_relocs_kinds")["examples"][0]["offset"],
            entry
        );

        // An object start whose tag is no heap tag (Lisp_Int0 = 2).
        let file = DumpFile::open(&dump).unwrap();
        let starts = file.dump().unwrap().object_starts();
        let at = starts.entry_offset(3);
        let raw = u32::from_le_bytes(file.bytes()[at as usize..][..4].try_into().unwrap());
        let (_d, path) = broken_copy(&dump, "tag.pdmp", |b| {
            put_u32(b, at, (raw & ((1 << 27) - 1)) | 2 << 27);
        });
        let (code, json) = verify_json(&[path.as_os_str()]);
        assert_eq!(code, 1, "{layout}");
        assert!(
            failed_checks(&json).contains(&"object_starts_tags".to_string()),
            "{layout}: {:?}",
            failed_checks(&json)
        );
        assert_eq!(
            check(&json, "object_starts_tags")["examples"][0]["offset"],
            at
        );

        // An emacs relocation of undefined type 7.
        let emacs = file.dump().unwrap().emacs_relocs();
        let at = emacs.entry_offset(0);
        let (_d, path) = broken_copy(&dump, "emacs-kind.pdmp", |b| b[at as usize] |= 7);
        let (code, json) = verify_json(&[path.as_os_str()]);
        assert_eq!(code, 1, "{layout}");
        assert!(
            failed_checks(&json).contains(&"emacs_relocs_kinds".to_string()),
            "{layout}: {:?}",
            failed_checks(&json)
        );
        assert_eq!(
            check(&json, "emacs_relocs_kinds")["examples"][0]["offset"],
            at
        );
    }
}

/// The preferred base the pre-relocation tests write dumps for.
const PREFERRED: u64 = 0x7f12_3456_0000;

#[test]
fn reference_dumps_written_for_a_preferred_base_are_sound() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("--preferred-base={PREFERRED:#x}");
    for layout in ["emacs-27", "emacs-28", "emacs-29", "emacs-30"] {
        let plain = reference_dump(dir.path(), layout);
        let dump = reference_dump_with(dir.path(), layout, &[&base]);
        // The words really hold addresses: the first Lisp-value site holds
        // the preferred base plus what the plain dump holds there, plus the tag.
        let kind = RelocKind::DumpLispValue(LispType::Cons);
        let (_, site, _) = first_entry(&dump, kind);
        let word = |path: &Path| {
            let bytes = std::fs::read(path).unwrap();
            u64::from_le_bytes(bytes[site as usize..][..8].try_into().unwrap())
        };
        assert_eq!(first_entry(&plain, kind).1, site, "{layout}: same layout");
        assert_eq!(word(&dump), PREFERRED + word(&plain) + 3, "{layout}");

        let (code, json) = verify_json(&[dump.as_os_str()]);
        assert_eq!(failed_checks(&json), Vec::<String>::new(), "{layout}");
        assert_eq!(code, 0, "{layout}");
        let pre = &json["pre_relocated"];
        assert_eq!(pre["source"], "reference_dumper", "{layout}");
        assert_eq!(pre["dump_base"], PREFERRED, "{layout}");
        assert_eq!(pre["original_fingerprint"], serde_json::Value::Null);
        // The plain dump's checks examined as much: nothing was left out
        // (the record itself is one more emacs relocation).
        let (_, plain_json) = verify_json(&[plain.as_os_str()]);
        assert_eq!(plain_json["pre_relocated"], serde_json::Value::Null);
        for c in plain_json["checks"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let record = ["kinds", "sorted", "offsets", "fields"]
                .map(|k| format!("emacs_relocs_{k}"))
                .contains(&name.to_string());
            assert_eq!(
                check(&json, name)["checked"].as_u64().unwrap(),
                c["checked"].as_u64().unwrap() + u64::from(record),
                "{layout} {name}"
            );
            assert_eq!(check(&json, name)["status"], c["status"], "{layout} {name}");
        }
        assert_eq!(check(&json, "bignum_sites")["checked"], 5, "{layout}");

        let out = pdmp().arg("verify").arg(&dump).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(
            text.contains(&format!("pre-relocated for dump base {PREFERRED:#x}")),
            "{text}"
        );
    }
}

#[test]
fn corrupted_preferred_base_reference_dumps_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("--preferred-base={PREFERRED:#x}");
    let dump = reference_dump_with(dir.path(), "emacs-28", &[&base]);
    // A relocated word moved off its object, by one cons.
    let (entry, site, _) = first_entry(&dump, RelocKind::DumpLispValue(LispType::Cons));
    let (_d, path) = broken_copy(&dump, "lv.pdmp", |b| {
        let word = u64::from_le_bytes(b[site as usize..][..8].try_into().unwrap());
        put_u64(b, site, word + 8);
    });
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(failed_checks(&json), ["dump_lv_targets"]);
    assert_eq!(
        check(&json, "dump_lv_targets")["examples"][0]["offset"],
        entry
    );
    // A bignum's limbs pointer moved into the hot region.
    let (_, site, _) = first_entry(&dump, RelocKind::Bignum);
    let (_d, path) = broken_copy(&dump, "limbs.pdmp", |b| {
        put_u64(b, site + 16, PREFERRED + 4096)
    });
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(failed_checks(&json), ["bignum_sites"]);
    assert!(check(&json, "bignum_sites")["examples"][0]["message"]
        .as_str()
        .unwrap()
        .contains("limbs at 4096"));
}

/// A copy of a fresh real dump pre-relocated by `pdmp relocate
/// --preferred-base`, with the executable that made it.
fn relocate_made_dump(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let exe = common::emacs()?.canonicalize().unwrap();
    let original = common::vanilla_dump()?.path;
    let pre = dir.join("pre.pdmp");
    pdmp()
        .arg("relocate")
        .arg(&original)
        .arg("--exe")
        .arg(&exe)
        .arg(format!("--preferred-base={PREFERRED:#x}"))
        .arg("-o")
        .arg(&pre)
        .assert()
        .success();
    Some((original, pre, exe))
}

#[test]
fn a_real_dump_pre_relocated_by_pdmp_relocate_is_sound_and_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let Some((original, pre, exe)) = relocate_made_dump(dir.path()) else {
        return;
    };
    let (code, json) = verify_json(&[pre.as_os_str(), "--exe".as_ref(), exe.as_os_str()]);
    assert_eq!(failed_checks(&json), Vec::<String>::new());
    assert_eq!(code, 0, "{}", json["pairing"]);
    let (_, plain) = verify_json(&[original.as_os_str()]);
    for c in plain["checks"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert_eq!(check(&json, name)["checked"], c["checked"], "{name}");
    }
    let pre_relocated = &json["pre_relocated"];
    assert_eq!(pre_relocated["source"], "trailer");
    assert_eq!(pre_relocated["dump_base"], PREFERRED);
    let header = &std::fs::read(&original).unwrap()[16..48];
    let hex: String = header.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(pre_relocated["original_fingerprint"], hex.as_str());
    // Paired by the original fingerprint; the header carries it inverted.
    let pairing = &json["pairing"];
    assert_eq!(pairing["original_fingerprint"], hex.as_str());
    assert_ne!(pairing["dump_fingerprint"], hex.as_str());
    assert!(!pairing["occurrences"].as_array().unwrap().is_empty());
    assert_eq!(pairing["native_comp"]["missing"], 0);
    // Ordinary dumps have no such field.
    let (_, plain) = verify_json(&[original.as_os_str(), "--exe".as_ref(), exe.as_os_str()]);
    assert!(plain["pairing"].get("original_fingerprint").is_none());
}

#[test]
fn corrupted_copies_of_a_relocate_made_dump_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_, pre, _)) = relocate_made_dump(dir.path()) else {
        return;
    };
    // A relocated word pointing one word past its object start.
    let (entry, site) = first_reloc(&pre, RelocKind::DumpLispValue(LispType::Cons));
    let (_d, path) = broken_copy(&pre, "lv.pdmp", |b| {
        let word = u64::from_le_bytes(b[site as usize..][..8].try_into().unwrap());
        put_u64(b, site, word + 8);
    });
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert!(failed_checks(&json).contains(&"dump_lv_targets".to_string()));
    assert_eq!(
        check(&json, "dump_lv_targets")["examples"][0]["offset"],
        entry
    );
    // A raw pointer entry's type changed to an undefined one.
    let (entry, _) = first_reloc(&pre, RelocKind::DumpPtrRaw);
    let (_d, path) = broken_copy(&pre, "kind.pdmp", |b| b[entry as usize + 3] |= 0xf8);
    let (code, json) = verify_json(&[path.as_os_str()]);
    assert_eq!(code, 1);
    assert!(failed_checks(&json).contains(&"dump_relocs_kinds".to_string()));
    assert_eq!(
        check(&json, "dump_relocs_kinds")["examples"][0]["offset"],
        entry
    );
}
