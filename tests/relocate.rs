//! `pdmp relocate` on the real distribution dump and executable, and on
//! broken input.

mod common;

use assert_cmd::Command;
use pdmp::tables::RelocKind;
use pdmp::{DumpFile, Phase};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

const BASE: u64 = 0x7f12_3456_0000;

/// The dump the installed Emacs loads and the executable it belongs to.
fn dump_and_exe() -> Option<(PathBuf, PathBuf)> {
    let emacs = common::emacs()?;
    let dump = common::distribution_dump()?;
    Some((dump, emacs.canonicalize().expect("emacs path")))
}

fn run_json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = pdmp()
        .arg("relocate")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn word(bytes: &[u8], at: u64) -> u64 {
    u64::from_le_bytes(bytes[at as usize..at as usize + 8].try_into().unwrap())
}

#[test]
fn image_changes_exactly_the_early_sites_by_the_documented_arithmetic() {
    let Some((dump_path, exe)) = dump_and_exe() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let image_path = dir.path().join("image");
    let before = std::fs::read(&dump_path).unwrap();
    let report = run_json(&[
        dump_path.as_os_str(),
        format!("--dump-base={BASE:#x}").as_ref(),
        "--exe".as_ref(),
        exe.as_os_str(),
        "-o".as_ref(),
        image_path.as_os_str(),
    ]);
    assert_eq!(
        std::fs::read(&dump_path).unwrap(),
        before,
        "input unchanged"
    );
    let image = std::fs::read(&image_path).unwrap();
    assert_eq!(image.len(), before.len());
    let basis = report["bases"]["emacs_basis"].as_u64().unwrap();
    let lispsym = report["bases"]["lispsym"].as_u64().unwrap();
    // The recovered addresses lie in the executable's .bss, 1265 subrs agree.
    let recovered = &report["recovered"];
    assert_eq!(recovered["emacs_basis_section"], ".bss");
    assert_eq!(recovered["lispsym_section"], ".bss");
    assert!(recovered["subrs_matched"].as_u64().unwrap() >= 1000);
    assert_eq!(
        recovered["function_pointers_agree"],
        recovered["subrs_matched"]
    );

    let file = DumpFile::open(&dump_path).unwrap();
    let dump = file.dump().unwrap();
    let (_, early) = dump
        .dump_relocs()
        .find(|(p, _)| *p == Phase::Early)
        .unwrap();
    let mut sites = HashSet::new();
    let mut applied: HashMap<String, u64> = HashMap::new();
    for reloc in early.iter() {
        let (old, new) = (word(&before, reloc.offset), word(&image, reloc.offset));
        let expected = match reloc.kind {
            RelocKind::EmacsPtrRaw => old.wrapping_add(basis),
            RelocKind::DumpPtrRaw => old.wrapping_add(BASE),
            RelocKind::DumpLispValue(t) if t.tag() == 0 => {
                old.wrapping_add(BASE).wrapping_sub(lispsym)
            }
            RelocKind::DumpLispValue(t) => old + BASE + u64::from(t.tag()),
            RelocKind::EmacsLispValue(t) => old.wrapping_add(basis) + u64::from(t.tag()),
            other => panic!("{} in EARLY", other.name()),
        };
        assert_eq!(new, expected, "{} at {}", reloc.kind.name(), reloc.offset);
        sites.insert(reloc.offset);
        *applied.entry(reloc.kind.name()).or_default() += 1;
    }
    // Nothing else changed.
    for at in (0..before.len() as u64 - 7).step_by(8) {
        if !sites.contains(&at) {
            assert_eq!(word(&before, at), word(&image, at), "word at {at}");
        }
    }
    // Per-kind counts agree with the table.
    for row in report["relocations"]["kinds"].as_array().unwrap() {
        let kind = row["kind"].as_str().unwrap();
        if row["phase"] == "early" {
            assert_eq!(row["applied"], applied[kind], "{kind}");
            assert_eq!(row["skipped"], 0);
        } else {
            assert_eq!(row["applied"], 0, "{kind}");
            assert!(row["reason"].as_str().unwrap().contains("Lisp"));
        }
    }
}

#[test]
fn dry_run_page_counts_equal_an_independent_count() {
    let Some((dump_path, _)) = dump_and_exe() else {
        return;
    };
    // A base that is 4 KiB- but not 64 KiB-aligned shifts the 64 KiB pages.
    let base = BASE + 0x3000;
    let report = run_json(&[
        dump_path.as_os_str(),
        format!("--dump-base={base}").as_ref(),
        "--emacs-basis=0x5ead78".as_ref(),
        "--dry-run".as_ref(),
    ]);
    assert_eq!(report["mode"], "dry_run");
    assert!(report["output"].is_null());
    let file = DumpFile::open(&dump_path).unwrap();
    let dump = file.dump().unwrap();
    for (phase, table) in dump.dump_relocs() {
        let cost = report["cost"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["phase"] == phase.name())
            .unwrap();
        assert_eq!(cost["relocations"], table.len() as u64);
        for (i, size) in [4096u64, 65536].into_iter().enumerate() {
            let mut pages: HashMap<u64, u64> = HashMap::new();
            for reloc in table.iter() {
                // Bignums and native subrs write after their header word.
                let at = match reloc.kind {
                    RelocKind::NativeSubr | RelocKind::Bignum => reloc.offset + 8,
                    _ => reloc.offset,
                };
                *pages.entry((base + at) / size).or_default() += 1;
            }
            let counted = &cost["by_page_size"][i];
            assert_eq!(counted["page_size"], size);
            assert_eq!(
                counted["pages"],
                pages.len() as u64,
                "{} {size}",
                phase.name()
            );
            assert_eq!(
                counted["max_relocations_per_page"],
                pages.values().max().copied().unwrap_or(0)
            );
        }
    }
    // Without --exe, lispsym is emacs_basis plus the offset of nil's image.
    assert_eq!(report["sources"]["lispsym"], "dump");
    assert!(report["bases"]["lispsym"].as_u64().unwrap() > 0x5ead78);
}

#[test]
fn preferred_base_dump_is_readable_refused_by_emacs_and_records_its_bases() {
    let Some((dump_path, exe)) = dump_and_exe() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre.pdmp");
    let image = dir.path().join("image");
    let common_args = |out: &Path| -> Vec<std::ffi::OsString> {
        vec![
            dump_path.clone().into(),
            "--exe".into(),
            exe.clone().into(),
            "-o".into(),
            out.into(),
        ]
    };
    let mut args = common_args(&pre);
    args.push(format!("--preferred-base={BASE:#x}").into());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let report = run_json(&refs);
    assert_eq!(report["mode"], "preferred");
    let mut args = common_args(&image);
    args.push(format!("--dump-base={BASE:#x}").into());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    run_json(&refs);

    let pre_bytes = std::fs::read(&pre).unwrap();
    let image_bytes = std::fs::read(&image).unwrap();
    let original = std::fs::read(&dump_path).unwrap();
    // Same words as the image, fingerprint inverted, trailer appended.
    assert_eq!(pre_bytes.len(), original.len() + 96);
    assert_eq!(pre_bytes[..16], image_bytes[..16]);
    assert_eq!(pre_bytes[48..original.len()], image_bytes[48..]);
    for i in 16..48 {
        assert_eq!(pre_bytes[i], !original[i]);
    }
    let file = DumpFile::open(&pre).unwrap();
    let dump = file.dump().unwrap();
    let recorded = pdmp::relocate::PreferredBase::find(&dump).expect("trailer");
    assert_eq!(recorded.bases.dump_base, BASE);
    assert_eq!(
        recorded.bases.emacs_basis,
        report["bases"]["emacs_basis"].as_u64().unwrap()
    );
    assert_eq!(recorded.original_fingerprint[..], original[16..48]);

    // `pdmp info` reads it; Emacs refuses it instead of relocating twice.
    let info = pdmp().arg("info").arg("--json").arg(&pre).output().unwrap();
    assert!(info.status.success());
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["trailing_bytes"], 96);
    let emacs = common::emacs().unwrap();
    let out = std::process::Command::new(emacs)
        .arg("--dump-file")
        .arg(&pre)
        .args(["-Q", "--batch", "--eval", "(kill-emacs 0)"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not built for this Emacs executable"));

    // A pre-relocated dump cannot be relocated again.
    let again = dir.path().join("again");
    fails_with(
        pdmp()
            .arg("relocate")
            .arg(&pre)
            .args(["--dump-base=0x10000", "--emacs-basis=0x5ead78", "-o"])
            .arg(&again),
        "already pre-relocated",
    );
    assert!(!again.exists());
}

/// Runs `command` and checks it fails with exit 2 and one line on stderr,
/// starting `pdmp: error:`, that contains `text`.
fn fails_with(command: &mut Command, text: &str) {
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("pdmp: error: "), "{stderr}");
    assert!(stderr.contains(text), "{stderr} lacks {text}");
}

#[test]
fn bad_input_fails_with_one_line_and_no_output() {
    let Some((dump_path, _)) = dump_and_exe() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("image");
    let bytes = std::fs::read(&dump_path).unwrap();

    // Truncated dump.
    let truncated = dir.path().join("truncated.pdmp");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1]).unwrap();
    fails_with(
        pdmp()
            .arg("relocate")
            .arg(&truncated)
            .args(["--dump-base=0x10000", "--emacs-basis=0x5ead78", "-o"])
            .arg(&out),
        "truncated",
    );

    // An EARLY relocation with an undefined type (31) names its entry.
    let file = DumpFile::open(&dump_path).unwrap();
    let table = file.dump().unwrap().dump_relocs().next().unwrap().1;
    let entry = table.entry_offset(7) as usize;
    let mut broken = bytes.clone();
    broken[entry + 3] |= 0xf8;
    let broken_path = dir.path().join("broken.pdmp");
    std::fs::write(&broken_path, &broken).unwrap();
    fails_with(
        pdmp()
            .arg("relocate")
            .arg(&broken_path)
            .args(["--dump-base=0x10000", "--emacs-basis=0x5ead78", "-o"])
            .arg(&out),
        &format!("entry 7 at offset {entry}"),
    );

    // An executable that is not this dump's.
    fails_with(
        pdmp()
            .arg("relocate")
            .arg(&dump_path)
            .args(["--dump-base=0x10000", "--exe=/bin/sh", "-o"])
            .arg(&out),
        "not the executable this dump was made with",
    );
    assert!(!out.exists());

    // Writing over the input is refused; the input is untouched.
    let copy = dir.path().join("copy.pdmp");
    std::fs::write(&copy, &bytes).unwrap();
    fails_with(
        pdmp()
            .arg("relocate")
            .arg(&copy)
            .args(["--dump-base=0x10000", "--emacs-basis=0x5ead78", "-o"])
            .arg(&copy),
        "never modifies its input",
    );
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temp files left"
    );
}
