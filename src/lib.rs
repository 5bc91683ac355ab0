//! pdmp: read, check and build portable heap dumps in the format of GNU
//! Emacs's portable dumper (`emacs.pdmp`).
//!
//! The layers follow the file: [`header`] parses and checks the header,
//! [`tables`] gives zero-copy typed views of the relocation and object-start
//! tables, [`dump`] ties them to the bytes with bounds-checked access, and
//! [`summary`] is the overview `pdmp info` prints. [`pvec`] knows the
//! vectorlike numbering of each Emacs version; [`locate`] finds the dump an
//! installed Emacs loads.
//!
//! ```no_run
//! let file = pdmp::DumpFile::open("emacs.pdmp".as_ref())?;
//! let dump = file.dump()?;
//! for (phase, table) in dump.dump_relocs() {
//!     println!("{}: {} relocations", phase.name(), table.len());
//! }
//! # Ok::<(), pdmp::Error>(())
//! ```

pub mod diff;
pub mod dominators;
pub mod dump;
pub mod error;
pub mod executable;
pub mod graph;
pub mod header;
pub mod lisp;
pub mod locate;
pub mod pvec;
pub mod stats;
pub mod structural;
pub mod summary;
pub mod symbol;
pub mod symdiff;
pub mod tables;

pub use dump::{Dump, DumpFile, Regions, Span};
pub use error::{Error, Result};
pub use header::{Header, Layout, Phase};
