//! A Lisp heap to dump: objects in an arena, an obarray, the built-in
//! symbols' cells, and the root. Built from [`Value`]s or from source files,
//! where `setq`, `defvar` and `defconst` bind symbol values, `put` sets
//! properties, `defalias`/`fset` set function cells, and every other
//! top-level form stays reachable from the root as `(FILE . FORMS)`.
//!
//! Values of those bindings are evaluated only as far as constants go: a
//! quoted or self-evaluating form gives its value, `(symbol-function 'F)` of
//! a built-in gives the subr, anything else is stored unevaluated.
//!
//! The heap is kept small because the dumper must hold all of it: conses
//! take 8 bytes, other objects 8 bytes a field, and files are loaded one
//! form at a time (see [`Heap::load_files`]).

use crate::image;
use crate::lisp::LispType;
use crate::value::{HashTableValue, LispString, Value};
use hashbrown::HashTable;
use num_bigint::BigInt;
use std::collections::HashMap;

/// An object of the heap: a cons's index in the cons arena, or
/// [`OTHER`] plus another object's index in the object arena.
pub type ObjId = u32;

/// The bit of an [`ObjId`] that marks an object other than a cons.
pub const OTHER: ObjId = 1 << 31;

/// Conses and other objects each number fewer than this (29 bits: a cons
/// field holds an object in 32 bits with a 3-bit tag).
const MAX_OBJECTS: u32 = 1 << 29;

/// Why a heap that reached [`MAX_OBJECTS`] cannot be loaded further.
pub const FULL: &str =
    "the heap is full: 2^29 objects of one kind (far beyond the format's 2 GiB dump)";

/// Conses per chunk of the cons arena (each 2 × 4 bytes).
const CONS_CHUNK: usize = 1 << 12;

/// A Lisp value as a heap slot holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word {
    /// A fixnum (62 bits: the arena keeps the low 62 bits of the i64).
    Fixnum(i64),
    /// A built-in symbol (index into `lispsym`).
    Builtin(u16),
    /// A built-in subr.
    Subr(u16),
    /// An object of the heap.
    Obj(ObjId),
}

impl Word {
    pub const NIL: Word = Word::Builtin(0);
    pub const T: Word = Word::Builtin(1);
    pub const UNBOUND: Word = Word::Builtin(2);

    /// The arena's 8-byte form: the value above two tag bits.
    fn pack(self) -> u64 {
        match self {
            Word::Fixnum(n) => (n as u64) << 2,
            Word::Builtin(i) => u64::from(i) << 2 | 1,
            Word::Subr(j) => u64::from(j) << 2 | 2,
            Word::Obj(id) => u64::from(id) << 2 | 3,
        }
    }

    fn unpack(w: u64) -> Word {
        match w & 3 {
            0 => Word::Fixnum(w as i64 >> 2),
            1 => Word::Builtin((w >> 2) as u16),
            2 => Word::Subr((w >> 2) as u16),
            _ => Word::Obj((w >> 2) as ObjId),
        }
    }
}

/// Tags of a cons field's 32-bit form: the payload sits above 3 tag bits.
mod field {
    pub const FIXNUM: u32 = 0;
    pub const BUILTIN: u32 = 1;
    pub const SUBR: u32 = 2;
    pub const CONS: u32 = 3;
    pub const OTHER: u32 = 4;
    /// A fixnum beyond 29 bits: index into the heap's `fixnums`.
    pub const BIG_FIXNUM: u32 = 5;
}

/// A packed `Option<Word>` that is `None` (no packed word has every bit set).
const NO_WORD: u64 = u64::MAX;

/// The cells of a symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cells {
    pub value: Word,
    pub function: Word,
    pub plist: Word,
    pub special: bool,
    /// The next symbol of its obarray bucket (set by [`Heap::seal`]).
    pub next: Option<Word>,
}

impl Default for Cells {
    fn default() -> Cells {
        Cells {
            value: Word::UNBOUND,
            function: Word::NIL,
            plist: Word::NIL,
            special: false,
            next: None,
        }
    }
}

/// Pseudovectors whose slots are all Lisp values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotsKind {
    Record,
    ByteCode,
    CharTable,
}

/// What an object of the object arena is, and so how its words read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// start in `bytes`; length | multibyte << 63.
    Str,
    /// name, value, function, plist, next (or `NO_WORD`), flags.
    Symbol,
    /// The bits.
    Float,
    /// The slots (as many as the object has words).
    Vector,
    Record,
    ByteCode,
    CharTable,
    /// depth | min_char << 32, then the slots.
    SubCharTable,
    /// length in bits, start in `bytes`, byte count.
    BoolVector,
    /// Index into `bignums`.
    Bignum,
    /// test, weakness, purecopy, count, key_and_value.
    HashTable,
}

const SYMBOL_SPECIAL: u64 = 1;
const SYMBOL_INTERNED: u64 = 2;
const MULTIBYTE: u64 = 1 << 63;

/// The slots of a vectorlike object as packed words.
#[derive(Debug, Clone, Copy)]
pub struct Slots<'h>(&'h [u64]);

impl<'h> Slots<'h> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<Word> {
        self.0.get(i).map(|&w| Word::unpack(w))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Word> + ExactSizeIterator + 'h {
        self.0.iter().map(|&w| Word::unpack(w))
    }
}

/// A heap object, as [`Heap::obj`] reads it from the arena.
#[derive(Debug, Clone, Copy)]
pub enum Obj<'h> {
    Cons(Word, Word),
    Str {
        /// Emacs's internal encoding.
        bytes: &'h [u8],
        multibyte: bool,
    },
    Symbol {
        name: ObjId,
        cells: Cells,
        interned: bool,
    },
    Float(f64),
    Vector(Slots<'h>),
    Slots(SlotsKind, Slots<'h>),
    SubCharTable {
        depth: i32,
        min_char: i32,
        slots: Slots<'h>,
    },
    BoolVector {
        len: u64,
        bytes: &'h [u8],
    },
    Bignum(&'h BigInt),
    HashTable {
        test: Word,
        weakness: Word,
        purecopy: bool,
        /// Number of pairs.
        count: u64,
        /// A plain vector of keys and values, alternating (Emacs's
        /// `key_and_value`).
        key_and_value: ObjId,
    },
}

/// What the dumper starts from, made by [`Heap::seal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roots {
    /// The list of `(FILE . FORMS)`.
    pub root: Word,
    /// The obarray vector.
    pub obarray: Word,
}

/// The heap. Conses (most of any heap read from source) live in an arena
/// of their own, 8 bytes each (two 32-bit fields), in chunks so it grows
/// without a spare half; a fixnum too wide for a field goes to a side
/// table. Every other object lives in one arena of 8-byte words (an object
/// is its kind and where its words start; they end where the next
/// object's start), with string and bool-vector bytes in one byte arena.
#[derive(Debug, Clone)]
pub struct Heap {
    conses: Vec<Vec<u32>>,
    cons_count: u32,
    fixnums: Vec<i64>,
    kinds: Vec<Kind>,
    starts: Vec<u32>,
    words: Vec<u64>,
    bytes: Vec<u8>,
    bignums: Vec<BigInt>,
    /// Cells of the built-in symbols (their images are dumped and copied
    /// back into the runtime).
    pub builtins: Vec<Cells>,
    /// Interned symbols the heap created, in creation order.
    pub interned: Vec<ObjId>,
    /// The interned symbols by name: a built-in symbol as its index, any
    /// other as its id (names are not copied: the table hashes and compares
    /// the names in the arena).
    by_name: HashTable<ObjId>,
    /// `(FILE . FORMS)` entries of the root list, in load order.
    pub root: Vec<Word>,
    /// Name strings of the built-in symbols, once sealed.
    pub builtin_names: Vec<ObjId>,
    sealed: Option<Roots>,
    /// Set when one kind of object reached [`MAX_OBJECTS`]: the heap stops
    /// growing (what would be added reads as nil), and loading and writing
    /// report it as an error.
    full: bool,
    /// While a file loads: the symbols its kept forms created.
    deferred: Option<Deferred>,
}

/// The creation order of symbols while a file loads form by form.
///
/// A file's bindings run first and its other forms are stored last to
/// first (so its `FORMS` list is built front to back); the order in which
/// symbols are created is the order of the obarray's chains, so it is part
/// of the dump. Storing each form as it is read instead creates symbols in
/// another order: a symbol created while a form is stored joins
/// `interned` only when a later binding names it (as it would have, the
/// bindings running first) or at the end of the file, in the order that
/// storing the forms last to first meets it.
#[derive(Debug, Clone, Default)]
struct Deferred {
    /// Whether a kept form is being stored (else a binding runs).
    storing: bool,
    /// Symbols created while storing, not yet in `interned`: the last form
    /// that named each.
    pending: HashMap<ObjId, usize>,
    /// For each stored form, the pending symbols it names, in the order
    /// storing it met them.
    named: Vec<Vec<ObjId>>,
}

impl Deferred {
    /// A symbol created now.
    fn created(&mut self, id: ObjId) {
        let form = self.named.len() - 1;
        self.pending.insert(id, form);
        self.named[form].push(id);
    }

    /// An existing symbol named now: the symbol to intern now (a pending one
    /// that a binding names), if any.
    fn met(&mut self, id: ObjId) -> Option<ObjId> {
        let form = self.named.len().checked_sub(1);
        let last = self.pending.get_mut(&id)?;
        if !self.storing {
            self.pending.remove(&id);
            return Some(id);
        }
        let form = form.expect("storing a form");
        if *last != form {
            *last = form;
            self.named[form].push(id);
        }
        None
    }
}

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
            by_name.insert_unique(hash, i as ObjId, |&e: &ObjId| {
                name_hash(image::builtin_name(e as usize).as_bytes())
            });
        }
        Heap {
            conses: Vec::new(),
            cons_count: 0,
            fixnums: Vec::new(),
            kinds: Vec::new(),
            starts: Vec::new(),
            words: Vec::new(),
            bytes: Vec::new(),
            bignums: Vec::new(),
            builtins,
            interned: Vec::new(),
            by_name,
            root: Vec::new(),
            builtin_names: Vec::new(),
            sealed: None,
            full: false,
            deferred: None,
        }
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.cons_count as usize + self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Object `id` numbered densely in `0..len()`.
    pub fn dense(&self, id: ObjId) -> usize {
        if id & OTHER == 0 {
            id as usize
        } else {
            self.cons_count as usize + (id & !OTHER) as usize
        }
    }

    /// The object numbered `dense` by [`Heap::dense`].
    pub fn from_dense(&self, dense: usize) -> ObjId {
        match dense.checked_sub(self.cons_count as usize) {
            None => dense as ObjId,
            Some(index) => OTHER | index as ObjId,
        }
    }

    fn push(&mut self, kind: Kind, words: &[u64]) -> Word {
        let index = self.kinds.len() as u32;
        let start = u32::try_from(self.words.len());
        let (true, Ok(start)) = (index < MAX_OBJECTS, start) else {
            self.full = true;
            return Word::NIL;
        };
        let id = OTHER | index;
        reserve(&mut self.kinds, 1);
        self.kinds.push(kind);
        reserve(&mut self.starts, 1);
        self.starts.push(start);
        reserve(&mut self.words, words.len());
        self.words.extend_from_slice(words);
        Word::Obj(id)
    }

    fn id_of(word: Word) -> ObjId {
        match word {
            Word::Obj(id) => id,
            _ => unreachable!("push returns an object"),
        }
    }

    fn range(&self, id: ObjId) -> std::ops::Range<usize> {
        let i = (id & !OTHER) as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.words.len(), |&s| s as usize);
        self.starts[i] as usize..end
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> u64 {
        let start = self.bytes.len() as u64;
        reserve(&mut self.bytes, bytes.len());
        self.bytes.extend_from_slice(bytes);
        start
    }

    fn push_string(&mut self, bytes: &[u8], multibyte: bool) -> Word {
        let start = self.push_bytes(bytes);
        let len = bytes.len() as u64 | if multibyte { MULTIBYTE } else { 0 };
        self.push(Kind::Str, &[start, len])
    }

    fn new_string(&mut self, name: &str) -> ObjId {
        Self::id_of(self.push_string(name.as_bytes(), !name.is_ascii()))
    }

    fn push_symbol(&mut self, name: ObjId, interned: bool) -> Word {
        let cells = Cells::default();
        let flags = if interned { SYMBOL_INTERNED } else { 0 };
        self.push(
            Kind::Symbol,
            &[
                Word::Obj(name).pack(),
                cells.value.pack(),
                cells.function.pack(),
                cells.plist.pack(),
                NO_WORD,
                flags,
            ],
        )
    }

    /// The Lisp type (pointer tag) of object `id`.
    pub fn lisp_type(&self, id: ObjId) -> LispType {
        if id & OTHER == 0 {
            return LispType::Cons;
        }
        match self.kinds[(id & !OTHER) as usize] {
            Kind::Str => LispType::String,
            Kind::Symbol => LispType::Symbol,
            Kind::Float => LispType::Float,
            _ => LispType::Vectorlike,
        }
    }

    /// The length in bytes of string `id` (without reading the rest of it).
    pub fn string_len(&self, id: ObjId) -> Option<usize> {
        let index = (id & !OTHER) as usize;
        (id & OTHER != 0 && self.kinds[index] == Kind::Str)
            .then(|| (self.words[self.starts[index] as usize + 1] & !MULTIBYTE) as usize)
    }

    /// The object `id`, read from the arena.
    pub fn obj(&self, id: ObjId) -> Obj<'_> {
        if id & OTHER == 0 {
            let (chunk, at) = Self::cons_place(id);
            let fields = &self.conses[chunk][at..at + 2];
            return Obj::Cons(self.unpack_field(fields[0]), self.unpack_field(fields[1]));
        }
        let w = &self.words[self.range(id)];
        let word = |i: usize| Word::unpack(w[i]);
        match self.kinds[(id & !OTHER) as usize] {
            Kind::Str => {
                let start = w[0] as usize;
                let len = (w[1] & !MULTIBYTE) as usize;
                Obj::Str {
                    bytes: &self.bytes[start..start + len],
                    multibyte: w[1] & MULTIBYTE != 0,
                }
            }
            Kind::Symbol => Obj::Symbol {
                name: Self::id_of(word(0)),
                cells: Cells {
                    value: word(1),
                    function: word(2),
                    plist: word(3),
                    special: w[5] & SYMBOL_SPECIAL != 0,
                    next: (w[4] != NO_WORD).then(|| word(4)),
                },
                interned: w[5] & SYMBOL_INTERNED != 0,
            },
            Kind::Float => Obj::Float(f64::from_bits(w[0])),
            Kind::Vector => Obj::Vector(Slots(w)),
            Kind::Record => Obj::Slots(SlotsKind::Record, Slots(w)),
            Kind::ByteCode => Obj::Slots(SlotsKind::ByteCode, Slots(w)),
            Kind::CharTable => Obj::Slots(SlotsKind::CharTable, Slots(w)),
            Kind::SubCharTable => Obj::SubCharTable {
                depth: w[0] as u32 as i32,
                min_char: (w[0] >> 32) as u32 as i32,
                slots: Slots(&w[1..]),
            },
            Kind::BoolVector => {
                let start = w[1] as usize;
                Obj::BoolVector {
                    len: w[0],
                    bytes: &self.bytes[start..start + w[2] as usize],
                }
            }
            Kind::Bignum => Obj::Bignum(&self.bignums[w[0] as usize]),
            Kind::HashTable => Obj::HashTable {
                test: word(0),
                weakness: word(1),
                purecopy: w[2] != 0,
                count: w[3],
                key_and_value: Self::id_of(word(4)),
            },
        }
    }

    /// The interned symbol called `name`, created when new.
    pub fn intern(&mut self, name: &str) -> Word {
        let hash = name_hash(name.as_bytes());
        if let Some(w) = self.find_symbol(hash, name) {
            if let (Word::Obj(id), Some(deferred)) = (w, &mut self.deferred) {
                if let Some(id) = deferred.met(id) {
                    self.interned.push(id);
                }
            }
            return w;
        }
        let name_id = self.new_string(name);
        let word = self.push_symbol(name_id, true);
        // Keywords are constants bound to themselves.
        if name.starts_with(':') && name.len() > 1 {
            self.update_cells(word, |c| c.value = word);
        }
        let id = Self::id_of(word);
        match &mut self.deferred {
            Some(deferred) if deferred.storing => deferred.created(id),
            _ => self.interned.push(id),
        }
        let mut by_name = std::mem::take(&mut self.by_name);
        by_name.insert_unique(hash, id, |&e| name_hash(self.symbol_table_name(e)));
        self.by_name = by_name;
        word
    }

    /// The symbol called `name`, if interned.
    pub fn lookup(&self, name: &str) -> Option<Word> {
        self.find_symbol(name_hash(name.as_bytes()), name)
    }

    fn find_symbol(&self, hash: u64, name: &str) -> Option<Word> {
        let e = *self
            .by_name
            .find(hash, |&e| self.symbol_table_name(e) == name.as_bytes())?;
        Some(if e & OTHER == 0 {
            Word::Builtin(e as u16)
        } else {
            Word::Obj(e)
        })
    }

    /// The name of an entry of `by_name`.
    fn symbol_table_name(&self, e: ObjId) -> &[u8] {
        if e & OTHER == 0 {
            return image::builtin_name(e as usize).as_bytes();
        }
        match self.obj(e) {
            Obj::Symbol { name, .. } => match self.obj(name) {
                Obj::Str { bytes, .. } => bytes,
                _ => unreachable!("symbol names are strings"),
            },
            _ => unreachable!("the symbol table holds symbols"),
        }
    }

    /// The cells of a symbol word.
    pub fn cells(&self, symbol: Word) -> Option<Cells> {
        match symbol {
            Word::Builtin(i) => self.builtins.get(usize::from(i)).copied(),
            Word::Obj(id) => match self.obj(id) {
                Obj::Symbol { cells, .. } => Some(cells),
                _ => None,
            },
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
            Word::Obj(id) => {
                let at = self.starts[(id & !OTHER) as usize] as usize;
                let w = &mut self.words[at..at + 6];
                w[1] = cells.value.pack();
                w[2] = cells.function.pack();
                w[3] = cells.plist.pack();
                w[4] = cells.next.map_or(NO_WORD, Word::pack);
                w[5] = (w[5] & !SYMBOL_SPECIAL) | u64::from(cells.special);
            }
            _ => {}
        }
    }

    /// Stores a value in the heap.
    pub fn add(&mut self, value: &Value) -> Word {
        match value {
            Value::Int(n) => Word::Fixnum(*n),
            Value::Bignum(n) => {
                let index = self.bignums.len() as u64;
                self.bignums.push(n.clone());
                self.push(Kind::Bignum, &[index])
            }
            Value::Float(x) => self.push(Kind::Float, &[x.to_bits()]),
            Value::Str(s) => self.push_string(&s.bytes, s.multibyte),
            Value::Symbol(name) => self.intern(name),
            Value::Uninterned(name) => {
                let name = self.new_string(name);
                self.push_symbol(name, false)
            }
            Value::List(items, tail) => {
                let mut list = self.add(tail);
                for item in items.iter().rev() {
                    let car = self.add(item);
                    list = self.cons(car, list);
                }
                list
            }
            Value::Vector(items) => self.add_slots(Kind::Vector, &[], items),
            Value::Record(items) => self.add_slots(Kind::Record, &[], items),
            Value::ByteCode(items) => self.add_slots(Kind::ByteCode, &[], items),
            Value::CharTable(items) => self.add_slots(Kind::CharTable, &[], items),
            Value::SubCharTable(items) => {
                let int = |v: Option<&Value>| match v {
                    Some(Value::Int(n)) => *n as i32,
                    _ => 0,
                };
                let (depth, min_char) = (int(items.first()), int(items.get(1)));
                let head = u64::from(depth as u32) | u64::from(min_char as u32) << 32;
                self.add_slots(Kind::SubCharTable, &[head], items.get(2..).unwrap_or(&[]))
            }
            Value::BoolVector { len, bytes } => {
                let start = self.push_bytes(bytes);
                self.push(Kind::BoolVector, &[*len, start, bytes.len() as u64])
            }
            Value::HashTable(h) => self.add_hash_table(h),
            Value::Subr(name) => match image::subr_index(name) {
                Some(j) => Word::Subr(j as u16),
                None => self.intern(name),
            },
        }
    }

    fn cons(&mut self, car: Word, cdr: Word) -> Word {
        let id = self.cons_count;
        if id >= MAX_OBJECTS {
            self.full = true;
            return Word::NIL;
        }
        let fields = [self.pack_field(car), self.pack_field(cdr)];
        if (id as usize).is_multiple_of(CONS_CHUNK) {
            self.conses.push(Vec::with_capacity(2 * CONS_CHUNK));
        }
        self.conses
            .last_mut()
            .expect("a chunk")
            .extend_from_slice(&fields);
        self.cons_count += 1;
        Word::Obj(id)
    }

    /// Chunk and position of cons `id`'s fields.
    fn cons_place(id: ObjId) -> (usize, usize) {
        let i = id as usize;
        (i / CONS_CHUNK, 2 * (i % CONS_CHUNK))
    }

    /// A word as a cons field holds it.
    fn pack_field(&mut self, word: Word) -> u32 {
        let (payload, tag) = match word {
            Word::Fixnum(n) if (-(1 << 28)..1 << 28).contains(&n) => (n as u32, field::FIXNUM),
            Word::Fixnum(n) => {
                let index = self.fixnums.len() as u32;
                if index >= MAX_OBJECTS {
                    self.full = true;
                    return field::FIXNUM;
                }
                self.fixnums.push(n);
                (index, field::BIG_FIXNUM)
            }
            Word::Builtin(i) => (i.into(), field::BUILTIN),
            Word::Subr(j) => (j.into(), field::SUBR),
            Word::Obj(id) if id & OTHER == 0 => (id, field::CONS),
            Word::Obj(id) => (id & !OTHER, field::OTHER),
        };
        payload << 3 | tag
    }

    fn unpack_field(&self, f: u32) -> Word {
        let payload = f >> 3;
        match f & 7 {
            field::FIXNUM => Word::Fixnum(((f as i32) >> 3).into()),
            field::BUILTIN => Word::Builtin(payload as u16),
            field::SUBR => Word::Subr(payload as u16),
            field::CONS => Word::Obj(payload),
            field::OTHER => Word::Obj(OTHER | payload),
            _ => Word::Fixnum(self.fixnums[payload as usize]),
        }
    }

    /// A vectorlike object: `head` words, then the slots holding `items`
    /// (stored first, in order).
    fn add_slots(&mut self, kind: Kind, head: &[u64], items: &[Value]) -> Word {
        let mut words = head.to_vec();
        words.extend(items.iter().map(|v| self.add(v).pack()));
        self.push(kind, &words)
    }

    fn add_hash_table(&mut self, h: &HashTableValue) -> Word {
        let test = self.intern(&h.test);
        let weakness = match &h.weakness {
            Some(w) => self.intern(w),
            None => Word::NIL,
        };
        let mut slots = Vec::with_capacity(2 * h.data.len());
        for (k, v) in &h.data {
            slots.push(self.add(k).pack());
            slots.push(self.add(v).pack());
        }
        let key_and_value = self.push(Kind::Vector, &slots);
        self.push(
            Kind::HashTable,
            &[
                test.pack(),
                weakness.pack(),
                u64::from(h.purecopy),
                h.data.len() as u64,
                key_and_value.pack(),
            ],
        )
    }

    /// The value a word stands for.
    pub fn value(&self, word: Word) -> Value {
        match word {
            Word::Fixnum(n) => Value::Int(n),
            Word::Builtin(i) => Value::Symbol(image::builtin_name(usize::from(i)).into()),
            Word::Subr(j) => Value::Subr(image::BUILTIN_SUBRS[usize::from(j)].0.into()),
            Word::Obj(id) => self.obj_value(id),
        }
    }

    /// The name of a symbol object, as text.
    fn symbol_name(&self, id: ObjId) -> String {
        match self.obj(id) {
            Obj::Symbol { name, .. } => match self.obj(name) {
                Obj::Str { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    fn obj_value(&self, id: ObjId) -> Value {
        match self.obj(id) {
            Obj::Cons(..) => {
                let mut items = Vec::new();
                let mut at = Word::Obj(id);
                while let Word::Obj(i) = at {
                    match self.obj(i) {
                        Obj::Cons(car, cdr) => {
                            items.push(self.value(car));
                            at = cdr;
                        }
                        _ => break,
                    }
                }
                Value::list_with_tail(items, self.value(at))
            }
            Obj::Str { bytes, multibyte } => Value::Str(LispString {
                bytes: bytes.to_vec(),
                multibyte,
            }),
            Obj::Symbol { interned, .. } => {
                let name = self.symbol_name(id);
                if interned {
                    Value::Symbol(name)
                } else {
                    Value::Uninterned(name)
                }
            }
            Obj::Float(x) => Value::Float(x),
            Obj::Vector(slots) => Value::Vector(self.values(slots)),
            Obj::Slots(kind, slots) => {
                let items = self.values(slots);
                match kind {
                    SlotsKind::Record => Value::Record(items),
                    SlotsKind::ByteCode => Value::ByteCode(items),
                    SlotsKind::CharTable => Value::CharTable(items),
                }
            }
            Obj::SubCharTable {
                depth,
                min_char,
                slots,
            } => {
                let mut items = vec![Value::Int(depth.into()), Value::Int(min_char.into())];
                items.extend(self.values(slots));
                Value::SubCharTable(items)
            }
            Obj::BoolVector { len, bytes } => Value::BoolVector {
                len,
                bytes: bytes.to_vec(),
            },
            Obj::Bignum(n) => Value::Bignum(n.clone()),
            Obj::HashTable {
                test,
                weakness,
                purecopy,
                key_and_value,
                ..
            } => Value::HashTable(Box::new(HashTableValue {
                test: self.value(test).as_symbol().unwrap_or("eql").to_string(),
                weakness: match self.value(weakness) {
                    v if v.is_nil() => None,
                    v => v.as_symbol().map(str::to_string),
                },
                data: match self.obj(key_and_value) {
                    Obj::Vector(slots) => slots
                        .0
                        .chunks(2)
                        .map(|kv| {
                            let word = |i: usize| Word::unpack(kv[i]);
                            (self.value(word(0)), self.value(word(1)))
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                purecopy,
            })),
        }
    }

    fn values(&self, words: Slots<'_>) -> Vec<Value> {
        words.iter().map(|w| self.value(w)).collect()
    }

    /// Sets a symbol's value cell (and marks it special when `special`).
    pub fn set_value(&mut self, name: &str, value: &Value, special: bool) {
        let symbol = self.intern(name);
        let word = self.add(value);
        self.update_cells(symbol, |cells| {
            cells.value = word;
            cells.special |= special;
        });
    }

    /// Loads the top-level forms of one file: bindings go to symbols, every
    /// other form to the root under `file`.
    pub fn load_forms(&mut self, file: &str, forms: &[Value]) {
        let mut kept = Vec::new();
        self.deferred = Some(Deferred::default());
        for form in forms {
            self.load_form(form, &mut kept);
        }
        self.finish_file(file, kept);
    }

    /// Loads one top-level form of a file (see [`Deferred`]): a binding
    /// now, any other form into the heap and onto `kept`.
    fn load_form(&mut self, form: &Value, kept: &mut Vec<Word>) {
        if self.bind(form) {
            return;
        }
        if let Some(deferred) = &mut self.deferred {
            deferred.storing = true;
            deferred.named.push(Vec::new());
        }
        let word = self.add(form);
        kept.push(word);
        if let Some(deferred) = &mut self.deferred {
            deferred.storing = false;
        }
    }

    /// Interns the symbols the file's kept forms created, in the order that
    /// storing those forms last to first would have created them, and adds
    /// the file's `(FILE . FORMS)` entry to the root.
    fn finish_file(&mut self, file: &str, kept: Vec<Word>) {
        if let Some(mut deferred) = self.deferred.take() {
            for named in deferred.named.iter().rev() {
                for &id in named {
                    if deferred.pending.remove(&id).is_some() {
                        self.interned.push(id);
                    }
                }
            }
        }
        let file = self.add(&Value::Str(LispString::from_text(file)));
        let mut list = Word::NIL;
        for &car in kept.iter().rev() {
            list = self.cons(car, list);
        }
        let entry = self.cons(file, list);
        self.root.push(entry);
    }

    /// Applies a binding form; false when `form` is not one.
    fn bind(&mut self, form: &Value) -> bool {
        let Some(items) = form.as_list() else {
            return false;
        };
        let Some(head) = items.first().and_then(Value::as_symbol) else {
            return false;
        };
        let arg_symbol = |i: usize| items.get(i).and_then(Value::as_symbol);
        match (head, items.len()) {
            ("setq", n) if n % 2 == 1 && n > 1 => {
                let pairs: Vec<(String, Value)> = items[1..]
                    .chunks(2)
                    .map(|p| (p[0].as_symbol().map(str::to_string), constant(&p[1])))
                    .map(|(s, v)| s.map(|s| (s, v)))
                    .collect::<Option<_>>()
                    .unwrap_or_default();
                if pairs.is_empty() {
                    return false;
                }
                for (name, value) in pairs {
                    self.set_value(&name, &value, false);
                }
                true
            }
            ("defvar", 2..=4) | ("defconst", 3..=4) => {
                let Some(name) = arg_symbol(1) else {
                    return false;
                };
                match items.get(2) {
                    Some(value) => self.set_value(name, &constant(value), true),
                    None => {
                        let symbol = self.intern(name);
                        self.update_cells(symbol, |cells| cells.special = true);
                    }
                }
                true
            }
            ("put", 4) | ("defalias", 3..=4) | ("fset", 3) => {
                let (Some(Value::Symbol(name)), true) = (
                    quoted(&items[1]),
                    head != "put" || quoted(&items[2]).and_then(Value::as_symbol).is_some(),
                ) else {
                    return false;
                };
                let name = name.clone();
                let symbol = self.intern(&name);
                if head == "put" {
                    let property = self.add(quoted(&items[2]).expect("checked"));
                    let value = self.add(&constant(&items[3]));
                    let plist = self.cells(symbol).map_or(Word::NIL, |c| c.plist);
                    let rest = self.cons(value, plist);
                    let plist = self.cons(property, rest);
                    self.update_cells(symbol, |cells| cells.plist = plist);
                } else {
                    let function = self.add(&constant(&items[2]));
                    self.update_cells(symbol, |cells| cells.function = function);
                }
                true
            }
            _ => false,
        }
    }

    /// Loads source files (`.el` or `.el.gz`) in order, one form at a
    /// time: the heap gets each form as it is read, so only the file's text
    /// and one form are held as values. On a read error the heap holds the
    /// files before it and the forms read before the error.
    pub fn load_files(&mut self, paths: &[std::path::PathBuf]) -> Result<usize, String> {
        let mut forms_total = 0;
        for path in paths {
            let text = crate::reader::read_source_bytes(path)?;
            let mut reader = crate::reader::Reader::new(&text);
            let mut kept = Vec::new();
            self.deferred = Some(Deferred::default());
            loop {
                match reader.read_next() {
                    Ok(Some(form)) => {
                        forms_total += 1;
                        self.load_form(&form, &mut kept);
                        if self.full {
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

    /// Whether the heap stopped growing at [`MAX_OBJECTS`] of one kind.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Makes the root list, the obarray and the built-in symbols' names
    /// (once; later calls return the same roots).
    pub fn seal(&mut self) -> Roots {
        if let Some(roots) = self.sealed {
            return roots;
        }
        self.builtin_names = (0..image::builtin_count())
            .map(|i| self.new_string(image::builtin_name(i)))
            .collect();
        let mut root = Word::NIL;
        for entry in self.root.clone().into_iter().rev() {
            root = self.cons(entry, root);
        }
        // Buckets chain through the symbols' `next` pointers, in creation
        // order (built-ins first), so the result is deterministic.
        let count = image::builtin_count() + self.interned.len();
        let size = obarray_size(count);
        let mut buckets = vec![Word::Fixnum(0).pack(); size];
        for i in (0..count).rev() {
            let (symbol, bucket) = match i.checked_sub(image::builtin_count()) {
                None => (
                    Word::Builtin(i as u16),
                    obarray_bucket(image::builtin_name(i).as_bytes(), size),
                ),
                Some(j) => {
                    let id = self.interned[j];
                    let Obj::Symbol { name, .. } = self.obj(id) else {
                        unreachable!("interned symbols are symbols")
                    };
                    let Obj::Str { bytes, .. } = self.obj(name) else {
                        unreachable!("symbol names are strings")
                    };
                    (Word::Obj(id), obarray_bucket(bytes, size))
                }
            };
            let next = match Word::unpack(buckets[bucket]) {
                Word::Fixnum(_) => None,
                w => Some(w),
            };
            buckets[bucket] = symbol.pack();
            self.update_cells(symbol, |cells| cells.next = next);
        }
        let obarray = self.push(Kind::Vector, &buckets);
        // Nothing grows the arenas after this.
        self.kinds.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.words.shrink_to_fit();
        self.bytes.shrink_to_fit();
        let roots = Roots { root, obarray };
        self.sealed = Some(roots);
        roots
    }

    /// The roots made by [`Heap::seal`], if sealed.
    pub fn roots(&self) -> Option<Roots> {
        self.sealed
    }

    /// The root list as a value.
    pub fn root_value(&self) -> Value {
        Value::list(self.root.iter().map(|w| self.value(*w)).collect())
    }
}

/// The hash of a symbol name in the symbol table.
fn name_hash(name: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name)
}

/// Makes room for `additional` more elements, growing by an eighth rather
/// than doubling: an arena's spare room is then at most an eighth of it
/// (growing a large block moves pages rather than copying them).
fn reserve<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        v.reserve_exact(additional.max(v.len() / 8).max(1024));
    }
}

/// `'X` or `#'X` gives X.
fn quoted(form: &Value) -> Option<&Value> {
    match form.as_list() {
        Some([Value::Symbol(q), x]) if q == "quote" || q == "function" => Some(x),
        _ => None,
    }
}

/// The value of a form as far as constants go (see the module doc).
pub fn constant(form: &Value) -> Value {
    if let Some(x) = quoted(form) {
        return x.clone();
    }
    if let Some([Value::Symbol(f), arg]) = form.as_list() {
        if f == "symbol-function" {
            if let Some(Value::Symbol(name)) = quoted(arg) {
                if image::subr_index(name).is_some() {
                    return Value::Subr(name.clone());
                }
            }
        }
    }
    form.clone()
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
