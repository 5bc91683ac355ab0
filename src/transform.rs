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
//! the file back together, byte for byte, from the streams alone.
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

/// A relocated word: its offset in the file and whether it is rewritten
/// relative to that offset, packed into one word (offset << 1 | relative):
/// a real dump has hundreds of thousands of sites.
#[derive(Debug, Clone, Copy)]
struct Site(u64);

impl Site {
    fn new(offset: u64, relative: bool) -> Site {
        Site(offset << 1 | u64::from(relative))
    }

    fn offset(self) -> u64 {
        self.0 >> 1
    }

    fn relative(self) -> bool {
        self.0 & 1 != 0
    }
}

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
    let mut pointers = Vec::with_capacity(sites.len() * 8);
    for site in &sites {
        let start = site.offset() as usize;
        streams[HEAP].extend_from_slice(&heap[at..start]);
        let word = u64::from_le_bytes(heap[start..start + 8].try_into().expect("8 bytes"));
        let stored = if site.relative() {
            word.wrapping_sub(site.offset())
        } else {
            word
        };
        pointers.extend_from_slice(&stored.to_le_bytes());
        at = start + 8;
    }
    streams[HEAP].extend_from_slice(&heap[at..]);
    streams[POINTERS] = transpose(&pointers, 8);
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

/// Rebuilds the original bytes from the streams of [`split`].
pub fn join(streams: &[Vec<u8>]) -> Result<Vec<u8>, JoinError> {
    if streams.len() != STREAM_NAMES.len() {
        return Err(JoinError {
            stream: STREAM_NAMES[GEOMETRY],
            position: 0,
            problem: format!(
                "{} streams, the transform has {}",
                streams.len(),
                STREAM_NAMES.len()
            ),
        });
    }
    let geometry = Geometry::decode(&streams[GEOMETRY])?;
    // The file is exactly what the streams hold: check before allocating it.
    let held = streams[HEAP].len()
        + streams[POINTERS].len()
        + streams[COLD].len()
        + streams[EMACS_RELOCS].len()
        + 4 * streams[TABLE_TYPES].len();
    if held as u64 != geometry.len {
        return Err(err(
            GEOMETRY,
            1,
            format!(
                "file length {} differs from the {held} bytes the streams hold",
                geometry.len
            ),
        ));
    }
    // Zeroed by the allocator (fresh pages), bounded by the streams' size.
    let mut out = vec![0u8; geometry.len as usize];
    let mut offsets = Reader::new(TABLE_OFFSETS, &streams[TABLE_OFFSETS]);
    let mut types = Reader::new(TABLE_TYPES, &streams[TABLE_TYPES]);
    let emacs = &streams[EMACS_RELOCS];
    let mut emacs_at = 0usize;
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
                    let kind = u32::from(types.byte()?);
                    entry.copy_from_slice(&(offset | kind << 27).to_le_bytes());
                }
            }
            TableKind::EmacsRelocs => {
                let size = target.len();
                let columns = emacs
                    .get(emacs_at..emacs_at + size)
                    .ok_or_else(|| err(EMACS_RELOCS, emacs_at as u64, "too short".into()))?;
                target.copy_from_slice(&untranspose(columns, EMACS_RELOC_SIZE as usize));
                emacs_at += size;
            }
        }
    }
    offsets.finish()?;
    types.finish()?;
    if emacs_at != emacs.len() {
        return Err(err(EMACS_RELOCS, emacs_at as u64, "bytes left over".into()));
    }
    let sites = sites(&geometry, &out).ok_or_else(|| {
        err(
            TABLE_OFFSETS,
            0,
            "relocations overlap or leave the heap".into(),
        )
    })?;
    let pointers = &streams[POINTERS];
    if pointers.len() != sites.len() * 8 {
        return Err(err(
            POINTERS,
            pointers.len() as u64,
            format!("{} sites need {} bytes", sites.len(), sites.len() * 8),
        ));
    }
    let heap = &streams[HEAP];
    let cold_start = geometry.cold_start as usize;
    if heap.len() + pointers.len() != cold_start {
        return Err(err(
            HEAP,
            heap.len() as u64,
            format!(
                "{} bytes with {} pointer bytes do not fill the {cold_start}-byte heap",
                heap.len(),
                pointers.len()
            ),
        ));
    }
    // Pointer words are stored as 8 byte planes: byte `i` of word `r` is at
    // `i * n + r`.
    let n = sites.len();
    let (mut at, mut from) = (0usize, 0usize);
    for (r, site) in sites.iter().enumerate() {
        let start = site.offset() as usize;
        let gap = start - at;
        out[at..start].copy_from_slice(&heap[from..from + gap]);
        from += gap;
        let mut stored = [0u8; 8];
        for (i, byte) in stored.iter_mut().enumerate() {
            *byte = pointers[i * n + r];
        }
        let stored = u64::from_le_bytes(stored);
        let word = if site.relative() {
            stored.wrapping_add(site.offset())
        } else {
            stored
        };
        out[start..start + 8].copy_from_slice(&word.to_le_bytes());
        at = start + 8;
    }
    out[at..cold_start].copy_from_slice(&heap[from..]);
    // Cold data and the bytes around the tables.
    let cold = &streams[COLD];
    let mut cold_at = 0usize;
    let mut fill = |out: &mut [u8], start: u64, end: u64| -> Result<(), JoinError> {
        let len = (end - start) as usize;
        let bytes = cold
            .get(cold_at..cold_at + len)
            .ok_or_else(|| err(COLD, cold_at as u64, "too short".into()))?;
        out[start as usize..end as usize].copy_from_slice(bytes);
        cold_at += len;
        Ok(())
    };
    fill(&mut out, geometry.cold_start, geometry.tables_start)?;
    let mut at = geometry.tables_start;
    for table in &geometry.tables {
        fill(&mut out, at, table.offset)?;
        at = table.end();
    }
    fill(&mut out, at, geometry.len)?;
    if cold_at != cold.len() {
        return Err(err(COLD, cold_at as u64, "bytes left over".into()));
    }
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

/// The relocated words of the heap in file order, or `None` when two overlap
/// or one leaves `[0, cold_start)`.
fn sites(geometry: &Geometry, data: &[u8]) -> Option<Vec<Site>> {
    let mut sites = Vec::new();
    for table in geometry
        .tables
        .iter()
        .filter(|t| t.kind == TableKind::DumpRelocs)
    {
        let bytes = &data[table.offset as usize..table.end() as usize];
        for entry in bytes.chunks_exact(4) {
            let packed = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
            let offset = u64::from(packed & OFFSET_MASK) << 2;
            let relative = match RelocKind::from_type(packed >> 27, geometry.layout) {
                RelocKind::DumpPtrRaw => true,
                RelocKind::DumpLispValue(t) => t != LispType::Symbol,
                RelocKind::EmacsPtrRaw | RelocKind::EmacsLispValue(_) => false,
                _ => continue,
            };
            sites.push(Site::new(offset, relative));
        }
    }
    sites.sort_unstable_by_key(|s| s.offset());
    let mut end = 0;
    for site in &sites {
        if site.offset() < end || site.offset() + 8 > geometry.cold_start {
            return None;
        }
        end = site.offset() + 8;
    }
    Some(sites)
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

fn untranspose(bytes: &[u8], width: usize) -> Vec<u8> {
    let records = bytes.len() / width;
    let mut out = vec![0; bytes.len()];
    for (r, record) in out.chunks_exact_mut(width).enumerate() {
        for (i, b) in record.iter_mut().enumerate() {
            *b = bytes[i * records + r];
        }
    }
    out
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

    fn varint(&mut self) -> Result<u64, JoinError> {
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
