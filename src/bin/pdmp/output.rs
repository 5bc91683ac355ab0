//! What every subcommand shares: the error type that becomes exit status 2,
//! JSON printing, and the table style.

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use std::fmt;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::OnceLock;

/// When to color human output (`--color`).
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Color when stdout is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Options every subcommand's output honours, set once from the command line.
struct Style {
    color: bool,
    quiet: bool,
}

static STYLE: OnceLock<Style> = OnceLock::new();

/// Records `--color` and `--quiet` for the rest of the run.
pub fn configure(color: ColorChoice, quiet: bool) {
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let _ = STYLE.set(Style { color, quiet });
}

fn style() -> &'static Style {
    STYLE.get_or_init(|| Style {
        color: false,
        quiet: false,
    })
}

/// A note for people on stderr (not an error); silenced by `--quiet`.
pub fn note(message: impl fmt::Display) {
    if !style().quiet {
        eprintln!("pdmp: {message}");
    }
}

/// A table cell that shows good news in green and bad news in red when
/// color is on.
pub fn verdict_cell(text: impl Into<String>, good: bool) -> Cell {
    let cell = Cell::new(text.into());
    if style().color {
        cell.fg(if good { Color::Green } else { Color::Red })
    } else {
        cell
    }
}

/// Version of the JSON documents pdmp prints; raised on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A failure that stops a subcommand: printed as one line, exit status 2.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    /// A failure about a file, prefixed by its path.
    pub fn in_file(path: &Path, error: impl fmt::Display) -> Failure {
        Failure(format!("{}: {error}", path.display()))
    }

    pub fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Prints one JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// A table with pdmp's style and the given column titles (none: no title row).
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if style().color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if !header.is_empty() {
        table.set_header(header.iter().copied());
    }
    table
}

/// The dump a subcommand reads: FILE when given, else the dump the `emacs`
/// on PATH loads.
pub fn dump_path(file: Option<&Path>) -> Result<std::path::PathBuf, Failure> {
    match file {
        Some(path) => Ok(path.to_path_buf()),
        None => pdmp::locate::installed_emacs_dump().map_err(|e| {
            Failure::new(format!(
                "no FILE given and no installed Emacs dump found ({e}); name a dump file"
            ))
        }),
    }
}
