//! Benchmark tool for bench/verify.sh, not part of pdmp: times, inside one
//! fresh process, the library calls `pdmp verify FILE` makes (open the file,
//! find the dump in it, verify it) from opening the file to the verdict, the
//! way Emacs's `pdumper-stats` load-time counts from opening its dump to the
//! end of loading. Process start-up and exit are left out on both sides.
//!
//! Prints two times in milliseconds: to the verdict, and to the verdict plus
//! unmapping the file (which Emacs never does). Exit status as `pdmp
//! verify`: 0 sound, 1 problems found, 2 could not run.
//!
//! `cargo run --release --example verify_time -- emacs.pdmp`

use pdmp::container::Source;
use pdmp::verify::{verify_bytes, Verification};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What `pdmp verify FILE` computes before printing, and how long it took.
fn timed_verify(path: &Path) -> Result<(Verification, Duration, Duration), pdmp::Error> {
    let start = Instant::now();
    let source = Source::open(path)?;
    let verification = verify_bytes(source.bytes()?.0)?;
    // The verdict, as the command line derives it.
    std::hint::black_box(verification.is_sound());
    let verdict = start.elapsed();
    drop(source);
    Ok((verification, verdict, start.elapsed()))
}

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: verify_time FILE");
        return ExitCode::from(2);
    };
    match timed_verify(Path::new(&path)) {
        Ok((verification, verdict, unmapped)) => {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!("{:.3} {:.3}", ms(verdict), ms(unmapped));
            ExitCode::from(if verification.is_sound() { 0 } else { 1 })
        }
        Err(e) => {
            eprintln!("verify_time: {}: {e}", path.to_string_lossy());
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::timed_verify;
    use std::path::Path;

    /// The timed calls reach the library's verdict: sound on the reference
    /// dumps, problems on a truncated copy, an error on a file that is no dump.
    #[test]
    fn timed_calls_give_the_verdict() {
        let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference");
        let dir = tempfile::tempdir().unwrap();
        for layout in ["27", "28", "29", "30"] {
            let path = reference.join(format!("sample-emacs-{layout}.pdmp"));
            let (v, verdict, unmapped) = timed_verify(&path).unwrap();
            assert!(v.is_sound(), "{}", path.display());
            assert!(verdict > std::time::Duration::ZERO && unmapped >= verdict);
            let bytes = std::fs::read(&path).unwrap();
            let truncated = dir.path().join("truncated.pdmp");
            std::fs::write(&truncated, &bytes[..bytes.len() - 8]).unwrap();
            assert!(!timed_verify(&truncated).unwrap().0.is_sound());
        }
        let other = dir.path().join("other");
        std::fs::write(&other, b"not a dump at all").unwrap();
        assert!(timed_verify(&other).is_err());
    }
}
