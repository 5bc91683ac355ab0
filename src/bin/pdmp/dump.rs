//! `pdmp dump`: read Emacs Lisp sources into a heap and write it as a dump.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use pdmp::heap::Heap;
use pdmp::pvec::PvecNumbering;
use pdmp::writer::{write_dump_file, DumpOptions, DumpStats};
use std::path::PathBuf;
use std::process::ExitCode;

/// Which Emacs version's layout to write.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LayoutArg {
    #[value(name = "emacs-27")]
    Emacs27,
    #[value(name = "emacs-28")]
    Emacs28,
    #[value(name = "emacs-29")]
    Emacs29,
    #[value(name = "emacs-30")]
    Emacs30,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  pdmp dump init.el -o init.pdmp
  pdmp dump /usr/share/emacs/28.2/lisp/subr.el.gz --layout emacs-27 -o subr27.pdmp
  pdmp dump $(find /usr/share/emacs/28.2/lisp -name '*.el.gz') -o all.pdmp --json
  pdmp dump lib.el -o lib.pdmp --preferred-base 0x7e0000000000

Top-level (setq S V), (defvar S V) and (defconst S V) bind S's value; (put 'S 'P V)
and (defalias 'S F) set properties and function cells; every other form stays
reachable from the dump's root. Load the result with pdmp-runtime.")]
pub struct Args {
    /// Source files (.el or .el.gz), loaded in order.
    #[arg(required = true)]
    sources: Vec<PathBuf>,
    /// The dump to write (written to a temporary file, then renamed).
    #[arg(short, long)]
    output: PathBuf,
    /// Header layout and pvec numbering of this Emacs version.
    #[arg(long, value_enum, default_value = "emacs-28")]
    layout: LayoutArg,
    /// Pre-relocate for this address (hex with 0x, 64 KiB aligned); loading
    /// there then needs no relocation.
    #[arg(long, value_parser = parse_address)]
    preferred_base: Option<u64>,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_address(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("not an address: {e}"))
}

#[derive(serde::Serialize)]
struct Report {
    schema_version: u32,
    output: String,
    layout: &'static str,
    sources: usize,
    forms: usize,
    size: u64,
    #[serde(flatten)]
    stats: DumpStats,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let version = match args.layout {
        LayoutArg::Emacs27 => PvecNumbering::Emacs27,
        LayoutArg::Emacs28 => PvecNumbering::Emacs28,
        LayoutArg::Emacs29 => PvecNumbering::Emacs29,
        LayoutArg::Emacs30 => PvecNumbering::Emacs30,
    };
    let mut heap = Heap::new();
    let forms = heap.load_files(&args.sources).map_err(Failure::new)?;
    let mut options = DumpOptions::new(version);
    options.preferred_base = args.preferred_base;
    let (stats, size) = write_dump_file(&mut heap, &options, &args.output)
        .map_err(|e| Failure::in_file(&args.output, e))?;
    let report = Report {
        schema_version: SCHEMA_VERSION,
        output: args.output.display().to_string(),
        layout: version.name(),
        sources: args.sources.len(),
        forms,
        size,
        stats,
    };
    if args.json {
        print_json(&report)?;
    } else {
        let mut t = table(&[]);
        for (k, v) in [
            ("output", report.output.clone()),
            ("layout", report.layout.to_string()),
            ("sources", report.sources.to_string()),
            ("top-level forms", report.forms.to_string()),
            ("size", format!("{} bytes", report.size)),
            ("objects", stats.objects.to_string()),
            ("dump relocations", stats.dump_relocs.to_string()),
            ("emacs relocations", stats.emacs_relocs.to_string()),
        ] {
            t.add_row(vec![k.to_string(), v]);
        }
        println!("{t}");
        println!(
            "Byte counts: header={} hot={} discardable={} cold={}",
            version.layout().header_size(),
            stats.hot,
            stats.discardable,
            stats.cold
        );
    }
    Ok(ExitCode::SUCCESS)
}
