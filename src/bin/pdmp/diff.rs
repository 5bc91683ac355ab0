//! `pdmp diff`: what changed between two dumps, for people and for CI.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use pdmp::container::Source;
use pdmp::diff::{Delta, SummaryDiff};
use pdmp::summary::Summary;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Compare two dumps: header, regions, objects and relocations, with deltas.
#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 same content, 1 different (or, with a growth limit, grown \
beyond it), 2 trouble.

Examples:
  pdmp diff old/emacs.pdmp new/emacs.pdmp
  pdmp diff --fail-on-growth 5 old.pdmp new.pdmp      # CI: fail if the dump grew > 5 %
  pdmp diff --max-growth 1048576 --json old.pdmp new.pdmp"
)]
pub struct Args {
    old: PathBuf,
    new: PathBuf,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// Show unchanged figures too.
    #[arg(long)]
    all: bool,
    /// Exit 1 only if the file grew by more than this many percent.
    #[arg(long, value_name = "PERCENT")]
    fail_on_growth: Option<f64>,
    /// Exit 1 only if the file grew by more than this many bytes.
    #[arg(long, value_name = "BYTES")]
    max_growth: Option<u64>,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    schema_version: u32,
    old: String,
    new: String,
    identical_bytes: bool,
    different: bool,
    growth_limit_exceeded: Option<bool>,
    #[serde(flatten)]
    diff: &'a SummaryDiff,
}

/// Opens a raw dump, a .pdmpz container or an executable carrying a dump.
fn summary(path: &Path) -> Result<(Source, Summary), Failure> {
    let source = Source::open(path).map_err(|e| Failure::in_file(path, e))?;
    let summary = Summary::of(&source.dump().map_err(|e| Failure::in_file(path, e))?);
    Ok((source, summary))
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let (old_file, old) = summary(&args.old)?;
    let (new_file, new) = summary(&args.new)?;
    let diff = SummaryDiff::of(&old, &new);
    let identical_bytes = old_file.file_bytes() == new_file.file_bytes();
    let different = !identical_bytes;
    let growth = diff.size().change;
    let limit_exceeded = match (args.fail_on_growth, args.max_growth) {
        (None, None) => None,
        (percent, bytes) => Some(
            percent.is_some_and(|p| diff.size().percent().is_some_and(|g| g > p))
                || bytes.is_some_and(|b| growth > b as i64),
        ),
    };
    if args.json {
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            old: args.old.display().to_string(),
            new: args.new.display().to_string(),
            identical_bytes,
            different,
            growth_limit_exceeded: limit_exceeded,
            diff: &diff,
        })?;
    } else {
        print_human(args, &diff, identical_bytes, limit_exceeded);
    }
    let fail = limit_exceeded.unwrap_or(different);
    Ok(if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn percent(d: &Delta) -> String {
    match d.percent() {
        Some(p) => format!("{p:+.2}%"),
        None if d.new == 0 => String::new(),
        None => "new".to_string(),
    }
}

fn print_human(args: &Args, diff: &SummaryDiff, identical: bool, limit: Option<bool>) {
    println!("old: {}\nnew: {}", args.old.display(), args.new.display());
    if identical {
        println!("The files are byte-identical.");
        return;
    }
    if diff.old_layout != diff.new_layout {
        println!("layout: {} -> {}", diff.old_layout, diff.new_layout);
    }
    if diff.old_fingerprint != diff.new_fingerprint {
        println!(
            "fingerprint: {} -> {}",
            diff.old_fingerprint, diff.new_fingerprint
        );
    } else {
        println!("fingerprint: {} (same)", diff.old_fingerprint);
    }
    let mut t = table(&["section", "figure", "old", "new", "change", "%"]);
    for d in diff.figures.iter().filter(|d| args.all || d.change != 0) {
        t.add_row(vec![
            d.section.clone(),
            d.name.clone(),
            d.old.to_string(),
            d.new.to_string(),
            signed(d.change),
            percent(d),
        ]);
    }
    println!("{t}");
    if let Some(exceeded) = limit {
        println!(
            "growth {} bytes ({}): {}",
            signed(diff.size().change),
            percent(diff.size()),
            if exceeded {
                "beyond the limit"
            } else {
                "within the limit"
            }
        );
    }
}
