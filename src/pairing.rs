//! Does a dump belong to an executable? Emacs refuses a dump whose 32-byte
//! fingerprint differs from the one compiled into its executable ("not built
//! for this Emacs executable"). The fingerprint is not recomputable from an
//! installed binary, but it is stored there verbatim (in `.data`), so
//! scanning the executable for the dump's fingerprint decides the pairing.

use crate::header::{hex, Header, FINGERPRINT_LEN};
use crate::native::{self, NativeUnit};
use crate::prerelocation::PreRelocation;
use crate::Dump;
use object::{Object, ObjectSection};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The placeholder `lib/fingerprint.c` starts with, before `make-fingerprint`
/// overwrites it with the SHA-256 of the linked executable.
pub const PLACEHOLDER_FINGERPRINT: [u8; FINGERPRINT_LEN] = [
    0xDE, 0x86, 0xBB, 0x99, 0xFF, 0xF5, 0x46, 0x9A, 0x9E, 0x3F, 0x9F, 0x5D, 0x9A, 0xDF, 0xF0, 0x91,
    0xBD, 0xCD, 0xC1, 0xE8, 0x0C, 0x16, 0x1E, 0xAF, 0xB8, 0x6C, 0xE2, 0x2B, 0xB1, 0x24, 0xCE, 0xB0,
];

/// How long `EXE --fingerprint` may take before pdmp gives up on it.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the dump's fingerprint occurs in the executable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Occurrence {
    pub file_offset: u64,
    /// The object-file section holding it (`.data` normally).
    pub section: Option<String>,
}

/// The native-comp files of the dump, resolved next to the executable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NativeComp {
    /// The directory the unit file names are relative to.
    pub exec_dir: String,
    pub units: Vec<NativeUnit>,
    pub missing: u64,
}

/// The verdict on a dump + executable pair.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pairing {
    pub executable: String,
    /// The fingerprint in the dump's header.
    pub dump_fingerprint: String,
    /// A pre-relocated dump's fingerprint before pre-relocation, which the
    /// executable is scanned for instead (omitted for other dumps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_fingerprint: Option<String>,
    /// Every place the dump's fingerprint occurs in the executable.
    pub occurrences: Vec<Occurrence>,
    /// The executable's own fingerprint, when it could be learnt
    /// (`EXE --fingerprint`, Emacs 29+).
    pub executable_fingerprint: Option<String>,
    /// One sentence: paired, or which file is stale.
    pub verdict: String,
    /// `None` for a dump without native-comp units (or an Emacs 27 dump).
    pub native_comp: Option<NativeComp>,
}

impl Pairing {
    /// Fingerprint found and every native-comp file present.
    pub fn is_sound(&self) -> bool {
        !self.occurrences.is_empty() && self.native_comp.as_ref().is_none_or(|n| n.missing == 0)
    }
}

/// Checks `dump_bytes` (the file at `dump_path`) against the executable at
/// `exe`. Native-comp files are resolved against the executable's directory
/// when the dump's header can be read.
pub fn pair(dump_bytes: &[u8], dump_path: &Path, exe: &Path) -> std::io::Result<Pairing> {
    let exe_bytes = std::fs::read(exe)?;
    let header_fingerprint: [u8; FINGERPRINT_LEN] = dump_bytes
        .get(16..16 + FINGERPRINT_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| std::io::Error::other("the dump is too short to hold a fingerprint"))?;
    // A dump pre-relocated by `pdmp relocate` pairs by the fingerprint it
    // had before (its header's is inverted), and names its native-comp
    // files in words that held offsets before.
    let parsed = Header::parse(dump_bytes)
        .ok()
        .and_then(|_| Dump::parse(dump_bytes).ok());
    let pre = parsed.as_ref().and_then(PreRelocation::find);
    let original = pre.zip(parsed.as_ref()).map(|(p, d)| p.original_bytes(d));
    let original_fingerprint = pre.and_then(|p| p.original_fingerprint);
    let fingerprint = original_fingerprint.unwrap_or(header_fingerprint);
    let occurrences = find(&exe_bytes, &fingerprint);
    let mut executable_fingerprint = None;
    let whose = match original_fingerprint {
        Some(_) => format!(
            "the original fingerprint of {} (before pre-relocation; its header carries it inverted, so GNU Emacs itself refuses the file)",
            dump_path.display()
        ),
        None => format!("the fingerprint of {}", dump_path.display()),
    };
    let verdict = if !occurrences.is_empty() {
        format!("paired: {whose} occurs in {}", exe.display())
    } else if !find(&exe_bytes, &PLACEHOLDER_FINGERPRINT).is_empty() {
        format!(
            "{} still carries the placeholder fingerprint: it was never fingerprinted (a bare temacs?), so no dump pairs with it",
            exe.display()
        )
    } else {
        executable_fingerprint = ask_fingerprint(exe);
        format!(
            "{whose} does not occur in {}: {}",
            exe.display(),
            staleness(dump_path, exe)
        )
    };
    let unrelocated = original.as_deref().and_then(|b| Dump::parse(b).ok());
    let native_comp = unrelocated.as_ref().or(parsed.as_ref()).and_then(|dump| {
        let mut units = native::units(dump);
        if units.is_empty() {
            return None;
        }
        let exec_dir = exe.canonicalize().ok()?.parent()?.to_path_buf();
        native::resolve(&mut units, &exec_dir);
        let missing = units.iter().filter(|u| u.found.is_none()).count() as u64;
        Some(NativeComp {
            exec_dir: exec_dir.display().to_string(),
            units,
            missing,
        })
    });
    Ok(Pairing {
        executable: exe.display().to_string(),
        dump_fingerprint: hex(&header_fingerprint),
        original_fingerprint: original_fingerprint.map(|f| hex(&f)),
        occurrences,
        executable_fingerprint,
        verdict,
        native_comp,
    })
}

/// Every occurrence of `needle` in an executable's bytes, with the section
/// it falls in (when the file parses as an object file).
pub fn find(exe: &[u8], needle: &[u8]) -> Vec<Occurrence> {
    let file = object::File::parse(exe).ok();
    memchr::memmem::find_iter(exe, needle)
        .map(|at| {
            let at = at as u64;
            let section = file.as_ref().and_then(|f| {
                f.sections()
                    .find(|s| {
                        s.file_range()
                            .is_some_and(|(start, size)| (start..start + size).contains(&at))
                    })
                    .and_then(|s| s.name().ok().map(str::to_string))
            });
            Occurrence {
                file_offset: at,
                section,
            }
        })
        .collect()
}

/// Which of the two files is older, in words.
fn staleness(dump: &Path, exe: &Path) -> String {
    let mtime = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    match (mtime(dump), mtime(exe)) {
        (Some(d), Some(e)) if d < e => format!(
            "the dump is stale (older than the executable by {}): regenerate it with this executable",
            age(e, d)
        ),
        (Some(d), Some(e)) if e < d => format!(
            "the executable is stale (older than the dump by {}): the dump was made by a newer build; install that build or re-dump with this one",
            age(d, e)
        ),
        _ => "they were built separately; re-dump with this executable".to_string(),
    }
}

fn age(newer: SystemTime, older: SystemTime) -> String {
    let secs = newer.duration_since(older).unwrap_or_default().as_secs();
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86400),
    }
}

/// The executable's own fingerprint as `EXE --fingerprint` prints it (Emacs
/// 29+); `None` for older Emacs, which does not know the option.
pub fn ask_fingerprint(exe: &Path) -> Option<String> {
    let mut child = Command::new(exe)
        .args(["--fingerprint", "--batch", "-Q", "--eval", "(kill-emacs 0)"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < ASK_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (text.len() == 2 * FINGERPRINT_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}
