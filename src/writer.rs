//! The dumper: writes a [`Heap`] as a portable dump in the layout of Emacs
//! 27, 28, 29 or 30.
//!
//! Pass one walks the heap from its roots depth first and gives every object
//! its place (an object's parts follow it, so related objects sit
//! together): Lisp objects in the hot region, string bytes, floats,
//! bool-vectors and bignum limbs in the cold one. Pass two streams the dump
//! front to back: the hot objects, the hash list (28+), the discardable
//! images of the built-in symbols and subrs (copied into the runtime by
//! COPY_FROM_DUMP) and the cold data; then the relocation table, made by a
//! second walk over the hot objects in placement order, the object starts
//! and, last, the header. Beyond the heap the dumper holds one offset per
//! object and the walk order (a byte or two per object), never the dump's
//! bytes or its relocations. The output depends only on the heap and the
//! options. A [`Tally`] of what was placed where is the known answer
//! `pdmp stats` is tested against.

use crate::graph::NodeKind;
use crate::header::{Layout, MAGIC, TABLE_ALIGNMENT};
use crate::heap::{Heap, Obj, ObjId, Roots, Slots, SlotsKind, Word};
use crate::image::{self, var};
use crate::lisp::LispType;
use crate::objlayout::{self as ol, fixnum, pseudo_header, Pvecs};
use crate::pvec::PvecNumbering;
use crate::tables::RelocKind;
use crate::value::multibyte_chars;
use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// How to write a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpOptions {
    /// The Emacs version whose layout and pvec numbering to use.
    pub version: PvecNumbering,
    pub fingerprint: [u8; 32],
    /// Write every relocated word as it must read when the heap is mapped at
    /// this address (64 KiB aligned); the loader then relocates nothing when
    /// it gets that address.
    pub preferred_base: Option<u64>,
}

impl DumpOptions {
    pub fn new(version: PvecNumbering) -> DumpOptions {
        DumpOptions {
            version,
            fingerprint: image::FINGERPRINT,
            preferred_base: None,
        }
    }
}

/// Why a heap could not be dumped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("dump relocation out of range: offset {0} is beyond the format's 512 MiB")]
    RelocOutOfRange(u64),
    #[error("dump of {0} bytes exceeds the format's 2 GiB limit")]
    TooLarge(u64),
    #[error("a {what} with {slots} slots exceeds the pseudovector limit of 4095")]
    TooManySlots { what: &'static str, slots: usize },
    #[error("preferred base {0:#x} is not a multiple of 64 KiB above the runtime image area")]
    BadPreferredBase(u64),
    #[error("{}", crate::heap::FULL)]
    HeapFull,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Byte counts of a written dump, as Emacs prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DumpStats {
    pub hot: u64,
    pub discardable: u64,
    pub cold: u64,
    pub objects: u64,
    pub dump_relocs: u64,
    pub emacs_relocs: u64,
}

/// Count and bytes of the things of one kind the dumper placed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placed {
    pub count: u64,
    pub bytes: u64,
}

impl Placed {
    fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes += bytes;
    }
}

/// Region, node kind and pvec type of placed things.
type PlacedKey = (&'static str, NodeKind, Option<u8>);

/// What the dumper placed where, in the vocabulary of
/// [`graph`](crate::graph): the answer `pdmp stats` must find again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// By region (`hot`, `discardable`, `cold`), node kind and pvec type
    /// number: objects, copied images, and raw data (string bytes with
    /// their NUL and bignum limbs, each up to the next 8-byte boundary).
    pub placed: BTreeMap<PlacedKey, Placed>,
    /// Bytes of each region no object covers: the pad after the header,
    /// the pad between the copied images and the cold region.
    pub padding: BTreeMap<&'static str, u64>,
    /// Strings by representation; bytes without the NUL.
    pub unibyte: Placed,
    pub multibyte: Placed,
}

/// Writes `heap` (sealing it first) and returns the dump's bytes.
pub fn write_dump(
    heap: &mut Heap,
    options: &DumpOptions,
) -> Result<(Vec<u8>, DumpStats), WriteError> {
    write_dump_tallied(heap, options).map(|(bytes, stats, _)| (bytes, stats))
}

/// [`write_dump`], also returning the [`Tally`] of what it placed.
pub fn write_dump_tallied(
    heap: &mut Heap,
    options: &DumpOptions,
) -> Result<(Vec<u8>, DumpStats, Tally), WriteError> {
    let mut out = std::io::Cursor::new(Vec::new());
    let (stats, tally) = write_dump_to(heap, options, &mut out)?;
    Ok((out.into_inner(), stats, tally))
}

/// Writes `heap` (sealing it first) as a dump to `path`, streamed through a
/// temporary file in the same directory and renamed into place, so a
/// failure never leaves a partial dump. Returns the counts and the size.
pub fn write_dump_file(
    heap: &mut Heap,
    options: &DumpOptions,
    path: &Path,
) -> Result<(DumpStats, u64), WriteError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| -> Result<(DumpStats, u64), WriteError> {
        let mut out = std::fs::File::create(&temp)?;
        let (stats, _) = write_dump_to(heap, options, &mut out)?;
        let size = out.stream_position()?;
        drop(out);
        std::fs::rename(&temp, path)?;
        Ok((stats, size))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `heap` (sealing it first) as a dump to `out`, front to back
/// (the header last): the dumper holds the heap and one place per object,
/// never the dump's bytes or its relocations.
pub fn write_dump_to<W: Write + Seek>(
    heap: &mut Heap,
    options: &DumpOptions,
    out: W,
) -> Result<(DumpStats, Tally), WriteError> {
    let roots = heap.seal();
    if heap.is_full() {
        return Err(WriteError::HeapFull);
    }
    if let Some(base) = options.preferred_base {
        if base % 65536 != 0 || base < image::image_area() {
            return Err(WriteError::BadPreferredBase(base));
        }
    }
    let layout = options.version.layout();
    let plan = Plan::make(heap, roots, layout)?;
    Writer::new(heap, &plan, options, out).write()
}

/// Pass one: every object's place.
struct Plan {
    /// Offset of each object (hot or cold); [`UNPLACED`] when unreachable.
    offset: Vec<u32>,
    /// Reachable objects in the order of the walk: hot objects in the order
    /// of their offsets, and cold items (string bytes, bignum limbs, floats,
    /// bool-vectors) in the order of theirs.
    order: Order,
    hash_tables: Vec<ObjId>,
    hash_list: Option<u64>,
    discardable_start: u64,
    discardable_end: u64,
    cold_start: u64,
    cold_end: u64,
}

/// Objects in the order of a walk, as zigzag varint deltas of their dense
/// numbers ([`Heap::dense`]): a walk mostly steps to a near neighbour, so
/// this takes one or two bytes an object where a list of ids takes four.
#[derive(Default)]
struct Order {
    bytes: Vec<u8>,
    last: i64,
}

impl Order {
    fn push(&mut self, dense: usize) {
        let delta = dense as i64 - self.last;
        self.last = dense as i64;
        let mut z = ((delta << 1) ^ (delta >> 63)) as u64;
        while z >= 0x80 {
            self.bytes.push(z as u8 | 0x80);
            z >>= 7;
        }
        self.bytes.push(z as u8);
    }

    fn iter<'a>(&'a self, heap: &'a Heap) -> impl Iterator<Item = ObjId> + 'a {
        let (mut at, mut last) = (0, 0i64);
        std::iter::from_fn(move || {
            let (mut z, mut shift) = (0u64, 0);
            loop {
                let b = *self.bytes.get(at)?;
                at += 1;
                z |= u64::from(b & 0x7f) << shift;
                if b < 0x80 {
                    break;
                }
                shift += 7;
            }
            last += ((z >> 1) as i64) ^ -((z & 1) as i64);
            Some(heap.from_dense(last as usize))
        })
    }
}

/// The offset of an object not reached (yet).
const UNPLACED: u32 = u32::MAX;
/// The offset of a cold object reached but not yet placed.
const COLD_PENDING: u32 = u32::MAX - 1;

fn hot_size(obj: &Obj) -> Option<u64> {
    Some(match obj {
        Obj::Cons(..) => ol::CONS_SIZE,
        Obj::Str { .. } => ol::string::SIZE,
        Obj::Symbol { .. } => image::SYMBOL_SIZE,
        Obj::Vector(s) | Obj::Slots(_, s) => 8 + 8 * s.len() as u64,
        Obj::SubCharTable { slots, .. } => 16 + 8 * slots.len() as u64,
        Obj::Bignum(_) => ol::BIGNUM_SIZE,
        Obj::HashTable { .. } => ol::hash_table::SIZE,
        Obj::Float(_) | Obj::BoolVector { .. } => return None,
    })
}

/// Bytes of an object's cold item (before rounding up to 8): a string's
/// bytes with their NUL, a bignum's limbs, a float, a bool-vector.
fn cold_size(obj: &Obj) -> Option<u64> {
    Some(match obj {
        Obj::Str { bytes, .. } => bytes.len() as u64 + 1,
        Obj::Bignum(b) => 8 * limbs(b).len() as u64,
        Obj::Float(_) => 8,
        Obj::BoolVector { len, .. } => bool_vector_size(*len),
        _ => return None,
    })
}

/// [`cold_size`] of object `id`, reading only what it needs of it.
fn cold_size_of(heap: &Heap, id: ObjId) -> Option<u64> {
    match heap.lisp_type(id) {
        LispType::Cons | LispType::Symbol => None,
        LispType::String => heap.string_len(id).map(|n| n as u64 + 1),
        LispType::Float => Some(8),
        _ => cold_size(&heap.obj(id)),
    }
}

/// Whether object `id` lives in the hot region (all but floats and
/// bool-vectors), reading only what it needs of it.
fn is_hot(heap: &Heap, id: ObjId) -> bool {
    match heap.lisp_type(id) {
        LispType::Cons | LispType::Symbol | LispType::String => true,
        LispType::Float => false,
        _ => hot_size(&heap.obj(id)).is_some(),
    }
}

fn bool_vector_size(len: u64) -> u64 {
    16 + len.div_ceil(64) * 8
}

fn limbs(n: &num_bigint::BigInt) -> Vec<u64> {
    n.magnitude().to_u64_digits()
}

fn children(obj: &Obj, out: &mut Vec<Word>) {
    match obj {
        Obj::Cons(car, cdr) => out.extend([*cdr, *car]),
        Obj::Symbol { name, cells, .. } => {
            out.extend(cells.next);
            out.extend([cells.plist, cells.function, cells.value, Word::Obj(*name)]);
        }
        Obj::Vector(s) | Obj::Slots(_, s) | Obj::SubCharTable { slots: s, .. } => {
            out.extend(s.iter().rev())
        }
        Obj::HashTable {
            test,
            weakness,
            key_and_value,
            ..
        } => out.extend([Word::Obj(*key_and_value), *weakness, *test]),
        _ => {}
    }
}

impl Plan {
    fn make(heap: &Heap, roots: Roots, layout: Layout) -> Result<Plan, WriteError> {
        let mut plan = Plan {
            offset: vec![UNPLACED; heap.len()],
            order: Order::default(),
            hash_tables: Vec::new(),
            hash_list: None,
            discardable_start: 0,
            discardable_end: 0,
            cold_start: 0,
            cold_end: 0,
        };
        // Roots: the forms, the obarray, then what the built-in symbols hold.
        let mut stack: Vec<Word> = Vec::new();
        for (i, cells) in heap.builtins.iter().enumerate().rev() {
            children(
                &Obj::Symbol {
                    name: heap.builtin_names[i],
                    cells: *cells,
                    interned: true,
                },
                &mut stack,
            );
        }
        stack.extend([roots.obarray, roots.root]);
        let mut cursor = layout.header_size().next_multiple_of(8);
        while let Some(word) = stack.pop() {
            let Word::Obj(id) = word else { continue };
            let dense = heap.dense(id);
            if plan.offset[dense] != UNPLACED {
                continue;
            }
            let obj = heap.obj(id);
            plan.offset[dense] = match hot_size(&obj) {
                Some(size) => {
                    let at = u32::try_from(cursor)
                        .ok()
                        .filter(|&at| at < COLD_PENDING)
                        .ok_or(WriteError::RelocOutOfRange(cursor))?;
                    cursor += size;
                    at
                }
                None => COLD_PENDING,
            };
            plan.order.push(dense);
            if let Obj::HashTable { .. } = obj {
                plan.hash_tables.push(id);
            }
            children(&obj, &mut stack);
        }
        if layout == Layout::Emacs28 {
            plan.hash_list = Some(cursor);
            cursor += 8 + 8 * plan.hash_tables.len() as u64;
        }
        plan.discardable_start = cursor;
        cursor += image::SYMBOL_SIZE * image::builtin_count() as u64;
        cursor += image::SUBR_SIZE * image::BUILTIN_SUBRS.len() as u64;
        plan.discardable_end = cursor;
        plan.cold_start = cursor.next_multiple_of(layout.cold_alignment());
        let mut cold = plan.cold_start;
        for id in plan.order.iter(heap) {
            let Some(size) = cold_size_of(heap, id) else {
                continue;
            };
            if !is_hot(heap, id) {
                plan.offset[heap.dense(id)] = u32::try_from(cold)
                    .ok()
                    .filter(|&at| at < COLD_PENDING)
                    .ok_or(WriteError::TooLarge(cold))?;
            }
            cold = (cold + size).next_multiple_of(8);
        }
        plan.cold_end = cold;
        plan.order.bytes.shrink_to_fit();
        if plan.cold_start > RELOC_LIMIT {
            return Err(WriteError::RelocOutOfRange(plan.cold_start));
        }
        Ok(plan)
    }

    fn offset(&self, heap: &Heap, id: ObjId) -> u64 {
        self.offset[heap.dense(id)].into()
    }
}

/// Relocation offsets are 27 bits of 4-byte units.
const RELOC_LIMIT: u64 = 1 << 29;

/// A table entry: offset in 4-byte units, type in the top 5 bits.
fn pack(offset: u64, type_bits: u8) -> Result<u32, WriteError> {
    if offset >= RELOC_LIMIT {
        return Err(WriteError::RelocOutOfRange(offset));
    }
    Ok((offset >> 2) as u32 | (u32::from(type_bits) << 27))
}

/// What a walk over the hot objects produces: their bytes (and the
/// tally), or their entries of the dump relocation table. The second
/// walk makes the table in order, object by object, instead of holding
/// every relocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Bytes,
    Relocs,
}

/// Bytes the writer gathers before it hands them to its output.
const STAGE: usize = 1 << 15;

struct Writer<'h, W> {
    heap: &'h Heap,
    plan: &'h Plan,
    options: &'h DumpOptions,
    layout: Layout,
    pvecs: Pvecs,
    out: W,
    /// Bytes handed to `out` so far.
    flushed: u64,
    /// The bytes that follow them, not yet handed over.
    stage: Vec<u8>,
    pass: Pass,
    /// The piece being made (bytes pass: in `stage` from `piece_start`
    /// to `piece_end`): its offset and its relocations (relocations pass).
    piece_at: u64,
    piece_start: usize,
    piece_end: usize,
    relocs: Vec<(u64, RelocKind)>,
    /// Entries written to the dump relocation table.
    reloc_count: u64,
    /// Run-time address of the dump and of the image when pre-relocating.
    bases: Option<(u64, u64)>,
    /// What was placed, by kind, in first-seen order (merged into the tally
    /// at the end: a short list is quicker than a map per object).
    placed: Vec<(PlacedKey, Placed)>,
    tally: Tally,
}

impl<'h, W: Write + Seek> Writer<'h, W> {
    fn new(heap: &'h Heap, plan: &'h Plan, options: &'h DumpOptions, out: W) -> Writer<'h, W> {
        Writer {
            heap,
            plan,
            options,
            layout: options.version.layout(),
            pvecs: Pvecs::of(options.version),
            out,
            flushed: 0,
            stage: Vec::with_capacity(STAGE),
            pass: Pass::Bytes,
            piece_at: 0,
            piece_start: 0,
            piece_end: 0,
            relocs: Vec::new(),
            reloc_count: 0,
            bases: options
                .preferred_base
                .map(|base| (base, base - image::image_area())),
            placed: Vec::new(),
            tally: Tally::default(),
        }
    }

    /// Hands the staged bytes to the output once there are enough.
    fn flush_stage(&mut self, all: bool) -> std::io::Result<()> {
        if all || self.stage.len() >= STAGE {
            self.out.write_all(&self.stage)?;
            self.flushed += self.stage.len() as u64;
            self.stage.clear();
        }
        Ok(())
    }

    /// Writes zeros up to offset `at`.
    fn pad_to(&mut self, at: u64) -> std::io::Result<()> {
        debug_assert!(
            at >= self.flushed + self.stage.len() as u64,
            "pieces are written in order"
        );
        while at - self.flushed > STAGE as u64 {
            self.stage.resize(STAGE, 0);
            self.flush_stage(true)?;
        }
        self.stage.resize((at - self.flushed) as usize, 0);
        Ok(())
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stage.extend_from_slice(bytes);
        self.flush_stage(false)
    }

    /// Starts the piece of `size` bytes at `at` (an object, the hash list,
    /// the copied images, a cold item).
    fn begin(&mut self, at: u64, size: u64) -> std::io::Result<()> {
        self.piece_at = at;
        if self.pass == Pass::Bytes {
            self.pad_to(at)?;
            self.piece_start = self.stage.len();
            self.piece_end = self.piece_start + size as usize;
            self.stage.resize(self.piece_end, 0);
        }
        Ok(())
    }

    /// Ends the piece: its bytes are staged; its relocations are written,
    /// in order.
    fn end(&mut self) -> Result<(), WriteError> {
        if self.pass == Pass::Relocs {
            self.relocs.sort_by_key(|r| r.0);
            for &(offset, kind) in &self.relocs {
                let t = kind
                    .to_type(self.layout)
                    .expect("no native-comp relocations");
                self.stage.extend(pack(offset, t)?.to_le_bytes());
            }
            self.reloc_count += self.relocs.len() as u64;
            self.relocs.clear();
        }
        Ok(self.flush_stage(false)?)
    }

    fn put(&mut self, at: u64, word: u64) {
        self.put_bytes(at, &word.to_le_bytes());
    }

    /// Stores bytes in the piece (no further than its end).
    fn put_bytes(&mut self, at: u64, bytes: &[u8]) {
        if self.pass == Pass::Bytes {
            let from = self.piece_start + (at - self.piece_at) as usize;
            let to = (from + bytes.len()).min(self.piece_end);
            self.stage[from..to].copy_from_slice(&bytes[..to - from]);
        }
    }

    fn reloc(&mut self, at: u64, kind: RelocKind) {
        if self.pass == Pass::Relocs {
            self.relocs.push((at, kind));
        }
    }

    fn tag_of(&self, id: ObjId) -> LispType {
        self.heap.lisp_type(id)
    }

    /// Writes a Lisp value into the slot at `at`.
    fn lisp(&mut self, at: u64, word: Word) {
        let stored = match word {
            Word::Fixnum(n) => fixnum(n),
            Word::Builtin(i) => image::SYMBOL_SIZE * u64::from(i),
            Word::Subr(j) => {
                self.reloc(at, RelocKind::EmacsLispValue(LispType::Vectorlike));
                let target = image::subr_offset(usize::from(j));
                match self.bases {
                    Some((_, emacs)) => emacs + target + u64::from(LispType::Vectorlike.tag()),
                    None => target,
                }
            }
            Word::Obj(id) => {
                let tag = self.tag_of(id);
                let target = self.plan.offset(self.heap, id);
                self.reloc(at, RelocKind::DumpLispValue(tag));
                match (self.bases, tag) {
                    (Some((dump, emacs)), LispType::Symbol) => {
                        (dump + target).wrapping_sub(emacs + image::LISPSYM)
                    }
                    (Some((dump, _)), _) => dump + target + u64::from(tag.tag()),
                    (None, _) => target,
                }
            }
        };
        self.put(at, stored);
    }

    /// Writes a raw pointer into the dump.
    fn dump_ptr(&mut self, at: u64, target: u64) {
        self.reloc(at, RelocKind::DumpPtrRaw);
        let base = self.bases.map_or(0, |b| b.0);
        self.put(at, base + target);
    }

    /// Writes a raw pointer into the runtime image.
    fn emacs_ptr(&mut self, at: u64, target: u64) {
        self.reloc(at, RelocKind::EmacsPtrRaw);
        let base = self.bases.map_or(0, |b| b.1);
        self.put(at, base + target);
    }

    /// Records an object in the tally.
    fn start(&mut self, at: u64, tag: LispType, size: u64, pvec: Option<u8>) {
        self.placed(at, NodeKind::Object(tag), size, pvec);
    }

    fn placed(&mut self, at: u64, kind: NodeKind, size: u64, pvec: Option<u8>) {
        if self.pass == Pass::Relocs {
            return;
        }
        let region = if at < self.plan.discardable_start {
            "hot"
        } else if at < self.plan.cold_start {
            "discardable"
        } else {
            "cold"
        };
        let key = (region, kind, pvec);
        // Compared by address: the region names are these three literals.
        let same = |k: &PlacedKey| std::ptr::eq(k.0, key.0) && k.1 == key.1 && k.2 == key.2;
        let i = match self.placed.iter().position(|(k, _)| same(k)) {
            Some(i) => i,
            None => {
                self.placed.push((key, Placed::default()));
                self.placed.len() - 1
            }
        };
        self.placed[i].1.add(size);
    }

    /// The pvec type of a vectorlike object.
    fn pvec_of(&self, obj: &Obj) -> Option<u8> {
        let p = &self.pvecs;
        Some(match obj {
            Obj::Vector(_) => p.normal_vector,
            Obj::Slots(SlotsKind::Record, _) => p.record,
            Obj::Slots(SlotsKind::ByteCode, _) => p.compiled,
            Obj::Slots(SlotsKind::CharTable, _) => p.char_table,
            Obj::SubCharTable { .. } => p.sub_char_table,
            Obj::Bignum(_) => p.bignum,
            Obj::HashTable { .. } => p.hash_table,
            Obj::BoolVector { .. } => p.bool_vector,
            Obj::Cons(..) | Obj::Str { .. } | Obj::Symbol { .. } | Obj::Float(_) => return None,
        })
    }

    fn write(mut self) -> Result<(DumpStats, Tally), WriteError> {
        let plan = self.plan;
        self.walk_hot()?;
        self.write_discardable()?;
        self.pad_to(plan.cold_start)?;
        let mut cold = plan.cold_start;
        for id in plan.order.iter(self.heap) {
            if let Some(size) = cold_size_of(self.heap, id) {
                self.write_cold(id, self.heap.obj(id), cold, size.next_multiple_of(8))?;
                cold = (cold + size).next_multiple_of(8);
            }
        }
        self.finish()
    }

    /// Writes (or, in the relocations pass, relocates) the hot objects and
    /// the hash list.
    fn walk_hot(&mut self) -> Result<(), WriteError> {
        let plan = self.plan;
        // String bytes and bignum limbs follow in cold in the same order.
        let mut cold = plan.cold_start;
        for id in plan.order.iter(self.heap) {
            if is_hot(self.heap, id) {
                self.write_hot(id, self.heap.obj(id), cold)?;
            }
            if let Some(size) = cold_size_of(self.heap, id) {
                cold = (cold + size).next_multiple_of(8);
            }
        }
        if let Some(list) = plan.hash_list {
            let size = 8 + 8 * plan.hash_tables.len() as u64;
            self.begin(list, size)?;
            self.start(
                list,
                LispType::Vectorlike,
                size,
                Some(self.pvecs.normal_vector),
            );
            self.put(list, plan.hash_tables.len() as u64);
            for (i, &id) in plan.hash_tables.iter().enumerate() {
                self.lisp(list + 8 + 8 * i as u64, Word::Obj(id));
            }
            self.end()?;
        }
        Ok(())
    }

    fn write_symbol(&mut self, at: u64, name: ObjId, cells: &crate::heap::Cells, flags: u64) {
        let flags = flags
            | ol::symbol::PLAINVAL
            | if cells.special {
                ol::symbol::SPECIAL
            } else {
                0
            };
        self.put(at + ol::symbol::FLAGS, flags);
        self.lisp(at + ol::symbol::NAME, Word::Obj(name));
        self.lisp(at + ol::symbol::VALUE, cells.value);
        self.lisp(at + ol::symbol::FUNCTION, cells.function);
        self.lisp(at + ol::symbol::PLIST, cells.plist);
        match cells.next {
            None => {}
            Some(Word::Builtin(i)) => self.emacs_ptr(
                at + ol::symbol::NEXT,
                image::builtin_symbol_offset(i.into()),
            ),
            Some(Word::Obj(id)) => {
                self.dump_ptr(at + ol::symbol::NEXT, self.plan.offset(self.heap, id))
            }
            Some(_) => unreachable!("obarray chains hold symbols"),
        }
    }

    fn write_slots(&mut self, at: u64, slots: Slots<'_>) {
        for (i, w) in slots.iter().enumerate() {
            self.lisp(at + 8 * i as u64, w);
        }
    }

    fn pseudo(
        &self,
        pvec: u8,
        what: &'static str,
        lisp: usize,
        rest: u64,
    ) -> Result<u64, WriteError> {
        if lisp > 0xfff {
            return Err(WriteError::TooManySlots { what, slots: lisp });
        }
        Ok(pseudo_header(pvec, lisp as u64, rest))
    }

    /// Writes hot object `id`; `data` is where its cold bytes or limbs go.
    fn write_hot(&mut self, id: ObjId, obj: Obj<'h>, data: u64) -> Result<(), WriteError> {
        let at = self.plan.offset(self.heap, id);
        let heap = self.heap;
        let tag = self.tag_of(id);
        let size = hot_size(&obj).expect("a hot object");
        self.begin(at, size)?;
        self.start(at, tag, size, self.pvec_of(&obj));
        match obj {
            Obj::Cons(car, cdr) => {
                self.lisp(at, car);
                self.lisp(at + 8, cdr);
            }
            Obj::Str { bytes, multibyte } => {
                if self.pass == Pass::Bytes {
                    let kind = if multibyte {
                        &mut self.tally.multibyte
                    } else {
                        &mut self.tally.unibyte
                    };
                    kind.add(bytes.len() as u64);
                    let (chars, size_byte) = if multibyte {
                        (multibyte_chars(bytes), bytes.len() as u64)
                    } else {
                        (bytes.len(), u64::MAX)
                    };
                    self.put(at + ol::string::CHARS, chars as u64);
                    self.put(at + ol::string::BYTES, size_byte);
                }
                self.dump_ptr(at + ol::string::DATA, data);
            }
            Obj::Symbol {
                name,
                cells,
                interned,
            } => {
                let flags = if interned { ol::symbol::INTERNED } else { 0 };
                self.write_symbol(at, name, &cells, flags);
            }
            Obj::Vector(slots) => {
                self.put(at, slots.len() as u64);
                self.write_slots(at + 8, slots);
            }
            Obj::Slots(kind, slots) => {
                let (pvec, what) = match kind {
                    SlotsKind::Record => (self.pvecs.record, "record"),
                    SlotsKind::ByteCode => (self.pvecs.compiled, "byte-code object"),
                    SlotsKind::CharTable => (self.pvecs.char_table, "char-table"),
                };
                let header = self.pseudo(pvec, what, slots.len(), 0)?;
                self.put(at, header);
                self.write_slots(at + 8, slots);
            }
            Obj::SubCharTable {
                depth,
                min_char,
                slots,
            } => {
                let header =
                    self.pseudo(self.pvecs.sub_char_table, "sub-char-table", slots.len(), 1)?;
                self.put(at, header);
                self.put(
                    at + 8,
                    u64::from(depth as u32) | (u64::from(min_char as u32) << 32),
                );
                self.write_slots(at + 16, slots);
            }
            Obj::Bignum(n) => {
                let header = pseudo_header(self.pvecs.bignum, 0, 2);
                self.put(at, header);
                let limbs = limbs(n).len() as i64;
                let nlimbs = if n.sign() == num_bigint::Sign::Minus {
                    -limbs
                } else {
                    limbs
                };
                self.reloc(at, RelocKind::Bignum);
                match self.bases {
                    // Pre-relocated: the loaded form, a GMP mpz.
                    Some((dump, _)) => {
                        let (alloc, size) = (nlimbs.unsigned_abs() as u32, nlimbs as i32 as u32);
                        self.put(at + 8, u64::from(alloc) | (u64::from(size) << 32));
                        self.put(at + 16, dump + data);
                    }
                    None => {
                        self.put(
                            at + 8,
                            (data as u32 as u64) | ((nlimbs as i32 as u32 as u64) << 32),
                        );
                    }
                }
            }
            Obj::HashTable {
                test,
                weakness,
                purecopy,
                count,
                key_and_value,
            } => {
                use ol::hash_table as h;
                let header = pseudo_header(
                    self.pvecs.hash_table,
                    h::LISP_SLOTS,
                    h::SIZE / 8 - 1 - h::LISP_SLOTS,
                );
                self.put(at, header);
                // Frozen: no buckets; `index` holds the bucket count to rebuild.
                self.lisp(at + h::WEAK, weakness);
                self.lisp(at + h::HASH, Word::NIL);
                self.lisp(at + h::NEXT, Word::NIL);
                self.lisp(at + h::INDEX, Word::Fixnum((count as i64).max(1)));
                self.put(at + h::COUNT, count);
                self.put(at + h::NEXT_FREE, u64::MAX);
                self.put(
                    at + h::PURECOPY,
                    u64::from(purecopy) | (0.8125f32.to_bits() as u64) << 32,
                );
                self.put(at + h::REHASH_SIZE, u64::from(1.5f32.to_bits()));
                self.lisp(at + h::KEY_AND_VALUE, Word::Obj(key_and_value));
                self.lisp(at + h::TEST_NAME, test);
                self.lisp(at + h::USER_HASH, Word::NIL);
                self.lisp(at + h::USER_CMP, Word::NIL);
                let test_name = heap.value(test);
                let function = match test_name.as_symbol() {
                    Some("equal") => "equal",
                    _ => "eq",
                };
                let j = image::subr_index(function).expect("built-in test function");
                let function = image::functions() + 8 * j as u64;
                self.emacs_ptr(at + h::CMPFN, function);
                self.emacs_ptr(at + h::HASHFN, function);
            }
            Obj::Float(_) | Obj::BoolVector { .. } => unreachable!("cold objects"),
        }
        self.end()
    }

    /// Writes (or relocates) the images of the built-in symbols and subrs.
    fn write_discardable(&mut self) -> Result<(), WriteError> {
        let heap = self.heap;
        let start = self.plan.discardable_start;
        self.begin(start, self.plan.discardable_end - start)?;
        for (i, cells) in heap.builtins.iter().enumerate() {
            let at = start + image::SYMBOL_SIZE * i as u64;
            let nowrite = if i < 2 { ol::symbol::NOWRITE } else { 0 };
            self.placed(at, NodeKind::CopiedSymbol, image::SYMBOL_SIZE, None);
            self.write_symbol(
                at,
                heap.builtin_names[i],
                cells,
                ol::symbol::INTERNED | nowrite,
            );
        }
        let subrs = start + image::SYMBOL_SIZE * image::builtin_count() as u64;
        for (j, (_, min, max)) in image::BUILTIN_SUBRS.iter().enumerate() {
            let at = subrs + image::SUBR_SIZE * j as u64;
            self.placed(
                at,
                NodeKind::CopiedSubr,
                image::SUBR_SIZE,
                Some(self.pvecs.subr),
            );
            // A statically allocated subr's header carries only PVEC_SUBR.
            self.put(
                at,
                crate::lisp::VectorHeader::bare_pseudovector(self.pvecs.subr).0,
            );
            self.emacs_ptr(at + ol::subr::FUNCTION, image::functions() + 8 * j as u64);
            let arity = u64::from(*min as u16) | (u64::from(*max as u16) << 16);
            self.put(at + ol::subr::MIN_ARGS, arity);
            self.emacs_ptr(at + ol::subr::NAME, image::name_offset(j));
            self.put(at + ol::subr::INTSPEC, 0);
            self.put(at + ol::subr::DOC, fixnum(0));
        }
        self.end()
    }

    /// Writes the cold item of object `id` at `at`, `size` bytes padded.
    fn write_cold(
        &mut self,
        id: ObjId,
        obj: Obj<'_>,
        at: u64,
        size: u64,
    ) -> Result<(), WriteError> {
        self.begin(at, size)?;
        match obj {
            Obj::Str { bytes, .. } => {
                self.placed(at, NodeKind::Raw, size, None);
                self.put_bytes(at, bytes);
            }
            Obj::Bignum(n) => {
                let limbs = limbs(n);
                self.placed(at, NodeKind::Raw, 8 * limbs.len() as u64, None);
                for (i, limb) in limbs.into_iter().enumerate() {
                    self.put(at + 8 * i as u64, limb);
                }
            }
            Obj::Float(x) => {
                self.start(at, LispType::Float, 8, None);
                self.put(at, x.to_bits());
            }
            Obj::BoolVector { len, bytes } => {
                debug_assert_eq!(at, self.plan.offset(self.heap, id));
                self.start(
                    at,
                    LispType::Vectorlike,
                    bool_vector_size(len),
                    Some(self.pvecs.bool_vector),
                );
                self.put(at, pseudo_header(self.pvecs.bool_vector, 0, 0));
                self.put(at + 8, len);
                self.put_bytes(at + 16, bytes);
            }
            _ => unreachable!("cold items of strings, bignums, floats, bool-vectors"),
        }
        self.end()
    }

    /// The emacs relocations: the runtime's variables and the copies of the
    /// built-in symbols and subrs.
    fn emacs_relocs(&self, roots: Roots) -> Vec<[u8; 16]> {
        let plan = self.plan;
        let entry = |kind: u32, length: i64, emacs_offset: u64, value: u64| {
            let mut e = [0u8; 16];
            let packed = (kind & 7) | ((length as u32) << 3);
            e[0..4].copy_from_slice(&packed.to_le_bytes());
            e[4..8].copy_from_slice(&(emacs_offset as u32).to_le_bytes());
            e[8..16].copy_from_slice(&value.to_le_bytes());
            e
        };
        let lisp_root = |word: Word| match word {
            Word::Obj(id) => {
                let tag = self.tag_of(id);
                entry(4, tag.tag().into(), 0, plan.offset(self.heap, id))
            }
            Word::Builtin(i) => entry(1, 8, 0, image::SYMBOL_SIZE * u64::from(i)),
            Word::Fixnum(n) => entry(1, 8, 0, fixnum(n)),
            Word::Subr(j) => entry(5, 5, 0, image::subr_offset(j.into())),
        };
        let at = |mut e: [u8; 16], offset: u64| {
            e[4..8].copy_from_slice(&(offset as u32).to_le_bytes());
            e
        };
        let dumped_symbols = self.heap.interned.len() as u64;
        let mut relocs = vec![
            entry(1, 8, var::PURIFY_FLAG, 0),
            at(lisp_root(roots.root), var::DUMP_ROOT),
            at(lisp_root(roots.obarray), var::OBARRAY),
            entry(
                2,
                0,
                var::HOT_START,
                self.layout.header_size().next_multiple_of(8),
            ),
            entry(3, 0, var::LISPSYM_PTR, image::LISPSYM),
            entry(5, 5, var::FIRST_SUBR, image::subr_offset(0)),
            entry(1, 4, var::DUMPED_SYMBOLS, dumped_symbols),
            entry(1, 1, var::DUMPED, 1),
        ];
        if let Some(base) = self.options.preferred_base {
            relocs.push(entry(1, 8, var::PREFERRED_BASE, base));
        }
        // Built-in symbols then subrs: contiguous on both sides, one copy.
        let copy_len = plan.discardable_end - plan.discardable_start;
        relocs.push(entry(
            0,
            copy_len as i64,
            image::LISPSYM,
            plan.discardable_start,
        ));
        relocs
    }

    /// Writes the tables (the dump relocations by a second walk over the
    /// hot objects, the object starts by a walk over the order) and, last,
    /// the header.
    fn finish(mut self) -> Result<(DumpStats, Tally), WriteError> {
        let plan = self.plan;
        let heap = self.heap;
        let roots = heap.roots().expect("sealed by write_dump");
        let emacs = self.emacs_relocs(roots);
        let layout = self.layout;
        let relocs_at = plan.cold_end.next_multiple_of(TABLE_ALIGNMENT);
        self.pad_to(relocs_at)?;
        self.pass = Pass::Relocs;
        self.walk_hot()?;
        self.write_discardable()?;
        let mut cursor = relocs_at;
        let mut locators = Vec::new();
        for phase in 0..layout.phase_count() {
            // Everything is EARLY; LATE and VERY_LATE (native code) are empty.
            let count = if phase == 0 { self.reloc_count } else { 0 };
            locators.push((cursor, count));
            cursor = (cursor + 4 * count).next_multiple_of(TABLE_ALIGNMENT);
        }
        self.pad_to(cursor)?;
        let starts_at = cursor;
        let mut starts = 0u64;
        let mut entries = Vec::with_capacity(1 << 14);
        for hot in [true, false] {
            for id in plan.order.iter(heap) {
                if is_hot(heap, id) == hot {
                    let entry = pack(plan.offset(heap, id), heap.lisp_type(id).tag())?;
                    entries.extend(entry.to_le_bytes());
                    starts += 1;
                    if entries.len() == entries.capacity() {
                        self.write_all(&entries)?;
                        entries.clear();
                    }
                }
            }
            if let (true, Some(list)) = (hot, plan.hash_list) {
                entries.extend(pack(list, LispType::Vectorlike.tag())?.to_le_bytes());
                starts += 1;
            }
        }
        self.write_all(&entries)?;
        let object_starts = (starts_at, starts);
        cursor = (cursor + 4 * starts).next_multiple_of(TABLE_ALIGNMENT);
        let emacs_relocs = (cursor, emacs.len() as u64);
        let total = cursor + 16 * emacs.len() as u64;
        if total > i32::MAX as u64 {
            return Err(WriteError::TooLarge(total));
        }
        self.pad_to(cursor)?;
        for e in &emacs {
            self.write_all(e)?;
        }
        // The header.
        let mut header = vec![0u8; layout.header_size() as usize];
        header[..MAGIC.len()].copy_from_slice(&MAGIC);
        header[16..48].copy_from_slice(&self.options.fingerprint);
        let fields = locators
            .iter()
            .copied()
            .chain([object_starts, emacs_relocs])
            .flat_map(|(offset, count)| [offset, count])
            .chain([plan.discardable_start, plan.cold_start])
            .chain(plan.hash_list);
        for (i, v) in fields.enumerate() {
            header[48 + 4 * i..52 + 4 * i].copy_from_slice(&(v as u32).to_le_bytes());
        }
        self.flush_stage(true)?;
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::Start(total))?;
        self.out.flush()?;
        let stats = DumpStats {
            hot: plan.discardable_start - layout.header_size(),
            discardable: plan.discardable_end - plan.discardable_start,
            cold: total - plan.cold_start,
            objects: starts,
            dump_relocs: self.reloc_count,
            emacs_relocs: emacs.len() as u64,
        };
        for (key, placed) in self.placed.drain(..) {
            let total = self.tally.placed.entry(key).or_default();
            total.count += placed.count;
            total.bytes += placed.bytes;
        }
        let header = layout.header_size();
        self.tally.padding = BTreeMap::from([
            ("hot", header.next_multiple_of(8) - header),
            ("discardable", plan.cold_start - plan.discardable_end),
            ("cold", 0),
        ]);
        Ok((stats, self.tally))
    }
}
