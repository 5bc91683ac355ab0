#!/bin/sh
# `pdmp diff` (summaries, object graphs, structural hashes, dominator trees,
# symbol comparison) of the distribution dump against a dump made after
# `(require 'org)`, against `cmp` of the same two files, in one hyperfine
# run. `cmp` stops at the first differing byte (in the header), so it
# measures little more than starting a process; as a second anchor, `cmp`
# of the org dump against a copy of itself reads both files to the end;
# and bench/touch_pages.c, which only maps both files and reads one byte per
# page (the floor of any tool that reads them whole).
# Goal: pdmp diff <= 10x cmp.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
dist=$(emacs -Q --batch --eval '(princ (cdr (assq (quote dump-file-name) (pdumper-stats))))')
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
emacs -Q --batch --eval "(progn (require 'org) (dump-emacs-portable \"$dir/org.pdmp\"))" >/dev/null 2>&1
cp "$dir/org.pdmp" "$dir/copy.pdmp"
cc -O2 -o "$dir/touch_pages" bench/touch_pages.c
hyperfine -N --warmup 3 --runs "${RUNS:-20}" -i --export-markdown "${OUT:-/dev/stdout}" \
    -n 'pdmp diff' "target/release/pdmp diff $dist $dir/org.pdmp" \
    -n 'cmp' "cmp $dist $dir/org.pdmp" \
    -n 'cmp, identical files' "cmp $dir/org.pdmp $dir/copy.pdmp" \
    -n 'touch every page of both' "$dir/touch_pages $dist $dir/org.pdmp"
