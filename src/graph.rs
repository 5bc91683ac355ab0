//! The object graph of a dump, built from its tables alone.
//!
//! No per-version struct layout is needed: nodes are the objects of the
//! object-starts table, the images in the discardable region that emacs
//! relocations copy into the executable, and the bytes only raw pointers reach
//! (string data, intervals, forwarding structs); edges are the dump
//! relocations, from the node containing the relocated word to the node its
//! stored offset lands in. Roots are what keeps objects alive from outside
//! the dump. `pdmp stats` measures this graph; `pdmp diff` compares two.
//!
//! Construction is linear in objects + relocations, and the graph is held in
//! flat arrays of a few bytes per node and edge, so that a dump of nothing
//! but tiny objects (conses, 16 bytes each) still fits twice its size in
//! memory with the dominator tree built on it: a block index over the node
//! offsets makes "which node contains offset X" a short binary search, and
//! edges are counted per source, then placed, in two passes over the
//! relocation tables (compressed sparse rows of `u32`, no list of pairs).

use crate::dump::Dump;
use crate::error::{Error, Result};
use crate::lisp::{LispType, VectorHeader, ARRAY_MARK_FLAG, PSEUDOVECTOR_FLAG};
use crate::tables::{EmacsRelocValue, RelocKind};

/// Bytes of a `Lisp_Symbol` on x86_64 (27–30).
pub const SYMBOL_SIZE: u64 = 48;
/// Bytes of a `Lisp_Cons`.
pub const CONS_SIZE: u64 = 16;
/// Bytes of a `Lisp_String` (`size`, `size_byte`, `intervals`, `data`).
pub const STRING_SIZE: u64 = 32;
/// Bytes of a `Lisp_Float`.
pub const FLOAT_SIZE: u64 = 8;
/// Bytes before the data of a bool-vector (header word and bit count).
pub const BOOL_VECTOR_HEADER: u64 = 16;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    /// An object of the object-starts table, with its tag.
    Object(LispType),
    /// The image of a built-in symbol, copied into the executable at load.
    CopiedSymbol,
    /// The image of a built-in subr, copied into the executable at load.
    CopiedSubr,
    /// Other bytes copied into the executable (large C variables).
    CopiedData,
    /// Bytes reached only through raw pointers (string data, intervals,
    /// forwarding and buffer-local structs, bignum limbs). Its extent runs to
    /// the next node or the end of its region.
    Raw,
}

impl NodeKind {
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Object(t) => t.name(),
            NodeKind::CopiedSymbol => "copied symbol",
            NodeKind::CopiedSubr => "copied subr",
            NodeKind::CopiedData => "copied data",
            NodeKind::Raw => "raw data",
        }
    }

    /// Whether this node is a symbol (dumped or a built-in image).
    pub fn is_symbol(self) -> bool {
        matches!(
            self,
            NodeKind::Object(LispType::Symbol) | NodeKind::CopiedSymbol
        )
    }
}

/// Why a node is a root: bits of [`Node::roots`].
pub mod root {
    /// An emacs relocation stores a pointer to it into the executable.
    pub const EMACS_RELOC: u8 = 1;
    /// The hash list (or the hash-list vector itself).
    pub const HASH_LIST: u8 = 2;
    /// A copied image: it lives inside the executable after load.
    pub const COPIED: u8 = 4;
    /// An interned symbol: the obarray keeps it.
    pub const INTERNED: u8 = 8;

    /// Names of the bits set in `flags`.
    pub fn names(flags: u8) -> Vec<&'static str> {
        [
            (EMACS_RELOC, "emacs relocation"),
            (HASH_LIST, "hash list"),
            (COPIED, "copied into Emacs"),
            (INTERNED, "interned"),
        ]
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|&(_, name)| name)
        .collect()
    }
}

/// No pvec type (the node is not vectorlike).
pub const NO_PVEC: u8 = u8::MAX;

/// One node: a byte range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub offset: u32,
    /// Extent in bytes, clamped to the next node and to the region end.
    pub size: u32,
    pub kind: NodeKind,
    /// The pvec type number of vectorlike objects and subr images, else [`NO_PVEC`].
    pub pvec: u8,
    /// [`root`] bits; 0 for a node that is not a root.
    pub roots: u8,
}

impl Node {
    pub fn end(&self) -> u64 {
        u64::from(self.offset) + u64::from(self.size)
    }
}

/// Irregularities met while building, none of which stop the analysis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuildNotes {
    /// Objects whose computed size reaches past the next node (clamped).
    pub overlapping_objects: u64,
    /// Bytes cut off by that clamping.
    pub overlap_bytes: u64,
    /// Relocation sites that lie in no node.
    pub unowned_sites: u64,
    /// Relocations whose stored offset lies in no node.
    pub dangling_targets: u64,
}

/// The object graph. Nodes are sorted by offset; node `i`'s edges are
/// `edge_target[edge_start[i]..edge_start[i+1]]`, with the relocated word's
/// offset in `edge_site` at the same index.
pub struct Graph {
    nodes: Vec<Node>,
    edge_start: Vec<u32>,
    edge_target: Vec<u32>,
    edge_site: Vec<u32>,
    index: StartIndex,
    pub notes: BuildNotes,
}

impl Graph {
    /// Builds the graph of `dump`.
    pub fn build(dump: &Dump<'_>) -> Result<Graph> {
        Builder::new(dump)?.build()
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, index: u32) -> &Node {
        &self.nodes[index as usize]
    }

    /// Total number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_target.len()
    }

    /// Targets of node `index`'s edges.
    pub fn successors(&self, index: u32) -> &[u32] {
        let range = self.edge_range(index);
        &self.edge_target[range]
    }

    /// Node `index`'s edges as (target node, offset of the relocated word).
    pub fn edges(&self, index: u32) -> impl Iterator<Item = (u32, u64)> + '_ {
        let range = self.edge_range(index);
        self.edge_target[range.clone()]
            .iter()
            .zip(&self.edge_site[range])
            .map(|(&t, &s)| (t, u64::from(s)))
    }

    /// The edge stored in the word at `site` of node `index`, if any.
    pub fn edge_at(&self, index: u32, site: u64) -> Option<u32> {
        self.edges(index).find(|&(_, s)| s == site).map(|(t, _)| t)
    }

    fn edge_range(&self, index: u32) -> std::ops::Range<usize> {
        let i = index as usize;
        self.edge_start[i] as usize..self.edge_start[i + 1] as usize
    }

    /// The CSR arrays (`start` has one entry per node plus one), for
    /// algorithms such as [`crate::dominators`].
    pub fn csr(&self) -> (&[u32], &[u32]) {
        (&self.edge_start, &self.edge_target)
    }

    /// Offsets of the relocated words, parallel to the targets of [`Graph::csr`].
    pub fn csr_sites(&self) -> &[u32] {
        &self.edge_site
    }

    /// The node whose extent contains `offset`.
    pub fn containing(&self, offset: u64) -> Option<u32> {
        containing(&self.index, &self.nodes, offset)
    }

    /// The node starting exactly at `offset`.
    pub fn node_at(&self, offset: u64) -> Option<u32> {
        let i = self.index.last_at_or_before(&self.nodes, offset)?;
        (u64::from(self.nodes[i as usize].offset) == offset).then_some(i)
    }

    /// Indices of the root nodes, ascending.
    pub fn roots(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.nodes.len() as u32).filter(|&i| self.nodes[i as usize].roots != 0)
    }
}

/// The node of `nodes` (indexed by `index`) whose extent contains `offset`.
fn containing(index: &StartIndex, nodes: &[Node], offset: u64) -> Option<u32> {
    let i = index.last_at_or_before(nodes, offset)?;
    (offset < nodes[i as usize].end()).then_some(i)
}

/// [`containing`] for offsets that mostly ascend (the sites of a sorted
/// relocation table): the last node at or before the previous offset
/// (`hint`) and the one after it are tried before the index.
fn containing_near(index: &StartIndex, nodes: &[Node], offset: u64, hint: &mut u32) -> Option<u32> {
    let starts_by = |i: usize| nodes.get(i).map(|n| u64::from(n.offset) <= offset);
    let h = *hint as usize;
    let i = if starts_by(h) == Some(true) && starts_by(h + 1) != Some(true) {
        h as u32
    } else if starts_by(h + 1) == Some(true) && starts_by(h + 2) != Some(true) {
        h as u32 + 1
    } else {
        index.last_at_or_before(nodes, offset)?
    };
    *hint = i;
    (offset < nodes[i as usize].end()).then_some(i)
}

/// Bytes per block of [`StartIndex`] (a power of two).
const BLOCK_SHIFT: u32 = 8;

/// For each block of 2^[`BLOCK_SHIFT`] bytes of the file, how many nodes
/// start before it: the last node at or before an offset is found by a
/// binary search among the few nodes that start in its block, with 4 bytes
/// per 256 bytes of file.
struct StartIndex {
    before: Vec<u32>,
}

impl StartIndex {
    /// The index of `nodes`, sorted by offset.
    fn new(nodes: &[Node]) -> StartIndex {
        let blocks = nodes
            .last()
            .map_or(0, |n| (n.offset >> BLOCK_SHIFT) as usize + 1);
        let mut before = vec![0u32; blocks + 1];
        for node in nodes {
            before[(node.offset >> BLOCK_SHIFT) as usize + 1] += 1;
        }
        for b in 0..blocks {
            before[b + 1] += before[b];
        }
        StartIndex { before }
    }

    /// The index of the last of `nodes` (those this index was built from)
    /// starting at or before `offset`.
    fn last_at_or_before(&self, nodes: &[Node], offset: u64) -> Option<u32> {
        let block = (offset >> BLOCK_SHIFT) as usize;
        let Some(&[lo, hi]) = self.before.get(block..block + 2) else {
            return (nodes.len() as u32).checked_sub(1);
        };
        let starting = &nodes[lo as usize..hi as usize];
        let at_or_before = starting.partition_point(|n| u64::from(n.offset) <= offset);
        (lo + at_or_before as u32).checked_sub(1)
    }
}

struct Builder<'d, 'a> {
    dump: &'d Dump<'a>,
    /// End of the heap: the first table.
    heap_end: u64,
    bool_vector: Option<u8>,
}

impl<'d, 'a> Builder<'d, 'a> {
    fn new(dump: &'d Dump<'a>) -> Result<Self> {
        let bool_vector = dump
            .pvec_numbering()
            .numbering
            .and_then(|n| n.type_number("BOOL_VECTOR"));
        Ok(Builder {
            dump,
            heap_end: dump.header().tables_start(),
            bool_vector,
        })
    }

    fn region_end(&self, offset: u64) -> u64 {
        let h = self.dump.header();
        if offset < h.discardable_start {
            h.discardable_start
        } else if offset < h.cold_start {
            h.cold_start
        } else {
            self.heap_end
        }
    }

    /// Size of the object at `offset` with tag `tag`, and its pvec type.
    fn object_size(&self, offset: u64, tag: LispType) -> Result<(u64, u8)> {
        let bad = |problem: String| Error::BadData {
            what: "vectorlike header",
            offset,
            problem,
        };
        Ok(match tag {
            LispType::Symbol => (SYMBOL_SIZE, NO_PVEC),
            LispType::Cons => (CONS_SIZE, NO_PVEC),
            LispType::String => (STRING_SIZE, NO_PVEC),
            LispType::Float => (FLOAT_SIZE, NO_PVEC),
            LispType::Vectorlike => {
                let header = self.dump.vector_header_at(offset)?;
                let limit = self.dump.size();
                if header.is_marked() {
                    return Err(bad(format!("{:#x} has the GC mark bit set", header.0)));
                }
                let pvec = header.pvec_type();
                let size = if let Some(len) = header.plain_len() {
                    len.checked_mul(8)
                        .and_then(|b| b.checked_add(8))
                        .filter(|&b| b <= limit)
                        .ok_or_else(|| bad(format!("plain vector of {len} elements")))?
                } else if Some(pvec) == self.bool_vector {
                    let bits = self.dump.word_at(offset + 8)?;
                    bits.checked_add(63)
                        .map(|b| b / 64 * 8 + BOOL_VECTOR_HEADER)
                        .filter(|&b| b <= limit)
                        .ok_or_else(|| bad(format!("bool-vector of {bits} bits")))?
                } else {
                    8 + 8 * (header.lisp_slots() + header.rest_words())
                };
                (size, pvec)
            }
            LispType::Unused1 | LispType::Fixnum0 | LispType::Fixnum1 => {
                return Err(Error::BadData {
                    what: "object start",
                    offset,
                    problem: format!("tag {} is not a heap object", tag.name()),
                })
            }
        })
    }

    /// Objects of the object-starts table, checked ascending and in the
    /// heap, merged in offset order with `copies` (sorted, distinct
    /// offsets): a copy that starts at an object start only makes that
    /// object a root.
    fn objects_and(&self, copies: &[Node]) -> Result<Vec<Node>> {
        let starts = self.dump.object_starts();
        let mut nodes = Vec::with_capacity(starts.len() + copies.len());
        let mut copy_iter = copies.iter().copied().peekable();
        let mut previous = None;
        for (i, start) in starts.iter().enumerate() {
            let entry = starts.entry_offset(i);
            let bad = |problem: String| Error::BadData {
                what: "object_starts entry",
                offset: entry,
                problem,
            };
            if previous.is_some_and(|p| start.offset <= p) {
                return Err(bad(format!(
                    "offset {} is not above the previous entry's",
                    start.offset
                )));
            }
            previous = Some(start.offset);
            if start.offset >= self.heap_end {
                return Err(bad(format!(
                    "offset {} is not below the first table ({})",
                    start.offset, self.heap_end
                )));
            }
            let tag = start
                .lisp_type()
                .ok_or_else(|| bad(format!("type {} is not a Lisp tag", start.type_bits)))?;
            let (size, pvec) = self.object_size(start.offset, tag)?;
            let object = Node {
                offset: start.offset as u32,
                size: size.min(u64::from(u32::MAX)) as u32,
                kind: NodeKind::Object(tag),
                pvec,
                roots: 0,
            };
            while let Some(copy) = copy_iter.next_if(|c| c.offset <= object.offset) {
                if copy.offset == object.offset {
                    nodes.push(Node {
                        roots: root::COPIED,
                        ..object
                    });
                } else {
                    nodes.push(copy);
                }
            }
            if nodes
                .last()
                .is_none_or(|n: &Node| n.offset != object.offset)
            {
                nodes.push(object);
            }
        }
        nodes.extend(copy_iter);
        Ok(nodes)
    }

    /// Images that emacs relocations copy into the executable, split into
    /// symbols and subrs where the copy holds several.
    fn copies(&self) -> Result<Vec<Node>> {
        let header = self.dump.header();
        let emacs = self.dump.emacs_relocs();
        let mut nodes = Vec::new();
        for (i, reloc) in emacs.iter().enumerate() {
            let EmacsRelocValue::CopyFromDump {
                dump_offset,
                length,
            } = reloc.value
            else {
                continue;
            };
            let start = u64::try_from(dump_offset).ok();
            let len = u64::try_from(length).ok();
            let (start, len) = match (start, len) {
                (Some(s), Some(l)) if l > 0 && s.checked_add(l).is_some_and(|e| e <= self.heap_end) => {
                    (s, l)
                }
                _ => {
                    return Err(Error::BadData {
                        what: "emacs_relocs entry",
                        offset: emacs.entry_offset(i),
                        problem: format!(
                            "COPY_FROM_DUMP of {length} bytes from {dump_offset} is not inside the heap"
                        ),
                    })
                }
            };
            let in_discardable = (header.discardable_start..header.cold_start).contains(&start);
            let node = |offset: u64, size: u64, kind: NodeKind, pvec: u8| Node {
                offset: offset as u32,
                size: size as u32,
                kind,
                pvec,
                roots: root::COPIED,
            };
            match in_discardable
                .then(|| self.copied_images(start, start + len))
                .flatten()
            {
                Some(images) => nodes.extend(
                    images
                        .into_iter()
                        .map(|(at, size, kind, pvec)| node(at, size, kind, pvec)),
                ),
                None => nodes.push(node(start, len, NodeKind::CopiedData, NO_PVEC)),
            }
        }
        nodes.sort_unstable_by_key(|n| n.offset);
        nodes.dedup_by_key(|n| n.offset);
        Ok(nodes)
    }

    /// Splits a copy in the discardable region into the images it holds:
    /// a subr image runs from its header (a bare PVEC_SUBR pseudovector
    /// header) to the next one or the end of the copy; anything else is a
    /// run of symbol images. `None` when the copy is not made of those.
    fn copied_images(&self, start: u64, end: u64) -> Option<Vec<(u64, u64, NodeKind, u8)>> {
        let subr_header = |at: u64| {
            self.dump.word_at(at).ok().map(VectorHeader).filter(|h| {
                h.0 & PSEUDOVECTOR_FLAG != 0 && h.0 & ARRAY_MARK_FLAG == 0 && h.0 & 0xff_ffff == 0
            })
        };
        let mut images = Vec::new();
        let mut at = start;
        while at < end {
            if let Some(header) = subr_header(at) {
                let next = (at + 8..end)
                    .step_by(8)
                    .find(|&p| subr_header(p).is_some())
                    .unwrap_or(end);
                images.push((at, next - at, NodeKind::CopiedSubr, header.pvec_type()));
                at = next;
            } else if end - at >= SYMBOL_SIZE {
                images.push((at, SYMBOL_SIZE, NodeKind::CopiedSymbol, NO_PVEC));
                at += SYMBOL_SIZE;
            } else {
                return None;
            }
        }
        Some(images)
    }

    fn build(self) -> Result<Graph> {
        let dump = self.dump;
        let header = dump.header();
        let mut notes = BuildNotes::default();

        // Objects and copies, merged in offset order (an error in the
        // object starts is reported before one in the copies).
        let copies = self.copies();
        let fixed = self.objects_and(copies.as_deref().unwrap_or_default())?;
        drop(copies?);
        let fixed_index = StartIndex::new(&fixed);

        // Raw-pointer targets that fall in no object become raw nodes.
        let mut raw: Vec<u32> = Vec::new();
        let mut raw_target = |offset: u64| {
            if offset >= header.layout.header_size()
                && offset < self.heap_end
                && containing(&fixed_index, &fixed, offset).is_none()
            {
                raw.push(offset as u32);
            }
        };
        for (_, table) in dump.dump_relocs() {
            for reloc in table.iter() {
                match reloc.kind {
                    RelocKind::DumpPtrRaw => {
                        if let Ok(target) = dump.word_at(reloc.offset) {
                            raw_target(target);
                        }
                    }
                    RelocKind::Bignum => {
                        if let Some(at) = bignum_target(dump, reloc.offset) {
                            raw_target(at);
                        }
                    }
                    _ => {}
                }
            }
        }
        for reloc in dump.emacs_relocs().iter() {
            if let EmacsRelocValue::DumpPtrRaw { dump_offset } = reloc.value {
                if let Ok(target) = u64::try_from(dump_offset) {
                    raw_target(target);
                }
            }
        }
        drop(fixed_index);
        raw.sort_unstable();
        raw.dedup();

        // All nodes in offset order, then extents clamped to the next node.
        let mut nodes = Vec::with_capacity(fixed.len() + raw.len());
        let mut raw_iter = raw.iter().copied().peekable();
        for node in fixed {
            while let Some(offset) = raw_iter.next_if(|&r| r < node.offset) {
                nodes.push(raw_node(offset));
            }
            nodes.push(node);
        }
        nodes.extend(raw_iter.map(raw_node));
        drop(raw);
        for i in 0..nodes.len() {
            let start = u64::from(nodes[i].offset);
            let region_end = self.region_end(start);
            let next = nodes
                .get(i + 1)
                .map_or(region_end, |n| u64::from(n.offset).min(region_end));
            let node = &mut nodes[i];
            if node.kind == NodeKind::Raw {
                node.size = (next - start) as u32;
            } else if node.end() > next {
                notes.overlapping_objects += 1;
                notes.overlap_bytes += node.end() - next;
                node.size = (next - start) as u32;
            }
        }
        let index = StartIndex::new(&nodes);

        // Edges, bucketed by source: counted in a first pass over the
        // relocations, placed in a second (as they come, so each node's
        // edges keep table order).
        let mut edge_start = vec![0u32; nodes.len() + 1];
        let mut edges = 0usize;
        for (_, table) in dump.dump_relocs() {
            let mut hint = 0;
            for reloc in table.iter() {
                let Some(target) = edge_target(dump, reloc.kind, reloc.offset) else {
                    continue;
                };
                let Some(source) = containing_near(&index, &nodes, reloc.offset, &mut hint) else {
                    notes.unowned_sites += 1;
                    continue;
                };
                let Some(target) = containing(&index, &nodes, target) else {
                    notes.dangling_targets += 1;
                    continue;
                };
                if source != target {
                    edge_start[source as usize + 1] += 1;
                    edges += 1;
                }
            }
        }
        for i in 0..nodes.len() {
            edge_start[i + 1] += edge_start[i];
        }
        let mut edge_target_of = vec![0u32; edges];
        let mut edge_site = vec![0u32; edges];
        // `edge_start[i + 1]` is the next free slot of node `i` while
        // placing; it ends as the end of node i's edges.
        for (_, table) in dump.dump_relocs() {
            let mut hint = 0;
            for reloc in table.iter() {
                let Some(target) = edge_target(dump, reloc.kind, reloc.offset) else {
                    continue;
                };
                let (Some(source), Some(target)) = (
                    containing_near(&index, &nodes, reloc.offset, &mut hint),
                    containing(&index, &nodes, target),
                ) else {
                    continue;
                };
                if source != target {
                    let slot = &mut edge_start[source as usize];
                    edge_target_of[*slot as usize] = target;
                    edge_site[*slot as usize] = reloc.offset as u32;
                    *slot += 1;
                }
            }
        }
        // Each `edge_start[i]` now holds the end of node i's edges, the
        // start of node i + 1's: shift back.
        for i in (1..edge_start.len()).rev() {
            edge_start[i] = edge_start[i - 1];
        }
        edge_start[0] = 0;

        // Roots.
        let mut mark = |offset: u64, flag: u8| {
            if let Some(i) = containing(&index, &nodes, offset) {
                nodes[i as usize].roots |= flag;
            }
        };
        for reloc in dump.emacs_relocs().iter() {
            let target = match reloc.value {
                EmacsRelocValue::DumpLispValue { dump_offset, .. }
                | EmacsRelocValue::DumpPtrRaw { dump_offset } => u64::try_from(dump_offset).ok(),
                _ => None,
            };
            if let Some(target) = target {
                mark(target, root::EMACS_RELOC);
            }
        }
        if let Some(offset) = header.hash_list.filter(|&o| o != 0) {
            mark(offset, root::HASH_LIST);
        }
        for offset in dump.hash_list_entries().into_iter().flatten() {
            mark(offset, root::HASH_LIST);
        }
        for node in nodes.iter_mut() {
            if node.kind == NodeKind::Object(LispType::Symbol) {
                // Bits 6..7 of the first byte: `interned`.
                let flags = dump.bytes()[node.offset as usize];
                if flags >> 6 != 0 {
                    node.roots |= root::INTERNED;
                }
            }
        }
        Ok(Graph {
            nodes,
            edge_start,
            edge_target: edge_target_of,
            edge_site,
            index,
            notes,
        })
    }
}

/// A raw node at `offset` (its size is set once all nodes are known).
fn raw_node(offset: u32) -> Node {
    Node {
        offset,
        size: 0,
        kind: NodeKind::Raw,
        pvec: NO_PVEC,
        roots: 0,
    }
}

/// Where the bignum object at `offset` keeps its limbs: a 4-byte dump
/// offset after its header word.
fn bignum_target(dump: &Dump<'_>, offset: u64) -> Option<u64> {
    let bytes = dump.bytes_at(offset + 8, 4, "bignum data").ok()?;
    u64::try_from(i32::from_le_bytes(bytes.try_into().expect("4 bytes"))).ok()
}

/// The dump offset a dump relocation of `kind` at `offset` stores, for the
/// kinds that are edges of the graph.
fn edge_target(dump: &Dump<'_>, kind: RelocKind, offset: u64) -> Option<u64> {
    match kind {
        RelocKind::DumpPtrRaw | RelocKind::DumpLispValue(_) => dump.word_at(offset).ok(),
        RelocKind::Bignum => bignum_target(dump, offset),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_index_finds_the_last_start() {
        let nodes: Vec<Node> = [0, 8, 63, 64, 200, 255, 256, 700]
            .into_iter()
            .map(raw_node)
            .collect();
        let index = StartIndex::new(&nodes);
        let last = |offset| index.last_at_or_before(&nodes, offset);
        assert_eq!(last(0), Some(0));
        assert_eq!(last(7), Some(0));
        assert_eq!(last(8), Some(1));
        assert_eq!(last(63), Some(2));
        assert_eq!(last(64), Some(3));
        assert_eq!(last(199), Some(3));
        assert_eq!(last(254), Some(4));
        assert_eq!(last(255), Some(5));
        assert_eq!(last(256), Some(6));
        // A block where nothing starts: the last node of an earlier one.
        assert_eq!(last(600), Some(6));
        assert_eq!(last(700), Some(7));
        assert_eq!(last(10_000), Some(7));
        let late = [raw_node(300)];
        let index = StartIndex::new(&late);
        assert_eq!(index.last_at_or_before(&late, 299), None);
        assert_eq!(index.last_at_or_before(&late, 20), None);
        assert_eq!(index.last_at_or_before(&late, 300), Some(0));
        let index = StartIndex::new(&[]);
        assert_eq!(index.last_at_or_before(&[], 5), None);
    }
}
