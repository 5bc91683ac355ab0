#!/usr/bin/env bash
# Dumper/loader benchmark: the heap of all of Emacs's Lisp sources
# (Debian emacs-el), built from source vs loaded from its dump (relocating)
# vs loaded at its preferred base (no relocation). Needs hyperfine and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
find /usr/share/emacs/28.2/lisp \( -name '*.el.gz' -o -name '*.el' \) | sort > "$dir/sources"
xargs target/release/pdmp dump -o "$dir/all.pdmp" < "$dir/sources" >/dev/null
xargs target/release/pdmp dump --preferred-base 0x7e0000000000 -o "$dir/pref.pdmp" < "$dir/sources" >/dev/null
ls -l "$dir/all.pdmp"
# "build from source" = read every file and build the heap (pdmp dump does
# exactly that, then writes; --json keeps output small).
hyperfine -N --warmup 1 --runs 10 --export-markdown "$dir/bench.md" --export-json "$dir/bench.json" \
  -n build-from-source "xargs -a $dir/sources target/release/pdmp dump -o $dir/scratch.pdmp" \
  -n load-relocating "target/release/pdmp-runtime $dir/all.pdmp --print emacs-build-number" \
  -n load-read "target/release/pdmp-runtime --no-mmap $dir/all.pdmp --print emacs-build-number" \
  -n load-preferred-base "target/release/pdmp-runtime $dir/pref.pdmp --print emacs-build-number"
cat "$dir/bench.md"
# Means, medians and CPU time (user + system) of each, and the ratios.
jq -r '.results[] | "\(.command): mean \(.mean) s, median \(.median) s, cpu \(.user + .system) s"' "$dir/bench.json"
jq -r '.results | map({(.command): .}) | add as $r |
  "build / relocating load: mean \($r["build-from-source"].mean / $r["load-relocating"].mean)×, median \($r["build-from-source"].median / $r["load-relocating"].median)×, cpu \(($r["build-from-source"].user + $r["build-from-source"].system) / ($r["load-relocating"].user + $r["load-relocating"].system))×",
   "relocating / preferred-base load: mean \($r["load-relocating"].mean / $r["load-preferred-base"].mean)×"' "$dir/bench.json"
# The loader's own timing (excludes process start-up and decoding).
for f in all pref; do target/release/pdmp-runtime "$dir/$f.pdmp" --json | grep -E '"load_ms"|dump_relocs_applied'; done
/usr/bin/time -f 'runtime max RSS %M KiB' target/release/pdmp-runtime "$dir/all.pdmp" --print emacs-build-number
