//! Inputs that once crashed a fuzz target (`fuzz/run.sh`), replayed through
//! the same code the target runs (`fuzz/exercise.rs`) and through the real
//! binary. Each lives in `testdata/fuzz-regressions/TARGET/`.

#[path = "../fuzz/exercise.rs"]
mod exercise;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

type Exercise = fn(&[u8]);

const TARGETS: [(&str, Exercise); 8] = [
    ("format", exercise::format),
    ("verify", exercise::verify),
    ("analysis", exercise::analysis),
    ("diff", exercise::diff),
    ("relocate", exercise::relocate),
    ("container", exercise::container),
    ("embed", exercise::embed),
    ("reader", exercise::reader),
];

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz-regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The subcommands that read the input the way `target` does.
fn commands(target: &str, file: &Path, scratch: &Path) -> Vec<Vec<String>> {
    let f = file.display().to_string();
    let out = scratch.join("out").display().to_string();
    let s = |args: &[&str]| args.iter().map(|a| a.to_string()).collect();
    match target {
        "format" => vec![s(&["info", "--json", &f])],
        "verify" => vec![s(&["verify", "--json", &f])],
        "analysis" => vec![s(&["stats", "--json", &f])],
        "relocate" => vec![s(&[
            "relocate",
            &f,
            "--dump-base",
            "0x7f0000000000",
            "--emacs-basis",
            "0x555555800000",
            "--dry-run",
        ])],
        "container" => vec![
            s(&["decompress", "--force", &f, "-o", &out]),
            s(&["compress", "--force", &f, "-o", &out]),
        ],
        "embed" => vec![
            s(&["embed", "--check", &f]),
            s(&["extract", &f, "-o", &out]),
        ],
        // diff's input is two dumps in one; the reader's is Lisp text.
        _ => vec![],
    }
}

#[test]
fn crashing_inputs_replay_cleanly() {
    let scratch = tempfile::tempdir().expect("scratch");
    let mut replayed = 0;
    for (target, exercise) in TARGETS {
        for file in inputs(target) {
            let bytes = std::fs::read(&file).expect("read input");
            exercise(&bytes);
            for args in commands(target, &file, scratch.path()) {
                let output = Command::cargo_bin("pdmp")
                    .expect("pdmp")
                    .args(&args)
                    .env("PATH", "")
                    .output()
                    .expect("run pdmp");
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(
                    matches!(output.status.code(), Some(0..=2)) && !stderr.contains("panicked"),
                    "{}: pdmp {args:?}: {:?} {stderr}",
                    file.display(),
                    output.status
                );
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no inputs under testdata/fuzz-regressions");
}

/// The shared target code itself runs (and stays quiet) on the reference dumps.
#[test]
fn targets_run_on_reference_dumps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference");
    let old = std::fs::read(dir.join("sample-emacs-28.pdmp")).expect("reference");
    let new = std::fs::read(dir.join("sample-emacs-29.pdmp")).expect("reference");
    for (_, exercise) in TARGETS {
        exercise(&old);
    }
    let mut pair = (old.len() as u32).to_le_bytes().to_vec();
    pair.extend_from_slice(&old);
    pair.extend_from_slice(&new);
    exercise::diff(&pair);
    exercise::reader(&std::fs::read(dir.join("sample.el")).expect("sample.el"));
}

/// Found by the `container` target (the input in
/// `testdata/fuzz-regressions/container/`, replayed above): a stream's zstd
/// frame header claimed a window of over a gigabyte, which the decoder
/// reserved before decoding (libFuzzer: out-of-memory, malloc(1342570560)).
/// The decoder now accepts no window larger than the stream's recorded
/// length needs: a frame declaring a 1 GiB window for 1 MiB is refused.
#[test]
fn container_frame_claiming_a_huge_window_is_refused() {
    use sha2::Digest;
    // Zeros: far above the ratio up to which the recorded length is trusted,
    // so the stream decoder (which reserves the window) is used.
    let data = vec![0u8; 1 << 20];
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("encoder");
    encoder.window_log(30).expect("window");
    encoder.include_contentsize(false).expect("no content size");
    std::io::Write::write_all(&mut encoder, &data).expect("compress");
    let frame = encoder.finish().expect("frame");
    // A one-stream container (transform none) holding that frame.
    let mut container = pdmp::container::MAGIC.to_vec();
    container.extend_from_slice(&pdmp::container::VERSION.to_le_bytes());
    container.extend_from_slice(&[1, 0]);
    container.extend_from_slice(&1u32.to_le_bytes());
    container.extend_from_slice(&(data.len() as u64).to_le_bytes());
    // Checksum kind 1 (SHA-256), padding, the 32-byte digest.
    container.push(1);
    container.extend_from_slice(&[0; 7]);
    container.extend_from_slice(&sha2::Sha256::digest(&data));
    container.extend_from_slice(&(data.len() as u64).to_le_bytes());
    container.extend_from_slice(&(frame.len() as u64).to_le_bytes());
    container.extend_from_slice(&frame);
    match pdmp::container::decompress(&container) {
        Ok(_) => panic!("a frame declaring a 1 GiB window was decoded"),
        Err(error) => assert!(
            error.to_string().contains("too much memory"),
            "the window limit refuses the frame: {error}"
        ),
    }
    // The same data in a frame pdmp writes decodes.
    let packed = pdmp::container::compress(&data, pdmp::container::Options { fast: true }, &|_| {})
        .expect("compress");
    assert_eq!(
        pdmp::container::decompress(&packed.bytes).expect("decompress"),
        data
    );
}
