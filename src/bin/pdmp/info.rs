//! `pdmp info`: the header, regions and table contents of a dump.

use crate::output::{note, print_json, table, Failure, SCHEMA_VERSION};
use pdmp::container::Source;
use pdmp::embed::Embedded;
use pdmp::summary::{Counts, Overview, Summary};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  pdmp info                      # the dump of the Emacs on PATH (else a built-in sample)
  pdmp info emacs.pdmp
  pdmp info emacs-with-dump        # an executable carrying its dump (pdmp embed)
  pdmp info --json emacs.pdmp | jq .byte_counts")]
pub struct Args {
    /// The dump to read. Default: the dump the `emacs` on PATH loads.
    file: Option<PathBuf>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
}

/// The dump `pdmp info` shows when given no FILE and no Emacs is installed.
const SAMPLE_DUMP: &[u8] = include_bytes!("../../../testdata/reference/sample-emacs-28.pdmp");
const SAMPLE_NAME: &str = "<built-in sample-emacs-28.pdmp>";

#[derive(serde::Serialize)]
struct Report<'a> {
    schema_version: u32,
    file: String,
    /// Where the dump lies when FILE is an executable carrying it.
    embedded: Option<Embedded>,
    #[serde(flatten)]
    summary: &'a Summary,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    // Without FILE: the installed Emacs's dump, else pdmp's own small sample.
    let path = match &args.file {
        Some(path) => Some(path.clone()),
        None => match pdmp::locate::installed_emacs_dump() {
            Ok(path) => Some(path),
            Err(e) => {
                note(format!(
                    "no installed Emacs dump found ({e}); showing pdmp's built-in sample dump \
                     (testdata/reference/sample-emacs-28.pdmp). Name a FILE to inspect another."
                ));
                None
            }
        },
    };
    // A raw dump, a .pdmpz container or an executable carrying a dump alike.
    let source = match &path {
        Some(path) => Some(Source::open(path).map_err(|e| Failure::in_file(path, e))?),
        None => None,
    };
    let path = path.unwrap_or_else(|| PathBuf::from(SAMPLE_NAME));
    let (bytes, embedded) = match &source {
        Some(source) => source.bytes().map_err(|e| Failure::in_file(&path, e))?,
        None => (SAMPLE_DUMP, None),
    };
    let dump = pdmp::Dump::parse(bytes).map_err(|e| Failure::in_file(&path, e))?;
    // A raw dump is a file map whose pages both counting threads release.
    let base = embedded.as_ref().map_or(0, |e| e.range.offset as usize);
    let release = |range: Range<usize>| {
        if let Some(Source::Raw(file)) = &source {
            file.release(base + range.start..base + range.end);
        }
    };
    if args.json {
        // The report is encoded and printed while the helper thread releases pages.
        let file = path.display().to_string();
        Summary::of_overlapping(
            &dump,
            &release,
            |_| {},
            |summary, ()| {
                print_json(&Report {
                    schema_version: SCHEMA_VERSION,
                    file,
                    embedded,
                    summary,
                })
            },
        )
        .1?;
    } else {
        let file = match embedded {
            Some(e) => format!(
                "{} (dump embedded in {} mode at offset {})",
                path.display(),
                e.mode,
                e.range.offset
            ),
            None => path.display().to_string(),
        };
        // The tables that need no counts are formatted while the helper
        // thread counts, the rest, and the report printed in one write, while
        // it releases pages.
        Summary::of_overlapping(&dump, &release, print_early, |summary, early| {
            print!("{}", print_human(&file, early, summary))
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// The parts of the report that need no counts, formatted ahead.
struct Early {
    /// The regions and tables.
    middle: String,
    /// The emacs relocations by kind.
    tail: String,
}

fn print_early(s: &Overview) -> Early {
    let mut middle = String::with_capacity(4 << 10);
    let r = &s.regions;
    let mut regions = Rows::new();
    let padding = r.discardable.size.saturating_sub(r.discardable_used);
    for (name, span, note) in [
        ("header", r.header, String::new()),
        ("hot", r.hot, String::new()),
        (
            "discardable",
            r.discardable,
            format!("{} used, {padding} padding", r.discardable_used),
        ),
        ("cold heap data", r.cold_heap, String::new()),
        ("tables", r.tables, String::new()),
    ] {
        regions.push([
            name,
            &span.offset.to_string(),
            &span.size.to_string(),
            &note,
        ]);
    }
    regions.print(&mut middle, &["region", "offset", "size", "note"]);
    let mut tables = Rows::new();
    for t in &s.tables {
        tables.push([
            t.name,
            &t.offset.to_string(),
            &t.count.to_string(),
            &t.bytes.to_string(),
        ]);
    }
    tables.print(&mut middle, &["table", "offset", "entries", "bytes"]);

    let mut tail = String::with_capacity(1 << 10);
    print_counts(&mut tail, "emacs relocations by kind", &s.emacs_relocs);
    Early { middle, tail }
}

/// The whole report: the overview table (which shows the pvec numbering,
/// detected after the counting), the byte and relocation counts, `early`,
/// and the counted tables.
fn print_human(file: &str, early: Early, s: &Summary) -> String {
    let numbering = match s.pvec_numbering.numbering {
        Some(n) => n.name(),
        None => "unknown",
    };
    let mut out = String::with_capacity(16 << 10);
    let mut overview = Rows::new();
    overview.push(["file", file]);
    overview.push(["size", &format!("{} bytes", s.size)]);
    overview.push([
        "layout",
        &format!("{}: {}", s.layout.name(), s.layout.describe()),
    ]);
    overview.push([
        "pvec numbering",
        &format!("{numbering} ({})", s.pvec_numbering.evidence.join("; ")),
    ]);
    overview.push(["magic", "DUMPEDGNUEMACS (dump complete)"]);
    overview.push(["fingerprint", &s.fingerprint]);
    if let Some(list) = s.hash_list {
        let entries = match list.length {
            Some(n) => format!("offset {}, {n} entries", list.offset),
            None => format!("offset {} (not a plain vector)", list.offset),
        };
        overview.push(["hash list", &entries]);
    }
    if s.trailing_bytes > 0 {
        overview.push([
            "trailing bytes",
            &format!("{} after the last table", s.trailing_bytes),
        ]);
    }
    overview.print(&mut out, &[]);
    let b = s.byte_counts;
    writeln!(
        out,
        "Byte counts: header={} hot={} discardable={} cold={}",
        b.header, b.hot, b.discardable, b.cold
    )
    .expect("a String takes any text");
    writeln!(
        out,
        "Reloc counts: hot={} discardable={}",
        s.reloc_counts.hot, s.reloc_counts.discardable
    )
    .expect("a String takes any text");
    out.push_str(&early.middle);
    let mut relocs = Rows::new();
    for phase in &s.relocations {
        for (kind, count) in &phase.by_kind.0 {
            relocs.push([phase.phase.name(), kind, &count.to_string()]);
        }
        relocs.push([phase.phase.name(), "total", &phase.total.to_string()]);
    }
    relocs.print(&mut out, &["phase", "relocation kind", "count"]);
    print_counts(&mut out, "object starts by Lisp type", &s.object_starts);
    print_counts(&mut out, "vectorlike objects by pvec type", &s.vectorlike);
    out.push_str(&early.tail);
    out
}

fn print_counts(out: &mut String, title: &str, counts: &Counts) {
    let mut t = Rows::new();
    for (name, count) in &counts.0 {
        t.push([name, &count.to_string()]);
    }
    t.push(["total", &counts.total().to_string()]);
    t.print(out, &[title, "count"]);
}

/// The rows of a table, gathered as one row of multi-line cells (one line
/// per row and column), each line with its padding spaces written in: the
/// tables' style draws no line between rows, so comfy-table prints such a
/// row, with column padding off, exactly as it would print the rows one by
/// one, while laying out far fewer cells and building far fewer strings.
struct Rows<const N: usize> {
    columns: [String; N],
    rows: usize,
}

impl<const N: usize> Rows<N> {
    fn new() -> Self {
        Rows {
            columns: std::array::from_fn(|_| String::new()),
            rows: 0,
        }
    }

    /// Adds a row. A cell of several lines makes the row that tall, as a
    /// row of its own would be: the other cells get empty lines below.
    fn push(&mut self, row: [&str; N]) {
        let height = row
            .iter()
            .map(|cell| cell.split('\n').count())
            .max()
            .unwrap_or(1);
        for (column, cell) in self.columns.iter_mut().zip(row) {
            let mut lines = cell.split('\n');
            for _ in 0..height {
                if !column.is_empty() {
                    column.push('\n');
                }
                column.push(' ');
                column.push_str(lines.next().unwrap_or_default());
                column.push(' ');
            }
        }
        self.rows += 1;
    }

    /// Appends the table, with column titles `header` (none: no title row).
    fn print(self, out: &mut String, header: &[&str]) {
        let titles: Vec<String> = header.iter().map(|h| format!(" {h} ")).collect();
        let mut t = table(&titles.iter().map(String::as_str).collect::<Vec<_>>());
        if self.rows > 0 {
            t.add_row(self.columns);
        }
        for column in t.column_iter_mut() {
            column.set_padding((0, 0));
        }
        writeln!(out, "{t}").expect("a String takes any text");
    }
}
