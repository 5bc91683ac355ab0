//! The Emacs executable a dump belongs to: where `emacs_basis` and `lispsym`
//! lie in it, and the bytes the dump points at there.
//!
//! Emacs-relative values in a dump are offsets from `emacs_basis`, and symbol
//! values are offsets from `lispsym`; neither address is in the file. The
//! discardable region holds images of the built-in subrs and symbols, and the
//! emacs relocations say where in the executable each image is copied,
//! relative to `emacs_basis`. Matching the subr images against the static
//! subrs in the executable's data sections fixes `emacs_basis` (spec §12);
//! the lowest copy destination of a symbol image, `nil` (index 0 of `lispsym`), gives
//! `lispsym` relative to it, from the dump alone. With the basis known, the
//! names of built-in symbols (C string literals: `car`, `nil`…), which are
//! not in the dump, are read from the executable.

use crate::dump::{DiscardableCopy, Dump};
use crate::lisp::{LispType, VectorHeader, PSEUDOVECTOR_FLAG};
use crate::tables::RelocKind;
use object::{Object, ObjectSection, ObjectSegment, SectionKind};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

/// Why the executable's addresses could not be recovered.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("not an executable pdmp can read: {0}")]
    Object(#[from] object::Error),
    #[error("{0}")]
    Dump(String),
    #[error("{0}")]
    Executable(String),
}

/// A copy the loader makes from the discardable region into the executable.
/// Emacs-relative destination of the dump byte at `offset`, if `copy` holds it.
fn destination_of(copy: &DiscardableCopy, offset: u64) -> Option<i64> {
    copy.source
        .contains(offset)
        .then(|| copy.destination + (offset - copy.source.offset) as i64)
}

fn discardable_copies(dump: &Dump<'_>) -> Vec<DiscardableCopy> {
    dump.discardable_copies().collect()
}

/// An image of a built-in subr in the discardable region.
#[derive(Debug, Clone, Copy)]
struct SubrImage {
    /// Where the image is copied, relative to `emacs_basis`.
    emacs_offset: i64,
    /// Its function pointer, relative to `emacs_basis`, when the image's
    /// second word is an emacs-relative raw pointer.
    function: Option<i64>,
}

/// The header word of the dump's subr images (`PVEC_SUBR`, pseudovector flag set).
fn subr_header(dump: &Dump<'_>) -> Result<VectorHeader, RecoverError> {
    let numbering = dump.pvec_numbering().numbering.ok_or_else(|| {
        RecoverError::Dump(
            "cannot tell the dump's pvec numbering, so its subr images are unknown".into(),
        )
    })?;
    let subr = numbering
        .type_number("SUBR")
        .expect("every version has SUBR");
    Ok(VectorHeader::bare_pseudovector(subr))
}

fn subr_images(
    dump: &Dump<'_>,
    copies: &[DiscardableCopy],
) -> Result<Vec<SubrImage>, RecoverError> {
    let header = subr_header(dump)?;
    // Emacs-relative raw pointers in the discardable region, by site.
    let (start, end) = (dump.header().discardable_start, dump.header().cold_start);
    let mut raw: HashMap<u64, i64> = HashMap::new();
    for (_, table) in dump.dump_relocs() {
        for reloc in table.iter() {
            if reloc.kind == RelocKind::EmacsPtrRaw && (start..end).contains(&reloc.offset) {
                if let Ok(word) = dump.word_at(reloc.offset) {
                    raw.insert(reloc.offset, word as i64);
                }
            }
        }
    }
    let mut images = Vec::new();
    for copy in copies {
        let mut at = copy.source.offset.next_multiple_of(8);
        while at + 8 <= copy.source.end() {
            if dump.word_at(at).ok() == Some(header.0) {
                images.push(SubrImage {
                    emacs_offset: destination_of(copy, at).expect("inside the copy"),
                    function: raw.get(&(at + 8)).copied(),
                });
            }
            at += 8;
        }
    }
    images.sort_by_key(|i| i.emacs_offset);
    Ok(images)
}

/// Size of `struct Lisp_Symbol` on 64-bit builds: built-in symbol `i` lies
/// at `lispsym + 48 i`.
pub const SYMBOL_SIZE: i64 = 48;

/// `lispsym` relative to `emacs_basis`, and how many built-in symbol images
/// the dump copies.
///
/// The images are recognised by their second word, the symbol's name, which
/// is a Lisp string in the dump. Every built-in symbol is copied, so the
/// lowest destination is `lispsym[0]`, the symbol `nil`: checked by its name
/// being 3 characters long and its value being `nil` itself (0).
pub fn lispsym_offset(dump: &Dump<'_>) -> Result<(i64, u64), RecoverError> {
    let copies = discardable_copies(dump);
    let (start, end) = (dump.header().discardable_start, dump.header().cold_start);
    let mut lowest: Option<(i64, u64)> = None;
    let mut count = 0;
    let layout = dump.header().layout;
    let string = RelocKind::DumpLispValue(LispType::String)
        .to_type(layout)
        .expect("every layout has string values");
    for (_, table) in dump.dump_relocs() {
        for (offset, type_bits) in table.raw() {
            if type_bits != u32::from(string) || !(start + 8..end).contains(&offset) {
                continue;
            }
            let image = offset - 8;
            if let Some(destination) = copies.iter().find_map(|c| destination_of(c, image)) {
                count += 1;
                if lowest.is_none_or(|(d, _)| destination < d) {
                    lowest = Some((destination, image));
                }
            }
        }
    }
    let (destination, image) = lowest.ok_or_else(|| {
        RecoverError::Dump(
            "no copied built-in symbol image in the discardable region: cannot place lispsym"
                .into(),
        )
    })?;
    let name_length = dump
        .word_at(image + 8)
        .and_then(|name| dump.word_at(name & !0b111));
    let value = dump.word_at(image + 16);
    match (name_length, value) {
        (Ok(3), Ok(0)) => Ok((destination, count)),
        _ => Err(RecoverError::Dump(format!(
            "the lowest copied symbol image (offset {image}) is not nil \
             (name of 3 characters, value nil): cannot place lispsym"
        ))),
    }
}

/// What was recovered from the executable, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recovered {
    /// `emacs_basis` at link time (the executable's own addresses).
    pub link_emacs_basis: u64,
    /// Added to link-time addresses: where a PIE executable was loaded.
    pub load_bias: u64,
    /// `link_emacs_basis + load_bias`.
    pub emacs_basis: u64,
    /// `lispsym` relative to `emacs_basis`, from the dump.
    pub lispsym_offset: i64,
    /// `emacs_basis + lispsym_offset`.
    pub lispsym: u64,
    /// The executable sections `emacs_basis` and `lispsym` fall in (link time).
    pub emacs_basis_section: Option<String>,
    pub lispsym_section: Option<String>,
    /// Built-in symbol images copied from the dump.
    pub symbol_images: u64,
    /// Built-in subr images copied from the dump.
    pub subr_images: u64,
    /// Static subr headers found in the executable's data sections.
    pub static_subrs: u64,
    /// Images whose destination is a static subr under the recovered basis.
    pub subrs_matched: u64,
    /// Matched images whose function pointer also equals the static subr's.
    pub function_pointers_agree: u64,
}

/// Finds `emacs_basis` (and from it `lispsym`) for `dump` in the executable
/// `exe` (its bytes), adding `load_bias` for a running, position-independent one.
pub fn recover(dump: &Dump<'_>, exe: &[u8], load_bias: u64) -> Result<Recovered, RecoverError> {
    let file = object::File::parse(exe)?;
    let copies = discardable_copies(dump);
    let images = subr_images(dump, &copies)?;
    if images.is_empty() {
        return Err(RecoverError::Dump(
            "no built-in subr image in the discardable region".into(),
        ));
    }
    let static_header = subr_header(dump)?.0 & !PSEUDOVECTOR_FLAG;

    // Writable data sections with contents, and the static subr headers in them.
    let data: Vec<(u64, &[u8])> = file
        .sections()
        .filter(|s| s.kind() == SectionKind::Data)
        .filter_map(|s| Some((s.address(), s.data().ok()?)))
        .collect();
    let word_at = |address: u64| -> Option<u64> {
        data.iter().find_map(|&(base, bytes)| {
            let at = usize::try_from(address.checked_sub(base)?).ok()?;
            Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        })
    };
    let mut statics: HashSet<u64> = HashSet::new();
    for &(base, bytes) in &data {
        let skip = (base.next_multiple_of(8) - base) as usize;
        for (i, chunk) in bytes.get(skip..).unwrap_or(&[]).chunks_exact(8).enumerate() {
            if u64::from_le_bytes(chunk.try_into().expect("8 bytes")) == static_header {
                statics.insert(base + skip as u64 + 8 * i as u64);
            }
        }
    }
    if statics.is_empty() {
        return Err(RecoverError::Executable(format!(
            "no static subr (header word {static_header:#x}) in the executable's data sections: \
             not the executable this dump was made with"
        )));
    }

    // Vote: pairing the first images with every static subr proposes a basis;
    // the true one is proposed once per paired image.
    let mut votes: HashMap<u64, u32> = HashMap::new();
    for image in images.iter().take(32) {
        for &address in &statics {
            *votes
                .entry(address.wrapping_add_signed(-image.emacs_offset))
                .or_default() += 1;
        }
    }
    let (basis, _) = votes
        .into_iter()
        .max_by_key(|&(basis, count)| (count, std::cmp::Reverse(basis)))
        .expect("at least one vote");
    let mut matched = 0;
    let mut agree = 0;
    for image in &images {
        let address = basis.wrapping_add_signed(image.emacs_offset);
        if statics.contains(&address) {
            matched += 1;
            if let Some(function) = image.function {
                agree +=
                    u64::from(word_at(address + 8) == Some(basis.wrapping_add_signed(function)));
            }
        }
    }
    if matched * 2 <= images.len() as u64 {
        return Err(RecoverError::Executable(format!(
            "only {matched} of {} subr images match a static subr at any one emacs_basis: \
             not the executable this dump was made with",
            images.len()
        )));
    }
    let (lispsym_offset, symbol_images) = lispsym_offset(dump)?;
    let link_lispsym = basis.wrapping_add_signed(lispsym_offset);
    let section_of = |address: u64| {
        file.sections()
            .find(|s| (s.address()..s.address() + s.size()).contains(&address))
            .and_then(|s| s.name().ok().map(str::to_string))
    };
    Ok(Recovered {
        link_emacs_basis: basis,
        load_bias,
        emacs_basis: basis.wrapping_add(load_bias),
        lispsym_offset,
        lispsym: link_lispsym.wrapping_add(load_bias),
        emacs_basis_section: section_of(basis),
        lispsym_section: section_of(link_lispsym),
        symbol_images,
        subr_images: images.len() as u64,
        static_subrs: statics.len() as u64,
        subrs_matched: matched,
        function_pointers_agree: agree,
    })
}

/// Why an executable cannot serve a dump.
#[derive(Debug, thiserror::Error)]
pub enum ExecutableError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not an executable object file: {0}")]
    Format(#[from] object::Error),
    #[error("the executable does not contain the dump's fingerprint: it did not write this dump")]
    NoFingerprint,
    #[error("{0}")]
    Recover(#[from] RecoverError),
}

/// A loaded segment: `size` bytes at `address`, from `file_offset`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    address: u64,
    file_offset: u64,
    size: u64,
}

/// An executable mapped read-only, with the link-time address of its
/// `emacs_basis`.
pub struct Executable {
    map: memmap2::Mmap,
    segments: Vec<Segment>,
    basis: u64,
}

impl Executable {
    /// Opens `path`, checks that it wrote `dump`, and finds its basis.
    pub fn open(path: &Path, dump: &Dump<'_>) -> Result<Executable, ExecutableError> {
        let file = File::open(path)?;
        // SAFETY: read-only private map; see `DumpFile::open`.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        if memchr::memmem::find(&map, &dump.header().fingerprint).is_none() {
            return Err(ExecutableError::NoFingerprint);
        }
        let basis = recover(dump, &map, 0)?.link_emacs_basis;
        let segments: Vec<Segment> = object::File::parse(&*map)?
            .segments()
            .map(|s| {
                let (file_offset, size) = s.file_range();
                Segment {
                    address: s.address(),
                    file_offset,
                    size,
                }
            })
            .filter(|s| s.size > 0)
            .collect();
        Ok(Executable {
            map,
            segments,
            basis,
        })
    }

    /// Link-time address of `emacs_basis`.
    pub fn emacs_basis(&self) -> u64 {
        self.basis
    }

    fn file_offset(&self, address: u64, len: u64) -> Option<usize> {
        let s = self
            .segments
            .iter()
            .find(|s| address >= s.address && address - s.address < s.size)?;
        let within = address - s.address;
        (within.checked_add(len)? <= s.size).then_some((s.file_offset + within) as usize)
    }

    /// `len` bytes at `relative` bytes from `emacs_basis`.
    pub fn bytes_at(&self, relative: i64, len: u64) -> Option<&[u8]> {
        let address = self.basis.checked_add_signed(relative)?;
        let at = self.file_offset(address, len)?;
        self.map.get(at..at + len as usize)
    }
}
