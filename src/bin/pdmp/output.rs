//! What every subcommand shares: the error type that becomes exit status 2,
//! JSON printing, and the table style.

use comfy_table::{presets, ContentArrangement, Table};
use std::fmt;
use std::path::Path;

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
    if !header.is_empty() {
        table.set_header(header.iter().copied());
    }
    table
}
