//! The dumper's scratch streams: objects are placed as they are read, so
//! their bytes go to anonymous temporary files (in `$TMPDIR`) instead of a
//! heap held until the end. Five append-only streams: the hot objects'
//! bytes, the cold bytes, the sites of hot words whose final value is known
//! only when the dump is assembled (their *pending* words, see
//! [`Pending`]), and the starts of hot and of cold objects. The heap writes
//! each object whole when it places it (the places of its parts are known
//! in advance), so each stream keeps only a small buffer ([`buffer_size`])
//! and hands it to its file whenever it fills; the dump is then assembled
//! by reading the streams back front to back.

use crate::lisp::LispType;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;

/// Bytes of a buffer for a stream of `bytes` bytes: 1/256 of it, from
/// 512 bytes to 64 KiB, a multiple of 8. The streams and the writer size their
/// buffers by it, so memory stays a small share of the dump at every size
/// while big dumps still move data in large blocks.
pub fn buffer_size(bytes: u64) -> usize {
    (bytes / 256).clamp(512, 64 << 10) as usize & !7
}

/// One append-only stream: a temporary file and the bytes not yet in it.
#[derive(Debug, Default)]
struct Stream {
    file: Option<File>,
    /// Bytes in the file.
    written: u64,
}

impl Stream {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// A reader of the whole stream from its start.
    fn reader(&self) -> BufReader<At<'_>> {
        BufReader::with_capacity(
            buffer_size(self.written),
            At {
                file: self.file.as_ref(),
                pos: 0,
                end: self.written,
            },
        )
    }
}

/// Reads a stream's file by position (so two readers never share a seek).
struct At<'f> {
    file: Option<&'f File>,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        let Some(file) = self.file.filter(|_| want > 0) else {
            return Ok(0);
        };
        let n = file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// The scratch streams and the part of each not yet written out.
#[derive(Debug, Default)]
pub struct Scratch {
    hot: Stream,
    cold: Stream,
    fixes: Stream,
    hot_starts: Stream,
    cold_starts: Stream,
    /// Hot words from word `hot_base` on, not yet written.
    hot_words: Vec<u64>,
    hot_base: u32,
    cold_bytes: Vec<u8>,
    /// Word indices of pending words not yet written (sorted when written).
    fix_sites: Vec<u32>,
    /// Object starts not yet written: byte offset | tag.
    hot_start_list: Vec<u32>,
    cold_start_list: Vec<u32>,
    /// The first write error, reported when the dump is written.
    error: Option<std::io::Error>,
}

/// The most 8-byte words a stream may hold (2 GiB, the format's limit).
pub const MAX_WORDS: u64 = 1 << 28;

impl Scratch {
    /// Words of hot objects placed so far.
    pub fn hot_words(&self) -> u64 {
        u64::from(self.hot_base) + self.hot_words.len() as u64
    }

    /// Bytes of cold data placed so far (a multiple of 8).
    pub fn cold_len(&self) -> u64 {
        self.cold.written + self.cold_bytes.len() as u64
    }

    /// 8-byte units of cold data placed so far.
    pub fn cold_units(&self) -> u32 {
        (self.cold_len() / 8) as u32
    }

    /// Whether either region reached [`MAX_WORDS`].
    pub fn is_full(&self) -> bool {
        self.hot_words() >= MAX_WORDS || self.cold_len() / 8 >= MAX_WORDS
    }

    /// A hot object of `words` words (zeros for now) with tag `tag`: its
    /// first word's index.
    pub fn hot_object(&mut self, tag: LispType, words: usize) -> u32 {
        let at = self.hot_words() as u32;
        let target = buffer_size(self.hot.written) / 8;
        let starts = buffer_size(self.hot_starts.written) / 4;
        reserve(&mut self.hot_start_list, 1, starts);
        self.hot_start_list.push(at << 3 | u32::from(tag.tag()));
        // The object's pending words are at most its words.
        reserve(
            &mut self.fix_sites,
            words,
            buffer_size(self.fixes.written) / 4,
        );
        reserve(&mut self.hot_words, words, target);
        self.hot_words.resize(self.hot_words.len() + words, 0);
        at
    }

    /// Sets hot word `at` (of an object placed since the last flush) to a
    /// final value.
    pub fn set(&mut self, at: u32, word: u64) {
        self.hot_words[(at - self.hot_base) as usize] = word;
    }

    /// Sets hot word `at` to a pending word.
    pub fn set_pending(&mut self, at: u32, pending: Pending) {
        self.set(at, pending.0);
        self.fix_sites.push(at);
    }

    /// Appends cold bytes, zero-padded to 8: their index in 8-byte units.
    /// `start` records an object (float, bool-vector) starting there.
    pub fn cold(&mut self, bytes: &[u8], start: Option<LispType>) -> u32 {
        let at = self.cold_units();
        if let Some(tag) = start {
            let starts = buffer_size(self.cold_starts.written) / 4;
            reserve(&mut self.cold_start_list, 1, starts);
            self.cold_start_list.push(at << 3 | u32::from(tag.tag()));
        }
        let target = buffer_size(self.cold.written);
        if bytes.len() >= target && self.error.is_none() {
            // Cold items are written whole: a big one goes straight to the
            // file, after the buffered ones.
            let padding = [0u8; 8];
            let pad = &padding[..bytes.len().next_multiple_of(8) - bytes.len()];
            let cold = &mut self.cold;
            let written = cold
                .write(&self.cold_bytes)
                .and_then(|_| cold.write(bytes))
                .and_then(|_| cold.write(pad));
            self.cold_bytes.clear();
            if let Err(e) = written {
                self.error = Some(e);
            }
            return at;
        }
        reserve(&mut self.cold_bytes, bytes.len() + 8, target);
        self.cold_bytes.extend_from_slice(bytes);
        let padded = self.cold_bytes.len().next_multiple_of(8);
        self.cold_bytes.resize(padded, 0);
        at
    }

    /// Writes out the buffers that filled (all of them when `all`); every
    /// object placed so far must be complete.
    pub fn flush(&mut self, all: bool) {
        if self.error.is_some() {
            // Keep nothing more once writing failed.
            self.hot_base += self.hot_words.len() as u32;
            self.hot_words.clear();
            self.cold_bytes.clear();
            self.fix_sites.clear();
            self.hot_start_list.clear();
            self.cold_start_list.clear();
            return;
        }
        // A buffer goes out once it reaches its stream's buffer size.
        let big = |n: usize, stream: &Stream| all || n >= buffer_size(stream.written);
        let mut result = Ok(());
        if big(8 * self.hot_words.len(), &self.hot) {
            result = result.and_then(|_| write_u64s(&mut self.hot, &self.hot_words));
            self.hot_base += self.hot_words.len() as u32;
            self.hot_words.clear();
            shrink(&mut self.hot_words, buffer_size(self.hot.written) / 8);
        }
        if big(self.cold_bytes.len(), &self.cold) {
            result = result.and_then(|_| self.cold.write(&self.cold_bytes));
            self.cold_bytes.clear();
            shrink(&mut self.cold_bytes, buffer_size(self.cold.written));
        }
        // An object's sites are written in any order: sorted here (every
        // earlier object's sites went out before).
        if big(4 * self.fix_sites.len(), &self.fixes) {
            self.fix_sites.sort_unstable();
            result = result.and_then(|_| write_u32s(&mut self.fixes, &self.fix_sites));
            self.fix_sites.clear();
            shrink(&mut self.fix_sites, buffer_size(self.fixes.written) / 4);
        }
        for (list, stream) in [
            (&mut self.hot_start_list, &mut self.hot_starts),
            (&mut self.cold_start_list, &mut self.cold_starts),
        ] {
            if big(4 * list.len(), stream) {
                result = result.and_then(|_| write_u32s(stream, list));
                list.clear();
                shrink(list, buffer_size(stream.written) / 4);
            }
        }
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Writes out everything (after the last form) and hands over the
    /// first write error, if any.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.flush(true);
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The hot objects' bytes (once finished).
    pub fn hot_reader(&self) -> impl Read + '_ {
        self.hot.reader()
    }

    /// The cold bytes (once finished).
    pub fn cold_reader(&self) -> impl Read + '_ {
        self.cold.reader()
    }

    /// Word indices of the pending hot words, ascending.
    pub fn fix_sites(&self) -> U32s<'_> {
        U32s(self.fixes.reader())
    }

    /// Hot object starts: byte offset (in the hot stream) | tag, ascending.
    pub fn hot_starts(&self) -> U32s<'_> {
        U32s(self.hot_starts.reader())
    }

    /// Cold object starts: byte offset (in the cold stream) | tag.
    pub fn cold_starts(&self) -> U32s<'_> {
        U32s(self.cold_starts.reader())
    }
}

/// Makes room for `additional` more elements: up to `target` elements in
/// all, or exactly enough when that is more (never doubling, so a buffer
/// stays near its stream's buffer size).
fn reserve<T>(v: &mut Vec<T>, additional: usize, target: usize) {
    if v.capacity() - v.len() < additional {
        v.reserve_exact(additional.max(target.saturating_sub(v.len())));
    }
}

fn shrink<T>(v: &mut Vec<T>, keep: usize) {
    if v.capacity() > 2 * keep {
        v.shrink_to(keep);
    }
}

/// Writes little-endian values through a small buffer.
fn write_le<const N: usize, T: Copy>(
    stream: &mut Stream,
    list: &[T],
    bytes: impl Fn(T) -> [u8; N],
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    for part in list.chunks(buf.len() / N) {
        for (i, &v) in part.iter().enumerate() {
            buf[N * i..N * i + N].copy_from_slice(&bytes(v));
        }
        stream.write(&buf[..N * part.len()])?;
    }
    Ok(())
}

fn write_u32s(stream: &mut Stream, list: &[u32]) -> std::io::Result<()> {
    write_le(stream, list, u32::to_le_bytes)
}

fn write_u64s(stream: &mut Stream, list: &[u64]) -> std::io::Result<()> {
    write_le(stream, list, u64::to_le_bytes)
}

/// A stream of little-endian `u32`s read back.
pub struct U32s<'f>(BufReader<At<'f>>);

impl U32s<'_> {
    /// The next value, `None` at the end.
    pub fn next_u32(&mut self) -> std::io::Result<Option<u32>> {
        let mut b = [0u8; 4];
        match self.0.read_exact(&mut b) {
            Ok(()) => Ok(Some(u32::from_le_bytes(b))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A hot word whose final value the assembly computes: a kind in the low 3
/// bits, its operand above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending(pub u64);

/// Kinds of [`Pending`] words.
pub mod pending {
    /// A Lisp value pointing to a dump object: operand an
    /// [`ObjRef`](crate::heap::ObjRef) packed.
    pub const LISP: u64 = 0;
    /// A Lisp value pointing to a built-in subr: operand its index.
    pub const SUBR: u64 = 1;
    /// A raw pointer into the cold region: operand an 8-byte unit.
    pub const COLD_PTR: u64 = 2;
    /// A raw pointer into the runtime image: operand the image offset.
    pub const EMACS_PTR: u64 = 3;
    /// A pseudovector header: operand kind (4 bits, index of
    /// [`PvecKind::ALL`](crate::objlayout::PvecKind::ALL)), Lisp slots (12
    /// bits), other words (12 bits).
    pub const HEADER: u64 = 4;
    /// A bignum's header (where its BIGNUM relocation sits).
    pub const BIGNUM_HEADER: u64 = 5;
    /// A bignum's limb location and count: operand the limbs' cold unit
    /// (29 bits) | signed count << 29.
    pub const BIGNUM_LIMBS: u64 = 6;
    /// A bignum's limb pointer, set only when pre-relocated: operand the
    /// limbs' cold unit.
    pub const BIGNUM_PTR: u64 = 7;
}

impl Pending {
    pub fn new(kind: u64, operand: u64) -> Pending {
        Pending(operand << 3 | kind)
    }

    pub fn kind(self) -> u64 {
        self.0 & 7
    }

    pub fn operand(self) -> u64 {
        self.0 >> 3
    }
}
