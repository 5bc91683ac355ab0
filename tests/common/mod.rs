//! Real Emacs dumps for the integration tests.
//!
//! Tests find the installed Emacs's dump, or make fresh ones with that Emacs.
//! Under CI (CI=true) a missing Emacs fails the test; locally the test is
//! skipped with a message on stderr.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `emacs` on PATH, or `None` (after saying so) when it is missing
/// outside CI. Panics under CI: there, tests must never skip silently.
pub fn emacs() -> Option<PathBuf> {
    match pdmp::locate::find_on_path("emacs") {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some_and(|v| v == "true") => {
            panic!("CI=true but no `emacs` on PATH: .ci/run must install emacs-nox")
        }
        None => {
            eprintln!("SKIPPED: no `emacs` on PATH (install emacs-nox to run this test)");
            None
        }
    }
}

/// The dump the installed Emacs loads (Debian: its distribution dump).
pub fn distribution_dump() -> Option<PathBuf> {
    let emacs = emacs()?;
    Some(pdmp::locate::loaded_dump(&emacs).expect("installed Emacs reports its dump"))
}

/// Output of a dump made by the installed Emacs.
pub struct FreshDump {
    pub path: PathBuf,
    /// What Emacs printed while dumping (its `Byte counts:` and `Reloc counts:` lines).
    pub log: String,
}

/// A dump made by the installed Emacs after evaluating `prelude` (e.g.
/// `(require 'org)`), cached per prelude in the test scratch directory.
pub fn fresh_dump(name: &str, prelude: &str) -> Option<FreshDump> {
    let emacs = emacs()?;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emacs-dumps");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let path = dir.join(format!("{name}.pdmp"));
    let log_path = dir.join(format!("{name}.log"));
    if let (true, Ok(log)) = (path.exists(), std::fs::read_to_string(&log_path)) {
        return Some(FreshDump { path, log });
    }
    // Write under a private name, then rename: concurrent tests never see
    // a half-written dump.
    // Unique per process and per call: tests of one binary run in threads.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = dir.join(format!("{name}.{}.{call}.partial", std::process::id()));
    let lisp = format!(
        "(progn {prelude} (dump-emacs-portable \"{}\"))",
        partial.display()
    );
    // Emacs records its working directory in the dump: make every dump in
    // the scratch directory, so cached and new dumps agree wherever the
    // checkout is.
    let output = Command::new(emacs)
        .current_dir(&dir)
        .args(["--batch", "-Q", "--eval", &lisp])
        .output()
        .expect("run emacs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "emacs failed to dump: {log}");
    std::fs::write(&log_path, &log).expect("write log");
    std::fs::rename(&partial, &path).expect("rename dump");
    Some(FreshDump { path, log })
}

/// A dump of a vanilla `emacs -Q`.
pub fn vanilla_dump() -> Option<FreshDump> {
    fresh_dump("vanilla", "")
}

/// The bindings of testdata/reference/sample.el, as the reader and
/// `pdmp::heap::constant` see them: what `pdmp-runtime --print NAME` prints
/// for a dump of it.
pub fn sample_bindings() -> Vec<(String, pdmp::value::Value)> {
    use pdmp::value::Value;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/sample.el");
    let forms = pdmp::reader::read_file(&path).unwrap();
    forms
        .iter()
        .filter_map(|f| match f.as_list()? {
            [Value::Symbol(head), Value::Symbol(name), value, ..]
                if head == "defvar" || head == "defconst" || head == "setq" =>
            {
                Some((name.clone(), pdmp::heap::constant(value)))
            }
            _ => None,
        })
        .collect()
}
