//! Structural hashes: a digest of what each object of a dump contains and
//! reaches, independent of where anything sits, so two dumps can be compared
//! object by object although every offset moved.
//!
//! An object's hash covers its kind and pvec type, its bytes with every
//! relocated word blanked (those hold offsets), and, in slot order, the
//! position of each pointer inside it, where inside its target it lands, and
//! the target's hash. Strings hash their text instead of their data pointer.
//! Symbols are identities: a reference to a symbol hashes its name, not its
//! value, so a change stays with the symbol it belongs to and the symbol
//! graph (every symbol reaches every other) never needs traversing. What a
//! symbol's value, function and plist reach is hashed per slot. Buffers
//! (buffer-local values point at them) and native-compilation units (every
//! native function points at its unit) are identities too: they hash by name.
//!
//! Cycles among other objects (circular lists, buffers, char-tables) are
//! handled by strongly connected components, found with Pearce's
//! space-efficient variant of Tarjan's search (a word per node besides the
//! hashes, however deep the search goes), which emits them dependencies
//! first: a member's hash combines its own contents, the final hashes of
//! targets outside the component, a placeholder (the target's contents
//! alone) for targets inside it, and the sorted multiset of all members'
//! such hashes. A node pointing at itself is such a component of one.
//! Nothing depends on node numbering, and the work is linear in nodes +
//! edges.

use crate::dump::Dump;
use crate::executable::Executable;
use crate::graph::{Graph, Node, NodeKind};
use crate::lisp::LispType;
use crate::symbol::{lisp_string, StringData, SymbolNames, SymbolSlot};
use crate::tables::RelocKind;
use std::collections::HashMap;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

/// Structural hashes of every node of a graph.
pub struct Hashes {
    /// Per node: its structural hash; for symbols, the hash of their name.
    node: Vec<u64>,
    /// Buffers and native-compilation units, sorted, with the hash of their
    /// name: what a reference to one hashes (like symbols, they are
    /// identities).
    identities: Vec<(u32, u64)>,
    /// Per node: whether it is among `identities` (a dense test for the
    /// hot loops; the hashes are looked up only for the few that are).
    is_named: Bits,
}

/// Inside a component, the stand-in hashes of members this large (in
/// bytes) are kept once computed; smaller ones are recomputed for each
/// reference. Kept ones cost at most a few bytes per this many file bytes.
const KEPT_STAND_IN: u32 = 256;

/// Distinct seeds keep hashes of different things apart.
const SEED_SYMBOL: u64 = 0x5359_4d42;
const SEED_FIXNUM: u64 = 0x4649_584e;
const SEED_SLOT: u64 = 0x534c_4f54;
const SEED_BUFFER: u64 = 0x4255_4646;
const SEED_UNIT: u64 = 0x4e55_4e49;

fn kind_byte(kind: NodeKind) -> u8 {
    match kind {
        NodeKind::Object(t) => t.tag(),
        NodeKind::CopiedSymbol => 8,
        NodeKind::CopiedSubr => 9,
        NodeKind::CopiedData => 10,
        NodeKind::Raw => 11,
    }
}

fn mix(a: u64, b: u64) -> u64 {
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&a.to_le_bytes());
    buf[8..].copy_from_slice(&b.to_le_bytes());
    xxh3_64(&buf)
}

/// Bit per 8-byte word of the file: set where a relocation stores an
/// offset into the dump (those bytes say where, not what).
struct Blanks {
    bits: Vec<u64>,
    /// Offsets of bignum objects, whose dump pointer is a 4-byte field.
    bignums: Vec<u64>,
}

impl Blanks {
    fn new(dump: &Dump<'_>) -> Blanks {
        let words = dump.size().div_ceil(8);
        let mut blanks = Blanks {
            bits: vec![0; words.div_ceil(64) as usize],
            bignums: Vec::new(),
        };
        for (_, table) in dump.dump_relocs() {
            for reloc in table.iter() {
                match reloc.kind {
                    RelocKind::DumpPtrRaw | RelocKind::DumpLispValue(_) => {
                        blanks.set(reloc.offset);
                    }
                    RelocKind::Bignum => {
                        blanks.set(reloc.offset + 8);
                        blanks.bignums.push(reloc.offset);
                    }
                    _ => {}
                }
            }
        }
        blanks.bignums.sort_unstable();
        blanks
    }

    fn set(&mut self, offset: u64) {
        let word = offset / 8;
        if let Some(w) = self.bits.get_mut((word / 64) as usize) {
            *w |= 1 << (word % 64);
        }
    }

    fn is_set(&self, offset: u64) -> bool {
        let word = offset / 8;
        self.bits
            .get((word / 64) as usize)
            .is_some_and(|w| w & (1 << (word % 64)) != 0)
    }
}

/// One bit per node.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    fn get(&self, i: u32) -> bool {
        self.0[i as usize / 64] & 1 << (i % 64) != 0
    }

    fn set(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: u32) {
        self.0[i as usize / 64] &= !(1 << (i % 64));
    }
}

/// What hashing reads.
struct Hasher<'d, 'a, 'e> {
    dump: &'d Dump<'a>,
    graph: &'d Graph,
    executable: Option<&'e Executable>,
    blanks: Blanks,
    /// The pvec type numbers of buffers and native-compilation units, when
    /// the numbering is known.
    buffer: Option<u8>,
    unit: Option<u8>,
}

/// Bytes hashed at once: larger objects are hashed as a stream of pieces.
const CHUNK: usize = 1 << 14;

/// The work space of hashing one node: the bytes to hash (at most about
/// [`CHUNK`] at a time, then streamed), and its (site, target) edges when
/// they must be sorted.
#[derive(Default)]
struct Scratch {
    buf: Vec<u8>,
    stream: Xxh3,
    streaming: bool,
    edges: Vec<(u32, u32)>,
}

impl Scratch {
    fn begin(&mut self) {
        self.buf.clear();
        self.streaming = false;
    }

    /// Appends `bytes` (at most [`CHUNK`]), first streaming what is
    /// buffered if the buffer would grow past that; returns where they went.
    fn push(&mut self, bytes: &[u8]) -> usize {
        if self.buf.len() + bytes.len() > CHUNK {
            if !self.streaming {
                self.stream.reset();
                self.streaming = true;
            }
            self.stream.update(&self.buf);
            self.buf.clear();
        }
        self.buf.extend_from_slice(bytes);
        self.buf.len() - bytes.len()
    }

    /// The hash of everything pushed since [`Scratch::begin`] (the same as
    /// hashing it at once).
    fn digest(&mut self) -> u64 {
        if !self.streaming {
            return xxh3_64(&self.buf);
        }
        self.stream.update(&self.buf);
        self.stream.digest()
    }
}

impl Hasher<'_, '_, '_> {
    /// Whether `node` is an identity (a symbol, a buffer, a native unit):
    /// references to it hash its name, not its contents.
    fn is_identity(&self, node: u32) -> bool {
        let n = self.graph.node(node);
        n.kind.is_symbol()
            || (n.kind == NodeKind::Object(LispType::Vectorlike)
                && (Some(n.pvec) == self.buffer || Some(n.pvec) == self.unit))
    }

    /// The hash of the name of identity `node` (not a symbol).
    fn identity(&self, node: u32) -> u64 {
        if Some(self.graph.node(node).pvec) == self.unit {
            self.unit_name(node)
        } else {
            // A buffer: its name is the first Lisp slot.
            mix(SEED_BUFFER, self.name_at(node, 8))
        }
    }

    /// Whether the edge from `source` at `site` to `target` is followed as a
    /// structural dependency (not into identities, not a string's data).
    fn follows(&self, source: &Node, site: u32, target: u32) -> bool {
        !self.is_identity(target) && !is_string_data(source, site)
    }

    /// The hash of the text of the string that word `slot` of `node` points at.
    fn name_at(&self, node: u32, slot: u64) -> u64 {
        let at = u64::from(self.graph.node(node).offset) + slot;
        self.graph
            .edge_at(node, at)
            .filter(|&s| self.graph.node(s).kind == NodeKind::Object(LispType::String))
            .map_or(0, |s| self.string_text(s))
    }

    /// The text of string node `node`, when it can be read.
    fn string_bytes(&self, node: u32) -> Option<&[u8]> {
        let s = lisp_string(self.dump, self.graph, node).ok()?;
        match s.data {
            StringData::Dump(at) => self.dump.bytes_at(at, s.bytes, "string data").ok(),
            StringData::Executable(rel) => self.executable?.bytes_at(rel, s.bytes),
        }
    }

    /// The hash of the text of string node `node`, or of where its text is
    /// when it cannot be read.
    fn string_text(&self, node: u32) -> u64 {
        if let Some(text) = self.string_bytes(node) {
            return xxh3_64(text);
        }
        match lisp_string(self.dump, self.graph, node).map(|s| s.data) {
            Ok(StringData::Executable(rel)) => mix(SEED_SYMBOL, rel as u64),
            _ => 0,
        }
    }

    /// The identity of a native-compilation unit: the file name (without
    /// directory) of its `.eln`, from its `file` slot (a string, or a cons
    /// whose car is one). Directories differ between a build tree and an
    /// installation; the unit's contents are still compared as an object.
    fn unit_name(&self, node: u32) -> u64 {
        let at = u64::from(self.graph.node(node).offset) + 8;
        let string = NodeKind::Object(LispType::String);
        let file = self.graph.edge_at(node, at).and_then(|t| {
            let kind = self.graph.node(t).kind;
            if kind == string {
                Some(t)
            } else if kind == NodeKind::Object(LispType::Cons) {
                let car = self.graph.edge_at(t, self.graph.node(t).offset.into())?;
                (self.graph.node(car).kind == string).then_some(car)
            } else {
                None
            }
        });
        let text = file.and_then(|f| self.string_bytes(f)).unwrap_or_default();
        let base = text.rsplit(|&b| b == b'/').next().unwrap_or_default();
        mix(SEED_UNIT, xxh3_64(base))
    }

    /// The node's hash, with `target` giving the hash of each followed
    /// edge's target.
    fn hash(&self, scratch: &mut Scratch, index: u32, target: &mut dyn FnMut(u32) -> u64) -> u64 {
        let node = *self.graph.node(index);
        let start = u64::from(node.offset);
        let bytes = self
            .dump
            .bytes()
            .get(start as usize..node.end() as usize)
            .unwrap_or_default();
        scratch.begin();
        scratch.push(&[kind_byte(node.kind), node.pvec]);
        // In pieces, so that a huge object is never copied whole.
        for (i, piece) in bytes.chunks(CHUNK).enumerate() {
            let from = start + (i * CHUNK) as u64;
            let to = from + piece.len() as u64;
            let at = scratch.push(piece);
            // Blank relocated words (objects are 8-aligned; raw nodes need not be).
            for word in from / 8..to.div_ceil(8) {
                if self.blanks.is_set(word * 8) {
                    let a = (word * 8).max(from) - from;
                    let b = (word * 8 + 8).min(to) - from;
                    scratch.buf[at + a as usize..at + b as usize].fill(0);
                }
            }
        }
        if node.kind == NodeKind::Object(LispType::String) {
            let text = self.string_text(index);
            scratch.push(&text.to_le_bytes());
        }
        let bignum = self.blanks.bignums.binary_search(&start).is_ok();
        let mut record = |scratch: &mut Scratch, site: u32, t: u32| {
            if is_string_data(&node, site) {
                return;
            }
            let target_node = self.graph.node(t);
            // Where inside the target the pointer lands.
            let interior = if bignum && u64::from(site) == start {
                0
            } else {
                self.dump
                    .word(site.into())
                    .map_or(0, |w| w.wrapping_sub(target_node.offset.into()))
            };
            let h = target(t);
            let mut entry = [0u8; 24];
            entry[..8].copy_from_slice(&(u64::from(site) - start).to_le_bytes());
            entry[8..16].copy_from_slice(&interior.to_le_bytes());
            entry[16..].copy_from_slice(&h.to_le_bytes());
            scratch.push(&entry);
        };
        // Edges in slot order. Relocation tables are sorted, so they mostly
        // come in that order and need no copy.
        let in_order = |(t, site): (u32, u64)| (site as u32, t);
        if self.graph.edges(index).map(in_order).is_sorted() {
            for (site, t) in self.graph.edges(index).map(in_order) {
                record(scratch, site, t);
            }
        } else {
            let mut edges = std::mem::take(&mut scratch.edges);
            edges.clear();
            edges.reserve_exact(self.graph.edges(index).count());
            edges.extend(self.graph.edges(index).map(in_order));
            edges.sort_unstable();
            for &(site, t) in &edges {
                record(scratch, site, t);
            }
            scratch.edges = edges;
        }
        scratch.digest()
    }
}

fn is_string_data(source: &Node, site: u32) -> bool {
    source.kind == NodeKind::Object(LispType::String) && site == source.offset + 24
}

impl Hashes {
    /// Hashes every node of `graph`. Names of symbols that are C literals
    /// are read from `names` (with its executable); without one, such a
    /// symbol is identified by where its name lies in the executable, which
    /// is the same for every dump one Emacs writes.
    pub fn compute(
        dump: &Dump<'_>,
        graph: &Graph,
        names: &SymbolNames<'_, '_, '_>,
        executable: Option<&Executable>,
    ) -> Hashes {
        let n = graph.len();
        let numbering = dump.pvec_numbering().numbering;
        let hasher = Hasher {
            dump,
            graph,
            executable,
            blanks: Blanks::new(dump),
            buffer: numbering.and_then(|n| n.type_number("BUFFER")),
            unit: numbering.and_then(|n| n.type_number("NATIVE_COMP_UNIT")),
        };
        let mut node = vec![0u64; n];
        // Symbols first: their names are their identity.
        for (i, slot) in node.iter_mut().enumerate() {
            let i = i as u32;
            if !graph.node(i).kind.is_symbol() {
                continue;
            }
            *slot = match names.name_bytes(i) {
                Some(name) => mix(SEED_SYMBOL, xxh3_64(name)),
                None => mix(SEED_SYMBOL, hasher.name_at(i, SymbolSlot::Name.offset())),
            };
        }
        let identities: Vec<(u32, u64)> = (0..n as u32)
            .filter(|&i| !graph.node(i).kind.is_symbol() && hasher.is_identity(i))
            .map(|i| (i, hasher.identity(i)))
            .collect();
        let mut is_named = Bits::new(n);
        for &(i, _) in &identities {
            is_named.set(i);
        }
        let reference = |node: &[u64], t: u32| {
            if !is_named.get(t) {
                return node[t as usize];
            }
            match identities.binary_search_by_key(&t, |b| b.0) {
                Ok(p) => identities[p].1,
                Err(_) => node[t as usize],
            }
        };

        // Pearce's iterative variant of Tarjan's search over the followed
        // edges ("A space-efficient algorithm for finding strongly
        // connected components", 2016): one number per node instead of an
        // index and a low link. While a node is searched, its entry of
        // `node` holds that number (high half) and its next edge (low
        // half); its hash replaces them once its component is done. The
        // DFS path and the finished nodes waiting for their component are
        // never the same node, so both stacks share one array of a word per
        // node, from either end: a ring of millions of conses, searched
        // millions deep, costs nothing more than a short list.
        let (start, targets) = graph.csr();
        let sites = graph.csr_sites();
        let mut search = Search::new(n);
        let mut scratch = Scratch::default();
        let mut inner = Scratch::default();
        let mut stand_ins: HashMap<u32, u64> = HashMap::new();
        for first in 0..n as u32 {
            if search.reached.get(first) || graph.node(first).kind.is_symbol() {
                continue;
            }
            search.enter(first, &mut node, start);
            while search.path > 0 {
                let v = search.stacks[search.path - 1];
                let e = node[v as usize] as u32;
                if e < start[v as usize + 1] {
                    // The next edge (the low half cannot overflow into the
                    // high one: `e` is below an edge count).
                    node[v as usize] += 1;
                    let w = targets[e as usize];
                    if !hasher.follows(graph.node(v), sites[e as usize], w) {
                        continue;
                    }
                    if search.reached.get(w) {
                        search.lower(&mut node, v, w);
                    } else {
                        search.enter(w, &mut node, start);
                    }
                    continue;
                }
                search.path -= 1;
                if !search.root.get(v) {
                    search.waiting -= 1;
                    search.stacks[search.waiting] = v;
                } else {
                    // The component: `v` and the waiting nodes numbered
                    // after it. Its slot on the path, or one below, is
                    // free, so `v` joins them in the array.
                    let own = rindex(&node, v);
                    let mut end = search.waiting;
                    while end < n && rindex(&node, search.stacks[end]) >= own {
                        end += 1;
                    }
                    search.waiting -= 1;
                    search.stacks[search.waiting] = v;
                    let Search {
                        reached,
                        done,
                        stacks,
                        waiting,
                        ..
                    } = &mut search;
                    let members = &mut stacks[*waiting..end];
                    // Each member hashes with its targets' final hashes,
                    // and, for targets inside the component, their own
                    // contents alone as stand-ins: recomputed for small
                    // targets (a stand-in per member would be a word per
                    // node more), kept for large ones (recomputing one
                    // per reference could be quadratic).
                    let mut cyclic = false;
                    stand_ins.clear();
                    for &m in members.iter() {
                        let h = hasher.hash(&mut scratch, m, &mut |t| {
                            if is_named.get(t) || !reached.get(t) || done.get(t) {
                                return reference(&node, t);
                            }
                            cyclic = true;
                            let mut stand_in = || hasher.hash(&mut inner, t, &mut |_| 0);
                            if graph.node(t).size < KEPT_STAND_IN {
                                return stand_in();
                            }
                            *stand_ins.entry(t).or_insert_with(stand_in)
                        });
                        node[m as usize] = h;
                    }
                    for &m in members.iter() {
                        done.set(m);
                    }
                    // A cycle (or a node pointing at itself): its members'
                    // hashes, sorted, are a multiset each is combined with.
                    if cyclic {
                        members.sort_unstable_by_key(|&m| node[m as usize]);
                        let mut multiset = Xxh3::new();
                        for &m in members.iter() {
                            multiset.update(&node[m as usize].to_le_bytes());
                        }
                        let component_hash = multiset.digest();
                        for &m in members.iter() {
                            node[m as usize] = mix(node[m as usize], component_hash);
                        }
                    }
                    *waiting = end;
                }
                if search.path > 0 {
                    let parent = search.stacks[search.path - 1];
                    search.lower(&mut node, parent, v);
                }
            }
        }
        Hashes {
            node,
            identities,
            is_named,
        }
    }

    /// The hash of node `index`'s contents (for symbols: of their name).
    pub fn of(&self, index: u32) -> u64 {
        self.node[index as usize]
    }

    /// Whether node `index` is an identity (a symbol, buffer or unit), which
    /// references hash by name.
    pub fn is_identity(&self, graph: &Graph, index: u32) -> bool {
        graph.node(index).kind.is_symbol() || self.is_named.get(index)
    }

    /// What a reference to node `index` hashes: its name for identities,
    /// else its contents.
    pub fn reference(&self, index: u32) -> u64 {
        if !self.is_named.get(index) {
            return self.node[index as usize];
        }
        match self.identities.binary_search_by_key(&index, |b| b.0) {
            Ok(p) => self.identities[p].1,
            Err(_) => self.node[index as usize],
        }
    }

    /// The hash of what slot `slot` of symbol node `symbol` holds: the hash
    /// of its target, or of the word itself when it points nowhere in the
    /// dump (a fixnum, a built-in object).
    pub fn slot(&self, dump: &Dump<'_>, graph: &Graph, symbol: u32, slot: SymbolSlot) -> u64 {
        let site = u64::from(graph.node(symbol).offset) + slot.offset();
        match graph.edge_at(symbol, site) {
            Some(t) => mix(SEED_SLOT, self.reference(t)),
            None => mix(SEED_FIXNUM, dump.word(site).unwrap_or(0)),
        }
    }

    /// A symbol's flags word (redirection, constness, interning, special),
    /// without the mark bit.
    pub fn symbol_flags(dump: &Dump<'_>, graph: &Graph, symbol: u32) -> u64 {
        let offset = u64::from(graph.node(symbol).offset);
        dump.word(offset).unwrap_or(0) & !1
    }
}

/// The state of the search for strongly connected components (see
/// [`Hashes::compute`]); each searched node's number and next edge are in
/// its entry of the hash array.
struct Search {
    reached: Bits,
    /// Nodes whose component is hashed.
    done: Bits,
    /// Whether a searched node may still be its component's root.
    root: Bits,
    /// `stacks[..path]`: the DFS path; `stacks[waiting..]`: finished nodes
    /// whose component is not done, most recent first.
    stacks: Vec<u32>,
    path: usize,
    waiting: usize,
    counter: u32,
}

/// A searched node's number, from its entry of the hash array.
fn rindex(node: &[u64], v: u32) -> u32 {
    (node[v as usize] >> 32) as u32
}

impl Search {
    fn new(n: usize) -> Search {
        Search {
            reached: Bits::new(n),
            done: Bits::new(n),
            root: Bits::new(n),
            stacks: vec![0; n],
            path: 0,
            waiting: n,
            counter: 0,
        }
    }

    /// Starts searching `v`, from its first edge (`start` as in `Graph::csr`).
    fn enter(&mut self, v: u32, node: &mut [u64], start: &[u32]) {
        self.reached.set(v);
        self.root.set(v);
        node[v as usize] = u64::from(self.counter) << 32 | u64::from(start[v as usize]);
        self.counter += 1;
        self.stacks[self.path] = v;
        self.path += 1;
    }

    /// `v` reaches `w`: while `w`'s component is open, `v` is in it or
    /// below it, and takes `w`'s number when that is lower.
    fn lower(&mut self, node: &mut [u64], v: u32, w: u32) {
        if !self.done.get(w) && rindex(node, w) < rindex(node, v) {
            let number = node[w as usize] & !u64::from(u32::MAX);
            node[v as usize] = number | node[v as usize] & u64::from(u32::MAX);
            self.root.clear(v);
        }
    }
}
