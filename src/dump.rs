//! A dump file as a whole: the header plus bounds-checked access to its
//! regions, tables and words, over a memory map or any byte slice.

use crate::error::{Error, Result};
use crate::header::{Header, Phase, TableLocator, DUMP_RELOC_SIZE, EMACS_RELOC_SIZE};
use crate::lisp::VectorHeader;
use crate::pvec::{self, PvecDetection};
use crate::tables::{DumpRelocTable, EmacsRelocTable, EmacsRelocValue, ObjectStartTable, Table};
use std::fs::File;
use std::ops::Range;
use std::path::Path;

/// A dump file mapped read-only into memory. The file is never written.
pub struct DumpFile {
    map: memmap2::Mmap,
}

impl DumpFile {
    /// Maps `path`. Fails with [`Error::Empty`] on a zero-byte file (which
    /// cannot be mapped) and with an I/O error on anything unreadable.
    pub fn open(path: &Path) -> Result<DumpFile> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(Error::Io(std::io::Error::other("is a directory")));
        }
        if meta.len() == 0 {
            return Err(Error::Empty);
        }
        // SAFETY: the map is read-only and private to this process. Another
        // process truncating the file while we read it could fault; pdmp
        // accepts that risk like every mmap-based reader (ripgrep, object).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        // Pages of the file not yet in the page cache are then read in as
        // huge folios instead of 4 KiB ones. Only advice (a refusal changes
        // nothing), and it only matters to the first reader after the file
        // left the cache; but every later map of those pages, by pdmp or by
        // Emacs, costs the kernel a fraction as much (bench/info.sh).
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Ok(DumpFile { map })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Drops this process's page-table entries for bytes `range` of the map
    /// (`MADV_DONTNEED`; clipped to the map). The pages stay in the page
    /// cache and are mapped again, with the same bytes, when next read: the
    /// map shows the same contents. Tearing the entries down costs as much as
    /// it does at exit, where one thread does it for every page the process
    /// touched; threads done reading can share the work beforehand.
    pub fn release(&self, range: Range<usize>) {
        let end = range.end.min(self.map.len());
        let start = range.start.min(end);
        // SAFETY: the map is read-only and shared (memmap2's `Mmap::map`),
        // so nothing of ours can be discarded: a released page reads back
        // from the file like any page of the map not yet touched.
        let released = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
        // Should the kernel refuse, the entries go at exit as they would anyway.
        drop(released);
    }

    /// Parses the header and returns a view of the dump.
    pub fn dump(&self) -> Result<Dump<'_>> {
        Dump::parse(&self.map)
    }
}

/// A half-open byte range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    pub offset: u64,
    pub size: u64,
}

impl Span {
    fn between(start: u64, end: u64) -> Span {
        Span {
            offset: start,
            size: end.saturating_sub(start),
        }
    }

    pub fn end(&self) -> u64 {
        self.offset + self.size
    }

    pub fn contains(&self, offset: u64) -> bool {
        (self.offset..self.end()).contains(&offset)
    }
}

/// Where the parts of a dump lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Regions {
    pub header: Span,
    /// Ordinary heap objects (with 4 pad bytes after a 100-byte header).
    pub hot: Span,
    /// Images copied into the executable at load time, then dropped.
    pub discardable: Span,
    /// The part of the discardable region the copied images occupy; the rest
    /// is zero padding up to `cold_start`.
    pub discardable_used: u64,
    /// From `cold_start` to the end of the file, tables included.
    pub cold: Span,
    /// Cold heap data: string bytes, floats, bool-vectors, bignum limbs.
    pub cold_heap: Span,
    /// The relocation and object-start tables.
    pub tables: Span,
}

/// An image in the discardable region and where Emacs copies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscardableCopy {
    /// The bytes copied.
    pub source: Span,
    /// Destination relative to `emacs_basis`.
    pub destination: i64,
}

/// A parsed dump borrowing its bytes. Every accessor is bounds-checked
/// against the file; nothing is decoded until asked for.
#[derive(Debug, Clone, Copy)]
pub struct Dump<'a> {
    data: &'a [u8],
    header: Header,
}

impl<'a> Dump<'a> {
    /// Parses `data`, a whole dump file.
    pub fn parse(data: &'a [u8]) -> Result<Dump<'a>> {
        let header = Header::parse(data)?;
        Ok(Dump { data, header })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn table<E: crate::tables::Entry>(
        &self,
        locator: TableLocator,
        entry_size: u64,
    ) -> Table<'a, E> {
        // Header::parse checked that every table lies inside the file.
        let start = locator.offset as usize;
        let end = locator.end(entry_size) as usize;
        Table::new(&self.data[start..end], locator.offset, self.header.layout)
    }

    /// The dump relocation table of each phase, in header order.
    pub fn dump_relocs(&self) -> impl Iterator<Item = (Phase, DumpRelocTable<'a>)> + '_ {
        self.header
            .dump_reloc_tables()
            .map(|(phase, locator)| (phase, self.table(locator, DUMP_RELOC_SIZE)))
    }

    pub fn object_starts(&self) -> ObjectStartTable<'a> {
        self.table(self.header.object_starts, DUMP_RELOC_SIZE)
    }

    pub fn emacs_relocs(&self) -> EmacsRelocTable<'a> {
        self.table(self.header.emacs_relocs, EMACS_RELOC_SIZE)
    }

    /// `len` bytes at `offset`, or an error naming `what` was being read.
    pub fn bytes_at(&self, offset: u64, len: u64, what: &'static str) -> Result<&'a [u8]> {
        offset
            .checked_add(len)
            .filter(|&end| end <= self.size())
            .map(|end| &self.data[offset as usize..end as usize])
            .ok_or_else(|| Error::OutOfBounds {
                what,
                offset,
                len,
                size: self.size(),
            })
    }

    /// The little-endian 8-byte word at `offset`.
    pub fn word_at(&self, offset: u64) -> Result<u64> {
        let bytes = self.bytes_at(offset, 8, "word")?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    /// The word at `offset`, or `None` outside the file: for hot loops that
    /// count failures instead of reporting them.
    pub fn word(&self, offset: u64) -> Option<u64> {
        let start = usize::try_from(offset).ok()?;
        let bytes = self.data.get(start..start.checked_add(8)?)?;
        Some(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    /// The header word of the vectorlike object at `offset`.
    pub fn vector_header_at(&self, offset: u64) -> Result<VectorHeader> {
        let bytes = self.bytes_at(offset, 8, "vectorlike header")?;
        Ok(VectorHeader(u64::from_le_bytes(
            bytes.try_into().expect("8 bytes"),
        )))
    }

    /// Offsets of the objects the hash list names (hash tables in a sound
    /// dump), or `None` when there is no usable list: Emacs 27, a zero
    /// `hash_list`, or a vector that is not plain or does not fit the hot region.
    pub fn hash_list_entries(&self) -> Option<impl Iterator<Item = u64> + '_> {
        let list = self.header.hash_list.filter(|&offset| offset != 0)?;
        let len = self.vector_header_at(list).ok()?.plain_len()?;
        let slots_end = len.checked_mul(8)?.checked_add(list + 8)?;
        if slots_end > self.header.discardable_start {
            return None;
        }
        // Unrelocated Lisp slots hold the target's dump offset plus its tag.
        Some((0..len).filter_map(move |i| {
            let word = self.word_at(list + 8 + 8 * i).ok()?;
            Some(word & !0b111)
        }))
    }

    /// Length of the hash-list vector, when there is one.
    pub fn hash_list_len(&self) -> Option<u64> {
        let list = self.header.hash_list.filter(|&offset| offset != 0)?;
        self.vector_header_at(list).ok()?.plain_len()
    }

    /// Region geometry. The used part of the discardable region is where the
    /// last COPY_FROM_DUMP source inside it ends.
    pub fn regions(&self) -> Regions {
        let h = &self.header;
        let header_size = h.layout.header_size();
        let discardable = Span::between(h.discardable_start, h.cold_start);
        let discardable_used = self
            .emacs_relocs()
            .copies_end_within(discardable.offset..discardable.end())
            .map_or(0, |end| end - h.discardable_start);
        Regions {
            header: Span::between(0, header_size),
            hot: Span::between(header_size, h.discardable_start),
            discardable,
            discardable_used,
            cold: Span::between(h.cold_start, self.size()),
            cold_heap: Span::between(h.cold_start, h.tables_start()),
            tables: Span::between(h.tables_start(), h.tables_end()),
        }
    }

    /// The COPY_FROM_DUMP emacs relocations whose source lies wholly in the
    /// discardable region: the images Emacs copies into itself at load time.
    pub fn discardable_copies(&self) -> impl Iterator<Item = DiscardableCopy> + '_ {
        let region = Span::between(self.header.discardable_start, self.header.cold_start);
        self.emacs_relocs().iter().filter_map(move |reloc| {
            let EmacsRelocValue::CopyFromDump {
                dump_offset,
                length,
            } = reloc.value
            else {
                return None;
            };
            let start = u64::try_from(dump_offset).ok()?;
            let end = start.checked_add(u64::try_from(length).ok()?)?;
            (region.contains(start) && end <= region.end()).then_some(DiscardableCopy {
                source: Span::between(start, end),
                destination: reloc.emacs_offset.into(),
            })
        })
    }

    /// Which pvec numbering the dump was written with, and the evidence.
    pub fn pvec_numbering(&self) -> PvecDetection {
        pvec::detect(self)
    }
}
