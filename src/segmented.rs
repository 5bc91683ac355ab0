//! Append-only storage in small fixed-size blocks, for the dumper's symbol
//! table. A growing `Vec` moves what it holds: while the copy is made, the
//! old and the new block are both live, and for the largest table that sets
//! the dumper's peak heap. Blocks never move; the last one's spare room
//! stays under [`BLOCK_BYTES`].

use std::ops::{Index, IndexMut};

/// The size of a block (a byte string longer than this gets a block of
/// its own length).
pub const BLOCK_BYTES: usize = 1024;

/// A vector that grows by whole blocks of [`BLOCK_BYTES`] and never moves
/// its elements.
#[derive(Debug)]
pub struct SegVec<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for SegVec<T> {
    fn default() -> Self {
        SegVec {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> SegVec<T> {
    /// Elements per block.
    const PER_BLOCK: usize = if std::mem::size_of::<T>() == 0 {
        BLOCK_BYTES
    } else if std::mem::size_of::<T>() > BLOCK_BYTES {
        1
    } else {
        BLOCK_BYTES / std::mem::size_of::<T>()
    };

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(Self::PER_BLOCK) {
            self.blocks.push(Vec::with_capacity(Self::PER_BLOCK));
        }
        // A block was pushed above when the last one was full.
        if let Some(block) = self.blocks.last_mut() {
            block.push(value);
        }
        self.len += 1;
    }
}

impl<T> Index<usize> for SegVec<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.blocks[i / Self::PER_BLOCK][i % Self::PER_BLOCK]
    }
}

impl<T> IndexMut<usize> for SegVec<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.blocks[i / Self::PER_BLOCK][i % Self::PER_BLOCK]
    }
}

/// Byte strings, appended one after another into blocks of
/// [`BLOCK_BYTES`]; a string never spans blocks (one that does not fit in
/// the last block's room starts a new block). Each string costs its bytes
/// and 4 bytes: its end as an offset into the concatenation of all the
/// strings, like a single arena's, while the blocks' logical starts (one
/// per block) find the block holding an offset.
#[derive(Debug, Default)]
pub struct StrArena {
    blocks: Vec<Vec<u8>>,
    /// The offset of each block's first byte in the concatenation.
    starts: Vec<u32>,
    /// The offset of each string's end in the concatenation.
    ends: SegVec<u32>,
}

impl StrArena {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The length of the concatenation.
    fn total(&self) -> u32 {
        match self.ends.len() {
            0 => 0,
            n => self.ends[n - 1],
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let total = self.total();
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= bytes.len());
        if !fits {
            self.starts.push(total);
            self.blocks
                .push(Vec::with_capacity(bytes.len().max(BLOCK_BYTES)));
        }
        if let Some(block) = self.blocks.last_mut() {
            block.extend_from_slice(bytes);
        }
        self.ends.push(total + bytes.len() as u32);
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        let len = (self.ends[i] - start) as usize;
        if len == 0 {
            return &[];
        }
        // The last block starting at or before `start`: any later block
        // starts at or after this string's end.
        let b = self.starts.partition_point(|&s| s <= start) - 1;
        let offset = (start - self.starts[b]) as usize;
        &self.blocks[b][offset..offset + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_back_across_blocks() {
        let strings: Vec<Vec<u8>> = (0..3000)
            .map(|i| match i % 7 {
                0 => Vec::new(),
                3 => vec![b'x'; BLOCK_BYTES + i],
                _ => format!("symbol-{i}").into_bytes(),
            })
            .collect();
        let mut arena = StrArena::default();
        for s in &strings {
            arena.push(s);
        }
        assert_eq!(arena.len(), strings.len());
        for (i, s) in strings.iter().enumerate() {
            assert_eq!(arena.get(i), &s[..], "string {i}");
        }
    }

    #[test]
    fn elements_stay_put() {
        let mut v = SegVec::default();
        for i in 0..5000u64 {
            v.push([i; 3]);
        }
        let first: *const [u64; 3] = &v[0];
        v.push([0; 3]);
        assert_eq!(first, &v[0] as *const _);
        v[4999][1] = 7;
        assert_eq!(v[4999], [4999, 7, 4999]);
        assert_eq!(v[1234], [1234; 3]);
    }
}
