//! Where a runtime finds its dump: the file it is given, else the dump its
//! own executable carries ([`crate::embed`]), else a dump file beside the
//! executable.
//!
//! An executable that carries its dump cannot drift away from it; a runtime
//! asks [`locate`] once, then loads the returned [`DumpSource`] (a dump file,
//! or a byte range of the executable that it maps directly).

use crate::dump::Span;
use crate::embed::{self, EmbedError, Mode};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Where the bytes of a dump come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A dump file named on the command line.
    File,
    /// The `.pdmp` ELF section of the executable.
    Section,
    /// Appended to the executable, with a trailer.
    Append,
    /// The dump file beside the executable (`EXE.pdmp`).
    Beside,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Section => "section",
            Origin::Append => "append",
            Origin::Beside => "beside",
        }
    }

    /// Where the dump came from, for people.
    pub fn phrase(self) -> &'static str {
        match self {
            Origin::File => "dump file",
            Origin::Section => "embedded in the executable, ELF section",
            Origin::Append => "appended to the executable",
            Origin::Beside => "dump file beside the executable",
        }
    }
}

/// A dump to load: a file, or the byte range `range` of the file `path`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DumpSource {
    pub origin: Origin,
    pub path: PathBuf,
    /// The dump's bytes inside `path`; `None` for the whole file.
    pub range: Option<Span>,
}

impl DumpSource {
    /// The whole file `path`.
    pub fn file(path: &Path) -> DumpSource {
        DumpSource {
            origin: Origin::File,
            path: path.to_path_buf(),
            range: None,
        }
    }

    /// The dump the open executable `exe` (named `path`) carries, if any.
    /// Errors when it carries a damaged one (a trailer whose fields do not
    /// meet it, a section outside the file) or cannot be read.
    pub fn embedded_in(exe: &File, path: &Path) -> Result<Option<DumpSource>, NoDump> {
        let found = embed::find_in_open_file(exe).map_err(|e| NoDump::Damaged {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(found.map(|found| DumpSource {
            origin: match found.mode {
                Mode::Section => Origin::Section,
                Mode::Append => Origin::Append,
            },
            path: path.to_path_buf(),
            range: Some(found.range),
        }))
    }

    /// How messages name the dump: the file, or where in the executable.
    pub fn describe(&self) -> String {
        match (self.origin, self.range) {
            (Origin::Section, Some(r)) => format!(
                "{} (section {} at offset {}, {} bytes)",
                self.path.display(),
                embed::SECTION_NAME,
                r.offset,
                r.size
            ),
            (Origin::Append, Some(r)) => format!(
                "{} (appended at offset {}, {} bytes)",
                self.path.display(),
                r.offset,
                r.size
            ),
            _ => self.path.display().to_string(),
        }
    }
}

/// Why [`locate`] found no dump to load.
#[derive(Debug, thiserror::Error)]
pub enum NoDump {
    /// The executable's embedded dump is damaged or unreadable.
    #[error("{}: cannot load the embedded dump: {source}", path.display())]
    Damaged { path: PathBuf, source: EmbedError },

    /// No argument, nothing embedded, no file beside the executable.
    #[error("no dump given, {} carries none (no {} section and no pdmp trailer; a dump embedded with --append is removed by strip), and there is no {}", exe.display(), embed::SECTION_NAME, beside.display())]
    Nowhere { exe: PathBuf, beside: PathBuf },

    /// The running executable cannot be named.
    #[error("cannot find this executable: {0}")]
    NoExecutable(std::io::Error),
}

/// The dump file a runtime at `exe` looks for when it carries none:
/// `EXE.pdmp` in the same directory.
pub fn beside(exe: &Path) -> PathBuf {
    let mut name = exe.as_os_str().to_os_string();
    name.push(".pdmp");
    PathBuf::from(name)
}

/// A dump to load and, when finding it opened the file that holds it (the
/// running executable), that open file, which the loader reads rather than
/// opening it again.
#[derive(Debug)]
pub struct Located {
    pub source: DumpSource,
    pub opened: Option<File>,
}

/// The dump to load, in order: `given` (a path from the command line), the
/// dump the running executable carries, the file [`beside`] it.
pub fn locate(given: Option<&Path>) -> Result<Located, NoDump> {
    if let Some(path) = given {
        return Ok(Located {
            source: DumpSource::file(path),
            opened: None,
        });
    }
    if let Some(exe) = exec_path() {
        if let Ok(opened) = File::open(&exe) {
            return locate_in(opened, &exe);
        }
    }
    let exe = std::env::current_exe().map_err(NoDump::NoExecutable)?;
    let opened = File::open("/proc/self/exe")
        .or_else(|_| File::open(&exe))
        .map_err(NoDump::NoExecutable)?;
    locate_in(opened, &exe)
}

/// The path this process was started from, as given to `execve`: the
/// kernel passes it in the auxiliary vector, so no system call is needed
/// (reading the `/proc/self/exe` link first costs ~15 µs, a measurable part
/// of a small dump's start). Should that path name another file by now, the
/// fingerprint check refuses a dump that is not this executable's.
fn exec_path() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: getauxval only reads the auxiliary vector; AT_EXECFN, when
    // present, points at a NUL-terminated string that lives as long as the
    // process.
    let name = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const libc::c_char;
    if name.is_null() {
        return None;
    }
    // SAFETY: as above.
    let name = unsafe { std::ffi::CStr::from_ptr(name) };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

/// The dump the open executable `opened` (at `exe`) carries, else the file
/// [`beside`] it.
fn locate_in(opened: File, exe: &Path) -> Result<Located, NoDump> {
    if let Some(source) = DumpSource::embedded_in(&opened, exe)? {
        return Ok(Located {
            source,
            opened: Some(opened),
        });
    }
    let file = beside(exe);
    if file.is_file() {
        return Ok(Located {
            source: DumpSource {
                origin: Origin::Beside,
                path: file,
                range: None,
            },
            opened: None,
        });
    }
    Err(NoDump::Nowhere {
        exe: exe.to_path_buf(),
        beside: file,
    })
}
