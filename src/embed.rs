//! One executable that carries its own dump: embedding, finding and
//! extracting a dump inside an executable file.
//!
//! A separate dump file can drift away from the executable it was made for;
//! a dump appended to the executable is lost to `strip(1)`. Two modes:
//!
//! * [`Mode::Section`] (ELF only, the default): the dump becomes the contents
//!   of a section named [`SECTION_NAME`], flagged `SHF_ALLOC` so that `strip`,
//!   `objcopy --strip-all`, `llvm-strip` and `eu-strip` keep it (they only drop
//!   non-allocated sections). Its file offset and address are multiples of
//!   [`ALIGNMENT`] (64 KiB), and its address lies past every segment. The
//!   section is in no segment: the kernel does not map it; a runtime maps the
//!   section's file range from its own executable. GNU strip re-lays the file
//!   but keeps such a section's offset congruent to its address modulo the
//!   target's maximum page size (4 KiB on x86-64, 64 KiB on aarch64), so the
//!   range stays mappable on the machine it runs on; llvm-strip keeps 64 KiB.
//!   The edit only appends: the original bytes stay in place, and only the
//!   ELF header's `e_shoff`/`e_shnum` change, to point at a new section
//!   header table (with a new section-name table) written after the dump.
//! * [`Mode::Append`] (any file): the executable, zero padding to 64 KiB, the
//!   dump, then a [`TRAILER_LEN`]-byte trailer: dump offset (u64 LE), dump
//!   length (u64 LE), SHA-256 of the dump, [`TRAILER_MAGIC`]. `strip`
//!   removes it, as it removes any bytes outside sections.
//!
//! A runtime finds its dump with [`find_in_open_file`] on its own executable
//! (opened once, see [`crate::origin`]) and maps the returned
//! [`Embedded::range`].

use crate::dump::{Dump, DumpFile, Span};
use crate::error::Error;
use crate::header::{hex, MAGIC};
use object::elf::{FileHeader64, SectionHeader64, PT_LOAD, SHF_ALLOC, SHN_LORESERVE, SHT_PROGBITS};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::{Endianness, U32, U64};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Name of the ELF section that carries the dump.
pub const SECTION_NAME: &str = ".pdmp";
/// File offset and address alignment of the embedded dump.
pub const ALIGNMENT: u64 = 65536;
/// The last 16 bytes of a file with an appended dump.
pub const TRAILER_MAGIC: [u8; 16] = *b"PDMP-APPENDED-V1";
/// The first bytes of every ELF file.
const ELF_MAGIC: &[u8] = b"\x7fELF";
/// Size of the trailer after an appended dump.
pub const TRAILER_LEN: u64 = 64;

/// Why a dump could not be embedded, found or extracted.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Format(#[from] Error),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// The executable cannot take a section (not ELF, 32-bit, no section table…).
    #[error("{0}; use --append to add the dump at the end instead")]
    NoSectionMode(String),

    /// An ELF structure is unreadable.
    #[error("ELF {what}: {problem}")]
    BadElf { what: &'static str, problem: String },

    /// The executable already carries a dump.
    #[error("already carries a dump ({mode} mode, offset {offset}, {size} bytes); extract it or start from the original executable")]
    AlreadyEmbedded { mode: Mode, offset: u64, size: u64 },

    /// The dump's fingerprint is nowhere in the executable.
    #[error("the dump's fingerprint {fingerprint} does not occur in the executable: the dump was not made by it (--force embeds anyway)")]
    FingerprintMismatch { fingerprint: String },

    /// The `.pdmp` section points outside the file.
    #[error("section {SECTION_NAME} at offset {offset} ({size} bytes) lies outside the file ({file_size} bytes): the file is truncated")]
    SectionOutOfBounds {
        offset: u64,
        size: u64,
        file_size: u64,
    },

    /// The trailer magic is at the end of the file but its fields are wrong.
    #[error("pdmp trailer at offset {trailer_offset} is damaged: {problem}")]
    TrailerDamaged {
        trailer_offset: u64,
        problem: String,
    },

    /// The appended dump's bytes do not match the trailer's checksum.
    #[error("appended dump at offset {offset} ({size} bytes) is damaged: SHA-256 {found}, trailer (at offset {trailer_offset}) says {expected}")]
    ChecksumMismatch {
        offset: u64,
        size: u64,
        trailer_offset: u64,
        expected: String,
        found: String,
    },

    /// Neither a section nor a trailer.
    #[error("carries no dump: no {SECTION_NAME} section and no pdmp trailer in the last {TRAILER_LEN} bytes (a dump embedded with --append is removed by strip)")]
    NotEmbedded,

    /// Any of the above, about one named file.
    #[error("{}: {source}", path.display())]
    InFile {
        path: PathBuf,
        source: Box<EmbedError>,
    },

    /// Output would overwrite an input.
    #[error("{}: output is one of the inputs; inputs are never modified", .0.display())]
    OutputIsInput(PathBuf),
}

pub type Result<T, E = EmbedError> = std::result::Result<T, E>;

/// How a dump is embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// An allocated ELF section named [`SECTION_NAME`].
    Section,
    /// Appended, followed by a trailer.
    Append,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Section => "section",
            Mode::Append => "append",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an executable carries its dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Embedded {
    pub mode: Mode,
    /// The dump's bytes in the executable file.
    pub range: Span,
    /// SHA-256 the trailer records ([`Mode::Append`] only).
    #[serde(skip)]
    pub checksum: Option<[u8; 32]>,
}

impl Embedded {
    /// The dump's bytes within the executable's bytes (already bounds-checked by [`find`]).
    pub fn slice<'a>(&self, exe: &'a [u8]) -> &'a [u8] {
        &exe[self.range.offset as usize..self.range.end() as usize]
    }

    /// Checks the appended dump against the trailer's SHA-256 (nothing to
    /// check for a section: the section table is its own record).
    pub fn verify(&self, exe: &[u8]) -> Result<()> {
        let Some(expected) = self.checksum else {
            return Ok(());
        };
        let found: [u8; 32] = Sha256::digest(self.slice(exe)).into();
        if found != expected {
            return Err(EmbedError::ChecksumMismatch {
                offset: self.range.offset,
                size: self.range.size,
                trailer_offset: exe.len() as u64 - TRAILER_LEN,
                expected: hex(&expected),
                found: hex(&found),
            });
        }
        Ok(())
    }
}

/// Finds the dump `exe` carries: a trailer at the end, else a
/// [`SECTION_NAME`] section. `Ok(None)` when there is neither.
pub fn find(exe: &[u8]) -> Result<Option<Embedded>> {
    let size = exe.len() as u64;
    if let Some(tail) = exe.len().checked_sub(TRAILER_LEN as usize) {
        if let Some(found) = parse_trailer(&exe[tail..], size)? {
            return Ok(Some(found));
        }
    }
    find_section(exe)
}

/// [`find`] on an open file, reading only what it needs: the end of the
/// file (the trailer, or the section header table and section names that
/// embedding and strip both leave there) and the ELF header. Two small reads
/// and no allocation in the usual case: this is the runtime's start-up
/// path, on its own executable.
pub fn find_in_open_file(file: &File) -> Result<Option<Embedded>> {
    let size = file.metadata()?.len();
    let mut tail = [0u8; TAIL_READ];
    let tail_start = size.saturating_sub(TAIL_READ as u64);
    let tail = &mut tail[..(size - tail_start) as usize];
    file.read_exact_at(tail, tail_start)?;
    if let Some(trailer) = tail.len().checked_sub(TRAILER_LEN as usize) {
        if let Some(found) = parse_trailer(&tail[trailer..], size)? {
            return Ok(Some(found));
        }
    }
    let mut buf = [0u8; size_of::<FileHeader64<Endianness>>()];
    let got = read_fully_at(file, &mut buf, 0)?;
    let head = &buf[..got];
    if !head.starts_with(ELF_MAGIC) || head.len() < 5 {
        return Ok(None);
    }
    let tail = (&*tail, tail_start);
    match head[4] {
        1 => find_section_by_reads::<object::elf::FileHeader32<Endianness>>(file, size, head, tail),
        _ => find_section_by_reads::<FileHeader64<Endianness>>(file, size, head, tail),
    }
}

/// How many bytes at the end of a file [`find_in_open_file`] reads first.
const TAIL_READ: usize = 8192;

/// Reads from `offset` until `buf` is full or the file ends; how many bytes.
fn read_fully_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// The section lookup of [`find_in_open_file`]; `tail` holds the file's
/// bytes from the given offset to its end.
fn find_section_by_reads<Elf: FileHeader<Endian = Endianness>>(
    file: &File,
    file_size: u64,
    head: &[u8],
    (tail, tail_start): (&[u8], u64),
) -> Result<Option<Embedded>> {
    let header = Elf::parse(head).map_err(elf_error("header"))?;
    let endian = header.endian().map_err(elf_error("header"))?;
    let count = header.e_shnum(endian);
    let names_index = header.e_shstrndx(endian).index();
    let (1.., Some(names_index)) = (count, names_index) else {
        // No section names, or extended numbering (the counts are in
        // section 0): rare enough to read through a map of the whole file.
        // SAFETY: a read-only map of a file nothing here writes.
        let map = unsafe { memmap2::Mmap::map(file)? };
        return find_section(&map);
    };
    // What follows rules as `find` (the `object` crate) does on a map.
    let table_offset: u64 = header.e_shoff(endian).into();
    if table_offset == 0 {
        return Ok(None);
    }
    let entry = size_of::<Elf::SectionHeader>();
    if usize::from(header.e_shentsize(endian)) != entry {
        return Err(EmbedError::BadElf {
            what: "header",
            problem: format!(
                "section header size {} is not {entry}",
                header.e_shentsize(endian)
            ),
        });
    }
    let read = |what: &'static str, offset: u64, len: u64| -> Result<Cow<'_, [u8]>> {
        if offset.checked_add(len).is_none_or(|end| end > file_size) {
            return Err(EmbedError::BadElf {
                what,
                problem: format!(
                    "{len} bytes at offset {offset} lie outside the file ({file_size} bytes)"
                ),
            });
        }
        if let Some(from) = offset.checked_sub(tail_start) {
            return Ok(Cow::Borrowed(&tail[from as usize..(from + len) as usize]));
        }
        let mut bytes = vec![0; len as usize];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(Cow::Owned(bytes))
    };
    let table = read(
        "section headers",
        table_offset,
        u64::from(count) * entry as u64,
    )?;
    let (sections, _) = object::pod::slice_from_bytes::<Elf::SectionHeader>(&table, count.into())
        .expect("read at the table's exact size");
    let names = sections
        .get(names_index as usize)
        .ok_or_else(|| EmbedError::BadElf {
            what: "header",
            problem: format!("section name table index {names_index} is not below {count}"),
        })?;
    let (names_offset, names_size): (u64, u64) =
        (names.sh_offset(endian).into(), names.sh_size(endian).into());
    let names_end = names_offset
        .checked_add(names_size)
        .ok_or_else(|| EmbedError::BadElf {
            what: "section name table",
            problem: format!("size {names_size} at offset {names_offset} overflows"),
        })?;
    if names.sh_type(endian) == object::elf::SHT_NOBITS || names_end > file_size {
        // No names to read: no section is called .pdmp.
        return Ok(None);
    }
    let names = read("section name table", names_offset, names_size)?;
    // The name and its NUL, compared in place (a string-table lookup would
    // search for the NUL with memchr, whose first call detects CPU features
    // with CPUID: tens of microseconds in a virtual machine).
    let wanted = SECTION_NAME.as_bytes();
    let found = sections.iter().find(|s| {
        let at = s.sh_name(endian) as usize;
        names.get(at..at + wanted.len()) == Some(wanted) && names.get(at + wanted.len()) == Some(&0)
    });
    found.map_or(Ok(None), |s| section_range(s, endian, file_size).map(Some))
}

/// The dump in `bytes`: the embedded one when `bytes` is an executable that
/// carries one, else `bytes` itself (to be parsed as a dump file). An ELF
/// file without a dump is [`EmbedError::NotEmbedded`].
pub fn dump_bytes(bytes: &[u8]) -> Result<(&[u8], Option<Embedded>)> {
    if bytes.starts_with(&MAGIC) {
        return Ok((bytes, None));
    }
    match find(bytes)? {
        Some(found) => Ok((found.slice(bytes), Some(found))),
        None if bytes.starts_with(ELF_MAGIC) => Err(EmbedError::NotEmbedded),
        None => Ok((bytes, None)),
    }
}

/// The appended dump that the last [`TRAILER_LEN`] bytes `trailer` of a
/// file of `size` bytes describe, if they are a trailer.
fn parse_trailer(trailer: &[u8], size: u64) -> Result<Option<Embedded>> {
    if !trailer.ends_with(&TRAILER_MAGIC) {
        return Ok(None);
    }
    let trailer_offset = size - TRAILER_LEN;
    let word = |at: usize| u64::from_le_bytes(trailer[at..at + 8].try_into().expect("8 bytes"));
    let (offset, length) = (word(0), word(8));
    let damaged = |problem: String| EmbedError::TrailerDamaged {
        trailer_offset,
        problem,
    };
    if offset.checked_add(length) != Some(trailer_offset) {
        return Err(damaged(format!(
            "dump offset {offset} + length {length} should end where the trailer starts ({trailer_offset}): bytes were added or removed"
        )));
    }
    Ok(Some(Embedded {
        mode: Mode::Append,
        range: Span {
            offset,
            size: length,
        },
        checksum: Some(trailer[16..48].try_into().expect("32 bytes")),
    }))
}

fn find_section(exe: &[u8]) -> Result<Option<Embedded>> {
    let Some(class) = exe.get(4) else {
        return Ok(None);
    };
    if !exe.starts_with(ELF_MAGIC) {
        return Ok(None);
    }
    match class {
        1 => find_section_in::<object::elf::FileHeader32<Endianness>>(exe),
        _ => find_section_in::<FileHeader64<Endianness>>(exe),
    }
}

fn elf_error(what: &'static str) -> impl Fn(object::read::Error) -> EmbedError {
    move |e| EmbedError::BadElf {
        what,
        problem: e.to_string(),
    }
}

fn find_section_in<Elf: FileHeader<Endian = Endianness>>(exe: &[u8]) -> Result<Option<Embedded>> {
    let header = Elf::parse(exe).map_err(elf_error("header"))?;
    let endian = header.endian().map_err(elf_error("header"))?;
    let sections = header
        .sections(endian, exe)
        .map_err(elf_error("section headers"))?;
    sections
        .section_by_name(endian, SECTION_NAME.as_bytes())
        .map_or(Ok(None), |(_, s)| {
            section_range(s, endian, exe.len() as u64).map(Some)
        })
}

/// The dump a [`SECTION_NAME`] section holds, checked against the file.
fn section_range<S: SectionHeader<Endian = Endianness>>(
    section: &S,
    endian: Endianness,
    file_size: u64,
) -> Result<Embedded> {
    let offset: u64 = section.sh_offset(endian).into();
    let size: u64 = section.sh_size(endian).into();
    if section.sh_type(endian) == object::elf::SHT_NOBITS {
        return Err(EmbedError::BadElf {
            what: "section .pdmp",
            problem: format!("at offset {offset} has no file contents (SHT_NOBITS)"),
        });
    }
    if offset.checked_add(size).is_none_or(|end| end > file_size) {
        return Err(EmbedError::SectionOutOfBounds {
            offset,
            size,
            file_size,
        });
    }
    Ok(Embedded {
        mode: Mode::Section,
        range: Span { offset, size },
        checksum: None,
    })
}

/// Whether the 32 fingerprint bytes occur in `exe` outside `skip` (the
/// embedded dump, whose header carries them too).
pub fn fingerprint_occurs(exe: &[u8], fingerprint: &[u8], skip: Option<Span>) -> bool {
    let (before, after) = match skip {
        Some(span) => (&exe[..span.offset as usize], &exe[span.end() as usize..]),
        None => (exe, &[][..]),
    };
    let finder = memchr::memmem::Finder::new(fingerprint);
    finder.find(before).is_some() || finder.find(after).is_some()
}

/// What `embed --check` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    #[serde(flatten)]
    pub embedded: Embedded,
    /// The offset is a multiple of [`ALIGNMENT`].
    pub aligned_64k: bool,
    /// The offset is a multiple of 4 KiB (mappable on 4 KiB-page machines).
    pub page_aligned: bool,
    /// The embedded dump's fingerprint, when its header is readable.
    pub fingerprint: Option<String>,
    /// The fingerprint occurs in the executable outside the dump.
    pub fingerprint_in_executable: bool,
    /// Trailer checksum matches ([`Mode::Append`]); `None` for a section.
    pub checksum_ok: Option<bool>,
    /// Everything wrong, as sentences; empty when the pair is sound.
    pub problems: Vec<String>,
}

/// Checks the dump `exe` carries: readable header, fingerprint paired with
/// the executable, checksum. `Ok(None)` when it carries none.
pub fn check(exe: &[u8]) -> Result<Option<Check>> {
    let Some(embedded) = find(exe)? else {
        return Ok(None);
    };
    let mut problems = Vec::new();
    let checksum_ok = match embedded.verify(exe) {
        Ok(()) => embedded.checksum.map(|_| true),
        Err(e) => {
            problems.push(e.to_string());
            Some(false)
        }
    };
    let (fingerprint, fingerprint_in_executable) = match Dump::parse(embedded.slice(exe)) {
        Ok(dump) => {
            let fp = dump.header().fingerprint;
            let paired = fingerprint_occurs(exe, &fp, Some(embedded.range));
            if !paired {
                problems.push(format!(
                    "the dump's fingerprint {} does not occur in the executable: they do not pair",
                    hex(&fp)
                ));
            }
            (Some(hex(&fp)), paired)
        }
        Err(e) => {
            problems.push(format!(
                "embedded dump at offset {}: {e}",
                embedded.range.offset
            ));
            (None, false)
        }
    };
    Ok(Some(Check {
        embedded,
        aligned_64k: embedded.range.offset % ALIGNMENT == 0,
        page_aligned: embedded.range.offset % 4096 == 0,
        fingerprint,
        fingerprint_in_executable,
        checksum_ok,
        problems,
    }))
}

/// The new file as pieces: borrowed runs of the inputs and small owned parts.
type Pieces<'a> = Vec<Cow<'a, [u8]>>;

fn zeros<'a>(len: u64) -> Cow<'a, [u8]> {
    Cow::Owned(vec![0; len as usize])
}

fn align_up(value: u64, alignment: u64) -> u64 {
    value.div_ceil(alignment) * alignment
}

/// The executable with `dump` appended and a trailer after it.
fn append_pieces<'a>(exe: &'a [u8], dump: &'a [u8]) -> (Pieces<'a>, Span) {
    let offset = align_up(exe.len() as u64, ALIGNMENT);
    let size = dump.len() as u64;
    let mut trailer = Vec::with_capacity(TRAILER_LEN as usize);
    trailer.extend_from_slice(&offset.to_le_bytes());
    trailer.extend_from_slice(&size.to_le_bytes());
    trailer.extend_from_slice(&Sha256::digest(dump));
    trailer.extend_from_slice(&TRAILER_MAGIC);
    let pieces = vec![
        Cow::Borrowed(exe),
        zeros(offset - exe.len() as u64),
        Cow::Borrowed(dump),
        Cow::Owned(trailer),
    ];
    (pieces, Span { offset, size })
}

/// The ELF executable with `dump` as a new allocated section (see the module
/// documentation for the layout).
fn section_pieces<'a>(exe: &'a [u8], dump: &'a [u8]) -> Result<(Pieces<'a>, Span)> {
    let no_section = |why: &str| EmbedError::NoSectionMode(why.to_string());
    if !exe.starts_with(ELF_MAGIC) {
        return Err(no_section("not an ELF file"));
    }
    if exe.get(4).copied() != Some(object::elf::ELFCLASS64.0) {
        return Err(no_section("not a 64-bit ELF file"));
    }
    let header = FileHeader64::<Endianness>::parse(exe).map_err(elf_error("header"))?;
    let endian = header.endian().map_err(elf_error("header"))?;
    let sections = header
        .sections(endian, exe)
        .map_err(elf_error("section headers"))?;
    let shstrndx = header
        .shstrndx(endian, exe)
        .map_err(elf_error("section name table index"))?;
    if sections.is_empty() || shstrndx == 0 {
        return Err(no_section("the ELF file has no section header table"));
    }
    if sections.len() + 1 >= usize::from(SHN_LORESERVE) {
        return Err(no_section("the ELF file has too many sections"));
    }
    let names = sections
        .section(object::SectionIndex(shstrndx as usize))
        .map_err(elf_error("section name table"))?;
    let old_names = names
        .data(endian, exe)
        .map_err(elf_error("section name table"))?;
    let segments_end = header
        .program_headers(endian, exe)
        .map_err(elf_error("program headers"))?
        .iter()
        .filter(|p| p.p_type(endian) == PT_LOAD)
        .map(|p| p.p_vaddr(endian).saturating_add(p.p_memsz(endian)))
        .max()
        .unwrap_or(0);

    let offset = align_up(exe.len() as u64, ALIGNMENT);
    let size = dump.len() as u64;
    let address = align_up(segments_end, ALIGNMENT);
    let mut new_names = old_names.to_vec();
    let name_offset = new_names.len() as u32;
    new_names.extend_from_slice(SECTION_NAME.as_bytes());
    new_names.push(0);
    let names_offset = offset + size;
    let table_offset = align_up(names_offset + new_names.len() as u64, 8);
    let names_len = new_names.len() as u64;
    new_names.resize((table_offset - names_offset) as usize, 0);

    let mut table: Vec<SectionHeader64<Endianness>> = sections.iter().cloned().collect();
    let names_header = &mut table[shstrndx as usize];
    names_header.sh_offset = U64::new(endian, names_offset);
    names_header.sh_size = U64::new(endian, names_len);
    table.push(SectionHeader64 {
        sh_name: U32::new(endian, name_offset),
        sh_type: U32::new(endian, SHT_PROGBITS),
        sh_flags: U64::new(endian, SHF_ALLOC),
        sh_addr: U64::new(endian, address),
        sh_offset: U64::new(endian, offset),
        sh_size: U64::new(endian, size),
        sh_link: U32::new(endian, 0),
        sh_info: U32::new(endian, 0),
        sh_addralign: U64::new(endian, ALIGNMENT),
        sh_entsize: U64::new(endian, 0),
    });
    let mut new_header = *header;
    new_header.e_shoff = U64::new(endian, table_offset);
    new_header.e_shnum = object::U16::new(endian, table.len() as u16);
    let header_len = std::mem::size_of::<FileHeader64<Endianness>>();

    let pieces = vec![
        Cow::Owned(object::pod::bytes_of(&new_header).to_vec()),
        Cow::Borrowed(&exe[header_len..]),
        zeros(offset - exe.len() as u64),
        Cow::Borrowed(dump),
        Cow::Owned(new_names),
        Cow::Owned(object::pod::bytes_of_slice(&table).to_vec()),
    ];
    Ok((pieces, Span { offset, size }))
}

/// What [`embed_file`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Embedding {
    pub mode: Mode,
    /// Where the dump lies in the output.
    pub range: Span,
    pub fingerprint: String,
    /// The dump's fingerprint occurs in the executable (false only with `force`).
    pub fingerprint_in_executable: bool,
    pub output_size: u64,
}

/// Writes `output`: the executable `exe` carrying the dump `dump` in `mode`.
/// Refuses an unreadable dump, an executable that already carries one, and
/// (unless `force`) a dump whose fingerprint is not in the executable. The
/// output gets the executable's permission bits and appears atomically;
/// the inputs are never written.
pub fn embed_file(
    exe_path: &Path,
    dump_path: &Path,
    output: &Path,
    mode: Mode,
    force: bool,
) -> Result<Embedding> {
    for input in [exe_path, dump_path] {
        if is_same_file(input, output) {
            return Err(EmbedError::OutputIsInput(output.to_path_buf()));
        }
    }
    let exe_file = DumpFile::open(exe_path).map_err(about(exe_path))?;
    let exe = exe_file.bytes();
    let dump_file = DumpFile::open(dump_path).map_err(about(dump_path))?;
    let dump = Dump::parse(dump_file.bytes()).map_err(about(dump_path))?;
    if let Some(found) = find(exe).map_err(about(exe_path))? {
        return Err(about(exe_path)(EmbedError::AlreadyEmbedded {
            mode: found.mode,
            offset: found.range.offset,
            size: found.range.size,
        }));
    }
    let fingerprint = dump.header().fingerprint;
    let paired = fingerprint_occurs(exe, &fingerprint, None);
    if !paired && !force {
        return Err(about(exe_path)(EmbedError::FingerprintMismatch {
            fingerprint: hex(&fingerprint),
        }));
    }
    let (pieces, range) = match mode {
        Mode::Section => section_pieces(exe, dump.bytes()).map_err(about(exe_path))?,
        Mode::Append => append_pieces(exe, dump.bytes()),
    };
    let permissions = std::fs::metadata(exe_path)
        .map_err(about(exe_path))?
        .permissions();
    write_atomically(output, &pieces, Some(permissions)).map_err(about(output))?;
    Ok(Embedding {
        mode,
        range,
        fingerprint: hex(&fingerprint),
        fingerprint_in_executable: paired,
        output_size: pieces.iter().map(|p| p.len() as u64).sum(),
    })
}

/// What [`extract_file`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Extraction {
    #[serde(flatten)]
    pub embedded: Embedded,
    /// SHA-256 of the extracted dump.
    pub sha256: String,
}

/// Writes the dump `exe_path` carries to `output`, byte for byte, after
/// checking the trailer checksum (append mode) and the dump header.
pub fn extract_file(exe_path: &Path, output: &Path) -> Result<Extraction> {
    if is_same_file(exe_path, output) {
        return Err(EmbedError::OutputIsInput(output.to_path_buf()));
    }
    let file = DumpFile::open(exe_path).map_err(about(exe_path))?;
    let exe = file.bytes();
    let embedded = find(exe)
        .and_then(|found| found.ok_or(EmbedError::NotEmbedded))
        .map_err(about(exe_path))?;
    embedded.verify(exe).map_err(about(exe_path))?;
    let dump = embedded.slice(exe);
    Dump::parse(dump).map_err(about(exe_path))?;
    write_atomically(output, &[Cow::Borrowed(dump)], None).map_err(about(output))?;
    Ok(Extraction {
        embedded,
        sha256: hex(&Sha256::digest(dump)),
    })
}

/// Wraps an error with the file it is about.
fn about<E: Into<EmbedError>>(path: &Path) -> impl Fn(E) -> EmbedError + '_ {
    move |e| EmbedError::InFile {
        path: path.to_path_buf(),
        source: Box::new(e.into()),
    }
}

fn is_same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes `pieces` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old file or the whole new one, never a part.
fn write_atomically(
    path: &Path,
    pieces: &[Cow<'_, [u8]>],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new().prefix(".pdmp-").tempfile_in(dir)?;
    {
        let mut out = BufWriter::new(temp.as_file());
        for piece in pieces {
            out.write_all(piece)?;
        }
        out.flush()?;
    }
    if let Some(permissions) = permissions {
        temp.as_file().set_permissions(permissions)?;
    }
    temp.as_file().sync_all()?;
    let _: File = temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
