//! Dumps written pre-relocated for a preferred base hold addresses where
//! other dumps hold offsets. This module recognises either record of the
//! bases such a dump was written for — the trailer `pdmp relocate
//! --preferred-base` appends to a GNU Emacs dump ([`PreferredBase`]), or the
//! reference dumper's IMMEDIATE emacs relocation of the runtime variable
//! `PREFERRED_BASE` (`pdmp dump --preferred-base`) — and gives back the words
//! as they were before pre-relocation, so that checks written for offsets
//! (`pdmp verify`) apply to them unchanged. Every arithmetic kind is linear
//! in the bases ([`relocated_word`]), so undoing it is one subtraction per site.

use crate::dump::Dump;
use crate::header::{Phase, FINGERPRINT_LEN};
use crate::image::{self, var};
use crate::relocate::{relocated_word, Bases, PreferredBase, PREFERRED_TRAILER_SIZE};
use crate::tables::{EmacsRelocValue, RelocKind};

/// Which record told the bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// The 96-byte trailer of `pdmp relocate --preferred-base`.
    Trailer,
    /// The reference dumper's IMMEDIATE emacs relocation setting the
    /// reference runtime's `PREFERRED_BASE` (`pdmp dump --preferred-base`).
    ReferenceDumper,
}

/// The bases a pre-relocated dump was written for, and where they were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PreRelocation {
    pub source: Record,
    #[serde(flatten)]
    pub bases: Bases,
    /// The fingerprint of the dump before pre-relocation, when the header
    /// carries another (the trailer's record: the header's is inverted).
    #[serde(serialize_with = "hex_fingerprint")]
    pub original_fingerprint: Option<[u8; FINGERPRINT_LEN]>,
}

fn hex_fingerprint<S: serde::Serializer>(
    fingerprint: &Option<[u8; FINGERPRINT_LEN]>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match fingerprint {
        Some(f) => s.serialize_some(&crate::header::hex(f)),
        None => s.serialize_none(),
    }
}

/// The preferred base a reference dump records: an IMMEDIATE emacs
/// relocation of 8 bytes setting the reference runtime's `PREFERRED_BASE`
/// to a non-zero address. Meaningful only for dumps of the reference
/// runtime (its fingerprint), whose loader reads it.
pub fn recorded_preferred_base(dump: &Dump<'_>) -> Option<u64> {
    dump.emacs_relocs().iter().find_map(|r| match r.value {
        EmacsRelocValue::Immediate { value, length: 8 }
            if r.emacs_offset as u64 == var::PREFERRED_BASE && value != 0 =>
        {
            Some(value as u64)
        }
        _ => None,
    })
}

impl PreRelocation {
    /// The record of a pre-relocated dump, or `None` for an ordinary one
    /// (which costs a look at the file's last bytes and its fingerprint).
    pub fn find(dump: &Dump<'_>) -> Option<PreRelocation> {
        if let Some(trailer) = PreferredBase::find(dump) {
            return Some(PreRelocation {
                source: Record::Trailer,
                bases: trailer.bases,
                original_fingerprint: Some(trailer.original_fingerprint),
            });
        }
        if dump.header().fingerprint != image::FINGERPRINT {
            return None;
        }
        // The reference runtime's image lies just below the dump's mapping.
        let dump_base = recorded_preferred_base(dump)?;
        let emacs_basis = dump_base.wrapping_sub(image::image_area());
        Some(PreRelocation {
            source: Record::ReferenceDumper,
            bases: Bases {
                dump_base,
                emacs_basis,
                lispsym: emacs_basis.wrapping_add(image::LISPSYM),
            },
            original_fingerprint: None,
        })
    }

    /// The dump's bytes as they were before pre-relocation: each arithmetic
    /// relocation of the EARLY phase (Emacs 27: the only table) less what
    /// relocating it for [`Self::bases`] adds, each bignum of a reference
    /// dump back from its loaded form (a GMP `mpz` `{alloc, size, limbs}`)
    /// to `{int32 data_location, int32 nlimbs}`, the original fingerprint
    /// in the header and the trailer dropped. Sites beyond the file are
    /// left alone (verification reports them), so any input works.
    pub fn original_bytes(&self, dump: &Dump<'_>) -> Vec<u8> {
        let bytes = dump.bytes();
        let len = match self.source {
            Record::Trailer => bytes.len().saturating_sub(PREFERRED_TRAILER_SIZE),
            Record::ReferenceDumper => bytes.len(),
        };
        let mut out = bytes[..len].to_vec();
        if let (Some(fingerprint), Some(field)) = (
            self.original_fingerprint,
            out.get_mut(16..16 + FINGERPRINT_LEN),
        ) {
            field.copy_from_slice(&fingerprint);
        }
        let layout = dump.header().layout;
        let addend: [Option<u64>; 32] = std::array::from_fn(|t| {
            relocated_word(RelocKind::from_type(t as u32, layout), 0, &self.bases)
        });
        let bignums = self.source == Record::ReferenceDumper;
        let word = |out: &[u8], at: u64| {
            let at = usize::try_from(at).ok()?;
            Some(u64::from_le_bytes(out.get(at..at + 8)?.try_into().ok()?))
        };
        let put = |out: &mut [u8], at: u64, value: u64| {
            if let Some(site) = usize::try_from(at)
                .ok()
                .and_then(|at| out.get_mut(at..at.checked_add(8)?))
            {
                site.copy_from_slice(&value.to_le_bytes());
            }
        };
        for (phase, table) in dump.dump_relocs() {
            if !matches!(phase, Phase::Early | Phase::All) {
                continue;
            }
            for (site, t) in table.raw() {
                match addend[t as usize & 31] {
                    Some(a) => {
                        if let Some(w) = word(&out, site) {
                            put(&mut out, site, w.wrapping_sub(a));
                        }
                    }
                    None if bignums && RelocKind::from_type(t, layout) == RelocKind::Bignum => {
                        let (Some(mpz), Some(limbs)) =
                            (word(&out, site + 8), word(&out, site + 16))
                        else {
                            continue;
                        };
                        // The mpz's size is nlimbs with its sign; the limbs
                        // pointer is the dump base plus data_location.
                        let location = limbs.wrapping_sub(self.bases.dump_base) as u32;
                        put(
                            &mut out,
                            site + 8,
                            u64::from(location) | (mpz & !0xffff_ffff),
                        );
                        put(&mut out, site + 16, 0);
                    }
                    None => {}
                }
            }
        }
        out
    }
}
