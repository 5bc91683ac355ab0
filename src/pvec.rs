//! The `pvec_type` numbering of Emacs 27, 28, 29 and 30, and how to tell from
//! a dump which one it was written with.
//!
//! The numbering moved twice (29 inserted SYMBOL_WITH_POS and tree-sitter
//! types, 30 added OBARRAY), so a vectorlike header means nothing until the
//! version is known. The file records no version, but its discardable region
//! holds images of the executable's built-in subrs whose header words carry
//! `PVEC_SUBR` and nothing else: that number gives the version away.

use crate::dump::Dump;
use crate::header::Layout;
use crate::lisp::VectorHeader;

/// One Emacs version's `enum pvec_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PvecNumbering {
    #[serde(rename = "emacs-27")]
    Emacs27,
    #[serde(rename = "emacs-28")]
    Emacs28,
    #[serde(rename = "emacs-29")]
    Emacs29,
    #[serde(rename = "emacs-30")]
    Emacs30,
}

const COMMON: [&str; 6] = [
    "NORMAL_VECTOR",
    "FREE",
    "BIGNUM",
    "MARKER",
    "OVERLAY",
    "FINALIZER",
];

const EMACS_27: [&str; 23] = [
    "MISC_PTR",
    "USER_PTR",
    "PROCESS",
    "FRAME",
    "WINDOW",
    "BOOL_VECTOR",
    "BUFFER",
    "HASH_TABLE",
    "TERMINAL",
    "WINDOW_CONFIGURATION",
    "SUBR",
    "OTHER",
    "XWIDGET",
    "XWIDGET_VIEW",
    "THREAD",
    "MUTEX",
    "CONDVAR",
    "MODULE_FUNCTION",
    "COMPILED",
    "CHAR_TABLE",
    "SUB_CHAR_TABLE",
    "RECORD",
    "FONT",
];

const EMACS_28: [&str; 24] = [
    "MISC_PTR",
    "USER_PTR",
    "PROCESS",
    "FRAME",
    "WINDOW",
    "BOOL_VECTOR",
    "BUFFER",
    "HASH_TABLE",
    "TERMINAL",
    "WINDOW_CONFIGURATION",
    "SUBR",
    "OTHER",
    "XWIDGET",
    "XWIDGET_VIEW",
    "THREAD",
    "MUTEX",
    "CONDVAR",
    "MODULE_FUNCTION",
    "NATIVE_COMP_UNIT",
    "COMPILED",
    "CHAR_TABLE",
    "SUB_CHAR_TABLE",
    "RECORD",
    "FONT",
];

const EMACS_29: [&str; 29] = [
    "SYMBOL_WITH_POS",
    "MISC_PTR",
    "USER_PTR",
    "PROCESS",
    "FRAME",
    "WINDOW",
    "BOOL_VECTOR",
    "BUFFER",
    "HASH_TABLE",
    "TERMINAL",
    "WINDOW_CONFIGURATION",
    "SUBR",
    "OTHER",
    "XWIDGET",
    "XWIDGET_VIEW",
    "THREAD",
    "MUTEX",
    "CONDVAR",
    "MODULE_FUNCTION",
    "NATIVE_COMP_UNIT",
    "TS_PARSER",
    "TS_NODE",
    "TS_COMPILED_QUERY",
    "SQLITE",
    "COMPILED",
    "CHAR_TABLE",
    "SUB_CHAR_TABLE",
    "RECORD",
    "FONT",
];

const EMACS_30: [&str; 30] = [
    "SYMBOL_WITH_POS",
    "MISC_PTR",
    "USER_PTR",
    "PROCESS",
    "FRAME",
    "WINDOW",
    "BOOL_VECTOR",
    "BUFFER",
    "HASH_TABLE",
    "OBARRAY",
    "TERMINAL",
    "WINDOW_CONFIGURATION",
    "SUBR",
    "OTHER",
    "XWIDGET",
    "XWIDGET_VIEW",
    "THREAD",
    "MUTEX",
    "CONDVAR",
    "MODULE_FUNCTION",
    "NATIVE_COMP_UNIT",
    "TS_PARSER",
    "TS_NODE",
    "TS_COMPILED_QUERY",
    "SQLITE",
    "CLOSURE",
    "CHAR_TABLE",
    "SUB_CHAR_TABLE",
    "RECORD",
    "FONT",
];

impl PvecNumbering {
    pub const ALL: [PvecNumbering; 4] = [
        PvecNumbering::Emacs27,
        PvecNumbering::Emacs28,
        PvecNumbering::Emacs29,
        PvecNumbering::Emacs30,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PvecNumbering::Emacs27 => "emacs-27",
            PvecNumbering::Emacs28 => "emacs-28",
            PvecNumbering::Emacs29 => "emacs-29",
            PvecNumbering::Emacs30 => "emacs-30",
        }
    }

    fn tail(self) -> &'static [&'static str] {
        match self {
            PvecNumbering::Emacs27 => &EMACS_27,
            PvecNumbering::Emacs28 => &EMACS_28,
            PvecNumbering::Emacs29 => &EMACS_29,
            PvecNumbering::Emacs30 => &EMACS_30,
        }
    }

    /// Number of pvec types (the last one, `PVEC_FONT`, is this minus one).
    pub fn count(self) -> u8 {
        (COMMON.len() + self.tail().len()) as u8
    }

    /// The `PVEC_` name of a type number, without the prefix.
    pub fn type_name(self, pvec_type: u8) -> Option<&'static str> {
        let n = usize::from(pvec_type);
        COMMON
            .get(n)
            .or_else(|| self.tail().get(n.checked_sub(COMMON.len())?))
            .copied()
    }

    /// The number of a named type, e.g. `"HASH_TABLE"`.
    pub fn type_number(self, name: &str) -> Option<u8> {
        (0..self.count()).find(|&n| self.type_name(n) == Some(name))
    }

    /// The header layout dumps of this version use.
    pub fn layout(self) -> Layout {
        match self {
            PvecNumbering::Emacs27 => Layout::Emacs27,
            _ => Layout::Emacs28,
        }
    }
}

/// Which numbering a dump uses, and why pdmp thinks so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PvecDetection {
    /// `None` when the evidence is missing or contradictory.
    pub numbering: Option<PvecNumbering>,
    /// One sentence per piece of evidence.
    pub evidence: Vec<String>,
}

/// Looks at the images of built-in subrs in the discardable region and, as a
/// cross-check, at the objects the hash list points to.
pub fn detect(dump: &Dump<'_>) -> PvecDetection {
    let layout = dump.header().layout;
    let mut evidence = Vec::new();

    // Votes: how many copied words look like a bare subr header for each
    // candidate PVEC_SUBR number.
    let subr_numbers: Vec<(PvecNumbering, u8)> = PvecNumbering::ALL
        .iter()
        .filter(|n| n.layout() == layout)
        .map(|&n| (n, n.type_number("SUBR").expect("every version has SUBR")))
        .collect();
    let header = dump.header();
    let discardable = dump
        .bytes()
        .get(header.discardable_start as usize..header.cold_start as usize)
        .unwrap_or_default();
    let skip = discardable.len().min(
        header.discardable_start.next_multiple_of(8) as usize - header.discardable_start as usize,
    );
    // One pass for all candidates: the bare pseudovector headers by type
    // (a bare header is the flag and the type, nothing else).
    let type_mask = 0x3f << 24;
    let bare_flag = VectorHeader::bare_pseudovector(0).0;
    let mut by_type = [0u64; 64];
    for word in discardable[skip..].chunks_exact(8) {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        if word & !type_mask == bare_flag {
            by_type[((word >> 24) & 0x3f) as usize] += 1;
        }
    }
    let votes: Vec<u64> = subr_numbers
        .iter()
        .map(|&(_, subr)| by_type[usize::from(subr & 0x3f)])
        .collect();
    let best = votes
        .iter()
        .enumerate()
        .max_by_key(|(_, v)| **v)
        .filter(|(_, v)| **v > 0)
        .map(|(i, _)| i);
    let mut numbering = None;
    match best {
        Some(i) => {
            let (candidate, subr) = subr_numbers[i];
            // PVEC_SUBR = 16 in both 27 and 28: the header layout decides.
            evidence.push(format!(
                "{} copied built-in subr headers in the discardable region carry PVEC_SUBR = {subr}; with the {} header that is {}",
                votes[i],
                layout.name(),
                candidate.name()
            ));
            numbering = Some(candidate);
        }
        None => evidence
            .push("no copied built-in subr header found in the discardable region".to_string()),
    }

    // Cross-check: the hash list points only at hash tables.
    if let Some(list) = dump.hash_list_entries() {
        let pvec_types: Vec<u8> = list
            .filter_map(|target| dump.vector_header_at(target).ok())
            .map(|h| h.pvec_type())
            .collect();
        if let Some(&first) = pvec_types.first() {
            let uniform = pvec_types.iter().all(|&t| t == first);
            let agreeing: Vec<PvecNumbering> = PvecNumbering::ALL
                .into_iter()
                .filter(|n| n.layout() == layout && n.type_number("HASH_TABLE") == Some(first))
                .collect();
            evidence.push(format!(
                "the {} hash-list entries point at pvec type {first}{}, PVEC_HASH_TABLE in {}",
                pvec_types.len(),
                if uniform { "" } else { " (not all of them)" },
                if agreeing.is_empty() {
                    "no known version".to_string()
                } else {
                    agreeing
                        .iter()
                        .map(|n| n.name())
                        .collect::<Vec<_>>()
                        .join(" and ")
                }
            ));
            match numbering {
                Some(n) if !agreeing.contains(&n) => {
                    evidence.push("the two disagree: numbering unknown".to_string());
                    numbering = None;
                }
                None if agreeing.len() == 1 && uniform => numbering = Some(agreeing[0]),
                _ => {}
            }
        }
    }
    PvecDetection {
        numbering,
        evidence,
    }
}
