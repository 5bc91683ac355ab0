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
//! handled by strongly connected components, found with an iterative Tarjan
//! search that emits them dependencies first: a member's hash combines its
//! own contents, the final hashes of targets outside the component, a
//! placeholder (the target's contents alone) for targets inside it, and the
//! sorted multiset of all members' such hashes. Nothing depends on node
//! numbering, and the work is linear in nodes + edges.

use crate::dump::Dump;
use crate::executable::Executable;
use crate::graph::{Graph, Node, NodeKind};
use crate::lisp::LispType;
use crate::symbol::{lisp_string, StringData, SymbolNames, SymbolSlot};
use crate::tables::RelocKind;
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
    is_named: Vec<bool>,
}

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
    buf: Vec<u8>,
    edges: Vec<(u32, u32, u32)>,
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
    fn hash(&mut self, index: u32, target: &dyn Fn(u32) -> u64) -> u64 {
        let node = *self.graph.node(index);
        let start = u64::from(node.offset);
        let bytes = self
            .dump
            .bytes()
            .get(start as usize..node.end() as usize)
            .unwrap_or_default();
        self.buf.clear();
        self.buf.push(kind_byte(node.kind));
        self.buf.push(node.pvec);
        self.buf.extend_from_slice(bytes);
        // Blank relocated words (objects are 8-aligned; raw nodes need not be).
        let first_word = start / 8;
        let last_word = node.end().div_ceil(8);
        for word in first_word..last_word {
            if self.blanks.is_set(word * 8) {
                let from = (word * 8).max(start) - start;
                let to = (word * 8 + 8).min(node.end()) - start;
                self.buf[2 + from as usize..2 + to as usize].fill(0);
            }
        }
        if node.kind == NodeKind::Object(LispType::String) {
            let text = self.string_text(index);
            self.buf.extend_from_slice(&text.to_le_bytes());
        }
        self.edges.clear();
        for (t, site) in self.graph.edges(index) {
            self.edges.push((site as u32, t, 0));
        }
        // Relocation tables are sorted, so edges mostly come in slot order.
        if !self.edges.is_sorted() {
            self.edges.sort_unstable();
        }
        let bignum = self.blanks.bignums.binary_search(&start).is_ok();
        for i in 0..self.edges.len() {
            let (site, t, _) = self.edges[i];
            if is_string_data(&node, site) {
                continue;
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
            self.buf
                .extend_from_slice(&(u64::from(site) - start).to_le_bytes());
            self.buf.extend_from_slice(&interior.to_le_bytes());
            self.buf.extend_from_slice(&h.to_le_bytes());
        }
        xxh3_64(&self.buf)
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
        let mut hasher = Hasher {
            dump,
            graph,
            executable,
            blanks: Blanks::new(dump),
            buffer: numbering.and_then(|n| n.type_number("BUFFER")),
            unit: numbering.and_then(|n| n.type_number("NATIVE_COMP_UNIT")),
            buf: Vec::new(),
            edges: Vec::new(),
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
        let mut is_named = vec![false; n];
        for &(i, _) in &identities {
            is_named[i as usize] = true;
        }
        let reference = |node: &[u64], t: u32| {
            if !is_named[t as usize] {
                return node[t as usize];
            }
            match identities.binary_search_by_key(&t, |b| b.0) {
                Ok(p) => identities[p].1,
                Err(_) => node[t as usize],
            }
        };

        // Iterative Tarjan over the followed edges. While a node is being
        // searched, its entry of `node` holds its index (high half) and
        // low link (low half); its hash replaces them once its component
        // is done. Which nodes were reached and which are on the stack are
        // bits: a dump of tiny objects must not cost tens of bytes each.
        let (start, targets) = graph.csr();
        let sites = graph.csr_sites();
        let mut reached = Bits::new(n);
        let mut on_stack = Bits::new(n);
        let index = |node: &[u64], v: u32| (node[v as usize] >> 32) as u32;
        let low = |node: &[u64], v: u32| node[v as usize] as u32;
        let set_low = |node: &mut [u64], v: u32, l: u32| {
            node[v as usize] = node[v as usize] & !u64::from(u32::MAX) | u64::from(l);
        };
        let mut stack: Vec<u32> = Vec::new();
        let mut calls: Vec<(u32, u32)> = Vec::new();
        let mut counter = 0u32;
        let mut partial: Vec<u64> = Vec::new();
        let mut enter = |v: u32, node: &mut [u64], stack: &mut Vec<u32>, reached: &mut Bits| {
            reached.set(v);
            node[v as usize] = u64::from(counter) << 32 | u64::from(counter);
            counter += 1;
            stack.push(v);
        };
        for root in 0..n as u32 {
            if reached.get(root) || graph.node(root).kind.is_symbol() {
                continue;
            }
            enter(root, &mut node, &mut stack, &mut reached);
            on_stack.set(root);
            calls.push((root, start[root as usize]));
            while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
                if *pos < start[v as usize + 1] {
                    let e = *pos as usize;
                    *pos += 1;
                    let w = targets[e];
                    if !hasher.follows(graph.node(v), sites[e], w) {
                        continue;
                    }
                    if !reached.get(w) {
                        enter(w, &mut node, &mut stack, &mut reached);
                        on_stack.set(w);
                        calls.push((w, start[w as usize]));
                    } else if on_stack.get(w) {
                        let l = low(&node, v).min(index(&node, w));
                        set_low(&mut node, v, l);
                    }
                    continue;
                }
                calls.pop();
                // A long path once searched leaves a large empty stack:
                // given back, as a big component's hashes then need room.
                if calls.capacity() >= 4 * calls.len() + 65536 {
                    calls.shrink_to(2 * calls.len());
                }
                if let Some(&(parent, _)) = calls.last() {
                    let l = low(&node, parent).min(low(&node, v));
                    set_low(&mut node, parent, l);
                }
                if low(&node, v) != index(&node, v) {
                    continue;
                }
                // The component: `v` and what is above it on the stack.
                let first = stack
                    .iter()
                    .rposition(|&w| w == v)
                    .expect("v is on the stack");
                let members = &stack[first..];
                for &m in members {
                    on_stack.clear(m);
                }
                if members.len() == 1 {
                    let h = hasher.hash(v, &|t| reference(&node, t));
                    node[v as usize] = h;
                    stack.truncate(first);
                    continue;
                }
                // A cycle: each member's own contents stand in for it
                // while the members are hashed with their targets.
                for &m in members {
                    node[m as usize] = hasher.hash(m, &|_| 0);
                }
                partial.clear();
                partial.reserve_exact(members.len());
                for &m in members {
                    partial.push(hasher.hash(m, &|t| reference(&node, t)));
                }
                // The stand-ins are no longer read: each member's hash goes
                // in its place, and `partial` is sorted into the multiset.
                for (&m, &h) in members.iter().zip(&partial) {
                    node[m as usize] = h;
                }
                partial.sort_unstable();
                let mut multiset = Xxh3::new();
                for h in &partial {
                    multiset.update(&h.to_le_bytes());
                }
                let component_hash = multiset.digest();
                for &m in members {
                    node[m as usize] = mix(node[m as usize], component_hash);
                }
                stack.truncate(first);
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
        graph.node(index).kind.is_symbol() || self.is_named[index as usize]
    }

    /// What a reference to node `index` hashes: its name for identities,
    /// else its contents.
    pub fn reference(&self, index: u32) -> u64 {
        if !self.is_named[index as usize] {
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
