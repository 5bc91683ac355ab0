//! `pdmp-runtime`: the reference runtime. Loads a dump written by
//! `pdmp dump` (checking its fingerprint against the one this executable
//! carries) and prints symbol values or a summary. Without a dump argument
//! it loads the dump its own executable carries (`pdmp embed`), else
//! `EXE.pdmp` beside it.

use clap::Parser;
use pdmp::loader::{LoadOptions, LoadedHeap};
use pdmp::origin::DumpSource;
use std::path::PathBuf;
use std::process::ExitCode;

/// The fingerprint as data in the executable, where a scan of the file finds
/// it (as Emacs's `fingerprint` array); read volatile so it is never folded.
#[used]
#[no_mangle]
static PDMP_RUNTIME_FINGERPRINT: [u8; 32] = pdmp::image::FINGERPRINT;

fn fingerprint() -> [u8; 32] {
    // SAFETY: reading a static.
    unsafe { std::ptr::read_volatile(&PDMP_RUNTIME_FINGERPRINT) }
}

/// Load a dump written by `pdmp dump` and print values from it.
#[derive(Parser)]
#[command(name = "pdmp-runtime", version, about)]
#[command(after_help = "Examples:
  pdmp-runtime all.pdmp                        # load, print a summary
  pdmp-runtime all.pdmp --print fill-column    # the value of a symbol
  pdmp-runtime all.pdmp --no-mmap --json
  pdmp-runtime all.pdmp --isolates 4           # four heaps, four threads
  pdmp-runtime --fingerprint
  pdmp embed --exe pdmp-runtime all.pdmp -o app && ./app --print fill-column
                                               # the dump embedded in the executable

Without DUMP, the runtime loads the dump embedded in its own executable
(section .pdmp, or appended with a trailer), else EXE.pdmp beside it.

Exit status: 0 loaded, 1 a symbol was not found or is void, 2 could not load.")]
struct Cli {
    /// The dump to load [default: the dump embedded in this executable, else EXE.pdmp].
    dump: Option<PathBuf>,
    /// Print the value of this symbol (repeatable).
    #[arg(long = "print", value_name = "SYMBOL")]
    symbols: Vec<String>,
    /// Read the dump into memory instead of mapping it.
    #[arg(long)]
    no_mmap: bool,
    /// Load this many independent heaps from the dump in parallel threads.
    #[arg(long, default_value_t = 1)]
    isolates: usize,
    /// Print this executable's fingerprint (64 hex digits) and exit.
    #[arg(long)]
    fingerprint: bool,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Summary {
    schema_version: u32,
    file: String,
    /// Where the dump came from: `origin` (file, section, append, beside),
    /// `path`, `range` (`{offset, size}` inside an executable, else null).
    source: DumpSource,
    numbering: &'static str,
    isolates: usize,
    load_ms: f64,
    report: pdmp::loader::LoadReport,
    /// Files and other top-level forms in the root (0 when only printing values).
    root_files: usize,
    root_forms: usize,
    values: Vec<Printed>,
}

#[derive(serde::Serialize)]
struct Printed {
    symbol: String,
    /// `None` for a void or unknown symbol.
    value: Option<String>,
}

fn main() -> ExitCode {
    // End quietly when the reader of our output goes away
    // (`pdmp-runtime | head`) instead of panicking on the write.
    // SAFETY: restoring the default disposition of one signal at start-up,
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if cli.fingerprint {
        println!("{}", pdmp::header::hex(&fingerprint()));
        return ExitCode::SUCCESS;
    }
    match run(&cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pdmp-runtime: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, String> {
    let located = pdmp::origin::locate(cli.dump.as_deref()).map_err(|e| e.to_string())?;
    let options = LoadOptions {
        mmap: !cli.no_mmap,
        fingerprint: fingerprint(),
    };
    let load = || LoadedHeap::load_located(&located, &options).map_err(|e| e.to_string());
    let started = std::time::Instant::now();
    let heaps: Vec<LoadedHeap> = if cli.isolates <= 1 {
        vec![load()?]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..cli.isolates).map(|_| scope.spawn(load)).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("loader thread"))
                .collect::<Result<_, _>>()
        })?
    };
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let source = &located.source;
    let heap = &heaps[0];
    let mut code = ExitCode::SUCCESS;
    let mut values = Vec::new();
    for symbol in &cli.symbols {
        let value = heap.symbol_value(symbol)?;
        // Every isolate holds the same heap.
        for other in &heaps[1..] {
            if other.symbol_value(symbol)? != value {
                return Err(format!("isolates disagree on the value of {symbol}"));
            }
        }
        let printed = match value {
            Some(Some(v)) => Some(v.to_lisp_string()),
            Some(None) => {
                eprintln!("pdmp-runtime: symbol's value as variable is void: {symbol}");
                code = ExitCode::from(1);
                None
            }
            None => {
                eprintln!("pdmp-runtime: no symbol named {symbol} in the dump");
                code = ExitCode::from(1);
                None
            }
        };
        values.push(Printed {
            symbol: symbol.clone(),
            value: printed,
        });
    }
    // Decoding the whole root costs more than loading: only for a summary.
    let root = if cli.symbols.is_empty() || cli.json {
        heap.root()?
    } else {
        pdmp::value::Value::nil()
    };
    let files = root.as_list().map(<[_]>::to_vec).unwrap_or_default();
    let root_forms = files
        .iter()
        .map(|entry| match entry {
            pdmp::value::Value::List(items, _) => items.len() - 1,
            _ => 0,
        })
        .sum();
    let summary = Summary {
        schema_version: 1,
        file: source.path.display().to_string(),
        source: source.clone(),
        numbering: heap.numbering().name(),
        isolates: heaps.len(),
        load_ms,
        report: heap.report,
        root_files: files.len(),
        root_forms,
        values,
    };
    if cli.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
        );
    } else if cli.symbols.is_empty() {
        let r = &summary.report;
        println!(
            "loaded {} ({}, {}, {})",
            source.describe(),
            summary.numbering,
            if r.mmap { "mmap" } else { "read" },
            source.origin.phrase()
        );
        println!(
            "isolates: {}, load time: {:.3} ms",
            summary.isolates, load_ms
        );
        println!(
            "dump relocations applied: {}{}",
            r.dump_relocs_applied,
            match r.preferred_base {
                Some(p) if p == r.dump_base => format!(" (mapped at preferred base {p:#x})"),
                Some(p) => format!(
                    " (preferred base {p:#x} was taken; relocated to {:#x})",
                    r.dump_base
                ),
                None => String::new(),
            }
        );
        println!("emacs relocations applied: {}", r.emacs_relocs_applied);
        println!("hash tables rebuilt: {}", r.hash_tables);
        println!("discarded: {} bytes", r.discarded_bytes);
        println!(
            "root: {} files, {} other top-level forms",
            summary.root_files, root_forms
        );
    } else {
        for p in &summary.values {
            if let Some(v) = &p.value {
                println!("{v}");
            }
        }
    }
    Ok(code)
}
