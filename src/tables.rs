//! Zero-copy views of the three kinds of table at the end of a dump, and the
//! typed entries they decode into.
//!
//! A table view borrows the file's bytes; entries are decoded one at a time
//! when asked for, so iterating half a million relocations allocates nothing.

use crate::header::{Layout, DUMP_RELOC_SIZE, EMACS_RELOC_SIZE};
use crate::lisp::LispType;
use std::marker::PhantomData;

/// Bits of a packed dump relocation (and object start) entry.
pub(crate) const OFFSET_BITS: u32 = 27;
const ALIGNMENT_BITS: u32 = 2;

/// A packed entry (dump relocation or object start) as `(offset, 5-bit type
/// number)`.
#[inline(always)]
pub fn split_packed(word: u32) -> (u64, u32) {
    let offset = u64::from(word & OFFSET_MASK) << ALIGNMENT_BITS;
    (offset, word >> OFFSET_BITS)
}

const KINDS_27: [RelocKind; 32] = RelocKind::table(Layout::Emacs27);
const KINDS_28: [RelocKind; 32] = RelocKind::table(Layout::Emacs28);

/// What a dump relocation does to the word at its site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelocKind {
    /// Raw pointer into the executable: `word += emacs_basis`.
    EmacsPtrRaw,
    /// Raw pointer into the dump: `word += dump_base`.
    DumpPtrRaw,
    /// Site is a native-comp unit to re-link (28+, LATE phase).
    NativeCompUnit,
    /// Site is a native subr whose function pointer is looked up (28+, VERY_LATE).
    NativeSubr,
    /// Site is a bignum whose limbs live in the cold region.
    Bignum,
    /// Lisp value pointing into the dump, with its tag.
    DumpLispValue(LispType),
    /// Lisp value pointing into the executable, with its tag.
    EmacsLispValue(LispType),
    /// A type number the layout does not define.
    Invalid(u8),
}

impl RelocKind {
    /// Decodes the 5-bit type field under a layout's numbering (a table
    /// lookup: half a million relocations decode in well under a millisecond).
    pub fn from_type(type_bits: u32, layout: Layout) -> RelocKind {
        let table = match layout {
            Layout::Emacs27 => &KINDS_27,
            Layout::Emacs28 => &KINDS_28,
        };
        table[(type_bits & 31) as usize]
    }

    const fn decode(type_bits: u8, layout: Layout) -> RelocKind {
        let is_28 = matches!(layout, Layout::Emacs28);
        let (bignum, lisp_base) = if is_28 { (4, 5) } else { (2, 3) };
        match type_bits {
            0 => RelocKind::EmacsPtrRaw,
            1 => RelocKind::DumpPtrRaw,
            2 if is_28 => RelocKind::NativeCompUnit,
            3 if is_28 => RelocKind::NativeSubr,
            t if t == bignum => RelocKind::Bignum,
            t if t >= lisp_base && t < lisp_base + 8 => {
                RelocKind::DumpLispValue(LispType::ALL[(t - lisp_base) as usize])
            }
            t if t >= lisp_base + 8 && t < lisp_base + 16 => {
                RelocKind::EmacsLispValue(LispType::ALL[(t - lisp_base - 8) as usize])
            }
            t => RelocKind::Invalid(t),
        }
    }

    const fn table(layout: Layout) -> [RelocKind; 32] {
        let mut table = [RelocKind::EmacsPtrRaw; 32];
        let mut t = 0;
        while t < 32 {
            table[t] = RelocKind::decode(t as u8, layout);
            t += 1;
        }
        table
    }

    /// The 5-bit type field that encodes this kind under a layout's numbering;
    /// `None` for kinds the layout lacks (native compilation in 27).
    pub fn to_type(self, layout: Layout) -> Option<u8> {
        let (bignum, lisp_base) = match layout {
            Layout::Emacs27 => (2, 3),
            Layout::Emacs28 => (4, 5),
        };
        match self {
            RelocKind::EmacsPtrRaw => Some(0),
            RelocKind::DumpPtrRaw => Some(1),
            RelocKind::NativeCompUnit => (layout == Layout::Emacs28).then_some(2),
            RelocKind::NativeSubr => (layout == Layout::Emacs28).then_some(3),
            RelocKind::Bignum => Some(bignum),
            RelocKind::DumpLispValue(t) => Some(lisp_base + t.tag()),
            RelocKind::EmacsLispValue(t) => Some(lisp_base + 8 + t.tag()),
            RelocKind::Invalid(t) => Some(t),
        }
    }

    /// Emacs's name for the kind, e.g. `DUMP_TO_DUMP_LV+cons`.
    pub fn name(self) -> String {
        match self {
            RelocKind::EmacsPtrRaw => "DUMP_TO_EMACS_PTR_RAW".into(),
            RelocKind::DumpPtrRaw => "DUMP_TO_DUMP_PTR_RAW".into(),
            RelocKind::NativeCompUnit => "NATIVE_COMP_UNIT".into(),
            RelocKind::NativeSubr => "NATIVE_SUBR".into(),
            RelocKind::Bignum => "BIGNUM".into(),
            RelocKind::DumpLispValue(t) => format!("DUMP_TO_DUMP_LV+{}", t.name()),
            RelocKind::EmacsLispValue(t) => format!("DUMP_TO_EMACS_LV+{}", t.name()),
            RelocKind::Invalid(t) => format!("invalid type {t}"),
        }
    }
}

/// One entry of a dump relocation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpReloc {
    /// Byte offset of the relocated word in the file.
    pub offset: u64,
    pub kind: RelocKind,
    /// The raw 5-bit type field `kind` was decoded from (a cheap key for counting).
    pub type_bits: u8,
}

/// One entry of the object-starts table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectStart {
    pub offset: u64,
    /// The recorded 5-bit type field; a valid entry holds a `Lisp_Type` tag.
    pub type_bits: u8,
}

impl ObjectStart {
    pub fn lisp_type(&self) -> Option<LispType> {
        LispType::from_tag(self.type_bits.into())
    }
}

/// What an emacs relocation writes into the executable's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmacsRelocValue {
    /// Copy `length` bytes from `dump_offset` in the dump.
    CopyFromDump { dump_offset: i32, length: i32 },
    /// Store the low `length` bytes of `value`.
    Immediate { value: i64, length: i32 },
    /// Store `dump_base + dump_offset`.
    DumpPtrRaw { dump_offset: i32 },
    /// Store `emacs_basis + emacs_offset`.
    EmacsPtrRaw { emacs_offset: i32 },
    /// Store a Lisp value pointing at `dump_offset`; `tag` is the raw length field.
    DumpLispValue { dump_offset: i32, tag: i32 },
    /// Store a Lisp value pointing at `emacs_basis + emacs_offset`.
    EmacsLispValue { emacs_offset: i32, tag: i32 },
    /// Type 6 or 7: undefined.
    Invalid { type_bits: u8 },
}

impl EmacsRelocValue {
    /// Emacs's name for the kind.
    pub fn kind_name(&self) -> &'static str {
        match self {
            EmacsRelocValue::CopyFromDump { .. } => "COPY_FROM_DUMP",
            EmacsRelocValue::Immediate { .. } => "IMMEDIATE",
            EmacsRelocValue::DumpPtrRaw { .. } => "DUMP_PTR_RAW",
            EmacsRelocValue::EmacsPtrRaw { .. } => "EMACS_PTR_RAW",
            EmacsRelocValue::DumpLispValue { .. } => "DUMP_LV",
            EmacsRelocValue::EmacsLispValue { .. } => "EMACS_LV",
            EmacsRelocValue::Invalid { .. } => "invalid",
        }
    }

    /// The kind name of an entry whose type field (the low three bits of
    /// its first word) is `type_bits`.
    pub fn kind_name_of(type_bits: u8) -> &'static str {
        const NAMES: [&str; 8] = [
            "COPY_FROM_DUMP",
            "IMMEDIATE",
            "DUMP_PTR_RAW",
            "EMACS_PTR_RAW",
            "DUMP_LV",
            "EMACS_LV",
            "invalid",
            "invalid",
        ];
        NAMES[usize::from(type_bits & 0b111)]
    }
}

/// One entry of the emacs relocation table: a store into the executable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmacsReloc {
    /// Destination, relative to `emacs_basis`.
    pub emacs_offset: i32,
    pub value: EmacsRelocValue,
}

impl EmacsReloc {
    fn decode(entry: &[u8]) -> EmacsReloc {
        let le32 = |at: usize| le_u32(&entry[at..]) as i32;
        let packed = le32(0);
        let type_bits = (packed & 0b111) as u8;
        // Bits 3..31 hold a signed 29-bit length: an arithmetic shift keeps the sign.
        let length = packed >> 3;
        let emacs_offset = le32(4);
        let low = le32(8);
        let value = match type_bits {
            0 => EmacsRelocValue::CopyFromDump {
                dump_offset: low,
                length,
            },
            1 => EmacsRelocValue::Immediate {
                value: i64::from_le_bytes(entry[8..16].try_into().expect("8")),
                length,
            },
            2 => EmacsRelocValue::DumpPtrRaw { dump_offset: low },
            3 => EmacsRelocValue::EmacsPtrRaw { emacs_offset: low },
            4 => EmacsRelocValue::DumpLispValue {
                dump_offset: low,
                tag: length,
            },
            5 => EmacsRelocValue::EmacsLispValue {
                emacs_offset: low,
                tag: length,
            },
            t => EmacsRelocValue::Invalid { type_bits: t },
        };
        EmacsReloc {
            emacs_offset,
            value,
        }
    }
}

/// An entry type of a table: its size and how it decodes.
pub trait Entry: Sized {
    /// Bytes per entry.
    const SIZE: u64;
    fn decode(bytes: &[u8], layout: Layout) -> Self;
}

impl Entry for DumpReloc {
    const SIZE: u64 = DUMP_RELOC_SIZE;
    fn decode(bytes: &[u8], layout: Layout) -> Self {
        let (offset, type_bits) = split_packed(le_u32(bytes));
        DumpReloc {
            offset,
            kind: RelocKind::from_type(type_bits, layout),
            type_bits: type_bits as u8,
        }
    }
}

impl Entry for ObjectStart {
    const SIZE: u64 = DUMP_RELOC_SIZE;
    fn decode(bytes: &[u8], _: Layout) -> Self {
        let (offset, type_bits) = split_packed(le_u32(bytes));
        ObjectStart {
            offset,
            type_bits: type_bits as u8,
        }
    }
}

impl Entry for EmacsReloc {
    const SIZE: u64 = EMACS_RELOC_SIZE;
    fn decode(bytes: &[u8], _: Layout) -> Self {
        EmacsReloc::decode(bytes)
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"))
}

/// A table borrowed from the file, decoded entry by entry on demand.
#[derive(Debug)]
pub struct Table<'a, E> {
    bytes: &'a [u8],
    /// Byte offset of the table in the file.
    pub offset: u64,
    layout: Layout,
    entry: PhantomData<E>,
}

impl<E> Clone for Table<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Table<'_, E> {}

/// A dump relocation table (one per phase).
pub type DumpRelocTable<'a> = Table<'a, DumpReloc>;
/// The object-starts table: every Lisp object the dumper wrote outside the
/// discardable region, with its tag.
pub type ObjectStartTable<'a> = Table<'a, ObjectStart>;
/// The emacs relocation table: stores into the executable, sorted by destination.
pub type EmacsRelocTable<'a> = Table<'a, EmacsReloc>;

impl<'a, E: Entry> Table<'a, E> {
    /// A view of `bytes`, which must hold whole entries.
    pub(crate) fn new(bytes: &'a [u8], offset: u64, layout: Layout) -> Self {
        debug_assert_eq!(bytes.len() as u64 % E::SIZE, 0);
        Table {
            bytes,
            offset,
            layout,
            entry: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len() / E::SIZE as usize
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Entry `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<E> {
        let size = E::SIZE as usize;
        let start = index.checked_mul(size)?;
        let bytes = self.bytes.get(start..start.checked_add(size)?)?;
        Some(E::decode(bytes, self.layout))
    }

    /// The entries before `index` and the rest (all and none past the end).
    pub fn split_at(&self, index: usize) -> (Self, Self) {
        let at = index.min(self.len()) * E::SIZE as usize;
        let (front, back) = self.bytes.split_at(at);
        (
            Table::new(front, self.offset, self.layout),
            Table::new(back, self.offset + at as u64, self.layout),
        )
    }

    /// The table's bytes, entry after entry.
    pub fn raw_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Byte offset in the file of entry `index`.
    pub fn entry_offset(&self, index: usize) -> u64 {
        self.offset + index as u64 * E::SIZE
    }

    /// All entries in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = E> + 'a {
        let layout = self.layout;
        self.bytes
            .chunks_exact(E::SIZE as usize)
            .map(move |bytes| E::decode(bytes, layout))
    }
}

/// An entry packed into one little-endian u32 (27-bit offset / 4, 5-bit
/// type): dump relocations and object starts.
pub trait Packed: Entry {}
impl Packed for DumpReloc {}
impl Packed for ObjectStart {}

/// Mask of the offset field of a packed entry.
pub(crate) const OFFSET_MASK: u32 = (1 << OFFSET_BITS) - 1;

impl<'a, E: Packed> Table<'a, E> {
    /// Entries as `(offset, 5-bit type number)`, undecoded: for loops that
    /// dispatch on the type through a lookup table of their own.
    pub fn raw(&self) -> impl ExactSizeIterator<Item = (u64, u32)> + 'a {
        self.bytes
            .chunks_exact(DUMP_RELOC_SIZE as usize)
            .map(|bytes| split_packed(le_u32(bytes)))
    }

    /// Entry `index` as `(offset, 5-bit type number)`, undecoded, or `None`
    /// past the end.
    #[inline]
    pub fn raw_get(&self, index: usize) -> Option<(u64, u32)> {
        let start = index.checked_mul(DUMP_RELOC_SIZE as usize)?;
        let bytes = self.bytes.get(start..start.checked_add(4)?)?;
        Some(split_packed(le_u32(bytes)))
    }

    /// One counting pass ([`crate::tally`]): entries by type number, entries
    /// whose offset lies below each of `bounds`, and the offset of every
    /// entry of type `select` passed to `selected`, in table order.
    pub fn tally<const N: usize>(
        &self,
        bounds: [u64; N],
        select: Option<u32>,
        selected: &mut impl FnMut(u64),
    ) -> crate::tally::Tally<N> {
        crate::tally::tally(self.bytes, bounds, select, selected)
    }

    /// How many entries carry each 5-bit type number.
    pub fn count_by_type(&self) -> [u64; 32] {
        self.tally([], None, &mut |_| {}).by_type
    }

    /// Whether the offsets strictly ascend, are 8-aligned and lie in one
    /// of the two inclusive ranges `within`, and every type number is a set
    /// bit of `types`: one branch-free pass that the compiler vectorizes (it
    /// is inlined, so a caller compiled for wider vectors gets them), for
    /// callers that take a fast path on sound tables and look closer only at
    /// unsound ones.
    #[inline(always)]
    pub fn all_sound(&self, within: [std::ops::RangeInclusive<u64>; 2], types: u32) -> bool {
        // offset = field * 4: compare fields against the rounded bounds
        // (fields have 27 bits, so clamping to u32 changes nothing).
        let field_range = |r: &std::ops::RangeInclusive<u64>| {
            (
                u32::try_from(r.start().div_ceil(4)).unwrap_or(u32::MAX),
                u32::try_from(r.end() / 4).unwrap_or(u32::MAX),
            )
        };
        let [(low0, high0), (low1, high1)] = [field_range(&within[0]), field_range(&within[1])];
        let entry_ok = |word: u32| {
            let field = word & OFFSET_MASK;
            (field & 1 == 0)
                & (((field >= low0) & (field <= high0)) | ((field >= low1) & (field <= high1)))
                & ((types >> (word >> OFFSET_BITS)) & 1 != 0)
        };
        let Some(first) = self.bytes.get(..4) else {
            return true;
        };
        let mut ok = entry_ok(le_u32(first));
        // Each entry against the previous one, a block at a time (an early
        // exit per block, none per entry).
        let len = self.bytes.len() / 4;
        let mut start = 1;
        while ok && start < len {
            let end = len.min(start + 4096);
            let current = &self.bytes[4 * start..4 * end];
            let previous = &self.bytes[4 * (start - 1)..4 * (end - 1)];
            for (c, p) in current.chunks_exact(4).zip(previous.chunks_exact(4)) {
                let (c, p) = (le_u32(c), le_u32(p));
                ok &= entry_ok(c) & ((c & OFFSET_MASK) > (p & OFFSET_MASK));
            }
            start = end;
        }
        ok
    }

    /// For each bound, how many entries have an offset below it.
    pub fn count_below<const N: usize>(&self, bounds: [u64; N]) -> [u64; N] {
        self.tally(bounds, None, &mut |_| {}).below
    }
}

impl EmacsRelocTable<'_> {
    /// How many entries carry each 3-bit type field, counted from the raw
    /// words without decoding the entries.
    pub fn count_by_type(&self) -> [u64; 8] {
        let mut counts = [0u64; 8];
        for entry in self.bytes.chunks_exact(EMACS_RELOC_SIZE as usize) {
            counts[usize::from(entry[0] & 0b111)] += 1;
        }
        counts
    }

    /// Where the last COPY_FROM_DUMP source lying wholly inside the byte
    /// range `within` ends (what [`crate::Dump::discardable_copies`] gives
    /// for the discardable region), read from the raw fields.
    pub fn copies_end_within(&self, within: std::ops::Range<u64>) -> Option<u64> {
        let mut last = None;
        for entry in self.bytes.chunks_exact(EMACS_RELOC_SIZE as usize) {
            let packed = le_u32(entry) as i32;
            if packed & 0b111 != 0 {
                continue;
            }
            // A negative offset or length is no copy (the decoded fields are signed).
            let (Ok(start), Ok(length)) = (
                u64::try_from(le_u32(&entry[8..]) as i32),
                u64::try_from(packed >> 3),
            ) else {
                continue;
            };
            if let Some(end) = start.checked_add(length) {
                if within.contains(&start) && end <= within.end {
                    last = last.max(Some(end));
                }
            }
        }
        last
    }
}

impl ObjectStartTable<'_> {
    /// The object starting exactly at `offset`, by binary search (the table is
    /// sorted in a sound dump).
    pub fn find(&self, offset: u64) -> Option<ObjectStart> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let start = self.get(mid)?;
            match start.offset.cmp(&offset) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(start),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn copies_end_within_takes_whole_copies_inside_the_range() {
        let entry = |t: u32, length: i32, offset: i32| -> Vec<u8> {
            [((length << 3) as u32) | t, 0, offset as u32, 0]
                .into_iter()
                .flat_map(u32::to_le_bytes)
                .collect()
        };
        let copies = |entries: &[Vec<u8>]| {
            let bytes = entries.concat();
            EmacsRelocTable::new(&bytes, 0, Layout::Emacs28).copies_end_within(100..200)
        };
        // Ending exactly at the range's end counts; one byte past does not.
        assert_eq!(copies(&[entry(0, 50, 150)]), Some(200));
        assert_eq!(copies(&[entry(0, 51, 150)]), None);
        // Starting at the range's end or before its start does not.
        assert_eq!(copies(&[entry(0, 0, 200), entry(0, 10, 90)]), None);
        // The last end, not the last entry; other kinds and negative fields are no copies.
        assert_eq!(
            copies(&[
                entry(0, 20, 130),
                entry(0, 5, 100),
                entry(1, 90, 100),
                entry(0, -1, 150),
                entry(0, 10, -100)
            ]),
            Some(150)
        );
        assert_eq!(copies(&[entry(0, 0, 100)]), Some(100));
    }

    proptest! {
        // The binary search for sorted tables and the counting pass for
        // unsorted ones both agree with counting one entry at a time.
        #[test]
        fn counts_agree_with_naive(mut words in proptest::collection::vec(any::<u32>(), 0..600),
                                   sort in any::<bool>(),
                                   bounds in proptest::array::uniform3(0u64..(1 << 30))) {
            if sort {
                words.sort_by_key(|w| w & OFFSET_MASK);
            }
            let bytes = table(&words);
            let table = DumpRelocTable::new(&bytes, 0, Layout::Emacs28);
            let naive_below = bounds.map(|b| {
                words.iter().filter(|&&w| u64::from(w & OFFSET_MASK) * 4 < b).count() as u64
            });
            prop_assert_eq!(table.count_below(bounds), naive_below);
            let mut naive_types = [0u64; 32];
            for w in &words {
                naive_types[(w >> OFFSET_BITS) as usize] += 1;
            }
            prop_assert_eq!(table.count_by_type(), naive_types);
        }

        // The raw counts of the emacs relocation table agree with decoding
        // every entry.
        #[test]
        fn emacs_raw_counts_agree_with_decoding(
            entries in proptest::collection::vec(
                (0u32..8, any::<i32>(), any::<i32>(), any::<u32>(), any::<u32>()), 0..300),
            start in prop_oneof![0u64..(1 << 15), 0u64..(1 << 31)],
            len in prop_oneof![0u64..(1 << 16), 0u64..(1 << 31)],
        ) {
            // Small offsets and lengths half of the time, so that copies
            // fall inside the range.
            let bytes: Vec<u8> = entries
                .iter()
                .flat_map(|&(t, length, offset, dest, high)| {
                    let (length, offset) = if high % 2 == 0 {
                        (length % 64, offset % (1 << 16))
                    } else {
                        (length, offset)
                    };
                    let packed = ((length << 3) as u32) | t;
                    [packed, dest, offset as u32, high].into_iter().flat_map(u32::to_le_bytes)
                })
                .collect();
            let table = EmacsRelocTable::new(&bytes, 0, Layout::Emacs28);
            let mut by_name: Vec<(&str, u64)> = Vec::new();
            for reloc in table.iter() {
                let name = reloc.value.kind_name();
                match by_name.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, n)) => *n += 1,
                    None => by_name.push((name, 1)),
                }
            }
            let counts = table.count_by_type();
            for (name, n) in by_name {
                let raw: u64 = (0u8..8)
                    .filter(|&t| EmacsRelocValue::kind_name_of(t) == name)
                    .map(|t| counts[usize::from(t)])
                    .sum();
                prop_assert_eq!(raw, n, "{}", name);
            }
            prop_assert_eq!(counts.iter().sum::<u64>(), table.len() as u64);
            let within = start..start + len;
            let decoded = table
                .iter()
                .filter_map(|reloc| match reloc.value {
                    EmacsRelocValue::CopyFromDump { dump_offset, length } => {
                        let from = u64::try_from(dump_offset).ok()?;
                        let end = from.checked_add(u64::try_from(length).ok()?)?;
                        (within.contains(&from) && end <= within.end).then_some(end)
                    }
                    _ => None,
                })
                .max();
            prop_assert_eq!(table.copies_end_within(within), decoded);
        }

        #[test]
        fn split_at_keeps_every_entry(words in proptest::collection::vec(any::<u32>(), 0..100),
                                      at in 0usize..120) {
            let bytes = table(&words);
            let table = ObjectStartTable::new(&bytes, 1000, Layout::Emacs28);
            let (front, back) = table.split_at(at);
            prop_assert_eq!(front.len(), at.min(words.len()));
            prop_assert_eq!(back.offset, 1000 + 4 * front.len() as u64);
            let joined: Vec<_> = front.raw().chain(back.raw()).collect();
            prop_assert_eq!(joined, table.raw().collect::<Vec<_>>());
        }
    }
}
