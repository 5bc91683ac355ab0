//! pdmp: read, check and build portable heap dumps in the format of GNU
//! Emacs's portable dumper (`emacs.pdmp`).
//!
//! The format layers follow the file: [`header`] parses and checks the
//! header, [`tables`] gives zero-copy typed views of the relocation and
//! object-start tables ([`tally`] counts one in a single pass), [`dump`] ties them to the bytes with bounds-checked
//! access; [`lisp`] and [`pvec`] name what the tables point at.
//!
//! On top of them, one module per job: [`summary`] (what `pdmp info`
//! prints), [`verify`] (the format's invariants), [`graph`], [`dominators`],
//! [`symbol`] and [`stats`] (where the bytes go), [`structural`], [`symdiff`]
//! and [`diff`] (comparing dumps by content), [`relocate`] and [`exe`]
//! (the loader's arithmetic, offline; [`prerelocation`] undoes it for a
//! pre-relocated dump), [`pairing`], [`native`] and
//! [`locate`] (a dump and its executable), [`embed`] (a dump inside an
//! executable), [`transform`] and [`container`] (compression using the
//! dump's own pointer map; [`container::Source`] opens a raw dump, a
//! container or an executable carrying a dump alike).
//!
//! [`peak`] measures the heap a run uses, for the memory budget tests.
//!
//! The reference dumper and runtime: [`reader`], [`form`] and [`value`]
//! (Emacs Lisp read syntax), [`heap`], [`scratch`], [`segmented`], [`objlayout`], [`image`] and [`writer`] (writing
//! dumps), [`loader`] (loading them back), [`origin`] (where a runtime
//! finds its dump: a file, or its own executable).
//!
//! ```no_run
//! let file = pdmp::DumpFile::open("emacs.pdmp".as_ref())?;
//! let dump = file.dump()?;
//! for (phase, table) in dump.dump_relocs() {
//!     println!("{}: {} relocations", phase.name(), table.len());
//! }
//! # Ok::<(), pdmp::Error>(())
//! ```

pub mod container;
pub mod diff;
pub mod dominators;
pub mod dump;
pub mod embed;
pub mod error;
pub mod executable;
pub mod form;
pub mod graph;
pub mod header;
pub mod heap;
pub mod hugepages;
pub mod image;
pub mod lisp;
pub mod loader;
pub mod locate;
pub mod native;
pub mod objlayout;
pub mod origin;
pub mod pairing;
pub mod peak;
pub mod prerelocation;
pub mod pvec;
pub mod reader;
pub mod relocate;
pub mod scratch;
pub mod segmented;
pub mod stats;
pub mod structural;
pub mod summary;
pub mod symbol;
pub mod symdiff;
pub mod tables;
pub mod tally;
pub mod transform;
pub mod value;
pub mod verify;
pub mod writer;

pub use dump::{Dump, DumpFile, Regions, Span};
pub use error::{Error, Result};
pub use header::{Header, Layout, Phase};
