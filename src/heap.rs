//! A Lisp heap to dump, placed as it is built. Built from [`Value`]s or from
//! source files, where `setq`, `defvar` and `defconst` bind symbol values,
//! `put` sets properties, `defalias`/`fset` set function cells, and every
//! other top-level form stays reachable from the root as `(FILE . FORMS)`.
//!
//! Values of those bindings are evaluated only as far as constants go: a
//! quoted or self-evaluating form gives its value, `(symbol-function 'F)` of
//! a built-in gives the subr, anything else is stored unevaluated.
//!
//! Every object but an interned symbol is placed the moment its form is
//! read, depth first from the form (an object's parts follow it, so related
//! objects sit together), and its bytes go to the [`Scratch`] streams; only
//! the symbol table stays in memory, because later forms change a symbol's
//! cells. The form is placed from its compact encoding (a [`Form`], as the
//! reader produces it; [`Value`]s given to the heap are encoded first). An
//! object is written whole before its parts are placed: a walk over each
//! part sizes it, so the parts' places are known in advance.
//! A value a later binding replaces stays in the dump, unreachable.
//! The [`writer`](crate::writer) assembles the dump from the symbol table and
//! the streams.

use crate::form::{self, Children, Form, Node, Seq, View, HASH_TABLE_META};
use crate::graph::NodeKind;
use crate::image;
use crate::lisp::LispType;
use crate::objlayout::{self as ol, fixnum, PvecKind};
use crate::scratch::{pending, Pending, Scratch};
use crate::segmented::{SegVec, StrArena};
use crate::value::{multibyte_chars, Value};
use hashbrown::HashTable;

/// Why a heap cannot be loaded further.
pub const FULL: &str = "the heap exceeds the format's 2 GiB dump";

/// Where a placed object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// Word index in the hot stream.
    Hot(u32),
    /// 8-byte unit in the cold stream.
    Cold(u32),
    /// Index of an interned symbol (placed when the dump is assembled).
    Symbol(u32),
}

/// A placed object: where it is and its Lisp tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjRef {
    pub tag: LispType,
    pub place: Place,
}

impl ObjRef {
    /// 37 bits: index << 5 | place << 3 | tag.
    pub fn pack(self) -> u64 {
        let (kind, index) = match self.place {
            Place::Hot(i) => (0, i),
            Place::Cold(i) => (1, i),
            Place::Symbol(i) => (2, i),
        };
        u64::from(index) << 5 | kind << 3 | u64::from(self.tag.tag())
    }

    pub fn unpack(v: u64) -> ObjRef {
        let index = (v >> 5) as u32;
        ObjRef {
            tag: LispType::from_tag((v & 7) as u32).expect("3 bits"),
            place: match (v >> 3) & 3 {
                0 => Place::Hot(index),
                1 => Place::Cold(index),
                _ => Place::Symbol(index),
            },
        }
    }
}

/// A Lisp value as a slot or a symbol cell holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word {
    /// A fixnum (62 bits).
    Fixnum(i64),
    /// A built-in symbol (index into `lispsym`).
    Builtin(u16),
    /// A built-in subr.
    Subr(u16),
    /// A placed object or an interned symbol.
    Obj(ObjRef),
}

impl Word {
    pub const NIL: Word = Word::Builtin(0);
    pub const T: Word = Word::Builtin(1);
    pub const UNBOUND: Word = Word::Builtin(2);

    /// The symbol table's 8-byte form: the value above two tag bits.
    fn pack(self) -> u64 {
        match self {
            Word::Fixnum(n) => (n as u64) << 2,
            Word::Builtin(i) => u64::from(i) << 2 | 1,
            Word::Subr(j) => u64::from(j) << 2 | 2,
            Word::Obj(r) => r.pack() << 2 | 3,
        }
    }

    fn unpack(w: u64) -> Word {
        match w & 3 {
            0 => Word::Fixnum(w as i64 >> 2),
            1 => Word::Builtin((w >> 2) as u16),
            2 => Word::Subr((w >> 2) as u16),
            _ => Word::Obj(ObjRef::unpack(w >> 2)),
        }
    }

    /// The word a slot holds: final, or pending until the dump is assembled.
    fn slot(self) -> Result<u64, Pending> {
        match self {
            Word::Fixnum(n) => Ok(fixnum(n)),
            Word::Builtin(i) => Ok(image::SYMBOL_SIZE * u64::from(i)),
            Word::Subr(j) => Err(Pending::new(pending::SUBR, j.into())),
            Word::Obj(r) => Err(Pending::new(pending::LISP, r.pack())),
        }
    }
}

/// The cells of a symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cells {
    pub value: Word,
    pub function: Word,
    pub plist: Word,
    pub special: bool,
}

impl Default for Cells {
    fn default() -> Cells {
        Cells {
            value: Word::UNBOUND,
            function: Word::NIL,
            plist: Word::NIL,
            special: false,
        }
    }
}

/// Region, node kind and pseudovector type of placed things.
pub type TallyKey = (&'static str, NodeKind, Option<PvecKind>);

/// Count and bytes of the things of one kind the dumper placed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placed {
    pub count: u64,
    pub bytes: u64,
}

impl Placed {
    pub fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes += bytes;
    }
}

/// What was placed so far, by kind, in first-seen order (a short list is
/// quicker than a map per object).
#[derive(Debug, Clone, Default)]
pub struct Placements {
    pub placed: Vec<(TallyKey, Placed)>,
    /// Strings by representation; bytes without the NUL.
    pub unibyte: Placed,
    pub multibyte: Placed,
}

impl Placements {
    pub fn add(&mut self, key: TallyKey, bytes: u64) {
        let i = match self.placed.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.placed.push((key, Placed::default()));
                self.placed.len() - 1
            }
        };
        self.placed[i].1.add(bytes);
    }

    /// Counts a string's bytes (without the NUL).
    pub fn string(&mut self, len: usize, multibyte: bool) {
        let kind = if multibyte {
            &mut self.multibyte
        } else {
            &mut self.unibyte
        };
        kind.add(len as u64);
    }
}

/// The interned symbols the heap created, in creation order (the order of
/// the obarray's chains): names in one byte arena; cells stored only for
/// symbols whose cells are not the default (most symbols of a program are
/// only named, never bound), found by symbol index in a small table. The
/// tables grow by blocks, never moving what they hold (see [`crate::segmented`]).
#[derive(Debug, Default)]
pub struct Symbols {
    names: StrArena,
    /// The symbols with cells: index, with [`SPECIAL`] set when special.
    bound_symbols: SegVec<u32>,
    /// Their value, function, plist (packed words).
    bound: SegVec<[u64; 3]>,
    /// Positions in `bound` by symbol index.
    by_symbol: HashTable<u32>,
}

/// A special symbol in [`Symbols::bound_symbols`].
const SPECIAL: u32 = 1 << 31;

/// The hash of a symbol index in [`Symbols::by_symbol`].
fn index_hash(i: u32) -> u64 {
    u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Symbols {
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, i: usize) -> &[u8] {
        self.names.get(i)
    }

    fn push(&mut self, name: &[u8]) {
        self.names.push(name);
    }

    /// The position of symbol `i`'s cells in `bound`.
    fn bound_at(&self, i: usize) -> Option<usize> {
        let i = i as u32;
        let bound_symbols = &self.bound_symbols;
        let b = self.by_symbol.find(index_hash(i), |&b| {
            bound_symbols[b as usize] & !SPECIAL == i
        })?;
        Some(*b as usize)
    }

    pub fn cells(&self, i: usize) -> Cells {
        let Some(b) = self.bound_at(i) else {
            return Cells::default();
        };
        let [value, function, plist] = self.bound[b];
        Cells {
            value: Word::unpack(value),
            function: Word::unpack(function),
            plist: Word::unpack(plist),
            special: self.bound_symbols[b] & SPECIAL != 0,
        }
    }

    fn set_cells(&mut self, i: usize, cells: Cells) {
        let special = if cells.special { SPECIAL } else { 0 };
        let words = [
            cells.value.pack(),
            cells.function.pack(),
            cells.plist.pack(),
        ];
        match self.bound_at(i) {
            Some(b) => {
                self.bound[b] = words;
                self.bound_symbols[b] = i as u32 | special;
            }
            None if cells == Cells::default() => {}
            None => {
                let b = self.bound.len() as u32;
                self.bound.push(words);
                self.bound_symbols.push(i as u32 | special);
                let bound_symbols = &self.bound_symbols;
                self.by_symbol.insert_unique(index_hash(i as u32), b, |&b| {
                    index_hash(bound_symbols[b as usize] & !SPECIAL)
                });
            }
        }
    }
}

/// Makes room for `additional` more elements, growing by a 32nd rather
/// than doubling: a table's spare room is then at most a 32nd of it (the
/// copies stay linear: a large block grows in place or by remapping).
fn reserve<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        v.reserve_exact(additional.max(v.len() / 32).max(16));
    }
}

/// The heap: the symbol table, the built-in symbols' cells, the root's
/// entries, and the scratch streams holding every other object.
#[derive(Debug)]
pub struct Heap {
    scratch: Scratch,
    /// Cells of the built-in symbols (their images are dumped and copied
    /// back into the runtime).
    pub builtins: Vec<Cells>,
    pub symbols: Symbols,
    /// The interned symbols by name: a built-in symbol as its index with
    /// [`BUILTIN`] set, any other as its index in `symbols`.
    by_name: HashTable<u32>,
    /// `(FILE . FORMS)` entries of the root list, in load order.
    root: Vec<Word>,
    /// The hash tables (hot word indices), for the hash list.
    pub hash_tables: Vec<u32>,
    /// What was placed where.
    pub placements: Placements,
    /// The root list, once sealed.
    sealed: Option<Word>,
    /// A pseudovector with more slots than its header can say.
    too_many: Option<(&'static str, usize)>,
}

/// Marks a built-in symbol in the symbol table.
const BUILTIN: u32 = 1 << 31;

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

impl Heap {
    pub fn new() -> Heap {
        let mut builtins = vec![Cells::default(); image::builtin_count()];
        // nil and t are constants whose value is themselves.
        builtins[0].value = Word::NIL;
        builtins[1].value = Word::T;
        for (j, _) in image::BUILTIN_SUBRS.iter().enumerate() {
            builtins[image::subr_symbol(j)].function = Word::Subr(j as u16);
        }
        let mut by_name = HashTable::new();
        for i in 0..image::builtin_count() {
            let hash = name_hash(image::builtin_name(i).as_bytes());
            by_name.insert_unique(hash, i as u32 | BUILTIN, |&e: &u32| {
                name_hash(image::builtin_name((e & !BUILTIN) as usize).as_bytes())
            });
        }
        Heap {
            scratch: Scratch::default(),
            builtins,
            symbols: Symbols::default(),
            by_name,
            root: Vec::new(),
            hash_tables: Vec::new(),
            placements: Placements::default(),
            sealed: None,
            too_many: None,
        }
    }

    /// The scratch streams (complete once sealed).
    pub fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    /// Whether the heap outgrew what the format can hold.
    pub fn is_full(&self) -> bool {
        self.scratch.is_full()
    }

    /// A pseudovector placed with more slots than its header can say.
    pub fn too_many_slots(&self) -> Option<(&'static str, usize)> {
        self.too_many
    }

    /// The interned symbol called `name`, created when new.
    pub fn intern(&mut self, name: &str) -> Word {
        self.intern_bytes(name.as_bytes())
    }

    /// [`intern`](Heap::intern) by the name's bytes (UTF-8).
    fn intern_bytes(&mut self, name: &[u8]) -> Word {
        let hash = name_hash(name);
        if let Some(w) = self.find_symbol(hash, name) {
            return w;
        }
        let i = self.symbols.len() as u32;
        self.symbols.push(name);
        let word = Word::Obj(ObjRef {
            tag: LispType::Symbol,
            place: Place::Symbol(i),
        });
        let mut cells = Cells::default();
        // Keywords are constants bound to themselves.
        if name.starts_with(b":") && name.len() > 1 {
            cells.value = word;
        }
        self.symbols.set_cells(i as usize, cells);
        let mut by_name = std::mem::take(&mut self.by_name);
        by_name.insert_unique(hash, i, |&e| name_hash(self.table_name(e)));
        self.by_name = by_name;
        word
    }

    fn find_symbol(&self, hash: u64, name: &[u8]) -> Option<Word> {
        let e = *self.by_name.find(hash, |&e| self.table_name(e) == name)?;
        Some(if e & BUILTIN != 0 {
            Word::Builtin((e & !BUILTIN) as u16)
        } else {
            Word::Obj(ObjRef {
                tag: LispType::Symbol,
                place: Place::Symbol(e),
            })
        })
    }

    /// The name of an entry of `by_name`.
    fn table_name(&self, e: u32) -> &[u8] {
        if e & BUILTIN != 0 {
            image::builtin_name((e & !BUILTIN) as usize).as_bytes()
        } else {
            self.symbols.name(e as usize)
        }
    }

    /// The cells of a symbol word.
    pub fn cells(&self, symbol: Word) -> Option<Cells> {
        match symbol {
            Word::Builtin(i) => self.builtins.get(usize::from(i)).copied(),
            Word::Obj(ObjRef {
                place: Place::Symbol(i),
                ..
            }) => Some(self.symbols.cells(i as usize)),
            _ => None,
        }
    }

    /// Changes the cells of a symbol word (nothing when it is no symbol).
    fn update_cells(&mut self, symbol: Word, f: impl FnOnce(&mut Cells)) {
        let Some(mut cells) = self.cells(symbol) else {
            return;
        };
        f(&mut cells);
        match symbol {
            Word::Builtin(i) => self.builtins[usize::from(i)] = cells,
            Word::Obj(ObjRef {
                place: Place::Symbol(i),
                ..
            }) => self.symbols.set_cells(i as usize, cells),
            _ => {}
        }
    }

    /// The word of `node` once placed with its hot objects from word `hot`
    /// and its cold items from unit `cold` on (interning its symbol if it
    /// is one).
    fn predict(&mut self, node: Node, hot: u32, cold: u32) -> Word {
        let at = |tag, place| Word::Obj(ObjRef { tag, place });
        match node.view() {
            View::Int(n) => Word::Fixnum(n),
            View::Symbol(name) => self.intern_bytes(name),
            View::Subr(name) => self.subr(name),
            View::Str { .. } => at(LispType::String, Place::Hot(hot)),
            View::Uninterned(_) => at(LispType::Symbol, Place::Hot(hot)),
            View::Float(_) => at(LispType::Float, Place::Cold(cold)),
            View::BoolVector { .. } => at(LispType::Vectorlike, Place::Cold(cold)),
            View::Seq(kind @ (Seq::List | Seq::Dotted), parts) => match list_parts(kind, parts) {
                (items, Some(tail)) if items.len() == 0 => self.predict(tail, hot, cold),
                (items, None) if items.len() == 0 => Word::NIL,
                _ => at(LispType::Cons, Place::Hot(hot)),
            },
            View::Seq(..) | View::Bignum { .. } => at(LispType::Vectorlike, Place::Hot(hot)),
        }
    }

    /// A built-in function by name (a symbol when there is none).
    fn subr(&mut self, name: &[u8]) -> Word {
        match image::subr_index(form::text(name)) {
            Some(j) => Word::Subr(j as u16),
            None => self.intern_bytes(name),
        }
    }

    /// Stores a word in hot slot `at`.
    fn store(&mut self, at: u32, word: Word) {
        match word.slot() {
            Ok(w) => self.scratch.set(at, w),
            Err(p) => self.scratch.set_pending(at, p),
        }
    }

    /// A hot object of `bytes` bytes: its first word.
    fn hot(&mut self, tag: LispType, bytes: u64, pvec: Option<PvecKind>) -> (u32, Word) {
        self.placements
            .add(("hot", NodeKind::Object(tag), pvec), bytes);
        // Every object before this one is complete: the buffers may go.
        self.scratch.flush(false);
        let at = self.scratch.hot_object(tag, (bytes / 8) as usize);
        let word = Word::Obj(ObjRef {
            tag,
            place: Place::Hot(at),
        });
        (at, word)
    }

    /// Cold raw data (string bytes, bignum limbs), followed by a NUL when
    /// `nul`: its 8-byte unit.
    fn raw(&mut self, bytes: &[u8], nul: bool) -> u32 {
        let padded = (bytes.len() as u64 + u64::from(nul)).next_multiple_of(8);
        self.placements.add(("cold", NodeKind::Raw, None), padded);
        let at = self.scratch.cold(bytes, None);
        // The NUL is in the padding unless the bytes fill their last unit.
        if nul && bytes.len().is_multiple_of(8) {
            self.scratch.cold(&[0], None);
        }
        at
    }

    /// A pseudovector header with `lisp` Lisp slots and `rest` other words.
    fn header(&mut self, at: u32, kind: PvecKind, what: &'static str, lisp: usize, rest: u64) {
        if lisp > 0xfff && self.too_many.is_none() {
            self.too_many = Some((what, lisp));
        }
        let index = PvecKind::ALL
            .iter()
            .position(|&k| k == kind)
            .expect("listed") as u64;
        let operand = index | (lisp as u64 & 0xfff) << 4 | rest << 16;
        self.scratch
            .set_pending(at, Pending::new(pending::HEADER, operand));
    }

    /// Places a value (and everything in it, depth first).
    fn place(&mut self, node: Node) -> Word {
        match node.view() {
            View::Int(n) => Word::Fixnum(n),
            View::Symbol(name) => self.intern_bytes(name),
            View::Subr(name) => self.subr(name),
            View::Str { bytes, multibyte } => self.string(bytes, multibyte),
            View::Float(x) => {
                self.placements
                    .add(("cold", NodeKind::Object(LispType::Float), None), 8);
                let at = self
                    .scratch
                    .cold(&x.to_bits().to_le_bytes(), Some(LispType::Float));
                Word::Obj(ObjRef {
                    tag: LispType::Float,
                    place: Place::Cold(at),
                })
            }
            View::Bignum { negative, limbs } => {
                let (at, word) = self.hot(
                    LispType::Vectorlike,
                    ol::BIGNUM_SIZE,
                    Some(PvecKind::Bignum),
                );
                let count = (limbs.len() / 8) as i64;
                let count = if negative { -count } else { count };
                let data = u64::from(self.raw(limbs, false));
                let operand = data | u64::from(count as i32 as u32) << 29;
                let s = &mut self.scratch;
                s.set_pending(at, Pending::new(pending::BIGNUM_HEADER, 0));
                s.set_pending(at + 1, Pending::new(pending::BIGNUM_LIMBS, operand));
                s.set_pending(at + 2, Pending::new(pending::BIGNUM_PTR, data));
                word
            }
            View::Uninterned(name) => {
                let (at, word) = self.hot(LispType::Symbol, image::SYMBOL_SIZE, None);
                // The name string follows.
                let name_at = at + (image::SYMBOL_SIZE / 8) as u32;
                self.scratch.set(at, ol::symbol::PLAINVAL);
                self.store(
                    at + 1,
                    Word::Obj(ObjRef {
                        tag: LispType::String,
                        place: Place::Hot(name_at),
                    }),
                );
                self.store(at + 2, Word::UNBOUND);
                self.string(name, !name.is_ascii());
                word
            }
            View::Seq(kind @ (Seq::List | Seq::Dotted), parts) => {
                let (items, tail) = list_parts(kind, parts);
                let len = items.len();
                if len == 0 {
                    return tail.map_or(Word::NIL, |tail| self.place(tail));
                }
                let mut head = None;
                let mut cold = self.scratch.cold_units();
                for (k, item) in items.enumerate() {
                    let (at, word) = self.hot(LispType::Cons, ol::CONS_SIZE, None);
                    head.get_or_insert(word);
                    let size = size(item);
                    let car = self.predict(item, at + 2, cold);
                    let next = at + 2 + size.hot;
                    cold += size.cold;
                    let cdr = if k + 1 < len {
                        Word::Obj(ObjRef {
                            tag: LispType::Cons,
                            place: Place::Hot(next),
                        })
                    } else {
                        tail.map_or(Word::NIL, |tail| self.predict(tail, next, cold))
                    };
                    self.store(at, car);
                    self.store(at + 1, cdr);
                    self.place_rest(item);
                }
                if let Some(tail) = tail {
                    self.place_rest(tail);
                }
                head.expect("a cons")
            }
            View::Seq(Seq::Vector, items) => {
                let size = 8 + 8 * items.len() as u64;
                let (at, word) = self.hot(LispType::Vectorlike, size, Some(PvecKind::NormalVector));
                self.scratch.set(at, items.len() as u64);
                self.slots(at + 1, items);
                word
            }
            View::Seq(Seq::Record, items) => self.pseudo(PvecKind::Record, "record", items),
            View::Seq(Seq::ByteCode, items) => {
                self.pseudo(PvecKind::Compiled, "byte-code object", items)
            }
            View::Seq(Seq::CharTable, items) => {
                self.pseudo(PvecKind::CharTable, "char-table", items)
            }
            View::Seq(Seq::SubCharTable, mut items) => {
                let mut int = || match items.next().map(|n| n.view()) {
                    Some(View::Int(n)) => n as i32,
                    _ => 0,
                };
                let (depth, min_char) = (int(), int());
                let size = 16 + 8 * items.len() as u64;
                let kind = PvecKind::SubCharTable;
                let (at, word) = self.hot(LispType::Vectorlike, size, Some(kind));
                self.header(at, kind, "sub-char-table", items.len(), 1);
                let head = u64::from(depth as u32) | u64::from(min_char as u32) << 32;
                self.scratch.set(at + 1, head);
                self.slots(at + 2, items);
                word
            }
            View::BoolVector { len, bytes } => {
                let size = bool_vector_size(len);
                let kind = Some(PvecKind::BoolVector);
                let tag = LispType::Vectorlike;
                self.placements
                    .add(("cold", NodeKind::Object(tag), kind), size);
                // The header is the version's, set when the dump is written.
                let mut item = vec![0u8; size as usize];
                item[8..16].copy_from_slice(&len.to_le_bytes());
                let n = bytes.len().min(item.len() - 16);
                item[16..16 + n].copy_from_slice(&bytes[..n]);
                let at = self.scratch.cold(&item, Some(tag));
                Word::Obj(ObjRef {
                    tag,
                    place: Place::Cold(at),
                })
            }
            View::Seq(Seq::HashTable, items) => self.hash_table(items),
        }
    }

    /// Stores the words of `items` in the slots from `at` on, then places
    /// them (after the object holding the slots, which must be the last
    /// placed).
    fn slots(&mut self, at: u32, items: Children) {
        let mut hot = self.scratch.hot_words() as u32;
        let mut cold = self.scratch.cold_units();
        for (i, item) in items.clone().enumerate() {
            let size = size(item);
            let word = self.predict(item, hot, cold);
            self.store(at + i as u32, word);
            hot += size.hot;
            cold += size.cold;
        }
        for item in items {
            self.place_rest(item);
        }
    }

    /// Places what [`predict`](Heap::predict) did not: everything but an
    /// atom (a fixnum, symbol or subr, whose word the prediction is).
    fn place_rest(&mut self, node: Node) {
        if !matches!(node.view(), View::Int(_) | View::Symbol(_) | View::Subr(_)) {
            self.place(node);
        }
    }

    /// A pseudovector whose slots are all Lisp values.
    fn pseudo(&mut self, kind: PvecKind, what: &'static str, items: Children) -> Word {
        let size = 8 + 8 * items.len() as u64;
        let (at, word) = self.hot(LispType::Vectorlike, size, Some(kind));
        self.header(at, kind, what, items.len(), 0);
        self.slots(at + 1, items);
        word
    }

    /// A string: its hot object, then its bytes and a NUL in cold.
    fn string(&mut self, bytes: &[u8], multibyte: bool) -> Word {
        let (at, word) = self.hot(LispType::String, ol::string::SIZE, None);
        self.placements.string(bytes.len(), multibyte);
        let (chars, size_byte) = if multibyte {
            (multibyte_chars(bytes) as u64, bytes.len() as u64)
        } else {
            (bytes.len() as u64, u64::MAX)
        };
        let cold = self.raw(bytes, true);
        let s = &mut self.scratch;
        s.set(at + (ol::string::CHARS / 8) as u32, chars);
        s.set(at + (ol::string::BYTES / 8) as u32, size_byte);
        s.set_pending(
            at + (ol::string::DATA / 8) as u32,
            Pending::new(pending::COLD_PTR, cold.into()),
        );
        word
    }

    /// A hash table from its elements (see [`Seq::HashTable`]).
    fn hash_table(&mut self, mut items: Children) -> Word {
        use ol::hash_table as t;
        let mut meta = items.by_ref().take(HASH_TABLE_META);
        let mut name = || meta.next().and_then(|n| n.as_symbol()).unwrap_or("nil");
        let (test_name, weakness, purecopy) = (name(), name(), name() != "nil");
        let test = self.intern(test_name);
        let weakness = self.intern(weakness);
        let kind = PvecKind::HashTable;
        let (at, word) = self.hot(LispType::Vectorlike, t::SIZE, Some(kind));
        self.hash_tables.push(at);
        let rest = t::SIZE / 8 - 1 - t::LISP_SLOTS;
        self.header(at, kind, "hash table", t::LISP_SLOTS as usize, rest);
        let slot = |offset: u64| at + (offset / 8) as u32;
        let count = items.len() as u64 / 2;
        self.store(slot(t::WEAK), weakness);
        // Frozen: no buckets; `index` holds the bucket count to rebuild.
        self.store(slot(t::INDEX), Word::Fixnum((count as i64).max(1)));
        let s = &mut self.scratch;
        s.set(slot(t::COUNT), count);
        s.set(slot(t::NEXT_FREE), u64::MAX);
        s.set(
            slot(t::PURECOPY),
            u64::from(purecopy) | (0.8125f32.to_bits() as u64) << 32,
        );
        s.set(slot(t::REHASH_SIZE), u64::from(1.5f32.to_bits()));
        let function = if test_name == "equal" { "equal" } else { "eq" };
        let j = image::subr_index(function).expect("built-in test function");
        let function = Pending::new(pending::EMACS_PTR, image::functions() + 8 * j as u64);
        s.set_pending(slot(t::CMPFN), function);
        s.set_pending(slot(t::HASHFN), function);
        self.store(slot(t::TEST_NAME), test);
        // The key_and_value vector follows.
        let kv_at = at + (t::SIZE / 8) as u32;
        let key_and_value = Word::Obj(ObjRef {
            tag: LispType::Vectorlike,
            place: Place::Hot(kv_at),
        });
        self.store(slot(t::KEY_AND_VALUE), key_and_value);
        let size = 8 + 16 * count;
        let (kv, _) = self.hot(LispType::Vectorlike, size, Some(PvecKind::NormalVector));
        debug_assert_eq!(kv, kv_at);
        self.scratch.set(kv, 2 * count);
        self.slots(kv + 1, items);
        word
    }

    /// A list of `items` ending in `tail`, as conses placed in order.
    fn list(&mut self, items: &[Word], tail: Word) -> Word {
        self.list_of(items.iter().copied(), tail)
    }

    /// [`list`](Heap::list) of the words `items` gives.
    fn list_of(&mut self, items: impl ExactSizeIterator<Item = Word>, tail: Word) -> Word {
        let len = items.len();
        let mut head = tail;
        for (k, item) in items.enumerate() {
            let (at, word) = self.hot(LispType::Cons, ol::CONS_SIZE, None);
            if k == 0 {
                head = word;
            }
            let cdr = if k + 1 < len {
                Word::Obj(ObjRef {
                    tag: LispType::Cons,
                    place: Place::Hot(at + 2),
                })
            } else {
                tail
            };
            self.store(at, item);
            self.store(at + 1, cdr);
        }
        head
    }

    /// Sets a symbol's value cell (and marks it special when `special`).
    pub fn set_value(&mut self, name: &str, value: &Value, special: bool) {
        self.bind_value(
            name,
            Constant::Node(Form::from_value(value).root()),
            special,
        );
    }

    /// [`set_value`](Heap::set_value) to a constant of a form.
    fn bind_value(&mut self, name: &str, value: Constant, special: bool) {
        let symbol = self.intern(name);
        let word = self.add_constant(value);
        self.update_cells(symbol, |cells| {
            cells.value = word;
            cells.special |= special;
        });
    }

    fn add_constant(&mut self, value: Constant) -> Word {
        match value {
            Constant::Node(node) => self.place(node),
            Constant::Subr(name) => self.subr(name.as_bytes()),
        }
    }

    /// Loads one top-level form of a file: a binding now, any other form
    /// into the heap and onto `kept`.
    fn load_form(&mut self, form: Node, kept: &mut Vec<u64>) {
        if !self.bind(form) {
            let word = self.place(form);
            reserve(kept, 1);
            kept.push(word.pack());
        }
    }

    /// Adds the file's `(FILE . FORMS)` entry to the root.
    fn finish_file(&mut self, file: &str, kept: Vec<u64>) {
        let file = self.string(file.as_bytes(), !file.is_ascii());
        let forms = self.list_of(kept.into_iter().map(Word::unpack), Word::NIL);
        let entry = self.list(&[file], forms);
        self.root.push(entry);
    }

    /// Applies a binding form; false when `form` is not one.
    fn bind(&mut self, form: Node) -> bool {
        let Some(items) = form.as_list() else {
            return false;
        };
        let item = |i: usize| items.clone().nth(i);
        let Some(head) = item(0).and_then(|h| h.as_symbol()) else {
            return false;
        };
        let arg_symbol = |i: usize| item(i).and_then(|s| s.as_symbol());
        match (head, items.len()) {
            ("setq", n) if n % 2 == 1 && n > 1 => {
                let pairs = || {
                    let mut rest = items.clone().skip(1);
                    std::iter::from_fn(move || Some((rest.next()?, rest.next()?)))
                };
                // Every pair binds a symbol, or the form is kept as it is.
                if !pairs().all(|(s, _)| s.as_symbol().is_some()) {
                    return false;
                }
                for (symbol, value) in pairs() {
                    let name = symbol.as_symbol().expect("checked");
                    self.bind_value(name, constant_of(value), false);
                }
                true
            }
            ("defvar", 2..=4) | ("defconst", 3..=4) => {
                let Some(name) = arg_symbol(1) else {
                    return false;
                };
                match item(2) {
                    Some(value) => self.bind_value(name, constant_of(value), true),
                    None => {
                        let symbol = self.intern(name);
                        self.update_cells(symbol, |cells| cells.special = true);
                    }
                }
                true
            }
            ("put", 4) | ("defalias", 3..=4) | ("fset", 3) => {
                let target = item(1).and_then(quoted).and_then(|s| s.as_symbol());
                let property = item(2).and_then(quoted).filter(|p| p.as_symbol().is_some());
                let (Some(name), true) = (target, head != "put" || property.is_some()) else {
                    return false;
                };
                let symbol = self.intern(name);
                if let (Some(property), Some(value)) = (property.filter(|_| head == "put"), item(3))
                {
                    let property = self.place(property);
                    let value = self.add_constant(constant_of(value));
                    let plist = self.cells(symbol).map_or(Word::NIL, |c| c.plist);
                    let plist = self.list(&[property, value], plist);
                    self.update_cells(symbol, |cells| cells.plist = plist);
                } else {
                    let function = item(2).expect("three elements");
                    let function = self.add_constant(constant_of(function));
                    self.update_cells(symbol, |cells| cells.function = function);
                }
                true
            }
            _ => false,
        }
    }

    /// Loads the top-level forms of one file: bindings go to symbols, every
    /// other form to the root under `file`.
    pub fn load_forms(&mut self, file: &str, forms: &[Value]) {
        let mut kept = Vec::new();
        for form in forms {
            self.load_form(Form::from_value(form).root(), &mut kept);
        }
        self.finish_file(file, kept);
    }

    /// Loads source files (`.el` or `.el.gz`) in order, one form at a
    /// time: each form is placed as it is read from the streamed source,
    /// so only one form is held as values. On a read error the heap holds the
    /// files before it and the forms read before the error.
    pub fn load_files(&mut self, paths: &[std::path::PathBuf]) -> Result<usize, String> {
        let mut forms_total = 0;
        for path in paths {
            let mut reader = crate::reader::Reader::open(path)?;
            let mut kept = Vec::new();
            loop {
                match reader.next_form() {
                    Ok(Some(form)) => {
                        forms_total += 1;
                        self.load_form(form, &mut kept);
                        if self.is_full() {
                            return Err(format!("{}: {FULL}", path.display()));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.finish_file(&path.display().to_string(), kept);
                        return Err(format!("{}: {e}", path.display()));
                    }
                }
            }
            self.finish_file(&path.display().to_string(), kept);
        }
        Ok(forms_total)
    }

    /// Places the root list and writes out the scratch streams (once;
    /// later calls return the same root).
    pub fn seal(&mut self) -> std::io::Result<Word> {
        if let Some(root) = self.sealed {
            return Ok(root);
        }
        let entries = std::mem::take(&mut self.root);
        let root = self.list(&entries, Word::NIL);
        self.scratch.finish()?;
        self.sealed = Some(root);
        Ok(root)
    }
}

/// What a value takes once placed, with everything in it: hot words and
/// cold 8-byte units.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    hot: u32,
    cold: u32,
}

/// A list's elements and its final cdr (`None` for `nil`).
fn list_parts(kind: Seq, parts: Children) -> (Children, Option<Node>) {
    match kind {
        Seq::Dotted => parts
            .split_last()
            .map_or((parts, None), |(items, tail)| (items, Some(tail))),
        _ => (parts, None),
    }
}

/// The size of `node` once placed: its own and its parts' (the values its
/// placement places after it).
fn size(node: Node) -> Size {
    let units = |bytes: u64| bytes.div_ceil(8) as u32;
    let (hot, cold) = match node.view() {
        View::Str { bytes, .. } => (4, units(bytes.len() as u64 + 1)),
        View::Uninterned(name) => (10, units(name.len() as u64 + 1)),
        View::Float(_) => (0, 1),
        View::BoolVector { len, .. } => (0, units(bool_vector_size(len))),
        View::Bignum { limbs, .. } => (3, units(limbs.len() as u64)),
        View::Int(_) | View::Symbol(_) | View::Subr(_) => (0, 0),
        View::Seq(kind, parts) => {
            let (hot, skip) = match kind {
                Seq::List => (2 * parts.len(), 0),
                Seq::Dotted => (2 * (parts.len() - 1), 0),
                Seq::SubCharTable => (2 + parts.len().saturating_sub(2), 2),
                Seq::HashTable => (17 + parts.len() - HASH_TABLE_META, HASH_TABLE_META),
                _ => (1 + parts.len(), 0),
            };
            let own = Size {
                hot: hot as u32,
                cold: 0,
            };
            return parts.skip(skip).fold(own, |total, part| {
                let s = size(part);
                Size {
                    hot: total.hot.saturating_add(s.hot),
                    cold: total.cold.saturating_add(s.cold),
                }
            });
        }
    };
    Size { hot, cold }
}

/// Bytes of a bool-vector of `len` bits: header, length, the bits.
pub fn bool_vector_size(len: u64) -> u64 {
    16 + len.div_ceil(64) * 8
}

/// The hash of a symbol name in the symbol table.
fn name_hash(name: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name)
}

/// `'X` or `#'X` gives X.
fn quoted(form: Node) -> Option<Node> {
    let mut items = form.as_list()?;
    let (q, x) = (items.next()?, items.next()?);
    match (q.as_symbol(), items.next()) {
        (Some("quote" | "function"), None) => Some(x),
        _ => None,
    }
}

/// What a binding stores: a form, or a built-in function.
enum Constant<'f> {
    Node(Node<'f>),
    Subr(&'f str),
}

/// The value of a form as far as constants go (see the module doc).
fn constant_of(form: Node) -> Constant {
    if let Some(x) = quoted(form) {
        return Constant::Node(x);
    }
    if let Some(mut items) = form.as_list() {
        if let (Some(f), Some(arg), None) = (items.next(), items.next(), items.next()) {
            let name = quoted(arg).and_then(|q| q.as_symbol());
            if let (Some("symbol-function"), Some(name)) = (f.as_symbol(), name) {
                if image::subr_index(name).is_some() {
                    return Constant::Subr(name);
                }
            }
        }
    }
    Constant::Node(form)
}

/// [`constant_of`] a [`Value`].
pub fn constant(form: &Value) -> Value {
    match constant_of(Form::from_value(form).root()) {
        Constant::Node(node) => node.to_value(),
        Constant::Subr(name) => Value::Subr(name.into()),
    }
}

/// Buckets of an obarray holding `symbols` symbols: about two per bucket, odd.
pub fn obarray_size(symbols: usize) -> usize {
    (symbols / 2).max(127) | 1
}

/// The bucket of a symbol name (FNV-1a of its bytes).
pub fn obarray_bucket(name: &[u8], size: usize) -> usize {
    let hash = name.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash % size as u64) as usize
}
