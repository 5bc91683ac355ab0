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
use crate::pvec::PvecNumbering;
use crate::tables::{EmacsRelocValue, ObjectStart, ObjectStartTable, RelocKind};

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

/// Runs every check on a dump whose header parsed.
pub fn verify(dump: &Dump<'_>) -> Verification {
    let numbering = dump.pvec_numbering().numbering;
    let mut v = Verifier::new(dump, numbering);
    let mut header = Check::new("header", Basis::Writer, HEADER_DESCRIPTION);
    header.tick();
    let mut checks = vec![header];
    checks.extend(v.run());
    Verification {
        layout: Some(dump.header().layout),
        pvec_numbering: numbering,
        checks,
    }
}

/// One bit per 8-byte word below the first table saying "an object starts
/// here", with ranks mapping a set bit to its entry in the (sorted)
/// object-starts table: 16 bits per 64 words (set bits before the word in
/// its block of [`RANK_BLOCK`] words) plus 32 bits per block.
struct ObjectIndex<'a> {
    bits: Vec<u64>,
    word_rank: Vec<u16>,
    block_rank: Vec<u32>,
    table: ObjectStartTable<'a>,
}

/// Bit words per rank block: at most 64 * 1023 bits precede a word inside
/// its block, which fits a u16.
const RANK_BLOCK: usize = 1024;

impl<'a> ObjectIndex<'a> {
    /// Bit words covering `limit` bytes, all clear.
    fn empty_bits(limit: u64) -> Vec<u64> {
        vec![0u64; (limit.div_ceil(8) as usize).div_ceil(64)]
    }

    /// Only valid when `bits` has one bit set per entry of `table`, which is
    /// 8-aligned and strictly ascending.
    fn build(table: ObjectStartTable<'a>, bits: Vec<u64>) -> ObjectIndex<'a> {
        let mut word_rank = Vec::with_capacity(bits.len());
        let mut block_rank = Vec::with_capacity(bits.len().div_ceil(RANK_BLOCK));
        let mut total = 0u32;
        for block in bits.chunks(RANK_BLOCK) {
            block_rank.push(total);
            let mut within = 0u32;
            for word in block {
                word_rank.push(within as u16);
                within += word.count_ones();
            }
            total += within;
        }
        ObjectIndex {
            bits,
            word_rank,
            block_rank,
            table,
        }
    }

    /// The object starting exactly at `offset`.
    #[inline]
    fn find(&self, offset: u64) -> Option<ObjectStart> {
        if !offset.is_multiple_of(8) {
            return None;
        }
        let word = usize::try_from(offset / 8).ok()?;
        let (index, bit) = (word / 64, word % 64);
        let bits = *self.bits.get(index)?;
        if (bits >> bit) & 1 == 0 {
            return None;
        }
        let rank = self.block_rank[index / RANK_BLOCK]
            + u32::from(self.word_rank[index])
            + (bits & ((1u64 << bit) - 1)).count_ones();
        self.table.get(rank as usize)
    }

    /// Whether an object with the 5-bit type `type_bits` starts exactly at
    /// `offset`: the fast path of [`Self::find`], reading the table entry raw.
    #[inline(always)]
    fn has(&self, offset: u64, type_bits: u32) -> bool {
        let Ok(word) = usize::try_from(offset >> 3) else {
            return false;
        };
        let (index, bit) = (word / 64, word % 64);
        let Some(&bits) = self.bits.get(index) else {
            return false;
        };
        if offset & 7 != 0 || (bits >> bit) & 1 == 0 {
            return false;
        }
        let rank = self.block_rank[index / RANK_BLOCK]
            + u32::from(self.word_rank[index])
            + (bits & ((1u64 << bit) - 1)).count_ones();
        self.table
            .raw_get(rank as usize)
            .is_some_and(|(_, t)| t == type_bits)
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

/// What the relocation loop checks at a site, by relocation type: nothing,
/// a Lisp-value target, a raw heap pointer, an emacs-relative value, or (out
/// of line, they are few) a bignum or native-comp object.
const CLASS_NONE: u8 = 0;
const CLASS_LV: u8 = 1;
const CLASS_PTR_RAW: u8 = 2;
const CLASS_EMACS: u8 = 3;
const CLASS_BIGNUM: u8 = 4;
const CLASS_NATIVE: u8 = 5;
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

    fn run(&mut self) -> Vec<Check> {
        let mut checks = fresh_checks();
        self.geometry(&mut checks);
        let sorted = self.object_starts(&mut checks);
        // Two independent halves of similar cost: the relocation tables with
        // the placeholder scan, and the objects with their Lisp slots. A
        // second thread pays only on big dumps.
        let entries = self.dump.object_starts().len()
            + self.dump.dump_relocs().map(|(_, t)| t.len()).sum::<usize>();
        let this = &*self;
        let (objects, (late, very_late)) = if entries >= PARALLEL_ENTRIES {
            std::thread::scope(|scope| {
                let relocs = scope.spawn(|| {
                    let mut mine = fresh_checks();
                    let phases = this.dump_relocs(&mut mine);
                    this.emacs_relocs(&mut mine);
                    this.placeholders(&mut mine);
                    (mine, phases)
                });
                let objects = this.objects(&mut checks, sorted);
                let (theirs, phases) = relocs.join().expect("relocation checks do not panic");
                for (check, other) in checks.iter_mut().zip(theirs) {
                    check.absorb(other);
                }
                (objects, phases)
            })
        } else {
            let objects = this.objects(&mut checks, sorted);
            this.placeholders(&mut checks);
            let phases = this.dump_relocs(&mut checks);
            this.emacs_relocs(&mut checks);
            (objects, phases)
        };
        self.objects = objects;
        self.native_comp_counts(&mut checks, late, very_late);
        self.hash_list(&mut checks);
        checks
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

    /// Order, tags and placement of the object starts; builds the index when
    /// they allow it (its bits are set in the same pass). Returns whether
    /// they do.
    fn object_starts(&mut self, checks: &mut [Check]) -> bool {
        let checked = [
            index(checks, "object_starts_order"),
            index(checks, "object_starts_tags"),
            index(checks, "object_starts_placement"),
        ];
        let table = self.dump.object_starts();
        for c in checked {
            checks[c].checked += table.len() as u64;
        }
        let heap_tag: [bool; 32] = std::array::from_fn(|t| heap_tag(t as i64).is_some());
        let (header_size, tables_start) = (self.header_size, self.tables_start);
        let discardable = self.header.discardable_start..self.header.cold_start;
        let mut bits = ObjectIndex::empty_bits(tables_start);
        let mut sorted = true;
        let mut previous: Option<u64> = None;
        for (i, (offset, t)) in table.raw().enumerate() {
            let ordered = previous.is_none_or(|p| p < offset);
            let aligned = offset.is_multiple_of(8);
            let tagged = heap_tag[t as usize & 31];
            let placed =
                (offset >= header_size) & !discardable.contains(&offset) & (offset < tables_start);
            if !(ordered & aligned & tagged & placed) {
                self.bad_object_start(checks, checked, i, (offset, t), previous);
            }
            sorted &= ordered & aligned & (offset < tables_start);
            if sorted {
                let word = (offset / 8) as usize;
                bits[word / 64] |= 1 << (word % 64);
            }
            previous = Some(offset);
        }
        if sorted {
            self.index = Some(ObjectIndex::build(table, bits));
        } else {
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
        }
        sorted
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
        let i_vectorlike_headers = index(checks, "vectorlike_headers");
        let i_cold_objects = index(checks, "cold_objects");
        let i_object_extents = index(checks, "object_extents");
        let i_lisp_slots = index(checks, "lisp_slots");
        let table = self.dump.object_starts();
        let h = self.header;
        let mut counts = ObjectCounts::default();
        let (mut headers, mut placed, mut extents) = (0u64, 0u64, 0u64);
        let mut slots =
            (sorted && checks[i_lisp_slots].status != Status::Skipped).then(|| SlotScan::new(self));
        let mut entries = table.raw().enumerate().peekable();
        while let Some((i, (offset, t))) = entries.next() {
            let next = entries.peek().map(|&(_, (o, _))| o);
            let Some(tag) = LispType::from_tag(t) else {
                continue;
            };
            let cold = offset >= h.cold_start;
            let mut size = match tag {
                LispType::Cons => Some(16),
                LispType::String => Some(32),
                LispType::Symbol => Some(48),
                LispType::Float => Some(8),
                _ => None,
            };
            let mut pvec_type = None;
            let mut vector_header = None;
            if tag == LispType::Vectorlike {
                headers += 1;
                match self.dump.word(offset).map(VectorHeader) {
                    Some(vh) => {
                        let t = vh.pvec_type();
                        pvec_type = Some(t);
                        vector_header = Some(vh);
                        if vh.is_marked() || t >= self.pvec.count {
                            checks[i_vectorlike_headers].fail(table.entry_offset(i), || {
                                if vh.is_marked() {
                                    format!("vectorlike at {offset} has its GC mark bit set (header {:#x})", vh.0)
                                } else {
                                    format!("vectorlike at {offset} has pvec type {t}, beyond the {} types of {}", self.pvec.count, self.numbering.map_or("any version", |n| n.name()))
                                }
                            });
                        }
                        size = self.vectorlike_size(offset, vh);
                        if vh.is_pseudovector() {
                            counts.subr += u64::from(Some(t) == self.pvec.subr);
                            counts.unit += u64::from(Some(t) == self.pvec.unit);
                            counts.hash_table += u64::from(Some(t) == self.pvec.hash_table);
                        }
                    }
                    None => checks[i_vectorlike_headers].fail(table.entry_offset(i), || {
                        format!("vectorlike at {offset} has no header word inside the file")
                    }),
                }
            }
            placed += 1;
            let allowed = match (cold, tag) {
                (true, LispType::Float) => true,
                (true, LispType::Vectorlike) => {
                    self.pvec.bool_vector.is_none() || pvec_type == self.pvec.bool_vector
                }
                (true, _) => false,
                (false, LispType::Float) => false,
                (false, _) => true,
            };
            if !allowed {
                checks[i_cold_objects].fail(table.entry_offset(i), || {
                    format!(
                        "{} object at {offset} in the {} region",
                        tag.name(),
                        if cold { "cold" } else { "hot" }
                    )
                });
            }
            if !sorted {
                continue;
            }
            let region_end = if cold {
                self.tables_start
            } else {
                h.discardable_start
            };
            let limit = next.map_or(region_end, |n| n.min(region_end));
            match size {
                Some(size) => {
                    extents += 1;
                    let end = offset.saturating_add(size);
                    if end > limit {
                        checks[i_object_extents].fail(table.entry_offset(i), || {
                            format!(
                                "{} object at {offset} of {size} bytes ends at {end}, past {}",
                                tag.name(),
                                if next.is_some_and(|n| n <= region_end) {
                                    "the next object start"
                                } else {
                                    "the end of its region"
                                }
                            )
                        });
                    }
                }
                None if tag == LispType::Vectorlike => {
                    checks[i_object_extents].expect(false, table.entry_offset(i), || {
                        format!("vectorlike at {offset}: size cannot be computed from its header")
                    })
                }
                None => {}
            }
            if let Some(scan) = slots.as_mut().filter(|_| offset < h.discardable_start) {
                scan.object(&mut checks[i_lisp_slots], offset, tag, vector_header);
            }
        }
        checks[i_vectorlike_headers].checked += headers;
        checks[i_cold_objects].checked += placed;
        checks[i_object_extents].checked += extents;
        if let Some(scan) = slots {
            checks[i_lisp_slots].checked += scan.examined;
        }
        counts
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
    fn expect_object(&self, offset: u64, tag: LispType) -> Result<ObjectStart, String> {
        let index = self.index.as_ref().expect("only called with a sound index");
        match index.find(offset) {
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
    fn expect_pvec(&self, offset: u64, pvec: Option<u8>, name: &str) -> Result<(), String> {
        self.expect_object(offset, LispType::Vectorlike)?;
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

    /// Checks every dump relocation; returns how many LATE and VERY_LATE
    /// relocations there are. With a `popcnt` instruction where the CPU has
    /// one (the object lookup counts bits once per Lisp-value relocation).
    fn dump_relocs(&self, checks: &mut [Check]) -> (u64, u64) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports popcnt, checked just above.
            return unsafe { self.dump_relocs_popcnt(checks) };
        }
        self.dump_relocs_body(checks)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    unsafe fn dump_relocs_popcnt(&self, checks: &mut [Check]) -> (u64, u64) {
        self.dump_relocs_body(checks)
    }

    #[inline(always)]
    fn dump_relocs_body(&self, checks: &mut [Check]) -> (u64, u64) {
        let i_dump_relocs_sorted = index(checks, "dump_relocs_sorted");
        let i_dump_relocs_aligned = index(checks, "dump_relocs_aligned");
        let i_dump_relocs_sites = index(checks, "dump_relocs_sites");
        let i_dump_relocs_kinds = index(checks, "dump_relocs_kinds");
        let h = self.header;
        let data = self.dump.bytes();
        let mut late = 0u64;
        let mut very_late = 0u64;
        let structure = [
            i_dump_relocs_sorted,
            i_dump_relocs_aligned,
            i_dump_relocs_sites,
            i_dump_relocs_kinds,
        ];
        // Sites examined per target check, indexed by class.
        let mut examined = [0u64; CLASSES];
        for (phase, table) in self.dump.dump_relocs() {
            // Every entry meets the four structural checks.
            for c in structure {
                checks[c].checked += table.len() as u64;
            }
            match phase {
                Phase::Late => late += table.len() as u64,
                Phase::VeryLate => very_late += table.len() as u64,
                _ => {}
            }
            let kinds: [RelocKind; 32] =
                std::array::from_fn(|t| RelocKind::from_type(t as u32, h.layout));
            let allowed = kinds.map(|kind| match (phase, kind) {
                (_, RelocKind::Invalid(_)) => false,
                (_, RelocKind::DumpLispValue(t) | RelocKind::EmacsLispValue(t)) => {
                    t.is_heap_object()
                }
                (Phase::Late, k) => k == RelocKind::NativeCompUnit,
                (Phase::VeryLate, k) => k == RelocKind::NativeSubr,
                (Phase::Early | Phase::All, k) => {
                    !matches!(k, RelocKind::NativeCompUnit | RelocKind::NativeSubr)
                }
            });
            let indexed = self.index.is_some();
            let class = kinds.map(|kind| match kind {
                RelocKind::DumpLispValue(_) if indexed => CLASS_LV,
                RelocKind::DumpPtrRaw => CLASS_PTR_RAW,
                RelocKind::EmacsPtrRaw | RelocKind::EmacsLispValue(_) => CLASS_EMACS,
                RelocKind::Bignum if indexed => CLASS_BIGNUM,
                RelocKind::NativeCompUnit | RelocKind::NativeSubr if indexed => CLASS_NATIVE,
                _ => CLASS_NONE,
            });
            let lv_tag = kinds.map(|kind| match kind {
                RelocKind::DumpLispValue(t) => u32::from(t.tag()),
                _ => u32::MAX,
            });
            let (header_size, cold_start) = (self.header_size, h.cold_start);
            let heap_end = self.tables_start;
            let discardable = h.discardable_start..h.cold_start;
            let index = self.index.as_ref();
            // Each site must be at least one past the previous one.
            let mut floor = 0u64;
            for (i, (site, t)) in table.raw().enumerate() {
                let t = t as usize & 31;
                let kind_ok = allowed[t];
                let ordered = site >= floor;
                let placed = (site >= header_size) & (site + 8 <= cold_start);
                let at = || table.entry_offset(i);
                if !(ordered & site.is_multiple_of(8) & placed & kind_ok) {
                    self.bad_reloc(
                        checks,
                        structure,
                        phase,
                        i,
                        at(),
                        site,
                        (i > 0).then(|| floor - 1),
                        (kinds[t], kind_ok),
                    );
                }
                floor = site + 1;
                if !(placed & kind_ok) {
                    continue;
                }
                // `placed` keeps the word inside the file.
                let word = data
                    .get(site as usize..site as usize + 8)
                    .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
                let class = class[t];
                examined[class as usize] += 1;
                let ok = match class {
                    CLASS_LV => index.is_some_and(|ix| ix.has(word, lv_tag[t])),
                    CLASS_PTR_RAW => word > 0 && word < heap_end && !discardable.contains(&word),
                    CLASS_EMACS => i32::try_from(word as i64).is_ok(),
                    _ => class == CLASS_NONE,
                };
                if !ok {
                    self.bad_target(checks, phase, i, at(), site, word, kinds[t]);
                }
            }
        }
        for (class, name) in [
            (CLASS_LV, "dump_lv_targets"),
            (CLASS_PTR_RAW, "dump_ptr_raw_targets"),
            (CLASS_EMACS, "emacs_relative_values"),
            (CLASS_BIGNUM, "bignum_sites"),
            (CLASS_NATIVE, "native_comp_sites"),
        ] {
            check(checks, name).checked += examined[class as usize];
        }
        (late, very_late)
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
        match kind {
            RelocKind::DumpLispValue(tag) => {
                if let Err(e) = self.expect_object(word, tag) {
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
                let result = self.expect_pvec(site, self.pvec.bignum, "BIGNUM").and_then(|()| {
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
                    self.expect_pvec(site, self.pvec.unit, "NATIVE_COMP_UNIT")
                } else {
                    self.expect_pvec(site, self.pvec.subr, "SUBR")
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

    fn emacs_relocs(&self, checks: &mut [Check]) {
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
            if let (EmacsRelocValue::DumpLispValue { dump_offset, tag }, Some(_)) =
                (value, &self.index)
            {
                if let Some(tag) = heap_tag(tag.into()) {
                    let result = u64::try_from(dump_offset)
                        .map_err(|_| format!("{dump_offset} is negative"))
                        .and_then(|o| self.expect_object(o, tag));
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
        if list == 0 {
            c.expect(self.objects.hash_table == 0, 96, || {
                format!(
                    "hash_list is 0 but the dump holds {} hash tables",
                    self.objects.hash_table
                )
            });
            return;
        }
        if let Err(e) = self.expect_object(list, LispType::Vectorlike) {
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
                    self.expect_pvec(target, self.pvec.hash_table, "HASH_TABLE")
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

    fn placeholders(&self, checks: &mut [Check]) {
        let i_placeholders = index(checks, "placeholders");
        let c = &mut checks[i_placeholders];
        let start = self.header_size.next_multiple_of(8);
        let Ok(heap) = self
            .dump
            .bytes_at(start, self.tables_start.saturating_sub(start), "heap")
        else {
            return;
        };
        // A vectorized search for the word's bytes; only 8-aligned hits count
        // (the needle overlaps no shifted copy of itself, so none is hidden).
        let needle = PLACEHOLDER_WORD.to_le_bytes();
        for found in memchr::memmem::find_iter(heap, &needle) {
            if found % 8 == 0 {
                let at = start + found as u64;
                c.fail(at, || {
                    format!("placeholder word 0xDEADF00D at {at} was never patched")
                });
            }
        }
        c.checked = heap.len() as u64 / 8;
    }
}

/// The Lisp-slot check of the per-object pass: every Lisp slot of a hot
/// cons or vectorlike either has an EARLY relocation or holds a fixnum or a
/// built-in symbol. Objects come in ascending order, so a cursor walks the
/// (ascending) EARLY table alongside; the other phases relocate only
/// native-comp objects.
struct SlotScan<'a> {
    data: &'a [u8],
    early: crate::tables::DumpRelocTable<'a>,
    /// Position of the cursor in `early` and the site there (`u64::MAX` past
    /// the end).
    cursor: usize,
    next_site: u64,
    discardable_start: u64,
    /// Built-in symbols are self-representing: index × 48, below the size of
    /// their images in the discardable region.
    symbol_limit: u64,
    sub_char_table: Option<u8>,
    examined: u64,
    /// End of the words already checked as slots: a header claiming a huge
    /// size cannot make later objects check the same words again.
    scanned_to: u64,
}

impl<'a> SlotScan<'a> {
    fn new(v: &Verifier<'_, 'a>) -> SlotScan<'a> {
        let h = v.header;
        let early = v
            .dump
            .dump_relocs()
            .next()
            .map(|(_, t)| t)
            .expect("one table at least");
        SlotScan {
            data: v.dump.bytes(),
            early,
            cursor: 0,
            next_site: early.raw_get(0).map_or(u64::MAX, |(site, _)| site),
            discardable_start: h.discardable_start,
            symbol_limit: h.cold_start - h.discardable_start,
            sub_char_table: v.pvec.sub_char_table,
            examined: 0,
            scanned_to: 0,
        }
    }

    /// Whether the slot at `site` is relocated: moves the cursor to the first
    /// relocation at or after `site`.
    #[inline]
    fn relocated(&mut self, site: u64) -> bool {
        while self.next_site < site {
            self.cursor += 1;
            self.next_site = self
                .early
                .raw_get(self.cursor)
                .map_or(u64::MAX, |(site, _)| site);
        }
        self.next_site == site
    }

    /// A fixnum, or a built-in symbol.
    #[inline(always)]
    fn plain(&self, word: u64) -> bool {
        (word & 3 == 2) | ((word & 7 == 0) & (word < self.symbol_limit))
    }

    /// Checks the Lisp slots of the object at `offset` (below
    /// `discardable_start`).
    #[inline]
    fn object(&mut self, c: &mut Check, offset: u64, tag: LispType, vh: Option<VectorHeader>) {
        // (first, end) slot numbers, counting the header word as slot 0.
        let (first, slots) = match (tag, vh) {
            (LispType::Cons, _) => (0, 2),
            (LispType::Vectorlike, Some(vh)) => match vh.plain_len() {
                Some(len) => (1, len.saturating_add(1)),
                None => match self.sub_char_table {
                    // A sub-char-table's first slot packs two ints.
                    Some(t) if vh.pvec_type() == t => (2, 1 + vh.lisp_slots()),
                    Some(_) => (1, 1 + vh.lisp_slots()),
                    None => return,
                },
            },
            _ => return,
        };
        // Only whole slots before the discardable region.
        let end = slots.min((self.discardable_start - offset) / 8);
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
        // relocated (the cursor only moves past sites below the slot asked
        // about): check them in a tight loop, then step over the relocation.
        let mut k = 0;
        let count = bytes.len() / 8;
        while k < count {
            let site = start + 8 * k as u64;
            if self.relocated(site) {
                k += 1;
                continue;
            }
            let run_end = count.min((self.next_site.min(stop) - start).div_ceil(8) as usize);
            for (j, w) in bytes[8 * k..8 * run_end].chunks_exact(8).enumerate() {
                let word = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                if !self.plain(word) {
                    bad_slot(c, tag, offset, site + 8 * j as u64, word);
                }
            }
            k = run_end;
        }
    }
}

#[cold]
#[inline(never)]
fn bad_slot(c: &mut Check, tag: LispType, offset: u64, site: u64, word: u64) {
    c.fail(site, || {
        format!("{} at {offset}: slot word {word:#x} at {site} is neither relocated nor a fixnum or built-in symbol", tag.name())
    });
}
