#!/usr/bin/env bash
# Benchmark: the reference runtime started from the dump its executable
# carries vs from the same dump as a file. Goal: no slower.
# For each dump (the small sample, and a dump of the Emacs Lisp files
# lisp/[a-f]*.el.gz, ~11.7 MB) and for the runtime as built (with debug
# info) and stripped, three starts are compared:
#   runtime DUMP (anchor)  vs  runtime-with-section  vs  runtime-with-appended-dump
# Each start loads (maps, relocates, rebuilds hash tables) and prints one
# value. The machine may be shared and its load drifts, so the three run in
# ROUNDS short hyperfine runs, in a rotating order, and the runs of all
# rounds are pooled: medians of the pooled runs, their ratio to the anchor,
# and in how many rounds each start's median was at most the anchor's.
# Needs: hyperfine, strip (binutils), emacs-el.
# Usage: [ROUNDS=10] [RUNS=50] bench/runtime_start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-10}
runs=${RUNS:-50}
cargo build --release --quiet --bin pdmp --bin pdmp-runtime
pdmp=target/release/pdmp
lisp=/usr/share/emacs/28.2/lisp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$pdmp dump testdata/reference/sample.el -o "$work/small.pdmp" >/dev/null
$pdmp dump "$lisp"/[a-f]*.el.gz -o "$work/big.pdmp" >/dev/null
cp target/release/pdmp-runtime "$work/rt"
cp target/release/pdmp-runtime "$work/rt-stripped"
strip "$work/rt-stripped"
for dump in small big; do
  for rt in rt rt-stripped; do
    $pdmp embed --exe "$work/$rt" "$work/$dump.pdmp" -o "$work/$rt-$dump-section" >/dev/null
    $pdmp embed --append --exe "$work/$rt" "$work/$dump.pdmp" -o "$work/$rt-$dump-append" >/dev/null
  done
done
# How a file was written decides how the page cache holds it (in large
# folios or 4 KiB pages), which changes load times by up to 40 % here:
# every file is rewritten by cp, so all are held alike.
for f in "$work"/*; do
  cp "$f" "$f.copy" && mv "$f.copy" "$f"
done
ls -l "$work"/small.pdmp "$work"/big.pdmp "$work"/rt "$work"/rt-stripped
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for dump in small big; do
  case $dump in
    small) print=sample-list ;;
    big) print=dir-locals-file ;;
  esac
  for rt in rt rt-stripped; do
    starts=("$work/$rt $work/$dump.pdmp --print $print"
            "$work/$rt-$dump-section --print $print"
            "$work/$rt-$dump-append --print $print")
    for round in $(seq 1 "$rounds"); do
      # Rotate the order: each start goes first, second and third in turn.
      shift_by=$((round % 3))
      order=("${starts[@]:shift_by}" "${starts[@]:0:shift_by}")
      hyperfine -N --style none --warmup 10 --runs "$runs" \
        --export-json "target/bench-runtime-start-$dump-$rt-$round.json" "${order[@]}" >/dev/null
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ROUNDS=$rounds python3 - <<'PY'
import json, os, statistics
rounds = int(os.environ["ROUNDS"])
kinds = ("file", "section", "append")
def kind(command):
    if command.endswith("-section") or "-section " in command: return "section"
    if "-append " in command: return "append"
    return "file"
for dump in ("small", "big"):
    for rt in ("rt", "rt-stripped"):
        pooled = {k: [] for k in kinds}
        wins = {k: 0 for k in kinds}
        for r in range(1, rounds + 1):
            results = json.load(open(f"target/bench-runtime-start-{dump}-{rt}-{r}.json"))["results"]
            medians = {}
            for res in results:
                k = kind(res["command"])
                pooled[k] += res["times"]
                medians[k] = res["median"]
            for k in kinds:
                wins[k] += medians[k] <= medians["file"]
        med = {k: statistics.median(v) * 1e3 for k, v in pooled.items()}
        line = f"{dump} dump, {rt}: file {med['file']:.3f} ms ({len(pooled['file'])} runs)"
        for k in ("section", "append"):
            line += f"; {k} {med[k]:.3f} ms, ratio {med[k] / med['file']:.3f}, not slower in {wins[k]}/{rounds} rounds"
        print(line)
PY
