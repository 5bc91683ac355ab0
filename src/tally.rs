//! One counting pass over a table of packed 32-bit entries (dump
//! relocations, object starts): entries by 5-bit type number, entries below
//! a few offset bounds, and the offsets of the entries of one chosen type.
//!
//! `pdmp info` spends most of its own time in these passes over half a
//! million entries, so on x86_64 the pass runs on SSE2, which is part of
//! the x86_64 baseline (no run-time feature detection: a CPUID traps to the
//! hypervisor on the VMs pdmp is measured on and costs more than the pass
//! saves). Elsewhere a portable scalar loop does the same work; tests check
//! the two against each other and against a one-entry-at-a-time count.

use crate::tables::{OFFSET_BITS, OFFSET_MASK};

/// What one pass over a table finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally<const N: usize> {
    /// Entries by 5-bit type number.
    pub by_type: [u64; 32],
    /// For each bound, the entries whose byte offset lies below it.
    pub below: [u64; N],
}

/// Counts the packed little-endian entries in `bytes` (whole entries; a
/// partial one at the end is ignored): by type, and below each of the byte
/// offsets `bounds`. Every entry whose type number is `select` has its byte
/// offset passed to `selected`, in table order.
pub fn tally<const N: usize>(
    bytes: &[u8],
    bounds: [u64; N],
    select: Option<u32>,
    selected: &mut impl FnMut(u64),
) -> Tally<N> {
    tally_guided(bytes, bounds, select, selected, &[0; 32])
}

/// [`tally`] for one piece of a longer table, given the counts by type of
/// the pieces before it (`guide`): the vector pass then tracks the types
/// those showed from the start instead of learning them again (counts are
/// exact whatever the guide says; only the speed depends on it).
///
/// Inlined, so that each caller's constant `select` and bounds leave no
/// test in the per-block loop.
#[inline(always)]
pub fn tally_guided<const N: usize>(
    bytes: &[u8],
    bounds: [u64; N],
    select: Option<u32>,
    selected: &mut impl FnMut(u64),
    guide: &[u64; 32],
) -> Tally<N> {
    // Type numbers have 5 bits: a larger `select` matches nothing.
    let select = select.filter(|&s| s < 32);
    // The order of the offsets matters only for counting below bounds.
    let check_order = N > 0;
    // SAFETY: SSE2 is part of the x86_64 baseline, enabled in every x86_64 build.
    #[cfg(target_arch = "x86_64")]
    let pass = unsafe { sse2::pass(bytes, check_order, select, selected, guide) };
    #[cfg(not(target_arch = "x86_64"))]
    let pass = {
        let _ = guide;
        scalar::pass(bytes, check_order, select, selected)
    };
    Tally {
        by_type: pass.by_type,
        below: if pass.ascending {
            below_sorted(bytes, bounds)
        } else {
            below_counted(bytes, bounds)
        },
    }
}

/// What the pass over the entries finds.
struct Pass {
    by_type: [u64; 32],
    /// Whether the offsets never decrease (when asked; else false).
    ascending: bool,
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"))
}

/// offset = field * 4, so offset < bound <=> field < ceil(bound / 4).
/// Fields have 27 bits: any limit above 2^27 counts every entry, so the
/// limits fit signed 32-bit lanes.
fn field_limit(bound: u64) -> u32 {
    bound.div_ceil(4).min(1 << OFFSET_BITS) as u32
}

/// Entries below each bound in a table whose offsets never decrease, by
/// binary search.
fn below_sorted<const N: usize>(bytes: &[u8], bounds: [u64; N]) -> [u64; N] {
    let field = |i: usize| le_u32(&bytes[i * 4..]) & OFFSET_MASK;
    bounds.map(|bound| {
        let limit = field_limit(bound);
        let (mut low, mut high) = (0, bytes.len() / 4);
        while low < high {
            let mid = low + (high - low) / 2;
            if field(mid) < limit {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low as u64
    })
}

/// Entries below each bound in any table: a branch-free pass per bound that
/// the compiler vectorizes.
fn below_counted<const N: usize>(bytes: &[u8], bounds: [u64; N]) -> [u64; N] {
    let mut counts = [0u64; N];
    // Sums of at most 2^16 ones fit the u32 lanes the loop vectorizes into.
    for chunk in bytes.chunks(4 << 16) {
        for (count, bound) in counts.iter_mut().zip(bounds) {
            let limit = field_limit(bound);
            let below: u32 = chunk
                .chunks_exact(4)
                .map(|entry| u32::from((le_u32(entry) & OFFSET_MASK) < limit))
                .sum();
            *count += u64::from(below);
        }
    }
    counts
}

/// The portable pass, and the x86_64 pass's helper for the entries around
/// its blocks and for stretches whose types it does not track.
mod scalar {
    use super::*;

    /// `bytes` by type, added to `by_type`: four entries per step into four
    /// separate tallies, so that runs of one type (conses come in long runs)
    /// do not wait on each other's increments.
    pub(super) fn add_types(bytes: &[u8], by_type: &mut [u64; 32]) {
        // u32 tallies, flushed every 2^24 entries so none can overflow.
        for part in bytes.chunks(4 << 24) {
            let mut tallies = [[0u32; 32]; 4];
            let mut blocks = part.chunks_exact(16);
            for block in &mut blocks {
                for (lane, tally) in tallies.iter_mut().enumerate() {
                    tally[(le_u32(&block[lane * 4..]) >> OFFSET_BITS) as usize] += 1;
                }
            }
            for word in blocks.remainder().chunks_exact(4).map(le_u32) {
                tallies[0][(word >> OFFSET_BITS) as usize] += 1;
            }
            for tally in tallies {
                for (count, n) in by_type.iter_mut().zip(tally) {
                    *count += u64::from(n);
                }
            }
        }
    }

    /// Whether the offsets of the entries in `bytes` never decrease.
    pub(super) fn ascending(bytes: &[u8]) -> bool {
        fn fields(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
            b.chunks_exact(4).map(|e| le_u32(e) & OFFSET_MASK)
        }
        let next = bytes.get(4..).unwrap_or_default();
        fields(bytes).zip(fields(next)).all(|(a, b)| a <= b)
    }

    /// Passes the offset of every entry of type `select` to `selected`.
    pub(super) fn select_in(bytes: &[u8], select: Option<u32>, selected: &mut impl FnMut(u64)) {
        let Some(select) = select else { return };
        for word in bytes.chunks_exact(4).map(le_u32) {
            if word >> OFFSET_BITS == select {
                selected(u64::from(word & OFFSET_MASK) << 2);
            }
        }
    }

    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    pub(super) fn pass(
        bytes: &[u8],
        check_order: bool,
        select: Option<u32>,
        selected: &mut impl FnMut(u64),
    ) -> Pass {
        let mut by_type = [0; 32];
        add_types(bytes, &mut by_type);
        select_in(bytes, select, selected);
        Pass {
            by_type,
            ascending: check_order && ascending(bytes),
        }
    }
}

/// The SSE2 pass. Sixteen entries at a time: their type numbers are packed
/// into the sixteen bytes of one register, which is compared with each
/// tracked type and with the selected one; the byte counters are summed
/// every 255 steps, before they can wrap. Each offset is compared with the
/// one before it, loaded from four bytes earlier. The type histogram tracks
/// the eight types the table has shown most often so far; a stretch of
/// 4,080 entries holding any other type is counted again by the scalar
/// loop, which also picks the types tracked from then on (a sound dump's
/// tables hold at most eight types each, so this happens once, at the
/// start, unless a guide names the types to track beforehand).
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::*;
    use core::arch::x86_64::*;

    /// Bytes of sixteen entries.
    const BLOCK: usize = 64;
    /// Blocks per stretch: byte counters take 255 increments.
    const STRETCH: usize = 255;
    /// Types counted in vector registers.
    const TRACKED: usize = 8;

    fn lanes64(v: __m128i) -> [u64; 2] {
        // SAFETY: same size, and every bit pattern is a valid u64.
        unsafe { std::mem::transmute(v) }
    }

    /// Up to [`TRACKED`] type numbers with the largest counts, 0xff (no
    /// type) in the unused places, and whether they are all there are.
    fn most_common(by_type: &[u64; 32]) -> ([u8; TRACKED], bool) {
        let mut order: [u8; 32] = std::array::from_fn(|t| t as u8);
        order.sort_unstable_by_key(|&t| std::cmp::Reverse(by_type[usize::from(t)]));
        let tracked = std::array::from_fn(|i| {
            let t = order[i];
            if by_type[usize::from(t)] > 0 {
                t
            } else {
                0xff
            }
        });
        (
            tracked,
            by_type.iter().filter(|&&n| n > 0).count() <= TRACKED,
        )
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    pub(super) fn pass(
        bytes: &[u8],
        check_order: bool,
        select: Option<u32>,
        selected: &mut impl FnMut(u64),
        guide: &[u64; 32],
    ) -> Pass {
        let mut by_type = [0; 32];
        // The first block is left to the scalar loop, so that every block
        // the vector loop takes has an entry before it.
        let head = bytes.len().min(BLOCK) / 4 * 4;
        let whole = head + (bytes.len() - head) / BLOCK * BLOCK;
        let (head_bytes, rest) = (&bytes[..head], &bytes[whole..]);
        scalar::add_types(head_bytes, &mut by_type);
        scalar::select_in(head_bytes, select, selected);
        let mut descents = _mm_setzero_si128();
        // The guide's most common types; without one, nothing is tracked
        // yet and the first stretch is counted by the scalar loop, which
        // chooses the types to track.
        let (mut tracked, mut tracking_all) = if guide.iter().any(|&n| n > 0) {
            most_common(guide)
        } else {
            ([0xffu8; TRACKED], true)
        };
        let mut type_lanes = tracked.map(|t| _mm_set1_epi8(t as i8));
        let select_lane = _mm_set1_epi8(select.map_or(-1, |s| s as i8));
        let field_mask = _mm_set1_epi32(OFFSET_MASK as i32);
        let mut at = head;
        while at < whole {
            let end = whole.min(at + BLOCK * STRETCH);
            let stretch = &bytes[at..end];
            let mut type_counts = [_mm_setzero_si128(); TRACKED];
            for (i, block) in stretch.chunks_exact(BLOCK).enumerate() {
                // SAFETY: `block` holds 64 bytes, four unaligned 16-byte
                // loads; the entry before it (at + 64 i - 4 >= head - 4 >= 0)
                // lies in `bytes` too.
                let load = |from: usize| unsafe {
                    _mm_loadu_si128(bytes.as_ptr().add(from).cast::<__m128i>())
                };
                let start = at + BLOCK * i;
                let words = [0, 16, 32, 48].map(|o| load(start + o));
                if check_order {
                    for (o, &word) in [0, 16, 32, 48].iter().zip(&words) {
                        let before = _mm_and_si128(load(start + o - 4), field_mask);
                        let field = _mm_and_si128(word, field_mask);
                        // All ones where an offset is below the one before it
                        // (27-bit fields: signed compares are exact).
                        descents = _mm_or_si128(descents, _mm_cmpgt_epi32(before, field));
                    }
                }
                let [t0, t1, t2, t3] = words.map(|w| _mm_srli_epi32::<{ OFFSET_BITS as i32 }>(w));
                // Entry i's type in byte i (values below 32 survive both packs).
                let types = _mm_packus_epi16(_mm_packs_epi32(t0, t1), _mm_packs_epi32(t2, t3));
                for (count, &lane) in type_counts.iter_mut().zip(&type_lanes) {
                    *count = _mm_sub_epi8(*count, _mm_cmpeq_epi8(types, lane));
                }
                if select.is_some() {
                    let mut hits = _mm_movemask_epi8(_mm_cmpeq_epi8(types, select_lane)) as u32;
                    while hits != 0 {
                        let entry = hits.trailing_zeros() as usize;
                        selected(u64::from(le_u32(&block[4 * entry..]) & OFFSET_MASK) << 2);
                        hits &= hits - 1;
                    }
                }
            }
            let mut stretch_types = [0u64; 32];
            let mut counted = 0;
            for (&t, count) in tracked.iter().zip(type_counts) {
                let [low, high] = lanes64(_mm_sad_epu8(count, _mm_setzero_si128()));
                if t < 32 {
                    stretch_types[usize::from(t)] = low + high;
                    counted += low + high;
                }
            }
            if counted == (stretch.len() / 4) as u64 {
                for (total, n) in by_type.iter_mut().zip(stretch_types) {
                    *total += n;
                }
            } else {
                // A type not tracked: count this stretch again, and track
                // the most common types seen so far from now on.
                scalar::add_types(stretch, &mut by_type);
                if tracking_all {
                    (tracked, tracking_all) = most_common(&by_type);
                    type_lanes = tracked.map(|t| _mm_set1_epi8(t as i8));
                }
            }
            at = end;
        }
        scalar::add_types(rest, &mut by_type);
        scalar::select_in(rest, select, selected);
        let ascending = check_order
            && lanes64(descents) == [0, 0]
            && scalar::ascending(head_bytes)
            // The last entry of the vector loop (or of the head) and the rest.
            && scalar::ascending(&bytes[whole.saturating_sub(4)..]);
        Pass { by_type, ascending }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One entry at a time, the way the format describes it.
    fn naive<const N: usize>(words: &[u32], bounds: [u64; N], select: u32) -> (Tally<N>, Vec<u64>) {
        let mut tally = Tally {
            by_type: [0; 32],
            below: [0; N],
        };
        let mut offsets = Vec::new();
        for &w in words {
            let (offset, t) = (u64::from(w & OFFSET_MASK) * 4, w >> OFFSET_BITS);
            tally.by_type[t as usize] += 1;
            for (count, bound) in tally.below.iter_mut().zip(bounds) {
                *count += u64::from(offset < bound);
            }
            if t == select {
                offsets.push(offset);
            }
        }
        (tally, offsets)
    }

    fn bytes(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// The public pass and the scalar pass against the naive count.
    fn check(words: &[u32], bounds: [u64; 3], select: u32) -> Result<(), TestCaseError> {
        let (expected, expected_offsets) = naive(words, bounds, select);
        let bytes = bytes(words);
        let mut offsets = Vec::new();
        let got = tally(&bytes, bounds, Some(select), &mut |o| offsets.push(o));
        prop_assert_eq!(got, expected);
        prop_assert_eq!(&offsets, &expected_offsets);
        // The scalar pass (the one other architectures use) finds the same.
        let select = Some(select).filter(|&s| s < 32);
        offsets.clear();
        let pass = scalar::pass(&bytes, true, select, &mut |o| offsets.push(o));
        prop_assert_eq!(pass.by_type, expected.by_type);
        prop_assert_eq!(&offsets, &expected_offsets);
        let fields: Vec<u32> = words.iter().map(|w| w & OFFSET_MASK).collect();
        let ascending = fields.windows(2).all(|w| w[0] <= w[1]);
        prop_assert_eq!(pass.ascending, ascending);
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            let vector = unsafe { sse2::pass(&bytes, true, select, &mut |_| {}, &[0; 32]) };
            prop_assert_eq!(vector.by_type, expected.by_type);
            prop_assert_eq!(vector.ascending, ascending);
        }
        // Guided by the right counts, by a wrong type, and by more than
        // eight types: the same counts.
        let mut wrong = [0; 32];
        wrong[(select.unwrap_or(0) as usize + 1) % 32] = 1;
        for guide in [expected.by_type, wrong, [1; 32]] {
            offsets.clear();
            let got = tally_guided(&bytes, bounds, select, &mut |o| offsets.push(o), &guide);
            prop_assert_eq!(got, expected);
            prop_assert_eq!(&offsets, &expected_offsets);
        }
        // No bounds and no selection: the types alone.
        prop_assert_eq!(
            tally(&bytes, [], None, &mut |_| panic!("nothing selected")).by_type,
            expected.by_type
        );
        Ok(())
    }

    /// Words whose types come from `types` (offsets anything).
    fn words_of(types: &'static [u32], len: std::ops::Range<usize>) -> BoxedStrategy<Vec<u32>> {
        proptest::collection::vec((any::<u32>(), proptest::sample::select(types)), len)
            .prop_map(|v| {
                v.into_iter()
                    .map(|(w, t)| (w & OFFSET_MASK) | (t << OFFSET_BITS))
                    .collect()
            })
            .boxed()
    }

    proptest! {
        // Any words: up to 32 types, so stretches with untracked types.
        #[test]
        fn any_words(words in proptest::collection::vec(any::<u32>(), 0..20_000),
                     bounds in proptest::array::uniform3(0u64..(1 << 30)),
                     select in 0u32..40) {
            check(&words, bounds, select)?;
        }

        // Few types, as in a sound table (the vector path tracks them all),
        // lengths around the block and stretch sizes.
        #[test]
        fn few_types(mut words in words_of(&[0, 1, 5, 8, 9, 10, 11, 13], 0..9_000),
                     sort in any::<bool>(),
                     bounds in proptest::array::uniform3(0u64..(1 << 29)),
                     select in 0u32..16) {
            // Sorted, as in a sound dump (bounds by binary search), or not.
            if sort {
                words.sort_by_key(|w| w & OFFSET_MASK);
            }
            check(&words, bounds, select)?;
        }

        // Eight common types, then a ninth and tenth appearing late.
        #[test]
        fn late_types(mut words in words_of(&[0, 1, 5, 8, 9, 10, 11, 13], 4_080..12_000),
                      extra in proptest::collection::vec((4_080usize..12_000, 14u32..32), 1..4),
                      select in 0u32..32) {
            for (at, t) in extra {
                let at = at % words.len();
                words[at] = (words[at] & OFFSET_MASK) | (t << OFFSET_BITS);
            }
            check(&words, [0, 1 << 20, u64::MAX], select)?;
        }
    }

    #[test]
    fn edge_cases() {
        let stretch = 255 * 16;
        for len in [
            0,
            1,
            15,
            16,
            17,
            63,
            64,
            65,
            stretch - 1,
            stretch,
            stretch + 1,
            3 * stretch + 5,
        ] {
            // Offsets at the extremes of the field, all types in turn.
            let words: Vec<u32> = (0..len as u32)
                .map(|i| (if i % 3 == 0 { OFFSET_MASK } else { i % 7 }) | ((i % 32) << OFFSET_BITS))
                .collect();
            let bounds = [
                0,
                u64::from(OFFSET_MASK) * 4,
                u64::from(OFFSET_MASK) * 4 + 1,
            ];
            check(&words, bounds, 31).unwrap();
            check(&words, [u64::MAX, 4, 3], 0).unwrap();
            // One type throughout (the byte counters run to 255 per lane).
            let same: Vec<u32> = (0..len as u32).map(|i| i | (1 << OFFSET_BITS)).collect();
            check(&same, [8, 9, 1 << 31], 1).unwrap();
        }
        // A partial entry at the end is ignored.
        let mut bytes = bytes(&[5 << OFFSET_BITS; 20]);
        bytes.extend([1, 2, 3]);
        let got = tally(&bytes, [1], Some(5), &mut |_| {});
        assert_eq!(got.by_type[5], 20);
        assert_eq!(got.below, [20]);
    }
}
