//! One command-line style across subcommands: JSON that parses, one-line
//! errors with exit status 2, and `--color`.

mod common;

use assert_cmd::Command;

fn pdmp() -> Command {
    Command::cargo_bin("pdmp").expect("binary built")
}

/// Every subcommand's `--json` on the real dump: one document that parses,
/// with `schema_version`.
#[test]
fn every_subcommand_prints_parseable_json() {
    let Some(dump) = common::distribution_dump() else {
        return;
    };
    let emacs = common::emacs().expect("emacs present with its dump");
    let exe = std::fs::canonicalize(&emacs).unwrap();
    let d = dump.to_str().unwrap();
    let e = exe.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["info", d],
        vec!["verify", d],
        vec!["verify", "--exe", e, d],
        vec!["stats", "--emacs", e, d],
        vec!["diff", d, d],
        vec![
            "relocate",
            "--dry-run",
            "--dump-base",
            "0x7f0000000000",
            "--exe",
            e,
            d,
        ],
        vec!["embed", "--check", e],
    ];
    for args in runs {
        let out = pdmp().args(&args).arg("--json").output().unwrap();
        let code = out.status.code().unwrap();
        assert!(
            code == 0 || code == 1,
            "{args:?} exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON document: {e}"));
        assert_eq!(json["schema_version"], 1, "{args:?}");
    }
}

#[test]
fn errors_are_one_line_with_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pdmp");
    std::fs::write(&empty, b"").unwrap();
    let e = empty.to_str().unwrap();
    let out_file = dir.path().join("out");
    let o = out_file.to_str().unwrap();
    for args in [
        vec!["info", e],
        vec!["verify", e],
        vec!["stats", e],
        vec!["diff", e, e],
        vec![
            "relocate",
            "--dry-run",
            "--dump-base",
            "0x7f0000000000",
            "--emacs-basis",
            "0x1000",
            e,
        ],
        vec!["extract", e, "-o", o],
    ] {
        let out = pdmp().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("pdmp: error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(e), "{args:?} names the file: {stderr}");
        assert!(!out_file.exists(), "{args:?} left an output file");
    }
    // Usage errors too: one line, no usage block.
    let out = pdmp().args(["info", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("pdmp: error: unexpected argument '--no-such-flag'"),
        "{stderr}"
    );
}

#[test]
fn color_follows_the_color_flag() {
    let Some(dump) = common::distribution_dump() else {
        return;
    };
    let run = |flag: &str| {
        let out = pdmp()
            .args(["verify", flag])
            .arg(&dump)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run("--color=always").contains("\u{1b}["));
    assert!(!run("--color=never").contains("\u{1b}["));
    // Not a terminal: auto means no color.
    assert!(!run("--color=auto").contains("\u{1b}["));
}

/// A .pdmpz container stands for its dump in every analysing subcommand.
#[test]
fn analysing_subcommands_accept_a_compressed_dump() {
    let Some(dump) = common::distribution_dump() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("emacs.pdmpz");
    pdmp()
        .arg("compress")
        .arg("--fast")
        .arg(&dump)
        .arg("-o")
        .arg(&packed)
        .assert()
        .success();
    let json = |args: &[&str], file: &std::path::Path| -> serde_json::Value {
        let out = pdmp().args(args).arg("--json").arg(file).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    for args in [
        &["verify"][..],
        &["stats", "--top", "3"],
        &[
            "relocate",
            "--dry-run",
            "--dump-base",
            "0x7f0000000000",
            "--emacs-basis",
            "0x5ead78",
        ],
    ] {
        let mut raw = json(args, &dump);
        let mut compressed = json(args, &packed);
        // Everything but the file name and timings is the same.
        for v in [&mut raw, &mut compressed] {
            let obj = v.as_object_mut().unwrap();
            for volatile in ["file", "elapsed_us", "time_ms", "elapsed_ms", "timing"] {
                obj.remove(volatile);
            }
        }
        if args[0] != "relocate" {
            assert_eq!(raw, compressed, "{args:?}");
        }
    }
    // The same content: diff says identical.
    pdmp().arg("diff").arg(&dump).arg(&packed).assert().code(0);
}
