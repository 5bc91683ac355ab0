//! Comparing two dumps by what they contain, not where it sits: the figures
//! of their summaries side by side, with absolute and relative change.

use crate::summary::{Counts, Summary};

/// One figure in both dumps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delta {
    /// Which part of the summary the figure comes from, e.g. `object_starts`.
    pub section: String,
    pub name: String,
    pub old: u64,
    pub new: u64,
    /// `new - old`.
    pub change: i64,
}

impl Delta {
    fn new(section: &str, name: &str, old: u64, new: u64) -> Delta {
        Delta {
            section: section.to_string(),
            name: name.to_string(),
            old,
            new,
            change: new as i64 - old as i64,
        }
    }

    /// Change relative to the old figure, in percent; `None` when it was 0.
    pub fn percent(&self) -> Option<f64> {
        (self.old != 0).then(|| self.change as f64 * 100.0 / self.old as f64)
    }
}

/// Every figure of two summaries, paired by section and name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SummaryDiff {
    pub old_layout: String,
    pub new_layout: String,
    pub old_fingerprint: String,
    pub new_fingerprint: String,
    pub figures: Vec<Delta>,
}

impl SummaryDiff {
    pub fn of(old: &Summary, new: &Summary) -> SummaryDiff {
        let mut figures = vec![Delta::new("file", "size", old.size, new.size)];
        let (ob, nb) = (old.byte_counts, new.byte_counts);
        for (name, o, n) in [
            ("header", ob.header, nb.header),
            ("hot", ob.hot, nb.hot),
            ("discardable", ob.discardable, nb.discardable),
            ("cold", ob.cold, nb.cold),
        ] {
            figures.push(Delta::new("byte_counts", name, o, n));
        }
        figures.push(Delta::new(
            "regions",
            "discardable",
            old.regions.discardable.size,
            new.regions.discardable.size,
        ));
        figures.push(Delta::new(
            "regions",
            "cold_heap",
            old.regions.cold_heap.size,
            new.regions.cold_heap.size,
        ));
        figures.push(Delta::new(
            "regions",
            "tables",
            old.regions.tables.size,
            new.regions.tables.size,
        ));
        pair_counts(
            &mut figures,
            "object_starts",
            &old.object_starts,
            &new.object_starts,
        );
        pair_counts(&mut figures, "vectorlike", &old.vectorlike, &new.vectorlike);
        for phase in old.relocations.iter().chain(&new.relocations) {
            let section = format!("relocations.{}", phase.phase.name());
            if figures.iter().any(|f| f.section == section) {
                continue;
            }
            let find = |s: &Summary| {
                s.relocations
                    .iter()
                    .find(|p| p.phase == phase.phase)
                    .map(|p| p.by_kind.clone())
                    .unwrap_or_default()
            };
            pair_counts(&mut figures, &section, &find(old), &find(new));
        }
        pair_counts(
            &mut figures,
            "emacs_relocs",
            &old.emacs_relocs,
            &new.emacs_relocs,
        );
        let list_len = |s: &Summary| s.hash_list.and_then(|l| l.length).unwrap_or(0);
        figures.push(Delta::new(
            "hash_list",
            "length",
            list_len(old),
            list_len(new),
        ));
        SummaryDiff {
            old_layout: old.layout.name().to_string(),
            new_layout: new.layout.name().to_string(),
            old_fingerprint: old.fingerprint.clone(),
            new_fingerprint: new.fingerprint.clone(),
            figures,
        }
    }

    /// Whether any figure, the layout or the fingerprint differs.
    pub fn differs(&self) -> bool {
        self.old_layout != self.new_layout
            || self.old_fingerprint != self.new_fingerprint
            || self.figures.iter().any(|f| f.change != 0)
    }

    /// The file-size figure.
    pub fn size(&self) -> &Delta {
        &self.figures[0]
    }
}

/// Adds one figure per name found in either count list, old order first.
fn pair_counts(figures: &mut Vec<Delta>, section: &str, old: &Counts, new: &Counts) {
    let mut names: Vec<&str> = old.0.iter().map(|(n, _)| n.as_str()).collect();
    for (name, _) in &new.0 {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    for name in names {
        let o = old.get(name).unwrap_or(0);
        let n = new.get(name).unwrap_or(0);
        figures.push(Delta::new(section, name, o, n));
    }
}
