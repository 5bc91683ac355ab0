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

/// Why the dump of an executable could not be found.
#[derive(Debug, thiserror::Error)]
pub enum FindDumpError {
    #[error(transparent)]
    Locate(#[from] LocateError),
    #[error(
        "no dump found for {exe}: Emacs could not report one ({asked}) and none of {tried} exists"
    )]
    NotFound {
        exe: PathBuf,
        asked: String,
        tried: String,
    },
}

/// `name` as a path: as given when it names a file, else looked up on PATH.
pub fn resolve_executable(name: &Path) -> Result<PathBuf, LocateError> {
    if name.components().count() > 1 || name.is_file() {
        return Ok(name.to_path_buf());
    }
    let text = name.display().to_string();
    find_on_path(&text).ok_or(LocateError::NotOnPath(text))
}

/// The dump `emacs` would load. Emacs's own answer first (`pdumper-stats`);
/// when Emacs cannot start (a broken or mismatched dump), its search order:
/// `EXE.pdmp` next to the executable, then in the compiled-in `PATH_EXEC`
/// directory `emacs.pdmp` (27, 28), `emacs-<fingerprint>.pdmp` (29+) and
/// `<basename>.pdmp`. `PATH_EXEC` is read from the executable's strings.
pub fn dump_for(emacs: &Path) -> Result<PathBuf, FindDumpError> {
    let asked = match loaded_dump(emacs) {
        Ok(path) => return Ok(path),
        Err(e) => e.to_string(),
    };
    let candidates = search_order(emacs);
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    Err(FindDumpError::NotFound {
        exe: emacs.to_path_buf(),
        asked,
        tried: candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Emacs's dump search order (spec §9.3) without running it.
pub fn search_order(emacs: &Path) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    let mut beside = emacs.as_os_str().to_owned();
    beside.push(".pdmp");
    candidates.push(PathBuf::from(beside));
    let base = emacs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "emacs".into());
    let bytes = std::fs::read(emacs).unwrap_or_default();
    for dir in exec_dirs(&bytes) {
        candidates.push(dir.join("emacs.pdmp"));
        // 29+: the fingerprinted name; the executable's fingerprint is one
        // the file name carries and the executable contains.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut named: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| fingerprint_in_name(p).is_some_and(|fp| contains(&bytes, &fp)))
                .collect();
            named.sort();
            candidates.extend(named);
        }
        candidates.push(dir.join(format!("{base}.pdmp")));
    }
    candidates
}

/// The 32 bytes of an `emacs-<64 hex>.pdmp` file name.
fn fingerprint_in_name(path: &Path) -> Option<Vec<u8>> {
    let name = path.file_name()?.to_str()?;
    let hex = name.strip_prefix("emacs-")?.strip_suffix(".pdmp")?;
    if hex.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Absolute directory names compiled into an executable that look like
/// Emacs's `PATH_EXEC` (`…/libexec/emacs/VERSION/TRIPLE`).
fn exec_dirs(exe: &[u8]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = memchr::memmem::find_iter(exe, b"/libexec/emacs/")
        .filter_map(|at| {
            let start = exe[..at].iter().rposition(|&b| b == 0).map_or(0, |p| p + 1);
            let end = at + exe[at..].iter().position(|&b| b == 0)?;
            let text = std::str::from_utf8(&exe[start..end]).ok()?;
            (text.starts_with('/') && !text.contains(':')).then(|| PathBuf::from(text))
        })
        .collect();
    dirs.dedup();
    dirs
}
