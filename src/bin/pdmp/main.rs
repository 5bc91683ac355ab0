//! The `pdmp` command line: argument parsing and output formatting only; the
//! library does the work.

mod dump;
mod info;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Inspect, verify and compare portable heap dumps (.pdmp) of GNU Emacs.
#[derive(Parser)]
#[command(name = "pdmp", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 success, 1 problems found or different, 2 could not run.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Info(info::Args),
    Dump(dump::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
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
