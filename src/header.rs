//! The dump header: magic, fingerprint, table locators and region starts.
//!
//! The file carries no version number. Emacs 27 wrote an 80-byte header with
//! one relocation table; Emacs 28–30 write 100 bytes with three relocation
//! phases and a hash list. [`Header::parse`] tries both readings and keeps the
//! one under which the tables lie back to back and end at the end of the file.

use crate::error::{Error, Result};

/// `"DUMPEDGNUEMACS"` and two NUL bytes.
pub const MAGIC: [u8; 16] = *b"DUMPEDGNUEMACS\0\0";
/// Byte 0 while a dump is being written (and after a failed one).
pub const FAILED_DUMP_MARKER: u8 = b'!';
/// Length of the build fingerprint that pairs a dump with its executable.
pub const FINGERPRINT_LEN: usize = 32;
/// Every table starts on this boundary; so does every dumped object.
pub const TABLE_ALIGNMENT: u64 = 8;

/// Bytes per entry of a dump relocation table and of the object-starts table.
pub const DUMP_RELOC_SIZE: u64 = 4;
/// Bytes per entry of the emacs relocation table.
pub const EMACS_RELOC_SIZE: u64 = 16;

/// Which header layout (and so which relocation numbering) a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Layout {
    /// Emacs 27: 80-byte header, one relocation table, cold region page aligned.
    #[serde(rename = "emacs-27")]
    Emacs27,
    /// Emacs 28, 29 and 30: 100-byte header, three relocation phases, hash list.
    #[serde(rename = "emacs-28")]
    Emacs28,
}

impl Layout {
    pub const ALL: [Layout; 2] = [Layout::Emacs28, Layout::Emacs27];

    /// Size of the header in bytes.
    pub fn header_size(self) -> u64 {
        match self {
            Layout::Emacs27 => 80,
            Layout::Emacs28 => 100,
        }
    }

    /// Number of dump relocation tables (phases).
    pub fn phase_count(self) -> usize {
        match self {
            Layout::Emacs27 => 1,
            Layout::Emacs28 => 3,
        }
    }

    /// The boundary `cold_start` is rounded up to: the dumping host's page size
    /// in 27 (4 KiB on x86_64 GNU/Linux), 64 KiB from 28 on.
    pub fn cold_alignment(self) -> u64 {
        match self {
            Layout::Emacs27 => 4096,
            Layout::Emacs28 => 65536,
        }
    }

    /// Short name used in output and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Emacs27 => "emacs-27",
            Layout::Emacs28 => "emacs-28",
        }
    }

    /// Human description.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Emacs27 => "Emacs 27 (80-byte header, one relocation table)",
            Layout::Emacs28 => "Emacs 28-30 (100-byte header, three relocation phases, hash list)",
        }
    }

    /// Where each header field lies in this layout (for messages that name
    /// a field's byte offset).
    pub fn field_offsets(self) -> FieldOffsets {
        match self {
            Layout::Emacs27 => FieldOffsets {
                dump_relocs: [48, 0, 0],
                object_starts: 56,
                emacs_relocs: 64,
                discardable_start: 72,
                cold_start: 76,
                hash_list: None,
            },
            Layout::Emacs28 => FieldOffsets {
                dump_relocs: [48, 56, 64],
                object_starts: 72,
                emacs_relocs: 80,
                discardable_start: 88,
                cold_start: 92,
                hash_list: Some(96),
            },
        }
    }
}

/// Byte offsets of the header fields of one layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldOffsets {
    /// One table locator per phase; unused entries are 0.
    pub dump_relocs: [u64; 3],
    pub object_starts: u64,
    pub emacs_relocs: u64,
    pub discardable_start: u64,
    pub cold_start: u64,
    /// `None` in Emacs 27, which has no hash list.
    pub hash_list: Option<u64>,
}

/// When a dump relocation table is applied by the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Emacs 27's single table, applied in one pass.
    All,
    /// Right after mapping (everything but native compilation).
    Early,
    /// After the post-load hooks: native-comp units.
    Late,
    /// Right after LATE: native subrs.
    VeryLate,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::All => "all",
            Phase::Early => "early",
            Phase::Late => "late",
            Phase::VeryLate => "very_late",
        }
    }

    /// Name of the header field that locates this phase's table.
    pub fn table_name(self) -> &'static str {
        match self {
            Phase::All => "dump_relocs",
            Phase::Early => "dump_relocs[EARLY]",
            Phase::Late => "dump_relocs[LATE]",
            Phase::VeryLate => "dump_relocs[VERY_LATE]",
        }
    }

    /// The phases a layout has, in header order.
    pub fn of(layout: Layout) -> &'static [Phase] {
        match layout {
            Layout::Emacs27 => &[Phase::All],
            Layout::Emacs28 => &[Phase::Early, Phase::Late, Phase::VeryLate],
        }
    }
}

/// Where a table lies: byte offset from the start of the file and entry count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableLocator {
    pub offset: u64,
    pub count: u64,
}

impl TableLocator {
    /// Offset just past the last entry.
    pub fn end(&self, entry_size: u64) -> u64 {
        self.offset + self.count * entry_size
    }
}

/// A parsed and self-consistent header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub layout: Layout,
    pub fingerprint: [u8; FINGERPRINT_LEN],
    dump_relocs: [TableLocator; 3],
    pub object_starts: TableLocator,
    pub emacs_relocs: TableLocator,
    /// End of the hot region, start of the discardable one (not aligned).
    pub discardable_start: u64,
    /// Start of the cold region.
    pub cold_start: u64,
    /// Offset of the vector listing every dumped hash table (28+; `None` in
    /// 27, `Some(0)` would mean "none" to the loader).
    pub hash_list: Option<u64>,
    /// Bytes after the last table. The writer never leaves any; Emacs's
    /// loader ignores them.
    pub trailing_bytes: u64,
}

impl Header {
    /// Reads and checks the header of `data`, a whole dump file.
    pub fn parse(data: &[u8]) -> Result<Header> {
        let size = data.len() as u64;
        if size == 0 {
            return Err(Error::Empty);
        }
        let smallest = Layout::Emacs27.header_size();
        if size < smallest {
            return Err(Error::TooShort {
                size,
                needed: smallest,
            });
        }
        check_magic(&data[..16])?;
        if size > i32::MAX as u64 {
            return Err(Error::TooLarge { size });
        }
        // Each layout reading either succeeds or fails at some stage. Of two
        // failures, the reading whose last table still ends at the end of the
        // file (one corrupted field) or else the one that got further
        // explains the file best.
        let mut best: Option<((bool, Stage), Error)> = None;
        let mut fits = Vec::with_capacity(2);
        for layout in Layout::ALL {
            match read_as(data, layout) {
                Ok(header) => fits.push(header),
                Err((stage, err)) => {
                    let rank = (last_table_ends_at_eof(data, layout), stage);
                    if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                        best = Some((rank, err));
                    }
                }
            }
        }
        // Prefer a reading that ends exactly at the end of the file.
        fits.sort_by_key(|h| h.trailing_bytes != 0);
        match fits.into_iter().next() {
            Some(header) => Ok(header),
            None => Err(best.expect("two layouts were tried").1),
        }
    }

    /// The dump relocation tables, one per phase of this layout.
    pub fn dump_reloc_tables(&self) -> impl Iterator<Item = (Phase, TableLocator)> + '_ {
        Phase::of(self.layout)
            .iter()
            .zip(self.dump_relocs.iter())
            .map(|(p, t)| (*p, *t))
    }

    /// Offset of the first table, i.e. the end of the cold heap data.
    pub fn tables_start(&self) -> u64 {
        self.dump_relocs[0].offset
    }

    /// Offset just past the last table.
    pub fn tables_end(&self) -> u64 {
        self.emacs_relocs.end(EMACS_RELOC_SIZE)
    }

    /// The fingerprint as 64 lower-case hex digits, as Emacs prints it.
    pub fn fingerprint_hex(&self) -> String {
        hex(&self.fingerprint)
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_magic(magic: &[u8]) -> Result<()> {
    if magic == MAGIC {
        return Ok(());
    }
    if magic[0] == FAILED_DUMP_MARKER && magic[1..] == MAGIC[1..] {
        return Err(Error::FailedDump);
    }
    Err(Error::BadMagic {
        found: format!("{:?}", String::from_utf8_lossy(magic)),
    })
}

/// How far a layout reading got before it failed; later is more convincing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Fields,
    FirstTable,
    Chain,
    Regions,
    EndOfFile,
}

/// Whether the emacs_relocs locator of `layout` ends exactly at the end of the file.
fn last_table_ends_at_eof(data: &[u8], layout: Layout) -> bool {
    let at = layout.field_offsets().emacs_relocs;
    if data.len() < layout.header_size() as usize {
        return false;
    }
    let (offset, count) = (read_i32(data, at), read_i32(data, at + 4));
    offset >= 0
        && count >= 0
        && offset as u64 + count as u64 * EMACS_RELOC_SIZE == data.len() as u64
}

fn read_i32(data: &[u8], at: u64) -> i32 {
    let at = at as usize;
    i32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

fn read_as(data: &[u8], layout: Layout) -> std::result::Result<Header, (Stage, Error)> {
    let size = data.len() as u64;
    let header_size = layout.header_size();
    if size < header_size {
        return Err((
            Stage::Fields,
            Error::TooShort {
                size,
                needed: header_size,
            },
        ));
    }
    let at = layout.field_offsets();
    let non_negative = |field: &'static str, field_offset: u64| {
        let value = read_i32(data, field_offset);
        u64::try_from(value).map_err(|_| {
            (
                Stage::Fields,
                Error::BadField {
                    field,
                    field_offset,
                    value: value.into(),
                    problem: "offsets and counts cannot be negative".into(),
                },
            )
        })
    };
    let locator = |name: &'static str, field_offset: u64| {
        Ok(TableLocator {
            offset: non_negative(name, field_offset)?,
            count: non_negative(name, field_offset + 4)?,
        })
    };

    let phases = Phase::of(layout);
    let mut dump_relocs = [TableLocator {
        offset: 0,
        count: 0,
    }; 3];
    for (i, phase) in phases.iter().enumerate() {
        dump_relocs[i] = locator(phase.table_name(), at.dump_relocs[i])?;
    }
    let object_starts = locator("object_starts", at.object_starts)?;
    let emacs_relocs = locator("emacs_relocs", at.emacs_relocs)?;
    let discardable_start = non_negative("discardable_start", at.discardable_start)?;
    let cold_start = non_negative("cold_start", at.cold_start)?;
    let hash_list = match at.hash_list {
        Some(offset) => Some(non_negative("hash_list", offset)?),
        None => None,
    };

    let bad = |stage, field, field_offset, value: u64, problem: String| {
        (
            stage,
            Error::BadField {
                field,
                field_offset,
                value: value as i64,
                problem,
            },
        )
    };

    // The tables follow one another in header order, each 8-aligned.
    let first = dump_relocs[0];
    if first.offset < header_size || first.offset % TABLE_ALIGNMENT != 0 {
        return Err(bad(
            Stage::FirstTable,
            phases[0].table_name(),
            at.dump_relocs[0],
            first.offset,
            format!("the first table must start 8-aligned after the {header_size}-byte header"),
        ));
    }
    let mut chain: Vec<(&'static str, u64, TableLocator, u64)> = phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.table_name(),
                at.dump_relocs[i],
                dump_relocs[i],
                DUMP_RELOC_SIZE,
            )
        })
        .collect();
    chain.push((
        "object_starts",
        at.object_starts,
        object_starts,
        DUMP_RELOC_SIZE,
    ));
    chain.push((
        "emacs_relocs",
        at.emacs_relocs,
        emacs_relocs,
        EMACS_RELOC_SIZE,
    ));
    for pair in chain.windows(2) {
        let (prev_name, _, prev, prev_entry) = pair[0];
        let (name, field_offset, table, _) = pair[1];
        let expected = prev.end(prev_entry).next_multiple_of(TABLE_ALIGNMENT);
        if table.offset != expected {
            return Err(bad(
                Stage::Chain,
                name,
                field_offset,
                table.offset,
                format!("expected {expected}, the 8-aligned end of the {prev_name} table"),
            ));
        }
    }

    // Regions: header, hot, discardable, cold, then the tables.
    if discardable_start < header_size || discardable_start > cold_start {
        return Err(bad(
            Stage::Regions,
            "discardable_start",
            at.discardable_start,
            discardable_start,
            format!(
                "must lie between the header end ({header_size}) and cold_start ({cold_start})"
            ),
        ));
    }
    if cold_start > first.offset || cold_start % layout.cold_alignment() != 0 {
        return Err(bad(
            Stage::Regions,
            "cold_start",
            at.cold_start,
            cold_start,
            format!(
                "must be a multiple of {} at or before the first table ({})",
                layout.cold_alignment(),
                first.offset
            ),
        ));
    }
    if let (Some(list), Some(field_offset)) = (hash_list, at.hash_list) {
        if list != 0 && (list < header_size || list >= discardable_start || list % 8 != 0) {
            return Err(bad(
                Stage::Regions,
                "hash_list",
                field_offset,
                list,
                format!("must be 0 or an 8-aligned offset in the hot region [{header_size}, {discardable_start})"),
            ));
        }
    }

    let end = emacs_relocs.end(EMACS_RELOC_SIZE);
    if end > size {
        // Name the first table that crosses the end of the file.
        let (table, _, locator, _) = chain
            .iter()
            .find(|(_, _, t, entry)| t.end(*entry) > size)
            .expect("the last table crosses the end");
        return Err((
            Stage::EndOfFile,
            Error::TableOutOfBounds {
                table,
                offset: locator.offset,
                count: locator.count,
                size,
                missing: end - size,
            },
        ));
    }
    Ok(Header {
        layout,
        fingerprint: data[16..48].try_into().expect("32 bytes"),
        dump_relocs,
        object_starts,
        emacs_relocs,
        discardable_start,
        cold_start,
        hash_list,
        trailing_bytes: size - end,
    })
}
