//! A Lisp heap to dump: objects in an arena, an obarray, the built-in
//! symbols' cells, and the root. Built from [`Value`]s or from source files,
//! where `setq`, `defvar` and `defconst` bind symbol values, `put` sets
//! properties, `defalias`/`fset` set function cells, and every other
//! top-level form stays reachable from the root as `(FILE . FORMS)`.
//!
//! Values of those bindings are evaluated only as far as constants go: a
//! quoted or self-evaluating form gives its value, `(symbol-function 'F)` of
//! a built-in gives the subr, anything else is stored unevaluated.

use crate::image;
use crate::value::{HashTableValue, LispString, Value};
use num_bigint::BigInt;
use std::collections::HashMap;

/// Index of an object in the heap's arena.
pub type ObjId = u32;

/// A Lisp value as a heap slot holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word {
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
}

/// The cells of a symbol.
#[derive(Debug, Clone, PartialEq)]
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

/// A heap object.
#[derive(Debug, Clone)]
pub enum Obj {
    Cons(Word, Word),
    Str(LispString),
    Symbol {
        name: ObjId,
        cells: Cells,
        interned: bool,
    },
    Float(f64),
    Vector(Vec<Word>),
    Slots(SlotsKind, Vec<Word>),
    SubCharTable {
        depth: i32,
        min_char: i32,
        slots: Vec<Word>,
    },
    BoolVector {
        len: u64,
        bytes: Vec<u8>,
    },
    Bignum(BigInt),
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

/// The heap.
#[derive(Debug, Clone)]
pub struct Heap {
    pub objs: Vec<Obj>,
    /// Cells of the built-in symbols (their images are dumped and copied
    /// back into the runtime).
    pub builtins: Vec<Cells>,
    /// Interned symbols the heap created, in creation order.
    pub interned: Vec<ObjId>,
    by_name: HashMap<String, Word>,
    /// `(FILE . FORMS)` entries of the root list, in load order.
    pub root: Vec<Word>,
    /// Name strings of the built-in symbols, once sealed.
    pub builtin_names: Vec<ObjId>,
    sealed: Option<Roots>,
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
        let by_name = (0..image::builtin_count())
            .map(|i| (image::builtin_name(i).to_string(), Word::Builtin(i as u16)))
            .collect();
        Heap {
            objs: Vec::new(),
            builtins,
            interned: Vec::new(),
            by_name,
            root: Vec::new(),
            builtin_names: Vec::new(),
            sealed: None,
        }
    }

    fn push(&mut self, obj: Obj) -> Word {
        let id = self.objs.len() as ObjId;
        self.objs.push(obj);
        Word::Obj(id)
    }

    fn new_string(&mut self, name: &str) -> ObjId {
        match self.push(Obj::Str(LispString::from_text(name))) {
            Word::Obj(id) => id,
            _ => unreachable!("push returns an object"),
        }
    }

    /// The interned symbol called `name`, created when new.
    pub fn intern(&mut self, name: &str) -> Word {
        if let Some(&w) = self.by_name.get(name) {
            return w;
        }
        let name_id = self.new_string(name);
        let word = self.push(Obj::Symbol {
            name: name_id,
            cells: Cells::default(),
            interned: true,
        });
        // Keywords are constants bound to themselves.
        if name.starts_with(':') && name.len() > 1 {
            self.cells_mut(word).expect("a symbol").value = word;
        }
        if let Word::Obj(id) = word {
            self.interned.push(id);
        }
        self.by_name.insert(name.to_string(), word);
        word
    }

    /// The symbol called `name`, if interned.
    pub fn lookup(&self, name: &str) -> Option<Word> {
        self.by_name.get(name).copied()
    }

    /// The cells of a symbol word.
    pub fn cells(&self, symbol: Word) -> Option<&Cells> {
        match symbol {
            Word::Builtin(i) => self.builtins.get(usize::from(i)),
            Word::Obj(id) => match &self.objs[id as usize] {
                Obj::Symbol { cells, .. } => Some(cells),
                _ => None,
            },
            _ => None,
        }
    }

    fn cells_mut(&mut self, symbol: Word) -> Option<&mut Cells> {
        match symbol {
            Word::Builtin(i) => self.builtins.get_mut(usize::from(i)),
            Word::Obj(id) => match &mut self.objs[id as usize] {
                Obj::Symbol { cells, .. } => Some(cells),
                _ => None,
            },
            _ => None,
        }
    }

    /// Stores a value in the heap.
    pub fn add(&mut self, value: &Value) -> Word {
        match value {
            Value::Int(n) => Word::Fixnum(*n),
            Value::Bignum(n) => self.push(Obj::Bignum(n.clone())),
            Value::Float(x) => self.push(Obj::Float(*x)),
            Value::Str(s) => self.push(Obj::Str(s.clone())),
            Value::Symbol(name) => self.intern(name),
            Value::Uninterned(name) => {
                let name = self.new_string(name);
                self.push(Obj::Symbol {
                    name,
                    cells: Cells::default(),
                    interned: false,
                })
            }
            Value::List(items, tail) => {
                let mut list = self.add(tail);
                for item in items.iter().rev() {
                    let car = self.add(item);
                    list = self.push(Obj::Cons(car, list));
                }
                list
            }
            Value::Vector(items) => {
                let slots = self.add_all(items);
                self.push(Obj::Vector(slots))
            }
            Value::Record(items) => self.add_slots(SlotsKind::Record, items),
            Value::ByteCode(items) => self.add_slots(SlotsKind::ByteCode, items),
            Value::CharTable(items) => self.add_slots(SlotsKind::CharTable, items),
            Value::SubCharTable(items) => {
                let int = |v: Option<&Value>| match v {
                    Some(Value::Int(n)) => *n as i32,
                    _ => 0,
                };
                let (depth, min_char) = (int(items.first()), int(items.get(1)));
                let slots = self.add_all(items.get(2..).unwrap_or(&[]));
                self.push(Obj::SubCharTable {
                    depth,
                    min_char,
                    slots,
                })
            }
            Value::BoolVector { len, bytes } => self.push(Obj::BoolVector {
                len: *len,
                bytes: bytes.clone(),
            }),
            Value::HashTable(h) => self.add_hash_table(h),
            Value::Subr(name) => match image::subr_index(name) {
                Some(j) => Word::Subr(j as u16),
                None => self.intern(name),
            },
        }
    }

    fn add_all(&mut self, items: &[Value]) -> Vec<Word> {
        items.iter().map(|v| self.add(v)).collect()
    }

    fn add_slots(&mut self, kind: SlotsKind, items: &[Value]) -> Word {
        let slots = self.add_all(items);
        self.push(Obj::Slots(kind, slots))
    }

    fn add_hash_table(&mut self, h: &HashTableValue) -> Word {
        let test = self.intern(&h.test);
        let weakness = match &h.weakness {
            Some(w) => self.intern(w),
            None => Word::NIL,
        };
        let mut slots = Vec::with_capacity(2 * h.data.len());
        for (k, v) in &h.data {
            slots.push(self.add(k));
            slots.push(self.add(v));
        }
        let Word::Obj(key_and_value) = self.push(Obj::Vector(slots)) else {
            unreachable!("push returns an object")
        };
        self.push(Obj::HashTable {
            test,
            weakness,
            purecopy: h.purecopy,
            count: h.data.len() as u64,
            key_and_value,
        })
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

    fn obj_value(&self, id: ObjId) -> Value {
        match &self.objs[id as usize] {
            Obj::Cons(..) => {
                let mut items = Vec::new();
                let mut at = Word::Obj(id);
                while let Word::Obj(i) = at {
                    match &self.objs[i as usize] {
                        Obj::Cons(car, cdr) => {
                            items.push(self.value(*car));
                            at = *cdr;
                        }
                        _ => break,
                    }
                }
                Value::list_with_tail(items, self.value(at))
            }
            Obj::Str(s) => Value::Str(s.clone()),
            Obj::Symbol { name, interned, .. } => {
                let name = match &self.objs[*name as usize] {
                    Obj::Str(s) => String::from_utf8_lossy(&s.bytes).into_owned(),
                    _ => String::new(),
                };
                if *interned {
                    Value::Symbol(name)
                } else {
                    Value::Uninterned(name)
                }
            }
            Obj::Float(x) => Value::Float(*x),
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
                let mut items = vec![Value::Int((*depth).into()), Value::Int((*min_char).into())];
                items.extend(self.values(slots));
                Value::SubCharTable(items)
            }
            Obj::BoolVector { len, bytes } => Value::BoolVector {
                len: *len,
                bytes: bytes.clone(),
            },
            Obj::Bignum(n) => Value::Bignum(n.clone()),
            Obj::HashTable {
                test,
                weakness,
                purecopy,
                key_and_value,
                ..
            } => Value::HashTable(Box::new(HashTableValue {
                test: self.value(*test).as_symbol().unwrap_or("eql").to_string(),
                weakness: match self.value(*weakness) {
                    v if v.is_nil() => None,
                    v => v.as_symbol().map(str::to_string),
                },
                data: match &self.objs[*key_and_value as usize] {
                    Obj::Vector(slots) => slots
                        .chunks(2)
                        .map(|kv| (self.value(kv[0]), self.value(kv[1])))
                        .collect(),
                    _ => Vec::new(),
                },
                purecopy: *purecopy,
            })),
        }
    }

    fn values(&self, words: &[Word]) -> Vec<Value> {
        words.iter().map(|w| self.value(*w)).collect()
    }

    /// Sets a symbol's value cell (and marks it special when `special`).
    pub fn set_value(&mut self, name: &str, value: &Value, special: bool) {
        let symbol = self.intern(name);
        let word = self.add(value);
        if let Some(cells) = self.cells_mut(symbol) {
            cells.value = word;
            cells.special |= special;
        }
    }

    /// Loads the top-level forms of one file: bindings go to symbols, every
    /// other form to the root under `file`.
    pub fn load_forms(&mut self, file: &str, forms: &[Value]) {
        let mut kept = Vec::new();
        for form in forms {
            if !self.bind(form) {
                kept.push(form);
            }
        }
        let file = self.add(&Value::Str(LispString::from_text(file)));
        let mut list = Word::NIL;
        for form in kept.iter().rev() {
            let car = self.add(form);
            list = self.push(Obj::Cons(car, list));
        }
        let entry = self.push(Obj::Cons(file, list));
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
                        if let Some(cells) = self.cells_mut(symbol) {
                            cells.special = true;
                        }
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
                    let rest = self.push(Obj::Cons(value, plist));
                    let plist = self.push(Obj::Cons(property, rest));
                    self.cells_mut(symbol).expect("a symbol").plist = plist;
                } else {
                    let function = self.add(&constant(&items[2]));
                    self.cells_mut(symbol).expect("a symbol").function = function;
                }
                true
            }
            _ => false,
        }
    }

    /// Loads source files (`.el` or `.el.gz`) in order.
    pub fn load_files(&mut self, paths: &[std::path::PathBuf]) -> Result<usize, String> {
        let mut forms_total = 0;
        for path in paths {
            let forms = crate::reader::read_file(path)?;
            forms_total += forms.len();
            self.load_forms(&path.display().to_string(), &forms);
        }
        Ok(forms_total)
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
            root = self.push(Obj::Cons(entry, root));
        }
        // Buckets chain through the symbols' `next` pointers, in creation
        // order (built-ins first), so the result is deterministic.
        let symbols: Vec<(Word, String)> = (0..image::builtin_count())
            .map(|i| (Word::Builtin(i as u16), image::builtin_name(i).to_string()))
            .chain(self.interned.iter().map(|&id| {
                let name = match &self.objs[id as usize] {
                    Obj::Symbol { name, .. } => match &self.objs[*name as usize] {
                        Obj::Str(s) => String::from_utf8_lossy(&s.bytes).into_owned(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                (Word::Obj(id), name)
            }))
            .collect();
        let size = obarray_size(symbols.len());
        let mut buckets = vec![Word::Fixnum(0); size];
        for (symbol, name) in symbols.iter().rev() {
            let bucket = &mut buckets[obarray_bucket(name.as_bytes(), size)];
            let next = match *bucket {
                Word::Fixnum(_) => None,
                w => Some(w),
            };
            *bucket = *symbol;
            self.cells_mut(*symbol).expect("a symbol").next = next;
        }
        let obarray = self.push(Obj::Vector(buckets));
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
