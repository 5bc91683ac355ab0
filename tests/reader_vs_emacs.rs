//! The reader against Emacs's own `read` + `prin1`, on every Emacs Lisp
//! source file installed (Debian's emacs-el): per file the number of
//! top-level forms; per form the structure (our read of Emacs's printed form
//! equals our read of the source); for a sample of forms, the printed text.

mod common;

use pdmp::reader;
use std::path::PathBuf;
use std::process::Command;

const LISP_DIR: &str = "/usr/share/emacs/28.2/lisp";

fn source_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::from(LISP_DIR)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read lisp dir") {
            let path = entry.expect("dir entry").path();
            let name = path.to_string_lossy();
            if path.is_dir() {
                dirs.push(path);
            } else if name.ends_with(".el") || name.ends_with(".el.gz") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn reader_agrees_with_emacs_on_every_source_file() {
    let Some(emacs) = common::emacs() else { return };
    if !std::path::Path::new(LISP_DIR).is_dir() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v != "true"),
            "CI=true but {LISP_DIR} is missing: .ci/run must install emacs-el"
        );
        eprintln!("SKIPPED: {LISP_DIR} missing (apt-get install emacs-el)");
        return;
    }
    let files = source_files();
    assert!(files.len() > 1000, "only {} source files", files.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("files.txt");
    let out = dir.path().join("printed.txt");
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    std::fs::write(&list, names.join("\n")).expect("write list");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/emacs/read-and-print.el");
    let status = Command::new(emacs)
        .args(["--batch", "-Q", "-l", script])
        .arg(&list)
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run emacs");
    assert!(status.success(), "emacs failed");
    let printed = std::fs::read(&out).expect("emacs output");

    let mut sections = split_on(&printed, b"\x1d\x1d\x1dFILE ").into_iter().skip(1);
    let (mut forms_total, mut text_compared, mut text_equal) = (0usize, 0usize, 0usize);
    let mut problems = Vec::new();
    for path in &files {
        let section = sections.next().expect("one section per file");
        let header_end = section
            .iter()
            .position(|&b| b == b'\n')
            .expect("header line");
        let header = String::from_utf8_lossy(&section[..header_end]).into_owned();
        let emacs_count: i64 = header.rsplit(' ').next().unwrap().parse().expect("count");
        let ours = reader::read_file(path).unwrap_or_else(|e| panic!("our reader failed: {e}"));
        if emacs_count != ours.len() as i64 {
            problems.push(format!(
                "{}: Emacs reads {emacs_count} forms, we read {}",
                path.display(),
                ours.len()
            ));
            continue;
        }
        let mut printed_forms = split_on(&section[header_end + 1..], b"\x1e\x1e\x1e\n");
        printed_forms.pop();
        assert_eq!(printed_forms.len(), ours.len(), "{}", path.display());
        for (i, (mine, theirs)) in ours.iter().zip(printed_forms).enumerate() {
            forms_total += 1;
            let reread = reader::read_all(theirs).unwrap_or_else(|e| {
                panic!(
                    "{} form {i}: cannot read Emacs's print: {e}",
                    path.display()
                )
            });
            if reread.len() != 1 || reread[0] != *mine {
                problems.push(format!(
                    "{} form {i}: structure differs\n  emacs: {}\n  ours:  {}",
                    path.display(),
                    String::from_utf8_lossy(theirs)
                        .chars()
                        .take(300)
                        .collect::<String>(),
                    mine.to_lisp_string().chars().take(300).collect::<String>()
                ));
                continue;
            }
            // Sample: the first form of every file and every 7th form.
            if i == 0 || i % 7 == 0 {
                text_compared += 1;
                let text = mine.to_lisp_bytes();
                if text == theirs {
                    text_equal += 1;
                } else if problems.len() < 50 {
                    let theirs = String::from_utf8_lossy(theirs);
                    let text = String::from_utf8_lossy(&text);
                    let at = theirs
                        .char_indices()
                        .zip(text.chars())
                        .find(|((_, a), b)| a != b)
                        .map_or(0, |((i, _), _)| i);
                    let from = theirs.floor_char_boundary(at.saturating_sub(40));
                    let context = |s: &str| {
                        s.get(from..)
                            .unwrap_or("")
                            .chars()
                            .take(80)
                            .collect::<String>()
                    };
                    problems.push(format!(
                        "{} form {i}: printed text differs at byte {at}\n  emacs: {:?}\n  ours:  {:?}",
                        path.display(),
                        context(&theirs),
                        context(&text),
                    ));
                }
            }
        }
    }
    eprintln!(
        "{} files, {forms_total} forms agree in structure; printed text equal for {text_equal} of {text_compared} sampled forms",
        files.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// `text` cut at every occurrence of `separator`.
fn split_on<'a>(text: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + separator.len() <= text.len() {
        if &text[at..at + separator.len()] == separator {
            parts.push(&text[start..at]);
            at += separator.len();
            start = at;
        } else {
            at += 1;
        }
    }
    parts.push(&text[start..]);
    parts
}
