//! Differential test: GNU Emacs against `pdmp verify` on corrupted copies of
//! its own dump. Every copy Emacs fails to start with (error exit, crash or
//! timeout) must be rejected by `pdmp verify --exe EMACS`; the pristine dump
//! must be accepted by both.

mod common;

use assert_cmd::Command;
use pdmp::lisp::LispType;
use pdmp::tables::{EmacsRelocValue, RelocKind};
use pdmp::{DumpFile, Phase};
use std::path::Path;
use std::process::Stdio;

/// Longest Emacs may take to start on a copy before it counts as hung.
const EMACS_TIMEOUT: &str = "10";

type Edit = Box<dyn Fn(&mut Vec<u8>)>;

fn put(bytes: &mut [u8], at: u64, value: &[u8]) {
    bytes[at as usize..at as usize + value.len()].copy_from_slice(value);
}

fn add_i32(bytes: &mut [u8], at: u64, delta: i32) {
    let old = i32::from_le_bytes(bytes[at as usize..at as usize + 4].try_into().unwrap());
    put(bytes, at, &old.wrapping_add(delta).to_le_bytes());
}

fn add_u64(bytes: &mut [u8], at: u64, delta: u64) {
    let old = u64::from_le_bytes(bytes[at as usize..at as usize + 8].try_into().unwrap());
    put(bytes, at, &old.wrapping_add(delta).to_le_bytes());
}

/// The corruptions, named, derived from the dump's own tables so that each
/// hits what its name says.
fn corruptions(dump: &Path) -> Vec<(String, Edit)> {
    let file = DumpFile::open(dump).unwrap();
    let d = file.dump().unwrap();
    let h = *d.header();
    let size = d.size();
    let (_, early) = d.dump_relocs().find(|(p, _)| *p == Phase::Early).unwrap();
    let nth = |kind: RelocKind, n: usize| {
        let i = early
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == kind)
            .nth(n)
            .map(|(i, _)| i)
            .unwrap();
        (early.entry_offset(i), early.get(i).unwrap().offset)
    };
    let starts = d.object_starts();
    let emacs = d.emacs_relocs();
    let copy_entry = emacs
        .iter()
        .position(|r| matches!(r.value, EmacsRelocValue::CopyFromDump { .. }))
        .map(|i| emacs.entry_offset(i))
        .unwrap();

    let mut list: Vec<(String, Edit)> = Vec::new();
    for cut in [1, 16, 4096, size / 2, size - h.cold_start + 64, size - 200] {
        list.push((
            format!("truncate {cut} bytes"),
            Box::new(move |b: &mut Vec<u8>| b.truncate(b.len() - cut as usize)),
        ));
    }
    list.push(("failed-dump marker".into(), Box::new(|b| b[0] = b'!')));
    list.push(("magic byte 5".into(), Box::new(|b| b[5] ^= 0x20)));
    list.push(("fingerprint byte 20".into(), Box::new(|b| b[20] ^= 1)));
    // Header fields (28 layout offsets).
    for (field, at, delta) in [
        ("dump_relocs[EARLY].offset", 48, 8),
        ("dump_relocs[EARLY].count", 52, -1),
        ("dump_relocs[LATE].count", 60, 1),
        ("object_starts.offset", 72, 8),
        ("object_starts.count", 76, -100),
        ("emacs_relocs.count", 84, -1),
        ("discardable_start", 88, 8),
        ("cold_start", 92, 65536),
        ("hash_list", 96, 8),
        ("hash_list to 0", 96, -(h.hash_list.unwrap() as i32)),
    ] {
        list.push((
            format!("header {field} {delta:+}"),
            Box::new(move |b| add_i32(b, at, delta)),
        ));
    }
    // Table entries.
    let (entry, _) = nth(RelocKind::DumpLispValue(LispType::Cons), 100);
    list.push((
        "EARLY entry type to 31".into(),
        Box::new(move |b| b[entry as usize + 3] |= 0xf8),
    ));
    let (entry, _) = nth(RelocKind::DumpPtrRaw, 10);
    list.push((
        "EARLY DUMP_PTR_RAW entry offset +2 words".into(),
        Box::new(move |b| add_i32(b, entry, 2)),
    ));
    let (entry, _) = nth(RelocKind::DumpLispValue(LispType::Symbol), 50);
    list.push((
        "EARLY symbol entry retyped to vectorlike".into(),
        Box::new(move |b| add_i32(b, entry, 5 << 27)),
    ));
    let at = starts.entry_offset(5000);
    list.push((
        "object start offset +1 word".into(),
        Box::new(move |b| add_i32(b, at, 2)),
    ));
    list.push((
        "emacs reloc COPY length +1 GiB".into(),
        Box::new(move |b| add_i32(b, copy_entry, 1 << 30)),
    ));
    list.push((
        "emacs reloc type 7".into(),
        Box::new(move |b| b[copy_entry as usize] |= 7),
    ));
    // Relocated words.
    for (kind, n, delta, what) in [
        (RelocKind::DumpLispValue(LispType::Cons), 7, 8u64, "cons +8"),
        (
            RelocKind::DumpLispValue(LispType::String),
            3,
            1 << 30,
            "string +1 GiB",
        ),
        (
            RelocKind::DumpLispValue(LispType::Vectorlike),
            11,
            16,
            "vectorlike +16",
        ),
        (RelocKind::DumpPtrRaw, 20, 1 << 40, "raw dump pointer +2^40"),
        (
            RelocKind::EmacsPtrRaw,
            5,
            1 << 36,
            "raw emacs pointer +2^36",
        ),
        (
            RelocKind::EmacsLispValue(LispType::Vectorlike),
            5,
            1 << 36,
            "emacs subr +2^36",
        ),
    ] {
        let (_, site) = nth(kind, n);
        list.push((
            format!("relocated word {what}"),
            Box::new(move |b| add_u64(b, site, delta)),
        ));
    }
    // The hash-list vector's first slot pointed at a cons.
    let list_at = h.hash_list.unwrap();
    let (_, cons_site) = nth(RelocKind::DumpLispValue(LispType::Cons), 9);
    let cons = d.word_at(cons_site).unwrap();
    list.push((
        "hash_list slot 0 aimed at a cons".into(),
        Box::new(move |b| put(b, list_at + 8, &cons.to_le_bytes())),
    ));
    // Arbitrary hot-region damage at deterministic pseudo-random places.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let hot = h.discardable_start - 104;
    for _ in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = 104 + (seed % hot) / 8 * 8;
        list.push((
            format!("hot word at {at} high byte flipped"),
            Box::new(move |b| b[at as usize + 5] ^= 0x5a),
        ));
    }
    for page in [3u64, 700] {
        let at = page * 4096;
        list.push((
            format!("hot page at {at} zeroed"),
            Box::new(move |b| b[at as usize..at as usize + 4096].fill(0)),
        ));
    }
    list
}

/// Whether Emacs starts and exits cleanly with `dump`.
fn emacs_accepts(emacs: &Path, dump: &Path) -> bool {
    std::process::Command::new("timeout")
        .args(["-s", "KILL", EMACS_TIMEOUT])
        .arg(emacs)
        .arg(format!("--dump-file={}", dump.display()))
        .args(["-Q", "--batch", "--eval", "(kill-emacs)"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run timeout(1) and emacs")
        .success()
}

/// Exit status of `pdmp verify DUMP --exe EMACS`.
fn pdmp_verdict(emacs: &Path, dump: &Path) -> i32 {
    Command::cargo_bin("pdmp")
        .unwrap()
        .arg("verify")
        .arg(dump)
        .arg("--exe")
        .arg(emacs)
        .output()
        .unwrap()
        .status
        .code()
        .expect("exit code")
}

#[test]
fn pdmp_rejects_every_corruption_emacs_fails_on() {
    let (Some(emacs), Some(dump)) = (common::emacs(), common::distribution_dump()) else {
        return;
    };
    assert!(emacs_accepts(&emacs, &dump), "Emacs fails on its own dump");
    assert_eq!(
        pdmp_verdict(&emacs, &dump),
        0,
        "pdmp rejects the pristine dump"
    );
    let pristine = std::fs::read(&dump).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut missed = Vec::new();
    let (mut emacs_failed, mut pdmp_rejected) = (0, 0);
    for (i, (name, edit)) in corruptions(&dump).into_iter().enumerate() {
        let mut bytes = pristine.clone();
        edit(&mut bytes);
        assert_ne!(bytes, pristine, "{name} changed nothing");
        let path = dir.path().join(format!("c{i}.pdmp"));
        std::fs::write(&path, &bytes).unwrap();
        let emacs_ok = emacs_accepts(&emacs, &path);
        let verdict = pdmp_verdict(&emacs, &path);
        eprintln!(
            "{name:45} emacs: {:6} pdmp: exit {verdict}",
            if emacs_ok { "ok" } else { "FAILS" }
        );
        emacs_failed += u32::from(!emacs_ok);
        pdmp_rejected += u32::from(verdict != 0);
        if !emacs_ok && verdict == 0 {
            missed.push(name);
        }
        std::fs::remove_file(&path).unwrap();
    }
    eprintln!("Emacs failed on {emacs_failed}, pdmp rejected {pdmp_rejected}");
    assert!(emacs_failed > 5, "the corruptions should break Emacs often");
    assert_eq!(missed, Vec::<String>::new(), "Emacs fails but pdmp accepts");
}
