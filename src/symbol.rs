//! Symbols and strings of x86_64 Emacs 27–30, read through the object graph.
//!
//! A `Lisp_Symbol` is 48 bytes: a flags word, then `name`, `value`,
//! `function`, `plist` and the obarray-bucket `next` pointer, one word each
//! (verified on the 28.2 distribution dump: every name slot carries a
//! `DUMP_TO_DUMP_LV+string` relocation, every `next` a raw pointer). A
//! `Lisp_String` is `size`, `size_byte` (negative: unibyte), `intervals` and
//! a `data` pointer, which a raw relocation points into the cold region, or
//! into the executable for names that are C string literals. Those names can
//! only be read with the executable, see [`crate::executable`].

use crate::dump::Dump;
use crate::error::{Error, Result};
use crate::executable::Executable;
use crate::graph::{Graph, NodeKind, SYMBOL_SIZE};
use crate::lisp::LispType;

/// A word of a symbol that can point at another object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolSlot {
    Name,
    Value,
    Function,
    Plist,
    /// The next symbol in the same obarray bucket.
    Next,
}

impl SymbolSlot {
    pub const ALL: [SymbolSlot; 5] = [
        SymbolSlot::Name,
        SymbolSlot::Value,
        SymbolSlot::Function,
        SymbolSlot::Plist,
        SymbolSlot::Next,
    ];

    /// Byte offset of the slot inside the symbol.
    pub fn offset(self) -> u64 {
        match self {
            SymbolSlot::Name => 8,
            SymbolSlot::Value => 16,
            SymbolSlot::Function => 24,
            SymbolSlot::Plist => 32,
            SymbolSlot::Next => 40,
        }
    }

    /// The slot at `relative` bytes into a symbol.
    pub fn at(relative: u64) -> Option<SymbolSlot> {
        SymbolSlot::ALL.into_iter().find(|s| s.offset() == relative)
    }

    pub fn name(self) -> &'static str {
        match self {
            SymbolSlot::Name => "name",
            SymbolSlot::Value => "value",
            SymbolSlot::Function => "function",
            SymbolSlot::Plist => "plist",
            SymbolSlot::Next => "next",
        }
    }
}

/// Where a string's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringData {
    /// At this offset of the dump.
    Dump(u64),
    /// In the executable, this many bytes from `emacs_basis` (a C literal).
    Executable(i64),
}

/// The header of a `Lisp_String`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LispString {
    pub chars: u64,
    /// Bytes of data (without the terminating NUL).
    pub bytes: u64,
    pub multibyte: bool,
    pub data: StringData,
}

/// Reads the string object at node `node`.
pub fn lisp_string(dump: &Dump<'_>, graph: &Graph, node: u32) -> Result<LispString> {
    let offset = u64::from(graph.node(node).offset);
    let size = dump.word_at(offset)? as i64;
    let size_byte = dump.word_at(offset + 8)? as i64;
    let data_word = dump.word_at(offset + 24)?;
    let bad = |problem: String| Error::BadData {
        what: "string",
        offset,
        problem,
    };
    let chars = u64::try_from(size).map_err(|_| bad(format!("size {size} is negative")))?;
    let (bytes, multibyte) = match u64::try_from(size_byte) {
        Ok(b) => (b, true),
        Err(_) => (chars, false),
    };
    if bytes > dump.size() {
        return Err(bad(format!("{bytes} bytes of data exceed the file")));
    }
    let data = if graph.edge_at(node, offset + 24).is_some() {
        StringData::Dump(data_word)
    } else {
        StringData::Executable(data_word as i64)
    };
    Ok(LispString {
        chars,
        bytes,
        multibyte,
        data,
    })
}

/// Names symbols: from the dump, and from the executable for names that
/// are C literals when one is given.
pub struct SymbolNames<'d, 'a, 'e> {
    dump: &'d Dump<'a>,
    graph: &'d Graph,
    executable: Option<&'e Executable>,
}

impl<'d, 'a, 'e> SymbolNames<'d, 'a, 'e> {
    pub fn new(dump: &'d Dump<'a>, graph: &'d Graph, executable: Option<&'e Executable>) -> Self {
        SymbolNames {
            dump,
            graph,
            executable,
        }
    }

    /// The name of the symbol at node `node`, or `None` when the node is not
    /// a symbol or its name cannot be read (a C literal without executable).
    pub fn name(&self, node: u32) -> Option<String> {
        self.name_bytes(node)
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    }

    /// The bytes of the name of the symbol at node `node`, as [`Self::name`]
    /// reads them, without making a `String`.
    pub fn name_bytes(&self, node: u32) -> Option<&[u8]> {
        if !self.graph.node(node).kind.is_symbol() {
            return None;
        }
        let offset = u64::from(self.graph.node(node).offset);
        let string = self
            .graph
            .edge_at(node, offset + SymbolSlot::Name.offset())?;
        if self.graph.node(string).kind != NodeKind::Object(LispType::String) {
            return None;
        }
        let s = lisp_string(self.dump, self.graph, string).ok()?;
        let bytes = match s.data {
            StringData::Dump(at) => self.dump.bytes_at(at, s.bytes, "string data").ok()?,
            StringData::Executable(rel) => self.executable?.bytes_at(rel, s.bytes)?,
        };
        Some(bytes)
    }

    /// Every symbol node with the name `name`.
    pub fn find(&self, name: &str) -> Vec<u32> {
        (0..self.graph.len() as u32)
            .filter(|&i| self.graph.node(i).kind.is_symbol())
            .filter(|&i| self.name(i).as_deref() == Some(name))
            .collect()
    }

    /// Whether names that are C literals can be read.
    pub fn has_executable(&self) -> bool {
        self.executable.is_some()
    }
}

/// The slot of symbol node `symbol` whose edge points at `target`, if any.
pub fn slot_pointing_at(graph: &Graph, symbol: u32, target: u32) -> Option<SymbolSlot> {
    let base = u64::from(graph.node(symbol).offset);
    graph
        .edges(symbol)
        .find(|&(t, site)| t == target && site < base + SYMBOL_SIZE)
        .and_then(|(_, site)| SymbolSlot::at(site - base))
}
