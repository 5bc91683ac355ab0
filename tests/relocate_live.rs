//! Proof of `pdmp relocate` against a running Emacs (Linux): the image pdmp
//! computes offline for the bases a live Emacs chose must hold the same words
//! at the EARLY relocation sites as that Emacs's memory.
//!
//! Hot sites are read from the dump's private mapping; sites in the
//! discardable region (dropped after loading) are read where the loader
//! copied them, in the executable's data. Lisp code run at startup changes a
//! few slots (hash tables thawed, symbol values set), so the bar is 99.5 %
//! overall and 99 % for each relocation kind; differences are listed by the
//! type of object they lie in.
#![cfg(target_os = "linux")]

mod common;

use assert_cmd::Command;
use object::{Object, ObjectSegment};
use pdmp::lisp::LispType;
use pdmp::tables::EmacsRelocValue;
use pdmp::{DumpFile, Phase};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Kills the Emacs it holds when dropped, also when the test panics.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One line of /proc/PID/maps.
#[derive(Debug)]
struct Mapping {
    start: u64,
    offset: u64,
    inode: u64,
}

fn maps(pid: u32) -> Vec<Mapping> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("read maps");
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (start, _) = fields.first()?.split_once('-')?;
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                offset: u64::from_str_radix(fields.get(2)?, 16).ok()?,
                inode: fields.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("stat").ino()
}

#[test]
fn offline_image_matches_a_running_emacs_at_early_relocation_sites() {
    let Some(emacs) = common::emacs() else {
        return;
    };
    let dump_path = common::distribution_dump().expect("dump");
    let child = std::process::Command::new(&emacs)
        .args(["-Q", "--batch", "--eval", "(sleep-for 60)"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start emacs");
    let running = Running(child);
    let pid = running.0.id();
    let exe: PathBuf = std::fs::read_link(format!("/proc/{pid}/exe")).expect("exe link");
    let (dump_inode, exe_inode) = (inode(&dump_path), inode(&exe));

    // Wait for the dump to be mapped, then for startup to finish: the
    // process sleeps in `sleep-for`.
    let deadline = Instant::now() + Duration::from_secs(20);
    let dump_base = loop {
        assert!(
            Instant::now() < deadline,
            "Emacs never mapped {dump_path:?}"
        );
        if let Some(m) = maps(pid)
            .iter()
            .find(|m| m.inode == dump_inode && m.offset == 0)
        {
            break m.start;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    loop {
        assert!(Instant::now() < deadline, "Emacs never went to sleep");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let state = stat
            .rsplit_once(')')
            .expect("comm")
            .1
            .split_whitespace()
            .next();
        if state == Some("S") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mappings = maps(pid);
    let exe_bytes = std::fs::read(&exe).expect("read exe");
    let lowest_vaddr = object::File::parse(&*exe_bytes)
        .expect("ELF")
        .segments()
        .map(|s| s.address())
        .min()
        .expect("segments");
    let exe_start = mappings
        .iter()
        .filter(|m| m.inode == exe_inode && m.offset == 0)
        .map(|m| m.start)
        .min()
        .expect("executable mapped");
    let load_bias = exe_start - (lowest_vaddr & !0xfff);
    let dump_mappings: Vec<&Mapping> = mappings.iter().filter(|m| m.inode == dump_inode).collect();
    assert!(
        (1..=3).contains(&dump_mappings.len()),
        "dump in {} mappings",
        dump_mappings.len()
    );
    for m in &dump_mappings {
        assert_eq!(m.start - m.offset, dump_base, "mappings are consecutive");
    }

    // Relocate offline with those bases; the executable's addresses are
    // recovered by pdmp from the file.
    let scratch = tempfile::tempdir().expect("tempdir");
    let image_path = scratch.path().join("image");
    let out = Command::cargo_bin("pdmp")
        .expect("binary")
        .arg("relocate")
        .arg(&dump_path)
        .arg(format!("--dump-base={dump_base:#x}"))
        .arg("--exe")
        .arg(&exe)
        .arg(format!("--load-bias={load_bias:#x}"))
        .arg("-o")
        .arg(&image_path)
        .arg("--json")
        .output()
        .expect("run pdmp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let emacs_basis = report["bases"]["emacs_basis"].as_u64().expect("basis");
    let image = std::fs::read(&image_path).expect("image");

    let file = DumpFile::open(&dump_path).expect("open dump");
    let dump = file.dump().expect("dump");
    let header = *dump.header();
    let mem = File::open(format!("/proc/{pid}/mem")).expect("open /proc/PID/mem");
    let mut hot = vec![0u8; header.discardable_start as usize];
    mem.read_exact_at(&mut hot, dump_base)
        .expect("read hot region");
    let copies: Vec<(u64, u64, i64)> = dump
        .emacs_relocs()
        .iter()
        .filter_map(|r| match r.value {
            EmacsRelocValue::CopyFromDump {
                dump_offset,
                length,
            } => Some((dump_offset as u64, length as u64, i64::from(r.emacs_offset))),
            _ => None,
        })
        .collect();
    let starts: Vec<(u64, u8)> = dump
        .object_starts()
        .iter()
        .map(|s| (s.offset, s.type_bits))
        .collect();
    let numbering = dump.pvec_numbering().numbering.expect("numbering");
    let object_type = |site: u64| -> String {
        if site >= header.discardable_start {
            return "built-in symbol or subr (copied into the executable)".into();
        }
        let i = starts.partition_point(|&(offset, _)| offset <= site);
        let Some(&(offset, tag)) = i.checked_sub(1).map(|i| &starts[i]) else {
            return "before the first object".into();
        };
        match LispType::from_tag(tag.into()) {
            Some(LispType::Vectorlike) => {
                let h = dump.vector_header_at(offset).expect("header");
                numbering
                    .type_name(h.pvec_type())
                    .unwrap_or("?")
                    .to_string()
            }
            Some(t) => t.name().to_string(),
            None => format!("tag {tag}"),
        }
    };

    let mut equal = 0u64;
    let mut compared = 0u64;
    let mut by_kind: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut differing: BTreeMap<String, u64> = BTreeMap::new();
    let (_, early) = dump
        .dump_relocs()
        .find(|(p, _)| *p == Phase::Early)
        .expect("EARLY table");
    for reloc in early.iter() {
        let site = reloc.offset;
        let live = if site < header.discardable_start {
            u64::from_le_bytes(hot[site as usize..site as usize + 8].try_into().unwrap())
        } else {
            let Some(address) = copies.iter().find_map(|&(src, len, dest)| {
                (src..src + len)
                    .contains(&site)
                    .then(|| emacs_basis.wrapping_add_signed(dest + (site - src) as i64))
            }) else {
                continue;
            };
            let mut word = [0u8; 8];
            mem.read_exact_at(&mut word, address)
                .expect("read executable data");
            u64::from_le_bytes(word)
        };
        let offline =
            u64::from_le_bytes(image[site as usize..site as usize + 8].try_into().unwrap());
        compared += 1;
        let kind = by_kind.entry(reloc.kind.name()).or_default();
        kind.1 += 1;
        if live == offline {
            equal += 1;
            kind.0 += 1;
        } else {
            *differing.entry(object_type(site)).or_default() += 1;
        }
    }
    drop(running);

    eprintln!(
        "dump_base {dump_base:#x}, load bias {load_bias:#x}, emacs_basis {emacs_basis:#x}: \
         {equal} of {compared} EARLY sites equal ({:.3} %)",
        100.0 * equal as f64 / compared as f64
    );
    for (kind, (eq, n)) in &by_kind {
        eprintln!("  {kind}: {eq} of {n} equal");
    }
    eprintln!("differing sites by object type: {differing:#?}");
    assert!(
        compared as f64 >= 0.99 * early.len() as f64,
        "too few sites compared"
    );
    assert!(
        equal as f64 >= 0.995 * compared as f64,
        "only {equal} of {compared} equal; differing: {differing:?}"
    );
    for (kind, (eq, n)) in &by_kind {
        assert!(
            *eq as f64 >= 0.99 * *n as f64,
            "{kind}: only {eq} of {n} equal"
        );
    }
}
