//! The checked-in completions/ and man/ must be what `pdmp generate` writes
//! from the current command-line definition.

use assert_cmd::Command;
use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn completions_and_man_pages_are_up_to_date() {
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("pdmp")
        .unwrap()
        .args(["generate", "--out-dir"])
        .arg(out.path())
        .assert()
        .success();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["completions", "man"] {
        let fresh = files(&out.path().join(dir));
        let checked_in = files(&repo.join(dir));
        let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&checked_in),
            names(&fresh),
            "{dir}/ is stale: run `cargo run -- generate`"
        );
        for ((name, old), (_, new)) in checked_in.iter().zip(&fresh) {
            assert!(
                old == new,
                "{dir}/{name} is stale: run `cargo run -- generate`"
            );
        }
    }
}
