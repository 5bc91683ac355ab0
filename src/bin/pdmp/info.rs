//! `pdmp info`: the header, regions and table contents of a dump.

use crate::output::{note, print_json, table, Failure, SCHEMA_VERSION};
use pdmp::container::Source;
use pdmp::embed::Embedded;
use pdmp::summary::{Counts, Summary};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Show the header, regions, tables and object counts of a dump.
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
    let summary = match &source {
        // A raw dump is a file map whose pages both counting threads release.
        Some(Source::Raw(file)) => {
            let base = embedded.as_ref().map_or(0, |e| e.range.offset as usize);
            Summary::of_releasing(&dump, &|range| {
                file.release(base + range.start..base + range.end)
            })
        }
        _ => Summary::of(&dump),
    };
    if args.json {
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            file: path.display().to_string(),
            embedded,
            summary: &summary,
        })?;
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
        // One write for the whole report (println! would make one per table).
        let mut out = String::with_capacity(16 << 10);
        print_human(&mut out, &file, &summary);
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(out: &mut String, file: &str, s: &Summary) {
    let numbering = match s.pvec_numbering.numbering {
        Some(n) => n.name().to_string(),
        None => "unknown".to_string(),
    };
    let mut overview = table(&[]);
    overview.add_row(vec!["file".to_string(), file.to_string()]);
    overview.add_row(vec!["size".to_string(), format!("{} bytes", s.size)]);
    overview.add_row(vec![
        "layout".to_string(),
        format!("{}: {}", s.layout.name(), s.layout.describe()),
    ]);
    overview.add_row(vec![
        "pvec numbering".to_string(),
        format!("{numbering} ({})", s.pvec_numbering.evidence.join("; ")),
    ]);
    overview.add_row(vec![
        "magic".to_string(),
        "DUMPEDGNUEMACS (dump complete)".to_string(),
    ]);
    overview.add_row(vec!["fingerprint".to_string(), s.fingerprint.clone()]);
    if let Some(list) = s.hash_list {
        let length = list
            .length
            .map_or("not a plain vector".to_string(), |n| n.to_string());
        overview.add_row(vec![
            "hash list".to_string(),
            format!("offset {}, {length} entries", list.offset),
        ]);
    }
    if s.trailing_bytes > 0 {
        overview.add_row(vec![
            "trailing bytes".to_string(),
            format!("{} after the last table", s.trailing_bytes),
        ]);
    }
    writeln!(out, "{overview}").expect("a String takes any text");

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

    let r = &s.regions;
    let mut regions = table(&["region", "offset", "size", "note"]);
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
        regions.add_row(vec![
            name.to_string(),
            span.offset.to_string(),
            span.size.to_string(),
            note,
        ]);
    }
    writeln!(out, "{regions}").expect("a String takes any text");

    let mut tables = table(&["table", "offset", "entries", "bytes"]);
    for t in &s.tables {
        tables.add_row(vec![
            t.name.to_string(),
            t.offset.to_string(),
            t.count.to_string(),
            t.bytes.to_string(),
        ]);
    }
    writeln!(out, "{tables}").expect("a String takes any text");

    let mut relocs = table(&["phase", "relocation kind", "count"]);
    for phase in &s.relocations {
        for (kind, count) in &phase.by_kind.0 {
            relocs.add_row(vec![
                phase.phase.name().to_string(),
                kind.clone(),
                count.to_string(),
            ]);
        }
        relocs.add_row(vec![
            phase.phase.name().to_string(),
            "total".to_string(),
            phase.total.to_string(),
        ]);
    }
    writeln!(out, "{relocs}").expect("a String takes any text");

    print_counts(out, "object starts by Lisp type", &s.object_starts);
    print_counts(out, "vectorlike objects by pvec type", &s.vectorlike);
    print_counts(out, "emacs relocations by kind", &s.emacs_relocs);
}

fn print_counts(out: &mut String, title: &str, counts: &Counts) {
    let mut t = table(&[title, "count"]);
    for (name, count) in &counts.0 {
        t.add_row(vec![name.clone(), count.to_string()]);
    }
    t.add_row(vec!["total".to_string(), counts.total().to_string()]);
    writeln!(out, "{t}").expect("a String takes any text");
}
