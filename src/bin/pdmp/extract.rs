//! `pdmp extract`: copy the dump an executable carries into a dump file.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use pdmp::embed::{self, Extraction};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Exits 2, writing nothing, when the executable carries no dump or a damaged
one (an appended dump whose trailer is gone, e.g. after strip, or whose
checksum does not match).

Examples:
  pdmp extract emacs-with-dump -o emacs.pdmp
  pdmp extract emacs-with-dump -o emacs.pdmp --json"
)]
pub struct Args {
    /// The executable carrying a dump (see `pdmp embed`).
    #[arg(value_name = "EXE")]
    executable: PathBuf,
    /// The dump file to write.
    #[arg(short, long, value_name = "DUMP")]
    output: PathBuf,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let done = embed::extract_file(&args.executable, &args.output)
        .map_err(|e| Failure::new(e.to_string()))?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            schema_version: u32,
            file: String,
            output: String,
            #[serde(flatten)]
            extraction: &'a Extraction,
        }
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            file: args.executable.display().to_string(),
            output: args.output.display().to_string(),
            extraction: &done,
        })?;
    } else {
        let range = done.embedded.range;
        let mut t = table(&[]);
        t.add_row(vec![
            "from".to_string(),
            args.executable.display().to_string(),
        ]);
        t.add_row(vec!["mode".to_string(), done.embedded.mode.to_string()]);
        t.add_row(vec![
            "dump".to_string(),
            format!("offset {}, {} bytes", range.offset, range.size),
        ]);
        t.add_row(vec![
            "written to".to_string(),
            args.output.display().to_string(),
        ]);
        t.add_row(vec!["sha256".to_string(), done.sha256.clone()]);
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}
