//! The overview `pdmp info` prints: geometry, tables and what the tables hold,
//! counted in one pass over each table.

use crate::dump::{Dump, Regions};
use crate::header::{Layout, Phase, DUMP_RELOC_SIZE, EMACS_RELOC_SIZE};
use crate::lisp::{LispType, VectorHeader};
use crate::pvec::PvecDetection;
use crate::tables::{ObjectStartTable, RelocKind};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Object starts by tag, vectorlikes by pvec type, unreadable vector headers.
fn count_objects(dump: &Dump<'_>, starts: ObjectStartTable<'_>) -> ([u64; 32], [u64; 64], u64) {
    let mut by_tag = [0u64; 32];
    let mut by_pvec = [0u64; 64];
    let mut unreadable_vectors = 0;
    let vectorlike = u32::from(LispType::Vectorlike.tag());
    for (offset, type_bits) in starts.raw() {
        by_tag[type_bits as usize] += 1;
        if type_bits == vectorlike {
            match dump.word(offset) {
                Some(word) => by_pvec[usize::from(VectorHeader(word).pvec_type())] += 1,
                None => unreadable_vectors += 1,
            }
        }
    }
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

impl Summary {
    /// Counts everything in one pass per table.
    pub fn of(dump: &Dump<'_>) -> Summary {
        let header = dump.header();
        let layout = header.layout;
        let regions = dump.regions();
        let pvec_numbering = dump.pvec_numbering();
        let mut tables = Vec::new();
        let mut relocations = Vec::new();
        let mut reloc_counts = RelocCounts {
            hot: 0,
            discardable: 0,
            elsewhere: 0,
        };
        for (phase, table) in dump.dump_relocs() {
            tables.push(TableSummary {
                name: phase.table_name(),
                offset: table.offset,
                count: table.len() as u64,
                bytes: table.len() as u64 * DUMP_RELOC_SIZE,
            });
            let by_type = table.count_by_type();
            // Hot is [hot start, discardable_start), discardable is
            // [discardable_start, cold_start): three bounds decide both.
            let [below_hot, below_discardable, below_cold] = table.count_below([
                regions.hot.offset,
                regions.discardable.offset,
                regions.discardable.end(),
            ]);
            reloc_counts.hot += below_discardable.saturating_sub(below_hot);
            reloc_counts.discardable += below_cold.saturating_sub(below_discardable);
            // Every relocation so far lies in hot, discardable or elsewhere.
            let seen: u64 = tables.iter().map(|t| t.count).sum();
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

        let starts = dump.object_starts();
        tables.push(TableSummary {
            name: "object_starts",
            offset: starts.offset,
            count: starts.len() as u64,
            bytes: starts.len() as u64 * DUMP_RELOC_SIZE,
        });
        let (by_tag, by_pvec, unreadable_vectors) = count_objects(dump, starts);
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
