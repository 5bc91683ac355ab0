//! pdmp: read, check and build portable heap dumps in the format of GNU
//! Emacs's portable dumper (`emacs.pdmp`).
//!
//! The layers follow the file: [`header`] parses and checks the header,
//! [`tables`] gives zero-copy typed views of the relocation and object-start
//! tables, [`dump`] ties them to the bytes with bounds-checked access, and
//! [`summary`] is the overview `pdmp info` prints. [`pvec`] knows the
//! vectorlike numbering of each Emacs version; [`locate`] finds the dump an
//! installed Emacs loads. [`relocate`] applies relocations offline for
//! chosen addresses and [`exe`] recovers those addresses from the executable.
//! installed Emacs loads; [`embed`] puts a dump inside an executable and
//! finds it there.
//! installed Emacs loads. [`transform`] and [`container`] compress a dump
//! using its own relocation tables; [`container::Source`] opens a raw or
//! compressed dump alike.
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
pub mod exe;
pub mod executable;
pub mod graph;
pub mod header;
pub mod lisp;
pub mod locate;
pub mod native;
pub mod pairing;
pub mod pvec;
pub mod relocate;
pub mod stats;
pub mod summary;
pub mod symbol;
pub mod tables;
pub mod transform;
pub mod verify;

pub use dump::{Dump, DumpFile, Regions, Span};
pub use error::{Error, Result};
pub use header::{Header, Layout, Phase};
pub mod heap;
pub mod image;
pub mod loader;
pub mod objlayout;
pub mod reader;
pub mod value;
pub mod writer;
