//! `pdmp verify`: structural checks of a dump, its pairing with an
//! executable, and the native-comp files it names.

use crate::output::{print_json, table, verdict_cell, Failure, SCHEMA_VERSION};
use comfy_table::Cell;
use pdmp::container::Source;
use pdmp::pairing::{self, Pairing};
use pdmp::prerelocation::Record;
use pdmp::verify::{verify_bytes, Status, Verification};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  pdmp verify emacs.pdmp                  # structural checks only
  pdmp verify --emacs                     # the dump the `emacs` on PATH loads, with that emacs
  pdmp verify --emacs /opt/emacs/bin/emacs
  pdmp verify emacs.pdmp --exe src/emacs  # is this dump built for this executable?
  pdmp verify --json emacs.pdmp | jq '.checks[] | select(.status == \"fail\")'

Exit status: 0 sound (and paired), 1 problems found, 2 could not run
(unreadable file, not a dump file at all, usage error).")]
pub struct Args {
    /// The dump to verify. Default with --emacs: the dump that Emacs loads.
    file: Option<PathBuf>,
    /// Check that the dump's fingerprint occurs in this executable, and look
    /// for the native-comp files next to it.
    #[arg(long, value_name = "PATH", conflicts_with = "emacs")]
    exe: Option<PathBuf>,
    /// Verify the dump this Emacs would load (default: `emacs` on PATH)
    /// against its executable.
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "emacs")]
    emacs: Option<PathBuf>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    schema_version: u32,
    file: String,
    sound: bool,
    failures: u64,
    #[serde(flatten)]
    verification: &'a Verification,
    #[serde(skip_serializing_if = "Option::is_none")]
    pairing: Option<&'a Pairing>,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let (path, exe) = resolve(args)?;
    // A raw dump, a .pdmpz container or an executable carrying a dump alike.
    let source = Source::open(&path).map_err(|e| Failure::in_file(&path, e))?;
    let (bytes, _) = source.bytes().map_err(|e| Failure::in_file(&path, e))?;
    let verification = verify_bytes(bytes).map_err(|e| Failure::in_file(&path, e))?;
    let pairing = match &exe {
        Some(exe) => Some(pairing::pair(bytes, &path, exe).map_err(|e| Failure::in_file(exe, e))?),
        None => None,
    };
    let sound = verification.is_sound() && pairing.as_ref().is_none_or(|p| p.is_sound());
    if args.json {
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            file: path.display().to_string(),
            sound,
            failures: verification.failures(),
            verification: &verification,
            pairing: pairing.as_ref(),
        })?;
    } else {
        print_human(&path, &verification, pairing.as_ref(), sound);
    }
    Ok(if sound {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The dump to verify and the executable to pair it with.
fn resolve(args: &Args) -> Result<(PathBuf, Option<PathBuf>), Failure> {
    let Some(emacs) = &args.emacs else {
        let path = args
            .file
            .clone()
            .ok_or_else(|| Failure::new("name a dump FILE, or use --emacs [PATH]"))?;
        return Ok((path, args.exe.clone()));
    };
    let exe = pdmp::locate::resolve_executable(emacs).map_err(|e| Failure::new(e.to_string()))?;
    let path = match &args.file {
        Some(path) => path.clone(),
        None => pdmp::locate::dump_for(&exe).map_err(|e| Failure::new(e.to_string()))?,
    };
    Ok((path, Some(exe)))
}

fn print_human(path: &Path, v: &Verification, pairing: Option<&Pairing>, sound: bool) {
    let mut checks = table(&["check", "basis", "status", "checked", "failures"]);
    for c in &v.checks {
        checks.add_row(vec![
            Cell::new(c.name),
            Cell::new(format!("{:?}", c.basis).to_lowercase()),
            match c.status {
                Status::Pass => verdict_cell("ok", true),
                Status::Fail => verdict_cell("FAIL", false),
                Status::Skipped => Cell::new("skipped"),
            },
            Cell::new(c.checked),
            Cell::new(c.failures),
        ]);
    }
    if let Some(pre) = &v.pre_relocated {
        let record = match pre.source {
            Record::Trailer => "the trailer of `pdmp relocate --preferred-base`",
            Record::ReferenceDumper => {
                "the PREFERRED_BASE emacs relocation of `pdmp dump --preferred-base`"
            }
        };
        println!(
            "pre-relocated for dump base {:#x}, emacs_basis {:#x}, lispsym {:#x} (from {record}): checked as before pre-relocation",
            pre.bases.dump_base, pre.bases.emacs_basis, pre.bases.lispsym
        );
    }
    println!("{checks}");
    for c in v.checks.iter().filter(|c| c.status != Status::Pass) {
        match c.status {
            Status::Skipped => println!(
                "{}: skipped: {}",
                c.name,
                c.note.as_deref().unwrap_or("not applicable")
            ),
            _ => {
                println!("{}: {} failures ({})", c.name, c.failures, c.description);
                for f in &c.examples {
                    println!("  at offset {}: {}", f.offset, f.message);
                }
                if c.failures > c.examples.len() as u64 {
                    println!("  ... and {} more", c.failures - c.examples.len() as u64);
                }
            }
        }
    }
    if let Some(p) = pairing {
        print_pairing(p);
    }
    let verdict = if sound { "sound" } else { "PROBLEMS FOUND" };
    let failed = v.checks.iter().filter(|c| c.status == Status::Fail).count();
    let mut problems = vec![if failed == 0 {
        let passed = v.checks.iter().filter(|c| c.status == Status::Pass);
        format!("{} checks passed", passed.count())
    } else {
        format!("{} failures in {failed} checks", v.failures())
    }];
    if let Some(p) = pairing {
        if p.occurrences.is_empty() {
            problems.push("fingerprint mismatch".to_string());
        }
        if let Some(n) = p.native_comp.as_ref().filter(|n| n.missing > 0) {
            problems.push(format!("{} .eln files missing", n.missing));
        }
    }
    println!("{}: {verdict} ({})", path.display(), problems.join(", "));
}

fn print_pairing(p: &Pairing) {
    println!("executable: {}", p.executable);
    println!("dump fingerprint: {}", p.dump_fingerprint);
    if let Some(original) = &p.original_fingerprint {
        println!("original fingerprint (before pre-relocation, scanned for): {original}");
    }
    if p.occurrences.is_empty() {
        println!("fingerprint: MISMATCH: {}", p.verdict);
        match &p.executable_fingerprint {
            Some(fp) => println!("executable fingerprint: {fp}"),
            None => println!(
                "executable fingerprint: unknown (it cannot be read from an Emacs 27/28 binary; Emacs 29+ prints it with --fingerprint)"
            ),
        }
    } else {
        for o in &p.occurrences {
            println!(
                "fingerprint found in the executable at file offset {:#x} (section {})",
                o.file_offset,
                o.section.as_deref().unwrap_or("none")
            );
        }
    }
    if let Some(native) = &p.native_comp {
        println!(
            "native-comp units: {} named, {} missing (looked in {})",
            native.units.len(),
            native.missing,
            native.exec_dir
        );
        if native.missing > 0 {
            let mut t = table(&["unit offset", "missing .eln file"]);
            for u in native.units.iter().filter(|u| u.found.is_none()) {
                t.add_row(vec![u.offset.to_string(), u.installed.clone()]);
            }
            println!("{t}");
        }
    }
}
