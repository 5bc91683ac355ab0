//! The reference loader: brings a dump written by [`crate::writer`] back to
//! life the way Emacs's loader does, then decodes values from it.
//!
//! One reservation per heap holds the runtime image (`emacs_basis`) and,
//! 64 KiB further, the dump (`dump_base`). The dump is mapped privately in
//! three parts (hot, discardable, cold; every boundary 64 KiB aligned, so it
//! works with 4, 16 and 64 KiB pages) or read into memory (`--no-mmap`),
//! from a dump file or from the byte range of an executable that carries
//! its dump ([`crate::origin`]).
//! The loader checks magic and fingerprint, applies the dump relocations
//! and the emacs relocations, drops the discardable pages and rebuilds the
//! hash tables. A dump pre-relocated for a preferred base that is mapped at
//! that base needs no dump relocation at all. Each [`LoadedHeap`] is
//! independent, so several can load one dump in parallel threads.

use crate::dump::Span;
use crate::header::Phase;
use crate::header::{Header, Layout, FAILED_DUMP_MARKER, FINGERPRINT_LEN, MAGIC};
use crate::heap::obarray_bucket;
use crate::image::{self, var};
use crate::lisp::{LispType, VectorHeader};
use crate::objlayout::{self as ol, Pvecs};
use crate::origin::{DumpSource, Located};
use crate::pvec::PvecNumbering;
use crate::tables::{DumpRelocTable, EmacsReloc, EmacsRelocValue, RelocKind, Table};
use crate::value::{HashTableValue, LispString, Value};
use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

/// Why a dump could not be loaded; messages follow Emacs's.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("could not load dump file \"{path}\": could not find dump file ({source})")]
    NotFound {
        path: String,
        source: std::io::Error,
    },
    #[error("could not load dump file \"{path}\": not a dump file{detail}")]
    BadFileType { path: String, detail: String },
    #[error("could not load dump file \"{path}\": dump file is result of failed dump attempt")]
    FailedDump { path: String },
    #[error(
        "could not load dump file \"{path}\": not built for this executable\n\
         Dump fingerprint: {dump}\nRuntime fingerprint: {runtime}"
    )]
    VersionMismatch {
        path: String,
        dump: String,
        runtime: String,
    },
    #[error("could not load dump file \"{path}\": out of memory ({detail})")]
    OutOfMemory { path: String, detail: String },
    #[error("could not load dump file \"{path}\": {detail}")]
    Corrupt { path: String, detail: String },
}

/// How to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Map the file (true) or read it into memory.
    pub mmap: bool,
    /// The fingerprint of the runtime doing the loading.
    pub fingerprint: [u8; 32],
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            mmap: true,
            fingerprint: image::FINGERPRINT,
        }
    }
}

/// What the load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LoadReport {
    /// The dump was mapped (false: read, by request or because an embedded
    /// dump's offset is not a multiple of the page size).
    pub mmap: bool,
    /// Hot and discardable bytes were read into memory (always without
    /// mmap; with mmap whenever relocation must write them) rather than
    /// mapped from the file.
    pub hot_read: bool,
    /// Address of the dump in memory.
    pub dump_base: u64,
    /// Address the dump was pre-relocated for, if any.
    pub preferred_base: Option<u64>,
    /// Dump relocations applied (0 at the preferred base).
    pub dump_relocs_applied: u64,
    pub emacs_relocs_applied: u64,
    pub hash_tables: u64,
    /// Bytes of discardable pages given back.
    pub discarded_bytes: u64,
}

/// A rebuilt hash table: its pairs and an index from printed key to pair.
#[derive(Debug, Clone)]
struct Thawed {
    value: HashTableValue,
    index: HashMap<Vec<u8>, usize>,
}

/// Memory reserved for one heap; unmapped on drop.
struct Region {
    ptr: *mut u8,
    len: usize,
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: ptr/len come from our own mmap.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// A loaded heap. Owns its memory; dropping it unmaps everything.
pub struct LoadedHeap {
    _region: Region,
    emacs_basis: u64,
    dump_base: u64,
    size: u64,
    header: Header,
    pvecs: Pvecs,
    numbering: PvecNumbering,
    tables: HashMap<u64, Thawed>,
    pub report: LoadReport,
}

// SAFETY: the heap owns its region exclusively; nothing else aliases it.
unsafe impl Send for LoadedHeap {}

const PAGE: u64 = 65536;
/// A transparent huge page on x86_64.
const HUGE_PAGE: u64 = 2 << 20;
/// Below this many hot bytes one thread reads and relocates the dump: a
/// second thread costs more to start than it saves.
const TWO_THREADS_FROM: u64 = 1 << 20;
/// Nesting depth beyond which decoding stops (cycles or corruption).
const MAX_DEPTH: usize = 10_000;

fn corrupt(path: &str, detail: impl Into<String>) -> LoadError {
    LoadError::Corrupt {
        path: path.to_string(),
        detail: detail.into(),
    }
}

/// Reserves `len` bytes of fresh anonymous memory, at `at` when given and
/// free (MAP_FIXED_NOREPLACE), else anywhere such that `start + lead` is
/// 2 MiB aligned (so the dump can sit in huge pages).
fn reserve(len: usize, at: Option<u64>, lead: u64) -> Option<*mut u8> {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
    if let Some(addr) = at {
        // SAFETY: a fresh anonymous mapping that replaces nothing.
        let p = unsafe {
            libc::mmap(
                addr as *mut _,
                len,
                prot,
                flags | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            if p as u64 == addr {
                return Some(p.cast());
            }
            // Old kernels ignore the flag and map elsewhere.
            // SAFETY: unmapping what we just mapped.
            unsafe { libc::munmap(p, len) };
        }
    }
    let over = len + HUGE_PAGE as usize;
    // SAFETY: a fresh anonymous mapping anywhere.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), over, prot, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return None;
    }
    let start = (p as u64 + lead).next_multiple_of(HUGE_PAGE) - lead;
    let (lead, trail) = (
        start - p as u64,
        (p as u64 + over as u64) - (start + len as u64),
    );
    // SAFETY: trimming our own mapping to the aligned part.
    unsafe {
        if lead > 0 {
            libc::munmap(p, lead as usize);
        }
        if trail > 0 {
            libc::munmap((start + len as u64) as *mut _, trail as usize);
        }
    }
    Some(start as *mut u8)
}

/// Reads bytes `start..end` of the dump (which begins at `offset` of the
/// file) to the same offsets at `dump_base`,
/// into anonymous memory asked to be huge pages and populated in one call
/// (a page fault per 4 KiB page would cost more than the copy).
fn read_part(
    (file, offset): (&File, u64),
    dump_base: u64,
    start: u64,
    end: u64,
) -> Result<(), String> {
    if end <= start {
        return Ok(());
    }
    let at = dump_base + start;
    let len = (end - start) as usize;
    // SAFETY: advice on our own anonymous reservation; failure (no THP,
    // kernel before 5.14, an unaligned start) only loses speed.
    unsafe {
        libc::madvise(at as *mut _, len, libc::MADV_HUGEPAGE);
        libc::madvise(at as *mut _, len, libc::MADV_POPULATE_WRITE);
    }
    // SAFETY: the range lies inside our reservation.
    let buf = unsafe { std::slice::from_raw_parts_mut(at as *mut u8, len) };
    file.read_exact_at(buf, offset + start)
        .map_err(|e| format!("cannot read bytes {start}..{end}: {e}"))
}

/// Applies `relocs` to the dump at `base`: each adds `add[type]` to its
/// word, bignums move their limb pointer (and a fresh dump's
/// `{int32 data_location, int32 nlimbs}` becomes an mpz `{alloc, size,
/// limbs}`). Every byte written must lie in `owned`.
///
/// # Safety
/// `owned` must lie in the dump at `base`, and no other thread may touch it.
unsafe fn apply(
    base: u64,
    owned: Range<u64>,
    relocs: DumpRelocTable<'_>,
    add: &[Option<u64>; 32],
    layout: Layout,
    delta: Option<u64>,
) -> Result<(), String> {
    let word = |offset: u64| (base + offset) as *mut u64;
    // Each site lies at or after the previous one: the table is sorted.
    let mut floor = owned.start;
    for (offset, t) in relocs.raw() {
        let kind = add[t as usize];
        let len = if kind.is_some() { 8 } else { 24 };
        if offset < floor || offset + len > owned.end {
            return Err(format!(
                "relocation at offset {offset} lies outside {floor}..{} (beyond cold_start, \
                 or the table is not sorted)",
                owned.end
            ));
        }
        floor = offset;
        match kind {
            // SAFETY (all writes): inside `owned`, checked above.
            Some(a) => {
                let site = word(offset);
                site.write_unaligned(site.read_unaligned().wrapping_add(a));
            }
            None => match (RelocKind::from_type(t, layout), delta) {
                (RelocKind::Bignum, Some(d)) => {
                    let limbs = word(offset + 16);
                    limbs.write_unaligned(limbs.read_unaligned().wrapping_add(d));
                }
                (RelocKind::Bignum, None) => {
                    let packed = word(offset + 8).read_unaligned();
                    let data = u64::from(packed as u32);
                    let nlimbs = (packed >> 32) as u32 as i32;
                    let mpz = u64::from(nlimbs.unsigned_abs()) | (u64::from(nlimbs as u32) << 32);
                    word(offset + 8).write_unaligned(mpz);
                    word(offset + 16).write_unaligned(base + data);
                }
                (other, _) => {
                    return Err(format!(
                        "unexpected relocation {} at offset {offset}",
                        other.name()
                    ))
                }
            },
        }
    }
    Ok(())
}

/// Maps the dump at `offset` of the file privately over `dump_base` in three parts: hot,
/// discardable and cold, each starting 64 KiB aligned. With `hot_read`,
/// hot and discardable were read into memory and only cold is mapped.
fn map_file(
    file: &File,
    name: &str,
    offset: u64,
    dump_base: u64,
    size: u64,
    h: &Header,
    hot_read: bool,
) -> Result<(), LoadError> {
    let adj = h.discardable_start.next_multiple_of(PAGE).min(h.cold_start);
    for (start, end) in [(0, adj), (adj, h.cold_start), (h.cold_start, size)] {
        if end <= start || (hot_read && start < h.cold_start) {
            continue;
        }
        // SAFETY: maps file pages over our own reservation.
        let p = unsafe {
            libc::mmap(
                (dump_base + start) as *mut _,
                (end - start) as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                file.as_raw_fd(),
                (offset + start) as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(corrupt(
                name,
                format!(
                    "cannot map bytes {start}..{end}: {}",
                    std::io::Error::last_os_error()
                ),
            ));
        }
    }
    Ok(())
}

/// The system's page size (mapping offsets are multiples of it).
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096).max(1)
}

/// Checks magic and fingerprint in the first 48 bytes.
fn check_identity(path: &str, head: &[u8], fingerprint: &[u8; 32]) -> Result<(), LoadError> {
    if head.len() < 48 || head[1..16] != MAGIC[1..] {
        return Err(LoadError::BadFileType {
            path: path.into(),
            detail: String::new(),
        });
    }
    if head[0] == FAILED_DUMP_MARKER {
        return Err(LoadError::FailedDump { path: path.into() });
    }
    if head[0] != MAGIC[0] {
        return Err(LoadError::BadFileType {
            path: path.into(),
            detail: String::new(),
        });
    }
    if head[16..16 + FINGERPRINT_LEN] != fingerprint[..] {
        return Err(LoadError::VersionMismatch {
            path: path.into(),
            dump: crate::header::hex(&head[16..48]),
            runtime: crate::header::hex(fingerprint),
        });
    }
    Ok(())
}

impl LoadedHeap {
    /// Loads the dump file at `path`.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<LoadedHeap, LoadError> {
        Self::load_from(&DumpSource::file(path), options)
    }

    /// Loads the dump `source`: a whole file, or a byte range of one (the
    /// dump an executable carries). The range is mapped in place when its
    /// offset is a multiple of the page size, else read.
    pub fn load_from(source: &DumpSource, options: &LoadOptions) -> Result<LoadedHeap, LoadError> {
        let file = File::open(&source.path).map_err(|error| LoadError::NotFound {
            path: source.describe(),
            source: error,
        })?;
        Self::load_open(source, &file, options)
    }

    /// Loads what [`crate::origin::locate`] found, through the file it
    /// already opened when it has one.
    pub fn load_located(located: &Located, options: &LoadOptions) -> Result<LoadedHeap, LoadError> {
        match &located.opened {
            Some(file) => Self::load_open(&located.source, file, options),
            None => Self::load_from(&located.source, options),
        }
    }

    /// [`Self::load_from`] through `file`, the file `source` names, open.
    fn load_open(
        source: &DumpSource,
        file: &File,
        options: &LoadOptions,
    ) -> Result<LoadedHeap, LoadError> {
        let name = source.describe();
        let file_size = file
            .metadata()
            .map_err(|e| corrupt(&name, e.to_string()))?
            .len();
        let Span { offset, size } = source.range.unwrap_or(Span {
            offset: 0,
            size: file_size,
        });
        if offset.checked_add(size).is_none_or(|end| end > file_size) {
            return Err(corrupt(
                &name,
                format!("bytes {offset}..+{size} lie outside the file ({file_size} bytes)"),
            ));
        }
        let mut head = [0u8; 48];
        let got = file
            .read_at(&mut head[..size.min(48) as usize], offset)
            .map_err(|e| corrupt(&name, e.to_string()))?;
        check_identity(&name, &head[..got], &options.fingerprint)?;
        if size > i32::MAX as u64 {
            return Err(corrupt(&name, "larger than 2 GiB"));
        }
        let area = image::image_area();
        let dump_len = size.next_multiple_of(PAGE);
        let region_len = (area + dump_len) as usize;
        let mmap = options.mmap && offset.is_multiple_of(page_size());

        // With mmap, parse the dump through a read-only map first: the
        // preferred base decides where the reservation goes, and the tables
        // are read from it (the hot part is filled in later, in parallel).
        let peek = if mmap {
            // SAFETY: a read-only private map of the dump's range, kept until
            // the relocations are applied.
            let map = unsafe {
                memmap2::MmapOptions::new()
                    .offset(offset)
                    .len(size as usize)
                    .map(file)
            };
            Some(map.map_err(|e| corrupt(&name, e.to_string()))?)
        } else {
            None
        };
        let peeked = match &peek {
            Some(map) => {
                let dump = crate::Dump::parse(map).map_err(|e| corrupt(&name, e.to_string()))?;
                Some((
                    *dump.header(),
                    crate::prerelocation::recorded_preferred_base(&dump),
                ))
            }
            None => None,
        };
        let preferred = peeked.and_then(|p| p.1);
        let ptr = reserve(
            region_len,
            preferred.and_then(|p| p.checked_sub(area)),
            area,
        )
        .ok_or_else(|| LoadError::OutOfMemory {
            path: name.clone(),
            detail: format!("cannot reserve {region_len} bytes"),
        })?;
        let region = Region {
            ptr,
            len: region_len,
        };
        let dump_base = ptr as u64 + area;
        // Relocation writes nearly every hot page, so unless the dump sits
        // at its preferred base, hot and discardable are read in (by the
        // relocating threads) and only cold, which nothing writes, is mapped.
        let hot_read = match peeked {
            Some((header, preferred)) => {
                let hot_read = preferred != Some(dump_base);
                map_file(file, &name, offset, dump_base, size, &header, hot_read)?;
                hot_read
            }
            None => {
                read_part((file, offset), dump_base, 0, size).map_err(|e| corrupt(&name, e))?;
                true
            }
        };
        let source: &[u8] = match &peek {
            Some(map) => map,
            // SAFETY: the dump now lies at dump_base; this view ends
            // before anything writes to it.
            None => unsafe { std::slice::from_raw_parts(dump_base as *const u8, size as usize) },
        };
        let dump = crate::Dump::parse(source).map_err(|e| corrupt(&name, e.to_string()))?;
        let header = *dump.header();
        if let (Some(map), true, Some((_, table))) =
            (&peek, hot_read, header.dump_reloc_tables().next())
        {
            // The relocating threads read the whole table: map it in one
            // call rather than a fault every few pages (only speed is lost
            // where the kernel lacks it).
            let len = table.end(crate::header::DUMP_RELOC_SIZE) - table.offset;
            let _ = map.advise_range(
                memmap2::Advice::PopulateRead,
                table.offset as usize,
                len as usize,
            );
        }
        // A read dump learns its preferred base only now (it could not be
        // placed there) and relocates from it.
        let preferred = crate::prerelocation::recorded_preferred_base(&dump);
        // The discardable copies that tell the numbering are in the hot part
        // a mapped load has not read yet: the map has them.
        let numbering = dump
            .pvec_numbering()
            .numbering
            .unwrap_or(match header.layout {
                Layout::Emacs27 => PvecNumbering::Emacs27,
                Layout::Emacs28 => PvecNumbering::Emacs28,
            });
        // Only EARLY (or Emacs 27's single table) is ours to apply; the
        // later phases re-link native code, which needs a real Emacs.
        for (phase, table) in dump.dump_relocs() {
            if !matches!(phase, Phase::Early | Phase::All) && !table.is_empty() {
                return Err(corrupt(
                    &name,
                    format!(
                        "{} relocations (native compilation) are not supported",
                        phase.name()
                    ),
                ));
            }
        }
        let emacs: Vec<EmacsReloc> = dump.emacs_relocs().iter().collect();
        let mut heap = LoadedHeap {
            _region: region,
            emacs_basis: ptr as u64,
            dump_base,
            size,
            header,
            pvecs: Pvecs::of(numbering),
            numbering,
            tables: HashMap::new(),
            report: LoadReport {
                mmap,
                hot_read,
                dump_base,
                preferred_base: preferred,
                dump_relocs_applied: 0,
                emacs_relocs_applied: 0,
                hash_tables: 0,
                discarded_bytes: 0,
            },
        };
        // The bytes from cold_start on (the tables among them), which no
        // relocation writes.
        let start = header.cold_start;
        let tail: &[u8] = match &peek {
            Some(map) => &map[start as usize..],
            // SAFETY: the dump lies at dump_base and is `size` bytes long.
            None => unsafe {
                std::slice::from_raw_parts(
                    (dump_base + start) as *const u8,
                    (size - start) as usize,
                )
            },
        };
        let fill = (mmap && hot_read).then_some((file, offset));
        heap.relocate(&name, preferred, &emacs, (tail, start), fill)?;
        Ok(heap)
    }

    /// The dump's bytes in memory.
    fn bytes(&self) -> &[u8] {
        // SAFETY: the dump lies inside our region.
        unsafe { std::slice::from_raw_parts(self.dump_base as *const u8, self.size as usize) }
    }

    fn word_ptr(&self, addr: u64) -> Option<*mut u64> {
        let in_dump =
            addr >= self.dump_base && addr + 8 <= self.dump_base + self.header.tables_start();
        let in_image =
            addr >= self.emacs_basis && addr + 8 <= self.emacs_basis + image::image_size();
        (in_dump || in_image).then_some(addr as *mut u64)
    }

    fn store(&mut self, addr: u64, value: u64) {
        let p = self.word_ptr(addr).expect("checked site");
        // SAFETY: inside our writable region (unaligned-safe write).
        unsafe { p.write_unaligned(value) }
    }

    /// Applies the dump relocations, then the emacs relocations, drops the
    /// discardable pages and rebuilds the hash tables. `tail` is the file
    /// from the given offset (`cold_start`) on, holding the tables. With
    /// `fill` (a file and the dump's offset in it), the hot and discardable
    /// parts are first read from that file.
    /// Two threads share the work of a large dump, each its half.
    fn relocate(
        &mut self,
        name: &str,
        preferred: Option<u64>,
        emacs: &[EmacsReloc],
        (tail, tail_offset): (&[u8], u64),
        fill: Option<(&File, u64)>,
    ) -> Result<(), LoadError> {
        let header = self.header;
        let (_, locator) = header
            .dump_reloc_tables()
            .next()
            .expect("every layout has one");
        let table_end = locator.end(crate::header::DUMP_RELOC_SIZE);
        let table_bytes = locator
            .offset
            .checked_sub(tail_offset)
            .and_then(|from| tail.get(from as usize..(table_end - tail_offset) as usize))
            .ok_or_else(|| corrupt(name, "dump relocation table overlaps the heap"))?;
        let relocs: DumpRelocTable<'_> = Table::new(table_bytes, locator.offset, header.layout);
        let lispsym = self.emacs_basis + image::LISPSYM;
        let at_preferred = preferred == Some(self.dump_base);
        let delta = preferred.map(|p| self.dump_base.wrapping_sub(p));
        let add = (!at_preferred).then(|| self.addends(header.layout, delta));
        let cold = header.cold_start;
        let base = self.dump_base;
        let layout = header.layout;
        let read = |range: Range<u64>| match fill {
            Some(file) => read_part(file, base, range.start, range.end),
            None => Ok(()),
        };
        let relocate = |owned: Range<u64>, part: DumpRelocTable<'_>| {
            let Some(add) = &add else { return Ok(()) };
            // SAFETY: a part writes only inside its own byte range of the
            // dump (checked per entry); parts relocated at once are disjoint.
            unsafe { apply(base, owned, part, add, layout, delta) }
        };
        let results: Vec<Result<(), String>> = if cold < TWO_THREADS_FROM {
            vec![read(0..cold).and_then(|()| relocate(0..cold, relocs))]
        } else {
            // The halves: bytes are read split at a huge page, relocations
            // split by entry, each thread's sites in its own byte range (in
            // a sorted table, the first half's lie before the second's first
            // site).
            let read_mid = (cold / 2).next_multiple_of(HUGE_PAGE).min(cold);
            let k = relocs.len() / 2;
            let reloc_mid = relocs.get(k).map_or(cold, |r| r.offset.min(cold));
            let (front, back) = relocs.split_at(k);
            let barrier = std::sync::Barrier::new(2);
            let work = |(read_range, owned, part): (Range<u64>, Range<u64>, DumpRelocTable<'_>)| {
                let read = read(read_range);
                // Nobody writes before both halves are in.
                barrier.wait();
                read?;
                relocate(owned, part)
            };
            std::thread::scope(|scope| {
                let other = scope.spawn(|| work((read_mid..cold, reloc_mid..cold, back)));
                let mine = work((0..read_mid, 0..reloc_mid, front));
                vec![mine, other.join().expect("relocation thread")]
            })
        };
        for r in results {
            r.map_err(|e| corrupt(name, e))?;
        }
        if !at_preferred {
            self.report.dump_relocs_applied = relocs.len() as u64;
        }
        for r in emacs {
            let dest = self.emacs_basis.wrapping_add(r.emacs_offset as i64 as u64);
            let in_image = |len: u64| {
                (r.emacs_offset >= 0) && (r.emacs_offset as u64 + len <= image::image_size())
            };
            match r.value {
                EmacsRelocValue::CopyFromDump {
                    dump_offset,
                    length,
                } => {
                    let (src, len) = (dump_offset as u64, length as u64);
                    if dump_offset < 0 || length <= 0 || src + len > self.size || !in_image(len) {
                        return Err(corrupt(
                            name,
                            format!("copy relocation to {} out of bounds", r.emacs_offset),
                        ));
                    }
                    // SAFETY: both ranges checked; they do not overlap (image before dump).
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            (self.dump_base + src) as *const u8,
                            dest as *mut u8,
                            len as usize,
                        )
                    };
                }
                EmacsRelocValue::Immediate { value, length }
                    if (1..=8).contains(&length) && in_image(length as u64) =>
                {
                    let bytes = value.to_le_bytes();
                    // SAFETY: destination checked.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            bytes.as_ptr(),
                            dest as *mut u8,
                            length as usize,
                        )
                    };
                }
                EmacsRelocValue::DumpPtrRaw { dump_offset } if in_image(8) => {
                    self.store(dest, self.dump_base.wrapping_add(dump_offset as i64 as u64))
                }
                EmacsRelocValue::EmacsPtrRaw { emacs_offset } if in_image(8) => self.store(
                    dest,
                    self.emacs_basis.wrapping_add(emacs_offset as i64 as u64),
                ),
                EmacsRelocValue::DumpLispValue { dump_offset, tag } if in_image(8) => {
                    let ptr = self.dump_base.wrapping_add(dump_offset as i64 as u64);
                    let v = if tag == 0 {
                        ptr.wrapping_sub(lispsym)
                    } else {
                        ptr + tag as u64
                    };
                    self.store(dest, v);
                }
                EmacsRelocValue::EmacsLispValue { emacs_offset, tag } if in_image(8) => {
                    let ptr = self.emacs_basis.wrapping_add(emacs_offset as i64 as u64);
                    let v = if tag == 0 {
                        ptr.wrapping_sub(lispsym)
                    } else {
                        ptr + tag as u64
                    };
                    self.store(dest, v);
                }
                _ => {
                    return Err(corrupt(
                        name,
                        format!("bad emacs relocation at runtime offset {}", r.emacs_offset),
                    ))
                }
            }
        }
        self.report.emacs_relocs_applied = emacs.len() as u64;
        self.discard();
        self.thaw_hash_tables(name)
    }

    /// What a dump relocation of each 5-bit type adds to its word; `None`
    /// for the kinds that are not one addition (bignums, invalid types).
    /// `delta` is set when the words were pre-relocated for another base.
    fn addends(&self, layout: Layout, delta: Option<u64>) -> [Option<u64>; 32] {
        let lispsym = self.emacs_basis + image::LISPSYM;
        std::array::from_fn(|t| match (delta, RelocKind::from_type(t as u32, layout)) {
            (_, RelocKind::Bignum | RelocKind::NativeCompUnit | RelocKind::NativeSubr)
            | (_, RelocKind::Invalid(_)) => None,
            (Some(_), RelocKind::DumpLispValue(LispType::Symbol)) => Some(0),
            (Some(d), _) => Some(d),
            (None, RelocKind::EmacsPtrRaw) => Some(self.emacs_basis),
            (None, RelocKind::DumpPtrRaw) => Some(self.dump_base),
            (None, RelocKind::DumpLispValue(LispType::Symbol)) => {
                Some(self.dump_base.wrapping_sub(lispsym))
            }
            (None, RelocKind::DumpLispValue(t)) => Some(self.dump_base + u64::from(t.tag())),
            (None, RelocKind::EmacsLispValue(t)) => Some(self.emacs_basis + u64::from(t.tag())),
        })
    }

    /// Gives back the whole pages of the discardable region.
    fn discard(&mut self) {
        let start = self.header.discardable_start.next_multiple_of(PAGE);
        let end = self.header.cold_start;
        if end > start {
            let len = (end - start) as usize;
            // SAFETY: whole pages of our own region that nothing points into.
            unsafe {
                libc::madvise((self.dump_base + start) as *mut _, len, libc::MADV_DONTNEED);
                libc::mprotect((self.dump_base + start) as *mut _, len, libc::PROT_NONE);
            }
            self.report.discarded_bytes = len as u64;
        }
    }

    fn thaw_hash_tables(&mut self, name: &str) -> Result<(), LoadError> {
        let mut addrs = Vec::new();
        match self.header.hash_list.filter(|&l| l != 0) {
            Some(list) => {
                let at = self.dump_base + list;
                let len = self
                    .read(at)
                    .ok_or_else(|| corrupt(name, "hash list outside the dump"))?;
                for i in 0..len.min(self.size / 8) {
                    let w = self
                        .read(at + 8 + 8 * i)
                        .ok_or_else(|| corrupt(name, "hash list outside the dump"))?;
                    addrs.push(w - LispType::Vectorlike.tag() as u64);
                }
            }
            None => {
                // Emacs 27 has no hash list: find the tables by their headers.
                let dump =
                    crate::Dump::parse(self.bytes()).map_err(|e| corrupt(name, e.to_string()))?;
                for s in dump.object_starts().iter() {
                    if s.lisp_type() == Some(LispType::Vectorlike)
                        && s.offset < self.header.discardable_start
                    {
                        if let Ok(h) = dump.vector_header_at(s.offset) {
                            if h.is_pseudovector() && h.pvec_type() == self.pvecs.hash_table {
                                addrs.push(self.dump_base + s.offset);
                            }
                        }
                    }
                }
            }
        }
        for addr in addrs {
            let Value::HashTable(table) = self
                .decode(addr + LispType::Vectorlike.tag() as u64)
                .map_err(|e| corrupt(name, e))?
            else {
                return Err(corrupt(name, "hash list entry is not a hash table"));
            };
            let index = table
                .data
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.to_lisp_bytes(), i))
                .collect();
            self.tables.insert(
                addr,
                Thawed {
                    value: *table,
                    index,
                },
            );
        }
        self.report.hash_tables = self.tables.len() as u64;
        Ok(())
    }

    fn read(&self, addr: u64) -> Option<u64> {
        let p = self.word_ptr(addr)?;
        // SAFETY: inside our region, and not in the dropped pages (the
        // discardable region holds no object a value can point to).
        let discard_start = self.dump_base + self.header.discardable_start.next_multiple_of(PAGE);
        if addr >= discard_start && addr < self.dump_base + self.header.cold_start {
            return None;
        }
        Some(unsafe { p.read_unaligned() })
    }

    fn read_bytes(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let end = addr.checked_add(len)?;
        if addr < self.dump_base + self.header.cold_start
            || end > self.dump_base + self.header.tables_start()
        {
            return None;
        }
        // SAFETY: inside the cold heap part of the dump.
        Some(unsafe { std::slice::from_raw_parts(addr as *const u8, len as usize) })
    }

    /// The runtime variable at `offset` of the image.
    pub fn image_word(&self, offset: u64) -> u64 {
        self.read(self.emacs_basis + offset).unwrap_or(0)
    }

    /// The dump's root: a list of `(FILE . FORMS)`.
    pub fn root(&self) -> Result<Value, String> {
        self.decode(self.image_word(var::DUMP_ROOT))
    }

    /// The header of the loaded dump.
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn numbering(&self) -> PvecNumbering {
        self.numbering
    }

    /// The address of the symbol called `name` in the obarray.
    fn find_symbol(&self, name: &str) -> Option<u64> {
        let obarray = self.image_word(var::OBARRAY).checked_sub(5)?;
        let size = self.read(obarray)?;
        if size == 0 {
            return None;
        }
        let bucket = obarray_bucket(name.as_bytes(), size as usize) as u64;
        let head = self.read(obarray + 8 + 8 * bucket)?;
        if head & 7 != 0 {
            return None; // fixnum 0: empty bucket
        }
        let mut sym = self.emacs_basis + image::LISPSYM + head;
        for _ in 0..1_000_000 {
            let name_word = self.read(sym + ol::symbol::NAME)?;
            if let Ok(Value::Str(s)) = self.decode(name_word) {
                if s.bytes == name.as_bytes() {
                    return Some(sym);
                }
            }
            let next = self.read(sym + ol::symbol::NEXT)?;
            if next == 0 {
                return None;
            }
            sym = next;
        }
        None
    }

    /// The value cell of the symbol called `name`: `None` when there is no
    /// such symbol, `Some(None)` when it is void.
    pub fn symbol_value(&self, name: &str) -> Result<Option<Option<Value>>, String> {
        let Some(sym) = self.find_symbol(name) else {
            return Ok(None);
        };
        let word = self
            .read(sym + ol::symbol::VALUE)
            .ok_or("symbol outside memory")?;
        if self.builtin_index(word) == Some(2) {
            return Ok(Some(None));
        }
        Ok(Some(Some(self.decode(word)?)))
    }

    /// Looks `key` up in the rebuilt hash table `table`.
    pub fn gethash(&self, table: &Value, key: &Value) -> Option<Value> {
        let wanted = table.to_lisp_bytes();
        let thawed = self
            .tables
            .values()
            .find(|t| Value::HashTable(Box::new(t.value.clone())).to_lisp_bytes() == wanted)?;
        let i = *thawed.index.get(&key.to_lisp_bytes())?;
        Some(thawed.value.data[i].1.clone())
    }

    fn builtin_index(&self, symbol_word: u64) -> Option<usize> {
        let index = symbol_word / image::SYMBOL_SIZE;
        (symbol_word.is_multiple_of(image::SYMBOL_SIZE) && index < image::builtin_count() as u64)
            .then_some(index as usize)
    }

    /// Decodes the Lisp value `word`.
    pub fn decode(&self, word: u64) -> Result<Value, String> {
        self.decode_at(word, 0)
    }

    fn decode_all(&self, addr: u64, n: u64, depth: usize) -> Result<Vec<Value>, String> {
        (0..n)
            .map(|i| {
                let w = self.read(addr + 8 * i).ok_or("slot outside memory")?;
                self.decode_at(w, depth + 1)
            })
            .collect()
    }

    fn decode_at(&self, word: u64, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("nesting too deep (a cycle?)".into());
        }
        let bad = |what: &str| format!("{what} at {word:#x} lies outside the heap");
        match word & 7 {
            2 | 6 => Ok(Value::Int(word as i64 >> 2)),
            0 => {
                if let Some(i) = self.builtin_index(word) {
                    return Ok(Value::Symbol(image::builtin_name(i).into()));
                }
                let sym = (self.emacs_basis + image::LISPSYM).wrapping_add(word);
                let flags = self.read(sym).ok_or_else(|| bad("symbol"))?;
                let name = self
                    .read(sym + ol::symbol::NAME)
                    .ok_or_else(|| bad("symbol"))?;
                let Value::Str(name) = self.decode_at(name, depth + 1)? else {
                    return Err("symbol name is not a string".into());
                };
                let name = String::from_utf8_lossy(&name.bytes).into_owned();
                Ok(if flags & (3 << 6) != 0 {
                    Value::Symbol(name)
                } else {
                    Value::Uninterned(name)
                })
            }
            3 => {
                let mut items = Vec::new();
                let mut at = word;
                while at & 7 == 3 {
                    let cell = at - 3;
                    let car = self.read(cell).ok_or_else(|| bad("cons"))?;
                    items.push(self.decode_at(car, depth + 1)?);
                    at = self.read(cell + 8).ok_or_else(|| bad("cons"))?;
                    if items.len() as u64 > self.size {
                        return Err("circular list".into());
                    }
                }
                Ok(Value::list_with_tail(items, self.decode_at(at, depth + 1)?))
            }
            4 => {
                let s = word - 4;
                let chars = self
                    .read(s + ol::string::CHARS)
                    .ok_or_else(|| bad("string"))?;
                let size_byte = self
                    .read(s + ol::string::BYTES)
                    .ok_or_else(|| bad("string"))?;
                let data = self
                    .read(s + ol::string::DATA)
                    .ok_or_else(|| bad("string"))?;
                let multibyte = size_byte != u64::MAX;
                let len = if multibyte { size_byte } else { chars };
                let bytes = self
                    .read_bytes(data, len)
                    .ok_or_else(|| bad("string data"))?;
                Ok(Value::Str(LispString {
                    bytes: bytes.to_vec(),
                    multibyte,
                }))
            }
            7 => Ok(Value::Float(f64::from_bits(
                self.read(word - 7).ok_or_else(|| bad("float"))?,
            ))),
            5 => self.decode_vectorlike(word - 5, depth),
            _ => Err(format!("invalid Lisp word {word:#x}")),
        }
    }

    fn decode_vectorlike(&self, v: u64, depth: usize) -> Result<Value, String> {
        let subrs = self.emacs_basis + image::subrs();
        if v >= subrs && v < self.emacs_basis + image::functions() {
            let j = ((v - subrs) / image::SUBR_SIZE) as usize;
            return Ok(Value::Subr(image::BUILTIN_SUBRS[j].0.into()));
        }
        let header = VectorHeader(self.read(v).ok_or("vectorlike outside the heap")?);
        if !header.is_pseudovector() {
            let n = header.plain_len().unwrap_or(0);
            if n > self.size / 8 {
                return Err("vector longer than the dump".into());
            }
            return Ok(Value::Vector(self.decode_all(v + 8, n, depth)?));
        }
        let p = self.pvecs;
        let t = header.pvec_type();
        let lisp = header.lisp_slots();
        if t == p.record {
            Ok(Value::Record(self.decode_all(v + 8, lisp, depth)?))
        } else if t == p.compiled {
            Ok(Value::ByteCode(self.decode_all(v + 8, lisp, depth)?))
        } else if t == p.char_table {
            Ok(Value::CharTable(self.decode_all(v + 8, lisp, depth)?))
        } else if t == p.sub_char_table {
            let ints = self.read(v + 8).ok_or("sub-char-table outside the heap")?;
            let mut items = vec![
                Value::Int((ints as u32 as i32).into()),
                Value::Int(((ints >> 32) as u32 as i32).into()),
            ];
            items.extend(self.decode_all(v + 16, lisp, depth)?);
            Ok(Value::SubCharTable(items))
        } else if t == p.bool_vector {
            let len = self.read(v + 8).ok_or("bool-vector outside the heap")?;
            let bytes = self
                .read_bytes(v + 16, len.div_ceil(8))
                .ok_or("bool-vector data outside the heap")?;
            Ok(Value::BoolVector {
                len,
                bytes: bytes.to_vec(),
            })
        } else if t == p.bignum {
            let mpz = self.read(v + 8).ok_or("bignum outside the heap")?;
            let size = (mpz >> 32) as u32 as i32;
            let limbs = self.read(v + 16).ok_or("bignum outside the heap")?;
            let bytes = self
                .read_bytes(limbs, 8 * u64::from(size.unsigned_abs()))
                .ok_or("bignum limbs outside the heap")?;
            let digits: Vec<u64> = bytes
                .chunks(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
                .collect();
            let sign = if size < 0 {
                num_bigint::Sign::Minus
            } else {
                num_bigint::Sign::Plus
            };
            let n = num_bigint::BigInt::from_biguint(
                sign,
                num_bigint::BigUint::new(
                    digits
                        .iter()
                        .flat_map(|d| [*d as u32, (d >> 32) as u32])
                        .collect(),
                ),
            );
            Ok(Value::Bignum(n))
        } else if t == p.hash_table {
            use ol::hash_table as h;
            let count = self
                .read(v + h::COUNT)
                .ok_or("hash table outside the heap")?;
            let purecopy = self
                .read(v + h::PURECOPY)
                .ok_or("hash table outside the heap")?
                & 0xff
                != 0;
            let test =
                self.decode_at(self.read(v + h::TEST_NAME).ok_or("hash table")?, depth + 1)?;
            let weak = self.decode_at(self.read(v + h::WEAK).ok_or("hash table")?, depth + 1)?;
            let kv = self.decode_at(
                self.read(v + h::KEY_AND_VALUE).ok_or("hash table")?,
                depth + 1,
            )?;
            let Value::Vector(kv) = kv else {
                return Err("hash table contents are not a vector".into());
            };
            let data = kv
                .chunks(2)
                .take(count as usize)
                .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_else(Value::nil)))
                .collect();
            Ok(Value::HashTable(Box::new(HashTableValue {
                test: test.as_symbol().unwrap_or("eql").to_string(),
                weakness: if weak.is_nil() {
                    None
                } else {
                    weak.as_symbol().map(str::to_string)
                },
                data,
                purecopy,
            })))
        } else {
            Err(format!(
                "pvec type {t} is not one the reference runtime makes"
            ))
        }
    }
}
