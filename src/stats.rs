//! Where the bytes and relocations of a dump go: what `pdmp stats` reports.
//!
//! Every byte of the file is attributed to exactly one row (a node kind in a
//! region, the header, the tables, or "unaccounted" gaps), so the rows of a
//! region add up to its size. Relocation density per page and the pages
//! each load phase writes give the copy-on-write cost of loading; the
//! dominator tree gives what each object, and each named symbol, retains.

use crate::dominators::Dominators;
use crate::dump::{Dump, Span};
use crate::graph::{root, BuildNotes, Graph, Node, NodeKind, NO_PVEC};
use crate::header::Phase;
use crate::lisp::LispType;
use crate::pvec::PvecNumbering;
use crate::symbol::{lisp_string, StringData, SymbolNames, SymbolSlot};

/// Regions in file order, as rows name them.
pub const REGIONS: [&str; 5] = ["header", "hot", "discardable", "cold", "tables"];

/// Count and bytes of something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CountBytes {
    pub count: u64,
    pub bytes: u64,
}

impl CountBytes {
    fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes += bytes;
    }
}

/// Objects of one kind (and pvec type) in one region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TypeRow {
    pub region: &'static str,
    /// `cons`, `vectorlike`, `copied symbol`, `raw data`, `unaccounted`, …
    pub kind: String,
    /// The pvec type of vectorlike objects and subr images.
    pub pvec: Option<String>,
    pub count: u64,
    pub bytes: u64,
}

/// A region's extent and the sum of its rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegionTotal {
    pub region: &'static str,
    pub offset: u64,
    pub size: u64,
    /// Bytes attributed to nodes (all but the `unaccounted` row).
    pub in_nodes: u64,
    pub unaccounted: u64,
}

/// String data by representation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StringBytes {
    /// Count of strings and bytes of their data, NULs excluded.
    pub unibyte: CountBytes,
    pub multibyte: CountBytes,
    /// Strings whose data is a C literal in the executable (counted above too).
    pub in_executable: CountBytes,
}

/// One bucket of a histogram of relocations per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Bucket {
    /// Relocations per page, inclusive bounds.
    pub min: u64,
    pub max: u64,
    pub pages: u64,
}

/// Relocation density over the pages of a region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PageDensity {
    pub region: &'static str,
    pub page_size: u64,
    pub pages: u64,
    pub pages_with_relocs: u64,
    pub relocs: u64,
    pub max_per_page: u64,
    pub histogram: Vec<Bucket>,
}

/// Pages a load phase writes (relocates) in the mapped dump.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhaseWrites {
    pub phase: Phase,
    pub relocs: u64,
    pub pages_4k: u64,
    pub pages_64k: u64,
    /// `pages_4k` × 4096: the private copies a load makes.
    pub bytes_4k: u64,
    /// Relocations per written 4 KiB page.
    pub histogram: Vec<Bucket>,
}

/// A node as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectRow {
    pub offset: u64,
    pub kind: &'static str,
    pub pvec: Option<String>,
    /// The symbol's name, for symbols.
    pub name: Option<String>,
    pub size: u64,
    pub retained: u64,
    /// Why it is a root (empty for other nodes).
    pub roots: Vec<&'static str>,
    /// For symbols: retained bytes reached through each slot (slots
    /// reaching nothing of their own are omitted).
    pub via: Vec<SlotBytes>,
    /// The nearest symbol dominating this node, if any.
    pub held_by: Option<String>,
    /// One line for people, e.g. "symbol `org-mode` (function)".
    pub description: String,
}

/// Retained bytes through one symbol slot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotBytes {
    pub slot: &'static str,
    pub bytes: u64,
}

/// The dominator tree, summarised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Retention {
    /// Root nodes by reason (a node can have several).
    pub roots_emacs_reloc: u64,
    pub roots_hash_list: u64,
    pub roots_copied: u64,
    pub roots_interned: u64,
    pub reachable: CountBytes,
    pub unreachable: CountBytes,
    /// Roots and other nodes only the virtual root dominates, by retained size.
    pub top_retainers: Vec<ObjectRow>,
    pub top_symbols: Vec<ObjectRow>,
    /// Symbols whose names are C literals and could not be read (no executable).
    pub unnamed_symbols: u64,
}

/// Everything `pdmp stats` reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub size: u64,
    pub pvec_numbering: Option<PvecNumbering>,
    pub nodes: u64,
    pub edges: u64,
    pub build_notes: BuildNotes,
    pub regions: Vec<RegionTotal>,
    pub by_type: Vec<TypeRow>,
    pub strings: StringBytes,
    pub largest: Vec<ObjectRow>,
    pub pages: Vec<PageDensity>,
    pub phases: Vec<PhaseWrites>,
    /// Stores into the executable at load (they write no dump page).
    pub emacs_relocs: u64,
    pub retention: Retention,
}

/// One symbol's retained objects by kind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SymbolReport {
    pub symbol: ObjectRow,
    pub by_type: Vec<TypeRow>,
}

/// The pieces every report reads.
pub struct Context<'d, 'a, 'e> {
    pub dump: &'d Dump<'a>,
    pub graph: &'d Graph,
    pub dominators: &'d Dominators,
    pub names: &'d SymbolNames<'d, 'a, 'e>,
    pub numbering: Option<PvecNumbering>,
}

impl<'d, 'a, 'e> Context<'d, 'a, 'e> {
    /// The context of `dump`, its graph, dominator tree and symbol names;
    /// the pvec numbering is the one the dump shows.
    pub fn new(
        dump: &'d Dump<'a>,
        graph: &'d Graph,
        dominators: &'d Dominators,
        names: &'d SymbolNames<'d, 'a, 'e>,
    ) -> Self {
        Context {
            dump,
            graph,
            dominators,
            names,
            numbering: dump.pvec_numbering().numbering,
        }
    }
}

/// Computes the dominator tree of `graph` from its roots.
pub fn dominators(graph: &Graph) -> Dominators {
    let (start, targets) = graph.csr();
    let roots: Vec<u32> = graph.roots().collect();
    Dominators::compute(start, targets, &roots, |i| u64::from(graph.node(i).size))
}

fn region_spans(dump: &Dump<'_>) -> [Span; 5] {
    let r = dump.regions();
    // The tables row runs to the end of the file (trailing bytes included).
    let tables = Span {
        offset: r.tables.offset,
        size: dump.size() - r.tables.offset,
    };
    [r.header, r.hot, r.discardable, r.cold_heap, tables]
}

fn region_of(spans: &[Span; 5], offset: u64) -> usize {
    spans
        .iter()
        .position(|s| s.contains(offset))
        .unwrap_or(spans.len() - 1)
}

const KINDS: usize = 12;

fn kind_index(kind: NodeKind) -> usize {
    match kind {
        NodeKind::Object(t) => t.tag() as usize,
        NodeKind::CopiedSymbol => 8,
        NodeKind::CopiedSubr => 9,
        NodeKind::CopiedData => 10,
        NodeKind::Raw => 11,
    }
}

fn kind_of_index(index: usize) -> NodeKind {
    match index {
        0..=7 => NodeKind::Object(LispType::from_tag(index as u32).expect("below 8")),
        8 => NodeKind::CopiedSymbol,
        9 => NodeKind::CopiedSubr,
        10 => NodeKind::CopiedData,
        _ => NodeKind::Raw,
    }
}

/// Histogram buckets 0, 1, 2–3, 4–7, … of per-page counts.
fn histogram(counts: impl Iterator<Item = u64>) -> Vec<Bucket> {
    let mut pages = [0u64; 65];
    for c in counts {
        let bucket = if c == 0 {
            0
        } else {
            64 - c.leading_zeros() as usize
        };
        pages[bucket] += 1;
    }
    let last = pages.iter().rposition(|&p| p > 0).unwrap_or(0);
    (0..=last)
        .map(|b| {
            let (min, max) = if b == 0 {
                (0, 0)
            } else {
                (1u64 << (b - 1), (1u64 << b) - 1)
            };
            Bucket {
                min,
                max,
                pages: pages[b],
            }
        })
        .collect()
}

impl<'d, 'a, 'e> Context<'d, 'a, 'e> {
    fn pvec_name(&self, node: &Node) -> Option<String> {
        (node.pvec != NO_PVEC).then(|| {
            self.numbering
                .and_then(|n| n.type_name(node.pvec))
                .map_or_else(|| format!("pvec {}", node.pvec), str::to_string)
        })
    }

    /// The report row of node `index`.
    pub fn row(&self, index: u32) -> ObjectRow {
        let node = self.graph.node(index);
        let name = self.names.name(index);
        let retained = self.dominators.retained(index);
        let via = if node.kind.is_symbol() {
            self.via(index)
        } else {
            Vec::new()
        };
        let held_by = self.holder(index);
        let pvec = self.pvec_name(node);
        let mut description = match (&name, node.kind) {
            (Some(n), _) => format!("symbol `{n}`"),
            (None, k) if k.is_symbol() => format!("symbol at {}", node.offset),
            (None, k) => match &pvec {
                Some(p) => format!("{} {p} at {}", k.name(), node.offset),
                None => format!("{} at {}", k.name(), node.offset),
            },
        };
        if let Some(top) = via
            .iter()
            .find(|v| matches!(v.slot, "value" | "function" | "plist"))
        {
            description.push_str(&format!(" ({})", top.slot));
        }
        if let Some(holder) = &held_by {
            description.push_str(&format!(", held by {holder}"));
        }
        ObjectRow {
            offset: node.offset.into(),
            kind: node.kind.name(),
            pvec,
            name,
            size: node.size.into(),
            retained,
            roots: root::names(node.roots),
            via,
            held_by,
            description,
        }
    }

    /// Retained bytes of a symbol by the slot they hang from, largest first.
    fn via(&self, symbol: u32) -> Vec<SlotBytes> {
        let base = u64::from(self.graph.node(symbol).offset);
        let mut by_slot: Vec<SlotBytes> = Vec::new();
        let mut attributed = u64::from(self.graph.node(symbol).size);
        for (target, site) in self.graph.edges(symbol) {
            let Some(slot) = site.checked_sub(base).and_then(SymbolSlot::at) else {
                continue;
            };
            if self.dominators.idom(target) != Some(Some(symbol)) {
                continue;
            }
            let bytes = self.dominators.retained(target);
            attributed += bytes;
            match by_slot.iter_mut().find(|s| s.slot == slot.name()) {
                Some(s) => s.bytes += bytes,
                None => by_slot.push(SlotBytes {
                    slot: slot.name(),
                    bytes,
                }),
            }
        }
        let rest = self.dominators.retained(symbol).saturating_sub(attributed);
        if rest > 0 {
            by_slot.push(SlotBytes {
                slot: "shared",
                bytes: rest,
            });
        }
        by_slot.sort_by_key(|s| std::cmp::Reverse(s.bytes));
        by_slot
    }

    /// The nearest dominating symbol of a node that is not itself a symbol.
    fn holder(&self, index: u32) -> Option<String> {
        if self.graph.node(index).kind.is_symbol() {
            return None;
        }
        let mut at = index;
        while let Some(Some(d)) = self.dominators.idom(at) {
            let node = self.graph.node(d);
            if node.kind.is_symbol() {
                return Some(match self.names.name(d) {
                    Some(n) => format!("symbol `{n}`"),
                    None => format!("symbol at {}", node.offset),
                });
            }
            at = d;
        }
        None
    }

    /// Retained nodes of `symbol` by kind and pvec type.
    pub fn symbol_report(&self, symbol: u32) -> SymbolReport {
        let mut table = vec![CountBytes::default(); KINDS * 65];
        for v in self.dominators.dominated_by(symbol) {
            let node = self.graph.node(v);
            let pvec = if node.pvec == NO_PVEC {
                64
            } else {
                node.pvec as usize & 63
            };
            table[kind_index(node.kind) * 65 + pvec].add(node.size.into());
        }
        SymbolReport {
            symbol: self.row(symbol),
            by_type: self.rows_of(&table, "all"),
        }
    }

    fn rows_of(&self, table: &[CountBytes], region: &'static str) -> Vec<TypeRow> {
        let mut rows: Vec<TypeRow> = table
            .iter()
            .enumerate()
            .filter(|(_, cb)| cb.count > 0)
            .map(|(i, cb)| {
                let kind = kind_of_index(i / 65);
                let pvec = i % 65;
                let node = Node {
                    offset: 0,
                    size: 0,
                    kind,
                    pvec: if pvec == 64 { NO_PVEC } else { pvec as u8 },
                    roots: 0,
                };
                TypeRow {
                    region,
                    kind: kind.name().to_string(),
                    pvec: self.pvec_name(&node),
                    count: cb.count,
                    bytes: cb.bytes,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.kind.cmp(&b.kind)));
        rows
    }

    /// Computes the whole report with `top` entries per ranking.
    pub fn stats(&self, top: usize) -> Stats {
        let dump = self.dump;
        let graph = self.graph;
        let spans = region_spans(dump);

        // Bytes per region and kind.
        let mut tables = vec![vec![CountBytes::default(); KINDS * 65]; REGIONS.len()];
        let mut in_nodes = [0u64; 5];
        let mut strings = StringBytes::default();
        for (i, node) in graph.nodes().iter().enumerate() {
            let region = region_of(&spans, node.offset.into());
            let pvec = if node.pvec == NO_PVEC {
                64
            } else {
                node.pvec as usize & 63
            };
            tables[region][kind_index(node.kind) * 65 + pvec].add(node.size.into());
            in_nodes[region] += u64::from(node.size);
            if node.kind == NodeKind::Object(LispType::String) {
                if let Ok(s) = lisp_string(dump, graph, i as u32) {
                    if s.multibyte {
                        strings.multibyte.add(s.bytes);
                    } else {
                        strings.unibyte.add(s.bytes);
                    }
                    if matches!(s.data, StringData::Executable(_)) {
                        strings.in_executable.add(s.bytes);
                    }
                }
            }
        }
        let mut by_type = Vec::new();
        let mut regions = Vec::new();
        for (r, name) in REGIONS.iter().enumerate() {
            let span = spans[r];
            let mut rows = self.rows_of(&tables[r], name);
            match *name {
                "header" => rows.push(TypeRow {
                    region: name,
                    kind: "header".to_string(),
                    pvec: None,
                    count: 1,
                    bytes: span.size.min(dump.header().layout.header_size()),
                }),
                "tables" => rows.push(TypeRow {
                    region: name,
                    kind: "relocation and object-start tables".to_string(),
                    pvec: None,
                    count: (dump.header().layout.phase_count() + 2) as u64,
                    bytes: dump.regions().tables.size,
                }),
                _ => {}
            }
            let listed: u64 = rows.iter().map(|r| r.bytes).sum();
            let unaccounted = span.size.saturating_sub(listed);
            if unaccounted > 0 {
                rows.push(TypeRow {
                    region: name,
                    kind: "unaccounted".to_string(),
                    pvec: None,
                    count: 0,
                    bytes: unaccounted,
                });
            }
            regions.push(RegionTotal {
                region: name,
                offset: span.offset,
                size: span.size,
                in_nodes: in_nodes[r],
                unaccounted,
            });
            by_type.extend(rows);
        }

        // Largest nodes.
        let mut by_size: Vec<u32> = (0..graph.len() as u32).collect();
        let take = top.min(by_size.len());
        if take > 0 {
            by_size
                .select_nth_unstable_by_key(take - 1, |&i| std::cmp::Reverse(graph.node(i).size));
        }
        by_size.truncate(take);
        by_size.sort_by_key(|&i| (std::cmp::Reverse(graph.node(i).size), i));
        let largest = by_size.iter().map(|&i| self.row(i)).collect();

        // Pages.
        let (pages, phases, emacs_relocs) = self.pages(&spans);

        Stats {
            size: dump.size(),
            pvec_numbering: self.numbering,
            nodes: graph.len() as u64,
            edges: graph.edge_count() as u64,
            build_notes: graph.notes,
            regions,
            by_type,
            strings,
            largest,
            pages,
            phases,
            emacs_relocs,
            retention: self.retention(top),
        }
    }

    fn pages(&self, spans: &[Span; 5]) -> (Vec<PageDensity>, Vec<PhaseWrites>, u64) {
        let dump = self.dump;
        let size = dump.size();
        let mut per_4k = vec![0u64; size.div_ceil(4096) as usize];
        let mut per_64k = vec![0u64; size.div_ceil(65536) as usize];
        let mut phases = Vec::new();
        for (phase, table) in dump.dump_relocs() {
            let mut phase_4k = vec![0u64; per_4k.len()];
            let mut phase_64k = vec![0u64; per_64k.len()];
            for reloc in table.iter() {
                if reloc.offset >= size {
                    continue;
                }
                phase_4k[(reloc.offset / 4096) as usize] += 1;
                phase_64k[(reloc.offset / 65536) as usize] += 1;
            }
            let pages_4k = phase_4k.iter().filter(|&&c| c > 0).count() as u64;
            phases.push(PhaseWrites {
                phase,
                relocs: table.len() as u64,
                pages_4k,
                pages_64k: phase_64k.iter().filter(|&&c| c > 0).count() as u64,
                bytes_4k: pages_4k * 4096,
                histogram: histogram(phase_4k.iter().copied().filter(|&c| c > 0)),
            });
            for (total, c) in per_4k.iter_mut().zip(&phase_4k) {
                *total += c;
            }
            for (total, c) in per_64k.iter_mut().zip(&phase_64k) {
                *total += c;
            }
        }
        let mut density = Vec::new();
        for (r, name) in [(1usize, "hot"), (2, "discardable")] {
            let span = spans[r];
            if span.size == 0 {
                continue;
            }
            for (page_size, counts) in [(4096u64, &per_4k), (65536, &per_64k)] {
                let first = (span.offset / page_size) as usize;
                let last = ((span.end() - 1) / page_size) as usize;
                let pages = &counts[first..=last.min(counts.len() - 1)];
                density.push(PageDensity {
                    region: name,
                    page_size,
                    pages: pages.len() as u64,
                    pages_with_relocs: pages.iter().filter(|&&c| c > 0).count() as u64,
                    relocs: pages.iter().sum(),
                    max_per_page: pages.iter().copied().max().unwrap_or(0),
                    histogram: histogram(pages.iter().copied()),
                });
            }
        }
        (density, phases, dump.emacs_relocs().len() as u64)
    }

    fn retention(&self, top: usize) -> Retention {
        let graph = self.graph;
        let doms = self.dominators;
        let mut r = Retention {
            roots_emacs_reloc: 0,
            roots_hash_list: 0,
            roots_copied: 0,
            roots_interned: 0,
            reachable: CountBytes::default(),
            unreachable: CountBytes::default(),
            top_retainers: Vec::new(),
            top_symbols: Vec::new(),
            unnamed_symbols: 0,
        };
        for (i, node) in graph.nodes().iter().enumerate() {
            let flags = node.roots;
            r.roots_emacs_reloc += u64::from(flags & root::EMACS_RELOC != 0);
            r.roots_hash_list += u64::from(flags & root::HASH_LIST != 0);
            r.roots_copied += u64::from(flags & root::COPIED != 0);
            r.roots_interned += u64::from(flags & root::INTERNED != 0);
            if doms.is_reachable(i as u32) {
                r.reachable.add(node.size.into());
            } else {
                r.unreachable.add(node.size.into());
            }
        }
        let top_of = |filter: &dyn Fn(u32) -> bool| {
            let mut list: Vec<u32> = doms
                .order()
                .iter()
                .copied()
                .filter(|&i| filter(i))
                .collect();
            let take = top.min(list.len());
            // By node index among equal sizes: the same picks whatever
            // order the tree lists nodes in.
            if take > 0 {
                list.select_nth_unstable_by_key(take - 1, |&i| {
                    (std::cmp::Reverse(doms.retained(i)), i)
                });
            }
            list.truncate(take);
            list.sort_by_key(|&i| (std::cmp::Reverse(doms.retained(i)), i));
            list
        };
        // Retainers directly under the virtual root: a chain of conses shows
        // up once, as its head, not once per link.
        r.top_retainers = top_of(&|i| doms.idom(i) == Some(None))
            .into_iter()
            .map(|i| self.row(i))
            .collect();
        r.top_symbols = top_of(&|i| graph.node(i).kind.is_symbol())
            .into_iter()
            .map(|i| self.row(i))
            .collect();
        if !self.names.has_executable() {
            r.unnamed_symbols = (0..graph.len() as u32)
                .filter(|&i| graph.node(i).kind.is_symbol() && self.names.name(i).is_none())
                .count() as u64;
        }
        r
    }
}
