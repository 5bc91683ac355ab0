//! Finding the dump that an installed Emacs loads, by asking that Emacs.
//!
//! Emacs's own search order (next to the executable, then its libexec
//! directory, with fingerprinted names from 29 on) depends on paths compiled
//! into the binary; the running Emacs reports the answer in `pdumper-stats`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why no dump could be located.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("no `{0}` on PATH")]
    NotOnPath(String),
    #[error("could not run {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} did not report a dump file (exit status {status}): {stderr}")]
    NoAnswer {
        path: PathBuf,
        status: String,
        stderr: String,
    },
}

/// The first executable called `name` in the directories of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Lisp that prints the file the running Emacs loaded its dump from.
const ASK_DUMP_FILE: &str = "(princ (cdr (assq 'dump-file-name (pdumper-stats))))";

/// The dump file `emacs` loads, as it reports itself.
pub fn loaded_dump(emacs: &Path) -> Result<PathBuf, LocateError> {
    let output = Command::new(emacs)
        .args(["-Q", "--batch", "--eval", ASK_DUMP_FILE])
        .output()
        .map_err(|source| LocateError::Spawn {
            path: emacs.to_path_buf(),
            source,
        })?;
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || answer.is_empty() || answer == "nil" {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(LocateError::NoAnswer {
            path: emacs.to_path_buf(),
            status: output.status.to_string(),
            stderr: stderr.lines().last().unwrap_or("").to_string(),
        });
    }
    Ok(PathBuf::from(answer))
}

/// The dump of the `emacs` on PATH.
pub fn installed_emacs_dump() -> Result<PathBuf, LocateError> {
    let emacs = find_on_path("emacs").ok_or_else(|| LocateError::NotOnPath("emacs".into()))?;
    loaded_dump(&emacs)
}
