//! Emacs Lisp data as plain Rust values: what the reader gives (decoded
//! from the compact [`Form`](crate::form::Form) it reads into), what the
//! heap is given to store and what the loader decodes back, plus an
//! Emacs-style printer (`prin1`).
//!
//! Lists are kept flat (`List(items, tail)`) so that long lists never
//! recurse; strings keep Emacs's internal byte encoding and their
//! unibyte/multibyte flag, as a dump stores them.

use num_bigint::BigInt;
use std::io::Write as _;

/// Smallest and largest fixnum of a 64-bit Emacs (62-bit integers).
pub const MOST_NEGATIVE_FIXNUM: i64 = -(1 << 61);
pub const MOST_POSITIVE_FIXNUM: i64 = (1 << 61) - 1;

/// The character code of raw byte `b` (0x80..=0xFF) in a multibyte string.
pub fn byte8_to_char(b: u8) -> u32 {
    0x3F_FF00 + u32::from(b)
}

/// Whether a character code is a raw byte.
pub fn char_is_byte8(c: u32) -> bool {
    c > 0x3F_FF7F
}

/// Appends character `c` in Emacs's internal (extended UTF-8) encoding.
pub fn push_char(out: &mut Vec<u8>, c: u32) {
    if char_is_byte8(c) {
        let b = (c & 0xFF) as u8;
        out.push(0xC0 | ((b >> 6) & 1));
        out.push(0x80 | (b & 0x3F));
    } else if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend([0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c < 0x1_0000 {
        out.extend([
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else if c < 0x20_0000 {
        out.extend([
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend([
            0xF8,
            0x80 | ((c >> 18) & 0x0F) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

/// Decodes one character of Emacs's internal encoding at the start of
/// `bytes`: (character, length). Malformed input yields raw bytes.
pub fn decode_char(bytes: &[u8]) -> (u32, usize) {
    let b0 = bytes[0];
    let cont = |i: usize| {
        bytes
            .get(i)
            .filter(|b| *b & 0xC0 == 0x80)
            .map(|b| u32::from(b & 0x3F))
    };
    let (len, init) = match b0 {
        0x00..=0x7F => return (u32::from(b0), 1),
        0xC0 | 0xC1 => {
            return match cont(1) {
                Some(c) => (
                    byte8_to_char((0x80 | (u32::from(b0 & 1) << 6) | c) as u8),
                    2,
                ),
                None => (byte8_to_char(b0), 1),
            }
        }
        0xC2..=0xDF => (2, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (3, u32::from(b0 & 0x0F)),
        0xF0..=0xF7 => (4, u32::from(b0 & 0x07)),
        0xF8 => (5, 0),
        _ => return (byte8_to_char(b0), 1),
    };
    let mut c = init;
    for i in 1..len {
        match cont(i) {
            Some(bits) => c = (c << 6) | bits,
            None => return (byte8_to_char(b0), 1),
        }
    }
    (c, len)
}

/// Number of characters of bytes in Emacs's internal encoding.
pub fn multibyte_chars(bytes: &[u8]) -> usize {
    let (mut at, mut chars) = (0, 0);
    while at < bytes.len() {
        at += decode_char(&bytes[at..]).1;
        chars += 1;
    }
    chars
}

/// A Lisp string: bytes in Emacs's internal encoding and whether it is
/// multibyte (a unibyte string's bytes are its characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LispString {
    pub bytes: Vec<u8>,
    pub multibyte: bool,
}

impl LispString {
    /// An ASCII or UTF-8 string as Emacs would read it from source.
    pub fn from_text(s: &str) -> LispString {
        LispString {
            bytes: s.as_bytes().to_vec(),
            multibyte: !s.is_ascii(),
        }
    }

    /// Number of characters (`size` in Emacs's string header).
    pub fn chars(&self) -> usize {
        if !self.multibyte {
            return self.bytes.len();
        }
        multibyte_chars(&self.bytes)
    }

    /// The characters of the string.
    pub fn char_iter(&self) -> impl Iterator<Item = u32> + '_ {
        let mut at = 0;
        let multibyte = self.multibyte;
        std::iter::from_fn(move || {
            if at >= self.bytes.len() {
                return None;
            }
            if !multibyte {
                at += 1;
                return Some(u32::from(self.bytes[at - 1]));
            }
            let (c, len) = decode_char(&self.bytes[at..]);
            at += len;
            Some(c)
        })
    }
}

/// The final cdr of a [`Value::List`], read as a `Value`; `nil`, by far
/// the most common, takes no allocation.
#[derive(Clone, Default)]
pub struct Tail(Option<Box<Value>>);

/// The `nil` a [`Tail`] without an allocation stands for.
static NIL: std::sync::LazyLock<Value> = std::sync::LazyLock::new(Value::nil);

impl Tail {
    pub fn new(tail: Value) -> Tail {
        if tail.is_nil() {
            Tail(None)
        } else {
            Tail(Some(Box::new(tail)))
        }
    }

    pub fn into_value(self) -> Value {
        self.0.map_or_else(Value::nil, |tail| *tail)
    }
}

impl std::ops::Deref for Tail {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.0.as_deref().unwrap_or(&NIL)
    }
}

impl PartialEq for Tail {
    fn eq(&self, other: &Tail) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// A hash table as read from `#s(hash-table …)`.
#[derive(Debug, Clone, PartialEq)]
pub struct HashTableValue {
    /// `eq`, `eql` or `equal`.
    pub test: String,
    /// `None`, or `key`, `value`, `key-or-value`, `key-and-value`.
    pub weakness: Option<String>,
    pub data: Vec<(Value, Value)>,
    /// The `purecopy` flag of the read syntax.
    pub purecopy: bool,
}

/// A Lisp value.
#[derive(Debug, Clone)]
pub enum Value {
    /// An integer in fixnum range.
    Int(i64),
    /// An integer outside fixnum range.
    Bignum(BigInt),
    Float(f64),
    Str(LispString),
    /// An interned symbol (`nil` and `t` included).
    Symbol(String),
    /// An uninterned symbol (`#:name`).
    Uninterned(String),
    /// A non-empty list: its elements and its final cdr (`nil` for a proper list).
    List(Vec<Value>, Tail),
    Vector(Vec<Value>),
    /// `#s(NAME SLOTS…)`.
    Record(Vec<Value>),
    /// `#[…]`: a byte-code function object.
    ByteCode(Vec<Value>),
    /// `#^[…]`: a char-table's slots.
    CharTable(Vec<Value>),
    /// `#^^[DEPTH MIN-CHAR …]`: a sub-char-table.
    SubCharTable(Vec<Value>),
    /// `#&N"…"`: `len` bits, packed little-endian into bytes.
    BoolVector {
        len: u64,
        bytes: Vec<u8>,
    },
    HashTable(Box<HashTableValue>),
    /// A built-in function of the runtime, by name.
    Subr(String),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => a == b,
            (Bignum(a), Bignum(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Str(a), Str(b)) => a == b,
            (Symbol(a), Symbol(b)) | (Uninterned(a), Uninterned(b)) | (Subr(a), Subr(b)) => a == b,
            (List(a, at), List(b, bt)) => a == b && at == bt,
            (Vector(a), Vector(b))
            | (Record(a), Record(b))
            | (ByteCode(a), ByteCode(b))
            | (CharTable(a), CharTable(b))
            | (SubCharTable(a), SubCharTable(b)) => a == b,
            (BoolVector { len: a, bytes: x }, BoolVector { len: b, bytes: y }) => a == b && x == y,
            (HashTable(a), HashTable(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn nil() -> Value {
        Value::Symbol("nil".into())
    }

    pub fn sym(name: &str) -> Value {
        Value::Symbol(name.into())
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Symbol(s) if s == "nil")
    }

    /// An integer, as a fixnum or a bignum by its range.
    pub fn integer(n: BigInt) -> Value {
        match i64::try_from(&n) {
            Ok(i) if (MOST_NEGATIVE_FIXNUM..=MOST_POSITIVE_FIXNUM).contains(&i) => Value::Int(i),
            _ => Value::Bignum(n),
        }
    }

    /// A list of `items` ending in `tail`, kept flat: a list tail is merged.
    pub fn list_with_tail(mut items: Vec<Value>, tail: Value) -> Value {
        let tail = match tail {
            Value::List(more, t) => {
                items.extend(more);
                t.into_value()
            }
            t => t,
        };
        if items.is_empty() {
            tail
        } else {
            Value::List(items, Tail::new(tail))
        }
    }

    /// A proper list (`nil` when empty).
    pub fn list(items: Vec<Value>) -> Value {
        Value::list_with_tail(items, Value::nil())
    }

    /// The elements of a proper list, or `None`.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items, tail) if tail.is_nil() => Some(items),
            v if v.is_nil() => Some(&[]),
            _ => None,
        }
    }

    pub fn as_symbol(&self) -> Option<&str> {
        match self {
            Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The printed representation, as `prin1` with `print-escape-nonascii`,
    /// in Emacs's internal encoding (UTF-8 but for characters beyond Unicode).
    pub fn to_lisp_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        print(self, &mut out);
        out
    }

    /// The printed representation as text (characters beyond Unicode lossy).
    pub fn to_lisp_string(&self) -> String {
        String::from_utf8_lossy(&self.to_lisp_bytes()).into_owned()
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_lisp_string())
    }
}

fn print(value: &Value, out: &mut Vec<u8>) {
    Printer { backquotes: 0 }.print(value, out)
}

/// Emacs prints `(\, X)` as `,X` only inside a backquoted form.
struct Printer {
    backquotes: usize,
}

impl Printer {
    fn print(&mut self, value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Int(n) => write!(out, "{n}").expect("write to memory"),
            Value::Bignum(n) => write!(out, "{n}").expect("write to memory"),
            Value::Float(x) => out.extend_from_slice(format_float(*x).as_bytes()),
            Value::Str(s) => print_string(s, out),
            Value::Symbol(name) => print_symbol(name, out),
            Value::Uninterned(name) => {
                out.extend_from_slice(b"#:");
                print_symbol(name, out)
            }
            Value::List(items, tail) => {
                if let ([Value::Symbol(head), arg], true) = (items.as_slice(), tail.is_nil()) {
                    let prefix = match head.as_str() {
                        "quote" => Some("'"),
                        "function" => Some("#'"),
                        "`" => Some("`"),
                        "," if self.backquotes > 0 => Some(","),
                        ",@" if self.backquotes > 0 => Some(",@"),
                        _ => None,
                    };
                    if let Some(prefix) = prefix {
                        out.extend_from_slice(prefix.as_bytes());
                        let delta: isize = match prefix {
                            "`" => 1,
                            "," | ",@" => -1,
                            _ => 0,
                        };
                        self.backquotes = self.backquotes.wrapping_add_signed(delta);
                        self.print(arg, out);
                        self.backquotes = self.backquotes.wrapping_add_signed(-delta);
                        return;
                    }
                }
                out.push(b'(');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    self.print(item, out);
                }
                if !tail.is_nil() {
                    out.extend_from_slice(b" . ");
                    self.print(tail, out);
                }
                out.push(b')');
            }
            Value::Vector(items) => self.print_seq("[", items, "]", out),
            Value::Record(items) => self.print_seq("#s(", items, ")", out),
            Value::ByteCode(items) => self.print_seq("#[", items, "]", out),
            Value::CharTable(items) => self.print_seq("#^[", items, "]", out),
            Value::SubCharTable(items) => {
                // Emacs starts each deepest sub-char-table on a new line.
                if matches!(items.first(), Some(Value::Int(3))) {
                    out.push(b'\n');
                }
                self.print_seq("#^^[", items, "]", out)
            }
            Value::BoolVector { len, bytes } => {
                write!(out, "#&{len}").expect("write to memory");
                print_string(
                    &LispString {
                        bytes: bytes.clone(),
                        multibyte: false,
                    },
                    out,
                );
            }
            Value::HashTable(h) => {
                out.extend_from_slice(b"#s(hash-table size ");
                write!(out, "{}", h.data.len()).expect("write to memory");
                write!(out, " test {}", h.test).expect("write to memory");
                if let Some(w) = &h.weakness {
                    write!(out, " weakness {w}").expect("write to memory");
                }
                write!(
                    out,
                    " rehash-size 1.5 rehash-threshold 0.8125 purecopy {} data (",
                    if h.purecopy { "t" } else { "nil" }
                )
                .expect("write to memory");
                for (i, (k, v)) in h.data.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    self.print(k, out);
                    out.push(b' ');
                    self.print(v, out);
                }
                out.extend_from_slice(b"))");
            }
            Value::Subr(name) => write!(out, "#<subr {name}>").expect("write to memory"),
        }
    }

    fn print_seq(&mut self, open: &str, items: &[Value], close: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(open.as_bytes());
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            self.print(item, out);
        }
        out.extend_from_slice(close.as_bytes());
    }
}

fn print_string(s: &LispString, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.char_iter() {
        match c {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5C => out.extend_from_slice(b"\\\\"),
            c if !s.multibyte && c >= 0x80 => write!(out, "\\{c:o}").expect("write to memory"),
            c if char_is_byte8(c) => write!(out, "\\{:o}", c & 0xFF).expect("write to memory"),
            c => push_char(out, c),
        }
    }
    out.push(b'"');
}

fn print_symbol(name: &str, out: &mut Vec<u8>) {
    if name.is_empty() {
        out.extend_from_slice(b"##");
        return;
    }
    // A name that would read as a number gets a leading backslash: it
    // starts and ends with a digit and has only digits and `e` between.
    let body = name.strip_prefix(['-', '+']).unwrap_or(name);
    let mut confusing = body.starts_with(|c: char| c.is_ascii_digit())
        && body.ends_with(|c: char| c.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'e' || b == b'E');
    for c in name.chars() {
        if matches!(
            c,
            '"' | '\\'
                | '\''
                | ';'
                | '#'
                | '('
                | ')'
                | ','
                | '`'
                | '['
                | ']'
                | '.'
                | '?'
                | '\u{a0}'
        ) || u32::from(c) <= 0x20
            || confusing
        {
            out.push(b'\\');
            confusing = false;
        }
        push_char(out, u32::from(c));
    }
}

/// A float as Emacs prints it: the shortest `%.Ng` (N from 15 to 17) that
/// reads back exactly, with `.0` added when it would look like an integer.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() {
            "-0.0e+NaN"
        } else {
            "0.0e+NaN"
        }
        .into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-1.0e+INF" } else { "1.0e+INF" }.into();
    }
    let mut text = String::new();
    for precision in 15..=17 {
        text = format_g(x, precision);
        if text.parse::<f64>().ok() == Some(x) {
            break;
        }
    }
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

/// C's `%.{precision}g`.
fn format_g(x: f64, precision: usize) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", precision - 1, x);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= precision as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mantissa), exp.abs())
    } else {
        let decimals = (precision as i32 - 1 - exp).max(0) as usize;
        strip(&format!("{x:.decimals$}"))
    }
}
