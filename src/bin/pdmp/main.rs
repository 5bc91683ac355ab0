//! The `pdmp` command line: argument parsing and output formatting only; the
//! library does the work.

mod diff;
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

/// Inspect, verify and compare portable heap dumps (.pdmp) of GNU Emacs.
#[derive(Parser)]
#[command(name = "pdmp", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 success, 1 problems found or different, 2 could not run.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Info(info::Args),
    Diff(diff::Args),
    Verify(verify::Args),
    Stats(stats::Args),
    Relocate(relocate::Args),
    Embed(embed::Args),
    Extract(extract::Args),
    #[command(hide = true)]
    Generate(generate::Args),
}

fn main() -> ExitCode {
    // Like other Unix filters, end quietly when the reader of our output
    // goes away (`pdmp info | head`) instead of failing on the write.
    // SAFETY: restoring the default disposition of one signal at start-up,
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Relocate(args) => relocate::run(&args),
        Command::Embed(args) => embed::run(&args),
        Command::Extract(args) => extract::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pdmp: error: {error}");
            ExitCode::from(2)
        }
    }
}
