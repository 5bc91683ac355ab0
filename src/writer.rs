//! The dumper: writes a [`Heap`] as a portable dump in the layout of Emacs
//! 27, 28, 29 or 30.
//!
//! The heap placed every object but the interned symbols as its form was
//! read, into scratch streams (see [`heap`](crate::heap) and
//! [`scratch`](crate::scratch)). Writing assembles the dump front to back in
//! one pass: the header's room, the interned symbols (each followed by its
//! name string) with the built-in symbols' names and the obarray, the hot
//! stream with its pending words made final, the hash list (28+), the
//! discardable images of the built-in symbols and subrs (copied into the
//! runtime by COPY_FROM_DUMP), the cold stream and the symbols' name bytes;
//! the relocations and object starts met on the way go to two more
//! temporary files, copied after the cold region as the tables, then the
//! emacs relocations and, last, the header. Everything is met in ascending
//! order, so the tables come out sorted. The dumper holds the symbol table
//! and a few KiB of buffers, never the dump's bytes or its relocations. The
//! output depends only on the heap and the options. A [`Tally`] of what was
//! placed where is the known answer `pdmp stats` is tested against.

use crate::graph::NodeKind;
use crate::header::{Layout, MAGIC, TABLE_ALIGNMENT};
pub use crate::heap::Placed;
use crate::heap::{Heap, ObjRef, Place, Word};
use crate::image::{self, var};
use crate::lisp::LispType;
use crate::objlayout::{self as ol, fixnum, pseudo_header, PvecKind, Pvecs};
use crate::pvec::PvecNumbering;
use crate::scratch::{buffer_size, pending, Pending};
use crate::tables::RelocKind;
use crate::value::multibyte_chars;
use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
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
/// (the header last).
pub fn write_dump_to<W: Write + Seek>(
    heap: &mut Heap,
    options: &DumpOptions,
    out: W,
) -> Result<(DumpStats, Tally), WriteError> {
    let root = heap.seal()?;
    if heap.is_full() {
        return Err(WriteError::HeapFull);
    }
    if let Some((what, slots)) = heap.too_many_slots() {
        return Err(WriteError::TooManySlots { what, slots });
    }
    if let Some(base) = options.preferred_base {
        if base % 65536 != 0 || base < image::image_area() {
            return Err(WriteError::BadPreferredBase(base));
        }
    }
    let heap: &Heap = heap;
    let geometry = Geometry::of(heap, options.version.layout());
    let size = buffer_size(geometry.cold_end);
    let assembly = Assembly {
        heap,
        g: geometry,
        options,
        pvecs: Pvecs::of(options.version),
        out: Staged::new(out, size),
        relocs: Table::new(size)?,
        starts: Table::new(size)?,
        tally: Tally::default(),
        placed: heap.placements.placed.clone(),
        bases: options
            .preferred_base
            .map(|base| (base, base - image::image_area())),
    };
    assembly.write(root)
}

/// Bytes of an interned symbol and its name string, which follows it.
const SYMBOL_STRIDE: u64 = image::SYMBOL_SIZE + ol::string::SIZE;

/// Where everything goes, known before the first byte is written.
struct Geometry {
    layout: Layout,
    symbols_at: u64,
    builtin_names_at: u64,
    obarray_at: u64,
    obarray_size: usize,
    scratch_at: u64,
    hot_end: u64,
    hash_list: Option<u64>,
    discardable_start: u64,
    discardable_end: u64,
    cold_start: u64,
    /// Where the symbols' name bytes start (after the cold stream).
    names_at: u64,
    cold_end: u64,
}

impl Geometry {
    fn of(heap: &Heap, layout: Layout) -> Geometry {
        let symbols = heap.symbols.len();
        let builtins = image::builtin_count();
        let obarray_size = crate::heap::obarray_size(builtins + symbols);
        let symbols_at = layout.header_size().next_multiple_of(8);
        let builtin_names_at = symbols_at + SYMBOL_STRIDE * symbols as u64;
        let obarray_at = builtin_names_at + ol::string::SIZE * builtins as u64;
        let scratch_at = obarray_at + 8 + 8 * obarray_size as u64;
        let hot_end = scratch_at + 8 * heap.scratch().hot_words();
        let mut cursor = hot_end;
        let hash_list = (layout == Layout::Emacs28).then_some(cursor);
        if hash_list.is_some() {
            cursor += 8 + 8 * heap.hash_tables.len() as u64;
        }
        let discardable_start = cursor;
        cursor += image::SYMBOL_SIZE * builtins as u64;
        cursor += image::SUBR_SIZE * image::BUILTIN_SUBRS.len() as u64;
        let discardable_end = cursor;
        let cold_start = cursor.next_multiple_of(layout.cold_alignment());
        let names_at = cold_start + heap.scratch().cold_len();
        let names: u64 = (0..symbols)
            .map(|i| heap.symbols.name(i).len() as u64)
            .chain((0..builtins).map(|i| image::builtin_name(i).len() as u64))
            .map(|n| (n + 1).next_multiple_of(8))
            .sum();
        Geometry {
            layout,
            symbols_at,
            builtin_names_at,
            obarray_at,
            obarray_size,
            scratch_at,
            hot_end,
            hash_list,
            discardable_start,
            discardable_end,
            cold_start,
            names_at,
            cold_end: names_at + names,
        }
    }

    /// The final offset of a placed object.
    fn offset(&self, place: Place) -> u64 {
        match place {
            Place::Hot(i) => self.scratch_at + 8 * u64::from(i),
            Place::Cold(i) => self.cold_start + 8 * u64::from(i),
            Place::Symbol(i) => self.symbols_at + SYMBOL_STRIDE * u64::from(i),
        }
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

/// The output, written front to back through a small staging buffer.
struct Staged<W> {
    out: W,
    /// Bytes handed to `out` so far.
    flushed: u64,
    stage: Vec<u8>,
    /// Bytes the stage gathers before it hands them to `out`
    /// ([`buffer_size`] of the dump).
    size: usize,
}

impl<W: Write + Seek> Staged<W> {
    fn new(out: W, size: usize) -> Staged<W> {
        Staged {
            out,
            flushed: 0,
            stage: Vec::with_capacity(size),
            size,
        }
    }

    fn position(&self) -> u64 {
        self.flushed + self.stage.len() as u64
    }

    fn flush_stage(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.stage)?;
        self.flushed += self.stage.len() as u64;
        self.stage.clear();
        Ok(())
    }

    /// Writes zeros up to offset `at`.
    fn pad_to(&mut self, at: u64) -> std::io::Result<()> {
        debug_assert!(at >= self.position(), "written in order");
        while at - self.position() > self.size as u64 {
            self.stage.resize(self.size, 0);
            self.flush_stage()?;
        }
        self.stage.resize((at - self.flushed) as usize, 0);
        Ok(())
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.stage.len() + bytes.len() > self.size {
            self.flush_stage()?;
        }
        if bytes.len() >= self.size {
            self.out.write_all(bytes)?;
            self.flushed += bytes.len() as u64;
        } else {
            self.stage.extend_from_slice(bytes);
        }
        Ok(())
    }
}

/// A table (dump relocations, object starts) gathered in a temporary
/// file in order, to be copied into the dump after the cold region.
struct Table {
    file: BufWriter<std::fs::File>,
    count: u64,
}

impl Table {
    fn new(size: usize) -> std::io::Result<Table> {
        Ok(Table {
            file: BufWriter::with_capacity(size, tempfile::tempfile()?),
            count: 0,
        })
    }

    fn push(&mut self, entry: u32) -> std::io::Result<()> {
        self.count += 1;
        self.file.write_all(&entry.to_le_bytes())
    }

    /// Copies the table to `out`.
    fn copy_to<W: Write + Seek>(&mut self, out: &mut Staged<W>) -> Result<(), WriteError> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        let mut buf = vec![0u8; out.size];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            out.write_all(&buf[..n])?;
        }
    }
}

/// The one pass that writes the dump.
struct Assembly<'h, W> {
    heap: &'h Heap,
    g: Geometry,
    options: &'h DumpOptions,
    pvecs: Pvecs,
    out: Staged<W>,
    relocs: Table,
    starts: Table,
    tally: Tally,
    /// The heap's placements, then what the assembly adds.
    placed: Vec<(crate::heap::TallyKey, Placed)>,
    /// Run-time address of the dump and of the image when pre-relocating.
    bases: Option<(u64, u64)>,
}

impl<W: Write + Seek> Assembly<'_, W> {
    /// Writes a word at `at` (at or after everything written so far), with
    /// its relocation.
    fn word(&mut self, at: u64, word: u64, reloc: Option<RelocKind>) -> Result<(), WriteError> {
        self.out.pad_to(at)?;
        self.out.write_all(&word.to_le_bytes())?;
        if let Some(kind) = reloc {
            self.reloc(at, kind)?;
        }
        Ok(())
    }

    fn reloc(&mut self, at: u64, kind: RelocKind) -> Result<(), WriteError> {
        let t = kind
            .to_type(self.g.layout)
            .expect("no native-comp relocations");
        Ok(self.relocs.push(pack(at, t)?)?)
    }

    fn start(&mut self, at: u64, tag: LispType) -> Result<(), WriteError> {
        Ok(self.starts.push(pack(at, tag.tag())?)?)
    }

    /// Places a plain vector of `len` slots at `at` and writes its header;
    /// the slots follow.
    fn vector_header(&mut self, at: u64, len: u64) -> Result<(), WriteError> {
        let kind = NodeKind::Object(LispType::Vectorlike);
        self.place(at, kind, 8 + 8 * len, Some(PvecKind::NormalVector));
        self.start(at, LispType::Vectorlike)?;
        self.word(at, len, None)
    }

    fn place(&mut self, at: u64, kind: NodeKind, size: u64, pvec: Option<PvecKind>) {
        let region = if at < self.g.discardable_start {
            "hot"
        } else if at < self.g.cold_start {
            "discardable"
        } else {
            "cold"
        };
        let key = (region, kind, pvec);
        match self.placed.iter_mut().find(|(k, _)| *k == key) {
            Some((_, p)) => p.add(size),
            None => {
                let mut p = Placed::default();
                p.add(size);
                self.placed.push((key, p));
            }
        }
    }

    /// A Lisp value as stored at a relocated site, with its relocation.
    fn lisp(&self, word: Word) -> (u64, Option<RelocKind>) {
        match word {
            Word::Fixnum(n) => (fixnum(n), None),
            Word::Builtin(i) => (image::SYMBOL_SIZE * u64::from(i), None),
            Word::Subr(j) => {
                let target = image::subr_offset(usize::from(j));
                let stored = match self.bases {
                    Some((_, emacs)) => emacs + target + u64::from(LispType::Vectorlike.tag()),
                    None => target,
                };
                (
                    stored,
                    Some(RelocKind::EmacsLispValue(LispType::Vectorlike)),
                )
            }
            Word::Obj(r) => self.dump_lisp(self.g.offset(r.place), r.tag),
        }
    }

    /// A Lisp value pointing to the dump object at `target`.
    fn dump_lisp(&self, target: u64, tag: LispType) -> (u64, Option<RelocKind>) {
        let stored = match (self.bases, tag) {
            (Some((dump, emacs)), LispType::Symbol) => {
                (dump + target).wrapping_sub(emacs + image::LISPSYM)
            }
            (Some((dump, _)), _) => dump + target + u64::from(tag.tag()),
            (None, _) => target,
        };
        (stored, Some(RelocKind::DumpLispValue(tag)))
    }

    /// A raw pointer into the dump.
    fn dump_ptr(&self, target: u64) -> (u64, Option<RelocKind>) {
        let base = self.bases.map_or(0, |b| b.0);
        (base + target, Some(RelocKind::DumpPtrRaw))
    }

    /// A raw pointer into the runtime image.
    fn emacs_ptr(&self, target: u64) -> (u64, Option<RelocKind>) {
        let base = self.bases.map_or(0, |b| b.1);
        (base + target, Some(RelocKind::EmacsPtrRaw))
    }

    /// The final form of a pending word of the hot stream.
    fn resolve(&self, p: Pending) -> (u64, Option<RelocKind>) {
        let op = p.operand();
        let limbs_at = |unit: u64| self.g.cold_start + 8 * (unit & ((1 << 29) - 1));
        match p.kind() {
            pending::LISP => self.lisp(Word::Obj(ObjRef::unpack(op))),
            pending::SUBR => self.lisp(Word::Subr(op as u16)),
            pending::COLD_PTR => self.dump_ptr(self.g.cold_start + 8 * op),
            pending::EMACS_PTR => self.emacs_ptr(op),
            pending::HEADER => {
                let kind = PvecKind::ALL[(op & 15) as usize % PvecKind::ALL.len()];
                let header = pseudo_header(self.pvecs.number(kind), (op >> 4) & 0xfff, op >> 16);
                (header, None)
            }
            pending::BIGNUM_HEADER => (
                pseudo_header(self.pvecs.bignum, 0, 2),
                Some(RelocKind::Bignum),
            ),
            pending::BIGNUM_LIMBS => {
                let count = (op >> 29) as u32;
                let word = match self.bases {
                    // Pre-relocated: the loaded form, a GMP mpz.
                    Some(_) => u64::from((count as i32).unsigned_abs()) | u64::from(count) << 32,
                    None => (limbs_at(op) as u32 as u64) | u64::from(count) << 32,
                };
                (word, None)
            }
            _ => (self.bases.map_or(0, |(dump, _)| dump + limbs_at(op)), None),
        }
    }

    /// The name string of the symbol at `at` (its data at `data`).
    fn name_string(&mut self, at: u64, name: &[u8], data: u64) -> Result<(), WriteError> {
        let multibyte = !name.is_ascii();
        self.tally_string(at, name.len(), multibyte, data);
        let (chars, size_byte) = if multibyte {
            (multibyte_chars(name) as u64, name.len() as u64)
        } else {
            (name.len() as u64, u64::MAX)
        };
        self.start(at, LispType::String)?;
        self.word(at + ol::string::CHARS, chars, None)?;
        self.word(at + ol::string::BYTES, size_byte, None)?;
        let (ptr, reloc) = self.dump_ptr(data);
        self.word(at + ol::string::DATA, ptr, reloc)
    }

    fn tally_string(&mut self, at: u64, len: usize, multibyte: bool, data: u64) {
        self.place(
            at,
            NodeKind::Object(LispType::String),
            ol::string::SIZE,
            None,
        );
        self.place(
            data,
            NodeKind::Raw,
            (len as u64 + 1).next_multiple_of(8),
            None,
        );
        let kind = if multibyte {
            &mut self.tally.multibyte
        } else {
            &mut self.tally.unibyte
        };
        kind.add(len as u64);
    }

    /// A symbol's words at `at`: flags, name, cells and the obarray's
    /// `next` pointer (symbol `next` of the numbering of [`Self::chains`]).
    fn symbol(
        &mut self,
        at: u64,
        flags: u64,
        name_at: u64,
        cells: crate::heap::Cells,
        next: u32,
    ) -> Result<(), WriteError> {
        use ol::symbol as s;
        let special = if cells.special { s::SPECIAL } else { 0 };
        self.word(at + s::FLAGS, flags | s::PLAINVAL | special, None)?;
        let (name, reloc) = self.dump_lisp(name_at, LispType::String);
        self.word(at + s::NAME, name, reloc)?;
        for (offset, w) in [
            (s::VALUE, cells.value),
            (s::FUNCTION, cells.function),
            (s::PLIST, cells.plist),
        ] {
            let (stored, reloc) = self.lisp(w);
            self.word(at + offset, stored, reloc)?;
        }
        let builtins = image::builtin_count();
        let (next, reloc) = match next {
            NO_NEXT => (0, None),
            i if (i as usize) < builtins => {
                self.emacs_ptr(image::builtin_symbol_offset(i as usize))
            }
            i => self.dump_ptr(self.g.symbols_at + SYMBOL_STRIDE * u64::from(i - builtins as u32)),
        };
        self.word(at + s::NEXT, next, reloc)
    }

    /// The obarray's chains: bucket heads and each symbol's successor,
    /// symbols numbered built-ins first, then the interned ones in creation
    /// order (the order each chain follows, so the result is deterministic).
    fn chains(&self) -> (Vec<u32>, Vec<u32>) {
        let builtins = image::builtin_count();
        let count = builtins + self.heap.symbols.len();
        let mut heads = vec![NO_NEXT; self.g.obarray_size];
        let mut next = vec![NO_NEXT; count];
        for i in (0..count).rev() {
            let name = match i.checked_sub(builtins) {
                None => image::builtin_name(i).as_bytes(),
                Some(j) => self.heap.symbols.name(j),
            };
            let bucket = crate::heap::obarray_bucket(name, self.g.obarray_size);
            next[i] = heads[bucket];
            heads[bucket] = i as u32;
        }
        (heads, next)
    }

    /// The symbols section: interned symbols with their names, the
    /// built-in symbols' names, the obarray. Returns the built-in symbols'
    /// `next` links (their images are written later).
    fn write_symbols(&mut self) -> Result<Vec<u32>, WriteError> {
        let heap = self.heap;
        let (heads, mut next) = self.chains();
        let builtins = image::builtin_count();
        let mut data = self.g.names_at;
        for i in 0..heap.symbols.len() {
            let at = self.g.symbols_at + SYMBOL_STRIDE * i as u64;
            let name = heap.symbols.name(i);
            self.place(
                at,
                NodeKind::Object(LispType::Symbol),
                image::SYMBOL_SIZE,
                None,
            );
            self.start(at, LispType::Symbol)?;
            let name_at = at + image::SYMBOL_SIZE;
            let cells = heap.symbols.cells(i);
            self.symbol(at, ol::symbol::INTERNED, name_at, cells, next[builtins + i])?;
            self.name_string(name_at, name, data)?;
            data += (name.len() as u64 + 1).next_multiple_of(8);
        }
        for i in 0..builtins {
            let at = self.g.builtin_names_at + ol::string::SIZE * i as u64;
            let name = image::builtin_name(i).as_bytes();
            self.name_string(at, name, data)?;
            data += (name.len() as u64 + 1).next_multiple_of(8);
        }
        let at = self.g.obarray_at;
        self.vector_header(at, self.g.obarray_size as u64)?;
        for (b, &head) in heads.iter().enumerate() {
            let word = match head {
                NO_NEXT => Word::Fixnum(0),
                i if (i as usize) < builtins => Word::Builtin(i as u16),
                i => Word::Obj(ObjRef {
                    tag: LispType::Symbol,
                    place: Place::Symbol(i - builtins as u32),
                }),
            };
            let (stored, reloc) = self.lisp(word);
            self.word(at + 8 + 8 * b as u64, stored, reloc)?;
        }
        next.truncate(builtins);
        Ok(next)
    }

    /// The hot stream, its pending words made final, and its object starts.
    fn write_hot_stream(&mut self) -> Result<(), WriteError> {
        let scratch = self.heap.scratch();
        let base = self.g.scratch_at;
        self.out.pad_to(base)?;
        let mut starts = scratch.hot_starts();
        while let Some(s) = starts.next_u32()? {
            let tag = LispType::from_tag(s & 7).expect("3 bits");
            self.start(base + u64::from(s & !7), tag)?;
        }
        let mut sites = scratch.fix_sites();
        let mut site = sites.next_u32()?;
        let mut reader = scratch.hot_reader();
        let mut chunk = vec![0u8; self.out.size];
        let mut word_at = 0u64;
        loop {
            let n = read_full(&mut reader, &mut chunk)?;
            if n == 0 {
                break;
            }
            let words = (n / 8) as u64;
            while let Some(s) = site.filter(|&s| u64::from(s) < word_at + words) {
                let i = 8 * (u64::from(s) - word_at) as usize;
                let word = u64::from_le_bytes(chunk[i..i + 8].try_into().expect("8 bytes"));
                let (stored, reloc) = self.resolve(Pending(word));
                chunk[i..i + 8].copy_from_slice(&stored.to_le_bytes());
                if let Some(kind) = reloc {
                    self.reloc(base + 8 * u64::from(s), kind)?;
                }
                site = sites.next_u32()?;
            }
            self.out.write_all(&chunk[..n])?;
            word_at += words;
        }
        debug_assert_eq!(self.out.position(), self.g.hot_end);
        Ok(())
    }

    /// The hash list (28+): a vector of every hash table.
    fn write_hash_list(&mut self) -> Result<(), WriteError> {
        let Some(at) = self.g.hash_list else {
            return Ok(());
        };
        let tables = &self.heap.hash_tables;
        self.vector_header(at, tables.len() as u64)?;
        for (i, &t) in tables.iter().enumerate() {
            let target = self.g.offset(Place::Hot(t));
            let (stored, reloc) = self.dump_lisp(target, LispType::Vectorlike);
            self.word(at + 8 + 8 * i as u64, stored, reloc)?;
        }
        Ok(())
    }

    /// The images of the built-in symbols and subrs.
    fn write_discardable(&mut self, next: &[u32]) -> Result<(), WriteError> {
        let start = self.g.discardable_start;
        for (i, &cells) in self.heap.builtins.iter().enumerate() {
            let at = start + image::SYMBOL_SIZE * i as u64;
            let nowrite = if i < 2 { ol::symbol::NOWRITE } else { 0 };
            self.place(at, NodeKind::CopiedSymbol, image::SYMBOL_SIZE, None);
            let name_at = self.g.builtin_names_at + ol::string::SIZE * i as u64;
            self.symbol(at, ol::symbol::INTERNED | nowrite, name_at, cells, next[i])?;
        }
        let subrs = start + image::SYMBOL_SIZE * image::builtin_count() as u64;
        for (j, (_, min, max)) in image::BUILTIN_SUBRS.iter().enumerate() {
            let at = subrs + image::SUBR_SIZE * j as u64;
            let kind = Some(PvecKind::Subr);
            self.place(at, NodeKind::CopiedSubr, image::SUBR_SIZE, kind);
            // A statically allocated subr's header carries only PVEC_SUBR.
            let header = crate::lisp::VectorHeader::bare_pseudovector(self.pvecs.subr).0;
            self.word(at, header, None)?;
            let (f, reloc) = self.emacs_ptr(image::functions() + 8 * j as u64);
            self.word(at + ol::subr::FUNCTION, f, reloc)?;
            let arity = u64::from(*min as u16) | (u64::from(*max as u16) << 16);
            self.word(at + ol::subr::MIN_ARGS, arity, None)?;
            let (name, reloc) = self.emacs_ptr(image::name_offset(j));
            self.word(at + ol::subr::NAME, name, reloc)?;
            self.word(at + ol::subr::INTSPEC, 0, None)?;
            self.word(at + ol::subr::DOC, fixnum(0), None)?;
        }
        Ok(())
    }

    /// The cold stream (bool-vectors get the version's header), its object
    /// starts, and the symbols' name bytes.
    fn write_cold(&mut self) -> Result<(), WriteError> {
        let scratch = self.heap.scratch();
        let base = self.g.cold_start;
        self.out.pad_to(base)?;
        let mut starts = scratch.cold_starts();
        let mut next = starts.next_u32()?;
        let mut reader = scratch.cold_reader();
        let mut chunk = vec![0u8; self.out.size];
        let mut at = 0u64;
        let header = pseudo_header(self.pvecs.bool_vector, 0, 0).to_le_bytes();
        loop {
            let n = read_full(&mut reader, &mut chunk)?;
            if n == 0 {
                break;
            }
            while let Some(s) = next.filter(|&s| u64::from(s & !7) < at + n as u64) {
                let tag = LispType::from_tag(s & 7).expect("3 bits");
                self.start(base + u64::from(s & !7), tag)?;
                if tag == LispType::Vectorlike {
                    let i = (u64::from(s & !7) - at) as usize;
                    chunk[i..i + 8].copy_from_slice(&header);
                }
                next = starts.next_u32()?;
            }
            self.out.write_all(&chunk[..n])?;
            at += n as u64;
        }
        let names = (0..self.heap.symbols.len())
            .map(|i| self.heap.symbols.name(i))
            .chain((0..image::builtin_count()).map(|i| image::builtin_name(i).as_bytes()));
        for name in names {
            self.out.write_all(name)?;
            let pad = (name.len() + 1).next_multiple_of(8) - name.len();
            self.out.write_all(&[0u8; 8][..pad])?;
        }
        debug_assert_eq!(self.out.position(), self.g.cold_end);
        Ok(())
    }

    /// The emacs relocations: the runtime's variables and the copies of the
    /// built-in symbols and subrs.
    fn emacs_relocs(&self, root: Word) -> Vec<[u8; 16]> {
        let entry = |kind: u32, length: i64, emacs_offset: u64, value: u64| {
            let mut e = [0u8; 16];
            let packed = (kind & 7) | ((length as u32) << 3);
            e[0..4].copy_from_slice(&packed.to_le_bytes());
            e[4..8].copy_from_slice(&(emacs_offset as u32).to_le_bytes());
            e[8..16].copy_from_slice(&value.to_le_bytes());
            e
        };
        let root = match root {
            Word::Obj(r) => entry(
                4,
                r.tag.tag().into(),
                var::DUMP_ROOT,
                self.g.offset(r.place),
            ),
            Word::Builtin(i) => entry(1, 8, var::DUMP_ROOT, image::SYMBOL_SIZE * u64::from(i)),
            Word::Fixnum(n) => entry(1, 8, var::DUMP_ROOT, fixnum(n)),
            Word::Subr(j) => entry(5, 5, var::DUMP_ROOT, image::subr_offset(j.into())),
        };
        let vectorlike = LispType::Vectorlike.tag().into();
        let mut relocs = vec![
            entry(1, 8, var::PURIFY_FLAG, 0),
            root,
            entry(4, vectorlike, var::OBARRAY, self.g.obarray_at),
            entry(2, 0, var::HOT_START, self.g.symbols_at),
            entry(3, 0, var::LISPSYM_PTR, image::LISPSYM),
            entry(5, 5, var::FIRST_SUBR, image::subr_offset(0)),
            entry(1, 4, var::DUMPED_SYMBOLS, self.heap.symbols.len() as u64),
            entry(1, 1, var::DUMPED, 1),
        ];
        if let Some(base) = self.options.preferred_base {
            relocs.push(entry(1, 8, var::PREFERRED_BASE, base));
        }
        // Built-in symbols then subrs: contiguous on both sides, one copy.
        let copy_len = self.g.discardable_end - self.g.discardable_start;
        relocs.push(entry(
            0,
            copy_len as i64,
            image::LISPSYM,
            self.g.discardable_start,
        ));
        relocs
    }

    fn write(mut self, root: Word) -> Result<(DumpStats, Tally), WriteError> {
        let g = &self.g;
        if g.cold_start > RELOC_LIMIT {
            return Err(WriteError::RelocOutOfRange(g.cold_start));
        }
        if g.cold_end > i32::MAX as u64 {
            return Err(WriteError::TooLarge(g.cold_end));
        }
        let next = self.write_symbols()?;
        self.write_hot_stream()?;
        self.write_hash_list()?;
        self.write_discardable(&next)?;
        self.write_cold()?;
        // The tables.
        let layout = self.g.layout;
        let relocs_at = self.g.cold_end.next_multiple_of(TABLE_ALIGNMENT);
        self.out.pad_to(relocs_at)?;
        let reloc_count = self.relocs.count;
        let mut cursor = relocs_at;
        let mut locators = Vec::new();
        for phase in 0..layout.phase_count() {
            // Everything is EARLY; LATE and VERY_LATE (native code) are empty.
            let count = if phase == 0 { reloc_count } else { 0 };
            locators.push((cursor, count));
            cursor = (cursor + 4 * count).next_multiple_of(TABLE_ALIGNMENT);
        }
        self.relocs.copy_to(&mut self.out)?;
        self.out.pad_to(cursor)?;
        let starts_count = self.starts.count;
        let object_starts = (cursor, starts_count);
        self.starts.copy_to(&mut self.out)?;
        cursor = (cursor + 4 * starts_count).next_multiple_of(TABLE_ALIGNMENT);
        let emacs = self.emacs_relocs(root);
        let emacs_relocs = (cursor, emacs.len() as u64);
        let total = cursor + 16 * emacs.len() as u64;
        if total > i32::MAX as u64 {
            return Err(WriteError::TooLarge(total));
        }
        self.out.pad_to(cursor)?;
        for e in &emacs {
            self.out.write_all(e)?;
        }
        // The header.
        let g = &self.g;
        let mut header = vec![0u8; layout.header_size() as usize];
        header[..MAGIC.len()].copy_from_slice(&MAGIC);
        header[16..48].copy_from_slice(&self.options.fingerprint);
        let fields = locators
            .iter()
            .copied()
            .chain([object_starts, emacs_relocs])
            .flat_map(|(offset, count)| [offset, count])
            .chain([g.discardable_start, g.cold_start])
            .chain(g.hash_list);
        for (i, v) in fields.enumerate() {
            header[48 + 4 * i..52 + 4 * i].copy_from_slice(&(v as u32).to_le_bytes());
        }
        self.out.flush_stage()?;
        let out = &mut self.out.out;
        out.seek(SeekFrom::Start(0))?;
        out.write_all(&header)?;
        out.seek(SeekFrom::Start(total))?;
        out.flush()?;
        let stats = DumpStats {
            hot: g.discardable_start - layout.header_size(),
            discardable: g.discardable_end - g.discardable_start,
            cold: total - g.cold_start,
            objects: starts_count,
            dump_relocs: reloc_count,
            emacs_relocs: emacs.len() as u64,
        };
        let mut tally = self.tally;
        let p = &self.heap.placements;
        for (t, from) in [
            (&mut tally.unibyte, p.unibyte),
            (&mut tally.multibyte, p.multibyte),
        ] {
            t.count += from.count;
            t.bytes += from.bytes;
        }
        for ((region, kind, pvec), placed) in self.placed {
            let pvec = pvec.map(|k| self.pvecs.number(k));
            let total = tally.placed.entry((region, kind, pvec)).or_default();
            total.count += placed.count;
            total.bytes += placed.bytes;
        }
        let header = layout.header_size();
        tally.padding = BTreeMap::from([
            ("hot", header.next_multiple_of(8) - header),
            ("discardable", g.cold_start - g.discardable_end),
            ("cold", 0),
        ]);
        Ok((stats, tally))
    }
}

/// No successor in an obarray chain (or an empty bucket).
const NO_NEXT: u32 = u32::MAX;

/// Reads until `buf` is full or the stream ends: the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
