//! Lisp object tags and the vectorlike header word of x86_64 Emacs builds.
//!
//! Relocations and object starts carry a 3-bit `Lisp_Type` tag; vectorlike
//! objects further say what they are in their first word. These are the
//! vocabulary every table view and every analysis shares.

/// The `Lisp_Type` tag of a `Lisp_Object` (low three bits, `USE_LSB_TAG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LispType {
    Symbol = 0,
    Unused1 = 1,
    Fixnum0 = 2,
    Cons = 3,
    String = 4,
    Vectorlike = 5,
    Fixnum1 = 6,
    Float = 7,
}

impl LispType {
    pub const ALL: [LispType; 8] = [
        LispType::Symbol,
        LispType::Unused1,
        LispType::Fixnum0,
        LispType::Cons,
        LispType::String,
        LispType::Vectorlike,
        LispType::Fixnum1,
        LispType::Float,
    ];

    /// The tag for a 3-bit value; `None` above 7.
    pub fn from_tag(tag: u32) -> Option<LispType> {
        LispType::ALL.get(tag as usize).copied()
    }

    pub fn tag(self) -> u8 {
        self as u8
    }

    /// Whether objects of this type are heap objects with an object start
    /// (symbols, conses, strings, vectorlikes, floats).
    pub fn is_heap_object(self) -> bool {
        matches!(
            self,
            LispType::Symbol
                | LispType::Cons
                | LispType::String
                | LispType::Vectorlike
                | LispType::Float
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            LispType::Symbol => "symbol",
            LispType::Unused1 => "unused1",
            LispType::Fixnum0 => "fixnum0",
            LispType::Cons => "cons",
            LispType::String => "string",
            LispType::Vectorlike => "vectorlike",
            LispType::Fixnum1 => "fixnum1",
            LispType::Float => "float",
        }
    }
}

/// Bit 62 of a vectorlike header: the object is a pseudovector.
pub const PSEUDOVECTOR_FLAG: u64 = 1 << 62;
/// Bit 63 of a vectorlike header: the GC mark, always clear in a dump.
pub const ARRAY_MARK_FLAG: u64 = 1 << 63;

/// The first word (`vectorlike_header.size`) of a vectorlike object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VectorHeader(pub u64);

impl VectorHeader {
    pub fn is_marked(self) -> bool {
        self.0 & ARRAY_MARK_FLAG != 0
    }

    pub fn is_pseudovector(self) -> bool {
        self.0 & PSEUDOVECTOR_FLAG != 0
    }

    /// The pvec type number; 0 (`PVEC_NORMAL_VECTOR`) for a plain vector.
    pub fn pvec_type(self) -> u8 {
        if self.is_pseudovector() {
            ((self.0 >> 24) & 0x3f) as u8
        } else {
            0
        }
    }

    /// Element count of a plain vector.
    pub fn plain_len(self) -> Option<u64> {
        (!self.is_pseudovector()).then_some(self.0 & !(ARRAY_MARK_FLAG | PSEUDOVECTOR_FLAG))
    }

    /// Leading Lisp slots of a pseudovector (bits 0..11).
    pub fn lisp_slots(self) -> u64 {
        self.0 & 0xfff
    }

    /// Non-Lisp words after the Lisp slots of a pseudovector (bits 12..23).
    pub fn rest_words(self) -> u64 {
        (self.0 >> 12) & 0xfff
    }

    /// A header word with the given pvec type and no size fields: what
    /// statically allocated objects such as built-in subrs carry.
    pub fn bare_pseudovector(pvec_type: u8) -> VectorHeader {
        VectorHeader(PSEUDOVECTOR_FLAG | (u64::from(pvec_type) << 24))
    }
}
