//! Structural verification of a dump: every invariant of the format (spec
//! §11) that the file alone can prove, each as a named check with a count of
//! failures and the first few offending entries with their byte offsets.
//!
//! Emacs's loader checks only the magic and the fingerprint and trusts every
//! other byte, so a damaged dump crashes it or loads garbage. Verification
//! reads each table once; to answer "is this word an object start, and with
//! which tag?" it keeps one bit per 8-byte word of the heap plus a small rank
//! index into the (sorted) object-starts table, nothing else proportional to
//! the file.

use crate::dump::Dump;
use crate::error::Error;
use crate::header::{Header, Layout, Phase, FAILED_DUMP_MARKER, MAGIC};
use crate::lisp::{LispType, VectorHeader};
use crate::prerelocation::PreRelocation;
use crate::pvec::PvecNumbering;
use crate::tables::{
    split_packed, DumpRelocTable, EmacsRelocValue, ObjectStart, ObjectStartTable, RelocKind,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// How many offending entries a failed check keeps as examples.
pub const MAX_EXAMPLES: usize = 5;

/// The word the writer puts in pointer slots before back-patching them.
pub const PLACEHOLDER_WORD: u64 = 0xDEAD_F00D;

/// Checking builds of the writer assert emacs relocations stay this close to
/// `emacs_basis`.
pub const MAX_EMACS_OFFSET: i64 = 60 << 20;

/// Whether an invariant is guaranteed by Emacs's writer or only observed on
/// every real dump examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Writer,
    Observed,
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Could not be run because something it depends on is broken.
    Skipped,
}

/// One offending entry: where it is in the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub offset: u64,
    pub message: String,
}

/// One named invariant and how the dump fared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub description: &'static str,
    pub basis: Basis,
    pub status: Status,
    /// How many items (entries, words, objects) were examined.
    pub checked: u64,
    pub failures: u64,
    /// The first [`MAX_EXAMPLES`] failures, in file order of discovery.
    pub examples: Vec<Finding>,
    /// Why the check was skipped, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Check {
    fn new(name: &'static str, basis: Basis, description: &'static str) -> Check {
        Check {
            name,
            description,
            basis,
            status: Status::Pass,
            checked: 0,
            failures: 0,
            examples: Vec::new(),
            note: None,
        }
    }

    /// Records one examined item.
    #[inline]
    fn tick(&mut self) {
        self.checked += 1;
    }

    /// Records a failure; the message is only built for kept examples.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, offset: u64, message: impl FnOnce() -> String) {
        self.failures += 1;
        self.status = Status::Fail;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(Finding {
                offset,
                message: message(),
            });
        }
    }

    /// Checks `ok`, recording a failure otherwise.
    #[inline]
    fn expect(&mut self, ok: bool, offset: u64, message: impl FnOnce() -> String) {
        self.tick();
        if !ok {
            self.fail(offset, message);
        }
    }

    fn skip(&mut self, why: impl Into<String>) {
        self.status = Status::Skipped;
        self.note = Some(why.into());
    }

    /// Adds what another run of the same check (on another thread) found.
    fn absorb(&mut self, other: Check) {
        self.checked += other.checked;
        self.failures += other.failures;
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
        match (self.status, other.status) {
            (_, Status::Fail) | (Status::Pass, Status::Skipped) => self.status = other.status,
            _ => {}
        }
        if self.note.is_none() {
            self.note = other.note;
        }
    }
}

/// The result of verifying a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// The header layout, when the header could be read.
    pub layout: Option<Layout>,
    /// The pvec numbering the vectorlike checks used, when detected.
    pub pvec_numbering: Option<PvecNumbering>,
    /// The bases a pre-relocated dump was written for (its checks ran on
    /// the words as they were before), `None` for an ordinary dump.
    pub pre_relocated: Option<PreRelocation>,
    pub checks: Vec<Check>,
}

impl Verification {
    /// No check failed.
    pub fn is_sound(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// Total failures over all checks.
    pub fn failures(&self) -> u64 {
        self.checks.iter().map(|c| c.failures).sum()
    }

    /// The check called `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Verifies a whole file. A file that is a dump but whose header cannot be
/// used (failed-dump marker, truncation, an impossible header field) yields a
/// verification whose `header` check fails; a file that is not a dump at all
/// (bad magic, empty, too short without the magic) is an error.
pub fn verify_bytes(data: &[u8]) -> Result<Verification, Error> {
    match Dump::parse(data) {
        Ok(dump) => Ok(verify(&dump)),
        Err(err) => {
            let looks_like_dump = data.len() >= 16
                && data[1..16] == MAGIC[1..]
                && (data[0] == MAGIC[0] || data[0] == FAILED_DUMP_MARKER);
            let offset = match &err {
                Error::BadField { field_offset, .. } => *field_offset,
                Error::TableOutOfBounds { size, .. } => *size,
                Error::TooShort { size, .. } => *size,
                _ => 0,
            };
            let message = match &err {
                Error::TooShort { size, needed } => format!(
                    "file is {size} bytes: truncated inside the header, at least {} bytes missing",
                    needed - size
                ),
                other => other.to_string(),
            };
            if !looks_like_dump || matches!(err, Error::Io(_)) {
                return Err(err);
            }
            let mut header = Check::new("header", Basis::Writer, HEADER_DESCRIPTION);
            header.expect(false, offset, || message);
            let mut checks = vec![header];
            for (name, basis, description) in LATER_CHECKS {
                let mut check = Check::new(name, basis, description);
                check.skip("the header is unusable");
                checks.push(check);
            }
            Ok(Verification {
                layout: None,
                pvec_numbering: None,
                pre_relocated: None,
                checks,
            })
        }
    }
}

const HEADER_DESCRIPTION: &str = "magic is DUMPEDGNUEMACS (not a failed dump); the tables lie 8-aligned and back to back after the header and end inside the file; header <= discardable_start <= cold_start <= first table; cold_start page-aligned; hash_list 0 or 8-aligned in the hot region";

/// Every check after `header`, in report order.
const LATER_CHECKS: [(&str, Basis, &str); 27] = [
    ("tables_end_at_eof", Basis::Writer, "the emacs_relocs table ends exactly at the end of the file"),
    ("cold_start_rounding", Basis::Writer, "cold_start is the end of the copied images in the discardable region rounded up to the cold alignment"),
    ("discardable_start", Basis::Observed, "the first image copied into Emacs (the lowest COPY_FROM_DUMP source below cold_start) starts exactly at discardable_start"),
    ("object_starts_order", Basis::Writer, "object starts are 8-aligned and strictly ascending"),
    ("object_starts_tags", Basis::Writer, "object start tags are heap tags (symbol, cons, string, vectorlike, float)"),
    ("object_starts_placement", Basis::Writer, "object starts lie after the header, outside the discardable region and before the first table"),
    ("cold_objects", Basis::Writer, "only floats and bool-vectors in the cold region; no floats in the hot region"),
    ("vectorlike_headers", Basis::Writer, "vectorlike headers have the mark bit clear and a pvec type of the dump's Emacs version"),
    ("object_extents", Basis::Observed, "each object ends at or before the next object start and inside its region"),
    ("dump_relocs_sorted", Basis::Writer, "each dump relocation table is strictly ascending by offset"),
    ("dump_relocs_aligned", Basis::Observed, "dump relocation sites are 8-aligned"),
    ("dump_relocs_sites", Basis::Writer, "dump relocation sites lie after the header and end at or before cold_start"),
    ("dump_relocs_kinds", Basis::Writer, "relocation types are defined; EARLY holds no native-comp types, LATE only NATIVE_COMP_UNIT, VERY_LATE only NATIVE_SUBR"),
    ("dump_lv_targets", Basis::Writer, "the word at a DUMP_TO_DUMP_LV+tag site is the offset of an object start with that tag"),
    ("dump_ptr_raw_targets", Basis::Writer, "the word at a DUMP_TO_DUMP_PTR_RAW site points into the heap, not into the discardable region"),
    ("emacs_relative_values", Basis::Observed, "words at DUMP_TO_EMACS_* sites are emacs-relative offsets that fit in 32 bits"),
    ("bignum_sites", Basis::Writer, "BIGNUM sites are bignum objects whose limbs lie 8-aligned in the cold heap"),
    ("native_comp_sites", Basis::Writer, "NATIVE_COMP_UNIT sites are native-comp unit objects, NATIVE_SUBR sites are subr objects"),
    ("native_comp_counts", Basis::Observed, "one LATE relocation per native-comp unit object and one VERY_LATE relocation per dumped subr object"),
    ("emacs_relocs_kinds", Basis::Writer, "emacs relocation types are 0..5"),
    ("emacs_relocs_sorted", Basis::Writer, "emacs relocations ascend by emacs_offset"),
    ("emacs_relocs_offsets", Basis::Writer, "emacs_offset within 60 MiB of emacs_basis"),
    ("emacs_relocs_fields", Basis::Writer, "COPY_FROM_DUMP length > 0 with the source in the heap; IMMEDIATE length 1..8; PTR_RAW length 0 and DUMP_PTR_RAW target in the heap; LV tags are heap tags"),
    ("emacs_relocs_dump_lv_targets", Basis::Writer, "DUMP_LV emacs relocations name an object start with their tag"),
    ("hash_list", Basis::Writer, "hash_list is a plain vector object whose every slot relocates to a hash table, one slot per dumped hash table"),
    ("placeholders", Basis::Observed, "no 0xDEADF00D placeholder word is left in the heap"),
    ("lisp_slots", Basis::Observed, "every Lisp slot of a hot cons or vectorlike that has no relocation holds a fixnum or a built-in symbol"),
];

/// Runs every check on a dump whose header parsed. A pre-relocated dump
/// (see [`crate::prerelocation`]) is checked on a copy of its words as they
/// were before pre-relocation.
pub fn verify(dump: &Dump<'_>) -> Verification {
    let Some(pre) = PreRelocation::find(dump) else {
        return verify_offsets(dump);
    };
    let original = pre.original_bytes(dump);
    let mut verification = match Dump::parse(&original) {
        Ok(original) => verify_offsets(&original),
        // Only the trailer went and the tables lie before it: the copy
        // parses whenever the file does.
        Err(_) => verify_offsets(dump),
    };
    verification.pre_relocated = Some(pre);
    verification
}

/// Runs every check on a dump whose relocated words hold offsets.
fn verify_offsets(dump: &Dump<'_>) -> Verification {
    let shares = shares(&Verifier::new(dump, None));
    let entries =
        dump.object_starts().len() + dump.dump_relocs().map(|(_, t)| t.len()).sum::<usize>();
    let (numbering, later) = if entries >= PARALLEL_ENTRIES {
        verify_on_two_threads(dump, &shares)
    } else {
        let numbering = dump.pvec_numbering().numbering;
        let mut v = Verifier::new(dump, numbering);
        let mut checks = fresh_checks();
        v.geometry(&mut checks);
        let index = v.object_starts(&mut checks);
        let objects = v.objects(&mut checks, index.is_some());
        for share in &shares {
            v.share(&mut checks, share, index.as_ref());
        }
        v.finish(&mut checks, index, objects);
        (numbering, checks)
    };
    let mut header = Check::new("header", Basis::Writer, HEADER_DESCRIPTION);
    header.tick();
    let mut checks = vec![header];
    checks.extend(later);
    Verification {
        layout: Some(dump.header().layout),
        pvec_numbering: numbering,
        pre_relocated: None,
        checks,
    }
}

/// [`verify`] on a big dump, in two halves that end together. This thread
/// checks the object starts (building the index) and every object with its
/// Lisp slots; the other detects the pvec numbering the per-object pass
/// needs, then takes shares of the placeholder scan (mapping the heap's
/// pages ahead of this thread's pass). Then both take shares of the relocation checks until none
/// is left. Neither waits for the other when the machine deschedules one:
/// this thread detects the numbering itself when it has not arrived yet,
/// takes the placeholder shares left, and a late other thread skips work.
fn verify_on_two_threads(
    dump: &Dump<'_>,
    shares: &[Share<'_>],
) -> (Option<PvecNumbering>, Vec<Check>) {
    // Placeholder shares come first, then the relocation shares, which
    // need the index.
    let scans = shares
        .iter()
        .take_while(|share| matches!(share, Share::Placeholders(_)))
        .count();
    let (next_scan, next_reloc) = (AtomicUsize::new(0), AtomicUsize::new(scans));
    let finished = AtomicBool::new(false);
    let index_cell = OnceLock::new();
    let (v, mut checks, objects, found) = std::thread::scope(|scope| {
        let (send_numbering, receive_numbering) = std::sync::mpsc::sync_channel(1);
        let (send_index, receive_index) = std::sync::mpsc::sync_channel::<()>(1);
        let (next_scan, next_reloc, finished, index_cell) =
            (&next_scan, &next_reloc, &finished, &index_cell);
        let other = scope.spawn(move || {
            let mut numbering = None;
            if !finished.load(Ordering::Relaxed) {
                numbering = dump.pvec_numbering().numbering;
                // The receiver may be gone: the other thread did not wait.
                let _ = send_numbering.send(numbering);
            }
            let v = Verifier::new(dump, numbering);
            let scanned = v.take_shares(&shares[..scans], next_scan, None);
            // Nothing arrives only if the other thread panicked.
            if receive_index.recv().is_err() {
                return [scanned, Default::default()];
            }
            let index = index_cell.get().and_then(Option::as_ref);
            [scanned, v.take_shares(shares, next_reloc, index)]
        });
        let mut checks = fresh_checks();
        let first = Verifier::new(dump, None);
        first.geometry(&mut checks);
        let index = first.object_starts(&mut checks);
        let sorted = index.is_some();
        let _ = index_cell.set(index);
        // The receiver is gone only if the other thread panicked, which the
        // join below reports.
        let _ = send_index.send(());
        let numbering = match receive_numbering.try_recv() {
            Ok(numbering) => numbering,
            Err(_) => dump.pvec_numbering().numbering,
        };
        let v = Verifier::new(dump, numbering);
        let objects = v.objects(&mut checks, sorted);
        let index = index_cell.get().and_then(Option::as_ref);
        let mine = [
            v.take_shares(&shares[..scans], next_scan, None),
            v.take_shares(shares, next_reloc, index),
        ];
        finished.store(true, Ordering::Relaxed);
        let theirs = other.join().expect("the checks do not panic");
        let mut found = Vec::new();
        for (passed, their_found) in mine.into_iter().chain(theirs) {
            for (check, other) in checks.iter_mut().zip(passed) {
                check.absorb(other);
            }
            found.extend(their_found);
        }
        (v, checks, objects, found)
    });
    // Shares that found something are absorbed in order: the examples come
    // out as one thread would have found them.
    let mut found = found;
    found.sort_unstable_by_key(|(k, _)| *k);
    for (_, share) in found {
        for (check, other) in checks.iter_mut().zip(share) {
            check.absorb(other);
        }
    }
    let mut v = v;
    v.finish(&mut checks, index_cell.into_inner().flatten(), objects);
    (v.numbering, checks)
}

/// A share of the placeholder scan or of the relocation checks.
enum Share<'a> {
    /// Bytes `range` of the heap (8-aligned), scanned for placeholders.
    Placeholders(std::ops::Range<u64>),
    /// Entries `range` of one dump relocation table.
    DumpRelocs(Phase, DumpRelocTable<'a>, std::ops::Range<usize>),
    EmacsRelocs,
}

/// Dump relocations per share: small enough that the two threads end
/// within a share of each other (about 0.1 ms).
const SHARE_ENTRIES: usize = 16 * 1024;

/// Heap bytes per placeholder share (a multiple of the scan's blocks).
const SHARE_BYTES: u64 = 1 << 20;

/// The placeholder scan and the relocation checks cut into shares, in
/// that order.
fn shares<'a>(v: &Verifier<'_, 'a>) -> Vec<Share<'a>> {
    let mut shares = Vec::new();
    if let Some(heap) = v.placeholder_range() {
        let mut start = heap.start;
        while start < heap.end {
            let end = heap.end.min(start + SHARE_BYTES);
            shares.push(Share::Placeholders(start..end));
            start = end;
        }
    }
    for (phase, table) in v.dump.dump_relocs() {
        let mut start = 0;
        while start < table.len() {
            let end = table.len().min(start + SHARE_ENTRIES);
            shares.push(Share::DumpRelocs(phase, table, start..end));
            start = end;
        }
    }
    shares.push(Share::EmacsRelocs);
    shares
}

/// One bit per 8-byte word below the first table saying "an object starts
/// here", with ranks mapping a set bit to its entry in the (sorted)
/// object-starts table. The bits come in groups of four 64-bit words (256
/// words of the file) followed by a rank word: how many object starts precede
/// the group (low 32 bits) and, in its top three bytes, how many precede each
/// of the group's bit words 1 to 3 within the group. A lookup reads one
/// group: 1.25 bits per word of the file.
struct ObjectIndex<'a> {
    groups: Vec<[u64; GROUP]>,
    table: ObjectStartTable<'a>,
}

/// The lookups of an [`ObjectIndex`], on two slices that a loop keeps in
/// registers: the groups and the table's packed entries.
#[derive(Clone, Copy)]
struct Lookup<'i> {
    groups: &'i [[u64; GROUP]],
    entries: &'i [[u8; 4]],
}

/// 64-bit words per group of [`ObjectIndex`]: four of bits, one of ranks.
const GROUP: usize = 5;

impl<'a> ObjectIndex<'a> {
    /// Groups covering `limit` bytes, all bits clear.
    fn empty_groups(limit: u64) -> Vec<[u64; GROUP]> {
        vec![[0u64; GROUP]; (limit.div_ceil(8) as usize).div_ceil(256)]
    }

    /// Sets the bit of the 8-aligned `offset` (ignored beyond the groups).
    #[inline(always)]
    fn set(groups: &mut [[u64; GROUP]], offset: u64) {
        let word = offset >> 3;
        if let Some(group) = groups.get_mut((word >> 8) as usize) {
            group[((word >> 6) & 3) as usize] |= 1 << (word & 63);
        }
    }

    /// Sets the bits of the 8-aligned, ascending offsets of `table`, a bit
    /// word at a time (about ten objects start in one).
    fn set_ascending(groups: &mut [[u64; GROUP]], table: ObjectStartTable<'_>) {
        let mut store = |index: u64, bits: u64| {
            if let Some(group) = groups.get_mut((index >> 2) as usize) {
                group[(index & 3) as usize] |= bits;
            }
        };
        let (mut index, mut bits) = (0u64, 0u64);
        for (offset, _) in table.raw() {
            let word = offset >> 3;
            if word >> 6 != index {
                store(index, bits);
                (index, bits) = (word >> 6, 0);
            }
            bits |= 1 << (word & 63);
        }
        store(index, bits);
    }

    /// Only valid when `groups` has one bit set per entry of `table`, which
    /// is 8-aligned and strictly ascending.
    fn build(table: ObjectStartTable<'a>, mut groups: Vec<[u64; GROUP]>) -> ObjectIndex<'a> {
        let mut total = 0u64;
        for group in &mut groups {
            let mut ranks = total;
            let mut within = 0u64;
            for (j, bits) in group[..4].iter().enumerate() {
                // At most 192 bits precede bit word 3 in its group.
                ranks |= within << (32 + 8 * j);
                within += u64::from(bits.count_ones());
            }
            group[4] = ranks;
            total += within;
        }
        ObjectIndex { groups, table }
    }

    fn lookup(&self) -> Lookup<'_> {
        Lookup {
            groups: &self.groups,
            entries: self.table.raw_bytes().as_chunks().0,
        }
    }

    /// The object starting exactly at `offset`.
    fn find(&self, offset: u64) -> Option<ObjectStart> {
        self.table.get(self.lookup().rank(offset)?)
    }

    /// Whether an object with the 5-bit type `type_bits` starts exactly at
    /// `offset`.
    #[inline(always)]
    fn has(&self, offset: u64, type_bits: u32) -> bool {
        self.lookup().has(offset, type_bits)
    }
}

impl Lookup<'_> {
    /// Finds nothing.
    const EMPTY: Lookup<'static> = Lookup {
        groups: &[],
        entries: &[],
    };

    /// The rank (table entry) of the object starting exactly at `offset`.
    #[inline(always)]
    fn rank(&self, offset: u64) -> Option<usize> {
        // The word number with the offset's low three bits on top: one
        // bounds check turns away misaligned offsets too.
        let word = usize::try_from(offset.rotate_right(3)).ok()?;
        let group = self.groups.get(word >> 8)?;
        let j = (word >> 6) & 3;
        let bits = group[j];
        let bit = word & 63;
        if (bits >> bit) & 1 == 0 {
            return None;
        }
        let ranks = group[4];
        let rank = (ranks & 0xffff_ffff)
            + ((ranks >> (32 + 8 * j)) & 0xff)
            + u64::from((bits & ((1u64 << bit) - 1)).count_ones());
        Some(rank as usize)
    }

    /// Whether an object with the 5-bit type `type_bits` starts exactly at
    /// `offset`: the fast path of [`ObjectIndex::find`], reading the table
    /// entry raw.
    #[inline(always)]
    fn has(&self, offset: u64, type_bits: u32) -> bool {
        match self.rank(offset).and_then(|rank| self.entries.get(rank)) {
            Some(entry) => split_packed(u32::from_le_bytes(*entry)).1 == type_bits,
            None => false,
        }
    }
}

struct Verifier<'d, 'a> {
    dump: &'d Dump<'a>,
    header: Header,
    numbering: Option<PvecNumbering>,
    header_size: u64,
    tables_start: u64,
    pvec: PvecNumbers,
    index: Option<ObjectIndex<'a>>,
    objects: ObjectCounts,
}

/// Objects of the kinds other checks count, found by the per-object pass.
#[derive(Default, Clone, Copy)]
struct ObjectCounts {
    /// Dumped (native) subr objects and native-comp unit objects.
    subr: u64,
    unit: u64,
    hash_table: u64,
}

/// Type numbers the checks need, when the numbering is known.
#[derive(Default)]
struct PvecNumbers {
    bool_vector: Option<u8>,
    bignum: Option<u8>,
    subr: Option<u8>,
    unit: Option<u8>,
    hash_table: Option<u8>,
    sub_char_table: Option<u8>,
    count: u8,
}

/// Type numbers of the object-start tags the per-object pass sizes.
const SYMBOL: u32 = LispType::Symbol as u32;
const CONS: u32 = LispType::Cons as u32;
const STRING: u32 = LispType::String as u32;
const VECTORLIKE: u32 = LispType::Vectorlike as u32;
const FLOAT: u32 = LispType::Float as u32;

/// What the relocation loop checks at a site, by relocation type: nothing,
/// a Lisp-value target, a raw heap pointer, an emacs-relative value, or (out
/// of line, they are few) a bignum or native-comp object. An enum, so that
/// a `match` on it needs no range check.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    None,
    Lv,
    PtrRaw,
    Emacs,
    Bignum,
    Native,
}
const CLASSES: usize = 6;

/// Table entries (object starts plus dump relocations) from which the
/// relocation checks run on a thread of their own.
const PARALLEL_ENTRIES: usize = 50_000;

/// Every check after `header`, not yet run.
fn fresh_checks() -> Vec<Check> {
    LATER_CHECKS
        .iter()
        .map(|(name, basis, description)| Check::new(name, *basis, description))
        .collect()
}

fn check<'c>(checks: &'c mut [Check], name: &str) -> &'c mut Check {
    &mut checks[index(checks, name)]
}

/// Position of the check called `name` (looked up once per pass, not per item).
fn index(checks: &[Check], name: &str) -> usize {
    checks
        .iter()
        .position(|c| c.name == name)
        .expect("check declared in LATER_CHECKS")
}

fn heap_tag(tag: i64) -> Option<LispType> {
    u32::try_from(tag)
        .ok()
        .and_then(LispType::from_tag)
        .filter(|t| t.is_heap_object())
}

impl<'d, 'a> Verifier<'d, 'a> {
    fn new(dump: &'d Dump<'a>, numbering: Option<PvecNumbering>) -> Self {
        let header = *dump.header();
        let pvec = match numbering {
            Some(n) => PvecNumbers {
                bool_vector: n.type_number("BOOL_VECTOR"),
                bignum: n.type_number("BIGNUM"),
                subr: n.type_number("SUBR"),
                unit: n.type_number("NATIVE_COMP_UNIT"),
                hash_table: n.type_number("HASH_TABLE"),
                sub_char_table: n.type_number("SUB_CHAR_TABLE"),
                count: n.count(),
            },
            None => PvecNumbers {
                // The largest enum of any version with this header layout.
                count: PvecNumbering::ALL
                    .iter()
                    .filter(|n| n.layout() == header.layout)
                    .map(|n| n.count())
                    .max()
                    .unwrap_or(0),
                ..PvecNumbers::default()
            },
        };
        Verifier {
            dump,
            header,
            numbering,
            header_size: header.layout.header_size(),
            tables_start: header.tables_start(),
            pvec,
            index: None,
            objects: ObjectCounts::default(),
        }
    }

    /// The checks that need every object and relocation seen first.
    fn finish(
        &mut self,
        checks: &mut [Check],
        index: Option<ObjectIndex<'a>>,
        objects: ObjectCounts,
    ) {
        self.index = index;
        self.objects = objects;
        let entries = |of: Phase| {
            self.dump
                .dump_relocs()
                .filter(|(phase, _)| *phase == of)
                .map(|(_, table)| table.len() as u64)
                .sum::<u64>()
        };
        self.native_comp_counts(checks, entries(Phase::Late), entries(Phase::VeryLate));
        self.hash_list(checks);
    }

    fn in_discardable(&self, offset: u64) -> bool {
        (self.header.discardable_start..self.header.cold_start).contains(&offset)
    }

    fn geometry(&self, checks: &mut [Check]) {
        let h = &self.header;
        let fields = h.layout.field_offsets();
        let trailing = h.trailing_bytes;
        check(checks, "tables_end_at_eof").expect(trailing == 0, h.tables_end(), || {
            format!(
                "{trailing} bytes follow the emacs_relocs table, which ends at {}",
                h.tables_end()
            )
        });

        let used_end = self
            .dump
            .discardable_copies()
            .map(|copy| copy.source.end())
            .fold(h.discardable_start, u64::max);
        let first_copy = self
            .dump
            .emacs_relocs()
            .iter()
            .filter_map(|r| match r.value {
                EmacsRelocValue::CopyFromDump { dump_offset, .. } => {
                    u64::try_from(dump_offset).ok()
                }
                _ => None,
            })
            .filter(|&source| source < h.cold_start)
            .min();
        if let Some(first) = first_copy {
            check(checks, "discardable_start").expect(
                first == h.discardable_start,
                fields.discardable_start,
                || {
                    format!(
                        "discardable_start is {}, but the first copied image starts at {first}",
                        h.discardable_start
                    )
                },
            );
        }
        let align = h.layout.cold_alignment();
        let expected = used_end.next_multiple_of(align);
        check(checks, "cold_start_rounding").expect(h.cold_start == expected, fields.cold_start, || {
            format!(
                "cold_start is {}, but the copied images end at {used_end}, which rounds up to {expected}",
                h.cold_start
            )
        });
    }

    /// Order, tags and placement of the object starts; returns the index when
    /// they allow one (its bits are set in the same pass).
    fn object_starts(&self, checks: &mut [Check]) -> Option<ObjectIndex<'a>> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.object_starts_avx2(checks) };
        }
        self.object_starts_body(checks)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn object_starts_avx2(&self, checks: &mut [Check]) -> Option<ObjectIndex<'a>> {
        self.object_starts_body(checks)
    }

    #[inline(always)]
    fn object_starts_body(&self, checks: &mut [Check]) -> Option<ObjectIndex<'a>> {
        let checked = [
            index(checks, "object_starts_order"),
            index(checks, "object_starts_tags"),
            index(checks, "object_starts_placement"),
        ];
        let table = self.dump.object_starts();
        for c in checked {
            checks[c].checked += table.len() as u64;
        }
        let heap_tags = (0..32u32)
            .filter(|&t| heap_tag(t.into()).is_some())
            .fold(0u32, |mask, t| mask | 1 << t);
        let (header_size, tables_start) = (self.header_size, self.tables_start);
        let (discardable_start, cold_start) =
            (self.header.discardable_start, self.header.cold_start);
        let mut groups = ObjectIndex::empty_groups(tables_start);
        // Fast path: a sound table needs only its bits set.
        // (A header is never empty, so a range ending at 0 is empty.)
        let hot = header_size..=discardable_start.min(tables_start).saturating_sub(1);
        let cold = cold_start.max(header_size)..=tables_start.saturating_sub(1);
        if table.all_sound([hot, cold], heap_tags) {
            ObjectIndex::set_ascending(&mut groups, table);
            return Some(ObjectIndex::build(table, groups));
        }
        let mut sorted = true;
        // Each offset must be at least one past the previous one.
        let mut floor = 0u64;
        for (i, (offset, t)) in table.raw().enumerate() {
            let ordered = offset >= floor;
            let aligned = offset & 7 == 0;
            let tagged = (heap_tags >> (t & 31)) & 1 != 0;
            let placed = (offset >= header_size)
                & ((offset < discardable_start) | (offset >= cold_start))
                & (offset < tables_start);
            if !(ordered & aligned & tagged & placed) {
                let previous = (i > 0).then(|| floor - 1);
                self.bad_object_start(checks, checked, i, (offset, t), previous);
                sorted &= ordered & aligned & (offset < tables_start);
            }
            floor = offset + 1;
            if sorted {
                ObjectIndex::set(&mut groups, offset);
            }
        }
        if sorted {
            return Some(ObjectIndex::build(table, groups));
        }
        for name in [
            "object_extents",
            "dump_lv_targets",
            "emacs_relocs_dump_lv_targets",
            "bignum_sites",
            "native_comp_sites",
            "native_comp_counts",
            "hash_list",
            "lisp_slots",
        ] {
            check(checks, name).skip("object_starts is not sorted, aligned and in place");
        }
        None
    }

    /// Reports what is wrong with one object start (rare: kept out of the
    /// loop over all of them). `checks` are the indices of order, tags and
    /// placement.
    #[cold]
    #[inline(never)]
    fn bad_object_start(
        &self,
        checks: &mut [Check],
        [order, tags, placement]: [usize; 3],
        i: usize,
        (offset, type_bits): (u64, u32),
        previous: Option<u64>,
    ) {
        let at = self.dump.object_starts().entry_offset(i);
        let ordered = previous.is_none_or(|p| p < offset);
        if !(ordered && offset.is_multiple_of(8)) {
            checks[order].fail(at, || match previous {
                Some(p) if !ordered => {
                    format!("object start #{i} at {offset} does not follow the previous one at {p}")
                }
                _ => format!("object start #{i} at {offset} is not 8-aligned"),
            });
        }
        if heap_tag(type_bits.into()).is_none() {
            checks[tags].fail(at, || {
                format!("object start #{i} at {offset} has type {type_bits}, not a heap object tag")
            });
        }
        let placed = offset >= self.header_size
            && !self.in_discardable(offset)
            && offset < self.tables_start;
        if !placed {
            checks[placement].fail(at, || {
                format!(
                    "object start #{i} at {offset} lies {}",
                    self.where_is(offset)
                )
            });
        }
    }

    /// Per-object checks in file order, in one pass: vectorlike headers,
    /// cold objects, extents and (when the object starts are sorted) the
    /// unrelocated Lisp slots of hot conses and vectorlikes.
    fn objects(&self, checks: &mut [Check], sorted: bool) -> ObjectCounts {
        let i_lisp_slots = index(checks, "lisp_slots");
        let table = self.dump.object_starts();
        let slots = (sorted && checks[i_lisp_slots].status != Status::Skipped)
            .then(|| SlotScan::new(self, &checks[i_lisp_slots]));
        let mut pass = ObjectPass {
            v: self,
            i_vectorlike_headers: index(checks, "vectorlike_headers"),
            i_cold_objects: index(checks, "cold_objects"),
            i_object_extents: index(checks, "object_extents"),
            checks,
            sorted,
            counts: ObjectCounts::default(),
            headers: 0,
            placed: 0,
            extents: 0,
        };
        let entries: &[[u8; 4]] = table.raw_bytes().as_chunks().0;
        let decode = |entry: &[u8; 4]| split_packed(u32::from_le_bytes(*entry));
        match slots {
            Some(mut scan) => {
                // Sorted: hot conses, symbols and strings that end before
                // the next object and the discardable region pass every
                // check but the slots without a second look.
                let discardable_start = self.header.discardable_start;
                let mut quick = 0u64;
                for (i, entry) in entries.iter().enumerate() {
                    let (offset, t) = decode(entry);
                    let next = entries.get(i + 1).map(|entry| decode(entry).0);
                    let limit = next.map_or(discardable_start, |n| n.min(discardable_start));
                    match t {
                        CONS if offset + 16 <= limit && offset >= scan.scanned_to => {
                            scan.cons(offset);
                        }
                        SYMBOL if offset + 48 <= limit => {}
                        STRING if offset + 32 <= limit => {}
                        _ => {
                            pass.object(i, offset, t, next, Some(&mut scan));
                            continue;
                        }
                    }
                    quick += 1;
                }
                pass.placed += quick;
                pass.extents += quick;
                pass.checks[i_lisp_slots].checked += scan.examined;
                pass.checks[i_lisp_slots].absorb(scan.check);
            }
            None => {
                for (i, entry) in entries.iter().enumerate() {
                    let (offset, t) = decode(entry);
                    let next = entries.get(i + 1).map(|entry| decode(entry).0);
                    pass.object(i, offset, t, next, None);
                }
            }
        }
        pass.checks[pass.i_vectorlike_headers].checked += pass.headers;
        pass.checks[pass.i_cold_objects].checked += pass.placed;
        pass.checks[pass.i_object_extents].checked += pass.extents;
        pass.counts
    }

    /// Reports a vectorlike header with its mark bit set or a pvec type
    /// beyond the version's, or none inside the file.
    #[cold]
    #[inline(never)]
    fn bad_vector_header(&self, c: &mut Check, i: usize, offset: u64, vh: Option<VectorHeader>) {
        c.fail(self.dump.object_starts().entry_offset(i), || match vh {
            Some(vh) if vh.is_marked() => {
                format!(
                    "vectorlike at {offset} has its GC mark bit set (header {:#x})",
                    vh.0
                )
            }
            Some(vh) => format!(
                "vectorlike at {offset} has pvec type {}, beyond the {} types of {}",
                vh.pvec_type(),
                self.pvec.count,
                self.numbering.map_or("any version", |n| n.name())
            ),
            None => format!("vectorlike at {offset} has no header word inside the file"),
        });
    }

    /// Reports an object of a type that does not belong in its region.
    #[cold]
    #[inline(never)]
    fn bad_region(&self, c: &mut Check, i: usize, offset: u64, t: u32, cold: bool) {
        c.fail(self.dump.object_starts().entry_offset(i), || {
            format!(
                "{} object at {offset} in the {} region",
                LispType::from_tag(t).map_or("?", |t| t.name()),
                if cold { "cold" } else { "hot" }
            )
        });
    }

    /// Reports an object running past the next object start (`past_next`)
    /// or the end of its region.
    #[cold]
    #[inline(never)]
    fn bad_extent(&self, c: &mut Check, i: usize, offset: u64, t: u32, size: u64, past_next: bool) {
        let end = offset.saturating_add(size);
        c.fail(self.dump.object_starts().entry_offset(i), || {
            format!(
                "{} object at {offset} of {size} bytes ends at {end}, past {}",
                LispType::from_tag(t).map_or("?", |t| t.name()),
                if past_next {
                    "the next object start"
                } else {
                    "the end of its region"
                }
            )
        });
    }

    /// Bytes occupied by a vectorlike object, from its header.
    fn vectorlike_size(&self, offset: u64, vh: VectorHeader) -> Option<u64> {
        if let Some(len) = vh.plain_len() {
            return len.checked_mul(8)?.checked_add(8);
        }
        if Some(vh.pvec_type()) == self.pvec.bool_vector {
            let bits = self.dump.word(offset + 8)?;
            return Some(16 + bits.div_ceil(64) * 8);
        }
        Some(8 + 8 * (vh.lisp_slots() + vh.rest_words()))
    }

    fn where_is(&self, offset: u64) -> String {
        let h = &self.header;
        if offset < self.header_size {
            "inside the header".into()
        } else if offset < h.discardable_start {
            "in the hot region".into()
        } else if offset < h.cold_start {
            format!(
                "in the discardable region [{}, {})",
                h.discardable_start, h.cold_start
            )
        } else if offset < self.tables_start {
            "in the cold region".into()
        } else if offset < self.dump.size() {
            format!("in the tables (which start at {})", self.tables_start)
        } else {
            format!("beyond the end of the file ({} bytes)", self.dump.size())
        }
    }

    /// The object at `offset`, if it is an object start with tag `tag`;
    /// otherwise a description of what is there.
    fn expect_object(
        &self,
        starts: &ObjectIndex<'a>,
        offset: u64,
        tag: LispType,
    ) -> Result<ObjectStart, String> {
        match starts.find(offset) {
            Some(start) if start.type_bits == tag.tag() => Ok(start),
            Some(start) => Err(format!(
                "{offset} is the start of a {} object, not a {}",
                start.lisp_type().map_or("?", |t| t.name()),
                tag.name()
            )),
            None => Err(format!(
                "{offset} is not an object start ({})",
                self.where_is(offset)
            )),
        }
    }

    /// The object at `offset` if it is a pseudovector of type `pvec`.
    fn expect_pvec(
        &self,
        starts: &ObjectIndex<'a>,
        offset: u64,
        pvec: Option<u8>,
        name: &str,
    ) -> Result<(), String> {
        self.expect_object(starts, offset, LispType::Vectorlike)?;
        let vh =
            self.dump.word(offset).map(VectorHeader).ok_or_else(|| {
                format!("the vectorlike at {offset} has no header inside the file")
            })?;
        match pvec {
            Some(t) if vh.is_pseudovector() && vh.pvec_type() == t => Ok(()),
            Some(_) => Err(format!(
                "the vectorlike at {offset} has pvec type {}, not {name}",
                vh.pvec_type()
            )),
            None => Ok(()),
        }
    }

    /// Reports what is wrong with the structure of one dump relocation
    /// (rare: kept out of the loop over all of them). `checks` are the
    /// indices of sorted, aligned, sites and kinds.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn bad_reloc(
        &self,
        checks: &mut [Check],
        [sorted, aligned, sites, kinds]: [usize; 4],
        phase: Phase,
        i: usize,
        at: u64,
        site: u64,
        previous: Option<u64>,
        (kind, kind_ok): (RelocKind, bool),
    ) {
        let name = phase.table_name();
        if previous.is_some_and(|p| p >= site) {
            checks[sorted].fail(at, || {
                format!(
                    "{name} #{i}: site {site} does not follow the previous site {}",
                    previous.unwrap_or(0)
                )
            });
        }
        if !site.is_multiple_of(8) {
            checks[aligned].fail(at, || format!("{name} #{i}: site {site} is not 8-aligned"));
        }
        if !(site >= self.header_size && site + 8 <= self.header.cold_start) {
            checks[sites].fail(at, || {
                format!("{name} #{i}: site {site} lies {}", self.where_is(site))
            });
        }
        if !kind_ok {
            checks[kinds].fail(at, || {
                format!(
                    "{name} #{i}: {} relocation at site {site} is not allowed here",
                    kind.name()
                )
            });
        }
    }

    /// Runs the shares not yet taken from `shares` (`next` counts them
    /// out) until none is left. Returns the counts of the shares that
    /// passed every check (their order does not matter) and, with its
    /// position, each share that found something.
    #[allow(clippy::type_complexity)]
    fn take_shares(
        &self,
        shares: &[Share<'a>],
        next: &AtomicUsize,
        starts: Option<&ObjectIndex<'a>>,
    ) -> (Vec<Check>, Vec<(usize, Vec<Check>)>) {
        let mut passed = fresh_checks();
        let mut found = Vec::new();
        let mut scratch = fresh_checks();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(share) = shares.get(k) else {
                return (passed, found);
            };
            self.share(&mut scratch, share, starts);
            if scratch.iter().any(|c| c.status != Status::Pass) {
                found.push((k, std::mem::replace(&mut scratch, fresh_checks())));
            } else {
                for (total, c) in passed.iter_mut().zip(&mut scratch) {
                    total.checked += std::mem::take(&mut c.checked);
                }
            }
        }
    }

    /// Runs one share.
    fn share(&self, checks: &mut [Check], share: &Share<'a>, starts: Option<&ObjectIndex<'a>>) {
        match share {
            Share::Placeholders(range) => {
                let part = &self.dump.bytes()[range.start as usize..range.end as usize];
                self.placeholders(checks, range.start, part);
            }
            Share::DumpRelocs(phase, table, range) => {
                self.dump_relocs(checks, starts, *phase, *table, range.clone())
            }
            Share::EmacsRelocs => self.emacs_relocs(checks, starts),
        }
    }

    /// Checks entries `range` of the dump relocation table of `phase`,
    /// compiled for `popcnt`, AVX2 and BMI2 where the CPU has them (the
    /// object lookup counts bits once per Lisp-value relocation).
    fn dump_relocs(
        &self,
        checks: &mut [Check],
        starts: Option<&ObjectIndex<'a>>,
        phase: Phase,
        table: DumpRelocTable<'a>,
        range: std::ops::Range<usize>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi2")
        {
            // SAFETY: the CPU has all three features, checked just above.
            return unsafe { self.dump_relocs_x86_features(checks, starts, phase, table, range) };
        }
        self.dump_relocs_body(checks, starts, phase, table, range)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt,avx2,bmi2")]
    unsafe fn dump_relocs_x86_features(
        &self,
        checks: &mut [Check],
        starts: Option<&ObjectIndex<'a>>,
        phase: Phase,
        table: DumpRelocTable<'a>,
        range: std::ops::Range<usize>,
    ) {
        self.dump_relocs_body(checks, starts, phase, table, range)
    }

    #[inline(always)]
    fn dump_relocs_body(
        &self,
        checks: &mut [Check],
        starts: Option<&ObjectIndex<'a>>,
        phase: Phase,
        table: DumpRelocTable<'a>,
        range: std::ops::Range<usize>,
    ) {
        let structure = [
            index(checks, "dump_relocs_sorted"),
            index(checks, "dump_relocs_aligned"),
            index(checks, "dump_relocs_sites"),
            index(checks, "dump_relocs_kinds"),
        ];
        let h = self.header;
        let data = self.dump.bytes();
        let (header_size, cold_start) = (self.header_size, h.cold_start);
        let heap_end = self.tables_start;
        let discardable = h.discardable_start..h.cold_start;
        // Sites examined per target check, indexed by class.
        let mut examined = [0u64; CLASSES];
        // Every entry meets the four structural checks.
        for c in structure {
            checks[c].checked += range.len() as u64;
        }
        let kinds: [RelocKind; 32] =
            std::array::from_fn(|t| RelocKind::from_type(t as u32, h.layout));
        let allowed = kinds.map(|kind| match (phase, kind) {
            (_, RelocKind::Invalid(_)) => false,
            (_, RelocKind::DumpLispValue(t) | RelocKind::EmacsLispValue(t)) => t.is_heap_object(),
            (Phase::Late, k) => k == RelocKind::NativeCompUnit,
            (Phase::VeryLate, k) => k == RelocKind::NativeSubr,
            (Phase::Early | Phase::All, k) => {
                !matches!(k, RelocKind::NativeCompUnit | RelocKind::NativeSubr)
            }
        });
        let indexed = starts.is_some();
        let class = kinds.map(|kind| match kind {
            RelocKind::DumpLispValue(_) if indexed => Class::Lv,
            RelocKind::DumpPtrRaw => Class::PtrRaw,
            RelocKind::EmacsPtrRaw | RelocKind::EmacsLispValue(_) => Class::Emacs,
            RelocKind::Bignum if indexed => Class::Bignum,
            RelocKind::NativeCompUnit | RelocKind::NativeSubr if indexed => Class::Native,
            _ => Class::None,
        });
        let lv_tag = kinds.map(|kind| match kind {
            RelocKind::DumpLispValue(t) => u32::from(t.tag()),
            _ => u32::MAX,
        });
        let mut targets = Targets {
            verifier: self,
            starts,
            phase,
            table,
            data,
            heap_end,
            discardable,
            kinds,
            class,
            lv_tag,
            examined: &mut examined,
        };
        let allowed_types = (0..32)
            .filter(|&t| allowed[t])
            .fold(0u32, |m, t| m | 1 << t);
        // The share with the entry before it, which its first must follow.
        let (_, with_previous) = table
            .split_at(range.end)
            .0
            .split_at(range.start.saturating_sub(1));
        // Not a closure: that would be compiled without this function's
        // target features.
        let sound = match cold_start.checked_sub(8) {
            Some(high) => {
                with_previous.all_sound([header_size..=high, header_size..=high], allowed_types)
            }
            None => false,
        };
        if sound {
            // Fast path: only the targets are left to check. A lean
            // loop passes the sound ones and stops at any other.
            let mut i = range.start;
            while i < range.end {
                i = targets.quick(i, range.end);
                if let Some((site, t)) = table.raw_get(i).filter(|_| i < range.end) {
                    targets.check(checks, i, site, t as usize & 31);
                }
                i += 1;
            }
        } else {
            // Each site must be at least one past the previous one.
            let mut floor = match range.start.checked_sub(1).and_then(|i| table.raw_get(i)) {
                Some((previous, _)) => previous + 1,
                None => 0,
            };
            for i in range {
                let Some((site, t)) = table.raw_get(i) else {
                    break;
                };
                let t = t as usize & 31;
                let kind_ok = allowed[t];
                let ordered = site >= floor;
                let placed = (site >= header_size) & (site + 8 <= cold_start);
                if !(ordered & site.is_multiple_of(8) & placed & kind_ok) {
                    self.bad_reloc(
                        checks,
                        structure,
                        phase,
                        i,
                        table.entry_offset(i),
                        site,
                        (i > 0).then(|| floor - 1),
                        (kinds[t], kind_ok),
                    );
                }
                floor = site + 1;
                if placed & kind_ok {
                    targets.check(checks, i, site, t);
                }
            }
        }
        for (class, name) in [
            (Class::Lv, "dump_lv_targets"),
            (Class::PtrRaw, "dump_ptr_raw_targets"),
            (Class::Emacs, "emacs_relative_values"),
            (Class::Bignum, "bignum_sites"),
            (Class::Native, "native_comp_sites"),
        ] {
            check(checks, name).checked += examined[class as usize];
        }
    }

    /// Checks the target of one dump relocation whose fast check failed or
    /// that has no fast check (bignum and native-comp sites, rare), and
    /// reports what is wrong with it.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn bad_target(
        &self,
        checks: &mut [Check],
        starts: Option<&ObjectIndex<'a>>,
        phase: Phase,
        i: usize,
        at: u64,
        site: u64,
        word: u64,
        kind: RelocKind,
    ) {
        let h = self.header;
        let heap_end = self.tables_start;
        let name = phase.table_name();
        let Some(starts) = starts else {
            return;
        };
        match kind {
            RelocKind::DumpLispValue(tag) => {
                if let Err(e) = self.expect_object(starts, word, tag) {
                    check(checks, "dump_lv_targets").fail(at, || {
                        format!("{name} #{i} ({}) at site {site}: {e}", kind.name())
                    });
                }
            }
            RelocKind::DumpPtrRaw => {
                check(checks, "dump_ptr_raw_targets").fail(at, || {
                    format!(
                        "{name} #{i} at site {site}: target {word} lies {}",
                        self.where_is(word)
                    )
                });
            }
            RelocKind::EmacsPtrRaw | RelocKind::EmacsLispValue(_) => {
                let value = word as i64;
                check(checks, "emacs_relative_values").fail(at, || {
                    format!("{name} #{i} ({}) at site {site}: emacs-relative value {value} does not fit in 32 bits", kind.name())
                });
            }
            RelocKind::Bignum => {
                let result = self.expect_pvec(starts, site, self.pvec.bignum, "BIGNUM").and_then(|()| {
                    let bytes = self.dump.bytes_at(site + 8, 8, "bignum").map_err(|e| e.to_string())?;
                    let location = i32::from_le_bytes(bytes[..4].try_into().expect("4")) as i64;
                    let limbs = i32::from_le_bytes(bytes[4..].try_into().expect("4")).unsigned_abs() as i64;
                    let end = location + 8 * limbs;
                    if location % 8 == 0 && location >= h.cold_start as i64 && end <= heap_end as i64 {
                        Ok(())
                    } else {
                        Err(format!("limbs at {location} ({limbs} limbs) are not 8-aligned inside the cold heap [{}, {heap_end})", h.cold_start))
                    }
                });
                if let Err(e) = result {
                    check(checks, "bignum_sites")
                        .fail(at, || format!("{name} #{i} at site {site}: {e}"));
                }
            }
            RelocKind::NativeCompUnit | RelocKind::NativeSubr => {
                let result = if kind == RelocKind::NativeCompUnit {
                    self.expect_pvec(starts, site, self.pvec.unit, "NATIVE_COMP_UNIT")
                } else {
                    self.expect_pvec(starts, site, self.pvec.subr, "SUBR")
                };
                if let Err(e) = result {
                    check(checks, "native_comp_sites").fail(at, || {
                        format!("{name} #{i} ({}) at site {site}: {e}", kind.name())
                    });
                }
            }
            _ => {}
        }
    }

    /// One LATE relocation per native-comp unit, one VERY_LATE per subr.
    fn native_comp_counts(&self, checks: &mut [Check], late: u64, very_late: u64) {
        let h = self.header;
        let i_native_comp_counts = index(checks, "native_comp_counts");
        if self.index.is_some() && self.numbering.is_some() && h.layout == Layout::Emacs28 {
            let c = &mut checks[i_native_comp_counts];
            let (units, subrs) = (self.objects.unit, self.objects.subr);
            c.expect(late == units, h.tables_start(), || {
                format!("{late} LATE relocations but {units} native-comp unit objects")
            });
            c.expect(very_late == subrs, h.tables_start(), || {
                format!("{very_late} VERY_LATE relocations but {subrs} dumped subr objects")
            });
        } else if self.index.is_some() {
            checks[i_native_comp_counts]
                .skip("needs the Emacs 28+ layout and a known pvec numbering");
        }
    }

    fn emacs_relocs(&self, checks: &mut [Check], starts: Option<&ObjectIndex<'a>>) {
        let i_emacs_relocs_kinds = index(checks, "emacs_relocs_kinds");
        let i_emacs_relocs_sorted = index(checks, "emacs_relocs_sorted");
        let i_emacs_relocs_offsets = index(checks, "emacs_relocs_offsets");
        let i_emacs_relocs_fields = index(checks, "emacs_relocs_fields");
        let i_emacs_relocs_dump_lv_targets = index(checks, "emacs_relocs_dump_lv_targets");
        let table = self.dump.emacs_relocs();
        let heap = self.header_size..self.tables_start;
        let mut previous: Option<i32> = None;
        for (i, reloc) in table.iter().enumerate() {
            let at = table.entry_offset(i);
            let dest = reloc.emacs_offset;
            let value = reloc.value;
            let kind = value.kind_name();
            checks[i_emacs_relocs_kinds].expect(
                !matches!(value, EmacsRelocValue::Invalid { .. }),
                at,
                || {
                    format!(
                        "emacs relocation #{i}: type {} is undefined",
                        match value {
                            EmacsRelocValue::Invalid { type_bits } => type_bits,
                            _ => 0,
                        }
                    )
                },
            );
            checks[i_emacs_relocs_sorted].expect(previous.is_none_or(|p| p <= dest), at, || {
                format!(
                    "emacs relocation #{i}: emacs_offset {dest} is below the previous one, {}",
                    previous.unwrap_or(0)
                )
            });
            previous = Some(dest);
            checks[i_emacs_relocs_offsets].expect(i64::from(dest).abs() <= MAX_EMACS_OFFSET, at, || {
                format!("emacs relocation #{i} ({kind}): emacs_offset {dest} is more than 60 MiB from emacs_basis")
            });
            let in_heap = |offset: i32, len: i64| {
                let start = i64::from(offset);
                start >= heap.start as i64 && start + len <= heap.end as i64
            };
            let problem = match value {
                EmacsRelocValue::CopyFromDump {
                    dump_offset,
                    length,
                } => {
                    if length <= 0 {
                        Some(format!("length {length} is not positive"))
                    } else if !in_heap(dump_offset, length.into()) {
                        Some(format!(
                            "source [{dump_offset}, +{length}) is not inside the heap [{}, {})",
                            heap.start, heap.end
                        ))
                    } else {
                        None
                    }
                }
                EmacsRelocValue::Immediate { length, .. } => {
                    (!(1..=8).contains(&length)).then(|| format!("length {length} is not 1..8"))
                }
                EmacsRelocValue::DumpPtrRaw { dump_offset } => {
                    if !in_heap(dump_offset, 0) {
                        Some(format!("target {dump_offset} is not inside the heap"))
                    } else {
                        None
                    }
                }
                EmacsRelocValue::DumpLispValue { tag, .. }
                | EmacsRelocValue::EmacsLispValue { tag, .. } => heap_tag(tag.into())
                    .is_none()
                    .then(|| format!("tag {tag} is not a heap object tag")),
                EmacsRelocValue::EmacsPtrRaw { .. } | EmacsRelocValue::Invalid { .. } => None,
            };
            // PTR_RAW entries leave the length field at zero.
            let raw_length = self
                .dump
                .bytes_at(at, 4, "emacs relocation")
                .map_or(0, |b| i32::from_le_bytes(b.try_into().expect("4")) >> 3);
            let problem = problem.or_else(|| match value {
                EmacsRelocValue::DumpPtrRaw { .. } | EmacsRelocValue::EmacsPtrRaw { .. }
                    if raw_length != 0 =>
                {
                    Some(format!("length field is {raw_length}, not 0"))
                }
                _ => None,
            });
            let ok = problem.is_none();
            checks[i_emacs_relocs_fields].expect(ok, at, || {
                format!(
                    "emacs relocation #{i} ({kind}) to emacs_offset {dest}: {}",
                    problem.unwrap_or_default()
                )
            });
            if let (EmacsRelocValue::DumpLispValue { dump_offset, tag }, Some(starts)) =
                (value, starts)
            {
                if let Some(tag) = heap_tag(tag.into()) {
                    let result = u64::try_from(dump_offset)
                        .map_err(|_| format!("{dump_offset} is negative"))
                        .and_then(|o| self.expect_object(starts, o, tag));
                    checks[i_emacs_relocs_dump_lv_targets].expect(result.is_ok(), at, || {
                        format!(
                            "emacs relocation #{i} (DUMP_LV {}): {}",
                            tag.name(),
                            result.unwrap_err()
                        )
                    });
                }
            }
        }
    }

    fn hash_list(&self, checks: &mut [Check]) {
        let i_hash_list = index(checks, "hash_list");
        let c = &mut checks[i_hash_list];
        if c.status == Status::Skipped {
            return;
        }
        let Some(list) = self.header.hash_list else {
            c.skip("Emacs 27 dumps have no hash list");
            return;
        };
        let Some(starts) = &self.index else {
            return;
        };
        if list == 0 {
            c.expect(self.objects.hash_table == 0, 96, || {
                format!(
                    "hash_list is 0 but the dump holds {} hash tables",
                    self.objects.hash_table
                )
            });
            return;
        }
        if let Err(e) = self.expect_object(starts, list, LispType::Vectorlike) {
            c.expect(false, 96, || format!("hash_list: {e}"));
            return;
        }
        let Some(len) = self
            .dump
            .vector_header_at(list)
            .ok()
            .and_then(|vh| vh.plain_len())
        else {
            c.expect(false, list, || {
                format!("hash_list at {list} is not a plain vector")
            });
            return;
        };
        let early = self
            .dump
            .dump_relocs()
            .next()
            .map(|(_, t)| t)
            .expect("one table at least");
        let reloc_at = |site: u64| -> Option<RelocKind> {
            let (mut low, mut high) = (0, early.len());
            while low < high {
                let mid = low + (high - low) / 2;
                let r = early.get(mid)?;
                match r.offset.cmp(&site) {
                    std::cmp::Ordering::Less => low = mid + 1,
                    std::cmp::Ordering::Greater => high = mid,
                    std::cmp::Ordering::Equal => return Some(r.kind),
                }
            }
            None
        };
        let slots_end = 8u64.saturating_mul(len).saturating_add(list + 8);
        if slots_end > self.header.discardable_start {
            c.expect(false, list, || {
                format!(
                    "hash_list vector at {list} claims {len} slots, running past the hot region"
                )
            });
            return;
        }
        for slot in 0..len {
            let site = list + 8 + 8 * slot;
            let result = match reloc_at(site) {
                Some(RelocKind::DumpLispValue(LispType::Vectorlike)) => {
                    let target = self.dump.word_at(site).unwrap_or(u64::MAX);
                    self.expect_pvec(starts, target, self.pvec.hash_table, "HASH_TABLE")
                }
                Some(other) => Err(format!(
                    "slot relocation is {}, not DUMP_TO_DUMP_LV+vectorlike",
                    other.name()
                )),
                None => Err("slot has no relocation".to_string()),
            };
            c.expect(result.is_ok(), site, || {
                format!("hash_list slot {slot} at {site}: {}", result.unwrap_err())
            });
        }
        if self.numbering.is_some() {
            c.expect(len == self.objects.hash_table, list, || {
                format!(
                    "hash_list has {len} slots but the dump holds {} hash tables",
                    self.objects.hash_table
                )
            });
        }
    }

    /// Scans the heap for placeholder words.
    /// The heap bytes the placeholder scan reads: from the first 8-aligned
    /// word after the header to the first table.
    fn placeholder_range(&self) -> Option<std::ops::Range<u64>> {
        let from = self.header_size.next_multiple_of(8);
        let len = self.tables_start.saturating_sub(from);
        self.dump.bytes_at(from, len, "heap").ok()?;
        Some(from..from + len)
    }

    /// Scans `part`, the heap bytes from the 8-aligned `from`, compiled for
    /// AVX2 where the CPU has it (twice the width of the baseline's compares).
    fn placeholders(&self, checks: &mut [Check], from: u64, part: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { Self::placeholders_avx2(checks, from, part) };
        }
        Self::placeholders_body(checks, from, part)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn placeholders_avx2(checks: &mut [Check], from: u64, part: &[u8]) {
        Self::placeholders_body(checks, from, part)
    }

    #[inline(always)]
    fn placeholders_body(checks: &mut [Check], from: u64, part: &[u8]) {
        let c = check(checks, "placeholders");
        // Only 8-aligned words count. Blocks of 64 words are tested for the
        // word's low half in a vectorized pass of 32-bit compares; a block
        // with a hit is looked at word by word.
        let low_half = PLACEHOLDER_WORD as u32;
        for (b, block) in part.chunks(512).enumerate() {
            let halves = block
                .chunks_exact(4)
                .map(|w| u32::from_le_bytes(w.try_into().expect("4")));
            if halves.map(|half| u32::from(half == low_half)).sum::<u32>() == 0 {
                continue;
            }
            let words = block
                .chunks_exact(8)
                .map(|w| u64::from_le_bytes(w.try_into().expect("8")));
            for (k, word) in words.enumerate() {
                if word == PLACEHOLDER_WORD {
                    let at = from + 512 * b as u64 + 8 * k as u64;
                    c.fail(at, || {
                        format!("placeholder word 0xDEADF00D at {at} was never patched")
                    });
                }
            }
        }
        c.checked += part.len() as u64 / 8;
    }
}

/// The Lisp-slot check of the per-object pass: every Lisp slot of a hot
/// cons or vectorlike either has an EARLY relocation or holds a fixnum or a
/// built-in symbol. Objects come in ascending order, so a cursor walks the
/// (ascending) EARLY table alongside; the other phases relocate only
/// native-comp objects.
struct SlotScan<'a> {
    data: &'a [u8],
    /// The site of the cursor's entry in the EARLY table (`u64::MAX` past
    /// the end) and the entries after it.
    next_site: u64,
    rest: &'a [[u8; 4]],
    discardable_start: u64,
    /// Built-in symbols are self-representing: index × 48, below the size of
    /// their images in the discardable region.
    symbol_limit: u64,
    sub_char_table: Option<u8>,
    examined: u64,
    /// What the scan found, added to `lisp_slots` at the end.
    check: Check,
    /// End of the words already checked as slots: a header claiming a huge
    /// size cannot make later objects check the same words again.
    scanned_to: u64,
}

impl<'a> SlotScan<'a> {
    fn new(v: &Verifier<'_, 'a>, lisp_slots: &Check) -> SlotScan<'a> {
        let h = v.header;
        let early = v
            .dump
            .dump_relocs()
            .next()
            .map(|(_, t)| t)
            .expect("one table at least");
        let mut rest = early.raw_bytes().as_chunks().0;
        SlotScan {
            data: v.dump.bytes(),
            next_site: next_site(&mut rest),
            rest,
            discardable_start: h.discardable_start,
            symbol_limit: h.cold_start - h.discardable_start,
            sub_char_table: v.pvec.sub_char_table,
            examined: 0,
            check: Check::new(lisp_slots.name, lisp_slots.basis, lisp_slots.description),
            scanned_to: 0,
        }
    }

    /// Moves the cursor to the first relocation at or after `site`.
    #[inline(always)]
    fn advance_to(&mut self, site: u64) {
        let (mut next, mut rest) = (self.next_site, self.rest);
        while next < site {
            next = next_site(&mut rest);
        }
        (self.next_site, self.rest) = (next, rest);
    }

    /// A fixnum, or a built-in symbol.
    #[inline(always)]
    fn plain(&self, word: u64) -> bool {
        (word & 3 == 2) | ((word & 7 == 0) & (word < self.symbol_limit))
    }

    /// Checks the two slots of the hot cons at `offset`, which ends before
    /// the discardable region and starts at or after `scanned_to`.
    #[inline(always)]
    fn cons(&mut self, offset: u64) {
        let end = offset + 16;
        self.examined += 2;
        self.scanned_to = end;
        let Some(bytes) = self.data.get(offset as usize..end as usize) else {
            return;
        };
        for (k, w) in bytes.chunks_exact(8).enumerate() {
            let site = offset + 8 * k as u64;
            self.advance_to(site);
            let word = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            if self.next_site != site && !self.plain(word) {
                bad_slot(&mut self.check, LispType::Cons, offset, site, word);
            }
        }
    }

    /// Checks the Lisp slots of the hot vectorlike at `offset`.
    #[inline]
    fn vector(&mut self, offset: u64, vh: VectorHeader) {
        // (first, end) slot numbers, counting the header word as slot 0.
        let (first, end) = match vh.plain_len() {
            Some(len) => (1, len.saturating_add(1)),
            None => match self.sub_char_table {
                // A sub-char-table's first slot packs two ints.
                Some(t) if vh.pvec_type() == t => (2, 1 + vh.lisp_slots()),
                Some(_) => (1, 1 + vh.lisp_slots()),
                None => return,
            },
        };
        self.slots(LispType::Vectorlike, offset, first, end);
    }

    /// Checks slots `first..end` of the object at `offset` (below
    /// `discardable_start`), counting its header word as slot 0.
    fn slots(&mut self, tag: LispType, offset: u64, first: u64, end: u64) {
        // Only whole slots before the discardable region.
        let end = end.min((self.discardable_start - offset) / 8);
        let first = first.max(self.scanned_to.saturating_sub(offset).div_ceil(8));
        if first >= end {
            return;
        }
        self.examined += end - first;
        self.scanned_to = offset + 8 * end;
        let (start, stop) = (offset + 8 * first, offset + 8 * end);
        let Some(bytes) = self.data.get(start as usize..stop as usize) else {
            return;
        };
        // Runs of slots below the cursor's next relocation site are not
        // relocated: check them in a tight loop, then step over the
        // relocated slot. The cursor stays in registers meanwhile.
        let (mut next, mut rest) = (self.next_site, self.rest);
        let mut site = start;
        while site < stop {
            while next < site {
                next = next_site(&mut rest);
            }
            if next == site {
                site += 8;
                continue;
            }
            let run_end = (next.min(stop) - start).div_ceil(8) * 8;
            let run = &bytes[(site - start) as usize..run_end as usize];
            for (j, w) in run.chunks_exact(8).enumerate() {
                let word = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                if !self.plain(word) {
                    bad_slot(&mut self.check, tag, offset, site + 8 * j as u64, word);
                }
            }
            site = start + run_end;
        }
        (self.next_site, self.rest) = (next, rest);
    }
}

/// The site of the first of `rest`'s packed relocations (`u64::MAX` when
/// there is none), which it drops.
#[inline(always)]
fn next_site(rest: &mut &[[u8; 4]]) -> u64 {
    match rest.split_first() {
        Some((entry, tail)) => {
            *rest = tail;
            split_packed(u32::from_le_bytes(*entry)).0
        }
        None => u64::MAX,
    }
}

#[cold]
#[inline(never)]
fn bad_slot(c: &mut Check, tag: LispType, offset: u64, site: u64, word: u64) {
    c.fail(site, || {
        format!("{} at {offset}: slot word {word:#x} at {site} is neither relocated nor a fixnum or built-in symbol", tag.name())
    });
}

/// The target checks of one dump relocation table, by type: what the fast
/// and the thorough loop over the table share.
struct Targets<'v, 'd, 'a> {
    verifier: &'v Verifier<'d, 'a>,
    starts: Option<&'v ObjectIndex<'a>>,
    phase: Phase,
    table: crate::tables::DumpRelocTable<'a>,
    data: &'a [u8],
    heap_end: u64,
    discardable: std::ops::Range<u64>,
    kinds: [RelocKind; 32],
    class: [Class; 32],
    lv_tag: [u32; 32],
    /// Sites examined per target check, indexed by class.
    examined: &'v mut [u64; CLASSES],
}

impl Targets<'_, '_, '_> {
    /// Checks the target of entry `i` at `site`, of type `t`, whose site
    /// and type are sound.
    #[inline(always)]
    fn check(&mut self, checks: &mut [Check], i: usize, site: u64, t: usize) {
        // A sound site keeps the word inside the file.
        let word = self
            .data
            .get(site as usize..site as usize + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        let class = self.class[t];
        self.examined[class as usize] += 1;
        let ok = match class {
            // No closure here: it would be compiled without `popcnt`.
            Class::Lv => match self.starts {
                Some(starts) => starts.has(word, self.lv_tag[t]),
                None => false,
            },
            Class::PtrRaw => word > 0 && word < self.heap_end && !self.discardable.contains(&word),
            Class::Emacs => i32::try_from(word as i64).is_ok(),
            Class::Native => self.native_ok(site, t),
            Class::None => true,
            Class::Bignum => false,
        };
        if !ok {
            self.bad(checks, i, site, word, t);
        }
    }

    /// Whether the site of a NATIVE_COMP_UNIT or NATIVE_SUBR relocation of
    /// type `t` is a native-comp unit or subr object: what
    /// [`Verifier::expect_pvec`] accepts, without building its message
    /// (every VERY_LATE relocation is one of them).
    #[inline]
    fn native_ok(&self, site: u64, t: usize) -> bool {
        let pvec = &self.verifier.pvec;
        let want = match self.kinds[t] {
            RelocKind::NativeCompUnit => pvec.unit,
            _ => pvec.subr,
        };
        let Some(starts) = self.starts else {
            return false;
        };
        if !starts.has(site, VECTORLIKE) {
            return false;
        }
        match self.verifier.dump.word(site).map(VectorHeader) {
            Some(vh) => want.is_none_or(|t| vh.is_pseudovector() && vh.pvec_type() == t),
            None => false,
        }
    }

    /// Checks the targets of entries `from..end` of a structurally sound
    /// table up to the first that is not a passing Lisp value, raw pointer
    /// or emacs-relative value; returns its position (`end`
    /// when there is none). Few live values keep the loop in registers.
    #[inline(always)]
    fn quick(&mut self, from: usize, end: usize) -> usize {
        let entries = self.table.raw_bytes();
        let Some(rest) = entries.get(4 * from..4 * end) else {
            return from;
        };
        let (data, class, lv_tag) = (self.data, &self.class, &self.lv_tag);
        let (heap_end, discardable) = (self.heap_end, self.discardable.clone());
        // Without an index no type is of the Lisp-value class: an empty
        // lookup keeps the test of the option out of the loop.
        let starts = self.starts.map_or(Lookup::EMPTY, ObjectIndex::lookup);
        let mut counts = [0u64; CLASSES];
        let mut stop = from + rest.len() / 4;
        for (k, entry) in rest.chunks_exact(4).enumerate() {
            let (site, t) = split_packed(u32::from_le_bytes(entry.try_into().expect("4 bytes")));
            let t = t as usize & 31;
            let Some(word) = data.get(site as usize..site as usize + 8) else {
                stop = from + k;
                break;
            };
            let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            let c = class[t];
            let ok = match c {
                Class::Lv => starts.has(word, lv_tag[t]),
                Class::PtrRaw => word > 0 && word < heap_end && !discardable.contains(&word),
                Class::Emacs => i32::try_from(word as i64).is_ok(),
                Class::None => true,
                Class::Native => self.native_ok(site, t),
                Class::Bignum => false,
            };
            if !ok {
                stop = from + k;
                break;
            }
            counts[c as usize] += 1;
        }
        for (class, n) in counts.into_iter().enumerate() {
            self.examined[class] += n;
        }
        stop
    }

    /// Reports the target of entry `i`, which failed its fast check or has
    /// none.
    #[cold]
    #[inline(never)]
    fn bad(&self, checks: &mut [Check], i: usize, site: u64, word: u64, t: usize) {
        let at = self.table.entry_offset(i);
        let kind = self.kinds[t];
        self.verifier
            .bad_target(checks, self.starts, self.phase, i, at, site, word, kind);
    }
}

/// The per-object pass of [`Verifier::objects`]: what it counts, and the
/// thorough checks of one object.
struct ObjectPass<'p, 'd, 'a> {
    v: &'p Verifier<'d, 'a>,
    checks: &'p mut [Check],
    i_vectorlike_headers: usize,
    i_cold_objects: usize,
    i_object_extents: usize,
    sorted: bool,
    counts: ObjectCounts,
    headers: u64,
    placed: u64,
    extents: u64,
}

impl<'a> ObjectPass<'_, '_, 'a> {
    /// Checks the object entry `i` at `offset` of type `t`, followed by an
    /// object start at `next`.
    #[inline(never)]
    fn object(
        &mut self,
        i: usize,
        offset: u64,
        t: u32,
        next: Option<u64>,
        slots: Option<&mut SlotScan<'a>>,
    ) {
        let v = self.v;
        let h = v.header;
        let cold = offset >= h.cold_start;
        let mut vector_header = None;
        // The size when the header or the type gives one, and whether the
        // type may lie in this region.
        let (size, allowed) = match t {
            SYMBOL => (Some(48), !cold),
            CONS => (Some(16), !cold),
            STRING => (Some(32), !cold),
            FLOAT => (Some(8), cold),
            VECTORLIKE => {
                self.headers += 1;
                let bool_vector = v.pvec.bool_vector;
                let c = &mut self.checks[self.i_vectorlike_headers];
                match v.dump.word(offset).map(VectorHeader) {
                    Some(vh) => {
                        let pvec = vh.pvec_type();
                        if vh.is_marked() || pvec >= v.pvec.count {
                            v.bad_vector_header(c, i, offset, Some(vh));
                        }
                        if vh.is_pseudovector() {
                            self.counts.subr += u64::from(Some(pvec) == v.pvec.subr);
                            self.counts.unit += u64::from(Some(pvec) == v.pvec.unit);
                            self.counts.hash_table += u64::from(Some(pvec) == v.pvec.hash_table);
                        }
                        vector_header = Some(vh);
                        let allowed = !cold || bool_vector.is_none_or(|b| b == pvec);
                        (v.vectorlike_size(offset, vh), allowed)
                    }
                    None => {
                        v.bad_vector_header(c, i, offset, None);
                        (None, !cold || bool_vector.is_none())
                    }
                }
            }
            // Not a heap tag: object_starts_tags reports it.
            _ if t < 8 => (None, !cold),
            _ => return,
        };
        self.placed += 1;
        if !allowed {
            v.bad_region(&mut self.checks[self.i_cold_objects], i, offset, t, cold);
        }
        if !self.sorted {
            return;
        }
        let region_end = if cold {
            v.tables_start
        } else {
            h.discardable_start
        };
        let limit = next.map_or(region_end, |n| n.min(region_end));
        let c = &mut self.checks[self.i_object_extents];
        match size {
            Some(size) => {
                self.extents += 1;
                if offset.saturating_add(size) > limit {
                    let past_next = next.is_some_and(|n| n <= region_end);
                    v.bad_extent(c, i, offset, t, size, past_next);
                }
            }
            None if t == VECTORLIKE => {
                self.extents += 1;
                c.fail(v.dump.object_starts().entry_offset(i), || {
                    format!("vectorlike at {offset}: size cannot be computed from its header")
                });
            }
            None => {}
        }
        if let Some(scan) = slots.filter(|_| offset < h.discardable_start) {
            match (t, vector_header) {
                (CONS, _) => scan.slots(LispType::Cons, offset, 0, 2),
                (VECTORLIKE, Some(vh)) => scan.vector(offset, vh),
                _ => {}
            }
        }
    }
}
