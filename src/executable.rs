//! The Emacs executable a dump belongs to, as a source of bytes the dump
//! points at: the names of symbols that are C string literals (`car`, `nil`
//! and every other built-in symbol) live there, not in the dump.
//!
//! Values in the dump are offsets from `emacs_basis`, an address the file
//! does not record. pdmp recovers it from the names themselves: each such
//! name is a NUL-terminated run of known length at a known distance from the
//! basis, so only one basis makes all of them land on NUL-terminated runs of
//! exactly their lengths. The executable must carry the dump's fingerprint.

use crate::dump::Dump;
use crate::graph::{Graph, NodeKind};
use crate::lisp::LispType;
use crate::symbol::{lisp_string, StringData, SymbolSlot};
use object::{Object, ObjectSegment};
use std::fs::File;
use std::path::Path;

/// Why an executable cannot serve a dump.
#[derive(Debug, thiserror::Error)]
pub enum ExecutableError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not an executable object file: {0}")]
    Format(#[from] object::Error),
    #[error("the executable does not contain the dump's fingerprint: it did not write this dump")]
    NoFingerprint,
    #[error("no symbol names of the dump lie in the executable")]
    NoNames,
    #[error("no base address makes the dump's {0} C-literal symbol names fit the executable")]
    NoBasis(usize),
}

/// A loaded segment: `size` bytes at `address`, from `file_offset`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    address: u64,
    file_offset: u64,
    size: u64,
}

/// An executable mapped read-only, with the link-time address of its
/// `emacs_basis`.
pub struct Executable {
    map: memmap2::Mmap,
    segments: Vec<Segment>,
    basis: u64,
}

impl Executable {
    /// Opens `path`, checks that it wrote `dump`, and finds its basis.
    pub fn open(
        path: &Path,
        dump: &Dump<'_>,
        graph: &Graph,
    ) -> Result<Executable, ExecutableError> {
        let file = File::open(path)?;
        // SAFETY: read-only private map; see `DumpFile::open`.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        let segments: Vec<Segment> = {
            let object = object::File::parse(&*map)?;
            object
                .segments()
                .map(|s| {
                    let (file_offset, size) = s.file_range();
                    Segment {
                        address: s.address(),
                        file_offset,
                        size,
                    }
                })
                .filter(|s| s.size > 0)
                .collect()
        };
        if memchr::memmem::find(&map, &dump.header().fingerprint).is_none() {
            return Err(ExecutableError::NoFingerprint);
        }
        let mut executable = Executable {
            map,
            segments,
            basis: 0,
        };
        executable.basis = executable.find_basis(&literal_names(dump, graph))?;
        Ok(executable)
    }

    /// Link-time address of `emacs_basis`.
    pub fn emacs_basis(&self) -> u64 {
        self.basis
    }

    fn file_offset(&self, address: u64, len: u64) -> Option<usize> {
        let s = self
            .segments
            .iter()
            .find(|s| address >= s.address && address - s.address < s.size)?;
        let within = address - s.address;
        (within.checked_add(len)? <= s.size).then_some((s.file_offset + within) as usize)
    }

    /// `len` bytes at `relative` bytes from `emacs_basis`.
    pub fn bytes_at(&self, relative: i64, len: u64) -> Option<&[u8]> {
        let address = self.basis.checked_add_signed(relative)?;
        let at = self.file_offset(address, len)?;
        self.map.get(at..at + len as usize)
    }

    /// Whether `len` non-NUL bytes followed by a NUL lie at `address`.
    fn fits(&self, address: u64, len: u64) -> bool {
        self.file_offset(address, len + 1).is_some_and(|at| {
            let run = &self.map[at..at + len as usize + 1];
            run[len as usize] == 0 && !run[..len as usize].contains(&0)
        })
    }

    /// Candidates from the longest name: every place a NUL-terminated run of
    /// its length ends; the basis is the one where all names fit.
    fn find_basis(&self, names: &[(i64, u64)]) -> Result<u64, ExecutableError> {
        let &(anchor_rel, anchor_len) = names
            .iter()
            .max_by_key(|(_, len)| *len)
            .ok_or(ExecutableError::NoNames)?;
        let checks: Vec<(i64, u64)> = names.iter().copied().take(64).collect();
        for segment in &self.segments {
            let start = segment.file_offset as usize;
            let bytes = &self.map[start..start + segment.size as usize];
            // The run before a NUL holds no NUL when the previous NUL lies
            // before its start.
            let mut previous: Option<usize> = None;
            for nul in memchr::memchr_iter(0, bytes) {
                let before = previous.replace(nul);
                let Some(begin) = nul.checked_sub(anchor_len as usize) else {
                    continue;
                };
                if before.is_some_and(|p| p >= begin) {
                    continue;
                }
                let address = segment.address + begin as u64;
                let Some(basis) = address.checked_add_signed(-anchor_rel) else {
                    continue;
                };
                let all_fit = |list: &[(i64, u64)]| {
                    list.iter().all(|&(rel, len)| {
                        basis
                            .checked_add_signed(rel)
                            .is_some_and(|a| self.fits(a, len))
                    })
                };
                if all_fit(&checks) && all_fit(names) {
                    return Ok(basis);
                }
            }
        }
        Err(ExecutableError::NoBasis(names.len()))
    }
}

/// (offset from the basis, length) of every symbol name that is a C literal.
fn literal_names(dump: &Dump<'_>, graph: &Graph) -> Vec<(i64, u64)> {
    let mut names: Vec<(i64, u64)> = (0..graph.len() as u32)
        .filter(|&i| graph.node(i).kind.is_symbol())
        .filter_map(|i| {
            let at = u64::from(graph.node(i).offset) + SymbolSlot::Name.offset();
            let string = graph.edge_at(i, at)?;
            if graph.node(string).kind != NodeKind::Object(LispType::String) {
                return None;
            }
            match lisp_string(dump, graph, string).ok()? {
                s if s.bytes > 0 => match s.data {
                    StringData::Executable(rel) => Some((rel, s.bytes)),
                    StringData::Dump(_) => None,
                },
                _ => None,
            }
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}
