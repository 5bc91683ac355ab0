//! `pdmp compress` and `pdmp decompress`: write and read `.pdmpz` containers.

use crate::output::{print_json, table, Failure, SCHEMA_VERSION};
use indicatif::{ProgressBar, ProgressStyle};
use pdmp::container::{self, ChecksumKind, Options, Transform};
use pdmp::DumpFile;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Extension of a container written without `-o`.
const EXTENSION: &str = "pdmpz";
/// Inputs smaller than this finish too fast to need a progress bar.
const PROGRESS_THRESHOLD: u64 = 1 << 20;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  pdmp compress emacs.pdmp                 # writes emacs.pdmp.pdmpz
  pdmp compress --fast emacs.pdmp -o e.pdmpz
  pdmp compress --json emacs.pdmp | jq .ratio

Any file is accepted; one that is not a dump the transform covers is stored
with plain zstd. The container is checked to decode to the input before it is
written, and is written under a temporary name then renamed.")]
pub struct CompressArgs {
    /// The dump to compress (never modified).
    dump: PathBuf,
    /// Output file. Default: DUMP.pdmpz.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Low zstd level: much faster to write, a little larger.
    #[arg(long)]
    fast: bool,
    /// Replace OUT if it exists.
    #[arg(short, long)]
    force: bool,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  pdmp decompress emacs.pdmp.pdmpz         # writes emacs.pdmp
  pdmp decompress e.pdmpz -o /tmp/emacs.pdmp --json

The checksum recorded in the container is checked before anything is written;
a corrupted or truncated container is an error naming the field and offset,
and no output file is left behind. Other subcommands (info, ...) read
containers directly.")]
pub struct DecompressArgs {
    /// The container to decompress (never modified).
    input: PathBuf,
    /// Output file. Default: IN without its .pdmpz extension.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace OUT if it exists.
    #[arg(short, long)]
    force: bool,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    schema_version: u32,
    operation: &'static str,
    input: String,
    output: String,
    original_size: u64,
    compressed_size: u64,
    /// original_size / compressed_size.
    ratio: f64,
    transform: Transform,
    /// The zstd level used (compress only).
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<i32>,
    /// How the original is checked: `xxh3-128` (what compress writes) or
    /// `sha256` (version 1 containers).
    checksum_kind: ChecksumKind,
    /// The checksum of the original, hex.
    checksum: String,
    milliseconds: u64,
}

pub fn run_compress(args: &CompressArgs) -> Result<ExitCode, Failure> {
    let output = args.output.clone().unwrap_or_else(|| {
        let mut name = args.dump.clone().into_os_string();
        name.push(format!(".{EXTENSION}"));
        PathBuf::from(name)
    });
    check_output(&args.dump, &output, args.force)?;
    // Mapped, not read: the memory budget is the streams and the output.
    let file = map(&args.dump)?;
    let data = file.as_ref().map_or(&[][..], |f| f.bytes());
    let start = Instant::now();
    let bar = progress_bar(data.len() as u64, args.json);
    // Written straight into the temporary output, checked there.
    let written = write_atomically_with(&output, |file| {
        container::compress_into(
            data,
            Options { fast: args.fast },
            &|done| bar.inc(done),
            file,
        )
        .map_err(|e| Failure::in_file(&args.dump, e))
    })?;
    bar.finish_and_clear();
    let header = &written.header;
    let compressed_size = header.container_len();
    report(
        Report {
            schema_version: SCHEMA_VERSION,
            operation: "compress",
            input: args.dump.display().to_string(),
            output: output.display().to_string(),
            original_size: data.len() as u64,
            compressed_size,
            ratio: ratio(data.len(), compressed_size as usize),
            transform: header.transform,
            level: Some(written.level),
            checksum_kind: header.checksum_kind,
            checksum: header.checksum_hex(),
            milliseconds: start.elapsed().as_millis() as u64,
        },
        args.json,
    )
}

/// The file at `path` mapped into memory; `None` when it is empty (which
/// cannot be mapped).
fn map(path: &Path) -> Result<Option<DumpFile>, Failure> {
    match DumpFile::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(pdmp::Error::Empty) => Ok(None),
        Err(e) => Err(Failure::in_file(path, e)),
    }
}

pub fn run_decompress(args: &DecompressArgs) -> Result<ExitCode, Failure> {
    let output = match &args.output {
        Some(path) => path.clone(),
        None => args
            .input
            .extension()
            .filter(|e| *e == EXTENSION)
            .map(|_| args.input.with_extension(""))
            .ok_or_else(|| {
                Failure::in_file(
                    &args.input,
                    format!("name does not end in .{EXTENSION}: give the output with -o"),
                )
            })?,
    };
    check_output(&args.input, &output, args.force)?;
    let file = map(&args.input)?;
    let bytes = file.as_ref().map_or(&[][..], |f| f.bytes());
    let start = Instant::now();
    let header = container::Header::parse(bytes).map_err(|e| Failure::in_file(&args.input, e))?;
    // Decompression takes tens of milliseconds: no progress bar.
    let data = container::decompress(bytes).map_err(|e| Failure::in_file(&args.input, e))?;
    write_atomically(&output, &data)?;
    report(
        Report {
            schema_version: SCHEMA_VERSION,
            operation: "decompress",
            input: args.input.display().to_string(),
            output: output.display().to_string(),
            original_size: data.len() as u64,
            compressed_size: bytes.len() as u64,
            ratio: ratio(data.len(), bytes.len()),
            transform: header.transform,
            level: None,
            checksum_kind: header.checksum_kind,
            checksum: header.checksum_hex(),
            milliseconds: start.elapsed().as_millis() as u64,
        },
        args.json,
    )
}

fn ratio(original: usize, compressed: usize) -> f64 {
    let r = original as f64 / compressed.max(1) as f64;
    (r * 1000.0).round() / 1000.0
}

fn check_output(input: &Path, output: &Path, force: bool) -> Result<(), Failure> {
    if output.exists() {
        let same = std::fs::canonicalize(input).ok() == std::fs::canonicalize(output).ok();
        if same {
            return Err(Failure::in_file(output, "output would replace the input"));
        }
        if !force {
            return Err(Failure::in_file(
                output,
                "output exists (use --force to replace it)",
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it: no
/// partial output is ever visible under `path`.
///
/// An existing regular file is replaced by exchanging the two names, then
/// removing the old file under the temporary name: as atomic as a rename,
/// but a rename over an existing file makes ext4 write the new data out at
/// once (its `auto_da_alloc` heuristic), about 10 ms for a dump.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_atomically_with(path, |file| {
        file.write_all(bytes).map_err(|e| Failure::in_file(path, e))
    })
}

/// [`write_atomically`] of what `write` writes into the temporary file.
fn write_atomically_with<T>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let fail = |e: std::io::Error| Failure::in_file(path, e);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    let result = write(temp.as_file_mut())?;
    let replaces_file = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file());
    if replaces_file && exchange(temp.path(), path) {
        // The temporary name now holds the old file: dropping removes it.
        temp.close().map_err(fail)?;
        return Ok(result);
    }
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(result)
}

/// Atomically swaps the files named `a` and `b`; false when the system
/// cannot (then nothing changed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (
        CString::new(a.as_os_str().as_bytes()),
        CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both are NUL-terminated paths that live across the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    status == 0
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
}

/// A byte-count bar on stderr, only when stderr is a terminal, the output is
/// not JSON and the input is large enough for the wait to be noticeable.
fn progress_bar(total: u64, json: bool) -> ProgressBar {
    if json || total < PROGRESS_THRESHOLD || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_message("compressing");
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:40} {bytes}/{total_bytes} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

fn report(report: Report, json: bool) -> Result<ExitCode, Failure> {
    if json {
        print_json(&report)?;
    } else {
        let mut t = table(&[]);
        for (name, value) in [
            ("input", report.input),
            ("output", report.output),
            ("original size", format!("{} bytes", report.original_size)),
            (
                "compressed size",
                format!("{} bytes", report.compressed_size),
            ),
            ("ratio", format!("{:.3}", report.ratio)),
            ("transform", report.transform.name().to_string()),
            (
                "checksum",
                format!("{} {}", report.checksum_kind.name(), report.checksum),
            ),
            ("time", format!("{} ms", report.milliseconds)),
        ] {
            t.add_row(vec![name.to_string(), value]);
        }
        if let Some(level) = report.level {
            t.add_row(vec!["zstd level".to_string(), level.to_string()]);
        }
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}
