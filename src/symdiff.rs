//! Comparing two dumps symbol by symbol: which symbols came and went, whose
//! value, function or plist changed (by [`structural`](crate::structural)
//! hashes, so moved objects are not changes), how much each retains, and the
//! text of strings that changed. `pdmp diff` prints it.

use crate::dump::Dump;
use crate::executable::Executable;
use crate::graph::{Graph, NodeKind, NO_PVEC};
use crate::lisp::LispType;
use crate::pvec::PvecNumbering;
use crate::structural::Hashes;
use crate::symbol::{lisp_string, StringData, SymbolNames, SymbolSlot};
use std::collections::{HashMap, HashSet};

/// Slots whose contents are compared.
const COMPARED: [SymbolSlot; 3] = [SymbolSlot::Value, SymbolSlot::Function, SymbolSlot::Plist];

/// `interned` value of symbols in the initial obarray.
const INTERNED_IN_INITIAL_OBARRAY: u8 = 2;

/// Steps of the walk that pairs the objects below one changed slot.
const WALK_STEPS: usize = 20_000;

/// One symbol of the initial obarray.
#[derive(Debug, Clone, Copy)]
pub struct SymbolEntry {
    pub node: u32,
    /// Hashes of the flags word and the value, function and plist slots.
    pub flags: u64,
    pub slots: [u64; 3],
    pub retained: u64,
}

/// The analysis of one dump that a comparison needs.
pub struct Analysis {
    pub hashes: Hashes,
    /// Symbols of the initial obarray by name.
    pub symbols: HashMap<String, SymbolEntry>,
    /// Symbols of the initial obarray whose names could not be read (C
    /// literals without the executable).
    pub unnamed_symbols: u64,
    /// (content hash, node) of every node but raw data, sorted: symbols
    /// hash their name, flags and compared slots, other nodes their
    /// structural hash. Two dumps' lists differ where their objects do.
    pub contents: Vec<Content>,
}

/// A content hash and its node, in 12 bytes (a `(u64, u32)` takes 16):
/// the list holds one per object, alongside the graph and the hashes.
/// Ordered by hash, then node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Content {
    /// The hash's high and low halves.
    hash: [u32; 2],
    node: u32,
}

impl Content {
    fn new(hash: u64, node: u32) -> Content {
        Content {
            hash: [(hash >> 32) as u32, hash as u32],
            node,
        }
    }

    pub fn hash(&self) -> u64 {
        u64::from(self.hash[0]) << 32 | u64::from(self.hash[1])
    }

    pub fn node(&self) -> u32 {
        self.node
    }
}

impl Analysis {
    /// Hashes, dominator tree and symbol table of `dump`.
    pub fn of(dump: &Dump<'_>, graph: &Graph, executable: Option<&Executable>) -> Analysis {
        let names = SymbolNames::new(dump, graph, executable);
        // One after the other, the dominator tree first, keeping only what
        // the symbols retain: the tree's work arrays and the hashing's are
        // each about as large as the graph, and a diff holds two graphs.
        let interned: Vec<(u32, u64)> = {
            let dominators = crate::stats::dominators(graph);
            (0..graph.len() as u32)
                .filter(|&i| {
                    let node = graph.node(i);
                    node.kind.is_symbol()
                        && dump.bytes()[node.offset as usize] >> 6 == INTERNED_IN_INITIAL_OBARRAY
                })
                .map(|i| (i, dominators.retained(i)))
                .collect()
        };
        let hashes = Hashes::compute(dump, graph, &names, executable);
        let mut symbols = HashMap::new();
        let mut unnamed_symbols = 0;
        for (i, retained) in interned {
            let Some(name) = names.name(i) else {
                unnamed_symbols += 1;
                continue;
            };
            symbols.insert(
                name,
                SymbolEntry {
                    node: i,
                    flags: Hashes::symbol_flags(dump, graph, i),
                    slots: COMPARED.map(|slot| hashes.slot(dump, graph, i, slot)),
                    retained,
                },
            );
        }
        let contents = contents(dump, graph, &hashes);
        Analysis {
            hashes,
            symbols,
            unnamed_symbols,
            contents,
        }
    }
}

/// One dump, analysed.
#[derive(Clone, Copy)]
pub struct Side<'s, 'a> {
    pub dump: &'s Dump<'a>,
    pub graph: &'s Graph,
    pub executable: Option<&'s Executable>,
    pub analysis: &'s Analysis,
}

/// A symbol in both dumps whose contents differ.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SymbolChange {
    pub name: String,
    /// Which of `flags`, `value`, `function`, `plist` differ.
    pub changed: Vec<&'static str>,
    pub old_retained: u64,
    pub new_retained: u64,
}

/// What a symbol retains in each dump (0 where it is absent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetainedDelta {
    pub name: String,
    pub old: u64,
    pub new: u64,
    pub change: i64,
}

/// A string below a changed symbol slot, in both dumps, as a text diff
/// (an added or removed string is compared with the empty text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StringChange {
    pub symbol: String,
    pub slot: &'static str,
    pub old_chars: u64,
    pub new_chars: u64,
    /// Unified diff of the old and new text, by lines.
    pub diff: String,
}

/// Objects of one kind whose structure is found in only one of the dumps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectDelta {
    pub kind: &'static str,
    pub pvec: Option<String>,
    pub old_only: u64,
    pub old_only_bytes: u64,
    pub new_only: u64,
    pub new_only_bytes: u64,
}

/// The symbol-level and object-level comparison of two dumps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContentDiff {
    pub old_symbols: u64,
    pub new_symbols: u64,
    pub old_unnamed_symbols: u64,
    pub new_unnamed_symbols: u64,
    /// Names, sorted.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<SymbolChange>,
    /// The symbols whose retained size changed most, largest change first.
    pub retained: Vec<RetainedDelta>,
    pub strings: Vec<StringChange>,
    /// Objects (raw data aside) by kind whose structural hash occurs more
    /// often in one dump than in the other.
    pub objects: Vec<ObjectDelta>,
}

impl ContentDiff {
    /// Compares `old` with `new`; `top` bounds the retained-size ranking,
    /// `max_strings` the string diffs.
    pub fn of(old: Side<'_, '_>, new: Side<'_, '_>, top: usize, max_strings: usize) -> ContentDiff {
        let (os, ns) = (&old.analysis.symbols, &new.analysis.symbols);
        let mut added: Vec<String> = ns
            .keys()
            .filter(|k| !os.contains_key(*k))
            .cloned()
            .collect();
        let mut removed: Vec<String> = os
            .keys()
            .filter(|k| !ns.contains_key(*k))
            .cloned()
            .collect();
        added.sort();
        removed.sort();

        let mut changed = Vec::new();
        for (name, o) in os {
            let Some(n) = ns.get(name) else { continue };
            let mut what = Vec::new();
            if o.flags != n.flags {
                what.push("flags");
            }
            for (i, slot) in COMPARED.iter().enumerate() {
                if o.slots[i] != n.slots[i] {
                    what.push(slot.name());
                }
            }
            if !what.is_empty() {
                changed.push(SymbolChange {
                    name: name.clone(),
                    changed: what,
                    old_retained: o.retained,
                    new_retained: n.retained,
                });
            }
        }
        changed.sort_by(|a, b| a.name.cmp(&b.name));

        let mut retained: Vec<RetainedDelta> = os
            .keys()
            .chain(added.iter())
            .filter_map(|name| {
                let o = os.get(name).map_or(0, |e| e.retained);
                let n = ns.get(name).map_or(0, |e| e.retained);
                (o != n).then(|| RetainedDelta {
                    name: name.clone(),
                    old: o,
                    new: n,
                    change: n as i64 - o as i64,
                })
            })
            .collect();
        retained.sort_by(|a, b| {
            b.change
                .unsigned_abs()
                .cmp(&a.change.unsigned_abs())
                .then_with(|| a.name.cmp(&b.name))
        });
        retained.truncate(top);

        let mut strings = Vec::new();
        'symbols: for change in &changed {
            let (o, n) = (os[&change.name].node, ns[&change.name].node);
            for slot in COMPARED {
                if !change.changed.contains(&slot.name()) {
                    continue;
                }
                for (a, b) in changed_strings(old, new, o, n, slot) {
                    if strings.len() >= max_strings {
                        break 'symbols;
                    }
                    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
                    strings.push(StringChange {
                        symbol: change.name.clone(),
                        slot: slot.name(),
                        old_chars: a.0,
                        new_chars: b.0,
                        diff: similar::TextDiff::from_lines(&a.1, &b.1)
                            .unified_diff()
                            .context_radius(2)
                            .header("old", "new")
                            .to_string(),
                    });
                }
            }
        }

        ContentDiff {
            old_symbols: os.len() as u64,
            new_symbols: ns.len() as u64,
            old_unnamed_symbols: old.analysis.unnamed_symbols,
            new_unnamed_symbols: new.analysis.unnamed_symbols,
            added,
            removed,
            changed,
            retained,
            strings,
            objects: object_deltas(old, new),
        }
    }

    /// Whether the dumps hold the same symbols and objects.
    pub fn same_content(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.objects.is_empty()
            && self.old_unnamed_symbols == self.new_unnamed_symbols
    }
}

/// The characters and text of string node `node`.
fn text(side: Side<'_, '_>, node: u32) -> Option<(u64, String)> {
    let s = lisp_string(side.dump, side.graph, node).ok()?;
    let bytes = match s.data {
        StringData::Dump(at) => side.dump.bytes_at(at, s.bytes, "string data").ok()?,
        StringData::Executable(rel) => side.executable?.bytes_at(rel, s.bytes)?,
    };
    Some((s.chars, String::from_utf8_lossy(bytes).into_owned()))
}

/// Nodes reachable from `start` through edges that are not into identities,
/// each edge list in slot order, at most [`WALK_STEPS`]; the walk does not
/// enter nodes for which `stop` holds.
fn walk(side: Side<'_, '_>, start: u32, stop: &dyn Fn(u32) -> bool) -> Vec<u32> {
    let hashes = &side.analysis.hashes;
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let mut todo = vec![start];
    while let Some(v) = todo.pop() {
        if order.len() >= WALK_STEPS
            || hashes.is_identity(side.graph, v)
            || stop(v)
            || !seen.insert(v)
        {
            continue;
        }
        order.push(v);
        let mut edges: Vec<(u64, u32)> = side.graph.edges(v).map(|(t, s)| (s, t)).collect();
        edges.sort_unstable();
        todo.extend(edges.iter().rev().map(|&(_, t)| t));
    }
    order
}

/// Strings that differ below `slot` of the symbols `o` (old) and `n` (new):
/// the strings reachable on one side whose structure the other side lacks
/// below that slot, paired in walk order; an unpaired one is compared with
/// nothing (an added or removed string).
type Text = Option<(u64, String)>;
fn changed_strings(
    old: Side<'_, '_>,
    new: Side<'_, '_>,
    o: u32,
    n: u32,
    slot: SymbolSlot,
) -> Vec<(Text, Text)> {
    let target = |side: Side<'_, '_>, symbol: u32| {
        let site = u64::from(side.graph.node(symbol).offset) + slot.offset();
        side.graph.edge_at(symbol, site)
    };
    let (ot, nt) = (target(old, o), target(new, n));
    let all = |side: Side<'_, '_>, t: Option<u32>| -> HashSet<u64> {
        t.map(|t| walk(side, t, &|_| false))
            .unwrap_or_default()
            .into_iter()
            .map(|v| side.analysis.hashes.of(v))
            .collect()
    };
    let (old_all, new_all) = (all(old, ot), all(new, nt));
    let string = NodeKind::Object(LispType::String);
    let only = |side: Side<'_, '_>, t: Option<u32>, other: &HashSet<u64>| -> Vec<u32> {
        let Some(t) = t else { return Vec::new() };
        let hashes = &side.analysis.hashes;
        walk(side, t, &|v| other.contains(&hashes.of(v)))
            .into_iter()
            .filter(|&v| side.graph.node(v).kind == string)
            .collect()
    };
    let (old_only, new_only) = (only(old, ot, &new_all), only(new, nt, &old_all));
    let count = old_only.len().max(new_only.len());
    (0..count)
        .map(|i| {
            (
                old_only.get(i).and_then(|&v| text(old, v)),
                new_only.get(i).and_then(|&v| text(new, v)),
            )
        })
        .filter(|(a, b)| a.as_ref().map(|t| &t.1) != b.as_ref().map(|t| &t.1))
        .collect()
}

/// The sorted (content hash, node) list of [`Analysis::contents`].
fn contents(dump: &Dump<'_>, graph: &Graph, hashes: &Hashes) -> Vec<Content> {
    let listed = |i: &u32| graph.node(*i).kind != NodeKind::Raw;
    // Counted first: a list grown by doubling would reserve up to twice
    // what it holds, and this one has an entry per object.
    let mut list = Vec::with_capacity((0..graph.len() as u32).filter(listed).count());
    list.extend((0..graph.len() as u32).filter(listed).map(|i| {
        let h = hashes.of(i);
        if !graph.node(i).kind.is_symbol() {
            return Content::new(h, i);
        }
        let slots = COMPARED.map(|s| hashes.slot(dump, graph, i, s));
        let flags = Hashes::symbol_flags(dump, graph, i);
        let mut bytes = [0u8; 40];
        for (chunk, x) in bytes
            .chunks_exact_mut(8)
            .zip([h, flags, slots[0], slots[1], slots[2]])
        {
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        Content::new(xxhash_rust::xxh3::xxh3_64(&bytes), i)
    }));
    list.sort_unstable();
    list
}

/// Multiset difference of the structural hashes of both dumps, by kind.
fn object_deltas(old: Side<'_, '_>, new: Side<'_, '_>) -> Vec<ObjectDelta> {
    let (ol, nl) = (&old.analysis.contents, &new.analysis.contents);
    let mut rows: Vec<ObjectDelta> = Vec::new();
    let numbering: [Option<PvecNumbering>; 2] =
        [old, new].map(|side| side.dump.pvec_numbering().numbering);
    let mut add = |side: Side<'_, '_>, node: u32, is_old: bool| {
        let n = side.graph.node(node);
        let numbering = numbering[usize::from(!is_old)];
        let pvec = (n.pvec != NO_PVEC).then(|| {
            numbering
                .and_then(|p| p.type_name(n.pvec))
                .map_or_else(|| format!("pvec {}", n.pvec), str::to_string)
        });
        let kind = n.kind.name();
        let row = match rows
            .iter_mut()
            .position(|r| r.kind == kind && r.pvec == pvec)
        {
            Some(p) => &mut rows[p],
            None => {
                rows.push(ObjectDelta {
                    kind,
                    pvec,
                    old_only: 0,
                    old_only_bytes: 0,
                    new_only: 0,
                    new_only_bytes: 0,
                });
                rows.last_mut().expect("just pushed")
            }
        };
        if is_old {
            row.old_only += 1;
            row.old_only_bytes += u64::from(n.size);
        } else {
            row.new_only += 1;
            row.new_only_bytes += u64::from(n.size);
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < ol.len() || j < nl.len() {
        match (ol.get(i), nl.get(j)) {
            (Some(a), Some(b)) if a.hash() == b.hash() => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.hash() < b.hash() => {
                add(old, a.node(), true);
                i += 1;
            }
            (Some(a), None) => {
                add(old, a.node(), true);
                i += 1;
            }
            (_, Some(b)) => {
                add(new, b.node(), false);
                j += 1;
            }
            (None, None) => unreachable!("loop condition"),
        }
    }
    rows.sort_by(|a, b| {
        (b.old_only_bytes + b.new_only_bytes)
            .cmp(&(a.old_only_bytes + a.new_only_bytes))
            .then_with(|| a.kind.cmp(b.kind))
    });
    rows
}
