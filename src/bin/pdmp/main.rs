//! The `pdmp` command line: argument parsing and output formatting only; the
//! library does the work.

// pdmp defines the C `main` itself (see `main` below).
#![no_main]

mod compress;
mod diff;
mod dump;
mod embed;
mod extract;
mod generate;
mod info;
mod output;
mod relocate;
mod stats;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Counts heap bytes so that `PDMP_PEAK_HEAP=1` can report the peak (the
// hostile-input tests hold every subcommand to a memory budget with it).
#[global_allocator]
static ALLOCATOR: pdmp::peak::Counting = pdmp::peak::Counting;

/// Inspect, verify and compare portable heap dumps (.pdmp) of GNU Emacs.
#[derive(Parser)]
#[command(name = "pdmp", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 success, 1 problems found or different, 2 could not run.")]
pub struct Cli {
    /// When to color tables: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t)]
    color: output::ColorChoice,
    /// Print no notes on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each one's arguments are defined when it is invoked
/// (`defer`): building all of them costs a short run such as `pdmp info`
/// about 0.3 ms, mostly in page faults (bench/info.sh). The one-line
/// descriptions stay here, where `pdmp --help` lists them.
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Show the header, regions, tables and object counts of a dump.
    Info(info::Args),
    /// Compare two dumps: header, regions, objects and relocations with deltas,
    /// then symbols added, removed and changed, by content rather than offset.
    Diff(diff::Args),
    /// Check that a dump is sound and, optionally, that it pairs with an executable.
    Verify(verify::Args),
    /// Count and bytes per type and region, page relocation density, and what
    /// each object and symbol retains.
    Stats(stats::Args),
    /// Apply a dump's relocations for given addresses, as Emacs does when it loads it.
    ///
    /// Writes the memory image Emacs would hold after the EARLY phase (every
    /// arithmetic relocation applied; bignum and native-comp relocations are
    /// counted as skipped), and reports the pages each phase writes.
    Relocate(relocate::Args),
    /// Embed a dump in a copy of its executable, or check an executable.
    Embed(embed::Args),
    /// Write the dump an executable carries (section or appended) to a file, bit-exact.
    Extract(extract::Args),
    /// Compress a dump into a .pdmpz container (relocation-aware, then zstd).
    Compress(compress::CompressArgs),
    /// Decompress a .pdmpz container back into the exact original dump.
    Decompress(compress::DecompressArgs),
    /// Write a dump (reference layout) of the heap that Emacs Lisp sources build.
    Dump(dump::Args),
    /// Write shell completions and man pages (for packagers; hidden from --help).
    #[command(hide = true)]
    Generate(generate::Args),
}

/// The process entry point, called by the C runtime. Rust's own start-up
/// (what a Rust `fn main` gets) would first read /proc/self/maps to place
/// the main thread's stack guard, set up an alternate signal stack with
/// SIGSEGV and SIGBUS handlers to report stack overflows, and poll file
/// descriptors 0–2: a sizeable share of a short run such as `pdmp info`
/// (bench/info.sh). Everything pdmp uses works without it: glibc hands the
/// arguments to `std::env::args` itself, and `std::process::exit` flushes
/// stdout.
#[no_mangle]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // One malloc arena for every thread: glibc would give `info`'s helper
    // thread an arena of its own, reserving and trimming 128 MiB of address
    // space while the other thread takes page faults on the dump (about
    // 25 page faults and 0.1-0.2 ms of a 2 ms run, bench/info.sh).
    // SAFETY: a malloc parameter set before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    // The heap counter runs only when asked for (the test of the variable
    // frees what it allocated before counting starts).
    let measure_peak = std::env::var_os("PDMP_PEAK_HEAP").is_some();
    if measure_peak {
        pdmp::peak::enable();
    }
    // A panic must not unwind into C; 101 is the status Rust's start-up
    // gives a panicking `main`.
    let code = std::panic::catch_unwind(run).map_or(101, |code| {
        // ExitCode has no stable conversion to an integer: find its byte.
        (0..=u8::MAX)
            .find(|&n| ExitCode::from(n) == code)
            .map_or(1, i32::from)
    });
    if measure_peak {
        eprintln!("pdmp: peak heap: {} bytes", pdmp::peak::peak());
    }
    std::process::exit(code)
}

fn run() -> ExitCode {
    // Like other Unix filters, end quietly when the reader of our output
    // goes away (`pdmp info | head`) instead of failing on the write.
    // SAFETY: restoring the default disposition of one signal at start-up,
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            eprintln!("pdmp: error: {}", one_line(&error.render().to_string()));
            return ExitCode::from(2);
        }
        Err(help_or_version) => help_or_version.exit(),
    };
    output::configure(cli.color, cli.quiet);
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Relocate(args) => relocate::run(&args),
        Command::Embed(args) => embed::run(&args),
        Command::Extract(args) => extract::run(&args),
        Command::Compress(args) => compress::run_compress(&args),
        Command::Decompress(args) => compress::run_decompress(&args),
        Command::Dump(args) => dump::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pdmp: error: {error}");
            ExitCode::from(2)
        }
    }
}

/// clap's usage error without its usage block, on one line.
fn one_line(message: &str) -> String {
    let text: Vec<&str> = message
        .lines()
        .take_while(|line| !line.starts_with("Usage:"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let text = text.join(" ");
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    format!("{text} (see --help)")
}
