//! Errors of the format library.
//!
//! Every variant names what was being read (a header field or a table) and the
//! byte offset involved, so that a one-line message tells a user where a file
//! is broken without a hex editor.

/// Result of the format library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a file could not be read as a dump.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused to open, stat or map the file.
    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// A zero-byte file (what an aborted Emacs 28+ dump leaves behind).
    #[error(
        "empty file (0 bytes): not a dump (an aborted `dump-emacs-portable` leaves such a file)"
    )]
    Empty,

    /// Fewer bytes than the smallest header.
    #[error("file is {size} bytes, too short for a dump header (at least {needed} bytes)")]
    TooShort { size: u64, needed: u64 },

    /// The file cannot be addressed by the format's signed 32-bit offsets.
    #[error("file is {size} bytes, more than the format's 2 GiB limit of signed 32-bit offsets")]
    TooLarge { size: u64 },

    /// Byte 0 is `!`: the writer never finished.
    #[error(
        "magic at offset 0 is \"!UMPEDGNUEMACS\": the file is the result of a failed dump attempt"
    )]
    FailedDump,

    /// The first 16 bytes are not the dump magic.
    #[error("magic at offset 0 is {found}, not \"DUMPEDGNUEMACS\\0\\0\": not a dump file")]
    BadMagic { found: String },

    /// A header field holds a value the format cannot have.
    #[error("header field {field} at offset {field_offset} is {value}: {problem}")]
    BadField {
        field: &'static str,
        field_offset: u64,
        value: i64,
        problem: String,
    },

    /// A table's entries extend beyond the end of the file.
    #[error(
        "{table} table at offset {offset} with {count} entries runs past the end of the file \
         ({size} bytes): {missing} bytes missing, the file is truncated"
    )]
    TableOutOfBounds {
        table: &'static str,
        offset: u64,
        count: u64,
        size: u64,
        missing: u64,
    },

    /// A read inside the dump (an object, a relocated word) falls outside the file.
    #[error("{what} at offset {offset} ({len} bytes) lies outside the file ({size} bytes)")]
    OutOfBounds {
        what: &'static str,
        offset: u64,
        len: u64,
        size: u64,
    },

    /// Heap contents an analysis relies on (object order, a size field, a
    /// pointer) are not what a sound dump holds.
    #[error("{what} at offset {offset}: {problem}")]
    BadData {
        what: &'static str,
        offset: u64,
        problem: String,
    },

    /// A table entry that the format cannot have.
    #[error("{table} entry {index} at offset {entry_offset}: {problem}")]
    BadEntry {
        table: &'static str,
        index: usize,
        entry_offset: u64,
        problem: String,
    },
}
