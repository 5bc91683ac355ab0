//! Byte layouts of heap objects in the x86_64 model the dumper writes and
//! the loader reads: field offsets, sizes and header words.

use crate::lisp::PSEUDOVECTOR_FLAG;
use crate::pvec::PvecNumbering;

pub const CONS_SIZE: u64 = 16;

/// `struct Lisp_String`: size (chars), size_byte (-1 when unibyte),
/// intervals, data pointer.
pub mod string {
    pub const SIZE: u64 = 32;
    pub const CHARS: u64 = 0;
    pub const BYTES: u64 = 8;
    pub const INTERVALS: u64 = 16;
    pub const DATA: u64 = 24;
}

/// `struct Lisp_Symbol`: a flags word, then name, value, function, plist
/// and the obarray `next` pointer.
pub mod symbol {
    pub const FLAGS: u64 = 0;
    pub const NAME: u64 = 8;
    pub const VALUE: u64 = 16;
    pub const FUNCTION: u64 = 24;
    pub const PLIST: u64 = 32;
    pub const NEXT: u64 = 40;
    /// `redirect` = SYMBOL_PLAINVAL (4), in bits 1..3.
    pub const PLAINVAL: u64 = 4 << 1;
    /// `trapped_write` = SYMBOL_NOWRITE (1), in bits 4..5.
    pub const NOWRITE: u64 = 1 << 4;
    /// `interned` = SYMBOL_INTERNED_IN_INITIAL_OBARRAY (2), in bits 6..7.
    pub const INTERNED: u64 = 2 << 6;
    /// `declared_special`, bit 8.
    pub const SPECIAL: u64 = 1 << 8;
}

/// The reference runtime's subr: header, function pointer, arity, name
/// pointer, interactive spec, doc.
pub mod subr {
    pub const FUNCTION: u64 = 8;
    pub const MIN_ARGS: u64 = 16;
    pub const MAX_ARGS: u64 = 18;
    pub const NAME: u64 = 24;
    pub const INTSPEC: u64 = 32;
    pub const DOC: u64 = 40;
}

/// `struct Lisp_Hash_Table`: four Lisp slots (weak, hash, next, index),
/// then count, next_free, flags and rehash parameters, key_and_value, the
/// test (name, two user functions, two function pointers) and next_weak.
pub mod hash_table {
    pub const SIZE: u64 = 128;
    pub const LISP_SLOTS: u64 = 4;
    pub const WEAK: u64 = 8;
    pub const HASH: u64 = 16;
    pub const NEXT: u64 = 24;
    pub const INDEX: u64 = 32;
    pub const COUNT: u64 = 40;
    pub const NEXT_FREE: u64 = 48;
    pub const PURECOPY: u64 = 56;
    pub const REHASH_THRESHOLD: u64 = 60;
    pub const REHASH_SIZE: u64 = 64;
    pub const KEY_AND_VALUE: u64 = 72;
    pub const TEST_NAME: u64 = 80;
    pub const USER_HASH: u64 = 88;
    pub const USER_CMP: u64 = 96;
    pub const CMPFN: u64 = 104;
    pub const HASHFN: u64 = 112;
    pub const NEXT_WEAK: u64 = 120;
}

/// `struct Lisp_Bignum`: header, then `{int32 data_location, int32 nlimbs}`
/// in the dump (a GMP `mpz` once loaded).
pub const BIGNUM_SIZE: u64 = 24;

/// Fixnum tag: `make_fixnum(n)` is `n << 2 | 2`.
pub fn fixnum(n: i64) -> u64 {
    ((n as u64) << 2) | 2
}

/// A pseudovector header word.
pub fn pseudo_header(pvec: u8, lisp_slots: u64, rest_words: u64) -> u64 {
    PSEUDOVECTOR_FLAG | (u64::from(pvec) << 24) | (rest_words << 12) | lisp_slots
}

/// The pseudovector types the dumper writes, independent of any Emacs
/// version's numbering (see [`Pvecs::number`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PvecKind {
    NormalVector,
    Bignum,
    BoolVector,
    HashTable,
    Subr,
    Compiled,
    CharTable,
    SubCharTable,
    Record,
}

impl PvecKind {
    pub const ALL: [PvecKind; 9] = [
        PvecKind::NormalVector,
        PvecKind::Bignum,
        PvecKind::BoolVector,
        PvecKind::HashTable,
        PvecKind::Subr,
        PvecKind::Compiled,
        PvecKind::CharTable,
        PvecKind::SubCharTable,
        PvecKind::Record,
    ];
}

/// The pvec numbers a dump of one Emacs version uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pvecs {
    pub normal_vector: u8,
    pub bignum: u8,
    pub bool_vector: u8,
    pub hash_table: u8,
    pub subr: u8,
    pub compiled: u8,
    pub char_table: u8,
    pub sub_char_table: u8,
    pub record: u8,
}

impl Pvecs {
    pub fn of(numbering: PvecNumbering) -> Pvecs {
        let n = |name: &str| {
            numbering
                .type_number(name)
                .or_else(|| (name == "COMPILED").then(|| numbering.type_number("CLOSURE"))?)
                .expect("every version has these types")
        };
        Pvecs {
            normal_vector: n("NORMAL_VECTOR"),
            bignum: n("BIGNUM"),
            bool_vector: n("BOOL_VECTOR"),
            hash_table: n("HASH_TABLE"),
            subr: n("SUBR"),
            compiled: n("COMPILED"),
            char_table: n("CHAR_TABLE"),
            sub_char_table: n("SUB_CHAR_TABLE"),
            record: n("RECORD"),
        }
    }

    /// The number of a pseudovector type in this version.
    pub fn number(&self, kind: PvecKind) -> u8 {
        match kind {
            PvecKind::NormalVector => self.normal_vector,
            PvecKind::Bignum => self.bignum,
            PvecKind::BoolVector => self.bool_vector,
            PvecKind::HashTable => self.hash_table,
            PvecKind::Subr => self.subr,
            PvecKind::Compiled => self.compiled,
            PvecKind::CharTable => self.char_table,
            PvecKind::SubCharTable => self.sub_char_table,
            PvecKind::Record => self.record,
        }
    }
}
