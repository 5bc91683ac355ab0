#!/bin/sh
# `pdmp stats` (graph, dominator tree, named retainers) on the distribution
# dump against starting and quitting Emacs (`emacs -Q --batch`), which loads
# the same dump, in one hyperfine run. Goal: stats <= 3x the Emacs start.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
dump=$(emacs -Q --batch --eval '(princ (cdr (assq (quote dump-file-name) (pdumper-stats))))')
hyperfine --warmup 3 --runs "${RUNS:-20}" --export-markdown "${OUT:-/dev/stdout}" \
    -n 'pdmp stats' "target/release/pdmp stats --top 10 $dump" \
    -n 'emacs -Q --batch' "emacs -Q --batch --eval '(kill-emacs)'"
