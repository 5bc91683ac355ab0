//! `pdmp embed` and `pdmp extract` on the real Emacs executable and dump, on
//! other executables, through `strip`, and on damaged files.

mod common;

use assert_cmd::Command;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run pdmp")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn embed(exe: &Path, dump: &Path, out: &Path, extra: &[&str]) -> Output {
    run(pdmp()
        .arg("embed")
        .arg("--exe")
        .arg(exe)
        .arg(dump)
        .arg("-o")
        .arg(out)
        .args(extra))
}

fn check(bin: &Path) -> (Output, serde_json::Value) {
    let out = run(pdmp().args(["embed", "--json", "--check"]).arg(bin));
    let value = json(&out);
    (out, value)
}

fn extract(bin: &Path, out: &Path) -> Output {
    run(pdmp()
        .arg("extract")
        .arg(bin)
        .arg("-o")
        .arg(out)
        .arg("--json"))
}

/// Runs a binutils tool on `file` in place.
fn binutils(tool: &[&str], file: &Path) {
    let status = std::process::Command::new(tool[0])
        .args(&tool[1..])
        .arg(file)
        .status()
        .unwrap_or_else(|e| panic!("{} not runnable ({e}): .ci/run installs binutils", tool[0]));
    assert!(status.success(), "{tool:?} failed on {}", file.display());
}

/// The Emacs executable and a directory laid out like its installation
/// prefix (`bin/` for copies, everything else symlinked), so that a copy in
/// `bin/` finds the native-compiled Lisp at the same relative path.
struct EmacsPrefix {
    _dir: tempfile::TempDir,
    exe: PathBuf,
    bin: PathBuf,
}

fn emacs_prefix() -> Option<EmacsPrefix> {
    let exe = std::fs::canonicalize(common::emacs()?).expect("emacs path");
    let real_bin = exe.parent().expect("bin dir");
    let real_prefix = real_bin.parent().expect("prefix");
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join(real_bin.file_name().expect("bin name"));
    std::fs::create_dir(&bin).unwrap();
    for entry in std::fs::read_dir(real_prefix).unwrap() {
        let entry = entry.unwrap();
        if entry.path() != real_bin {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    Some(EmacsPrefix {
        _dir: dir,
        exe,
        bin,
    })
}

/// Runs an Emacs executable in batch mode and returns what `lisp` printed.
fn emacs_batch(exe: &Path, extra: &[&str], lisp: &str) -> String {
    let out = run_new_executable(
        std::process::Command::new(exe)
            .args(extra)
            .args(["--batch", "-Q", "--eval", lisp]),
    );
    assert!(
        out.status.success(),
        "{} failed: {}",
        exe.display(),
        stderr_of(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const PRINT_DUMP: &str = "(princ (cdr (assq 'dump-file-name (pdumper-stats))))";

#[test]
fn emacs_with_embedded_section_survives_strip_and_the_extracted_dump_loads() {
    let (Some(prefix), Some(dump)) = (emacs_prefix(), common::distribution_dump()) else {
        return;
    };
    let dump_bytes = std::fs::read(&dump).unwrap();
    // The input is a private copy with unusual permission bits.
    let input = prefix.bin.join("emacs-input");
    std::fs::copy(&prefix.exe, &input).unwrap();
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o751)).unwrap();
    let input_bytes = std::fs::read(&input).unwrap();

    let copy = prefix.bin.join("emacs-with-dump");
    let out = embed(&input, &dump, &copy, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["mode"], "section");
    assert_eq!(report["fingerprint_in_executable"], true);
    assert_eq!(report["range"]["size"], dump_bytes.len() as u64);
    assert_eq!(report["range"]["offset"].as_u64().unwrap() % 65536, 0);
    assert_eq!(std::fs::read(&input).unwrap(), input_bytes, "BIN modified");
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o751, "permission bits of BIN kept");
    assert_eq!(
        std::fs::read(&copy).unwrap().len() as u64,
        report["output_size"]
    );

    // The copy with the section starts normally, before and after strip.
    assert!(emacs_batch(&copy, &[], PRINT_DUMP).ends_with(".pdmp"));
    let (out, before) = check(&copy);
    assert!(out.status.success(), "{before}");
    assert_eq!(before["aligned_64k"], true);
    // GNU strip and objcopy keep even a non-allocated section; eu-strip
    // (elfutils, used by RPM builds) and llvm-strip drop one: SHF_ALLOC is
    // what keeps the dump there. llvm-strip is tried when installed.
    let mut tools = vec![&["strip"][..], &["objcopy", "--strip-all"], &["eu-strip"]];
    if pdmp::locate::find_on_path("llvm-strip").is_some() {
        tools.push(&["llvm-strip"]);
    }
    for tool in tools {
        let stripped = prefix.bin.join(format!("emacs-{}", tool.join("")));
        std::fs::copy(&copy, &stripped).unwrap();
        binutils(tool, &stripped);
        assert!(
            std::fs::read(&stripped).unwrap() != std::fs::read(&copy).unwrap(),
            "{tool:?} rewrote nothing, so it proves nothing"
        );
        assert!(emacs_batch(&stripped, &[], PRINT_DUMP).ends_with(".pdmp"));

        let (out, after) = check(&stripped);
        assert!(out.status.success(), "{tool:?}: {after}");
        assert_eq!(after["mode"], "section");
        assert_eq!(after["fingerprint_in_executable"], true);
        assert_eq!(after["fingerprint"], before["fingerprint"]);
        assert_eq!(after["page_aligned"], true, "{tool:?}: {after}");

        let extracted = prefix.bin.join(format!("{}.pdmp", tool.join("")));
        let out = extract(&stripped, &extracted);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            std::fs::read(&extracted).unwrap() == dump_bytes,
            "{tool:?}: extracted dump differs from the original"
        );
        // Emacs itself loads the extracted dump, and says it did.
        let loaded = emacs_batch(
            &prefix.exe,
            &[&format!("--dump-file={}", extracted.display())],
            PRINT_DUMP,
        );
        assert_eq!(Path::new(&loaded), extracted);

        // `pdmp info` reads the stripped executable as its dump.
        let info = json(&run(pdmp().args(["info", "--json"]).arg(&stripped)));
        let info_dump = json(&run(pdmp().args(["info", "--json"]).arg(&dump)));
        assert_eq!(info["embedded"]["mode"], "section");
        assert_eq!(info["size"], info_dump["size"]);
        assert_eq!(info["fingerprint"], info_dump["fingerprint"]);
        assert_eq!(info["byte_counts"], info_dump["byte_counts"]);
    }
}

#[test]
fn appended_dump_round_trips_and_strip_removes_it_with_a_clear_message() {
    let (Some(prefix), Some(dump)) = (emacs_prefix(), common::distribution_dump()) else {
        return;
    };
    let dump_bytes = std::fs::read(&dump).unwrap();
    let copy = prefix.bin.join("emacs-appended");
    let out = embed(&prefix.exe, &dump, &copy, &["--append", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["mode"], "append");
    assert!(emacs_batch(&copy, &[], PRINT_DUMP).ends_with(".pdmp"));

    let (out, report) = check(&copy);
    assert!(out.status.success(), "{report}");
    assert_eq!(report["mode"], "append");
    assert_eq!(report["checksum_ok"], true);
    assert_eq!(report["aligned_64k"], true);
    let extracted = prefix.bin.join("appended.pdmp");
    let out = extract(&copy, &extracted);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&extracted).unwrap() == dump_bytes);

    // strip drops everything outside sections: the trailer is gone.
    let stripped = prefix.bin.join("emacs-appended-stripped");
    std::fs::copy(&copy, &stripped).unwrap();
    binutils(&["strip"], &stripped);
    let (out, report) = check(&stripped);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(report["embedded"], false);
    let problem = report["problem"].as_str().unwrap();
    assert!(problem.contains("no pdmp trailer"), "{problem}");
    assert!(problem.contains("removed by strip"), "{problem}");
    let target = prefix.bin.join("never.pdmp");
    let out = extract(&stripped, &target);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no pdmp trailer"), "{}", stderr(&out));
    assert!(!target.exists(), "no output on failure");
    let out = run(pdmp().arg("info").arg(&stripped));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("carries no dump"), "{}", stderr(&out));
}

#[test]
fn damaged_appended_dumps_are_reported_not_extracted() {
    let (Some(prefix), Some(dump)) = (emacs_prefix(), common::distribution_dump()) else {
        return;
    };
    let copy = prefix.bin.join("emacs-appended");
    let out = embed(&prefix.exe, &dump, &copy, &["--append", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let offset = json(&out)["range"]["offset"].as_u64().unwrap() as usize;
    let good = std::fs::read(&copy).unwrap();
    let target = prefix.bin.join("damaged.pdmp");

    // One flipped byte inside the dump: the checksum says so.
    let mut flipped = good.clone();
    flipped[offset + 5_000_000] ^= 0x40;
    let damaged = prefix.bin.join("flipped");
    std::fs::write(&damaged, &flipped).unwrap();
    let out = extract(&damaged, &target);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("SHA-256"), "{message}");
    assert!(message.contains(&offset.to_string()), "{message}");
    assert!(!target.exists());
    let (out, report) = check(&damaged);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(report["checksum_ok"], false);

    // A trailer whose offset no longer matches (bytes removed before it).
    let mut shifted = good[..offset - 16].to_vec();
    shifted.extend_from_slice(&good[offset..]);
    std::fs::write(&damaged, &shifted).unwrap();
    let out = extract(&damaged, &target);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("trailer at offset"),
        "{}",
        stderr(&out)
    );
    let (out, report) = check(&damaged);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report["problem"].as_str().unwrap().contains("damaged"));
    assert!(!target.exists());
}

#[test]
fn executables_without_a_dump_carry_none() {
    let ls = Path::new("/bin/ls");
    for bin in [ls, Path::new("/bin/true"), Path::new("/usr/bin/env")] {
        let (out, report) = check(bin);
        assert_eq!(out.status.code(), Some(1), "{report}");
        assert_eq!(report["embedded"], false);
        assert_eq!(report["sound"], false);
        assert!(report["problem"]
            .as_str()
            .unwrap()
            .contains("carries no dump"));
    }
    let human = run(pdmp().args(["embed", "--check"]).arg(ls));
    assert_eq!(human.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&human.stdout).contains("carries no dump"));
    let pdmp_binary = assert_cmd::cargo::cargo_bin("pdmp");
    let (out, report) = check(&pdmp_binary);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(report["embedded"], false);
}

#[test]
fn a_dump_from_another_executable_is_refused_unless_forced() {
    let Some(dump) = common::distribution_dump() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("ls-with-dump");
    let out = embed(Path::new("/bin/ls"), &dump, &out_path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.starts_with("pdmp: error: /bin/ls: "), "{message}");
    assert!(message.contains("fingerprint"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert!(!out_path.exists(), "no output on refusal");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp left"
    );

    // Forced: embedded, stripped, still an ls that runs, and --check says
    // the pair is wrong.
    let out = embed(
        Path::new("/bin/ls"),
        &dump,
        &out_path,
        &["--force", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["fingerprint_in_executable"], false);
    binutils(&["strip"], &out_path);
    let status = run_new_executable(std::process::Command::new(&out_path).arg("--version"));
    assert!(status.status.success(), "stripped ls with a dump runs");
    let (out, report) = check(&out_path);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(report["fingerprint_in_executable"], false);
    assert!(report["problems"][0]
        .as_str()
        .unwrap()
        .contains("does not occur"));
    let extracted = dir.path().join("x.pdmp");
    assert!(extract(&out_path, &extracted).status.success());
    assert!(std::fs::read(&extracted).unwrap() == std::fs::read(&dump).unwrap());
}

#[test]
fn refuses_bad_dumps_double_embedding_and_overwriting_inputs() {
    let (Some(prefix), Some(dump)) = (emacs_prefix(), common::distribution_dump()) else {
        return;
    };
    let out_path = prefix.bin.join("out");
    // Not a dump.
    let out = embed(&prefix.exe, &prefix.exe, &out_path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a dump file"), "{}", stderr(&out));
    assert!(!out_path.exists());
    // Output is the input.
    let input = prefix.bin.join("emacs-input");
    std::fs::copy(&prefix.exe, &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = embed(&input, &dump, &input, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("inputs are never modified"));
    assert!(std::fs::read(&input).unwrap() == before);
    // Already carries a dump, in either mode.
    for mode in [&[][..], &["--append"]] {
        let once = prefix.bin.join("once");
        assert!(embed(&input, &dump, &once, mode).status.success());
        let out = embed(&once, &dump, &out_path, &["--force"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("already carries a dump"),
            "{}",
            stderr(&out)
        );
        assert!(!out_path.exists());
    }
}

// The reference runtime (`pdmp-runtime`) started from the dump its own
// executable carries.

/// A private copy of the `pdmp-runtime` binary and a fresh `pdmp dump` of
/// the sample source (its fingerprint is the runtime's), in one directory.
struct RuntimeCopy {
    dir: tempfile::TempDir,
    exe: PathBuf,
    dump: PathBuf,
}

fn runtime_copy(layout: &str) -> RuntimeCopy {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("runtime");
    std::fs::copy(assert_cmd::cargo::cargo_bin("pdmp-runtime"), &exe).unwrap();
    let dump = dir.path().join(format!("sample-{layout}.pdmp"));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/sample.el");
    let out = run(pdmp()
        .arg("dump")
        .arg(&sample)
        .args(["--layout", layout, "-o"])
        .arg(&dump));
    assert!(out.status.success(), "{}", stderr(&out));
    RuntimeCopy { dir, exe, dump }
}

/// Runs `exe` (a runtime) with `args`, printing every sample binding.
fn run_runtime(exe: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args);
    for (name, _) in common::sample_bindings() {
        cmd.args(["--print", &name]);
    }
    run_new_executable(&mut cmd)
}

/// Runs an executable this test process just wrote. Another test's thread
/// may fork while the file is still open for writing here; the child holds
/// that descriptor until it execs, and meanwhile running the file fails with
/// "Text file busy" (ETXTBSY). That is a race of the test process, not of
/// pdmp: try again.
fn run_new_executable(cmd: &mut std::process::Command) -> Output {
    for _ in 0..50 {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result.expect("run the executable"),
        }
    }
    panic!("{cmd:?}: still Text file busy after 1 s");
}

/// Asserts the runtime printed the sample's values, and returns the JSON
/// `source` and `report.mmap` of the same start.
fn assert_runs_from(exe: &Path, args: &[&str], origin: &str) -> serde_json::Value {
    let out = run_runtime(exe, args);
    assert!(out.status.success(), "{}: {}", exe.display(), stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected: Vec<String> = common::sample_bindings()
        .iter()
        .map(|(_, v)| v.to_lisp_string())
        .collect();
    assert!(expected.len() >= 10);
    assert_eq!(printed.lines().collect::<Vec<_>>(), expected, "{args:?}");
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let out = run_runtime(exe, &with_json);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["source"]["origin"], origin, "{report}");
    assert_eq!(report["file"], report["source"]["path"]);
    report
}

/// A one-line error, exit status 2.
fn assert_fails_in_one_line(out: &Output, needles: &[&str]) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    let message = stderr(out);
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.starts_with("pdmp-runtime: "), "{message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
    message
}

#[test]
fn runtime_runs_from_its_embedded_section_through_strip() {
    let rt = runtime_copy("emacs-28");
    let dump_bytes = std::fs::read(&rt.dump).unwrap();
    // Without an embedded dump, the plain copy says where it looked.
    assert_fails_in_one_line(
        &run_runtime(&rt.exe, &[]),
        &["carries none", "runtime.pdmp"],
    );

    let app = rt.dir.path().join("app");
    let out = embed(&rt.exe, &rt.dump, &app, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["fingerprint_in_executable"], true);
    let report = assert_runs_from(&app, &[], "section");
    let range = &report["source"]["range"];
    assert_eq!(range["size"], dump_bytes.len() as u64);
    assert_eq!(range["offset"].as_u64().unwrap() % 65536, 0);
    assert_eq!(report["report"]["mmap"], true, "mapped from the executable");
    let report = assert_runs_from(&app, &["--no-mmap"], "section");
    assert_eq!(report["report"]["mmap"], false);
    let report = assert_runs_from(&app, &["--isolates", "3"], "section");
    assert_eq!(report["isolates"], 3);
    // A dump named on the command line wins over the embedded one.
    let given = rt.dump.to_str().unwrap();
    let report = assert_runs_from(&app, &[given], "file");
    assert_eq!(report["source"]["range"], serde_json::Value::Null);

    let mut tools = vec![&["strip"][..], &["objcopy", "--strip-all"], &["eu-strip"]];
    if pdmp::locate::find_on_path("llvm-strip").is_some() {
        tools.push(&["llvm-strip"]);
    }
    for tool in tools {
        let stripped = rt.dir.path().join(format!("app-{}", tool.join("")));
        std::fs::copy(&app, &stripped).unwrap();
        binutils(tool, &stripped);
        let stripped_len = std::fs::metadata(&stripped).unwrap().len();
        assert!(
            stripped_len < std::fs::metadata(&app).unwrap().len(),
            "{tool:?} removed nothing, so it proves nothing"
        );
        for args in [&[][..], &["--no-mmap"]] {
            let report = assert_runs_from(&stripped, args, "section");
            assert_eq!(report["source"]["range"]["size"], dump_bytes.len() as u64);
            assert_eq!(report["report"]["mmap"], args.is_empty(), "{tool:?}");
        }
        let extracted = rt.dir.path().join(format!("{}.pdmp", tool.join("")));
        let out = extract(&stripped, &extracted);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            std::fs::read(&extracted).unwrap() == dump_bytes,
            "{tool:?}: extracted dump differs from the embedded one"
        );
    }
}

#[test]
fn runtime_runs_from_every_layout_embedded() {
    for layout in ["emacs-27", "emacs-29", "emacs-30"] {
        let rt = runtime_copy(layout);
        let app = rt.dir.path().join("app");
        assert!(embed(&rt.exe, &rt.dump, &app, &[]).status.success());
        let report = assert_runs_from(&app, &[], "section");
        assert_eq!(report["numbering"], layout);
    }
}

#[test]
fn runtime_runs_from_an_appended_dump_and_says_when_strip_removed_it() {
    let rt = runtime_copy("emacs-28");
    let app = rt.dir.path().join("app");
    let out = embed(&rt.exe, &rt.dump, &app, &["--append", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let offset = json(&out)["range"]["offset"].as_u64().unwrap();
    let report = assert_runs_from(&app, &[], "append");
    assert_eq!(report["source"]["range"]["offset"], offset);
    assert_eq!(report["report"]["mmap"], true);
    assert_eq!(
        assert_runs_from(&app, &["--no-mmap"], "append")["report"]["mmap"],
        false
    );

    // strip drops the dump and its trailer: the runtime and pdmp say so.
    let stripped = rt.dir.path().join("app-stripped");
    std::fs::copy(&app, &stripped).unwrap();
    binutils(&["strip"], &stripped);
    assert_fails_in_one_line(
        &run_runtime(&stripped, &[]),
        &["no pdmp trailer", "removed by strip"],
    );
    let (out, report) = check(&stripped);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report["problem"]
        .as_str()
        .unwrap()
        .contains("removed by strip"));
    let target = rt.dir.path().join("never.pdmp");
    assert_eq!(extract(&stripped, &target).status.code(), Some(2));
    assert!(!target.exists());

    // A trailer whose offset no longer meets it: damaged, with its offset.
    let mut bytes = std::fs::read(&app).unwrap();
    let trailer = bytes.len() - 64;
    bytes[trailer] ^= 0x10;
    let damaged = rt.dir.path().join("app-damaged");
    std::fs::write(&damaged, &bytes).unwrap();
    std::fs::set_permissions(&damaged, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_fails_in_one_line(
        &run_runtime(&damaged, &[]),
        &["damaged", &format!("trailer at offset {trailer}")],
    );
}

#[test]
fn runtime_checks_the_fingerprint_of_its_embedded_dump() {
    let rt = runtime_copy("emacs-28");
    let mut bytes = std::fs::read(&rt.dump).unwrap();
    bytes[20] ^= 0xff;
    let foreign = rt.dir.path().join("foreign.pdmp");
    std::fs::write(&foreign, &bytes).unwrap();
    let app = rt.dir.path().join("app");
    let out = embed(&rt.exe, &foreign, &app, &[]);
    assert_eq!(out.status.code(), Some(2), "refused without --force");
    assert!(embed(&rt.exe, &foreign, &app, &["--force"])
        .status
        .success());
    let out = run_runtime(&app, &[]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("not built for this executable"),
        "{message}"
    );
    assert!(message.contains("section .pdmp at offset"), "{message}");
}

#[test]
fn runtime_without_an_embedded_dump_loads_the_one_beside_it() {
    let rt = runtime_copy("emacs-28");
    std::fs::copy(&rt.dump, rt.dir.path().join("runtime.pdmp")).unwrap();
    let report = assert_runs_from(&rt.exe, &[], "beside");
    assert!(report["file"].as_str().unwrap().ends_with("runtime.pdmp"));
    // An embedded dump comes first.
    let app = rt.dir.path().join("app");
    assert!(embed(&rt.exe, &rt.dump, &app, &[]).status.success());
    std::fs::write(rt.dir.path().join("app.pdmp"), b"not a dump").unwrap();
    assert_runs_from(&app, &[], "section");
}

#[test]
fn a_dump_range_at_an_unaligned_offset_is_read_not_mapped() {
    use pdmp::loader::{LoadOptions, LoadedHeap};
    use pdmp::origin::{DumpSource, Origin};
    let rt = runtime_copy("emacs-28");
    let dump = std::fs::read(&rt.dump).unwrap();
    let mut carrier = vec![0u8; 100];
    carrier.extend_from_slice(&dump);
    let path = rt.dir.path().join("carrier");
    std::fs::write(&path, &carrier).unwrap();
    let source = DumpSource {
        origin: Origin::Append,
        path,
        range: Some(pdmp::Span {
            offset: 100,
            size: dump.len() as u64,
        }),
    };
    let heap = LoadedHeap::load_from(&source, &LoadOptions::default()).unwrap();
    assert!(!heap.report.mmap, "offset 100 cannot be mapped");
    for (name, value) in common::sample_bindings() {
        assert_eq!(heap.symbol_value(&name).unwrap(), Some(Some(value)));
    }
    // A range past the end of the file is refused, not read.
    let beyond = DumpSource {
        range: Some(pdmp::Span {
            offset: 100,
            size: dump.len() as u64 + 1,
        }),
        ..source
    };
    let error = LoadedHeap::load_from(&beyond, &LoadOptions::default())
        .err()
        .expect("refused");
    assert!(error.to_string().contains("outside the file"), "{error}");
}

#[test]
fn the_runtime_lookup_by_reads_agrees_with_the_lookup_in_memory() {
    // The runtime finds its dump with a few reads of its own executable
    // (`find_in_open_file`); every other command maps the file (`find`).
    // On embedded runtimes, stripped or not, and on copies with bytes of
    // the ELF header or the file's last 8 KiB overwritten, both must agree.
    // Stripped first: the test writes each mutant to a file.
    let rt = runtime_copy("emacs-28");
    let dir = rt.dir.path();
    binutils(&["strip"], &rt.exe);
    let mut carriers = vec![std::fs::read(&rt.exe).unwrap()];
    for (name, extra) in [("section", &[][..]), ("append", &["--append"][..])] {
        let app = dir.join(name);
        assert!(embed(&rt.exe, &rt.dump, &app, extra).status.success());
        carriers.push(std::fs::read(&app).unwrap());
    }
    let stripped = dir.join("section-stripped");
    std::fs::copy(dir.join("section"), &stripped).unwrap();
    binutils(&["strip"], &stripped);
    carriers.push(std::fs::read(&stripped).unwrap());
    let lookup_by_reads = |bytes: &[u8]| {
        let path = dir.join("mutant");
        std::fs::write(&path, bytes).unwrap();
        pdmp::embed::find_in_open_file(&std::fs::File::open(&path).unwrap())
    };
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const ROUNDS: usize = 400;
    let (mut found, mut refused) = (0, 0);
    for original in &carriers {
        for round in 0..ROUNDS {
            let mut bytes = original.clone();
            if round > 0 {
                for _ in 0..1 + random() % 4 {
                    let at = if random() % 2 == 0 {
                        random() as usize % 64
                    } else {
                        bytes.len() - 1 - random() as usize % 8192
                    };
                    bytes[at] = random() as u8;
                }
            }
            let in_memory = pdmp::embed::find(&bytes);
            let by_reads = lookup_by_reads(&bytes);
            match (&in_memory, &by_reads) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "round {round}");
                    found += usize::from(a.is_some());
                }
                (Err(_), Err(_)) => refused += 1,
                _ => panic!("round {round}: in memory {in_memory:?}, by reads {by_reads:?}"),
            }
        }
    }
    // Most mutants still carry their dump; some are refused by both.
    assert!(
        found > ROUNDS && refused > 0,
        "{found} found, {refused} refused"
    );
}
