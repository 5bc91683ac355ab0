//! The native-compiled (`.eln`) files a dump depends on.
//!
//! Each LATE relocation of an Emacs 28+ dump sits on a native-comp unit
//! object; the unit's first Lisp slot is a cons of two file names relative to
//! the executable's directory: where an installed Emacs keeps the `.eln`
//! file, and where a build tree does. At load time Emacs takes the first that
//! exists; a missing one ends in "Trying to load incoherent dumped eln file".

use crate::dump::Dump;
use crate::header::Phase;
use crate::lisp::LispType;
use std::path::{Path, PathBuf};

/// Longest file name pdmp reads out of a unit (a sanity bound, not a format limit).
const MAX_NAME: u64 = 4096;

/// One native-comp unit of a dump and the files it names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NativeUnit {
    /// Offset of the unit object in the dump.
    pub offset: u64,
    /// Name relative to the executable's directory in an installed Emacs.
    pub installed: String,
    /// Name relative to the executable's directory in a build tree.
    pub build: String,
    /// The file found on disk, when resolved against a directory.
    pub found: Option<String>,
}

/// The units named by the LATE relocations, in table order. A unit whose
/// file names cannot be decoded is reported with empty names.
pub fn units(dump: &Dump<'_>) -> Vec<NativeUnit> {
    let Some((_, late)) = dump.dump_relocs().find(|(p, _)| *p == Phase::Late) else {
        return Vec::new();
    };
    late.iter()
        .map(|reloc| {
            let (installed, build) = unit_file_names(dump, reloc.offset).unwrap_or_default();
            NativeUnit {
                offset: reloc.offset,
                installed,
                build,
                found: None,
            }
        })
        .collect()
}

/// Resolves each unit against `exec_dir` as Emacs does: the installed name
/// first, then the build-tree name.
pub fn resolve(units: &mut [NativeUnit], exec_dir: &Path) {
    for unit in units {
        unit.found = [&unit.installed, &unit.build]
            .into_iter()
            .filter(|name| !name.is_empty())
            .map(|name| exec_dir.join(name))
            .find(|path| path.is_file())
            .map(|path: PathBuf| path.display().to_string());
    }
}

/// The `(installed . build)` names of the unit at `offset`: its first slot
/// is a cons (in the unrelocated file, the cons's dump offset).
fn unit_file_names(dump: &Dump<'_>, offset: u64) -> Option<(String, String)> {
    let file = dump.word_at(offset + 8).ok()?;
    let starts = dump.object_starts();
    match starts.find(file)?.lisp_type()? {
        LispType::Cons => {
            let car = dump.word_at(file).ok()?;
            let cdr = dump.word_at(file + 8).ok()?;
            Some((lisp_string(dump, car)?, lisp_string(dump, cdr)?))
        }
        LispType::String => {
            let name = lisp_string(dump, file)?;
            Some((name.clone(), name))
        }
        _ => None,
    }
}

/// The bytes of the dumped string object at `offset` (its data pointer is a
/// dump offset in the unrelocated file).
fn lisp_string(dump: &Dump<'_>, offset: u64) -> Option<String> {
    if dump.object_starts().find(offset)?.lisp_type()? != LispType::String {
        return None;
    }
    let chars = dump.word_at(offset).ok()? as i64;
    let bytes = dump.word_at(offset + 8).ok()? as i64;
    let len = u64::try_from(if bytes >= 0 { bytes } else { chars }).ok()?;
    if len > MAX_NAME {
        return None;
    }
    let data = dump.word_at(offset + 24).ok()?;
    let text = dump.bytes_at(data, len, "string data").ok()?;
    Some(String::from_utf8_lossy(text).into_owned())
}
