//! The Emacs Lisp reader: source text to [`Value`]s, as Emacs 28's `read`
//! does it (numbers, strings and characters with every escape, symbols,
//! quote shorthands, dotted lists, vectors, `#` syntaxes, comments).
//!
//! Source bytes are decoded as UTF-8; bytes that are not valid UTF-8 become
//! raw-byte characters, as Emacs's own `utf-8` decoding makes them. The
//! source is read as a stream (`.el.gz` unpacked on the fly), a few KiB at
//! a time, so reading holds one form, never a file's whole text; and the
//! form is read into a compact [`Form`] ([`Reader::next_form`], what the
//! dumper places from), decoded to a [`Value`] for whoever wants the tree
//! ([`Reader::read_next`]).

use crate::form::{self, Form, Node, Seq, View, SEQ_HEADER};
use crate::value::{
    byte8_to_char, char_is_byte8, decode_char, push_char, HashTableValue, LispString, Value,
};
use num_bigint::BigInt;
use num_traits::Num;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Why source text could not be read, with its position.
#[derive(Debug, thiserror::Error)]
#[error("line {line}, byte {offset}: {message}")]
pub struct ReadError {
    pub offset: usize,
    pub line: usize,
    pub message: String,
}

const META: u32 = 1 << 27;
const CTRL: u32 = 1 << 26;
const SHIFT: u32 = 1 << 25;
const HYPER: u32 = 1 << 24;
const SUPER: u32 = 1 << 23;
const ALT: u32 = 1 << 22;
const MODIFIERS: u32 = META | CTRL | SHIFT | HYPER | SUPER | ALT;
const NO_BREAK_SPACE: u32 = 0xA0;
/// The longest atom buffer the reader keeps for the next atom.
const MAX_KEPT_NAME: usize = 1 << 10;
/// Nesting beyond this is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 2000;

/// Reads the top-level forms of a source file (`.el`, or `.el.gz` unpacked).
pub fn read_file(path: &Path) -> Result<Vec<Value>, String> {
    let mut reader = Reader::open(path)?;
    let mut forms = Vec::new();
    while let Some(form) = reader
        .read_next()
        .map_err(|e| format!("{}: {e}", path.display()))?
    {
        forms.push(form);
    }
    Ok(forms)
}

/// Bytes of a gzip file read at a time (the decoder adds its 32 KiB
/// window; the reader keeps its own buffer of unpacked text).
const GZIP_INPUT: usize = 1 << 10;

/// Whether a source file is gzipped (by its name).
fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// The bytes of a source file as a stream, gunzipped when its name ends
/// in `.gz` (a corrupt gzip stream is an error where it is read).
pub fn open_source(path: &Path) -> Result<Box<dyn Read>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !is_gzip(path) {
        return Ok(Box::new(file));
    }
    let file = std::io::BufReader::with_capacity(GZIP_INPUT, file);
    Ok(Box::new(flate2::bufread::GzDecoder::new(file)))
}

/// Reads every top-level form of `text`.
pub fn read_all(text: &[u8]) -> Result<Vec<Value>, ReadError> {
    let mut reader = Reader::new(text);
    let mut forms = Vec::new();
    while let Some(form) = reader.read_next()? {
        forms.push(form);
    }
    Ok(forms)
}

/// Reads exactly one form from `text`.
pub fn read_one(text: &str) -> Result<Value, ReadError> {
    let mut reader = Reader::new(text.as_bytes());
    reader
        .read_next()?
        .ok_or_else(|| reader.error("end of input"))
}

/// Bytes of look-ahead the reader keeps: enough for the longest thing it
/// inspects before consuming (a `\U` escape's 8 digits).
const LOOKAHEAD: usize = 8;
/// The reader's own buffer of source bytes read from a file: each refill
/// is a system call.
const READ_BUFFER: usize = 1 << 12;
/// Its buffer of bytes a gzip decoder unpacks: a refill is a copy out of
/// the decoder's window, no system call, so a small buffer costs little.
const UNPACKED_BUFFER: usize = 1 << 9;

/// A reader of forms from a stream of source bytes; it holds a few KiB of
/// the source at a time, never the whole text.
pub struct Reader<R> {
    src: R,
    buf: Box<[u8]>,
    /// The unread bytes are `buf[at..end]`.
    at: usize,
    end: usize,
    /// Whether the source reached its end.
    eof: bool,
    /// Bytes consumed before `buf[0]`.
    base: usize,
    /// Lines before the current position, minus one.
    newlines: usize,
    /// The first error reading the source: reported where it happened.
    io_error: Option<std::io::Error>,
    /// The form being read (each value read is appended to it).
    form: Form,
    /// The bytes of the symbol or number being read.
    name: Vec<u8>,
    depth: usize,
    /// The encodings of `#N=` labels.
    labels: HashMap<u64, Vec<u8>>,
}

/// What the reader met next.
enum Token {
    /// A value, appended to the form.
    Value,
    Close(u8),
    Dot,
}

impl Reader<Box<dyn Read>> {
    /// A reader of a source file ([`open_source`]).
    pub fn open(path: &Path) -> Result<Reader<Box<dyn Read>>, String> {
        let buffer = if is_gzip(path) {
            UNPACKED_BUFFER
        } else {
            READ_BUFFER
        };
        Ok(Reader::with_buffer(open_source(path)?, buffer))
    }
}

impl<R: Read> Reader<R> {
    pub fn new(src: R) -> Reader<R> {
        Reader::with_buffer(src, READ_BUFFER)
    }

    /// A reader keeping `buffer` bytes of the source (more than
    /// [`LOOKAHEAD`]).
    fn with_buffer(src: R, buffer: usize) -> Reader<R> {
        debug_assert!(LOOKAHEAD < buffer);
        let mut reader = Reader {
            src,
            buf: vec![0; buffer].into_boxed_slice(),
            at: 0,
            end: 0,
            eof: false,
            base: 0,
            newlines: 0,
            io_error: None,
            form: Form::default(),
            name: Vec::new(),
            depth: 0,
            labels: HashMap::new(),
        };
        if reader.byte(0) == Some(b'#') && reader.byte(1) == Some(b'!') {
            reader.skip_line();
        }
        reader
    }

    /// Byte offset of the next unread byte.
    fn pos(&self) -> usize {
        self.base + self.at
    }

    fn error(&self, message: impl Into<String>) -> ReadError {
        let message = match &self.io_error {
            Some(e) => format!("cannot read the source: {e}"),
            None => message.into(),
        };
        ReadError {
            offset: self.pos(),
            line: 1 + self.newlines,
            message,
        }
    }

    /// Makes `n` (at most [`LOOKAHEAD`]) unread bytes available, fewer only
    /// at the end of the source.
    fn fill(&mut self, n: usize) {
        debug_assert!(n <= LOOKAHEAD);
        while self.end - self.at < n && !self.eof {
            if self.at > 0 {
                self.buf.copy_within(self.at..self.end, 0);
                self.base += self.at;
                self.end -= self.at;
                self.at = 0;
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.io_error = Some(e);
                    self.eof = true;
                }
            }
        }
    }

    /// The unread byte `k` places ahead (`k` < [`LOOKAHEAD`]).
    fn byte(&mut self, k: usize) -> Option<u8> {
        self.fill(k + 1);
        self.buf[self.at..self.end].get(k).copied()
    }

    /// Consumes up to `n` bytes (fewer at the end of the source).
    fn skip_bytes(&mut self, mut n: usize) {
        while n > 0 {
            self.fill(1);
            let k = (self.end - self.at).min(n);
            if k == 0 {
                return;
            }
            let skipped = &self.buf[self.at..self.at + k];
            self.newlines += skipped.iter().filter(|&&b| b == b'\n').count();
            self.at += k;
            n -= k;
        }
    }

    /// The next top-level form, or `None` at the end of the text.
    pub fn read_next(&mut self) -> Result<Option<Value>, ReadError> {
        Ok(self.next_form()?.map(|form| form.to_value()))
    }

    /// The next top-level form, encoded (valid until the next call), or
    /// `None` at the end of the text.
    pub fn next_form(&mut self) -> Result<Option<Node<'_>>, ReadError> {
        self.form.clear();
        match self.token()? {
            None if self.io_error.is_some() => Err(self.error("")),
            None => Ok(None),
            Some(Token::Value) => {
                // Held while the form is placed: no room beyond its length.
                self.form.shrink();
                Ok(Some(self.form.root()))
            }
            Some(Token::Close(c)) => Err(self.error(format!("unexpected `{}`", c as char))),
            Some(Token::Dot) => Err(self.error("unexpected `.`")),
        }
    }

    fn peek_char(&mut self) -> Option<(u32, usize)> {
        if let Some(&b) = self.buf[self.at..self.end].first().filter(|b| **b < 0x80) {
            return Some((u32::from(b), 1));
        }
        self.fill(5);
        let rest = &self.buf[self.at..self.end];
        if rest.is_empty() {
            return None;
        }
        // Emacs's own extended UTF-8 (characters up to 0x3FFF7F); a
        // malformed sequence is a raw byte.
        Some(decode_char(rest))
    }

    fn next_char(&mut self) -> Option<u32> {
        let (c, len) = self.peek_char()?;
        self.at += len;
        if c == u32::from(b'\n') {
            self.newlines += 1;
        }
        Some(c)
    }

    fn expect_char(&mut self, what: &str) -> Result<u32, ReadError> {
        self.next_char()
            .ok_or_else(|| self.error(format!("end of input inside {what}")))
    }

    fn skip_line(&mut self) {
        loop {
            let rest = &self.buf[self.at..self.end];
            if let Some(i) = rest.iter().position(|&b| b == b'\n') {
                self.at += i + 1;
                self.newlines += 1;
                return;
            }
            self.at = self.end;
            self.fill(1);
            if self.at == self.end {
                return;
            }
        }
    }

    fn skip_space(&mut self) {
        while let Some((c, len)) = self.peek_char() {
            if c <= 0x20 || c == NO_BREAK_SPACE {
                self.at += len;
                if c == u32::from(b'\n') {
                    self.newlines += 1;
                }
            } else if c == u32::from(b';') {
                self.skip_line();
            } else {
                break;
            }
        }
    }

    /// Reads one value (appended to the form).
    fn read_value(&mut self, what: &str) -> Result<(), ReadError> {
        match self.token()? {
            Some(Token::Value) => Ok(()),
            Some(Token::Close(c)) => {
                Err(self.error(format!("unexpected `{}` in {what}", c as char)))
            }
            Some(Token::Dot) => Err(self.error(format!("unexpected `.` in {what}"))),
            None => Err(self.error(format!("end of input in {what}"))),
        }
    }

    fn token(&mut self) -> Result<Option<Token>, ReadError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let result = self.token_inner();
        self.depth -= 1;
        // A sequence's header holds its length in 32 bits.
        if self.form.len() > u32::MAX as usize {
            return Err(self.error("a form of more than 4 GiB"));
        }
        result
    }

    fn token_inner(&mut self) -> Result<Option<Token>, ReadError> {
        self.skip_space();
        let Some((c, _)) = self.peek_char() else {
            return Ok(None);
        };
        let ch = char::from_u32(c).unwrap_or('\0');
        let punctuation = matches!(
            ch,
            '(' | '[' | ')' | ']' | '"' | '\'' | '`' | ',' | '?' | '#' | '.'
        );
        if !punctuation || (ch == '.' && !self.dot_ends()) {
            self.read_atom(false)?;
            return Ok(Some(Token::Value));
        }
        // Every punctuation character is one byte.
        self.at += 1;
        match ch {
            '(' => {
                let seq = self.read_seq(b')')?;
                self.close_list(seq);
            }
            '[' => {
                let seq = self.read_seq(b']')?;
                self.close_as(seq, Seq::Vector);
            }
            ')' => return Ok(Some(Token::Close(b')'))),
            ']' => return Ok(Some(Token::Close(b']'))),
            '"' => {
                // Read straight into the form.
                let mut form = std::mem::take(&mut self.form);
                let read = form.push_string_with(|bytes| self.read_string(bytes));
                self.form = form;
                read?;
            }
            '\'' => self.quoted("quote")?,
            '`' => self.quoted("`")?,
            ',' => {
                if self.peek_char().map(|p| p.0) == Some(u32::from(b'@')) {
                    self.at += 1;
                    self.quoted(",@")?
                } else {
                    self.quoted(",")?
                }
            }
            '?' => {
                let c = self.read_char_literal()?;
                self.form.push_int(c);
            }
            '#' => {
                if !self.read_hash()? {
                    return self.token_inner();
                }
            }
            _ => return Ok(Some(Token::Dot)),
        }
        Ok(Some(Token::Value))
    }

    /// Whether the `.` about to be read stands alone (ends at a delimiter).
    fn dot_ends(&mut self) -> bool {
        match self.byte(1) {
            None => true,
            Some(b) => {
                b <= 0x20
                    || b"\"';()[#?`,".contains(&b)
                    || (b == 0xC2 && self.byte(2) == Some(0xA0))
            }
        }
    }

    /// `(HEAD X)`, X read next.
    fn quoted(&mut self, head: &str) -> Result<(), ReadError> {
        let at = self.form.open();
        self.form.push_symbol(head);
        self.read_value("a quoted form")?;
        self.form.close(at, Seq::List, 2);
        Ok(())
    }

    /// Reads the elements up to `close` into the form, after a sequence
    /// header for the caller to complete.
    fn read_seq(&mut self, close: u8) -> Result<OpenSeq, ReadError> {
        let mut seq = OpenSeq {
            at: self.form.open(),
            items: 0,
            tail: None,
        };
        loop {
            match self.token()? {
                Some(Token::Value) => seq.items += 1,
                Some(Token::Close(c)) if c == close => return Ok(seq),
                Some(Token::Close(c)) => {
                    return Err(self.error(format!(
                        "`{}` closes a `{}`",
                        c as char,
                        open_of(close)
                    )))
                }
                Some(Token::Dot) if close == b')' => {
                    if seq.items == 0 {
                        return Err(self.error("`.` at the start of a list"));
                    }
                    seq.tail = Some(self.form.len());
                    self.read_value("a dotted list")?;
                    match self.token()? {
                        Some(Token::Close(b')')) => return Ok(seq),
                        _ => return Err(self.error("more than one object after `.`")),
                    }
                }
                Some(Token::Dot) => {
                    self.form.push_symbol(".");
                    seq.items += 1;
                }
                None => return Err(self.error(format!("end of input inside `{}`", open_of(close)))),
            }
        }
    }

    /// Completes a sequence as `kind` from its elements (a final cdr
    /// after a dot is dropped).
    fn close_as(&mut self, seq: OpenSeq, kind: Seq) {
        if let Some(tail) = seq.tail {
            self.form.truncate(tail);
        }
        self.form.close(seq.at, kind, seq.items);
    }

    /// Completes a list: `nil` when empty, a tail that is a list merged
    /// into it, a `nil` tail dropped.
    fn close_list(&mut self, seq: OpenSeq) {
        let (mut count, mut kind) = (seq.items, Seq::List);
        if let Some(tail) = seq.tail {
            match self.form.node(tail).view() {
                View::Symbol(b"nil") => self.form.truncate(tail),
                View::Seq(more @ (Seq::List | Seq::Dotted), items) => {
                    count += items.len();
                    kind = more;
                    self.form.unwrap_seq(tail);
                }
                _ => (count, kind) = (count + 1, Seq::Dotted),
            }
        }
        if count == 0 {
            self.form.truncate(seq.at);
            self.form.push_symbol("nil");
        } else {
            self.form.close(seq.at, kind, count);
        }
    }

    /// After `#`: false when the syntax is skipped (`#@N`, `#!`), else
    /// the value read is appended.
    fn read_hash(&mut self) -> Result<bool, ReadError> {
        let c = self.expect_char("`#` syntax")?;
        let ch = char::from_u32(c).unwrap_or('\0');
        match ch {
            '\'' => self.quoted("function")?,
            ':' => self.read_atom(true)?,
            '#' => self.form.push_symbol(""),
            '[' => {
                let seq = self.read_seq(b']')?;
                self.close_as(seq, Seq::ByteCode);
            }
            '^' => {
                let sub = self.byte(0) == Some(b'^');
                if sub {
                    self.at += 1;
                }
                if self.next_char() != Some(u32::from(b'[')) {
                    return Err(self.error("`#^` must be followed by `[`"));
                }
                let seq = self.read_seq(b']')?;
                let at = seq.at;
                let kind = if sub {
                    Seq::SubCharTable
                } else {
                    Seq::CharTable
                };
                self.close_as(seq, kind);
                let View::Seq(_, mut items) = self.form.node(at).view() else {
                    unreachable!("a sequence was read");
                };
                let mut int = || matches!(items.next().map(|n| n.view()), Some(View::Int(_)));
                if sub && !(int() && int()) {
                    return Err(
                        self.error("a sub-char-table starts with its depth and first character")
                    );
                }
            }
            '(' => {
                // A string with text properties: keep the string.
                let seq = self.read_seq(b')')?;
                let first = seq.at + SEQ_HEADER;
                if seq.items == 0 {
                    self.form.truncate(seq.at);
                    self.form.push_symbol("nil");
                } else {
                    let end = self.form.node(first).end();
                    self.form.truncate(end);
                    self.form.move_down(first, seq.at);
                }
            }
            '$' => self.form.push_symbol("nil"),
            '!' => {
                self.skip_line();
                return Ok(false);
            }
            '@' => {
                let digits = self.take_while(|b| b.is_ascii_digit());
                if digits == "00" {
                    self.skip_bytes(usize::MAX);
                } else {
                    let n: usize = digits.parse().map_err(|_| self.error("bad `#@` count"))?;
                    // The count includes the one character after the digits.
                    self.skip_bytes(n);
                }
                return Ok(false);
            }
            '&' => {
                let digits = self.take_while(|b| b.is_ascii_digit());
                let len: u64 = digits
                    .parse()
                    .map_err(|_| self.error("bad bool-vector length"))?;
                if self.next_char() != Some(u32::from(b'"')) {
                    return Err(self.error("`#&N` must be followed by a string"));
                }
                let mut bytes = Vec::new();
                let multibyte = self.read_string(&mut bytes)?;
                let s = LispString { bytes, multibyte };
                let bytes: Vec<u8> = s.char_iter().map(|c| (c & 0xFF) as u8).collect();
                if bytes.len() as u64 != len.div_ceil(8) {
                    return Err(self.error("bool-vector string has the wrong length"));
                }
                let mut bytes = bytes;
                if !len.is_multiple_of(8) {
                    if let Some(last) = bytes.last_mut() {
                        *last &= (1u8 << (len % 8)) - 1;
                    }
                }
                self.form.push_value(&Value::BoolVector { len, bytes });
            }
            's' => {
                if self.next_char() != Some(u32::from(b'(')) {
                    return Err(self.error("`#s` must be followed by `(`"));
                }
                let seq = self.read_seq(b')')?;
                let at = seq.at;
                self.close_as(seq, Seq::Record);
                let View::Seq(_, mut items) = self.form.node(at).view() else {
                    unreachable!("a sequence was read");
                };
                match items.next() {
                    Some(name) if name.as_symbol() == Some("hash-table") => {
                        let plist: Vec<Value> = items.map(|n| n.to_value()).collect();
                        let table = self.hash_table(&plist)?;
                        self.form.truncate(at);
                        self.form.push_value(&table);
                    }
                    Some(_) => {}
                    None => return Err(self.error("empty record")),
                }
            }
            'x' | 'X' => self.read_radix(16)?,
            'o' | 'O' => self.read_radix(8)?,
            'b' | 'B' => self.read_radix(2)?,
            '0'..='9' => {
                let digits = format!("{ch}{}", self.take_while(|b| b.is_ascii_digit()));
                let n: u64 = digits.parse().map_err(|_| self.error("bad `#N` number"))?;
                match self.next_char().and_then(char::from_u32) {
                    Some('r') => {
                        if !(2..=36).contains(&n) {
                            return Err(self.error("radix out of range"));
                        }
                        self.read_radix(n as u32)?
                    }
                    Some('=') => {
                        let at = self.form.len();
                        self.read_value("a `#N=` label")?;
                        self.labels.insert(n, self.form.bytes_from(at).to_vec());
                    }
                    Some('#') => {
                        let value = self
                            .labels
                            .get(&n)
                            .ok_or_else(|| self.error(format!("undefined label #{n}#")))?;
                        self.form.extend(value);
                    }
                    _ => return Err(self.error("unknown `#N` syntax")),
                }
            }
            _ => return Err(self.error(format!("unknown `#{ch}` syntax"))),
        }
        Ok(true)
    }

    fn hash_table(&self, plist: &[Value]) -> Result<Value, ReadError> {
        let mut table = HashTableValue {
            test: "eql".into(),
            weakness: None,
            data: Vec::new(),
            purecopy: false,
        };
        for pair in plist.chunks(2) {
            let (Some(key), Some(value)) = (pair[0].as_symbol(), pair.get(1)) else {
                return Err(self.error("malformed #s(hash-table …)"));
            };
            match key {
                "test" => table.test = value.as_symbol().unwrap_or("eql").to_string(),
                "weakness" if !value.is_nil() => {
                    table.weakness = value.as_symbol().map(str::to_string)
                }
                "purecopy" => table.purecopy = !value.is_nil(),
                "data" => {
                    let items = value
                        .as_list()
                        .ok_or_else(|| self.error("hash-table data must be a list"))?;
                    for kv in items.chunks(2) {
                        let v = kv.get(1).cloned().unwrap_or_else(Value::nil);
                        // A later binding of an equal key replaces the earlier one.
                        match table.data.iter_mut().find(|(k, _)| *k == kv[0]) {
                            Some(slot) => slot.1 = v,
                            None => table.data.push((kv[0].clone(), v)),
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Value::HashTable(Box::new(table)))
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> String {
        let mut taken = Vec::new();
        while let Some(b) = self.byte(0).filter(|&b| keep(b)) {
            taken.push(b);
            self.at += 1;
            if b == b'\n' {
                self.newlines += 1;
            }
        }
        String::from_utf8_lossy(&taken).into_owned()
    }

    /// An integer in base `radix` (appended).
    fn read_radix(&mut self, radix: u32) -> Result<(), ReadError> {
        let token = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'+');
        let (negative, digits) = match token.as_bytes().first() {
            Some(b'-') => (true, &token[1..]),
            Some(b'+') => (false, &token[1..]),
            _ => (false, &token[..]),
        };
        let n = BigInt::from_str_radix(digits, radix)
            .map_err(|_| self.error(format!("invalid base-{radix} integer `{token}`")))?;
        self.form
            .push_value(&Value::integer(if negative { -n } else { n }));
        Ok(())
    }

    /// Reads a string literal's bytes onto `bytes` (growing it by
    /// [`form::room`]): whether it is multibyte.
    fn read_string(&mut self, bytes: &mut Vec<u8>) -> Result<bool, ReadError> {
        // Characters in the internal encoding; a unibyte string's are
        // ASCII or raw bytes, narrowed to bytes at the end.
        let start = bytes.len();
        let push = |bytes: &mut Vec<u8>, c| {
            form::room(bytes, 5);
            push_char(bytes, c);
        };
        let (mut force_multibyte, mut force_singlebyte) = (false, false);
        loop {
            let c = self.expect_char("a string")?;
            if c == u32::from(b'"') {
                break;
            }
            if c == u32::from(b'\\') {
                let Some(escaped) = self.read_escape(true)? else {
                    continue;
                };
                let mut modifiers = escaped & MODIFIERS;
                let mut ch = escaped & !MODIFIERS;
                if char_is_byte8(ch) {
                    force_singlebyte = true;
                } else if ch >= 0x80 {
                    force_multibyte = true;
                } else {
                    if modifiers == CTRL {
                        if ch == u32::from(b' ') {
                            (ch, modifiers) = (0, 0);
                        } else if ch == u32::from(b'?') {
                            (ch, modifiers) = (127, 0);
                        }
                    }
                    if modifiers & SHIFT != 0 {
                        if (u32::from(b'A')..=u32::from(b'Z')).contains(&ch) {
                            modifiers &= !SHIFT;
                        } else if (u32::from(b'a')..=u32::from(b'z')).contains(&ch) {
                            ch -= 32;
                            modifiers &= !SHIFT;
                        }
                    }
                    if modifiers & META != 0 {
                        modifiers &= !META;
                        ch = byte8_to_char((ch | 0x80) as u8);
                        force_singlebyte = true;
                    }
                }
                if modifiers != 0 {
                    return Err(self.error("invalid modifier in string"));
                }
                push(bytes, ch);
            } else {
                if char_is_byte8(c) {
                    force_singlebyte = true;
                } else if c >= 0x80 {
                    force_multibyte = true;
                }
                push(bytes, c);
            }
        }
        let _ = force_singlebyte;
        if !force_multibyte {
            let (mut from, mut to) = (start, start);
            while from < bytes.len() {
                let (c, len) = decode_char(&bytes[from..]);
                bytes[to] = (c & 0xFF) as u8;
                (from, to) = (from + len, to + 1);
            }
            bytes.truncate(to);
        }
        Ok(force_multibyte)
    }

    fn read_char_literal(&mut self) -> Result<i64, ReadError> {
        let c = self.expect_char("a character literal")?;
        let c = if c == u32::from(b'\\') {
            match self.read_escape(false)? {
                Some(u32::MAX) => return Ok(-1),
                escaped => escaped.unwrap_or(u32::from(b' ')),
            }
        } else {
            c
        };
        let modifiers = c & MODIFIERS;
        let mut ch = c & !MODIFIERS;
        if char_is_byte8(ch) {
            ch &= 0xFF;
        }
        Ok(i64::from(ch | modifiers))
    }

    /// After a backslash. `None` for the ignored `\<newline>` and `\<space>`
    /// of strings.
    fn read_escape(&mut self, in_string: bool) -> Result<Option<u32>, ReadError> {
        let c = self.expect_char("an escape sequence")?;
        let ch = char::from_u32(c).unwrap_or('\0');
        let value = match ch {
            'a' => 7,
            'b' => 8,
            'd' => 127,
            'e' => 27,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            't' => 9,
            'v' => 11,
            // Emacs 28 reads `?\<newline>` as -1 (its "ignore" marker).
            '\n' => return Ok(if in_string { None } else { Some(u32::MAX) }),
            ' ' => return Ok(if in_string { None } else { Some(32) }),
            'M' => self.modifier(META)?,
            'S' => self.modifier(SHIFT)?,
            'H' => self.modifier(HYPER)?,
            'A' => self.modifier(ALT)?,
            's' => {
                if !in_string && self.peek_char().map(|p| p.0) == Some(u32::from(b'-')) {
                    self.modifier(SUPER)?
                } else {
                    32
                }
            }
            'C' => {
                if self.next_char() != Some(u32::from(b'-')) {
                    return Err(self.error("invalid escape `\\C`"));
                }
                self.control()?
            }
            '^' => self.control()?,
            '0'..='7' => {
                let mut n = c - u32::from(b'0');
                for _ in 0..2 {
                    match self.byte(0) {
                        Some(d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            self.at += 1;
                        }
                        _ => break,
                    }
                }
                if (0x80..0x100).contains(&n) {
                    byte8_to_char(n as u8)
                } else {
                    n
                }
            }
            'x' => {
                let digits = self.take_while(|b| b.is_ascii_hexdigit());
                let n = u32::from_str_radix(if digits.is_empty() { "0" } else { &digits }, 16)
                    .ok()
                    .filter(|&n| n <= 0x3F_FFFF)
                    .ok_or_else(|| self.error("hex escape out of range"))?;
                if digits.len() < 3 && n >= 0x80 {
                    byte8_to_char(n as u8)
                } else {
                    n
                }
            }
            'u' | 'U' => {
                let count = if ch == 'u' { 4 } else { 8 };
                self.fill(count);
                let digits = self.buf[self.at..self.end].get(..count).unwrap_or(&[]);
                let n = std::str::from_utf8(digits)
                    .ok()
                    .filter(|d| d.len() == count)
                    .and_then(|d| u32::from_str_radix(d, 16).ok())
                    .filter(|&n| n <= 0x10_FFFF)
                    .ok_or_else(|| self.error("invalid \\u escape"))?;
                self.at += count;
                n
            }
            'N' => {
                if self.next_char() != Some(u32::from(b'{')) {
                    return Err(self.error("`\\N` must be followed by `{`"));
                }
                let name = self.take_while(|b| b != b'}');
                self.skip_bytes(1);
                let words: Vec<&str> = name.split_whitespace().collect();
                let name = words.join(" ");
                if let Some(hex) = name.strip_prefix("U+") {
                    u32::from_str_radix(hex, 16)
                        .ok()
                        .filter(|&n| n <= 0x10_FFFF)
                        .ok_or_else(|| self.error(format!("invalid character \\N{{{name}}}")))?
                } else {
                    // No Unicode name starts with a hyphen, and unicode_names2
                    // overflows on one that does.
                    let found = if name.starts_with('-') {
                        None
                    } else {
                        unicode_names2::character(&name)
                    };
                    found
                        .map(u32::from)
                        .ok_or_else(|| self.error(format!("unknown character name {name}")))?
                }
            }
            _ => c,
        };
        Ok(Some(value))
    }

    fn modifier(&mut self, bit: u32) -> Result<u32, ReadError> {
        if self.next_char() != Some(u32::from(b'-')) {
            return Err(self.error("invalid modifier escape"));
        }
        Ok(self.escaped_or_plain()? | bit)
    }

    fn escaped_or_plain(&mut self) -> Result<u32, ReadError> {
        let c = self.expect_char("an escape sequence")?;
        if c == u32::from(b'\\') {
            Ok(self.read_escape(false)?.unwrap_or(32))
        } else {
            Ok(c)
        }
    }

    fn control(&mut self) -> Result<u32, ReadError> {
        let c = self.escaped_or_plain()?;
        let (base, mods) = (c & !MODIFIERS, c & MODIFIERS);
        Ok(if base == u32::from(b'?') {
            127 | mods
        } else if base >= 0x80 {
            c | CTRL
        } else if (0o101..=0o132).contains(&(c & 0o137)) || (0o100..=0o137).contains(&(c & 0o177)) {
            c & (0o37 | !0o177)
        } else {
            c | CTRL
        })
    }

    /// Reads a symbol or a number (appended): after `#:` (`uninterned`)
    /// an uninterned symbol, named by the number's printed form if the
    /// name reads as one.
    fn read_atom(&mut self, uninterned: bool) -> Result<(), ReadError> {
        // Gathered in the reader's own buffer, reused for the next atom.
        let mut name = std::mem::take(&mut self.name);
        name.clear();
        let number = self.read_atom_into(&mut name);
        if let Ok(number) = &number {
            let text = match number {
                Some(n) if !uninterned => {
                    self.form.push_value(n);
                    None
                }
                Some(n) => Some(n.to_lisp_string()),
                None => Some(String::from_utf8_lossy(&name).into_owned()),
            };
            match text {
                Some(text) if uninterned => self.form.push_uninterned(&text),
                Some(text) => self.form.push_symbol(&text),
                None => {}
            }
        }
        if name.capacity() <= MAX_KEPT_NAME {
            self.name = name;
        }
        number.map(drop)
    }

    /// Reads the bytes of a symbol or number into `name`: the number, if
    /// it is one.
    fn read_atom_into(&mut self, name: &mut Vec<u8>) -> Result<Option<Value>, ReadError> {
        let mut escaped = false;
        while let Some((c, len)) = self.peek_char() {
            if c <= 0x20 || c == NO_BREAK_SPACE || (c < 0x80 && b"\"';()[]#`,".contains(&(c as u8)))
            {
                break;
            }
            self.at += len;
            if c == u32::from(b'\\') {
                let e = self.expect_char("a symbol")?;
                escaped = true;
                push_char(name, e);
            } else {
                push_char(name, c);
            }
        }
        Ok(if escaped { None } else { parse_number(name) })
    }
}

/// A sequence read into the form, its header not yet complete.
struct OpenSeq {
    /// Where its header is.
    at: usize,
    /// Its elements before a dot.
    items: usize,
    /// Where the final cdr after a dot is.
    tail: Option<usize>,
}

fn open_of(close: u8) -> char {
    if close == b')' {
        '('
    } else {
        '['
    }
}

/// Emacs's number syntax: `[+-]digits[.]` is an integer; a float needs
/// digits after a dot or an exponent (`e+INF` and `e+NaN` included).
fn parse_number(token: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(token).ok()?;
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lead = body.bytes().take_while(u8::is_ascii_digit).count();
    let mut rest = &body[lead..];
    // Integer: digits, optional trailing dot.
    if lead > 0 && (rest.is_empty() || rest == ".") {
        let n: BigInt = body[..lead].parse().ok()?;
        return Some(Value::integer(if negative { -n } else { n }));
    }
    let mut trail = 0;
    if let Some(after) = rest.strip_prefix('.') {
        trail = after.bytes().take_while(u8::is_ascii_digit).count();
        rest = &after[trail..];
    }
    let mantissa_end = body.len() - rest.len();
    let sign = if negative { -1.0 } else { 1.0 };
    if rest.is_empty() {
        if trail == 0 {
            return None;
        }
        return Some(Value::Float(sign * body.parse::<f64>().ok()?));
    }
    let exp = rest.strip_prefix(['e', 'E'])?;
    if lead == 0 && trail == 0 {
        return None;
    }
    match exp {
        "+INF" => return Some(Value::Float(sign * f64::INFINITY)),
        "+NaN" => return Some(Value::Float(f64::NAN.copysign(sign))),
        _ => {}
    }
    let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mantissa = &body[..mantissa_end];
    let literal = format!("{}e{exp}", mantissa.strip_suffix('.').unwrap_or(mantissa));
    Some(Value::Float(sign * literal.parse::<f64>().ok()?))
}
