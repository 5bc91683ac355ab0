//! The Emacs Lisp reader: source text to [`Value`]s, as Emacs 28's `read`
//! does it (numbers, strings and characters with every escape, symbols,
//! quote shorthands, dotted lists, vectors, `#` syntaxes, comments).
//!
//! Source bytes are decoded as UTF-8; bytes that are not valid UTF-8 become
//! raw-byte characters, as Emacs's own `utf-8` decoding makes them.

use crate::value::{
    byte8_to_char, char_is_byte8, decode_char, push_char, HashTableValue, LispString, Value,
};
use num_bigint::BigInt;
use num_traits::Num;
use std::collections::HashMap;
use std::io::Read as _;
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
/// Nesting beyond this is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 2000;

/// Reads the top-level forms of a source file (`.el`, or `.el.gz` unpacked).
pub fn read_file(path: &Path) -> Result<Vec<Value>, String> {
    let text = read_source_bytes(path)?;
    read_all(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bytes of a source file, gunzipped when its name ends in `.gz`.
pub fn read_source_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let about = |e: std::io::Error| format!("{}: {e}", path.display());
    if path.extension().is_none_or(|e| e != "gz") {
        return std::fs::read(path).map_err(about);
    }
    let mut file = std::fs::File::open(path).map_err(about)?;
    let mut text = Vec::with_capacity(gzip_size_hint(&mut file).map_err(about)?);
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_end(&mut text)
        .map_err(|e| format!("{}: not a gzip file: {e}", path.display()))?;
    Ok(text)
}

/// The unpacked size a gzip file's trailer states (ISIZE), no more than
/// deflate's largest ratio allows, so the text is read into a buffer of
/// its size instead of one grown by doubling; a wrong trailer only costs
/// regrowth. Leaves the file at its start.
fn gzip_size_hint(file: &mut std::fs::File) -> std::io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata()?.len();
    let mut isize = [0u8; 4];
    if len >= 18 {
        file.seek(SeekFrom::End(-4))?;
        file.read_exact(&mut isize)?;
        file.seek(SeekFrom::Start(0))?;
    }
    let stated = u64::from(u32::from_le_bytes(isize));
    Ok(stated.min(len.saturating_mul(1032)) as usize)
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

/// A reader over a byte buffer.
pub struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
    depth: usize,
    labels: HashMap<u64, Value>,
}

enum Token {
    Value(Value),
    Close(u8),
    Dot,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a [u8]) -> Reader<'a> {
        let mut reader = Reader {
            text,
            pos: 0,
            depth: 0,
            labels: HashMap::new(),
        };
        if text.starts_with(b"#!") {
            reader.skip_line();
        }
        reader
    }

    fn error(&self, message: impl Into<String>) -> ReadError {
        let upto = self.pos.min(self.text.len());
        ReadError {
            offset: self.pos,
            line: 1 + self.text[..upto].iter().filter(|&&b| b == b'\n').count(),
            message: message.into(),
        }
    }

    /// The next top-level form, or `None` at the end of the text.
    pub fn read_next(&mut self) -> Result<Option<Value>, ReadError> {
        match self.token()? {
            None => Ok(None),
            Some(Token::Value(v)) => Ok(Some(v)),
            Some(Token::Close(c)) => Err(self.error(format!("unexpected `{}`", c as char))),
            Some(Token::Dot) => Err(self.error("unexpected `.`")),
        }
    }

    fn peek_char(&self) -> Option<(u32, usize)> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        let b = rest[0];
        if b < 0x80 {
            return Some((u32::from(b), 1));
        }
        // Emacs's own extended UTF-8 (characters up to 0x3FFF7F); a
        // malformed sequence is a raw byte.
        Some(decode_char(rest))
    }

    fn next_char(&mut self) -> Option<u32> {
        let (c, len) = self.peek_char()?;
        self.pos += len;
        Some(c)
    }

    fn expect_char(&mut self, what: &str) -> Result<u32, ReadError> {
        self.next_char()
            .ok_or_else(|| self.error(format!("end of input inside {what}")))
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.next_char() {
            if c == u32::from(b'\n') {
                break;
            }
        }
    }

    fn skip_space(&mut self) {
        while let Some((c, len)) = self.peek_char() {
            if c <= 0x20 || c == NO_BREAK_SPACE {
                self.pos += len;
            } else if c == u32::from(b';') {
                self.skip_line();
            } else {
                break;
            }
        }
    }

    fn read_value(&mut self, what: &str) -> Result<Value, ReadError> {
        match self.token()? {
            Some(Token::Value(v)) => Ok(v),
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
        result
    }

    fn token_inner(&mut self) -> Result<Option<Token>, ReadError> {
        self.skip_space();
        let Some(c) = self.next_char() else {
            return Ok(None);
        };
        let value = match char::from_u32(c).unwrap_or('\0') {
            '(' => self.read_seq(b')')?.into_list(),
            '[' => Value::Vector(self.read_seq(b']')?.items),
            ')' => return Ok(Some(Token::Close(b')'))),
            ']' => return Ok(Some(Token::Close(b']'))),
            '"' => Value::Str(self.read_string()?),
            '\'' => self.quoted("quote")?,
            '`' => self.quoted("`")?,
            ',' => {
                if self.peek_char().map(|p| p.0) == Some(u32::from(b'@')) {
                    self.pos += 1;
                    self.quoted(",@")?
                } else {
                    self.quoted(",")?
                }
            }
            '?' => self.read_char_literal()?,
            '#' => match self.read_hash()? {
                Some(v) => v,
                None => return self.token_inner(),
            },
            '.' if self.at_delimiter_for_dot() => return Ok(Some(Token::Dot)),
            _ => {
                self.pos -= char_len(c);
                self.read_atom()?
            }
        };
        Ok(Some(Token::Value(value)))
    }

    fn at_delimiter_for_dot(&self) -> bool {
        match self.peek_char() {
            None => true,
            Some((c, _)) => {
                c <= 0x20
                    || c == NO_BREAK_SPACE
                    || (c < 0x80 && b"\"';()[#?`,".contains(&(c as u8)))
            }
        }
    }

    fn quoted(&mut self, head: &str) -> Result<Value, ReadError> {
        let v = self.read_value("a quoted form")?;
        Ok(Value::list(vec![Value::sym(head), v]))
    }

    fn read_seq(&mut self, close: u8) -> Result<Seq, ReadError> {
        let mut items = Vec::new();
        loop {
            match self.token()? {
                Some(Token::Value(v)) => items.push(v),
                Some(Token::Close(c)) if c == close => {
                    return Ok(Seq {
                        items,
                        tail: Value::nil(),
                    })
                }
                Some(Token::Close(c)) => {
                    return Err(self.error(format!(
                        "`{}` closes a `{}`",
                        c as char,
                        open_of(close)
                    )))
                }
                Some(Token::Dot) if close == b')' => {
                    if items.is_empty() {
                        return Err(self.error("`.` at the start of a list"));
                    }
                    let tail = self.read_value("a dotted list")?;
                    match self.token()? {
                        Some(Token::Close(b')')) => return Ok(Seq { items, tail }),
                        _ => return Err(self.error("more than one object after `.`")),
                    }
                }
                Some(Token::Dot) => items.push(Value::sym(".")),
                None => return Err(self.error(format!("end of input inside `{}`", open_of(close)))),
            }
        }
    }

    /// After `#`: `None` when the syntax is skipped (`#@N`, `#!`).
    fn read_hash(&mut self) -> Result<Option<Value>, ReadError> {
        let c = self.expect_char("`#` syntax")?;
        let ch = char::from_u32(c).unwrap_or('\0');
        Ok(Some(match ch {
            '\'' => self.quoted("function")?,
            ':' => match self.read_atom()? {
                Value::Symbol(name) => Value::Uninterned(name),
                Value::Uninterned(name) => Value::Uninterned(name),
                other => Value::Uninterned(other.to_lisp_string()),
            },
            '#' => Value::sym(""),
            '[' => Value::ByteCode(self.read_seq(b']')?.items),
            '^' => {
                let sub = self.text.get(self.pos) == Some(&b'^');
                if sub {
                    self.pos += 1;
                }
                if self.next_char() != Some(u32::from(b'[')) {
                    return Err(self.error("`#^` must be followed by `[`"));
                }
                let items = self.read_seq(b']')?.items;
                if !sub {
                    Value::CharTable(items)
                } else if matches!(items.as_slice(), [Value::Int(_), Value::Int(_), ..]) {
                    Value::SubCharTable(items)
                } else {
                    return Err(
                        self.error("a sub-char-table starts with its depth and first character")
                    );
                }
            }
            '(' => {
                // A string with text properties: keep the string.
                let seq = self.read_seq(b')')?;
                seq.items.into_iter().next().unwrap_or_else(Value::nil)
            }
            '$' => Value::nil(),
            '!' => {
                self.skip_line();
                return Ok(None);
            }
            '@' => {
                let digits = self.take_while(|b| b.is_ascii_digit());
                if digits == "00" {
                    self.pos = self.text.len();
                } else {
                    let n: usize = digits.parse().map_err(|_| self.error("bad `#@` count"))?;
                    // The count includes the one character after the digits.
                    self.pos = self.pos.saturating_add(n).min(self.text.len());
                }
                return Ok(None);
            }
            '&' => {
                let digits = self.take_while(|b| b.is_ascii_digit());
                let len: u64 = digits
                    .parse()
                    .map_err(|_| self.error("bad bool-vector length"))?;
                if self.next_char() != Some(u32::from(b'"')) {
                    return Err(self.error("`#&N` must be followed by a string"));
                }
                let s = self.read_string()?;
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
                Value::BoolVector { len, bytes }
            }
            's' => {
                if self.next_char() != Some(u32::from(b'(')) {
                    return Err(self.error("`#s` must be followed by `(`"));
                }
                let items = self.read_seq(b')')?.items;
                if items.first().and_then(Value::as_symbol) == Some("hash-table") {
                    self.hash_table(&items[1..])?
                } else if items.is_empty() {
                    return Err(self.error("empty record"));
                } else {
                    Value::Record(items)
                }
            }
            'x' | 'X' => self.read_radix(16)?,
            'o' | 'O' => self.read_radix(8)?,
            'b' | 'B' => self.read_radix(2)?,
            '0'..='9' => {
                self.pos -= 1;
                let digits = self.take_while(|b| b.is_ascii_digit());
                let n: u64 = digits.parse().map_err(|_| self.error("bad `#N` number"))?;
                match self.next_char().and_then(char::from_u32) {
                    Some('r') => {
                        if !(2..=36).contains(&n) {
                            return Err(self.error("radix out of range"));
                        }
                        self.read_radix(n as u32)?
                    }
                    Some('=') => {
                        let v = self.read_value("a `#N=` label")?;
                        self.labels.insert(n, v.clone());
                        v
                    }
                    Some('#') => self
                        .labels
                        .get(&n)
                        .cloned()
                        .ok_or_else(|| self.error(format!("undefined label #{n}#")))?,
                    _ => return Err(self.error("unknown `#N` syntax")),
                }
            }
            _ => return Err(self.error(format!("unknown `#{ch}` syntax"))),
        }))
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
        let start = self.pos;
        while self.pos < self.text.len() && keep(self.text[self.pos]) {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.pos]).into_owned()
    }

    fn read_radix(&mut self, radix: u32) -> Result<Value, ReadError> {
        let token = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'+');
        let (negative, digits) = match token.as_bytes().first() {
            Some(b'-') => (true, &token[1..]),
            Some(b'+') => (false, &token[1..]),
            _ => (false, &token[..]),
        };
        let n = BigInt::from_str_radix(digits, radix)
            .map_err(|_| self.error(format!("invalid base-{radix} integer `{token}`")))?;
        Ok(Value::integer(if negative { -n } else { n }))
    }

    fn read_string(&mut self) -> Result<LispString, ReadError> {
        let mut chars: Vec<u32> = Vec::new();
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
                chars.push(ch);
            } else {
                if char_is_byte8(c) {
                    force_singlebyte = true;
                } else if c >= 0x80 {
                    force_multibyte = true;
                }
                chars.push(c);
            }
        }
        if force_multibyte {
            let mut bytes = Vec::with_capacity(chars.len());
            for c in chars {
                push_char(&mut bytes, c);
            }
            Ok(LispString {
                bytes,
                multibyte: true,
            })
        } else {
            let _ = force_singlebyte;
            Ok(LispString {
                bytes: chars.iter().map(|&c| (c & 0xFF) as u8).collect(),
                multibyte: false,
            })
        }
    }

    fn read_char_literal(&mut self) -> Result<Value, ReadError> {
        let c = self.expect_char("a character literal")?;
        let c = if c == u32::from(b'\\') {
            match self.read_escape(false)? {
                Some(u32::MAX) => return Ok(Value::Int(-1)),
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
        Ok(Value::Int(i64::from(ch | modifiers)))
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
                    match self.text.get(self.pos) {
                        Some(d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            self.pos += 1;
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
                let start = self.pos;
                let digits = self.text.get(start..start + count).unwrap_or(&[]);
                let n = std::str::from_utf8(digits)
                    .ok()
                    .filter(|d| d.len() == count)
                    .and_then(|d| u32::from_str_radix(d, 16).ok())
                    .filter(|&n| n <= 0x10_FFFF)
                    .ok_or_else(|| self.error("invalid \\u escape"))?;
                self.pos += count;
                n
            }
            'N' => {
                if self.next_char() != Some(u32::from(b'{')) {
                    return Err(self.error("`\\N` must be followed by `{`"));
                }
                let name = self.take_while(|b| b != b'}');
                self.pos += 1;
                let words: Vec<&str> = name.split_whitespace().collect();
                let name = words.join(" ");
                if let Some(hex) = name.strip_prefix("U+") {
                    u32::from_str_radix(hex, 16)
                        .ok()
                        .filter(|&n| n <= 0x10_FFFF)
                        .ok_or_else(|| self.error(format!("invalid character \\N{{{name}}}")))?
                } else {
                    unicode_names2::character(&name)
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

    fn read_atom(&mut self) -> Result<Value, ReadError> {
        let mut name: Vec<u8> = Vec::new();
        let mut escaped = false;
        while let Some((c, len)) = self.peek_char() {
            if c <= 0x20 || c == NO_BREAK_SPACE || (c < 0x80 && b"\"';()[]#`,".contains(&(c as u8)))
            {
                break;
            }
            self.pos += len;
            if c == u32::from(b'\\') {
                let e = self.expect_char("a symbol")?;
                escaped = true;
                push_char(&mut name, e);
            } else {
                push_char(&mut name, c);
            }
        }
        if !escaped {
            if let Some(n) = parse_number(&name) {
                return Ok(n);
            }
        }
        let text = match String::from_utf8(name) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(Value::Symbol(text))
    }
}

struct Seq {
    items: Vec<Value>,
    tail: Value,
}

impl Seq {
    fn into_list(self) -> Value {
        Value::list_with_tail(self.items, self.tail)
    }
}

fn open_of(close: u8) -> char {
    if close == b')' {
        '('
    } else {
        '['
    }
}

fn char_len(c: u32) -> usize {
    if char_is_byte8(c) {
        1
    } else {
        char::from_u32(c).map_or(1, char::len_utf8)
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
