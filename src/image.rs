//! The reference runtime's own memory: what Emacs keeps in its executable
//! (built-in symbols `lispsym`, built-in subrs, a few C variables) and what
//! a dump's emacs relocations write to.
//!
//! The dumper and the loader share this layout and the runtime's
//! fingerprint, just as Emacs's dumper and loader share one executable. Each
//! loaded heap gets its own image, placed right before the dump in one
//! reservation, so `emacs_basis` (the image start) and `dump_base` move
//! together and several heaps can live in one process.

/// Built-in symbols, in `lispsym` order. `nil` is 0 and `t` is 1 as in Emacs;
/// `unbound` marks a void variable. The subrs' names follow.
pub const BUILTIN_SYMBOLS: &[&str] = &[
    "nil",
    "t",
    "unbound",
    "quote",
    "function",
    "`",
    ",",
    ",@",
    "lambda",
    "closure",
    "eql",
    "hash-table",
    "key",
    "value",
    "key-or-value",
    "key-and-value",
    "variable-documentation",
];

/// Built-in functions (subrs); each also names a built-in symbol whose
/// function cell holds it.
pub const BUILTIN_SUBRS: &[(&str, i16, i16)] = &[
    ("car", 1, 1),
    ("cdr", 1, 1),
    ("cons", 2, 2),
    ("list", 0, -2),
    ("eq", 2, 2),
    ("equal", 2, 2),
    ("symbol-value", 1, 1),
    ("symbol-function", 1, 1),
    ("funcall", 1, -2),
    ("apply", 1, -2),
    ("concat", 0, -2),
    ("length", 1, 1),
    ("+", 0, -2),
    ("-", 0, -2),
    ("format", 1, -2),
    ("message", 1, -2),
];

/// Bytes of a `struct Lisp_Symbol` on x86_64.
pub const SYMBOL_SIZE: u64 = 48;
/// Bytes of a built-in subr in this runtime.
pub const SUBR_SIZE: u64 = 48;

/// Offsets of the runtime's C variables from `emacs_basis`.
pub mod var {
    /// `Vpurify_flag`: `emacs_basis` is its address, as in Emacs.
    pub const PURIFY_FLAG: u64 = 0;
    /// The dump's root: a list of `(FILE . FORMS)`.
    pub const DUMP_ROOT: u64 = 8;
    /// The obarray (a plain vector of bucket chains).
    pub const OBARRAY: u64 = 16;
    /// Raw pointer to the dump's first hot object.
    pub const HOT_START: u64 = 24;
    /// Raw pointer to `lispsym`.
    pub const LISPSYM_PTR: u64 = 32;
    /// The first subr as a Lisp value.
    pub const FIRST_SUBR: u64 = 40;
    /// Number of symbols the dump created (a C `int`).
    pub const DUMPED_SYMBOLS: u64 = 48;
    /// Set to 1 (a C `bool`) by a dump.
    pub const DUMPED: u64 = 56;
    /// The address the dump's words were pre-relocated for, or 0.
    pub const PREFERRED_BASE: u64 = 64;
}

/// Where `lispsym` starts.
pub const LISPSYM: u64 = 72;

/// Offset of built-in symbol `i`.
pub fn builtin_symbol_offset(i: usize) -> u64 {
    LISPSYM + SYMBOL_SIZE * i as u64
}

pub fn builtin_count() -> usize {
    BUILTIN_SYMBOLS.len() + BUILTIN_SUBRS.len()
}

/// The name of built-in symbol `i`.
pub fn builtin_name(i: usize) -> &'static str {
    BUILTIN_SYMBOLS
        .get(i)
        .copied()
        .unwrap_or_else(|| BUILTIN_SUBRS[i - BUILTIN_SYMBOLS.len()].0)
}

/// Index of the built-in symbol called `name`.
pub fn builtin_index(name: &str) -> Option<usize> {
    (0..builtin_count()).find(|&i| builtin_name(i) == name)
}

/// The built-in symbol whose function cell is subr `j`.
pub fn subr_symbol(j: usize) -> usize {
    BUILTIN_SYMBOLS.len() + j
}

pub fn subr_index(name: &str) -> Option<usize> {
    BUILTIN_SUBRS.iter().position(|s| s.0 == name)
}

/// Where the subrs start.
pub fn subrs() -> u64 {
    builtin_symbol_offset(builtin_count())
}

pub fn subr_offset(j: usize) -> u64 {
    subrs() + SUBR_SIZE * j as u64
}

/// The function table: one word per subr, the target of its function pointer.
pub fn functions() -> u64 {
    subr_offset(BUILTIN_SUBRS.len())
}

/// The subrs' NUL-terminated names, each at an 8-aligned offset.
pub fn names() -> u64 {
    functions() + 8 * BUILTIN_SUBRS.len() as u64
}

/// Offset of subr `j`'s name.
pub fn name_offset(j: usize) -> u64 {
    names()
        + BUILTIN_SUBRS[..j]
            .iter()
            .map(|s| (s.0.len() as u64 + 1).next_multiple_of(8))
            .sum::<u64>()
}

/// Bytes of the image.
pub fn image_size() -> u64 {
    name_offset(BUILTIN_SUBRS.len())
}

/// The image's share of a heap's reservation: the image rounded up to
/// 64 KiB, so the dump that follows it is 64 KiB aligned.
pub fn image_area() -> u64 {
    image_size().next_multiple_of(65536)
}

/// The reference runtime's build fingerprint, computed at build time from
/// the sources that define the layouts (see build.rs).
pub const FINGERPRINT: [u8; 32] = *include_bytes!(concat!(env!("OUT_DIR"), "/fingerprint.bin"));
