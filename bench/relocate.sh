#!/usr/bin/env bash
# Benchmark of `pdmp relocate` against its two anchors, in the same run:
#
#  1. In memory: pdmp's application of every EARLY relocation to a copy of
#     the dump (`timing.relocate_us` of `--dry-run --json`) against Emacs's
#     own load of the same dump (`pdumper-stats` load-time: mapping,
#     relocations, emacs relocations, hooks) and against pdmp's copy of the
#     file's bytes into fresh memory (`timing.copy_us`). Runs interleave;
#     medians are reported. Goals: <= 0.25x Emacs's load, <= 2x the copy.
#  2. Whole process: `pdmp relocate -o IMAGE` against `cp DUMP IMAGE` (both
#     to /dev/shm), with hyperfine.
#
# Usage: bench/relocate.sh [DUMP]   (default: the dump the `emacs` on PATH loads)
# RUNS=N sets the number of interleaved runs of part 1 (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)" >&2; exit 2; }
EMACS=$(command -v emacs) || { echo "needs emacs on PATH" >&2; exit 2; }
EXE=$(readlink -f "$EMACS")
DUMP=${1:-$(emacs -Q --batch --eval '(princ (alist-get (quote dump-file-name) (pdumper-stats)))')}
RUNS=${RUNS:-30}
BASE=0x7f0000000000
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
cargo build --release -q
PDMP=./target/release/pdmp

# The executable's addresses, recovered once so part 2 times relocation, not recovery.
BASIS=$("$PDMP" relocate "$DUMP" --dump-base $BASE --exe "$EXE" --dry-run --json | jq .bases.emacs_basis)

reloc=() copy=() load=()
for _ in $(seq "$RUNS"); do
  t=$("$PDMP" relocate "$DUMP" --dump-base $BASE --emacs-basis "$BASIS" --dry-run --json | jq -c .timing)
  reloc+=("$(jq .relocate_us <<<"$t")")
  copy+=("$(jq .copy_us <<<"$t")")
  load+=("$(emacs -Q --batch --eval '(princ (round (* 1e6 (alist-get (quote load-time) (pdumper-stats)))))')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
r=$(median "${reloc[@]}") c=$(median "${copy[@]}") l=$(median "${load[@]}")
echo "== in memory ($RUNS interleaved runs, medians) =="
echo "pdmp: apply all EARLY relocations: ${r} us"
echo "Emacs: pdumper-stats load-time:      ${l} us   ratio $(awk -v a="$r" -v b="$l" 'BEGIN{printf "%.3f", a/b}')x (goal <= 0.25)"
echo "pdmp: copy of the file's bytes:      ${c} us   ratio $(awk -v a="$r" -v b="$c" 'BEGIN{printf "%.3f", a/b}')x (goal <= 2)"

echo "== whole process: pdmp relocate -o vs cp =="
json=$(mktemp)
hyperfine -N -w 3 -r 20 --export-json "$json" \
  "$PDMP relocate $DUMP --dump-base $BASE --emacs-basis $BASIS -o /dev/shm/pdmp-bench.img" \
  "cp $DUMP /dev/shm/pdmp-bench.copy"
jq -r '.results | "pdmp relocate -o: \(.[0].median*1000|floor) ms median; cp: \(.[1].median*1000|floor) ms median; ratio \((.[0].median/.[1].median*100|round)/100)x"' "$json"
rm -f "$json" /dev/shm/pdmp-bench.img /dev/shm/pdmp-bench.copy
