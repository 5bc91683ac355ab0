//! Hostile-input budgets: on crafted files, every subcommand ends cleanly
//! (exit 0, 1 or 2, no panic), allocates at most 2× the file size (for
//! `diff`, 2× both files; for `decompress`, 2× the dump it writes), and
//! uses at most 10× the CPU time per byte that it uses on a valid dump.
//!
//! Peak heap is what the real `pdmp` binary reports with `PDMP_PEAK_HEAP=1`
//! (its counting global allocator; memory-mapped input is not heap). Time is
//! the child's user + system CPU time (from `wait4`), compared per byte with
//! the same subcommand on the valid dump the file was crafted from, with a
//! floor of 50 ms for the valid run so that process start-up noise cannot
//! fail a ratio; a ratio over budget is measured again, best of 3.
//!
//! Crafted files are mutations of a real Emacs dump (same size as the
//! valid one) and real Emacs dumps of hostile heaps (deep nesting, a huge
//! cycle), which the installed Emacs makes at run time.

mod common;

use pdmp::lisp::LispType;
use pdmp::Dump;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Memory budget: peak heap per byte of input, for every subcommand.
const HEAP_PER_BYTE: u64 = 2;
/// Time budget: CPU time per byte, relative to a valid dump.
const TIME_RATIO: f64 = 10.0;
/// The valid run's CPU time is taken as at least this much.
const TIME_FLOOR: Duration = Duration::from_millis(50);

struct Run {
    cpu: Duration,
    peak: u64,
    code: i32,
    stderr: String,
}

/// Runs the real binary with `args`, without an Emacs on PATH (the budgets
/// are about the input file, not about an executable read for names).
// The child is reaped by `wait4` (for its own rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run(args: &[OsString], scratch: &Path) -> Run {
    let stderr_path = scratch.join("stderr");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let child = Command::new(assert_cmd::cargo::cargo_bin("pdmp"))
        .args(args)
        .env("PDMP_PEAK_HEAP", "1")
        .env("PATH", "")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn pdmp");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: waiting for the child spawned above, exactly once.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let status = std::process::ExitStatus::from_raw(status);
    let stderr = std::fs::read_to_string(&stderr_path).expect("read stderr");
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("pdmp: peak heap: "))
        .and_then(|l| l.strip_suffix(" bytes"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak heap report: {args:?}: {stderr}"));
    Run {
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak,
        code: status.code().unwrap_or_else(|| {
            panic!(
                "pdmp killed by signal {:?}: {args:?}: {stderr}",
                status.signal()
            )
        }),
        stderr,
    }
}

/// One subcommand run on `file` (and `valid` for diff): its arguments and
/// the input bytes its memory budget is measured against.
struct Invocation {
    name: &'static str,
    args: Vec<OsString>,
    input_bytes: u64,
}

/// Outputs go to `out` (a directory of their own per file); `diff`
/// compares `file` with `partner`.
fn invocations(file: &Path, partner: &Path, out: &Path) -> Vec<Invocation> {
    let size = |p: &Path| std::fs::metadata(p).expect("size").len();
    let s = |x: &str| OsString::from(x);
    let f = || file.as_os_str().to_owned();
    let out = |name: &str| out.join(name).into_os_string();
    let one = |name, args: Vec<OsString>| Invocation {
        name,
        args,
        input_bytes: size(file),
    };
    vec![
        one("info", vec![s("info"), f()]),
        one("info --json", vec![s("info"), s("--json"), f()]),
        one("verify", vec![s("verify"), s("--json"), f()]),
        one("stats", vec![s("stats"), s("--json"), f()]),
        one(
            "stats --symbol",
            vec![s("stats"), s("--symbol"), s("nil"), f()],
        ),
        Invocation {
            name: "diff",
            args: vec![s("diff"), s("--json"), partner.into(), f()],
            input_bytes: size(file) + size(partner),
        },
        one(
            "relocate",
            vec![
                s("relocate"),
                f(),
                s("--dump-base"),
                s("0x7f0000000000"),
                s("--emacs-basis"),
                s("0x555555800000"),
                s("--dry-run"),
            ],
        ),
        one(
            "compress",
            vec![s("compress"), s("--force"), f(), s("-o"), out("c.pdmpz")],
        ),
        one(
            "extract",
            vec![s("extract"), f(), s("-o"), out("extracted")],
        ),
        one("embed --check", vec![s("embed"), s("--check"), f()]),
    ]
}

/// Best CPU time of `n` runs.
fn best_cpu(args: &[OsString], scratch: &Path, n: usize) -> Duration {
    (0..n).map(|_| run(args, scratch).cpu).min().expect("runs")
}

/// Checks every subcommand on `file` against the budgets, with `valid` (a
/// sound real dump) as the time reference and `partner` as what `diff`
/// compares `file` with.
fn check_budgets(label: &str, file: &Path, valid: &Path, partner: &Path) {
    let scratch = tempfile::tempdir().expect("scratch");
    let file_size = std::fs::metadata(file).expect("size").len() as f64;
    let valid_size = std::fs::metadata(valid).expect("size").len() as f64;
    let mut failures = Vec::new();
    let (crafted_out, valid_out) = (scratch.path().join("crafted"), scratch.path().join("valid"));
    std::fs::create_dir_all(&crafted_out).expect("scratch");
    std::fs::create_dir_all(&valid_out).expect("scratch");
    let reference = invocations(valid, valid, &valid_out);
    for (inv, reference) in invocations(file, partner, &crafted_out)
        .iter()
        .zip(&reference)
    {
        let r = run(&inv.args, scratch.path());
        assert!(
            !r.stderr.contains("panicked"),
            "{label}: {} panicked: {}",
            inv.name,
            r.stderr
        );
        assert!(
            matches!(r.code, 0..=2),
            "{label}: {} exited {}: {}",
            inv.name,
            r.code,
            r.stderr
        );
        if r.peak > HEAP_PER_BYTE * inv.input_bytes {
            failures.push(format!(
                "{}: peak heap {} bytes > {HEAP_PER_BYTE} × {} input bytes",
                inv.name, r.peak, inv.input_bytes
            ));
        }
        // Time per byte against the same subcommand on the valid dump.
        let ratio = |crafted: Duration, valid_cpu: Duration| {
            (crafted.as_secs_f64() / file_size)
                / (valid_cpu.max(TIME_FLOOR).as_secs_f64() / valid_size)
        };
        let valid_cpu = run(&reference.args, scratch.path()).cpu;
        let mut measured = ratio(r.cpu, valid_cpu);
        if measured > TIME_RATIO {
            measured = ratio(
                best_cpu(&inv.args, scratch.path(), 3),
                best_cpu(&reference.args, scratch.path(), 3),
            );
        }
        // The figures, for `cargo test --test hostile -- --nocapture`.
        println!(
            "{label} {}: peak heap {:.2}× input, {measured:.2}× valid CPU time per byte",
            inv.name,
            r.peak as f64 / inv.input_bytes as f64
        );
        if measured > TIME_RATIO {
            failures.push(format!(
                "{}: {:.1}× the CPU time per byte of a valid dump (budget {TIME_RATIO}×)",
                inv.name, measured
            ));
        }
        // Decompression: the container just written, against the dump it
        // holds (its output is the size of that dump).
        if inv.name == "compress" && r.code == 0 {
            let container = crafted_out.join("c.pdmpz");
            let args: Vec<OsString> = vec![
                "decompress".into(),
                "--force".into(),
                container.clone().into(),
                "-o".into(),
                crafted_out.join("d.pdmp").into(),
            ];
            let d = run(&args, scratch.path());
            assert_eq!(d.code, 0, "{label}: decompress: {}", d.stderr);
            let output_size = std::fs::metadata(crafted_out.join("d.pdmp"))
                .expect("decompressed")
                .len();
            assert_eq!(output_size as f64, file_size, "{label}: round trip size");
            println!(
                "{label} decompress: peak heap {:.2}× output",
                d.peak as f64 / output_size as f64
            );
            if d.peak > HEAP_PER_BYTE * output_size {
                failures.push(format!(
                    "decompress: peak heap {} bytes > {HEAP_PER_BYTE} × {output_size} output bytes",
                    d.peak
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{label} over budget:\n{}",
        failures.join("\n")
    );
}

/// The valid real dump the mutations start from.
fn base() -> Option<PathBuf> {
    Some(common::vanilla_dump()?.path)
}

/// Writes a copy of the base dump changed by `mutate` and checks it.
fn mutated(label: &str, mutate: impl FnOnce(&Dump<'_>, &mut Vec<u8>)) {
    let Some(valid) = base() else { return };
    let bytes = std::fs::read(&valid).expect("read base");
    let mut crafted = bytes.clone();
    mutate(&Dump::parse(&bytes).expect("base parses"), &mut crafted);
    assert_ne!(crafted, bytes, "{label}: the mutation changed nothing");
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join(format!("{label}.pdmp"));
    std::fs::write(&file, &crafted).expect("write crafted");
    check_budgets(label, &file, &valid, &valid);
}

fn put_u32(bytes: &mut [u8], at: u64, value: u32) {
    bytes[at as usize..at as usize + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], at: u64, value: u64) {
    bytes[at as usize..at as usize + 8].copy_from_slice(&value.to_le_bytes());
}

fn get_u32(bytes: &[u8], at: u64) -> u32 {
    u32::from_le_bytes(bytes[at as usize..at as usize + 4].try_into().expect("4"))
}

/// Offsets of the objects of type `ty` in the object-starts table.
fn objects_of(dump: &Dump<'_>, ty: LispType) -> Vec<u64> {
    dump.object_starts()
        .iter()
        .filter(|s| s.lisp_type() == Some(ty))
        .map(|s| s.offset)
        .collect()
}

#[test]
fn valid_dump_is_within_budget() {
    let Some(valid) = base() else { return };
    check_budgets("valid", &valid, &valid, &valid);
}

#[test]
fn table_counts_claiming_huge_tables() {
    mutated("huge-counts", |dump, bytes| {
        let at = dump.header().layout.field_offsets();
        put_u32(bytes, at.object_starts + 4, i32::MAX as u32);
        put_u32(bytes, at.emacs_relocs + 4, i32::MAX as u32);
        put_u32(bytes, at.dump_relocs[0] + 4, i32::MAX as u32);
    });
}

#[test]
fn overlapping_tables() {
    // The object-starts table laid over the EARLY relocation table.
    mutated("overlapping-tables", |dump, bytes| {
        let at = dump.header().layout.field_offsets();
        let early = bytes[at.dump_relocs[0] as usize..at.dump_relocs[0] as usize + 8].to_vec();
        bytes[at.object_starts as usize..at.object_starts as usize + 8].copy_from_slice(&early);
    });
}

#[test]
fn relocations_all_pointing_at_one_object() {
    mutated("relocs-one-target", |dump, bytes| {
        let first = dump.object_starts().get(0).expect("an object").offset;
        for (_, table) in dump.dump_relocs() {
            for i in 0..table.len() {
                let at = table.entry_offset(i);
                let kind = get_u32(bytes, at) >> 27;
                put_u32(bytes, at, (kind << 27) | (first >> 2) as u32);
            }
        }
        // The encoding assumed above is the one the library decodes.
        let check = Dump::parse(bytes).expect("still parses");
        let (_, early) = check.dump_relocs().next().expect("a table");
        assert_eq!(early.get(0).expect("an entry").offset, first);
    });
}

#[test]
fn object_starts_all_naming_one_object() {
    mutated("starts-one-object", |dump, bytes| {
        let starts = dump.object_starts();
        let first = get_u32(bytes, starts.entry_offset(0));
        for i in 0..starts.len() {
            put_u32(bytes, starts.entry_offset(i), first);
        }
    });
}

#[test]
fn object_starts_in_reverse_order() {
    mutated("reversed-starts", |dump, bytes| {
        let starts = dump.object_starts();
        let (from, to) = (starts.entry_offset(0), starts.entry_offset(starts.len()));
        let mut entries: Vec<[u8; 4]> = bytes[from as usize..to as usize]
            .chunks(4)
            .map(|c| c.try_into().expect("4"))
            .collect();
        entries.reverse();
        bytes[from as usize..to as usize].copy_from_slice(&entries.concat());
    });
}

#[test]
fn vectorlike_headers_claiming_huge_sizes() {
    mutated("huge-vectors", |dump, bytes| {
        for (i, offset) in objects_of(dump, LispType::Vectorlike)
            .into_iter()
            .enumerate()
        {
            let header = if i % 2 == 0 {
                // A plain vector of 2^61 slots.
                1 << 61
            } else {
                // A pseudovector with every size field at its maximum.
                let word = u64::from_le_bytes(
                    bytes[offset as usize..offset as usize + 8]
                        .try_into()
                        .expect("8"),
                );
                word | pdmp::lisp::PSEUDOVECTOR_FLAG | 0xff_ffff
            };
            put_u64(bytes, offset, header);
        }
    });
}

#[test]
fn every_cons_pointing_at_one_cons() {
    // car and cdr of every cons name the first cons: a cycle through
    // everything, and one node with hundreds of thousands of predecessors.
    mutated("cons-cycle", |dump, bytes| {
        let conses = objects_of(dump, LispType::Cons);
        let target = conses[0] | u64::from(LispType::Cons.tag());
        for offset in conses {
            put_u64(bytes, offset, target);
            put_u64(bytes, offset + 8, target);
        }
    });
}

#[test]
fn hot_region_overwritten_with_noise() {
    mutated("noise", |dump, bytes| {
        let h = dump.header();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let start = h.layout.header_size().next_multiple_of(8);
        for at in (start..h.discardable_start).step_by(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            put_u64(bytes, at, state);
        }
    });
}

#[test]
fn heap_overwritten_with_zeros() {
    // A heap stream that compresses far beyond the ratio up to which a
    // container's recorded lengths are believed: decompression checks the
    // length by decoding before it allocates.
    mutated("zeros", |dump, bytes| {
        let h = dump.header();
        let start = h.layout.header_size().next_multiple_of(8) as usize;
        bytes[start..h.cold_start as usize].fill(0);
    });
}

/// A real dump of a heap built by `lisp`, checked against the vanilla dump.
fn hostile_heap(name: &str, lisp: &str) {
    let (Some(valid), Some(crafted)) = (base(), common::fresh_dump(name, lisp)) else {
        return;
    };
    check_budgets(name, &crafted.path, &valid, &valid);
}

#[test]
fn deeply_nested_conses() {
    hostile_heap(
        "hostile-deep-conses",
        "(let ((x nil)) (dotimes (_ 300000) (setq x (list x))) (setq pdmp-hostile x))",
    );
}

#[test]
fn deeply_nested_vectors() {
    hostile_heap(
        "hostile-deep-vectors",
        "(let ((x nil)) (dotimes (_ 200000) (setq x (vector x 1))) (setq pdmp-hostile x))",
    );
}

#[test]
fn one_huge_cycle() {
    hostile_heap(
        "hostile-ring",
        "(let ((l (make-list 500000 'x))) (setcdr (last l) l) (setq pdmp-hostile l))",
    );
}

/// Writes the heap that Lisp `source` builds as a dump with `pdmp dump`
/// (the reference dumper), in `dir`.
fn reference_dump(dir: &Path, source: &str) -> PathBuf {
    let el = dir.join("source.el");
    std::fs::write(&el, source).expect("source");
    let dump = dir.join("reference.pdmp");
    let dumped = Command::new(assert_cmd::cargo::cargo_bin("pdmp"))
        .arg("dump")
        .arg(&el)
        .arg("-o")
        .arg(&dump)
        .output()
        .expect("run pdmp dump");
    assert!(dumped.status.success(), "pdmp dump: {dumped:?}");
    dump
}

/// The small reference dump `diff` compares dumps of the reference dumper
/// with: their budget is then nearly 2× the crafted file alone.
fn small_partner() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/sample-emacs-28.pdmp")
}

/// Conses in [`ring_of_conses`]: 24 file bytes each.
const RING_CONSES: usize = 2_000_000;

#[test]
fn ring_of_conses() {
    // A dump made almost only of conses (the densest kind of object:
    // 24 file bytes each with its relocation and object start), all in one
    // ring, so the structural hashing searches as deep as the file is
    // long. The reference dumper writes the list (7 1 1 … 1 8 9); the cdr
    // of the cons holding 8 is then pointed back at the first cons.
    let Some(valid) = base() else { return };
    let dir = tempfile::tempdir().expect("scratch");
    let ones = "1 ".repeat(RING_CONSES - 3);
    let chain = reference_dump(dir.path(), &format!("(setq pdmp-ring '(7 {ones}8 9))\n"));
    let mut bytes = std::fs::read(&chain).expect("read chain");
    let dump = Dump::parse(&bytes).expect("chain parses");
    let car = |cons: u64| dump.word(cons).expect("car");
    let conses = objects_of(&dump, LispType::Cons);
    let find = |n: i64| {
        let found: Vec<u64> = conses
            .iter()
            .copied()
            .filter(|&c| car(c) == pdmp::objlayout::fixnum(n))
            .collect();
        assert_eq!(found.len(), 1, "one cons holds {n}");
        found[0]
    };
    let (first, eight, nine) = (find(7), find(8), find(9));
    assert!(conses.len() >= RING_CONSES, "the dump holds the list");
    // A dump pointer is stored as the offset of its target.
    assert_eq!(dump.word(eight + 8).expect("cdr"), nine, "cdr of 8");
    put_u64(&mut bytes, eight + 8, first);
    let ring = dir.path().join("ring.pdmp");
    std::fs::write(&ring, &bytes).expect("write ring");
    check_budgets("cons-ring", &ring, &valid, &small_partner());
}

/// Lists in the vector of [`vector_of_lists`].
const VECTOR_LISTS: usize = 400_000;

/// A dump of one vector of `VECTOR_LISTS` two-element lists, made by the
/// reference dumper; with `cycle`, the second cons of each list is
/// replaced by the vector (each list's cdr points back at it).
fn vector_of_lists(label: &str, cycle: bool) {
    let Some(valid) = base() else { return };
    let dir = tempfile::tempdir().expect("scratch");
    let lists: String = (0..VECTOR_LISTS).map(|i| format!("({i} 5) ")).collect();
    let file = reference_dump(dir.path(), &format!("(setq pdmp-vector [{lists}])\n"));
    if cycle {
        let mut bytes = std::fs::read(&file).expect("read dump");
        let dump = Dump::parse(&bytes).expect("dump parses");
        let vectors: Vec<u64> = objects_of(&dump, LispType::Vectorlike)
            .into_iter()
            .filter(|&v| dump.word(v) == Some(VECTOR_LISTS as u64))
            .collect();
        assert_eq!(vectors.len(), 1, "one vector of {VECTOR_LISTS} slots");
        let vector = vectors[0];
        let lists: Vec<u64> = (0..VECTOR_LISTS as u64)
            .map(|i| dump.word(vector + 8 + 8 * i).expect("slot"))
            .collect();
        for list in lists {
            put_u64(&mut bytes, list + 8, vector);
        }
        std::fs::write(&file, &bytes).expect("write cycle");
    }
    check_budgets(label, &file, &valid, &small_partner());
}

#[test]
fn huge_vector_of_lists() {
    // One object with hundreds of thousands of pointers: hashing it must
    // not copy it whole, nor its edges.
    vector_of_lists("vector-of-lists", false);
}

#[test]
fn huge_vector_in_a_cycle_with_its_lists() {
    // Every list points back at the vector: a component of 400,001
    // members, each of which refers to the large one.
    vector_of_lists("vector-cycle", true);
}
