//! The overview `pdmp info` prints: geometry, tables and what the tables hold,
//! counted in one pass over each table.

use crate::dump::{Dump, Regions};
use crate::header::{Layout, Phase, DUMP_RELOC_SIZE, EMACS_RELOC_SIZE};
use crate::lisp::{LispType, VectorHeader};
use crate::pvec::PvecDetection;
use crate::tables::{ObjectStartTable, RelocKind};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::ops::Range;
use std::sync::mpsc::sync_channel;

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
fn count_objects(dump: &Dump<'_>, starts: ObjectStartTable<'_>) -> ObjectCounts {
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
    let by_tag = starts
        .tally([], Some(vectorlike), &mut |offset| {
            batch[pending] = offset;
            pending += 1;
            if pending == BATCH {
                read_headers(&batch);
                pending = 0;
            }
        })
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

/// What the raw passes over one dump relocation table find: entries by
/// type, and how many lie below the hot, discardable and cold bounds.
struct RelocPass {
    by_type: [u64; 32],
    below: [u64; 3],
}

fn reloc_passes(dump: &Dump<'_>, bounds: [u64; 3]) -> Vec<RelocPass> {
    dump.dump_relocs()
        .map(|(_, table)| {
            let tally = table.tally(bounds, None, &mut |_| {});
            RelocPass {
                by_type: tally.by_type,
                below: tally.below,
            }
        })
        .collect()
}

/// The share of the object starts the calling thread counts while a helper
/// thread takes the relocation tables and the rest of the object starts:
/// the relocation tables hold about twice as many entries, but each object
/// start may send the reader to a vectorlike header on a page of its own.
const CALLER_SHARE: (usize, usize) = (3, 5);

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
    /// both threads are done reading, each releases half of the pages they
    /// mapped, instead of leaving them all to the one thread that unmaps
    /// them at exit.
    pub fn of_releasing(dump: &Dump<'_>, release: &(dyn Fn(Range<usize>) + Sync)) -> Summary {
        let header = dump.header();
        let layout = header.layout;
        let regions = dump.regions();
        // Hot is [hot start, discardable_start), discardable is
        // [discardable_start, cold_start): three bounds decide both.
        let bounds = [
            regions.hot.offset,
            regions.discardable.offset,
            regions.discardable.end(),
        ];
        let starts = dump.object_starts();
        let (front, back) = starts.split_at(starts.len() / CALLER_SHARE.1 * CALLER_SHARE.0);
        // The pages read are those of the hot and discardable regions and of
        // the tables (the cold heap data in between is not read). Each thread
        // releases about half of them: the caller up to `middle`, the helper
        // from there on.
        let size = dump.bytes().len();
        let [hot, cold, tables] = [
            regions.hot.offset,
            regions.cold.offset,
            regions.tables.offset,
        ]
        .map(|offset| (offset as usize).min(size));
        let regions_read = cold.saturating_sub(hot);
        let half = (regions_read + size.saturating_sub(tables)) / 2;
        let middle = if half <= regions_read {
            hot + half
        } else {
            tables + (half - regions_read)
        };
        // Each thread tells the other when it is done reading. One that
        // panicked drops its sender, which ends the other's wait all the same.
        let (caller_done, caller_done_rx) = sync_channel::<()>(1);
        let (helper_done, helper_done_rx) = sync_channel::<()>(1);
        let (pvec_numbering, passes, (by_tag, by_pvec, unreadable_vectors)) =
            std::thread::scope(|scope| {
                let helper = std::thread::Builder::new().spawn_scoped(scope, move || {
                    let counts = (reloc_passes(dump, bounds), count_objects(dump, back));
                    drop(helper_done);
                    // Err: the caller is done reading.
                    let _ = caller_done_rx.recv();
                    release(middle..size);
                    counts
                });
                let front_counts = count_objects(dump, front);
                let pvec_numbering = dump.pvec_numbering();
                drop(caller_done);
                if helper.is_ok() {
                    // Err: the helper is done reading.
                    let _ = helper_done_rx.recv();
                    release(0..middle);
                }
                let (passes, back_counts) = match helper {
                    Ok(helper) => helper
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(_) => (reloc_passes(dump, bounds), count_objects(dump, back)),
                };
                (pvec_numbering, passes, merge(front_counts, back_counts))
            });

        let mut tables = Vec::new();
        let mut relocations = Vec::new();
        let mut reloc_counts = RelocCounts {
            hot: 0,
            discardable: 0,
            elsewhere: 0,
        };
        for ((phase, table), pass) in dump.dump_relocs().zip(passes) {
            tables.push(TableSummary {
                name: phase.table_name(),
                offset: table.offset,
                count: table.len() as u64,
                bytes: table.len() as u64 * DUMP_RELOC_SIZE,
            });
            let [below_hot, below_discardable, below_cold] = pass.below;
            reloc_counts.hot += below_discardable.saturating_sub(below_hot);
            reloc_counts.discardable += below_cold.saturating_sub(below_discardable);
            // Every relocation so far lies in hot, discardable or elsewhere.
            let seen: u64 = tables.iter().map(|t| t.count).sum();
            reloc_counts.elsewhere = seen - reloc_counts.hot - reloc_counts.discardable;
            let mut kinds: Vec<(RelocKind, u64)> = (0u32..32)
                .filter(|&t| pass.by_type[t as usize] > 0)
                .map(|t| (RelocKind::from_type(t, layout), pass.by_type[t as usize]))
                .collect();
            kinds.sort();
            relocations.push(PhaseSummary {
                phase,
                total: table.len() as u64,
                by_kind: Counts(kinds.into_iter().map(|(k, n)| (k.name(), n)).collect()),
            });
        }

        tables.push(TableSummary {
            name: "object_starts",
            offset: starts.offset,
            count: starts.len() as u64,
            bytes: starts.len() as u64 * DUMP_RELOC_SIZE,
        });
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

        let emacs = dump.emacs_relocs();
        tables.push(TableSummary {
            name: "emacs_relocs",
            offset: emacs.offset,
            count: emacs.len() as u64,
            bytes: emacs.len() as u64 * EMACS_RELOC_SIZE,
        });
        let mut emacs_kinds: Vec<(String, u64)> = Vec::new();
        for reloc in emacs.iter() {
            let name = reloc.value.kind_name();
            match emacs_kinds.iter_mut().find(|(n, _)| n == name) {
                Some((_, count)) => *count += 1,
                None => emacs_kinds.push((name.to_string(), 1)),
            }
        }
        emacs_kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

        Summary {
            size: dump.size(),
            layout,
            header_size: layout.header_size(),
            pvec_numbering,
            magic: "complete",
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
            reloc_counts,
            relocations,
            object_starts,
            vectorlike: Counts(vectorlike),
            emacs_relocs: Counts(emacs_kinds),
            hash_list: header.hash_list.map(|offset| HashList {
                offset,
                length: dump.hash_list_len(),
            }),
        }
    }
}
