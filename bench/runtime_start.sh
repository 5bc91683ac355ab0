#!/usr/bin/env bash
# Benchmark: the reference runtime started from the dump its executable
# carries vs from the same dump as a file, in the same hyperfine run.
# Goal: no slower. For each dump (the small sample, and a dump of the
# Emacs Lisp files lisp/[a-f]*.el.gz, ~11.7 MB) and for the runtime as built
# (35 MB with debug info) and stripped:
#   runtime-with-section            vs  runtime DUMP
#   runtime-with-appended-dump      vs  runtime DUMP
# Each start loads (maps, relocates, rebuilds hash tables) and prints one
# value. The machine may be shared: medians and minimums are printed.
# Needs: hyperfine, strip (binutils), emacs-el.
# Usage: bench/runtime_start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
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
ls -l "$work"/small.pdmp "$work"/big.pdmp "$work"/rt "$work"/rt-stripped

for dump in small big; do
  case $dump in
    small) print=sample-list ;;
    big) print=dir-locals-file ;;
  esac
  for rt in rt rt-stripped; do
    hyperfine -N --warmup 20 --runs 200 --export-json "target/bench-runtime-start-$dump-$rt.json" \
      "$work/$rt $work/$dump.pdmp --print $print" \
      "$work/$rt-$dump-section --print $print" \
      "$work/$rt-$dump-append --print $print"
  done
done
python3 - <<'PY'
import json
def ms(r): return f"median {r['median']*1e3:.2f} ms (min {r['min']*1e3:.2f})"
for dump in ("small", "big"):
    for rt in ("rt", "rt-stripped"):
        f, s, a = json.load(open(f"target/bench-runtime-start-{dump}-{rt}.json"))["results"]
        def ratio(x): return f"ratio {x['median']/f['median']:.2f} (min {x['min']/f['min']:.2f})"
        print(f"{dump} dump, {rt}: file {ms(f)}; section {ms(s)} {ratio(s)}; append {ms(a)} {ratio(a)}")
PY
