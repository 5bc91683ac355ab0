//! `pdmp relocate`: the loader's EARLY relocation work done offline, its
//! cost, and pre-relocated dumps.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use pdmp::container;
use pdmp::executable::{self, Recovered};
use pdmp::relocate::{self, Applied, Bases, PhaseCost};
use pdmp::DumpFile;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
#[command(after_help = "ADDR is hexadecimal with 0x, or decimal.

Examples:
  pdmp relocate emacs.pdmp --dump-base 0x7f0000000000 --exe /usr/bin/emacs-nox -o image.bin
  pdmp relocate emacs.pdmp --dump-base 0x7f0000000000 --emacs-basis 0x5ead78 --dry-run
  pdmp relocate emacs.pdmp --dump-base 0x7f0000000000 --exe /usr/bin/emacs-nox \\
      --load-bias 0x555555554000 --dry-run --json | jq .cost
  pdmp relocate emacs.pdmp --preferred-base 0x7f0000000000 --exe /usr/bin/emacs-nox -o pre.pdmp")]
#[command(group(clap::ArgGroup::new("emacs_side").required(true).args(["emacs_basis", "exe"])))]
#[command(group(clap::ArgGroup::new("action").required(true).args(["output", "dry_run"])))]
pub struct Args {
    /// The dump to relocate (never modified).
    file: PathBuf,
    /// Address the dump is mapped at (its byte 0).
    #[arg(long, value_name = "ADDR", value_parser = parse_address,
          required_unless_present = "preferred_base", conflicts_with = "preferred_base")]
    dump_base: Option<u64>,
    /// Run-time address of the executable's `Vpurify_flag` (emacs_basis).
    #[arg(long, value_name = "ADDR", value_parser = parse_address)]
    emacs_basis: Option<u64>,
    /// Recover emacs_basis and lispsym from this executable (the one the dump was made with).
    #[arg(long, value_name = "PATH")]
    exe: Option<PathBuf>,
    /// Where the executable is loaded, added to its link-time addresses (PIE). Default 0.
    #[arg(long, value_name = "ADDR", value_parser = parse_address, requires = "exe")]
    load_bias: Option<u64>,
    /// Run-time address of `lispsym`. Default: emacs_basis plus the offset the dump implies.
    #[arg(long, value_name = "ADDR", value_parser = parse_address)]
    lispsym: Option<u64>,
    /// Write a dump pre-relocated for this dump base (recorded in a trailer) instead of an image.
    #[arg(long, value_name = "ADDR", value_parser = parse_address, requires = "output")]
    preferred_base: Option<u64>,
    /// Where to write the image (or the pre-relocated dump); replaced atomically.
    #[arg(short, long, value_name = "IMAGE")]
    output: Option<PathBuf>,
    /// Relocate in memory and report, but write nothing.
    #[arg(long, conflicts_with = "output")]
    dry_run: bool,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
}

fn parse_address(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    let value = parsed.map_err(|e| format!("not an address ({e}): use 0x... or decimal"))?;
    if !value.is_multiple_of(8) {
        return Err(format!(
            "{value:#x} is not 8-aligned: Lisp tags need 8-aligned objects"
        ));
    }
    Ok(value)
}

/// Where an address came from.
#[derive(serde::Serialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Source {
    Given,
    Exe,
    Dump,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Given => "given",
            Source::Exe => "recovered from the executable",
            Source::Dump => "emacs_basis + the offset of the copied symbol nil",
        }
    }
}

#[derive(serde::Serialize)]
struct Sources {
    emacs_basis: Source,
    lispsym: Source,
}

#[derive(serde::Serialize)]
struct Timing {
    /// Copying the file's bytes into memory (the physical floor).
    copy_us: u64,
    /// Applying the relocations to that copy.
    relocate_us: u64,
    /// Everything pdmp did, from opening the file to the report.
    total_us: u64,
}

#[derive(serde::Serialize)]
struct Report {
    schema_version: u32,
    file: String,
    /// `image`, `preferred` or `dry_run`.
    mode: &'static str,
    output: Option<String>,
    bases: Bases,
    sources: Sources,
    recovered: Option<Recovered>,
    relocations: Applied,
    cost: Vec<PhaseCost>,
    timing: Timing,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let path = &args.file;
    // A raw dump, a .pdmpz container or an executable carrying a dump alike.
    let source = container::Source::open(path).map_err(|e| Failure::in_file(path, e))?;
    let dump = source.dump().map_err(|e| Failure::in_file(path, e))?;
    relocate::ensure_not_prerelocated(&dump).map_err(|e| Failure::in_file(path, e))?;

    let (recovered, emacs_basis) = match (&args.exe, args.emacs_basis) {
        (Some(exe_path), _) => {
            let exe = DumpFile::open(exe_path).map_err(|e| Failure::in_file(exe_path, e))?;
            let recovered = executable::recover(&dump, exe.bytes(), args.load_bias.unwrap_or(0))
                .map_err(|e| {
                    Failure::new(format!(
                        "{} with {}: {e}",
                        path.display(),
                        exe_path.display()
                    ))
                })?;
            let basis = args.emacs_basis.unwrap_or(recovered.emacs_basis);
            (Some(recovered), basis)
        }
        (None, Some(basis)) => (None, basis),
        (None, None) => unreachable!("clap requires --emacs-basis or --exe"),
    };
    let (lispsym, lispsym_source) = match (args.lispsym, &recovered) {
        (Some(address), _) => (address, Source::Given),
        (None, Some(r)) if args.emacs_basis.is_none() => (r.lispsym, Source::Exe),
        (None, _) => {
            let (offset, _) =
                executable::lispsym_offset(&dump).map_err(|e| Failure::in_file(path, e))?;
            (emacs_basis.wrapping_add_signed(offset), Source::Dump)
        }
    };
    let dump_base = args
        .preferred_base
        .or(args.dump_base)
        .expect("clap requires --dump-base or --preferred-base");
    let bases = Bases {
        dump_base,
        emacs_basis,
        lispsym,
    };
    let sources = Sources {
        emacs_basis: if args.emacs_basis.is_some() {
            Source::Given
        } else {
            Source::Exe
        },
        lispsym: lispsym_source,
    };

    if let Some(output) = &args.output {
        refuse_overwriting_input(path, output)?;
    }
    let copy_started = Instant::now();
    let mut image = dump.bytes().to_vec();
    let copy_us = copy_started.elapsed().as_micros() as u64;
    let relocate_started = Instant::now();
    let applied =
        relocate::apply(&dump, &bases, Some(&mut image)).map_err(|e| Failure::in_file(path, e))?;
    let relocate_us = relocate_started.elapsed().as_micros() as u64;
    let mode = match (args.preferred_base, &args.output) {
        (Some(_), Some(output)) => {
            let (bytes, _) =
                relocate::prerelocated(&dump, &bases).map_err(|e| Failure::in_file(path, e))?;
            write_atomically(output, &bytes)?;
            "preferred"
        }
        (None, Some(output)) => {
            write_atomically(output, &image)?;
            "image"
        }
        _ => "dry_run",
    };
    let cost = relocate::page_costs(&dump, &bases);
    let report = Report {
        schema_version: SCHEMA_VERSION,
        file: path.display().to_string(),
        mode,
        output: args.output.as_ref().map(|p| p.display().to_string()),
        bases,
        sources,
        recovered,
        relocations: applied,
        cost,
        timing: Timing {
            copy_us,
            relocate_us,
            total_us: started.elapsed().as_micros() as u64,
        },
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_human(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writing the image over the dump would modify the input.
fn refuse_overwriting_input(input: &Path, output: &Path) -> Result<(), Failure> {
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Failure::in_file(
            output,
            "is the input dump; pdmp never modifies its input: choose another output path",
        ));
    }
    Ok(())
}

/// Writes `bytes` to a temporary file next to `output`, then renames it.
fn write_atomically(output: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Failure::in_file(output, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.flush())
        .map_err(|e| Failure::in_file(output, e))?;
    temp.persist(output)
        .map_err(|e| Failure::in_file(output, e.error))?;
    Ok(())
}

fn print_human(r: &Report) {
    let mut addresses = table(&["address", "value", "source"]);
    addresses.add_row(vec![
        "dump_base".to_string(),
        format!("{:#x}", r.bases.dump_base),
        if r.mode == "preferred" {
            "given (preferred base)".to_string()
        } else {
            "given".to_string()
        },
    ]);
    addresses.add_row(vec![
        "emacs_basis".to_string(),
        format!("{:#x}", r.bases.emacs_basis),
        r.sources.emacs_basis.describe().to_string(),
    ]);
    addresses.add_row(vec![
        "lispsym".to_string(),
        format!("{:#x}", r.bases.lispsym),
        r.sources.lispsym.describe().to_string(),
    ]);
    if let Some(x) = &r.recovered {
        let section = |s: &Option<String>| s.clone().unwrap_or_else(|| "no section".into());
        addresses.add_row(vec![
            "link-time emacs_basis".to_string(),
            format!("{:#x}", x.link_emacs_basis),
            format!(
                "in {}; {} of {} subr images sit on the executable's {} static subrs, {} with equal function pointers",
                section(&x.emacs_basis_section),
                x.subrs_matched,
                x.subr_images,
                x.static_subrs,
                x.function_pointers_agree
            ),
        ]);
        addresses.add_row(vec![
            "link-time lispsym".to_string(),
            format!("{:#x}", x.link_emacs_basis.wrapping_add_signed(x.lispsym_offset)),
            format!(
                "in {}; emacs_basis {:+#x}, the destination of nil, lowest of {} copied symbol images",
                section(&x.lispsym_section),
                x.lispsym_offset,
                x.symbol_images
            ),
        ]);
        addresses.add_row(vec![
            "load bias".to_string(),
            format!("{:#x}", x.load_bias),
            "given".to_string(),
        ]);
    }
    println!("{addresses}");

    let mut kinds = table(&[
        "phase",
        "relocation kind",
        "applied",
        "skipped",
        "why skipped",
    ]);
    for k in &r.relocations.kinds {
        kinds.add_row(vec![
            k.phase.name().to_string(),
            k.kind.clone(),
            k.applied.to_string(),
            k.skipped.to_string(),
            k.reason.unwrap_or("").to_string(),
        ]);
    }
    kinds.add_row(vec![
        String::new(),
        "total".to_string(),
        r.relocations.applied.to_string(),
        r.relocations.skipped.to_string(),
        String::new(),
    ]);
    println!("{kinds}");

    let mut cost = table(&[
        "phase",
        "stores",
        "bytes",
        "4 KiB pages",
        "per page (mean/max)",
        "64 KiB pages",
        "per page (mean/max)",
    ]);
    for c in &r.cost {
        let mut row = vec![
            c.phase.to_string(),
            c.relocations.to_string(),
            c.bytes_written.to_string(),
        ];
        for p in &c.by_page_size {
            row.push(p.pages.to_string());
            row.push(if p.pages == 0 {
                "-".to_string()
            } else {
                format!(
                    "{:.1} / {}",
                    c.relocations as f64 / p.pages as f64,
                    p.max_relocations_per_page
                )
            });
        }
        cost.add_row(row);
    }
    println!("{cost}");
    let t = &r.timing;
    println!(
        "Time: copy of the file {:.2} ms, relocation {:.2} ms, pdmp in all {:.2} ms",
        t.copy_us as f64 / 1000.0,
        t.relocate_us as f64 / 1000.0,
        t.total_us as f64 / 1000.0
    );
    if let Some(output) = &r.output {
        let what = if r.mode == "preferred" {
            "pre-relocated dump"
        } else {
            "image"
        };
        println!("Wrote {what} {output}");
    }
}
