//! `pdmp diff`: what changed between two dumps, for people and for CI.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use pdmp::container::Source;
use pdmp::diff::{Delta, SummaryDiff};
use pdmp::executable::Executable;
use pdmp::graph::Graph;
use pdmp::summary::Summary;
use pdmp::symdiff::{Analysis, ContentDiff, Side, SymbolChange};
use pdmp::Dump;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 same content (offsets may differ), 1 different (or, with a \
growth limit, grown beyond it), 2 trouble.

Symbols are compared by structural hashes of what their value, function and
plist reach, so objects that only moved are not changes. Names of built-in
symbols are read from --emacs, or from the `emacs` on PATH when it wrote the
dumps.

Examples:
  pdmp diff old/emacs.pdmp new/emacs.pdmp
  pdmp diff --top 30 --all emacs.pdmp org.pdmp
  pdmp diff --fail-on-growth 5 old.pdmp new.pdmp      # CI: fail if the dump grew > 5 %
  pdmp diff --max-growth 1048576 --json old.pdmp new.pdmp | jq .added"
)]
pub struct Args {
    old: PathBuf,
    new: PathBuf,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// Show unchanged figures and every added, removed and changed symbol.
    #[arg(long)]
    all: bool,
    /// Exit 1 only if the file grew by more than this many percent.
    #[arg(long, value_name = "PERCENT")]
    fail_on_growth: Option<f64>,
    /// Exit 1 only if the file grew by more than this many bytes.
    #[arg(long, value_name = "BYTES")]
    max_growth: Option<u64>,
    /// Entries in the retained-size ranking and in the symbol lists shown.
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Most string text diffs to show.
    #[arg(long, default_value_t = 20, value_name = "N")]
    strings: usize,
    /// An Emacs executable that wrote one of the dumps (for built-in symbol
    /// names); give it twice for two executables.
    #[arg(long, value_name = "PATH")]
    emacs: Vec<PathBuf>,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    schema_version: u32,
    old: String,
    new: String,
    old_executable: Option<String>,
    new_executable: Option<String>,
    identical_bytes: bool,
    same_content: bool,
    different: bool,
    growth_limit_exceeded: Option<bool>,
    #[serde(flatten)]
    diff: &'a SummaryDiff,
    #[serde(flatten)]
    content: &'a ContentDiff,
}

/// A dump with its graph, executable (if one fits) and analysis.
struct Analysed {
    graph: Graph,
    executable: Option<(Executable, PathBuf)>,
    analysis: Analysis,
}

fn analyse(path: &Path, dump: &Dump<'_>, emacs: &[PathBuf]) -> Result<Analysed, Failure> {
    let graph = Graph::build(dump).map_err(|e| Failure::in_file(path, e))?;
    let executable = emacs
        .iter()
        .cloned()
        .chain(pdmp::locate::find_on_path("emacs"))
        .find_map(|exe| Some((Executable::open(&exe, dump).ok()?, exe)));
    let analysis = Analysis::of(dump, &graph, executable.as_ref().map(|(e, _)| e));
    Ok(Analysed {
        graph,
        executable,
        analysis,
    })
}

fn side<'s, 'a>(dump: &'s Dump<'a>, a: &'s Analysed) -> Side<'s, 'a> {
    Side {
        dump,
        graph: &a.graph,
        executable: a.executable.as_ref().map(|(e, _)| e),
        analysis: &a.analysis,
    }
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    // A raw dump, a .pdmpz container or an executable carrying a dump alike.
    let open = |path: &Path| Source::open(path).map_err(|e| Failure::in_file(path, e));
    let (old_file, new_file) = (open(&args.old)?, open(&args.new)?);
    let old_dump = old_file
        .dump()
        .map_err(|e| Failure::in_file(&args.old, e))?;
    let new_dump = new_file
        .dump()
        .map_err(|e| Failure::in_file(&args.new, e))?;
    let diff = SummaryDiff::of(&Summary::of(&old_dump), &Summary::of(&new_dump));
    // Both dumps at once: the machine has more than one core.
    let (old, new) = std::thread::scope(|scope| {
        let old = scope.spawn(|| analyse(&args.old, &old_dump, &args.emacs));
        let new = analyse(&args.new, &new_dump, &args.emacs);
        (old.join().expect("analysis thread"), new)
    });
    let (old, new) = (old?, new?);
    let content = ContentDiff::of(
        side(&old_dump, &old),
        side(&new_dump, &new),
        args.top,
        args.strings,
    );
    let identical_bytes = old_dump.bytes() == new_dump.bytes();
    let same_content = !diff.differs() && content.same_content();
    let different = !same_content;
    let growth = diff.size().change;
    let limit_exceeded = match (args.fail_on_growth, args.max_growth) {
        (None, None) => None,
        (percent, bytes) => Some(
            percent.is_some_and(|p| diff.size().percent().is_some_and(|g| g > p))
                || bytes.is_some_and(|b| growth > b as i64),
        ),
    };
    let exe_name = |a: &Analysed| a.executable.as_ref().map(|(_, p)| p.display().to_string());
    if args.json {
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            old: args.old.display().to_string(),
            new: args.new.display().to_string(),
            old_executable: exe_name(&old),
            new_executable: exe_name(&new),
            identical_bytes,
            same_content,
            different,
            growth_limit_exceeded: limit_exceeded,
            diff: &diff,
            content: &content,
        })?;
    } else {
        print_human(args, &diff, identical_bytes, limit_exceeded);
        if !identical_bytes {
            print_content(args, &content, same_content);
        }
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

/// Up to `args.top` names (all with `--all`), then how many more.
fn name_list(args: &Args, names: &[String]) -> String {
    let shown = if args.all { names.len() } else { args.top };
    let mut text: Vec<String> = names.iter().take(shown).map(|n| format!("`{n}`")).collect();
    if names.len() > shown {
        text.push(format!("… and {} more", names.len() - shown));
    }
    text.join(", ")
}

fn print_content(args: &Args, c: &ContentDiff, same: bool) {
    if same {
        println!("Same content: the dumps differ only in where objects sit.");
    }
    println!(
        "symbols: {} -> {} ({} added, {} removed, {} changed)",
        c.old_symbols,
        c.new_symbols,
        c.added.len(),
        c.removed.len(),
        c.changed.len()
    );
    if c.old_unnamed_symbols + c.new_unnamed_symbols > 0 {
        println!(
            "({} old and {} new built-in symbols left out: their names are in the \
executable; give --emacs)",
            c.old_unnamed_symbols, c.new_unnamed_symbols
        );
    }
    if !c.added.is_empty() {
        println!("added: {}", name_list(args, &c.added));
    }
    if !c.removed.is_empty() {
        println!("removed: {}", name_list(args, &c.removed));
    }
    if !c.changed.is_empty() {
        let mut changed: Vec<&SymbolChange> = c.changed.iter().collect();
        changed.sort_by_key(|s| {
            std::cmp::Reverse((s.new_retained as i64 - s.old_retained as i64).unsigned_abs())
        });
        let shown = if args.all { changed.len() } else { args.top };
        let mut t = table(&[
            "changed symbol",
            "what",
            "old retained",
            "new retained",
            "change",
        ]);
        for s in changed.iter().take(shown) {
            t.add_row(vec![
                s.name.clone(),
                s.changed.join(", "),
                s.old_retained.to_string(),
                s.new_retained.to_string(),
                signed(s.new_retained as i64 - s.old_retained as i64),
            ]);
        }
        println!("{t}");
        if changed.len() > shown {
            println!(
                "… and {} more changed symbols (--all)",
                changed.len() - shown
            );
        }
    }
    if !c.retained.is_empty() {
        let mut t = table(&["symbol", "old retained", "new retained", "change"]);
        for r in &c.retained {
            t.add_row(vec![
                r.name.clone(),
                r.old.to_string(),
                r.new.to_string(),
                signed(r.change),
            ]);
        }
        println!("largest retained-size changes:\n{t}");
    }
    if !c.objects.is_empty() {
        let mut t = table(&["objects", "only in old", "bytes", "only in new", "bytes"]);
        for o in &c.objects {
            let kind = match &o.pvec {
                Some(p) => format!("{} {p}", o.kind),
                None => o.kind.to_string(),
            };
            t.add_row(vec![
                kind,
                o.old_only.to_string(),
                o.old_only_bytes.to_string(),
                o.new_only.to_string(),
                o.new_only_bytes.to_string(),
            ]);
        }
        println!("objects by structure:\n{t}");
    }
    for s in &c.strings {
        println!(
            "string in `{}` ({}): {} -> {} chars\n{}",
            s.symbol, s.slot, s.old_chars, s.new_chars, s.diff
        );
    }
}
