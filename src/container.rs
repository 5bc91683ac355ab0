//! The compressed-dump container (`.pdmpz`): a checked wrapper around the
//! zstd-compressed streams of [`crate::transform`], and [`Source`], which
//! opens a raw dump or a container alike.
//!
//! A container is written only when its bytes decode back to the input, and a
//! decoder returns bytes only when their length and checksum equal what the
//! container recorded. Layout of version 2 (all integers little-endian):
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | magic `\x89PDMPZ\r\n` |
//! | 8 | 2 | container version (2) |
//! | 10 | 1 | codec (1 = zstd) |
//! | 11 | 1 | transform (0 = none, 1 = relocation-aware split) |
//! | 12 | 4 | stream count N (1 for transform 0, 7 for transform 1) |
//! | 16 | 8 | original length |
//! | 24 | 1 | checksum kind (1 = SHA-256, 2 = XXH3-128) |
//! | 25 | 7 | zero |
//! | 32 | 32 | checksum of the original: the SHA-256 digest, or the XXH3-128 hash as 16 bytes big-endian (as `xxh128sum` prints it) then 16 zero bytes |
//! | 64 | 16 N | per stream: raw length (u64), packed length (u64) |
//! | 64 + 16 N | … | the packed streams back to back, one zstd frame each; the file ends with the last |
//!
//! Version 1 (still read) has no checksum kind: the SHA-256 digest is at 24
//! and the directory at 56. Decompression decodes the two large streams
//! straight into the output buffer ([`crate::transform::Joiner`]) on two
//! threads, so it needs little memory beyond the dump it returns.

use crate::dump::DumpFile;
use crate::embed::{EmbedError, Embedded};
use crate::transform::Joiner;
use crate::transform::{self, JoinError};
use crate::Dump;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;

/// The first 8 bytes of every container.
pub const MAGIC: [u8; 8] = *b"\x89PDMPZ\r\n";
/// The container version this library writes (it reads 1 and 2).
pub const VERSION: u16 = 2;
/// Codec id of zstd, the only codec.
pub const CODEC_ZSTD: u8 = 1;
/// Bytes before the stream directory (version 2).
pub const HEADER_SIZE: usize = 64;
/// Bytes before the stream directory in version 1.
const HEADER_SIZE_V1: usize = 56;

/// zstd level of the default (small) mode and of `fast`.
const LEVEL_SMALL: i32 = 19;
const LEVEL_FAST: i32 = 3;
/// Long-distance matching window: 2^27 bytes covers any real dump stream.
const WINDOW_LOG: u32 = 27;
/// How far a stream's recorded raw length is believed before decoding.
const MAX_RESERVED_RATIO: u64 = 256;

/// The largest window a decoder accepts for a stream of `raw` bytes: what
/// pdmp writes ([`WINDOW_LOG`], which zstd lowers to fit the stream), so
/// that a crafted frame header cannot make the decoder reserve gigabytes.
fn window_log_max(raw: u64) -> u32 {
    let fits = u64::BITS - raw.saturating_sub(1).leading_zeros();
    (fits + 1).clamp(10, WINDOW_LOG)
}

/// How the bytes were rearranged before compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The bytes as they are (not a dump, or a dump the transform does not cover).
    None = 0,
    /// [`crate::transform::split`]: relocation-aware streams.
    Relocation = 1,
}

impl Transform {
    pub fn name(self) -> &'static str {
        match self {
            Transform::None => "none",
            Transform::Relocation => "relocation",
        }
    }

    fn stream_names(self) -> &'static [&'static str] {
        match self {
            Transform::None => &["bytes"],
            Transform::Relocation => &transform::STREAM_NAMES,
        }
    }
}

/// The checksum a container records of the original bytes. Both detect
/// corruption with certainty short of 2^-128; neither authenticates (whoever
/// can change the container can change the checksum it records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ChecksumKind {
    /// SHA-256 (every version 1 container).
    #[serde(rename = "sha256")]
    Sha256 = 1,
    /// XXH3-128, what version 2 writes: several times faster to verify.
    #[serde(rename = "xxh3-128")]
    Xxh3_128 = 2,
}

impl ChecksumKind {
    pub fn name(self) -> &'static str {
        match self {
            ChecksumKind::Sha256 => "sha256",
            ChecksumKind::Xxh3_128 => "xxh3-128",
        }
    }

    /// Bytes of the checksum (the field is 32 bytes, zero-padded).
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumKind::Sha256 => 32,
            ChecksumKind::Xxh3_128 => 16,
        }
    }

    /// The checksum of `data`, zero-padded to 32 bytes.
    pub fn of(self, data: &[u8]) -> [u8; 32] {
        match self {
            ChecksumKind::Sha256 => Sha256::digest(data).into(),
            ChecksumKind::Xxh3_128 => {
                let mut field = [0; 32];
                field[..16].copy_from_slice(&xxhash_rust::xxh3::xxh3_128(data).to_be_bytes());
                field
            }
        }
    }
}

/// Why a container could not be written or read. Every variant names the
/// field or stream and its byte offset in the container.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("the container is {size} bytes and ends inside field `{field}` at offset {offset} ({needed} bytes): truncated")]
    Truncated {
        field: String,
        offset: u64,
        needed: u64,
        size: u64,
    },

    #[error("container field `{field}` at offset {offset} is {value}: {problem}")]
    BadField {
        field: String,
        offset: u64,
        value: String,
        problem: String,
    },

    #[error("stream {index} ({name}) at offset {offset}: {problem}")]
    Stream {
        index: usize,
        name: &'static str,
        offset: u64,
        problem: String,
    },

    #[error("{0} (the container is corrupted)")]
    Join(#[from] JoinError),

    #[error("field `checksum` ({kind}) at offset {offset} does not match the decompressed bytes (they hash to {found}): the container is corrupted")]
    Checksum {
        kind: &'static str,
        offset: u64,
        found: String,
    },

    #[error("zstd: {0}")]
    Codec(String),
}

/// Compression settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// A low zstd level: about 10x faster to write, some ratio lost.
    pub fast: bool,
}

/// The fields of a container before its streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u16,
    pub codec: u8,
    pub transform: Transform,
    pub original_len: u64,
    pub checksum_kind: ChecksumKind,
    /// The checksum field: [`ChecksumKind::digest_len`] bytes, then zeros.
    pub checksum: [u8; 32],
    /// `(raw length, packed length)` of each stream, in order.
    pub streams: Vec<(u64, u64)>,
}

/// A container made in memory by [`compress`], and how it was made.
#[derive(Debug)]
pub struct Packed {
    pub bytes: Vec<u8>,
    pub transform: Transform,
    pub level: i32,
}

/// A container written to a file by [`compress_into`]: its header (the
/// transform, the checksum, the stream lengths) and the zstd level used.
#[derive(Debug)]
pub struct Written {
    pub header: Header,
    pub level: i32,
}

/// Whether `bytes` start like a container.
pub fn is_container(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Compresses `data` (any bytes; dumps compress best) into memory; see
/// [`compress_into`].
pub fn compress(
    data: &[u8],
    options: Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Packed, Error> {
    let mut file = tempfile::tempfile()?;
    let written = compress_into(data, options, progress, &mut file)?;
    let mut bytes = Vec::with_capacity(written.header.container_len() as usize);
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    Ok(Packed {
        bytes,
        transform: written.header.transform,
        level: written.level,
    })
}

/// Compresses `data` (any bytes; dumps compress best) into `file`, which
/// it truncates first. `progress` is called with the raw size of each
/// stream as it is done, from worker threads.
///
/// The memory it takes is the transformed streams (about the size of the
/// input), each freed once compressed; the compressed frames go to
/// anonymous temporary files, then into `file`. The relocation transform is
/// kept only when the container written with it provably decodes to the
/// input: it is decompressed from `file` (mapped, not read) and compared.
pub fn compress_into(
    data: &[u8],
    options: Options,
    progress: &(dyn Fn(u64) + Sync),
    file: &mut File,
) -> Result<Written, Error> {
    let level = if options.fast {
        LEVEL_FAST
    } else {
        LEVEL_SMALL
    };
    if let Some(streams) = transform::split(data) {
        let header = write_container(file, data, Transform::Relocation, streams, level, progress)?;
        // SAFETY: a file of our own, complete, and not written while mapped.
        let written = unsafe { memmap2::Mmap::map(&*file) }?;
        if decompress(&written).is_ok_and(|back| back == data) {
            return Ok(Written { header, level });
        }
    }
    let header = write_container(file, data, Transform::None, vec![data], level, progress)?;
    Ok(Written { header, level })
}

/// Writes the container of `data` made of `streams` (which `transform`
/// made of it) into `file`, replacing what it held.
fn write_container<S: AsRef<[u8]> + Send>(
    file: &mut File,
    data: &[u8],
    transform: Transform,
    streams: Vec<S>,
    level: i32,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Header, Error> {
    let frames = in_parallel(streams, |stream| {
        let raw = stream.as_ref().len() as u64;
        let frame = zstd_compress(stream.as_ref(), level);
        // The raw stream is freed as soon as it is compressed.
        drop(stream);
        progress(raw);
        frame.map(|(frame, packed)| (raw, frame, packed))
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let checksum_kind = ChecksumKind::Xxh3_128;
    let header = Header {
        version: VERSION,
        codec: CODEC_ZSTD,
        transform,
        original_len: data.len() as u64,
        checksum_kind,
        checksum: checksum_kind.of(data),
        streams: frames
            .iter()
            .map(|&(raw, _, packed)| (raw, packed))
            .collect(),
    };
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    let mut out = std::io::BufWriter::new(&mut *file);
    out.write_all(&header.encode())?;
    for (_, mut frame, _) in frames {
        frame.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut frame, &mut out)?;
    }
    out.flush()?;
    Ok(header)
}

/// Decompresses a container, checking every field, the length and the
/// checksum of the result.
pub fn decompress(container: &[u8]) -> Result<Vec<u8>, Error> {
    let header = Header::parse(container)?;
    let names = header.transform.stream_names();
    let frames = header.frames(container);
    let stream_error = |index: usize, problem: String| Error::Stream {
        index,
        name: names[index],
        offset: frames[index].0,
        problem,
    };
    // Recorded lengths are believed for allocations only within a ratio of
    // the packed sizes; beyond it, every stream is first decoded without
    // being kept, to check that it holds what its length says.
    for (index, &(_, raw, packed)) in frames.iter().enumerate() {
        if raw > MAX_RESERVED_RATIO * packed.len() as u64 {
            check_decoded_len(packed, raw).map_err(|problem| stream_error(index, problem))?;
        }
    }
    let data = match header.transform {
        Transform::None => {
            let (_, raw, packed) = frames[0];
            zstd_decompress(packed, raw).map_err(|problem| stream_error(0, problem))?
        }
        Transform::Relocation => decompress_in_place(&header, &frames, stream_error)?,
    };
    header.check_length(data.len() as u64)?;
    let found = header.checksum_kind.of(&data);
    if found != header.checksum {
        return Err(Error::Checksum {
            kind: header.checksum_kind.name(),
            offset: header.checksum_offset(),
            found: crate::header::hex(&found[..header.checksum_kind.digest_len()]),
        });
    }
    Ok(data)
}

/// The relocation transform's streams decoded on two threads, the heap and
/// cold streams straight into the output, the others side by side into one
/// buffer, then joined in the output.
fn decompress_in_place(
    header: &Header,
    frames: &[(u64, u64, &[u8])],
    stream_error: impl Fn(usize, String) -> Error,
) -> Result<Vec<u8>, Error> {
    let (_, raw, packed) = frames[0];
    let geometry = zstd_decompress(packed, raw).map_err(|problem| stream_error(0, problem))?;
    let lens: Vec<u64> = header.streams.iter().map(|s| s.0).collect();
    let joiner = Joiner::new(&geometry, &lens)?;
    header.check_length(joiner.len() as u64)?;
    // Both within MAX_RESERVED_RATIO of the container's size, and the
    // aside streams, as Joiner::new checked, within the file's length.
    let mut out = crate::hugepages::zeroed(joiner.len());
    let (mut placed, mut kept) = (Vec::new(), Vec::new());
    for (index, &len) in lens.iter().enumerate().skip(1) {
        match joiner.place(index) {
            Some(range) => placed.push((index, range)),
            None => {
                let start = kept
                    .last()
                    .map_or(0, |(_, r): &(usize, Range<usize>)| r.end);
                kept.push((index, start..start + len as usize));
            }
        }
    }
    let mut aside = crate::hugepages::zeroed(kept.last().map_or(0, |(_, r)| r.end));
    let mut jobs = carve(&mut out, placed);
    jobs.extend(carve(&mut aside, kept.clone()));
    // The largest first, so that the two threads finish together.
    jobs.sort_by_key(|(index, place)| (std::cmp::Reverse(place.len()), *index));
    for (index, result) in in_parallel(jobs, |(index, place)| {
        (index, zstd_decompress_into(frames[index].2, place))
    }) {
        result.map_err(|problem| stream_error(index, problem))?;
    }
    let mut streams: Vec<&[u8]> = vec![&[]; frames.len()];
    streams[0] = &geometry;
    for (index, range) in kept {
        streams[index] = &aside[range];
    }
    joiner.finish(&mut out, &streams)?;
    Ok(out)
}

/// Splits `buffer` into disjoint ranges, each paired with its key.
fn carve<K>(buffer: &mut [u8], mut ranges: Vec<(K, Range<usize>)>) -> Vec<(K, &mut [u8])> {
    ranges.sort_by_key(|(_, range)| range.start);
    let (mut rest, mut consumed) = (buffer, 0);
    let mut slices = Vec::with_capacity(ranges.len());
    for (key, range) in ranges {
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(range.start - consumed);
        let (slice, tail) = tail.split_at_mut(range.len());
        slices.push((key, slice));
        rest = tail;
        consumed = range.end;
    }
    slices
}

impl Header {
    /// Reads and checks the fields of a container (not its streams).
    pub fn parse(bytes: &[u8]) -> Result<Header, Error> {
        let size = bytes.len() as u64;
        let field = |name: &str, offset: usize, len: usize| -> Result<&[u8], Error> {
            bytes
                .get(offset..offset + len)
                .ok_or_else(|| Error::Truncated {
                    field: name.to_string(),
                    offset: offset as u64,
                    needed: len as u64,
                    size,
                })
        };
        let bad = |name: &str, offset: u64, value: String, problem: &str| Error::BadField {
            field: name.to_string(),
            offset,
            value,
            problem: problem.to_string(),
        };
        let magic = field("magic", 0, 8)?;
        if magic != MAGIC {
            return Err(bad(
                "magic",
                0,
                format!("{magic:02x?}"),
                "not a pdmp container (it starts with 89 50 44 4d 50 5a 0d 0a)",
            ));
        }
        let le64 = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let version = u16::from_le_bytes(field("version", 8, 2)?.try_into().expect("2 bytes"));
        if version != 1 && version != VERSION {
            return Err(bad(
                "version",
                8,
                version.to_string(),
                &format!("this pdmp reads container versions 1 to {VERSION}"),
            ));
        }
        let codec = field("codec", 10, 1)?[0];
        if codec != CODEC_ZSTD {
            return Err(bad(
                "codec",
                10,
                codec.to_string(),
                "unknown codec (1 = zstd)",
            ));
        }
        let transform = match field("transform", 11, 1)?[0] {
            0 => Transform::None,
            1 => Transform::Relocation,
            other => {
                return Err(bad(
                    "transform",
                    11,
                    other.to_string(),
                    "unknown transform (0 = none, 1 = relocation)",
                ))
            }
        };
        let count = u32::from_le_bytes(field("stream count", 12, 4)?.try_into().expect("4"));
        let expected = transform.stream_names().len();
        if count as usize != expected {
            return Err(bad(
                "stream count",
                12,
                count.to_string(),
                &format!("transform {} has {expected} streams", transform.name()),
            ));
        }
        let original_len = le64(field("original length", 16, 8)?);
        let (checksum_kind, checksum_at, header_size) = if version == 1 {
            (ChecksumKind::Sha256, 24, HEADER_SIZE_V1)
        } else {
            let kind = match field("checksum kind", 24, 1)?[0] {
                1 => ChecksumKind::Sha256,
                2 => ChecksumKind::Xxh3_128,
                other => {
                    return Err(bad(
                        "checksum kind",
                        24,
                        other.to_string(),
                        "unknown checksum (1 = sha256, 2 = xxh3-128)",
                    ))
                }
            };
            if field("reserved", 25, 7)? != [0; 7] {
                return Err(bad("reserved", 25, "not zero".into(), "must be zero"));
            }
            (kind, 32, HEADER_SIZE)
        };
        let checksum: [u8; 32] = field("checksum", checksum_at, 32)?
            .try_into()
            .expect("32 bytes");
        if checksum[checksum_kind.digest_len()..]
            .iter()
            .any(|&b| b != 0)
        {
            return Err(bad(
                "checksum",
                checksum_at as u64,
                crate::header::hex(&checksum),
                &format!(
                    "a {} checksum is {} bytes, the rest must be zero",
                    checksum_kind.name(),
                    checksum_kind.digest_len()
                ),
            ));
        }
        let mut streams = Vec::with_capacity(expected);
        let mut end = (header_size + 16 * expected) as u64;
        for index in 0..expected {
            let at = header_size + 16 * index;
            let name = format!("stream {index} raw length");
            let raw = le64(field(&name, at, 8)?);
            if raw > original_len {
                return Err(bad(
                    &name,
                    at as u64,
                    raw.to_string(),
                    &format!("more than the original length {original_len}"),
                ));
            }
            let name = format!("stream {index} packed length");
            let packed = le64(field(&name, at + 8, 8)?);
            end = end
                .checked_add(packed)
                .filter(|&end| end <= size)
                .ok_or_else(|| Error::Truncated {
                    field: format!("stream {index} data"),
                    offset: end,
                    needed: packed,
                    size,
                })?;
            streams.push((raw, packed));
        }
        if end != size {
            return Err(Error::BadField {
                field: format!("stream {} packed length", expected - 1),
                offset: (header_size + 16 * expected - 8) as u64,
                value: streams[expected - 1].1.to_string(),
                problem: format!("the streams end at {end} but the file has {size} bytes"),
            });
        }
        Ok(Header {
            version,
            codec,
            transform,
            original_len,
            checksum_kind,
            checksum,
            streams,
        })
    }

    /// The bytes of this header and the stream directory, as version 2
    /// lays them out.
    fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_SIZE + 16 * self.streams.len());
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.push(self.codec);
        bytes.push(self.transform as u8);
        bytes.extend_from_slice(&(self.streams.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&self.original_len.to_le_bytes());
        bytes.push(self.checksum_kind as u8);
        bytes.extend_from_slice(&[0; 7]);
        bytes.extend_from_slice(&self.checksum);
        for (raw, packed) in &self.streams {
            bytes.extend_from_slice(&raw.to_le_bytes());
            bytes.extend_from_slice(&packed.to_le_bytes());
        }
        bytes
    }

    /// Bytes before the stream directory.
    fn header_size(&self) -> usize {
        if self.version == 1 {
            HEADER_SIZE_V1
        } else {
            HEADER_SIZE
        }
    }

    /// Where the checksum field lies.
    pub fn checksum_offset(&self) -> u64 {
        if self.version == 1 {
            24
        } else {
            32
        }
    }

    /// The recorded checksum in hex (its own length, without padding).
    pub fn checksum_hex(&self) -> String {
        crate::header::hex(&self.checksum[..self.checksum_kind.digest_len()])
    }

    /// `(offset, raw length, packed bytes)` of each stream of `container`
    /// (the bytes this header was parsed from).
    fn frames<'a>(&self, container: &'a [u8]) -> Vec<(u64, u64, &'a [u8])> {
        let mut offset = (self.header_size() + 16 * self.streams.len()) as u64;
        let mut frames = Vec::with_capacity(self.streams.len());
        for &(raw, packed) in &self.streams {
            frames.push((
                offset,
                raw,
                &container[offset as usize..(offset + packed) as usize],
            ));
            offset += packed;
        }
        frames
    }

    fn check_length(&self, decoded: u64) -> Result<(), Error> {
        if decoded == self.original_len {
            return Ok(());
        }
        Err(Error::BadField {
            field: "original length".into(),
            offset: 16,
            value: self.original_len.to_string(),
            problem: format!("the streams decode to {decoded} bytes"),
        })
    }

    /// Total bytes of the container.
    pub fn container_len(&self) -> u64 {
        (self.header_size() + 16 * self.streams.len()) as u64
            + self.streams.iter().map(|s| s.1).sum::<u64>()
    }
}

/// A dump read from a file that is either a raw dump (memory-mapped) or a
/// container (decompressed into memory, checksum verified). Every
/// subcommand that reads a dump opens it through this:
///
/// ```no_run
/// let source = pdmp::container::Source::open("emacs.pdmp.pdmpz".as_ref())?;
/// let dump = source.dump()?;        // same as DumpFile::dump on the raw file
/// println!("{} bytes, compressed: {}", dump.size(), source.is_compressed());
/// // An executable that carries a dump (`pdmp embed`) opens the same way.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum Source {
    Raw(DumpFile),
    Decompressed(Vec<u8>),
}

impl Source {
    /// Opens `path`; a container is recognised by its magic and decompressed.
    /// Errors of either kind are returned as [`Error`] (a raw dump's
    /// I/O errors as `Io`).
    pub fn open(path: &Path) -> Result<Source, crate::Error> {
        let file = DumpFile::open(path)?;
        if !is_container(file.bytes()) {
            return Ok(Source::Raw(file));
        }
        decompress(file.bytes())
            .map(Source::Decompressed)
            .map_err(|e| crate::Error::Io(std::io::Error::other(e.to_string())))
    }

    /// The file's bytes (decompressed if need be): a dump, or an executable
    /// that carries one.
    pub fn file_bytes(&self) -> &[u8] {
        match self {
            Source::Raw(file) => file.bytes(),
            Source::Decompressed(bytes) => bytes,
        }
    }

    /// The dump's bytes: the whole file, or the range an executable carries
    /// (`pdmp embed`), with where that range lies.
    pub fn bytes(&self) -> crate::Result<(&[u8], Option<Embedded>)> {
        crate::embed::dump_bytes(self.file_bytes()).map_err(|e| match e {
            EmbedError::Format(format) => format,
            other => crate::Error::Io(std::io::Error::other(other.to_string())),
        })
    }

    /// Parses the dump's header; see [`DumpFile::dump`].
    pub fn dump(&self) -> crate::Result<Dump<'_>> {
        Dump::parse(self.bytes()?.0)
    }

    pub fn is_compressed(&self) -> bool {
        matches!(self, Source::Decompressed(_))
    }
}

/// Runs `work` on every item with two threads (this one and one more);
/// results in item order.
fn in_parallel<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let count = items.len();
    let queue = Mutex::new(items.into_iter().enumerate());
    let drain = || {
        let mut mine = Vec::new();
        loop {
            let next = queue.lock().expect("queue").next();
            let Some((i, item)) = next else { break };
            mine.push((i, work(item)));
        }
        mine
    };
    let done = std::thread::scope(|scope| {
        let helper = scope.spawn(drain);
        let mut done = drain();
        done.extend(helper.join().expect("worker thread"));
        done
    });
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    for (i, r) in done {
        results[i] = Some(r);
    }
    results
        .into_iter()
        .map(|r| r.expect("every item done"))
        .collect()
}

/// Compresses `data` as one zstd frame into an anonymous temporary file:
/// the file and the frame's length.
fn zstd_compress(data: &[u8], level: i32) -> Result<(File, u64), Error> {
    let codec = |e: std::io::Error| Error::Codec(e.to_string());
    let mut encoder =
        zstd::stream::write::Encoder::new(tempfile::tempfile()?, level).map_err(codec)?;
    encoder.long_distance_matching(true).map_err(codec)?;
    encoder.window_log(WINDOW_LOG).map_err(codec)?;
    encoder.include_contentsize(true).map_err(codec)?;
    encoder
        .set_pledged_src_size(Some(data.len() as u64))
        .map_err(codec)?;
    encoder.write_all(data).map_err(codec)?;
    let mut file = encoder.finish().map_err(codec)?;
    let packed = file.stream_position()?;
    Ok((file, packed))
}

/// Decodes one zstd frame that must yield exactly `raw` bytes (a length
/// believed: within [`MAX_RESERVED_RATIO`] of the packed size, or checked
/// by [`check_decoded_len`]), in one call straight into place.
fn zstd_decompress(packed: &[u8], raw: u64) -> Result<Vec<u8>, String> {
    let mut out = crate::hugepages::zeroed(raw as usize);
    zstd_decompress_into(packed, &mut out)?;
    Ok(out)
}

/// Decodes one zstd frame without keeping what it yields, and checks that
/// it yields exactly `raw` bytes (reading at most one more).
fn check_decoded_len(packed: &[u8], raw: u64) -> Result<(), String> {
    let zstd = |e: std::io::Error| format!("zstd: {e}");
    let mut decoder = zstd::stream::read::Decoder::with_buffer(packed).map_err(zstd)?;
    decoder.window_log_max(window_log_max(raw)).map_err(zstd)?;
    let decoded = std::io::copy(
        &mut decoder.single_frame().take(raw + 1),
        &mut std::io::sink(),
    )
    .map_err(zstd)?;
    if decoded != raw {
        return Err(format!(
            "decodes to {decoded}{} bytes, the directory says {raw}",
            if decoded > raw { "+" } else { "" }
        ));
    }
    Ok(())
}

/// Decodes one zstd frame into `out`, which it must fill exactly (its
/// length is believed: the caller bounded it).
fn zstd_decompress_into(packed: &[u8], out: &mut [u8]) -> Result<(), String> {
    use zstd::zstd_safe::DParameter;
    let zstd = |e: std::io::Error| format!("zstd: {e}");
    let mut decoder = zstd::bulk::Decompressor::new().map_err(zstd)?;
    let raw = out.len();
    decoder
        .set_parameter(DParameter::WindowLogMax(window_log_max(raw as u64)))
        .map_err(zstd)?;
    let written = decoder
        .decompress_to_buffer(packed, out)
        .map_err(|e| format!("zstd: {e} (the directory says {raw} bytes)"))?;
    if written != raw {
        return Err(format!(
            "decodes to {written} bytes, the directory says {raw}"
        ));
    }
    Ok(())
}
