//! The relocation-aware transform that makes a dump compress well, and its
//! exact inverse.
//!
//! A dump carries its own pointer map: the dump relocation tables name every
//! word that holds a dump offset. Such a word is an absolute position, so the
//! same shape of data (a list, a vector of conses) stores different numbers
//! wherever it lies and a compressor sees no repeats. [`split`] rewrites each
//! pointer word relative to its own site, moves pointer words, other heap
//! words, cold bytes and the tables into separate streams (tables as deltas
//! and columns), so that each stream has uniform statistics. [`join`] puts
//! the file back together, byte for byte, from the streams alone;
//! [`Joiner`] does the same in the output buffer itself, around the two
//! large streams decoded straight into their places (how a container is
//! decompressed).
//!
//! `split` only accepts inputs whose geometry it can describe (a parsed
//! header, tables back to back after the cold data, non-overlapping relocated
//! words below `cold_start`); for anything else it returns `None` and the
//! caller stores the bytes untransformed.

use crate::header::{Layout, DUMP_RELOC_SIZE, EMACS_RELOC_SIZE};
use crate::lisp::LispType;
use crate::tables::RelocKind;
use crate::Dump;

/// The streams [`split`] produces, in order.
pub const STREAM_NAMES: [&str; 7] = [
    "geometry",
    "table offsets",
    "table types",
    "emacs relocations",
    "heap words",
    "pointer words",
    "cold bytes",
];
const GEOMETRY: usize = 0;
const TABLE_OFFSETS: usize = 1;
const TABLE_TYPES: usize = 2;
const EMACS_RELOCS: usize = 3;
const HEAP: usize = 4;
const POINTERS: usize = 5;
const COLD: usize = 6;

/// Why [`join`] could not rebuild a file: the stream and byte position at
/// fault (only a corrupted container gets here).
#[derive(Debug, thiserror::Error)]
#[error("transformed stream `{stream}` at byte {position}: {problem}")]
pub struct JoinError {
    pub stream: &'static str,
    pub position: u64,
    pub problem: String,
}

/// What a table holds, hence how its entries are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableKind {
    /// Dump relocations (4-byte packed offset + type); their sites are rewritten.
    DumpRelocs = 0,
    /// Object starts (same packing, no sites).
    ObjectStarts = 1,
    /// Emacs relocations (16 bytes).
    EmacsRelocs = 2,
}

impl TableKind {
    fn entry_size(self) -> u64 {
        match self {
            TableKind::DumpRelocs | TableKind::ObjectStarts => DUMP_RELOC_SIZE,
            TableKind::EmacsRelocs => EMACS_RELOC_SIZE,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct TableSpec {
    offset: u64,
    count: u64,
    kind: TableKind,
}

/// Everything [`join`] needs to know before reading the other streams.
#[derive(Debug)]
struct Geometry {
    layout: Layout,
    len: u64,
    cold_start: u64,
    tables_start: u64,
    tables: Vec<TableSpec>,
}

const OFFSET_MASK: u32 = (1 << 27) - 1;

/// Splits a dump into streams, or `None` when the bytes are not a dump whose
/// geometry the transform covers.
pub fn split(data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let dump = Dump::parse(data).ok()?;
    let geometry = Geometry::of(&dump)?;
    let mut streams = vec![Vec::new(); STREAM_NAMES.len()];
    streams[GEOMETRY] = geometry.encode();
    for table in &geometry.tables {
        let bytes = &data[table.offset as usize..table.end() as usize];
        encode_table(table.kind, bytes, &mut streams);
    }
    let sites = sites(&geometry, data)?;
    let heap = &data[..geometry.cold_start as usize];
    streams[HEAP].reserve_exact(heap.len() - 8 * sites.len());
    let mut at = 0usize;
    // Pointer words as 8 byte planes (byte `i` of word `r` at `i * n + r`),
    // written in place.
    let n = sites.len();
    let mut pointers = vec![0u8; 8 * n];
    for (r, &site) in sites.iter().enumerate() {
        let start = (site & !1) as usize;
        streams[HEAP].extend_from_slice(&heap[at..start]);
        let word = u64::from_le_bytes(heap[start..start + 8].try_into().expect("8 bytes"));
        let stored = if site & 1 == 1 {
            word.wrapping_sub(start as u64)
        } else {
            word
        };
        for (i, byte) in stored.to_le_bytes().into_iter().enumerate() {
            pointers[i * n + r] = byte;
        }
        at = start + 8;
    }
    streams[HEAP].extend_from_slice(&heap[at..]);
    streams[POINTERS] = pointers;
    // Cold heap data, then whatever lies between and after the tables.
    streams[COLD]
        .extend_from_slice(&data[geometry.cold_start as usize..geometry.tables_start as usize]);
    let mut at = geometry.tables_start;
    for table in &geometry.tables {
        streams[COLD].extend_from_slice(&data[at as usize..table.offset as usize]);
        at = table.end();
    }
    streams[COLD].extend_from_slice(&data[at as usize..]);
    Some(streams)
}

/// How the streams of [`split`] become the file again. The two large
/// streams, heap words and cold bytes, are decoded by the caller straight
/// into their place in the output ([`Joiner::place`]); [`Joiner::finish`]
/// then builds the rest around them in place, so a rebuild needs little
/// memory beyond the file itself.
///
/// ```no_run
/// # let streams: Vec<Vec<u8>> = vec![];
/// use pdmp::transform::Joiner;
/// let lens: Vec<u64> = streams.iter().map(|s| s.len() as u64).collect();
/// let joiner = Joiner::new(&streams[0], &lens)?;
/// let mut out = vec![0; joiner.len()];
/// let mut aside: Vec<&[u8]> = Vec::new();
/// for (index, stream) in streams.iter().enumerate() {
///     match joiner.place(index) {
///         Some(range) => out[range].copy_from_slice(stream), // or decode there
///         None => {}
///     }
///     aside.push(stream);
/// }
/// joiner.finish(&mut out, &aside)?;
/// # Ok::<(), pdmp::transform::JoinError>(())
/// ```
#[derive(Debug)]
pub struct Joiner {
    geometry: Geometry,
    lens: [usize; STREAM_NAMES.len()],
}

impl Joiner {
    /// From the decoded geometry stream and the length of every stream (as
    /// a container's directory records them), checked against each other:
    /// the file length is the sum of what the streams hold.
    pub fn new(geometry: &[u8], lens: &[u64]) -> Result<Joiner, JoinError> {
        if lens.len() != STREAM_NAMES.len() {
            return Err(err(
                GEOMETRY,
                0,
                format!(
                    "{} streams, the transform has {}",
                    lens.len(),
                    STREAM_NAMES.len()
                ),
            ));
        }
        let geometry = Geometry::decode(geometry)?;
        let entries = |kind: TableKind| -> u64 {
            geometry
                .tables
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| t.count)
                .sum()
        };
        let packed = entries(TableKind::DumpRelocs) + entries(TableKind::ObjectStarts);
        let emacs = entries(TableKind::EmacsRelocs) * EMACS_RELOC_SIZE;
        let table_bytes = packed * DUMP_RELOC_SIZE + emacs;
        // `Geometry::decode` checked the tables lie in order inside the file.
        let cold = geometry.len - geometry.cold_start - table_bytes;
        let expected = [
            (TABLE_TYPES, packed, packed),
            // A delta is one to five varint bytes.
            (TABLE_OFFSETS, packed, 5 * packed),
            (EMACS_RELOCS, emacs, emacs),
            (COLD, cold, cold),
            (POINTERS, 0, geometry.cold_start),
            (HEAP, 0, geometry.cold_start),
        ];
        for (stream, min, max) in expected {
            if !(min..=max).contains(&lens[stream]) {
                let want = if min == max {
                    min.to_string()
                } else {
                    format!("{min} to {max}")
                };
                return Err(err(
                    stream,
                    lens[stream],
                    format!("holds {} bytes, the geometry needs {want}", lens[stream]),
                ));
            }
        }
        if !lens[POINTERS].is_multiple_of(8) || lens[HEAP] + lens[POINTERS] != geometry.cold_start {
            return Err(err(
                HEAP,
                lens[HEAP],
                format!(
                    "{} bytes with {} pointer bytes do not fill the {}-byte heap",
                    lens[HEAP], lens[POINTERS], geometry.cold_start
                ),
            ));
        }
        let mut sizes = [0usize; STREAM_NAMES.len()];
        for (size, &len) in sizes.iter_mut().zip(lens) {
            // Every length is now at most the file's (below 2^31).
            *size = len.min(geometry.len) as usize;
        }
        Ok(Joiner {
            geometry,
            lens: sizes,
        })
    }

    /// The length of the rebuilt file.
    pub fn len(&self) -> usize {
        self.geometry.len as usize
    }

    /// Whether the rebuilt file is empty (never, for a real dump).
    pub fn is_empty(&self) -> bool {
        self.geometry.len == 0
    }

    /// Where in the output stream `index` is to be decoded, or `None` when
    /// it is kept aside and given to [`Joiner::finish`].
    pub fn place(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let cold_start = self.geometry.cold_start as usize;
        match index {
            HEAP => Some(self.lens[POINTERS]..cold_start),
            COLD => Some(cold_start..cold_start + self.lens[COLD]),
            _ => None,
        }
    }

    /// Completes `out` ([`Joiner::len`] bytes, the placed streams already
    /// in their places) from the other streams (`aside[i]` is stream `i`;
    /// placed streams are not read).
    pub fn finish(&self, out: &mut [u8], aside: &[&[u8]]) -> Result<(), JoinError> {
        let geometry = &self.geometry;
        if out.len() != self.len() || aside.len() != STREAM_NAMES.len() {
            return Err(err(
                GEOMETRY,
                0,
                format!(
                    "{} streams and {} output bytes for a {}-byte file",
                    aside.len(),
                    out.len(),
                    self.len()
                ),
            ));
        }
        for (index, stream) in aside.iter().enumerate() {
            if self.place(index).is_none() && stream.len() != self.lens[index] {
                return Err(err(
                    index,
                    stream.len() as u64,
                    format!(
                        "decoded to {} bytes, not {}",
                        stream.len(),
                        self.lens[index]
                    ),
                ));
            }
        }
        // The cold stream goes on with the bytes between and after the
        // tables: move each piece to its place, the last first (every piece
        // moves towards the end).
        let mut pieces = Vec::with_capacity(geometry.tables.len() + 1);
        let mut at = geometry.tables_start;
        for table in &geometry.tables {
            pieces.push((at as usize, table.offset as usize));
            at = table.end();
        }
        pieces.push((at as usize, self.len()));
        let mut source = geometry.cold_start as usize + self.lens[COLD];
        for &(start, end) in pieces.iter().rev() {
            source -= end - start;
            out.copy_within(source..source + (end - start), start);
        }
        // The tables, collecting the relocated words on the way.
        let mut offsets = Reader::new(TABLE_OFFSETS, aside[TABLE_OFFSETS]);
        let mut types = Reader::new(TABLE_TYPES, aside[TABLE_TYPES]);
        let emacs = aside[EMACS_RELOCS];
        let mut emacs_at = 0usize;
        let mut sites = Vec::with_capacity(self.lens[POINTERS] / 8);
        crate::hugepages::advise(&sites);
        let rule = SiteRule::new(geometry.layout);
        for table in &geometry.tables {
            let target = &mut out[table.offset as usize..table.end() as usize];
            match table.kind {
                TableKind::DumpRelocs | TableKind::ObjectStarts => {
                    let mut previous = 0u32;
                    for entry in target.chunks_exact_mut(4) {
                        let delta = offsets.varint()?;
                        let delta = u32::try_from(delta)
                            .ok()
                            .filter(|&d| d <= OFFSET_MASK)
                            .ok_or_else(|| offsets.error("offset delta above 27 bits"))?;
                        let offset = previous.wrapping_add(delta) & OFFSET_MASK;
                        previous = offset;
                        let packed = offset | u32::from(types.byte()?) << 27;
                        entry.copy_from_slice(&packed.to_le_bytes());
                        if table.kind == TableKind::DumpRelocs {
                            sites.extend(rule.site(packed));
                        }
                    }
                }
                TableKind::EmacsRelocs => {
                    let size = target.len();
                    let columns = emacs
                        .get(emacs_at..emacs_at + size)
                        .ok_or_else(|| err(EMACS_RELOCS, emacs_at as u64, "too short".into()))?;
                    untranspose_into(columns, EMACS_RELOC_SIZE as usize, target);
                    emacs_at += size;
                }
            }
        }
        offsets.finish()?;
        types.finish()?;
        if emacs_at != emacs.len() {
            return Err(err(EMACS_RELOCS, emacs_at as u64, "bytes left over".into()));
        }
        if !order_sites(&mut sites, geometry.cold_start) {
            return Err(err(
                TABLE_OFFSETS,
                0,
                "relocations overlap or leave the heap".into(),
            ));
        }
        let pointers = aside[POINTERS];
        let n = sites.len();
        if pointers.len() != n * 8 {
            return Err(err(
                POINTERS,
                pointers.len() as u64,
                format!("{n} sites need {} bytes", n * 8),
            ));
        }
        // The heap words were decoded at the end of the heap; spread them
        // towards the start around the pointer words. Before site `r` the
        // unread heap bytes lie 8 (n - r) bytes ahead of where they go, so
        // nothing is overwritten before it is read. Pointer words are
        // stored as 8 byte planes: byte `i` of word `r` is at `i * n + r`.
        let (mut at, mut from) = (0usize, pointers.len());
        for (r, &site) in sites.iter().enumerate() {
            let start = (site & !1) as usize;
            let gap = start - at;
            // Whole words, forwards: the source is at least 8 bytes ahead,
            // so a word is read before anything overwrites it, and the up to
            // 7 bytes copied past `start` are then overwritten by the
            // pointer word (the unread heap begins 8 bytes after it).
            let mut k = 0;
            while k < gap {
                let word: [u8; 8] = out[from + k..from + k + 8].try_into().expect("8 bytes");
                out[at + k..at + k + 8].copy_from_slice(&word);
                k += 8;
            }
            from += gap;
            let mut stored = [0u8; 8];
            for (i, byte) in stored.iter_mut().enumerate() {
                *byte = pointers[i * n + r];
            }
            let stored = u64::from_le_bytes(stored);
            let word = if site & 1 == 1 {
                stored.wrapping_add(start as u64)
            } else {
                stored
            };
            out[start..start + 8].copy_from_slice(&word.to_le_bytes());
            at = start + 8;
        }
        // The rest of the heap is already in place.
        debug_assert_eq!(from, at);
        Ok(())
    }
}

/// Rebuilds the original bytes from the streams of [`split`].
pub fn join(streams: &[Vec<u8>]) -> Result<Vec<u8>, JoinError> {
    let lens: Vec<u64> = streams.iter().map(|s| s.len() as u64).collect();
    let joiner = Joiner::new(streams.first().map_or(&[], Vec::as_slice), &lens)?;
    // Bounded by the streams' own size, which `Joiner::new` checked.
    let mut out = vec![0u8; joiner.len()];
    let mut aside: Vec<&[u8]> = Vec::with_capacity(streams.len());
    for (index, stream) in streams.iter().enumerate() {
        if let Some(range) = joiner.place(index) {
            out[range].copy_from_slice(stream);
        }
        aside.push(stream);
    }
    joiner.finish(&mut out, &aside)?;
    Ok(out)
}

fn err(stream: usize, position: u64, problem: String) -> JoinError {
    JoinError {
        stream: STREAM_NAMES[stream],
        position,
        problem,
    }
}

impl TableSpec {
    fn end(&self) -> u64 {
        self.offset + self.count * self.kind.entry_size()
    }
}

impl Geometry {
    fn of(dump: &Dump) -> Option<Geometry> {
        let header = dump.header();
        let mut tables: Vec<TableSpec> = dump
            .dump_relocs()
            .map(|(_, table)| TableSpec {
                offset: table.offset,
                count: table.len() as u64,
                kind: TableKind::DumpRelocs,
            })
            .collect();
        tables.push(TableSpec {
            offset: header.object_starts.offset,
            count: header.object_starts.count,
            kind: TableKind::ObjectStarts,
        });
        tables.push(TableSpec {
            offset: header.emacs_relocs.offset,
            count: header.emacs_relocs.count,
            kind: TableKind::EmacsRelocs,
        });
        let geometry = Geometry {
            layout: header.layout,
            len: dump.size(),
            cold_start: header.cold_start,
            tables_start: header.tables_start(),
            tables,
        };
        geometry.check().then_some(geometry)
    }

    /// Tables in file order, back to back or with gaps, after the cold data.
    fn check(&self) -> bool {
        let mut at = self.tables_start;
        if self.cold_start > self.tables_start
            || self.tables_start > self.len
            || self.len > i32::MAX as u64
        {
            return false;
        }
        for table in &self.tables {
            let Some(end) = table
                .count
                .checked_mul(table.kind.entry_size())
                .and_then(|size| size.checked_add(table.offset))
            else {
                return false;
            };
            if table.offset < at || end > self.len {
                return false;
            }
            at = end;
        }
        true
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = vec![match self.layout {
            Layout::Emacs27 => 27,
            Layout::Emacs28 => 28,
        }];
        for value in [self.len, self.cold_start, self.tables_start] {
            out.extend_from_slice(&(value as u32).to_le_bytes());
        }
        out.push(self.tables.len() as u8);
        for table in &self.tables {
            out.extend_from_slice(&(table.offset as u32).to_le_bytes());
            out.extend_from_slice(&(table.count as u32).to_le_bytes());
            out.push(table.kind as u8);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Geometry, JoinError> {
        let mut r = Reader::new(GEOMETRY, bytes);
        let layout = match r.byte()? {
            27 => Layout::Emacs27,
            28 => Layout::Emacs28,
            other => return Err(r.error(&format!("layout {other} is neither 27 nor 28"))),
        };
        let len = r.u32()?;
        let cold_start = r.u32()?;
        let tables_start = r.u32()?;
        let count = r.byte()?;
        let mut tables = Vec::new();
        for _ in 0..count {
            let offset = r.u32()?;
            let entries = r.u32()?;
            let kind = match r.byte()? {
                0 => TableKind::DumpRelocs,
                1 => TableKind::ObjectStarts,
                2 => TableKind::EmacsRelocs,
                other => return Err(r.error(&format!("table kind {other} is unknown"))),
            };
            tables.push(TableSpec {
                offset,
                count: entries,
                kind,
            });
        }
        r.finish()?;
        let geometry = Geometry {
            layout,
            len,
            cold_start,
            tables_start,
            tables,
        };
        if !geometry.check() {
            return Err(err(GEOMETRY, 0, "tables do not fit the file".into()));
        }
        Ok(geometry)
    }
}

/// A relocated word packed in a `u32`: its file offset (a multiple of 4,
/// below 2^29) with bit 0 set when the word is stored relative to its site.
type Site = u32;

/// Which dump relocation types are sites, and which of those are stored
/// relative to their site (bit 0 of the [`Site`]), by type.
struct SiteRule([Option<u32>; 32]);

impl SiteRule {
    fn new(layout: Layout) -> SiteRule {
        let mut rule = [None; 32];
        for (flag, kind) in rule.iter_mut().zip(0u32..) {
            *flag = match RelocKind::from_type(kind, layout) {
                RelocKind::DumpPtrRaw => Some(1),
                RelocKind::DumpLispValue(t) => Some(u32::from(t != LispType::Symbol)),
                RelocKind::EmacsPtrRaw | RelocKind::EmacsLispValue(_) => Some(0),
                _ => None,
            };
        }
        SiteRule(rule)
    }

    /// The site of a dump relocation entry, `None` for kinds that do not
    /// relocate a whole word the transform rewrites.
    #[inline]
    fn site(&self, entry: u32) -> Option<Site> {
        let flag = self.0[(entry >> 27) as usize]?;
        Some((entry & OFFSET_MASK) << 2 | flag)
    }
}

/// Puts sites in file order; false when two overlap or one leaves
/// `[0, cold_start)`.
fn order_sites(sites: &mut [Site], cold_start: u64) -> bool {
    // The first table (nearly every site) is in order already: sort the
    // rest and merge it in from the back, without a buffer for the whole.
    let run = sites
        .windows(2)
        .position(|w| w[0] > w[1])
        .map_or(sites.len(), |i| i + 1);
    let mut rest = sites[run..].to_vec();
    rest.sort_unstable();
    let (mut i, mut k) = (run, sites.len());
    while let Some(&last) = rest.last() {
        k -= 1;
        if i > 0 && sites[i - 1] > last {
            i -= 1;
            sites[k] = sites[i];
        } else {
            sites[k] = last;
            rest.pop();
        }
    }
    let mut end = 0;
    for &site in sites.iter() {
        let offset = u64::from(site & !1);
        if offset < end || offset + 8 > cold_start {
            return false;
        }
        end = offset + 8;
    }
    true
}

/// The relocated words of the heap in file order, or `None` when two overlap
/// or one leaves `[0, cold_start)`.
fn sites(geometry: &Geometry, data: &[u8]) -> Option<Vec<Site>> {
    let mut sites = Vec::new();
    let rule = SiteRule::new(geometry.layout);
    for table in geometry
        .tables
        .iter()
        .filter(|t| t.kind == TableKind::DumpRelocs)
    {
        let bytes = &data[table.offset as usize..table.end() as usize];
        for entry in bytes.chunks_exact(4) {
            let entry = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
            sites.extend(rule.site(entry));
        }
    }
    order_sites(&mut sites, geometry.cold_start).then_some(sites)
}

/// Appends a table's entries to the table streams: packed tables as offset
/// deltas (varints) and type bytes, emacs relocations as byte columns.
fn encode_table(kind: TableKind, bytes: &[u8], streams: &mut [Vec<u8>]) {
    match kind {
        TableKind::DumpRelocs | TableKind::ObjectStarts => {
            let mut previous = 0u32;
            for entry in bytes.chunks_exact(4) {
                let packed = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
                let offset = packed & OFFSET_MASK;
                put_varint(
                    &mut streams[TABLE_OFFSETS],
                    u64::from(offset.wrapping_sub(previous) & OFFSET_MASK),
                );
                previous = offset;
                streams[TABLE_TYPES].push((packed >> 27) as u8);
            }
        }
        TableKind::EmacsRelocs => {
            streams[EMACS_RELOCS].extend(transpose(bytes, EMACS_RELOC_SIZE as usize));
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Byte `i` of every `width`-byte record, for each `i` in turn.
fn transpose(bytes: &[u8], width: usize) -> Vec<u8> {
    let records = bytes.len() / width;
    let mut out = vec![0; bytes.len()];
    for (r, record) in bytes.chunks_exact(width).enumerate() {
        for (i, &b) in record.iter().enumerate() {
            out[i * records + r] = b;
        }
    }
    out
}

/// The inverse of [`transpose`], into `out` (as long as `bytes`).
fn untranspose_into(bytes: &[u8], width: usize, out: &mut [u8]) {
    let records = bytes.len() / width;
    for (r, record) in out.chunks_exact_mut(width).enumerate() {
        for (i, b) in record.iter_mut().enumerate() {
            *b = bytes[i * records + r];
        }
    }
}

/// A cursor over one stream that reports where it ran short.
struct Reader<'a> {
    stream: usize,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(stream: usize, bytes: &'a [u8]) -> Self {
        Reader {
            stream,
            bytes,
            at: 0,
        }
    }

    fn error(&self, problem: &str) -> JoinError {
        err(self.stream, self.at as u64, problem.to_string())
    }

    #[inline]
    fn byte(&mut self) -> Result<u8, JoinError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.error("ends early"))?;
        self.at += 1;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u64, JoinError> {
        let bytes = self
            .bytes
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("ends early"))?;
        self.at += 4;
        Ok(u64::from(u32::from_le_bytes(
            bytes.try_into().expect("4 bytes"),
        )))
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, JoinError> {
        match self.bytes.get(self.at) {
            Some(&b) if b < 0x80 => {
                self.at += 1;
                Ok(u64::from(b))
            }
            _ => self.long_varint(),
        }
    }

    fn long_varint(&mut self) -> Result<u64, JoinError> {
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("varint longer than 5 bytes"))
    }

    fn finish(&self) -> Result<(), JoinError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error("bytes left over"))
        }
    }
}
