//! `pdmp embed`: put a dump inside its executable, or check whether an
//! executable carries one.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use pdmp::embed::{self, Check, Embedding, Mode};
use pdmp::DumpFile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "The dump goes into an allocated ELF section `.pdmp` (kept by strip) at a
64 KiB-aligned file offset; --append adds it at the end with a trailer
(offset, length, SHA-256) instead, for non-ELF files: strip removes that.

Exit status of --check: 0 carries a sound dump whose fingerprint occurs in the
executable, 1 carries none or a damaged or unpaired one, 2 could not read.

Examples:
  pdmp embed --exe /usr/bin/emacs-nox emacs.pdmp -o emacs-with-dump
  pdmp embed --exe emacs emacs.pdmp -o emacs-with-dump --append
  pdmp embed --check emacs-with-dump
  pdmp embed --check emacs-with-dump --json | jq .fingerprint_in_executable"
)]
pub struct Args {
    /// The executable to copy (never modified).
    #[arg(long, value_name = "BIN", required_unless_present = "check")]
    exe: Option<PathBuf>,
    /// The dump to embed.
    #[arg(value_name = "DUMP", required_unless_present = "check")]
    dump: Option<PathBuf>,
    /// Where to write the executable carrying the dump.
    #[arg(short, long, value_name = "OUT", required_unless_present = "check")]
    output: Option<PathBuf>,
    /// Append the dump and a trailer instead of adding an ELF section.
    #[arg(long)]
    append: bool,
    /// Embed even when the dump's fingerprint does not occur in BIN.
    #[arg(long)]
    force: bool,
    /// Report whether BIN carries a dump, in which mode, and whether it pairs.
    #[arg(long, value_name = "BIN", conflicts_with_all = ["exe", "dump", "output", "append", "force"])]
    check: Option<PathBuf>,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    if let Some(bin) = &args.check {
        return run_check(bin, args.json);
    }
    let (Some(exe), Some(dump), Some(output)) = (&args.exe, &args.dump, &args.output) else {
        return Err(Failure::new(
            "embed needs --exe BIN, DUMP and -o OUT, or --check BIN",
        ));
    };
    let mode = if args.append {
        Mode::Append
    } else {
        Mode::Section
    };
    // Library errors name the file they are about.
    let done = embed::embed_file(exe, dump, output, mode, args.force)
        .map_err(|e| Failure::new(e.to_string()))?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            schema_version: u32,
            executable: String,
            dump: String,
            output: String,
            #[serde(flatten)]
            embedding: &'a Embedding,
        }
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            executable: exe.display().to_string(),
            dump: dump.display().to_string(),
            output: output.display().to_string(),
            embedding: &done,
        })?;
    } else {
        let mut t = table(&[]);
        t.add_row(vec!["output".to_string(), output.display().to_string()]);
        t.add_row(vec!["mode".to_string(), done.mode.to_string()]);
        t.add_row(vec![
            "dump".to_string(),
            format!("offset {}, {} bytes", done.range.offset, done.range.size),
        ]);
        t.add_row(vec![
            "output size".to_string(),
            format!("{} bytes", done.output_size),
        ]);
        t.add_row(vec![
            "fingerprint".to_string(),
            format!(
                "{} ({})",
                done.fingerprint,
                if done.fingerprint_in_executable {
                    "found in the executable"
                } else {
                    "NOT in the executable: embedded because of --force"
                }
            ),
        ]);
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_check(bin: &Path, json: bool) -> Result<ExitCode, Failure> {
    let file = DumpFile::open(bin).map_err(|e| Failure::in_file(bin, e))?;
    // A damaged trailer is a finding (exit 1), not a failure to run.
    let (check, problem) = match embed::check(file.bytes()) {
        Ok(check) => (check, None),
        Err(e @ embed::EmbedError::TrailerDamaged { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(Failure::in_file(bin, e)),
    };
    let problem = problem.or_else(|| {
        check
            .is_none()
            .then(|| embed::EmbedError::NotEmbedded.to_string())
    });
    let sound = check.as_ref().is_some_and(|c| c.problems.is_empty());
    if json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            schema_version: u32,
            file: String,
            embedded: bool,
            sound: bool,
            /// Why there is no usable dump, when there is none.
            problem: Option<String>,
            #[serde(flatten)]
            check: Option<&'a Check>,
        }
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            file: bin.display().to_string(),
            embedded: check.is_some(),
            sound,
            problem,
            check: check.as_ref(),
        })?;
    } else if let Some(c) = &check {
        let mut t = table(&[]);
        t.add_row(vec!["file".to_string(), bin.display().to_string()]);
        t.add_row(vec!["mode".to_string(), c.embedded.mode.to_string()]);
        t.add_row(vec![
            "dump".to_string(),
            format!(
                "offset {}, {} bytes",
                c.embedded.range.offset, c.embedded.range.size
            ),
        ]);
        let alignment = if c.aligned_64k {
            "64 KiB"
        } else if c.page_aligned {
            "4 KiB page (not 64 KiB)"
        } else {
            "NOT page aligned: cannot be mapped directly"
        };
        t.add_row(vec!["alignment".to_string(), alignment.to_string()]);
        t.add_row(vec![
            "fingerprint".to_string(),
            format!(
                "{} ({})",
                c.fingerprint.as_deref().unwrap_or("unreadable"),
                if c.fingerprint_in_executable {
                    "pairs: found in the executable"
                } else {
                    "does NOT pair with the executable"
                }
            ),
        ]);
        if let Some(ok) = c.checksum_ok {
            let verdict = if ok {
                "SHA-256 matches the trailer"
            } else {
                "MISMATCH"
            };
            t.add_row(vec!["checksum".to_string(), verdict.to_string()]);
        }
        println!("{t}");
        for p in &c.problems {
            println!("problem: {p}");
        }
    } else {
        println!(
            "{}: {}",
            bin.display(),
            problem.as_deref().unwrap_or_default()
        );
    }
    Ok(if sound {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
