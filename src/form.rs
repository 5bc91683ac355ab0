//! A form as the reader produces it: one byte buffer holding the values in
//! pre-order (a sequence's header, then its elements), which the dumper
//! places from directly. A tree of [`Value`]s costs 40 bytes a value plus
//! an allocation per list and per name; this encoding costs a tag and the
//! payload (a symbol is its length and name, a list a 9-byte header), so
//! the form being placed is a few times smaller than its tree.
//!
//! [`Node`] is a read-only view of one value in a form; [`Form::from_value`]
//! and [`Node::to_value`] convert from and to [`Value`]s for everything
//! that wants the tree.

use crate::value::{HashTableValue, LispString, Tail, Value};
use num_bigint::{BigInt, BigUint, Sign};

// Tags. An atom's payload follows its tag; a sequence's header is its tag,
// its element count (u32) and the byte length of its elements (u32).
const INT: u8 = 0;
const FLOAT: u8 = 1;
const BIGNUM: u8 = 2;
const SYMBOL: u8 = 3;
const UNINTERNED: u8 = 4;
const SUBR: u8 = 5;
const UNIBYTE: u8 = 6;
const MULTIBYTE: u8 = 7;
const BOOL_VECTOR: u8 = 8;
/// The first sequence tag: [`Seq`] as `u8`, plus this.
const SEQ: u8 = 16;
/// A sequence's header: tag, count, byte length.
pub(crate) const SEQ_HEADER: usize = 9;

/// The kind of a sequence node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seq {
    /// A proper list (at least one element).
    List,
    /// A list whose last element is its final cdr (neither `nil` nor a
    /// list when read).
    Dotted,
    Vector,
    Record,
    ByteCode,
    CharTable,
    SubCharTable,
    /// Elements: the test (a symbol), the weakness (a symbol or `nil`),
    /// the purecopy flag (`t` or `nil`), then keys and values alternating.
    HashTable,
}

const SEQS: [Seq; 8] = [
    Seq::List,
    Seq::Dotted,
    Seq::Vector,
    Seq::Record,
    Seq::ByteCode,
    Seq::CharTable,
    Seq::SubCharTable,
    Seq::HashTable,
];

/// Elements of a hash table node before its keys and values.
pub const HASH_TABLE_META: usize = 3;

/// An encoded form (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct Form {
    bytes: Vec<u8>,
}

impl Form {
    /// The encoding of `value`, kept as it is (a list's tail is not merged).
    pub fn from_value(value: &Value) -> Form {
        let mut form = Form::default();
        form.push_value(value);
        form
    }

    /// The first value of the form (the form must hold one).
    pub fn root(&self) -> Node<'_> {
        Node {
            bytes: &self.bytes,
            at: 0,
        }
    }

    /// The value starting at byte `at`.
    pub(crate) fn node(&self, at: usize) -> Node<'_> {
        Node {
            bytes: &self.bytes,
            at,
        }
    }

    /// Bytes encoded so far.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Drops what follows byte `at`.
    pub(crate) fn truncate(&mut self, at: usize) {
        self.bytes.truncate(at);
    }

    /// Gives back the room beyond its length.
    pub(crate) fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// The bytes from `at` on.
    pub(crate) fn bytes_from(&self, at: usize) -> &[u8] {
        &self.bytes[at..]
    }

    /// Appends bytes.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        room(&mut self.bytes, bytes.len());
        self.bytes.extend_from_slice(bytes);
    }

    fn push_len(&mut self, n: u64) {
        let (len, k) = leb128(n);
        self.extend(&len[..k]);
    }

    fn push_bytes(&mut self, tag: u8, bytes: &[u8]) {
        self.extend(&[tag]);
        self.push_len(bytes.len() as u64);
        self.extend(bytes);
    }

    pub(crate) fn push_int(&mut self, n: i64) {
        self.extend(&[INT]);
        self.extend(&n.to_le_bytes());
    }

    pub(crate) fn push_symbol(&mut self, name: &str) {
        self.push_bytes(SYMBOL, name.as_bytes());
    }

    pub(crate) fn push_uninterned(&mut self, name: &str) {
        self.push_bytes(UNINTERNED, name.as_bytes());
    }

    pub(crate) fn push_string(&mut self, s: &LispString) {
        let tag = if s.multibyte { MULTIBYTE } else { UNIBYTE };
        self.push_bytes(tag, &s.bytes);
    }

    /// Appends a string whose bytes `read` appends to the buffer it is
    /// given (making room with [`room`]), saying whether it is multibyte:
    /// a long string literal is never held twice.
    pub(crate) fn push_string_with<E>(
        &mut self,
        read: impl FnOnce(&mut Vec<u8>) -> Result<bool, E>,
    ) -> Result<(), E> {
        let start = self.bytes.len();
        let multibyte = read(&mut self.bytes)?;
        let (len, k) = leb128((self.bytes.len() - start) as u64);
        let tag = if multibyte { MULTIBYTE } else { UNIBYTE };
        room(&mut self.bytes, 1 + k);
        let head = std::iter::once(tag).chain(len[..k].iter().copied());
        self.bytes.splice(start..start, head);
        Ok(())
    }

    /// Starts a sequence: its header's position, for [`close`](Form::close).
    pub(crate) fn open(&mut self) -> usize {
        let at = self.bytes.len();
        self.extend(&[0; SEQ_HEADER]);
        at
    }

    /// Completes the header of the sequence opened at `at`, whose `count`
    /// elements are everything encoded since.
    pub(crate) fn close(&mut self, at: usize, kind: Seq, count: usize) {
        let len = self.bytes.len() - at - SEQ_HEADER;
        self.bytes[at] = SEQ + kind as u8;
        self.bytes[at + 1..at + 5].copy_from_slice(&(count as u32).to_le_bytes());
        self.bytes[at + 5..at + 9].copy_from_slice(&(len as u32).to_le_bytes());
    }

    /// Removes the header of the sequence at `at` (its elements stay, in
    /// place of it).
    pub(crate) fn unwrap_seq(&mut self, at: usize) {
        self.bytes.drain(at..at + SEQ_HEADER);
    }

    /// Moves the value at `from` (and everything after it) to `to`.
    pub(crate) fn move_down(&mut self, from: usize, to: usize) {
        self.bytes.drain(to..from);
    }

    /// Appends `value` (and everything in it).
    pub fn push_value(&mut self, value: &Value) {
        match value {
            Value::Int(n) => self.push_int(*n),
            Value::Float(x) => {
                self.extend(&[FLOAT]);
                self.extend(&x.to_bits().to_le_bytes());
            }
            Value::Bignum(n) => {
                let limbs = n.magnitude().to_u64_digits();
                self.extend(&[BIGNUM, u8::from(n.sign() == Sign::Minus)]);
                self.push_len(limbs.len() as u64);
                for limb in limbs {
                    self.extend(&limb.to_le_bytes());
                }
            }
            Value::Str(s) => self.push_string(s),
            Value::Symbol(name) => self.push_symbol(name),
            Value::Uninterned(name) => self.push_uninterned(name),
            Value::Subr(name) => self.push_bytes(SUBR, name.as_bytes()),
            Value::BoolVector { len, bytes } => {
                self.extend(&[BOOL_VECTOR]);
                self.push_len(*len);
                self.push_len(bytes.len() as u64);
                self.extend(bytes);
            }
            Value::List(items, tail) => {
                let at = self.open();
                for item in items {
                    self.push_value(item);
                }
                if tail.is_nil() {
                    self.close(at, Seq::List, items.len());
                } else {
                    self.push_value(tail);
                    self.close(at, Seq::Dotted, items.len() + 1);
                }
            }
            Value::Vector(items) => self.push_seq(Seq::Vector, items),
            Value::Record(items) => self.push_seq(Seq::Record, items),
            Value::ByteCode(items) => self.push_seq(Seq::ByteCode, items),
            Value::CharTable(items) => self.push_seq(Seq::CharTable, items),
            Value::SubCharTable(items) => self.push_seq(Seq::SubCharTable, items),
            Value::HashTable(h) => {
                let at = self.open();
                self.push_symbol(&h.test);
                self.push_symbol(h.weakness.as_deref().unwrap_or("nil"));
                self.push_symbol(if h.purecopy { "t" } else { "nil" });
                for (k, v) in &h.data {
                    self.push_value(k);
                    self.push_value(v);
                }
                self.close(at, Seq::HashTable, HASH_TABLE_META + 2 * h.data.len());
            }
        }
    }

    fn push_seq(&mut self, kind: Seq, items: &[Value]) {
        let at = self.open();
        for item in items {
            self.push_value(item);
        }
        self.close(at, kind, items.len());
    }
}

/// Makes room for `n` more bytes in a form's buffer, growing it by an
/// eighth rather than doubling: the form being read is at its largest
/// when its last growth happens, which doubling could leave half empty.
pub(crate) fn room(bytes: &mut Vec<u8>, n: usize) {
    if bytes.capacity() - bytes.len() < n {
        bytes.reserve_exact(n.max(bytes.len() / 8).max(64));
    }
}

/// `n` as LEB128: its bytes and their count.
fn leb128(mut n: u64) -> ([u8; 10], usize) {
    let (mut out, mut k) = ([0; 10], 0);
    while n >= 0x80 {
        out[k] = n as u8 | 0x80;
        n >>= 7;
        k += 1;
    }
    out[k] = n as u8;
    (out, k + 1)
}

/// The text of a name in a form.
pub fn text(name: &[u8]) -> &str {
    std::str::from_utf8(name).expect("names are encoded from text")
}

/// One value of a [`Form`].
#[derive(Clone, Copy)]
pub struct Node<'f> {
    bytes: &'f [u8],
    at: usize,
}

/// What a [`Node`] is.
pub enum View<'f> {
    Int(i64),
    /// Sign and magnitude (64-bit limbs, little-endian).
    Bignum {
        negative: bool,
        limbs: &'f [u8],
    },
    Float(f64),
    Str {
        bytes: &'f [u8],
        multibyte: bool,
    },
    /// A name's bytes (UTF-8: names are encoded from text; see
    /// [`Node::as_symbol`]), left unchecked so that walking a form costs
    /// no validation.
    Symbol(&'f [u8]),
    Uninterned(&'f [u8]),
    Subr(&'f [u8]),
    BoolVector {
        len: u64,
        bytes: &'f [u8],
    },
    Seq(Seq, Children<'f>),
}

impl<'f> Node<'f> {
    fn u32_at(&self, at: usize) -> usize {
        let b = &self.bytes[at..at + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    /// A LEB128 length at `at`: (value, first byte after it).
    fn len_at(&self, mut at: usize) -> (u64, usize) {
        let (mut n, mut shift) = (0u64, 0);
        loop {
            let b = self.bytes[at];
            at += 1;
            n |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return (n, at);
            }
            shift += 7;
        }
    }

    /// A length-prefixed byte string at `at`: (bytes, first byte after).
    fn bytes_at(&self, at: usize) -> (&'f [u8], usize) {
        let (len, start) = self.len_at(at);
        let end = start + len as usize;
        (&self.bytes[start..end], end)
    }

    fn word_at(&self, at: usize) -> u64 {
        let mut b = [0; 8];
        b.copy_from_slice(&self.bytes[at..at + 8]);
        u64::from_le_bytes(b)
    }

    /// The node's header, or the whole node when it is an atom: the first
    /// byte after it.
    fn header_end(&self) -> usize {
        let at = self.at + 1;
        match self.bytes[self.at] {
            INT | FLOAT => at + 8,
            BIGNUM => {
                let (limbs, start) = self.len_at(at + 1);
                start + 8 * limbs as usize
            }
            BOOL_VECTOR => self.bytes_at(self.len_at(at).1).1,
            SYMBOL | UNINTERNED | SUBR | UNIBYTE | MULTIBYTE => self.bytes_at(at).1,
            _ => self.at + SEQ_HEADER,
        }
    }

    /// The first byte after the node and everything in it.
    pub fn end(&self) -> usize {
        match self.bytes[self.at] {
            tag if tag >= SEQ => self.at + SEQ_HEADER + self.u32_at(self.at + 5),
            _ => self.header_end(),
        }
    }

    pub fn view(&self) -> View<'f> {
        let at = self.at + 1;
        match self.bytes[self.at] {
            INT => View::Int(self.word_at(at) as i64),
            FLOAT => View::Float(f64::from_bits(self.word_at(at))),
            BIGNUM => {
                let (limbs, start) = self.len_at(at + 1);
                View::Bignum {
                    negative: self.bytes[at] != 0,
                    limbs: &self.bytes[start..start + 8 * limbs as usize],
                }
            }
            SYMBOL => View::Symbol(self.bytes_at(at).0),
            UNINTERNED => View::Uninterned(self.bytes_at(at).0),
            SUBR => View::Subr(self.bytes_at(at).0),
            UNIBYTE | MULTIBYTE => View::Str {
                bytes: self.bytes_at(at).0,
                multibyte: self.bytes[self.at] == MULTIBYTE,
            },
            BOOL_VECTOR => {
                let (len, rest) = self.len_at(at);
                View::BoolVector {
                    len,
                    bytes: self.bytes_at(rest).0,
                }
            }
            tag => View::Seq(
                SEQS[usize::from(tag - SEQ)],
                Children {
                    bytes: self.bytes,
                    at: self.at + SEQ_HEADER,
                    left: self.u32_at(at),
                },
            ),
        }
    }

    /// The node and every value in it, in the form's order (a sequence
    /// before its elements).
    pub fn preorder(&self) -> impl Iterator<Item = Node<'f>> {
        let (bytes, end) = (self.bytes, self.end());
        let mut at = self.at;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let node = Node { bytes, at };
            at = node.header_end();
            Some(node)
        })
    }

    pub fn as_symbol(&self) -> Option<&'f str> {
        match self.view() {
            View::Symbol(name) => Some(text(name)),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self.view(), View::Symbol(b"nil"))
    }

    /// The elements of a proper list (none for `nil`), or `None`.
    pub fn as_list(&self) -> Option<Children<'f>> {
        match self.view() {
            View::Seq(Seq::List, items) => Some(items),
            View::Symbol(b"nil") => Some(Children {
                bytes: self.bytes,
                at: self.at,
                left: 0,
            }),
            _ => None,
        }
    }

    /// The value the node encodes.
    pub fn to_value(&self) -> Value {
        match self.view() {
            View::Int(n) => Value::Int(n),
            View::Float(x) => Value::Float(x),
            View::Bignum { negative, limbs } => {
                let sign = if negative { Sign::Minus } else { Sign::Plus };
                Value::Bignum(BigInt::from_biguint(sign, BigUint::from_bytes_le(limbs)))
            }
            View::Str { bytes, multibyte } => Value::Str(LispString {
                bytes: bytes.to_vec(),
                multibyte,
            }),
            View::Symbol(name) => Value::Symbol(text(name).into()),
            View::Uninterned(name) => Value::Uninterned(text(name).into()),
            View::Subr(name) => Value::Subr(text(name).into()),
            View::BoolVector { len, bytes } => Value::BoolVector {
                len,
                bytes: bytes.to_vec(),
            },
            View::Seq(kind, items) => {
                let mut items: Vec<Value> = items.map(|n| n.to_value()).collect();
                match kind {
                    Seq::List => Value::List(items, Tail::default()),
                    Seq::Dotted => {
                        let tail = items.pop().expect("a dotted list's tail");
                        Value::List(items, Tail::new(tail))
                    }
                    Seq::Vector => Value::Vector(items),
                    Seq::Record => Value::Record(items),
                    Seq::ByteCode => Value::ByteCode(items),
                    Seq::CharTable => Value::CharTable(items),
                    Seq::SubCharTable => Value::SubCharTable(items),
                    Seq::HashTable => {
                        let data = items.split_off(HASH_TABLE_META);
                        let name = |v: &Value| v.as_symbol().unwrap_or("nil").to_string();
                        let mut pairs = data.into_iter();
                        Value::HashTable(Box::new(HashTableValue {
                            test: name(&items[0]),
                            weakness: Some(name(&items[1])).filter(|w| w != "nil"),
                            purecopy: !items[2].is_nil(),
                            data: std::iter::from_fn(|| Some((pairs.next()?, pairs.next()?)))
                                .collect(),
                        }))
                    }
                }
            }
        }
    }
}

/// The elements of a sequence node, in order.
#[derive(Clone)]
pub struct Children<'f> {
    bytes: &'f [u8],
    at: usize,
    left: usize,
}

impl<'f> Iterator for Children<'f> {
    type Item = Node<'f>;

    fn next(&mut self) -> Option<Node<'f>> {
        if self.left == 0 {
            return None;
        }
        let node = Node {
            bytes: self.bytes,
            at: self.at,
        };
        self.at = node.end();
        self.left -= 1;
        Some(node)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Children<'_> {}

impl<'f> Children<'f> {
    /// All elements but the last, and the last (a dotted list's elements
    /// and its final cdr).
    pub fn split_last(&self) -> Option<(Children<'f>, Node<'f>)> {
        let left = self.left.checked_sub(1)?;
        let last = self.clone().nth(left)?;
        Some((Children { left, ..*self }, last))
    }
}
