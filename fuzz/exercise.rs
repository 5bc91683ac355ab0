//! What each fuzz target does with its input, shared with
//! `tests/fuzz_regressions.rs`, which replays the inputs that once crashed.
//! Every function must return (not panic, not abort) on any input.

use pdmp::diff::SummaryDiff;
use pdmp::graph::Graph;
use pdmp::relocate::{self, Bases, PreferredBase};
use pdmp::stats::{self, Context};
use pdmp::summary::Summary;
use pdmp::symbol::SymbolNames;
use pdmp::symdiff::{Analysis, ContentDiff, Side};
use pdmp::{container, embed, transform, Dump};

/// The format layers: header, every table, regions, discardable copies,
/// the hash list, pvec numbering and `pdmp info`'s summary.
pub fn format(data: &[u8]) {
    let Ok(dump) = Dump::parse(data) else { return };
    for (_, table) in dump.dump_relocs() {
        for reloc in table.iter() {
            let _ = dump.word(reloc.offset);
        }
    }
    let starts = dump.object_starts();
    for start in starts.iter() {
        let _ = start.lisp_type();
        let _ = starts.find(start.offset);
    }
    for reloc in dump.emacs_relocs().iter() {
        std::hint::black_box(reloc);
    }
    let _ = dump.regions();
    let _ = dump.discardable_copies().count();
    if let Some(entries) = dump.hash_list_entries() {
        for offset in entries {
            let _ = dump.vector_header_at(offset);
        }
    }
    let _ = dump.pvec_numbering();
    let _ = serde_json::to_string(&Summary::of(&dump));
}

/// `pdmp verify`.
pub fn verify(data: &[u8]) {
    if let Ok(verification) = pdmp::verify::verify_bytes(data) {
        let _ = verification.is_sound();
        let _ = verification.failures();
    }
}

/// `pdmp stats`: the object graph, its dominators, symbol names, the
/// statistics and a symbol report.
pub fn analysis(data: &[u8]) {
    let Ok(dump) = Dump::parse(data) else { return };
    let Ok(graph) = Graph::build(&dump) else {
        return;
    };
    let names = SymbolNames::new(&dump, &graph, None);
    let dominators = stats::dominators(&graph);
    let context = Context::new(&dump, &graph, &dominators, &names);
    let _ = serde_json::to_string(&context.stats(5));
    for node in names.find("nil").into_iter().take(2) {
        let _ = serde_json::to_string(&context.symbol_report(node));
    }
    for node in graph.roots().take(4) {
        let _ = pdmp::symbol::lisp_string(&dump, &graph, node);
        let _ = dominators.dominated_by(node).len();
    }
}

/// `pdmp diff` of two inputs: the first 4 bytes (little endian) say where
/// the old dump ends, modulo the rest's length.
pub fn diff(data: &[u8]) {
    let Some((split, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let at = u32::from_le_bytes(*split) as usize % (rest.len() + 1);
    let (old, new) = rest.split_at(at);
    let (Ok(old), Ok(new)) = (Dump::parse(old), Dump::parse(new)) else {
        return;
    };
    let diff = SummaryDiff::of(&Summary::of(&old), &Summary::of(&new));
    let _ = diff.differs();
    let _ = diff.size().percent();
    let (Ok(old_graph), Ok(new_graph)) = (Graph::build(&old), Graph::build(&new)) else {
        return;
    };
    let old_analysis = Analysis::of(&old, &old_graph, None);
    let new_analysis = Analysis::of(&new, &new_graph, None);
    let content = ContentDiff::of(
        Side {
            dump: &old,
            graph: &old_graph,
            executable: None,
            analysis: &old_analysis,
        },
        Side {
            dump: &new,
            graph: &new_graph,
            executable: None,
            analysis: &new_analysis,
        },
        5,
        5,
    );
    let _ = content.same_content();
}

/// `pdmp relocate`: the lispsym offset, EARLY relocation into a copy, page
/// costs, pre-relocated dumps and the preferred-base trailer.
pub fn relocate(data: &[u8]) {
    let Ok(dump) = Dump::parse(data) else { return };
    let _ = PreferredBase::find(&dump);
    if relocate::ensure_not_prerelocated(&dump).is_err() {
        return;
    }
    let emacs_basis: u64 = 0x5555_5580_0000;
    let lispsym = match pdmp::executable::lispsym_offset(&dump) {
        Ok((offset, _)) => emacs_basis.wrapping_add_signed(offset),
        Err(_) => emacs_basis + 0x1000,
    };
    let bases = Bases {
        dump_base: 0x7f00_0000_0000,
        emacs_basis,
        lispsym,
    };
    let mut image = dump.bytes().to_vec();
    let _ = relocate::apply(&dump, &bases, Some(&mut image));
    let _ = relocate::page_costs(&dump, &bases);
    if let Ok((bytes, _)) = relocate::prerelocated(&dump, &bases) {
        // A pre-relocated dump parses and says so.
        let again = Dump::parse(&bytes).expect("a pre-relocated dump parses");
        assert!(relocate::ensure_not_prerelocated(&again).is_err());
    }
}

/// `pdmp compress`/`decompress`: the relocation-aware split, container
/// parsing and decompression, and `join` of streams it must not trust.
pub fn container(data: &[u8]) {
    if let Some(streams) = transform::split(data) {
        let _ = transform::join(&streams);
    }
    if container::is_container(data) {
        if let Ok(header) = container::Header::parse(data) {
            let _ = header.container_len();
        }
        let _ = container::decompress(data);
    }
    let streams: Vec<Vec<u8>> = data
        .chunks(data.len() / 7 + 1)
        .map(<[u8]>::to_vec)
        .collect();
    let _ = transform::join(&streams);
}

/// `pdmp embed --check`, `extract` and every command's input path, on the
/// input taken as an executable that may carry a dump.
pub fn embed(data: &[u8]) {
    if let Ok(Some(found)) = embed::find(data) {
        let _ = found.slice(data);
        let _ = found.verify(data);
    }
    let _ = embed::check(data);
    let _ = embed::dump_bytes(data);
}

/// The Emacs Lisp reader (`pdmp dump`'s input).
pub fn reader(data: &[u8]) {
    let _ = pdmp::reader::read_all(data);
}
