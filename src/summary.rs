//! The overview `pdmp info` prints: geometry, tables and what the tables hold,
//! counted in one pass over each table.

use crate::dump::{Dump, Regions};
use crate::header::{Layout, Phase, DUMP_RELOC_SIZE, EMACS_RELOC_SIZE};
use crate::lisp::{LispType, VectorHeader};
use crate::pvec::PvecDetection;
use crate::tables::{DumpRelocTable, EmacsRelocValue, ObjectStartTable, RelocKind};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, RecvError, TryRecvError};
use std::sync::Mutex;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

/// Object starts by tag, vectorlikes by pvec type, unreadable vector headers.
type ObjectCounts = ([u64; 32], [u64; 64], u64);

fn merge(a: ObjectCounts, b: ObjectCounts) -> ObjectCounts {
    let (mut by_tag, mut by_pvec, unreadable) = a;
    by_tag.iter_mut().zip(b.0).for_each(|(x, y)| *x += y);
    by_pvec.iter_mut().zip(b.1).for_each(|(x, y)| *x += y);
    (by_tag, by_pvec, unreadable + b.2)
}

/// Counts [`ObjectCounts`] for part of the object-starts table.
///
/// The headers of the vectorlike objects lie scattered over the hot region,
/// so reading each one is a cache (and often TLB) miss. The counting pass
/// gathers their offsets into a small batch and the headers are read in a
/// tight loop afterwards: the loads are then independent and the processor
/// overlaps dozens of misses instead of waiting for each one in turn.
/// `guide`: the counts by tag of the pieces counted before ([`crate::tally::tally_guided`]).
fn count_objects(dump: &Dump<'_>, starts: ObjectStartTable<'_>, guide: &[u64; 32]) -> ObjectCounts {
    const BATCH: usize = 512;
    let bytes = dump.bytes();
    let mut by_pvec = [0u64; 64];
    let mut unreadable_vectors = 0;
    let mut read_headers = |offsets: &[u64]| {
        for &offset in offsets {
            let header = usize::try_from(offset)
                .ok()
                .and_then(|start| bytes.get(start..start.checked_add(8)?));
            match header {
                Some(word) => {
                    let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
                    by_pvec[usize::from(VectorHeader(word).pvec_type())] += 1;
                }
                None => unreadable_vectors += 1,
            }
        }
    };
    let mut batch = [0u64; BATCH];
    let mut pending = 0;
    let vectorlike = u32::from(LispType::Vectorlike.tag());
    let mut select = |offset| {
        batch[pending] = offset;
        pending += 1;
        if pending == BATCH {
            read_headers(&batch);
            pending = 0;
        }
    };
    let by_tag =
        crate::tally::tally_guided(starts.raw_bytes(), [], Some(vectorlike), &mut select, guide)
            .by_type;
    read_headers(&batch[..pending]);
    (by_tag, by_pvec, unreadable_vectors)
}

/// Named counts in a fixed order; serialized as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(String, u64)>);

impl Counts {
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    pub fn get(&self, name: &str) -> Option<u64> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, count) in &self.0 {
            map.serialize_entry(name, count)?;
        }
        map.end()
    }
}

/// One table's place and size.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableSummary {
    pub name: &'static str,
    pub offset: u64,
    pub count: u64,
    pub bytes: u64,
}

/// The sizes Emacs prints as `Byte counts: header=… hot=… discardable=… cold=…`
/// when it writes a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ByteCounts {
    pub header: u64,
    pub hot: u64,
    pub discardable: u64,
    pub cold: u64,
}

/// The counts Emacs prints as `Reloc counts: hot=… discardable=…`: dump
/// relocations of every phase, by the region their site lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RelocCounts {
    pub hot: u64,
    pub discardable: u64,
    /// Sites outside both regions (none in a sound dump).
    pub elsewhere: u64,
}

/// The relocations of one phase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhaseSummary {
    pub phase: Phase,
    pub total: u64,
    pub by_kind: Counts,
}

/// The hash-list vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HashList {
    pub offset: u64,
    /// `None` when the offset does not hold a plain vector.
    pub length: Option<u64>,
}

/// Everything `pdmp info` reports about a dump.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub size: u64,
    pub layout: Layout,
    pub header_size: u64,
    pub pvec_numbering: PvecDetection,
    /// Always `"complete"`: a failed dump is refused before a summary exists.
    pub magic: &'static str,
    pub fingerprint: String,
    pub trailing_bytes: u64,
    pub regions: Regions,
    pub tables: Vec<TableSummary>,
    pub byte_counts: ByteCounts,
    pub reloc_counts: RelocCounts,
    pub relocations: Vec<PhaseSummary>,
    pub object_starts: Counts,
    pub vectorlike: Counts,
    pub emacs_relocs: Counts,
    pub hash_list: Option<HashList>,
}

/// What is known of a dump before its tables are counted: everything
/// [`Summary`] holds but the counts of the relocation and object-start
/// tables, and the pvec numbering (detected after the counting, see
/// [`Summary::of_overlapping`]). [`Summary::of_overlapping`] hands it over
/// while those are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub size: u64,
    pub layout: Layout,
    pub header_size: u64,
    pub fingerprint: String,
    pub trailing_bytes: u64,
    pub regions: Regions,
    /// Every table's place and size, in file order.
    pub tables: Vec<TableSummary>,
    pub byte_counts: ByteCounts,
    pub emacs_relocs: Counts,
    pub hash_list: Option<HashList>,
}

impl Overview {
    fn of(dump: &Dump<'_>) -> Overview {
        let header = dump.header();
        let layout = header.layout;
        let regions = dump.regions();
        let mut tables: Vec<TableSummary> = dump
            .dump_relocs()
            .map(|(phase, table)| TableSummary {
                name: phase.table_name(),
                offset: table.offset,
                count: table.len() as u64,
                bytes: table.len() as u64 * DUMP_RELOC_SIZE,
            })
            .collect();
        let starts = dump.object_starts();
        tables.push(TableSummary {
            name: "object_starts",
            offset: starts.offset,
            count: starts.len() as u64,
            bytes: starts.len() as u64 * DUMP_RELOC_SIZE,
        });
        let emacs = dump.emacs_relocs();
        tables.push(TableSummary {
            name: "emacs_relocs",
            offset: emacs.offset,
            count: emacs.len() as u64,
            bytes: emacs.len() as u64 * EMACS_RELOC_SIZE,
        });
        let mut emacs_kinds: Vec<(String, u64)> = Vec::new();
        for (type_bits, count) in (0u8..).zip(emacs.count_by_type()) {
            let name = EmacsRelocValue::kind_name_of(type_bits);
            match emacs_kinds.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => *total += count,
                None if count > 0 => emacs_kinds.push((name.to_string(), count)),
                None => {}
            }
        }
        emacs_kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Overview {
            size: dump.size(),
            layout,
            header_size: layout.header_size(),
            fingerprint: header.fingerprint_hex(),
            trailing_bytes: header.trailing_bytes,
            regions,
            tables,
            byte_counts: ByteCounts {
                header: regions.header.size,
                hot: regions.hot.size,
                discardable: regions.discardable_used,
                cold: regions.cold.size,
            },
            emacs_relocs: Counts(emacs_kinds),
            hash_list: header.hash_list.map(|offset| HashList {
                offset,
                length: dump.hash_list_len(),
            }),
        }
    }
}

/// How long one of the two counting threads polls before it sleeps while
/// it waits for the other. Those waits last about one piece of work, while
/// a processor that has gone idle can take longer than that to wake up again
/// (0.4-1.2 ms on this project's 2-core VM, where an idle virtual processor
/// halts; bench/info.sh). A polling thread stays awake, and yields its
/// processor each time round in case the other thread is waiting for it.
const POLL_FOR: Duration = Duration::from_millis(2);

/// The processor the calling thread runs on, where the system tells.
fn current_processor() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu has no preconditions.
        u32::try_from(unsafe { libc::sched_getcpu() }).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The next message on `channel`: polled for [`POLL_FOR`], then waited for.
fn receive_soon<T>(channel: &Receiver<T>) -> Result<T, RecvError> {
    let start = Instant::now();
    loop {
        match channel.try_recv() {
            Ok(message) => return Ok(message),
            Err(TryRecvError::Disconnected) => return Err(RecvError),
            Err(TryRecvError::Empty) if start.elapsed() < POLL_FOR => std::thread::yield_now(),
            Err(TryRecvError::Empty) => return channel.recv(),
        }
    }
}

/// Joins `thread` (polled for [`POLL_FOR`] first), passing its panic on.
fn join_soon(thread: ScopedJoinHandle<'_, ()>) {
    let start = Instant::now();
    while !thread.is_finished() && start.elapsed() < POLL_FOR {
        std::thread::yield_now();
    }
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Entries per piece of counting work. The two threads take pieces until
/// none is left, so they finish within about one piece of each other
/// whatever else each has to do; a piece is large enough that the vector
/// pass, which learns the types it tracks anew in each, runs at speed.
const PIECE: usize = 32 << 10;

/// The counting work: every dump relocation table and the object-start
/// table, cut into pieces of [`PIECE`] entries. The helper thread takes
/// pieces from the front (the relocation tables first), the caller from the
/// back (object starts), until they meet.
struct Work<'a> {
    dump: &'a Dump<'a>,
    /// Lower bounds of hot, discardable and cold.
    bounds: [u64; 3],
    relocs: Vec<DumpRelocTable<'a>>,
    starts: ObjectStartTable<'a>,
    /// Entries per piece ([`PIECE`]; tests cut finer).
    piece: usize,
    /// Pieces of each relocation table, then of the object starts.
    pieces: Vec<usize>,
    /// The pieces not yet taken, by number in table order.
    left: Mutex<Range<usize>>,
}

/// Of one dump relocation table: entries by type, and below each of the
/// three region bounds.
type RelocTally = ([u64; 32], [u64; 3]);

/// What one thread counted.
struct Counted {
    /// Per relocation table.
    relocs: Vec<RelocTally>,
    objects: ObjectCounts,
}

impl<'a> Work<'a> {
    fn new(dump: &'a Dump<'a>, piece: usize) -> Work<'a> {
        let header = dump.header();
        // Header::parse checked header size <= discardable_start <=
        // cold_start: these are the offsets of hot, discardable and cold.
        let bounds = [
            header.layout.header_size(),
            header.discardable_start,
            header.cold_start,
        ];
        let relocs: Vec<DumpRelocTable<'a>> = dump.dump_relocs().map(|(_, t)| t).collect();
        let starts = dump.object_starts();
        let pieces: Vec<usize> = relocs
            .iter()
            .map(|t| t.len())
            .chain([starts.len()])
            .map(|len| len.div_ceil(piece))
            .collect();
        let total = pieces.iter().sum();
        Work {
            dump,
            bounds,
            relocs,
            starts,
            piece,
            pieces,
            left: Mutex::new(0..total),
        }
    }

    /// Counts pieces, from the front or the back, until none is left.
    fn count(&self, from_front: bool) -> Counted {
        let mut counted = Counted {
            relocs: vec![([0; 32], [0; 3]); self.relocs.len()],
            objects: ([0; 32], [0; 64], 0),
        };
        loop {
            let Some(mut piece) = take_piece(&self.left, from_front) else {
                return counted;
            };
            let mut table = 0;
            while piece >= self.pieces[table] {
                piece -= self.pieces[table];
                table += 1;
            }
            let start = piece * self.piece;
            match self.relocs.get(table) {
                Some(relocs) => {
                    let (_, rest) = relocs.split_at(start);
                    let (part, _) = rest.split_at(self.piece);
                    let (by_type, below) = &mut counted.relocs[table];
                    let tally = crate::tally::tally_guided(
                        part.raw_bytes(),
                        self.bounds,
                        None,
                        &mut |_| {},
                        by_type,
                    );
                    by_type
                        .iter_mut()
                        .zip(tally.by_type)
                        .for_each(|(x, y)| *x += y);
                    below.iter_mut().zip(tally.below).for_each(|(x, y)| *x += y);
                }
                None => {
                    let (_, rest) = self.starts.split_at(start);
                    let (part, _) = rest.split_at(self.piece);
                    let objects = count_objects(self.dump, part, &counted.objects.0);
                    counted.objects = merge(counted.objects, objects);
                }
            }
        }
    }
}

/// The next piece number left, from the front or the back of `left`.
fn take_piece(left: &Mutex<Range<usize>>, from_front: bool) -> Option<usize> {
    // A thread that panicked holding the lock left the range whole.
    let mut left = left.lock().unwrap_or_else(|e| e.into_inner());
    if from_front {
        left.next()
    } else {
        left.next_back()
    }
}

/// Bytes per piece of releasing. Each call ends with a TLB flush, which
/// interrupts the other thread's processor: pieces of 256 KiB made the
/// release 0.3 ms slower than 4 MiB ones (about four calls in all).
const RELEASE_PIECE: usize = 4 << 20;

/// The byte ranges the counting threads read (the hot and discardable
/// regions and the tables; not the cold heap data in between), cut into
/// pieces that both threads release once done reading: the helper from the
/// front, the caller, once done with its own work, from the back.
struct Releases {
    read: [Range<usize>; 2],
    /// Bytes per piece ([`RELEASE_PIECE`]; tests cut finer).
    piece: usize,
    /// The pieces not yet released, by number across both ranges.
    left: Mutex<Range<usize>>,
}

impl Releases {
    fn new(dump: &Dump<'_>, piece: usize) -> Releases {
        let header = dump.header();
        let size = dump.bytes().len();
        let [hot, cold, tables] = [
            header.layout.header_size(),
            header.cold_start,
            header.tables_start(),
        ]
        .map(|offset| (offset as usize).min(size));
        let read = [hot..cold.max(hot), tables..size];
        let pieces = read.iter().map(|r| r.len().div_ceil(piece)).sum();
        Releases {
            read,
            piece,
            left: Mutex::new(0..pieces),
        }
    }

    /// The caller's part, once done with its own work: it releases pieces
    /// from the back alongside the helper, unless the helper has not taken
    /// any yet (it is waiting for a processor). Then the pages are left to
    /// the process's exit, which unmaps them faster than one thread
    /// releasing them all.
    fn share(&self, release: &(dyn Fn(Range<usize>) + Sync)) {
        {
            let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
            if left.start == 0 {
                left.start = left.end;
                return;
            }
        }
        self.run(release, false);
    }

    /// Releases pieces, from the front or the back, until none is left.
    fn run(&self, release: &(dyn Fn(Range<usize>) + Sync), from_front: bool) {
        loop {
            let Some(mut piece) = take_piece(&self.left, from_front) else {
                return;
            };
            for range in &self.read {
                let pieces = range.len().div_ceil(self.piece);
                if piece < pieces {
                    let start = range.start + piece * self.piece;
                    release(start..range.end.min(start + self.piece));
                    break;
                }
                piece -= pieces;
            }
        }
    }
}

impl Summary {
    /// Counts everything in one pass per table. The passes are independent
    /// and mostly wait for memory (the kernel mapping the file's pages, and
    /// cache misses on scattered vector headers), so a second thread takes
    /// part of them; where no thread can be started, the caller does all.
    pub fn of(dump: &Dump<'_>) -> Summary {
        Summary::of_releasing(dump, &|_| {})
    }

    /// [`Summary::of`] for a dump in a file map, which `release` (for
    /// example [`crate::DumpFile::release`]) frees byte ranges of: once
    /// both threads are done reading, they share out releasing the pages
    /// they mapped, instead of leaving them all to the one thread that
    /// unmaps them at exit (unless the helper thread got no processor in
    /// time to begin: then exit, which unmaps faster than one thread
    /// releasing, is left to do it).
    pub fn of_releasing(dump: &Dump<'_>, release: &(dyn Fn(Range<usize>) + Sync)) -> Summary {
        Summary::of_overlapping(dump, release, |_| {}, |_, ()| {}).0
    }

    /// [`Summary::of_releasing`] with work of the caller's own fitted in
    /// where the calling thread would otherwise wait: `meanwhile` runs with
    /// the [`Overview`] while the helper thread counts (the caller then
    /// counts what is left), and `then` with the finished summary and what
    /// `meanwhile` returned while the helper releases pages (the caller then
    /// releases what is left). For example: format the overview, then
    /// format and print the rest.
    pub fn of_overlapping<R, T>(
        dump: &Dump<'_>,
        release: &(dyn Fn(Range<usize>) + Sync),
        meanwhile: impl FnOnce(&Overview) -> R,
        then: impl FnOnce(&Summary, R) -> T,
    ) -> (Summary, T) {
        let work = Work::new(dump, PIECE);
        let releases = Releases::new(dump, RELEASE_PIECE);
        // The helper hands over its counts; the caller, done reading, then
        // lets it release pages, telling it the processor it runs on. One
        // that panicked drops its sender, which ends the other's wait all the
        // same.
        let (caller_done, caller_done_rx) = sync_channel::<Option<u32>>(1);
        let (helper_counts, helper_counts_rx) = sync_channel::<Counted>(1);
        std::thread::scope(|scope| {
            let (work, releases) = (&work, &releases);
            let helper = std::thread::Builder::new().spawn_scoped(scope, move || {
                // Err: the caller stopped waiting (it panicked).
                let _ = helper_counts.send(work.count(true));
                // Err: the caller panicked.
                if let Ok(callers_processor) = receive_soon(&caller_done_rx) {
                    // Sharing the caller's processor, releasing would only
                    // take turns with it, and the exit unmaps pages faster
                    // than one thread releasing them.
                    if callers_processor.is_none() || callers_processor != current_processor() {
                        releases.run(release, true);
                    }
                }
            });
            let overview = Overview::of(dump);
            let meanwhile = meanwhile(&overview);
            let mut counted = work.count(false);
            // None: no thread could be started; the caller counted everything.
            let mut helper = helper.ok();
            let theirs = helper.as_ref().map(|_| receive_soon(&helper_counts_rx));
            // The detection reads the objects the hash list points at, which
            // lie scattered over the hot region. Done before the counting, it
            // made pdmp info 0.06-0.27 ms slower (interleaved runs, README);
            // now the counting has mapped those pages, and none is released.
            let pvec_numbering = dump.pvec_numbering();
            if let Some(theirs) = theirs {
                // Only now may the helper release pages. Were both threads
                // on one processor (the scheduler may keep them there), a
                // helper that released as soon as it had sent its counts
                // would keep the caller waiting for the processor.
                let _ = caller_done.send(current_processor());
                match theirs {
                    Ok(theirs) => {
                        for (mine, theirs) in counted.relocs.iter_mut().zip(theirs.relocs) {
                            mine.0.iter_mut().zip(theirs.0).for_each(|(x, y)| *x += y);
                            mine.1.iter_mut().zip(theirs.1).for_each(|(x, y)| *x += y);
                        }
                        counted.objects = merge(counted.objects, theirs.objects);
                    }
                    // The helper panicked before sending: its join passes the
                    // panic on (a helper that returns has sent its counts).
                    Err(_) => {
                        join_soon(helper.take().expect("checked above"));
                        unreachable!("the helper ended without its counts")
                    }
                }
            }
            let summary = Summary::from_parts(dump, overview, pvec_numbering, counted);
            let then = then(&summary, meanwhile);
            if let Some(helper) = helper {
                releases.share(release);
                join_soon(helper);
            }
            (summary, then)
        })
    }

    fn from_parts(
        dump: &Dump<'_>,
        overview: Overview,
        pvec_numbering: PvecDetection,
        counted: Counted,
    ) -> Summary {
        let layout = overview.layout;
        let (by_tag, by_pvec, unreadable_vectors) = counted.objects;
        let mut seen = 0;
        let mut relocations = Vec::new();
        let mut reloc_counts = RelocCounts {
            hot: 0,
            discardable: 0,
            elsewhere: 0,
        };
        for ((phase, table), (by_type, below)) in dump.dump_relocs().zip(counted.relocs) {
            let [below_hot, below_discardable, below_cold] = below;
            reloc_counts.hot += below_discardable.saturating_sub(below_hot);
            reloc_counts.discardable += below_cold.saturating_sub(below_discardable);
            // Every relocation so far lies in hot, discardable or elsewhere.
            seen += table.len() as u64;
            reloc_counts.elsewhere = seen - reloc_counts.hot - reloc_counts.discardable;
            let mut kinds: Vec<(RelocKind, u64)> = (0u32..32)
                .filter(|&t| by_type[t as usize] > 0)
                .map(|t| (RelocKind::from_type(t, layout), by_type[t as usize]))
                .collect();
            kinds.sort();
            relocations.push(PhaseSummary {
                phase,
                total: table.len() as u64,
                by_kind: Counts(kinds.into_iter().map(|(k, n)| (k.name(), n)).collect()),
            });
        }

        let object_starts = Counts(
            (0u32..32)
                .filter(|&t| by_tag[t as usize] > 0)
                .map(|t| {
                    let name = LispType::from_tag(t)
                        .map_or_else(|| format!("invalid type {t}"), |l| l.name().to_string());
                    (name, by_tag[t as usize])
                })
                .collect(),
        );
        let mut vectorlike: Vec<(String, u64)> = (0u8..64)
            .filter(|&t| by_pvec[usize::from(t)] > 0)
            .map(|t| {
                let name = pvec_numbering
                    .numbering
                    .and_then(|n| n.type_name(t))
                    .map_or_else(|| format!("pvec {t}"), str::to_string);
                (name, by_pvec[usize::from(t)])
            })
            .collect();
        if unreadable_vectors > 0 {
            vectorlike.push(("unreadable header".to_string(), unreadable_vectors));
        }
        vectorlike.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

        Summary {
            size: overview.size,
            layout,
            header_size: overview.header_size,
            pvec_numbering,
            magic: "complete",
            fingerprint: overview.fingerprint,
            trailing_bytes: overview.trailing_bytes,
            regions: overview.regions,
            tables: overview.tables,
            byte_counts: overview.byte_counts,
            reloc_counts,
            relocations,
            object_starts,
            vectorlike: Counts(vectorlike),
            emacs_relocs: overview.emacs_relocs,
            hash_list: overview.hash_list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/reference/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(path).expect("testdata sample")
    }

    /// The counts of one thread taking every piece, in either direction.
    fn alone(work: &Work<'_>, from_front: bool) -> (Vec<RelocTally>, ObjectCounts) {
        let counted = work.count(from_front);
        (counted.relocs, counted.objects)
    }

    /// Sample dumps, and copies with random bytes in their tables (types
    /// beyond the tracked eight, unsorted offsets, headers out of the file).
    fn dumps() -> Vec<Vec<u8>> {
        let mut dumps = Vec::new();
        for name in [
            "sample-emacs-27.pdmp",
            "sample-emacs-28.pdmp",
            "sample-emacs-30.pdmp",
        ] {
            let bytes = sample(name);
            let tables = Dump::parse(&bytes).unwrap().header().tables_start() as usize;
            let mut damaged = bytes.clone();
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            for _ in 0..200 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = tables + (state as usize % (bytes.len() - tables));
                damaged[at] = (state >> 32) as u8;
            }
            dumps.push(bytes);
            dumps.push(damaged);
        }
        dumps
    }

    #[test]
    fn pieces_add_up_to_the_whole_tables() {
        for bytes in dumps() {
            let dump = Dump::parse(&bytes).unwrap();
            let whole = alone(&Work::new(&dump, usize::MAX / 2), true);
            // One entry more or less than the vector pass's block, a prime.
            for piece in [1, 15, 17, 61, 1000] {
                let work = Work::new(&dump, piece);
                assert_eq!(alone(&work, true), whole, "piece {piece}, from the front");
                let work = Work::new(&dump, piece);
                assert_eq!(alone(&work, false), whole, "piece {piece}, from the back");
                // Two threads sharing the pieces.
                let work = Work::new(&dump, piece);
                let (a, b) = std::thread::scope(|scope| {
                    let front = scope.spawn(|| work.count(true));
                    let back = work.count(false);
                    (front.join().unwrap(), back)
                });
                let relocs: Vec<_> = a
                    .relocs
                    .iter()
                    .zip(&b.relocs)
                    .map(|(x, y)| {
                        (
                            std::array::from_fn(|i| x.0[i] + y.0[i]),
                            std::array::from_fn(|i| x.1[i] + y.1[i]),
                        )
                    })
                    .collect();
                assert_eq!((relocs, merge(a.objects, b.objects)), whole);
            }
        }
    }

    #[test]
    fn the_overview_is_what_the_summary_shows() {
        for bytes in dumps() {
            let dump = Dump::parse(&bytes).unwrap();
            let (summary, (then, overview)) =
                Summary::of_overlapping(&dump, &|_| {}, Overview::clone, |summary, overview| {
                    (summary.clone(), overview)
                });
            assert_eq!(summary, Summary::of(&dump));
            assert_eq!(then, summary);
            assert_eq!(overview.regions, summary.regions);
            assert_eq!(overview.tables, summary.tables);
            assert_eq!(overview.byte_counts, summary.byte_counts);
            assert_eq!(overview.emacs_relocs, summary.emacs_relocs);
            assert_eq!(overview.hash_list, summary.hash_list);
            assert_eq!(overview.fingerprint, summary.fingerprint);
        }
    }

    #[test]
    fn the_threads_release_every_byte_read_once() {
        for bytes in dumps() {
            let dump = Dump::parse(&bytes).unwrap();
            let header = dump.header();
            let read = vec![
                header.layout.header_size() as usize..header.cold_start as usize,
                header.tables_start() as usize..bytes.len(),
            ];
            for piece in [1000, 4096, RELEASE_PIECE] {
                let released = Mutex::new(Vec::new());
                let record = |range| released.lock().unwrap().push(range);
                let releases = Releases::new(&dump, piece);
                std::thread::scope(|scope| {
                    scope.spawn(|| releases.run(&record, true));
                    releases.run(&record, false);
                });
                let mut released = released.into_inner().unwrap();
                released.sort_by_key(|r| r.start);
                assert!(released.iter().all(|r| r.len() <= piece));
                // The pieces, joined where they meet, are the two ranges read.
                let mut joined: Vec<Range<usize>> = Vec::new();
                for range in released {
                    match joined.last_mut() {
                        Some(last) if last.end == range.start => last.end = range.end,
                        _ => joined.push(range),
                    }
                }
                assert_eq!(joined, read, "pieces of {piece} bytes");
            }
            // The caller shares the rest out once the helper has begun...
            let released = Mutex::new(0);
            let record = |range: Range<usize>| *released.lock().unwrap() += range.len();
            let releases = Releases::new(&dump, 1000);
            let first = releases.left.lock().unwrap().next();
            assert_eq!(first, Some(0));
            releases.share(&record);
            let all: usize = read.iter().map(Range::len).sum();
            let rest = all - read[0].len().min(1000);
            assert_eq!(*released.lock().unwrap(), rest);
            // ...and leaves them all to the exit when it has not.
            let releases = Releases::new(&dump, 1000);
            releases.share(&record);
            releases.run(&record, true);
            assert_eq!(*released.lock().unwrap(), rest);
            // As Summary::of_releasing has them released: each byte at most
            // once, and the same summary.
            let released = Mutex::new(Vec::new());
            let summary =
                Summary::of_releasing(&dump, &|range| released.lock().unwrap().push(range));
            assert_eq!(summary, Summary::of(&dump));
            let mut released = released.into_inner().unwrap();
            released.sort_by_key(|r| r.start);
            assert!(released.windows(2).all(|w| w[0].end <= w[1].start));
            assert!(released
                .iter()
                .all(|r| read.iter().any(|x| x.start <= r.start && r.end <= x.end)));
        }
    }
}
