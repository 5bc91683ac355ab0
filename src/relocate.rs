//! The loader's relocation work, done offline: apply a dump's arithmetic
//! relocations to an in-memory copy for chosen addresses, count what was
//! applied and what cannot be simulated, and measure what the work costs in
//! copy-on-write pages.
//!
//! Every arithmetic kind is a sum: a raw pointer adds the base of its side
//! (dump or executable); a Lisp value adds the base and then its tag, except
//! that symbols are represented relative to `lispsym` (spec §4.1). Because
//! all of them are linear in the bases, an image relocated for one set of
//! addresses can be moved to another by adding differences; [`PreferredBase`]
//! records the addresses a pre-relocated dump was written for.

use crate::dump::Dump;
use crate::error::{Error, Result};
use crate::header::{Phase, FINGERPRINT_LEN};
use crate::lisp::LispType;
use crate::tables::{DumpReloc, DumpRelocTable, EmacsRelocValue, RelocKind};

/// The three run-time addresses arithmetic relocations depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Bases {
    /// Where the dump file is mapped (address of byte 0).
    pub dump_base: u64,
    /// Address of `Vpurify_flag` in the executable: the origin of every
    /// emacs-relative value.
    pub emacs_basis: u64,
    /// Address of the `lispsym` array: the origin of symbol `Lisp_Object`s.
    pub lispsym: u64,
}

/// Why a relocation kind cannot be applied offline, or `None` when it can.
pub fn skip_reason(kind: RelocKind) -> Option<&'static str> {
    match kind {
        RelocKind::Bignum => Some(
            "builds a GMP mpz over the limbs in the cold region at load time; \
             its layout belongs to the host's libgmp",
        ),
        RelocKind::NativeCompUnit => {
            Some("dlopens the unit's .eln file and re-links it, which needs a running Lisp")
        }
        RelocKind::NativeSubr => {
            Some("looks the function up in the loaded .eln file, which needs a running Lisp")
        }
        _ => None,
    }
}

/// The relocated value of the word `word` at a site of an arithmetic `kind`;
/// `None` for kinds that cannot be simulated (see [`skip_reason`]).
pub fn relocated_word(kind: RelocKind, word: u64, bases: &Bases) -> Option<u64> {
    let lisp = |pointer: u64, tag: LispType| match tag {
        LispType::Symbol => pointer.wrapping_sub(bases.lispsym),
        tag => pointer.wrapping_add(u64::from(tag.tag())),
    };
    match kind {
        RelocKind::EmacsPtrRaw => Some(word.wrapping_add(bases.emacs_basis)),
        RelocKind::DumpPtrRaw => Some(word.wrapping_add(bases.dump_base)),
        RelocKind::DumpLispValue(tag) => Some(lisp(word.wrapping_add(bases.dump_base), tag)),
        RelocKind::EmacsLispValue(tag) => Some(lisp(word.wrapping_add(bases.emacs_basis), tag)),
        RelocKind::Bignum
        | RelocKind::NativeCompUnit
        | RelocKind::NativeSubr
        | RelocKind::Invalid(_) => None,
    }
}

/// How many relocations of one kind in one phase were applied and skipped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KindCount {
    pub phase: Phase,
    /// Emacs's name of the kind, e.g. `DUMP_TO_DUMP_LV+cons`.
    pub kind: String,
    pub applied: u64,
    pub skipped: u64,
    /// Why the skipped ones could not be applied.
    pub reason: Option<&'static str>,
}

/// What applying a dump's relocations did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// One row per (phase, kind) present in the file, in phase then kind order.
    pub kinds: Vec<KindCount>,
    pub applied: u64,
    pub skipped: u64,
}

/// A phase a load writes memory in: one of the dump relocation phases or the
/// emacs relocations (stores into the executable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WritePhase {
    Dump(Phase),
    EmacsRelocs,
}

impl WritePhase {
    pub fn name(self) -> &'static str {
        match self {
            WritePhase::Dump(phase) => phase.name(),
            WritePhase::EmacsRelocs => "emacs_relocs",
        }
    }
}

/// Pages one phase of a load writes, at one page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PageCount {
    pub page_size: u64,
    /// Distinct pages written: the copy-on-write faults of that phase.
    pub pages: u64,
    /// Most writes landing on one page.
    pub max_relocations_per_page: u64,
}

/// The write cost of one phase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhaseCost {
    pub phase: &'static str,
    /// Relocations (stores) the phase performs.
    pub relocations: u64,
    pub bytes_written: u64,
    pub by_page_size: Vec<PageCount>,
}

/// The page sizes costs are reported at: x86_64's base page and the 64 KiB
/// granule Emacs 28+ aligns its regions to.
pub const PAGE_SIZES: [u64; 2] = [4096, 65536];

/// Byte range `[start, end)` in the dump's address space that a relocation writes.
fn written_range(reloc: &DumpReloc) -> (u64, u64) {
    match reloc.kind {
        // The loader replaces {data_location, nlimbs} by an mpz: 16 bytes at +8.
        RelocKind::Bignum => (reloc.offset + 8, reloc.offset + 24),
        // A native subr's function pointer lies just after its header.
        RelocKind::NativeSubr => (reloc.offset + 8, reloc.offset + 16),
        _ => (reloc.offset, reloc.offset + 8),
    }
}

/// Counts distinct pages and the busiest page over ranges of addresses.
/// Sorted input (every table of a sound dump) is counted in one streaming
/// pass; otherwise the pages are collected and sorted, which the number of
/// ranges (bounded by the file's size) bounds.
fn count_pages<I: Iterator<Item = (u64, u64)>>(
    ranges: impl Fn() -> I,
    page_size: u64,
) -> PageCount {
    let pages = || {
        ranges()
            .filter(|(start, end)| end > start)
            .flat_map(move |(start, end)| start / page_size..=(end - 1) / page_size)
    };
    let mut count = PageCount {
        page_size,
        pages: 0,
        max_relocations_per_page: 0,
    };
    let mut tally = |run: u64| {
        count.pages += 1;
        count.max_relocations_per_page = count.max_relocations_per_page.max(run);
    };
    let mut current: Option<(u64, u64)> = None;
    let mut sorted = true;
    for page in pages() {
        current = match current {
            Some((last, run)) if last == page => Some((last, run + 1)),
            Some((last, run)) if last < page => {
                tally(run);
                Some((page, 1))
            }
            None => Some((page, 1)),
            Some(_) => {
                sorted = false;
                break;
            }
        };
    }
    if sorted {
        if let Some((_, run)) = current {
            tally(run);
        }
        return count;
    }
    let mut all: Vec<u64> = pages().collect();
    all.sort_unstable();
    let mut count = PageCount {
        page_size,
        pages: 0,
        max_relocations_per_page: 0,
    };
    for run in all.chunk_by(|a, b| a == b) {
        count.pages += 1;
        count.max_relocations_per_page = count.max_relocations_per_page.max(run.len() as u64);
    }
    count
}

/// Checks one relocation entry (entry `index` of `phase`'s table) and
/// returns it.
fn checked(
    dump: &Dump<'_>,
    phase: Phase,
    table: &DumpRelocTable<'_>,
    index: usize,
    reloc: DumpReloc,
) -> Result<DumpReloc> {
    let header = dump.header();
    let problem = if let RelocKind::Invalid(t) = reloc.kind {
        format!("relocation type {t} is not defined")
    } else if reloc.offset < header.layout.header_size() || !reloc.offset.is_multiple_of(8) {
        format!(
            "site {} is not an 8-aligned offset after the header",
            reloc.offset
        )
    } else if written_range(&reloc).1 > header.cold_start {
        format!(
            "site {} lies at or beyond cold_start ({}), where the loader never relocates",
            reloc.offset, header.cold_start
        )
    } else {
        return Ok(reloc);
    };
    Err(Error::BadEntry {
        table: phase.table_name(),
        index,
        entry_offset: table.entry_offset(index),
        problem,
    })
}

/// Fails when `dump` is already pre-relocated: its words hold addresses,
/// not the offsets relocations add to.
pub fn ensure_not_prerelocated(dump: &Dump<'_>) -> Result<()> {
    match PreferredBase::find(dump) {
        Some(old) => Err(Error::BadEntry {
            table: "pre-relocation trailer",
            index: 0,
            entry_offset: dump.size() - PREFERRED_TRAILER_SIZE as u64,
            problem: format!(
                "the file is already pre-relocated for dump base {:#x}; relocate the original dump",
                old.bases.dump_base
            ),
        }),
        None => Ok(()),
    }
}

/// What each 5-bit relocation type does under one set of bases: every
/// arithmetic kind is `word += addend`, so the loop needs no branch on the kind.
struct TypeTable {
    addend: [u64; 32],
    /// Whether the type is arithmetic (applied in EARLY) and defined at all.
    arithmetic: [bool; 32],
    defined: [bool; 32],
    /// Bytes from the site to the end of what the loader writes.
    extent: [u64; 32],
}

impl TypeTable {
    fn new(layout: crate::header::Layout, bases: &Bases) -> TypeTable {
        let mut table = TypeTable {
            addend: [0; 32],
            arithmetic: [false; 32],
            defined: [false; 32],
            extent: [8; 32],
        };
        for t in 0..32u32 {
            let kind = RelocKind::from_type(t, layout);
            let i = t as usize;
            table.defined[i] = !matches!(kind, RelocKind::Invalid(_));
            // The sum is linear in the word: its value at 0 is the addend.
            if let Some(addend) = relocated_word(kind, 0, bases) {
                table.addend[i] = addend;
                table.arithmetic[i] = true;
            }
            let probe = DumpReloc {
                offset: 0,
                kind,
                type_bits: t as u8,
            };
            table.extent[i] = written_range(&probe).1;
        }
        table
    }
}

/// Applies every arithmetic relocation of the EARLY phase (Emacs 27: the only
/// table) to `image`, a copy of the dump's bytes, and counts every relocation
/// of every phase as applied or skipped. With `image` = `None` only counts
/// (and checks) them.
pub fn apply(dump: &Dump<'_>, bases: &Bases, mut image: Option<&mut [u8]>) -> Result<Applied> {
    if let Some(image) = image.as_deref() {
        assert_eq!(
            image.len() as u64,
            dump.size(),
            "image is a copy of the dump"
        );
    }
    ensure_not_prerelocated(dump)?;
    let layout = dump.header().layout;
    let (header_size, cold_start) = (layout.header_size(), dump.header().cold_start);
    let types = TypeTable::new(layout, bases);
    // (applied, skipped) per phase and 5-bit type number.
    let mut counts: Vec<(Phase, [(u64, u64); 32])> = Vec::new();
    for (phase, table) in dump.dump_relocs() {
        let simulated = matches!(phase, Phase::Early | Phase::All);
        let mut seen = [0u64; 32];
        for (index, (offset, t)) in table.raw().enumerate() {
            let t = t as usize;
            if !types.defined[t]
                || offset < header_size
                || !offset.is_multiple_of(8)
                || offset + types.extent[t] > cold_start
            {
                let reloc = table.get(index).expect("entry of this table");
                checked(dump, phase, &table, index, reloc)?;
            }
            seen[t] += 1;
            if let (true, Some(image)) = (simulated, image.as_deref_mut()) {
                let at = offset as usize;
                if let Some(site) = image.get_mut(at..at + 8) {
                    let word = u64::from_le_bytes((&*site).try_into().expect("8 bytes"));
                    site.copy_from_slice(&word.wrapping_add(types.addend[t]).to_le_bytes());
                }
            }
        }
        let mut by_type = [(0u64, 0u64); 32];
        for t in 0..32 {
            by_type[t] = if simulated && types.arithmetic[t] {
                (seen[t], 0)
            } else {
                (0, seen[t])
            };
        }
        counts.push((phase, by_type));
    }
    let kinds: Vec<KindCount> = counts
        .into_iter()
        .flat_map(|(phase, by_type)| {
            (0u32..32).filter_map(move |t| {
                let (applied, skipped) = by_type[t as usize];
                let kind = RelocKind::from_type(t, layout);
                (applied + skipped > 0).then(|| KindCount {
                    phase,
                    kind: kind.name(),
                    applied,
                    skipped,
                    reason: (skipped > 0).then(|| {
                        skip_reason(kind).unwrap_or("belongs to a later phase than EARLY")
                    }),
                })
            })
        })
        .collect();
    Ok(Applied {
        applied: kinds.iter().map(|k| k.applied).sum(),
        skipped: kinds.iter().map(|k| k.skipped).sum(),
        kinds,
    })
}

/// Pages each phase of a load writes, at [`PAGE_SIZES`], for the given
/// addresses: the dump relocation phases write into the dump's private
/// mapping, the emacs relocations into the executable's data.
pub fn page_costs(dump: &Dump<'_>, bases: &Bases) -> Vec<PhaseCost> {
    let mut costs: Vec<PhaseCost> = dump
        .dump_relocs()
        .map(|(phase, table)| {
            let ranges = || {
                table.iter().map(|r| {
                    let (start, end) = written_range(&r);
                    (
                        bases.dump_base.wrapping_add(start),
                        bases.dump_base.wrapping_add(end),
                    )
                })
            };
            PhaseCost {
                phase: phase.name(),
                relocations: table.len() as u64,
                bytes_written: ranges().map(|(s, e)| e.saturating_sub(s)).sum(),
                by_page_size: PAGE_SIZES
                    .iter()
                    .map(|&size| count_pages(ranges, size))
                    .collect(),
            }
        })
        .collect();
    let emacs = dump.emacs_relocs();
    let ranges = || {
        emacs.iter().map(|r| {
            let length = match r.value {
                EmacsRelocValue::CopyFromDump { length, .. }
                | EmacsRelocValue::Immediate { length, .. } => u64::try_from(length).unwrap_or(0),
                EmacsRelocValue::Invalid { .. } => 0,
                _ => 8,
            };
            let start = bases.emacs_basis.wrapping_add_signed(r.emacs_offset.into());
            (start, start.wrapping_add(length))
        })
    };
    costs.push(PhaseCost {
        phase: WritePhase::EmacsRelocs.name(),
        relocations: emacs.len() as u64,
        bytes_written: ranges().map(|(s, e)| e.saturating_sub(s)).sum(),
        by_page_size: PAGE_SIZES
            .iter()
            .map(|&size| count_pages(ranges, size))
            .collect(),
    });
    costs
}

/// Bytes of the trailer a pre-relocated dump carries after its last table.
pub const PREFERRED_TRAILER_SIZE: usize = 96;
/// Last 16 bytes of a pre-relocated dump.
pub const PREFERRED_MAGIC: [u8; 16] = *b"PDMPRERELOCATED\0";
/// Version of the trailer layout.
pub const PREFERRED_VERSION: u64 = 1;

/// The addresses a pre-relocated dump was written for, recorded in a
/// trailer after the last table (which `Header::parse` and GNU Emacs's
/// loader both ignore as trailing bytes).
///
/// Trailer layout, little-endian, 96 bytes ending at EOF:
/// `version u64 = 1`, `dump_base u64`, `emacs_basis u64`, `lispsym u64`,
/// `original_fingerprint [u8; 32]`, `reserved [u8; 16]` (zero),
/// `magic "PDMPRERELOCATED\0"`.
///
/// The header's fingerprint is stored with every byte inverted, so that GNU
/// Emacs refuses the file ("not built for this Emacs executable") instead of
/// adding its bases a second time; the trailer keeps the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreferredBase {
    pub bases: Bases,
    pub original_fingerprint: [u8; FINGERPRINT_LEN],
}

impl PreferredBase {
    /// The trailer bytes.
    pub fn encode(&self) -> [u8; PREFERRED_TRAILER_SIZE] {
        let mut out = [0u8; PREFERRED_TRAILER_SIZE];
        let b = &self.bases;
        for (i, word) in [PREFERRED_VERSION, b.dump_base, b.emacs_basis, b.lispsym]
            .iter()
            .enumerate()
        {
            out[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        out[32..64].copy_from_slice(&self.original_fingerprint);
        out[80..96].copy_from_slice(&PREFERRED_MAGIC);
        out
    }

    /// The trailer of a pre-relocated dump, or `None` when `dump` has none.
    pub fn find(dump: &Dump<'_>) -> Option<PreferredBase> {
        let trailing = dump.header().trailing_bytes;
        if trailing < PREFERRED_TRAILER_SIZE as u64 {
            return None;
        }
        let bytes = dump
            .bytes_at(
                dump.size() - PREFERRED_TRAILER_SIZE as u64,
                PREFERRED_TRAILER_SIZE as u64,
                "pre-relocation trailer",
            )
            .ok()?;
        let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8"));
        (bytes[80..] == PREFERRED_MAGIC && word(0) == PREFERRED_VERSION).then(|| PreferredBase {
            bases: Bases {
                dump_base: word(1),
                emacs_basis: word(2),
                lispsym: word(3),
            },
            original_fingerprint: bytes[32..64].try_into().expect("32 bytes"),
        })
    }
}

/// A pre-relocated dump: the EARLY arithmetic relocations applied for
/// `bases`, the fingerprint inverted and the [`PreferredBase`] trailer
/// appended. A runtime that maps it at `bases.dump_base` (with the same
/// executable addresses) has nothing to add; elsewhere it adds the
/// differences of the bases at the same sites.
pub fn prerelocated(dump: &Dump<'_>, bases: &Bases) -> Result<(Vec<u8>, Applied)> {
    let size = dump.bytes().len();
    let mut out = Vec::with_capacity(size + PREFERRED_TRAILER_SIZE);
    out.extend_from_slice(dump.bytes());
    let applied = apply(dump, bases, Some(&mut out[..]))?;
    let fingerprint = dump.header().fingerprint;
    for (byte, original) in out[16..16 + FINGERPRINT_LEN].iter_mut().zip(fingerprint) {
        *byte = !original;
    }
    let trailer = PreferredBase {
        bases: *bases,
        original_fingerprint: fingerprint,
    };
    out.extend_from_slice(&trailer.encode());
    Ok((out, applied))
}
