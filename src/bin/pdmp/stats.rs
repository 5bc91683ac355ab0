//! `pdmp stats`: where the bytes and relocations of a dump go, down to the
//! symbols that retain them.

use crate::output::{dump_path, note, print_json, table, Failure, SCHEMA_VERSION};
use pdmp::container::Source;
use pdmp::executable::Executable;
use pdmp::graph::Graph;
use pdmp::stats::{self, Bucket, Context, ObjectRow, Stats, SymbolReport, TypeRow};
use pdmp::symbol::SymbolNames;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  pdmp stats                          # the dump of the Emacs on PATH
  pdmp stats --top 25 emacs.pdmp
  pdmp stats --symbol org-mode org.pdmp
  pdmp stats --json emacs.pdmp | jq '.retention.top_symbols[0]'
  pdmp stats --csv emacs.pdmp > stats.csv

Names of built-in symbols are C literals in the executable: pdmp reads them
from --emacs, or from the `emacs` on PATH when it wrote the dump.")]
pub struct Args {
    /// The dump to read. Default: the dump the `emacs` on PATH loads.
    file: Option<PathBuf>,
    /// Entries in each ranking (largest objects, top retainers).
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print one JSON document instead of tables.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained).
    #[arg(long)]
    csv: bool,
    /// Show what the symbol NAME retains, by type.
    #[arg(long, value_name = "NAME")]
    symbol: Option<String>,
    /// The Emacs executable that wrote the dump (for built-in symbol names).
    #[arg(long, value_name = "PATH")]
    emacs: Option<PathBuf>,
}

#[derive(serde::Serialize)]
struct ExecutableInfo {
    path: String,
    emacs_basis: u64,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    schema_version: u32,
    file: String,
    executable: Option<ExecutableInfo>,
    #[serde(flatten)]
    stats: &'a Stats,
}

#[derive(serde::Serialize)]
struct SymbolDocument<'a> {
    schema_version: u32,
    file: String,
    executable: Option<ExecutableInfo>,
    symbol: &'a str,
    matches: &'a [SymbolReport],
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let path = dump_path(args.file.as_deref())?;
    // A raw dump, a .pdmpz container or an executable carrying a dump alike.
    let source = Source::open(&path).map_err(|e| Failure::in_file(&path, e))?;
    let dump = source.dump().map_err(|e| Failure::in_file(&path, e))?;
    let graph = Graph::build(&dump).map_err(|e| Failure::in_file(&path, e))?;
    let (executable, exe_path) = match &args.emacs {
        Some(exe) => (
            Some(Executable::open(exe, &dump).map_err(|e| Failure::in_file(exe, e))?),
            Some(exe.clone()),
        ),
        // The Emacs on PATH, when it is the one that wrote this dump.
        None => match pdmp::locate::find_on_path("emacs") {
            Some(exe) => match Executable::open(&exe, &dump) {
                Ok(e) => (Some(e), Some(exe)),
                Err(_) => (None, None),
            },
            None => (None, None),
        },
    };
    let executable_info = executable
        .as_ref()
        .zip(exe_path.as_ref())
        .map(|(e, p)| ExecutableInfo {
            path: p.display().to_string(),
            emacs_basis: e.emacs_basis(),
        });
    let names = SymbolNames::new(&dump, &graph, executable.as_ref());
    let dominators = stats::dominators(&graph);
    let context = Context::new(&dump, &graph, &dominators, &names);
    let file_name = path.display().to_string();

    if let Some(name) = &args.symbol {
        let matches: Vec<SymbolReport> = names
            .find(name)
            .into_iter()
            .map(|node| context.symbol_report(node))
            .collect();
        if args.json {
            print_json(&SymbolDocument {
                schema_version: SCHEMA_VERSION,
                file: file_name.clone(),
                executable: executable_info,
                symbol: name,
                matches: &matches,
            })?;
        } else if args.csv {
            let mut out = CsvOut::new();
            for m in &matches {
                out.row("symbol", "all", &m.symbol)?;
                for row in &m.by_type {
                    out.type_row("retained_by_type", row)?;
                }
            }
            out.finish()?;
        } else {
            print_symbols(name, &matches, &names);
        }
        if matches.is_empty() {
            note(format!("no symbol named `{name}` in {file_name}"));
            return Ok(ExitCode::from(1));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let report = context.stats(args.top);
    if args.json {
        print_json(&Report {
            schema_version: SCHEMA_VERSION,
            file: file_name,
            executable: executable_info,
            stats: &report,
        })?;
    } else if args.csv {
        print_csv(&report)?;
    } else {
        print_human(&file_name, exe_path.as_deref(), &report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Bytes for people: `512 KiB`, `1.5 MiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn histogram_text(buckets: &[Bucket]) -> String {
    buckets
        .iter()
        .filter(|b| b.pages > 0)
        .map(|b| {
            if b.min == b.max {
                format!("{}:{}", b.min, b.pages)
            } else {
                format!("{}-{}:{}", b.min, b.max, b.pages)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_human(file: &str, executable: Option<&Path>, s: &Stats) {
    println!(
        "{file}: {} bytes, {} nodes, {} edges; symbol names from {}",
        s.size,
        s.nodes,
        s.edges,
        executable.map_or("the dump only (no matching executable)".to_string(), |p| {
            p.display().to_string()
        })
    );

    let mut regions = table(&["region", "offset", "size", "in nodes", "unaccounted"]);
    for r in &s.regions {
        regions.add_row(vec![
            r.region.to_string(),
            r.offset.to_string(),
            r.size.to_string(),
            r.in_nodes.to_string(),
            r.unaccounted.to_string(),
        ]);
    }
    println!("{regions}");

    let mut types = table(&[
        "region",
        "kind",
        "pvec type",
        "count",
        "bytes",
        "% of region",
    ]);
    for row in &s.by_type {
        let region_size = s
            .regions
            .iter()
            .find(|r| r.region == row.region)
            .map_or(0, |r| r.size);
        types.add_row(vec![
            row.region.to_string(),
            row.kind.clone(),
            row.pvec.clone().unwrap_or_default(),
            row.count.to_string(),
            row.bytes.to_string(),
            percent(row.bytes, region_size),
        ]);
    }
    println!("{types}");

    let st = &s.strings;
    println!(
        "String data: unibyte {} strings, {} bytes; multibyte {} strings, {} bytes; \
         {} strings ({} bytes) are C literals in the executable",
        st.unibyte.count,
        st.unibyte.bytes,
        st.multibyte.count,
        st.multibyte.bytes,
        st.in_executable.count,
        st.in_executable.bytes
    );

    print_objects("largest objects", &s.largest, false);

    let mut pages = table(&[
        "region",
        "page",
        "pages",
        "with relocs",
        "relocs",
        "max/page",
        "histogram (relocs/page: pages)",
    ]);
    for p in &s.pages {
        pages.add_row(vec![
            p.region.to_string(),
            human(p.page_size),
            p.pages.to_string(),
            p.pages_with_relocs.to_string(),
            p.relocs.to_string(),
            p.max_per_page.to_string(),
            histogram_text(&p.histogram),
        ]);
    }
    println!("{pages}");

    let mut phases = table(&[
        "load phase",
        "relocs",
        "4 KiB pages written",
        "64 KiB pages",
        "copy-on-write",
        "histogram (relocs/page: pages)",
    ]);
    for p in &s.phases {
        phases.add_row(vec![
            p.phase.name().to_string(),
            p.relocs.to_string(),
            p.pages_4k.to_string(),
            p.pages_64k.to_string(),
            human(p.bytes_4k),
            histogram_text(&p.histogram),
        ]);
    }
    println!("{phases}");
    println!(
        "Emacs relocations: {} stores into the executable.",
        s.emacs_relocs
    );

    let r = &s.retention;
    println!(
        "Roots: {} from emacs relocations, {} hash list, {} copied into Emacs, {} interned symbols. \
         Reachable {} nodes ({}); unreachable {} nodes ({}).",
        r.roots_emacs_reloc,
        r.roots_hash_list,
        r.roots_copied,
        r.roots_interned,
        r.reachable.count,
        human(r.reachable.bytes),
        r.unreachable.count,
        human(r.unreachable.bytes)
    );
    if r.unnamed_symbols > 0 {
        println!(
            "{} symbols have C-literal names that need the executable (--emacs).",
            r.unnamed_symbols
        );
    }
    print_objects("top retainers", &r.top_retainers, true);
    print_objects("top symbols", &r.top_symbols, true);
    for row in r.top_symbols.iter().take(5) {
        println!("{} retains {}", row.description, human(row.retained));
    }
}

fn print_objects(title: &str, rows: &[ObjectRow], retained_first: bool) {
    let mut t = table(&[title, "offset", "size", "retained", "root"]);
    for row in rows {
        let mut cells = vec![
            row.description.clone(),
            row.offset.to_string(),
            row.size.to_string(),
            human(row.retained),
            row.roots.join(", "),
        ];
        if retained_first {
            cells[3] = format!("{} ({})", human(row.retained), row.retained);
        }
        t.add_row(cells);
    }
    println!("{t}");
}

fn print_symbols(name: &str, matches: &[SymbolReport], names: &SymbolNames<'_, '_, '_>) {
    if matches.is_empty() {
        if !names.has_executable() {
            println!("(names of built-in symbols need the executable: --emacs PATH)");
        }
        return;
    }
    for m in matches {
        let s = &m.symbol;
        println!(
            "{} at offset {} retains {} ({} bytes); root: {}",
            s.description,
            s.offset,
            human(s.retained),
            s.retained,
            if s.roots.is_empty() {
                "no".to_string()
            } else {
                s.roots.join(", ")
            }
        );
        let mut via = table(&["slot", "retained bytes"]);
        for v in &s.via {
            via.add_row(vec![v.slot.to_string(), v.bytes.to_string()]);
        }
        println!("{via}");
        let mut t = table(&[
            &format!("retained by `{name}`"),
            "pvec type",
            "count",
            "bytes",
        ]);
        for row in &m.by_type {
            t.add_row(vec![
                row.kind.clone(),
                row.pvec.clone().unwrap_or_default(),
                row.count.to_string(),
                row.bytes.to_string(),
            ]);
        }
        println!("{t}");
    }
}

/// CSV on stdout, one record per row of any table.
struct CsvOut(csv::Writer<std::io::Stdout>);

impl CsvOut {
    fn new() -> CsvOut {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        // Header row; errors surface at the first record.
        let _ = w.write_record([
            "section", "region", "kind", "pvec", "name", "offset", "count", "bytes", "retained",
        ]);
        CsvOut(w)
    }

    fn record(&mut self, fields: [String; 9]) -> Result<(), Failure> {
        self.0
            .write_record(&fields)
            .map_err(|e| Failure::new(format!("cannot write CSV: {e}")))
    }

    fn type_row(&mut self, section: &str, row: &TypeRow) -> Result<(), Failure> {
        self.record([
            section.to_string(),
            row.region.to_string(),
            row.kind.clone(),
            row.pvec.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            row.count.to_string(),
            row.bytes.to_string(),
            String::new(),
        ])
    }

    fn row(&mut self, section: &str, region: &str, row: &ObjectRow) -> Result<(), Failure> {
        self.record([
            section.to_string(),
            region.to_string(),
            row.kind.to_string(),
            row.pvec.clone().unwrap_or_default(),
            row.name.clone().unwrap_or_else(|| row.description.clone()),
            row.offset.to_string(),
            "1".to_string(),
            row.size.to_string(),
            row.retained.to_string(),
        ])
    }

    fn finish(mut self) -> Result<(), Failure> {
        self.0
            .flush()
            .map_err(|e| Failure::new(format!("cannot write CSV: {e}")))
    }
}

fn print_csv(s: &Stats) -> Result<(), Failure> {
    let mut out = CsvOut::new();
    for row in &s.by_type {
        out.type_row("by_type", row)?;
    }
    for (section, rows) in [
        ("largest", &s.largest),
        ("top_retainers", &s.retention.top_retainers),
        ("top_symbols", &s.retention.top_symbols),
    ] {
        for row in rows {
            out.row(section, "", row)?;
        }
    }
    out.finish()
}
