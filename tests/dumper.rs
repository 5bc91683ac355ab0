//! `pdmp dump` and `pdmp-runtime` as a user runs them: reference dumps
//! regenerate byte for byte, parse with the format library, load back to the
//! values the reader gives, and refuse what Emacs refuses.

mod common;

use assert_cmd::Command;
use pdmp::heap::constant;
use pdmp::value::Value;
use std::path::{Path, PathBuf};

const SAMPLE: &str = "testdata/reference/sample.el";
const LAYOUTS: [&str; 4] = ["emacs-27", "emacs-28", "emacs-29", "emacs-30"];

fn pdmp() -> Command {
    let mut cmd = Command::cargo_bin("pdmp").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn runtime() -> Command {
    let mut cmd = Command::cargo_bin("pdmp-runtime").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn reference(layout: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/reference/sample-{layout}.pdmp"))
}

#[test]
fn reference_dumps_regenerate_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for layout in LAYOUTS {
        let out = dir.path().join(format!("{layout}.pdmp"));
        pdmp()
            .args(["dump", SAMPLE, "--layout", layout, "-o"])
            .arg(&out)
            .assert()
            .success();
        let fresh = std::fs::read(&out).unwrap();
        let committed = std::fs::read(reference(layout)).unwrap();
        assert!(
            fresh == committed,
            "{layout}: regenerated dump differs from testdata (see testdata/README.md)"
        );
    }
}

#[test]
fn reference_dumps_parse_with_the_format_library() {
    for layout in LAYOUTS {
        let out = pdmp()
            .args(["info", "--json"])
            .arg(reference(layout))
            .assert()
            .success();
        let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(json["pvec_numbering"]["numbering"], layout);
        let header = if layout == "emacs-27" {
            "emacs-27"
        } else {
            "emacs-28"
        };
        assert_eq!(json["layout"], header);
        assert_eq!(json["trailing_bytes"], 0);
        assert_eq!(json["reloc_counts"]["elsewhere"], 0);
    }
}

#[test]
fn runtime_prints_the_values_the_reader_reads() {
    let bindings = common::sample_bindings();
    assert!(bindings.len() >= 10);
    for layout in LAYOUTS {
        for mode in [None, Some("--no-mmap")] {
            let mut cmd = runtime();
            cmd.arg(reference(layout)).args(mode);
            for (name, _) in &bindings {
                cmd.args(["--print", name]);
            }
            let out = cmd.assert().success();
            let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
            let printed: Vec<&str> = text.lines().collect();
            let expected: Vec<String> = bindings.iter().map(|(_, v)| v.to_lisp_string()).collect();
            assert_eq!(printed, expected, "{layout} {mode:?}");
        }
    }
}

#[test]
fn runtime_reports_void_and_unknown_symbols() {
    runtime()
        .arg(reference("emacs-28"))
        .args(["--print", "sample-void"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("void: sample-void"));
    runtime()
        .arg(reference("emacs-28"))
        .args(["--print", "no-such-symbol-anywhere"])
        .assert()
        .code(1);
}

#[test]
fn runtime_refuses_a_foreign_fingerprint_failed_dump_and_non_dump() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(reference("emacs-28")).unwrap();
    bytes[20] ^= 0xff;
    let foreign = dir.path().join("foreign.pdmp");
    std::fs::write(&foreign, &bytes).unwrap();
    runtime()
        .arg(&foreign)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not built for this executable"))
        .stderr(predicates::str::contains("Dump fingerprint:"));
    bytes[20] ^= 0xff;
    bytes[0] = b'!';
    let failed = dir.path().join("failed.pdmp");
    std::fs::write(&failed, &bytes).unwrap();
    runtime()
        .arg(&failed)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "dump file is result of failed dump attempt",
        ));
    runtime()
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a dump file"));
    // Emacs's own dump was made for another executable.
    if let Some(emacs_dump) = common::distribution_dump() {
        runtime()
            .arg(emacs_dump)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("not built for this executable"));
    }
}

#[test]
fn runtime_refuses_an_unsorted_relocation_table() {
    // A small dump is relocated by one thread, a large one by two, each its
    // half; on both, and on both load paths, an entry out of order is an
    // error (with two threads, an entry of one half pointing into the other
    // would otherwise be a race).
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("big.el");
    let items: String = (0..100_000).map(|i| format!("\"item {i}\" ")).collect();
    std::fs::write(&source, format!("(setq big-list '({items}))\n")).unwrap();
    let big = dir.path().join("big.pdmp");
    pdmp()
        .arg("dump")
        .arg(&source)
        .arg("-o")
        .arg(&big)
        .assert()
        .success();
    for (name, original) in [("small", reference("emacs-28")), ("big", big)] {
        let mut bytes = std::fs::read(original).unwrap();
        let dump = pdmp::Dump::parse(&bytes).unwrap();
        let (_, table) = dump.header().dump_reloc_tables().next().unwrap();
        assert!(table.count > 2);
        let two_threads = dump.header().cold_start >= 1 << 20;
        assert_eq!(
            two_threads,
            name == "big",
            "{name}: {}",
            dump.header().cold_start
        );
        let first = table.offset as usize;
        let last = first + 4 * (table.count as usize - 1);
        for i in 0..4 {
            bytes.swap(first + i, last + i);
        }
        let unsorted = dir.path().join(format!("unsorted-{name}.pdmp"));
        std::fs::write(&unsorted, &bytes).unwrap();
        for read in [false, true] {
            let mut cmd = runtime();
            if read {
                cmd.arg("--no-mmap");
            }
            cmd.arg(&unsorted)
                .assert()
                .code(2)
                .stderr(predicates::str::contains(format!("unsorted-{name}.pdmp")))
                .stderr(predicates::str::contains("the table is not sorted"));
        }
    }
}

#[test]
fn the_runtime_executable_carries_the_fingerprint_of_its_dumps() {
    let dump = std::fs::read(reference("emacs-30")).unwrap();
    let fingerprint = &dump[16..48];
    let exe = std::fs::read(env!("CARGO_BIN_EXE_pdmp-runtime")).unwrap();
    let hits = exe.windows(32).filter(|w| *w == fingerprint).count();
    assert!(hits >= 1, "fingerprint not found in the runtime executable");
    let out = runtime().arg("--fingerprint").assert().success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout).trim(),
        pdmp::header::hex(fingerprint)
    );
}

#[test]
fn dump_never_leaves_a_partial_file_and_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.el");
    std::fs::write(&bad, "(defvar x '(1 2").unwrap();
    let out = dir.path().join("out.pdmp");
    pdmp()
        .arg("dump")
        .arg(&bad)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.el"))
        .stderr(predicates::str::contains("end of input"));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn whole_emacs_lisp_tree_dumps_loads_and_prints_what_the_reader_reads() {
    let lisp = Path::new("/usr/share/emacs/28.2/lisp");
    if common::emacs().is_none() || !lisp.is_dir() {
        return;
    }
    let mut sources: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![lisp.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let n = p.to_string_lossy().to_string();
            if p.is_dir() {
                dirs.push(p);
            } else if n.ends_with(".el") || n.ends_with(".el.gz") {
                sources.push(p);
            }
        }
    }
    sources.sort();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.pdmp");
    pdmp()
        .arg("dump")
        .args(&sources)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    pdmp().arg("info").arg(&out).assert().success();
    pdmp().arg("verify").arg(&out).assert().success();
    // Same sources, same bytes.
    let again = dir.path().join("again.pdmp");
    pdmp()
        .arg("dump")
        .args(&sources)
        .arg("-o")
        .arg(&again)
        .assert()
        .success();
    assert!(same_bytes(&out, &again), "re-dump of the tree differs");
    // Sample defconsts with constant values: the last binding wins, as in a load.
    let mut expected = std::collections::BTreeMap::new();
    for path in &sources {
        for form in pdmp::reader::read_file(path).unwrap() {
            if let Some([Value::Symbol(head), Value::Symbol(name), value, ..]) = form.as_list() {
                if head == "defconst" {
                    expected.insert(name.clone(), constant(value));
                }
            }
        }
    }
    let sample: Vec<(&String, &Value)> = expected.iter().step_by(25).collect();
    let mut cmd = runtime();
    cmd.arg(&out);
    for (name, _) in &sample {
        cmd.args(["--print", name]);
    }
    let printed = cmd.assert().success().get_output().stdout.clone();
    let printed = String::from_utf8_lossy(&printed);
    let got: Vec<Value> = pdmp::reader::read_all(printed.as_bytes()).unwrap();
    let want: Vec<Value> = sample.iter().map(|(_, v)| (*v).clone()).collect();
    assert_eq!(got, want);
}

/// Whether two files hold the same bytes (compared a block at a time).
fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = a.read(&mut x).unwrap();
        let mut m = 0;
        while m < n {
            match b.read(&mut y[m..n]).unwrap() {
                0 => return false,
                k => m += k,
            }
        }
        if n == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
        if x[..n] != y[..n] {
            return false;
        }
    }
}
