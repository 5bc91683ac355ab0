#!/usr/bin/env bash
# Benchmark: pdmp embed / extract / info on an executable carrying its dump,
# each against its anchor in the same hyperfine run:
#   pdmp embed (section)       vs  objcopy --add-section of the same dump
#   pdmp extract (section, append: + SHA-256 check)  vs  cp of the dump file
#   pdmp info on the executable vs  pdmp info on the dump file
# The runtime start from an embedded dump: bench/runtime_start.sh.
# Needs: emacs, hyperfine, objcopy (binutils). Usage: bench/embed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
pdmp=target/release/pdmp
dump=$(emacs -Q --batch --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))")
exe=$(readlink -f "$(command -v emacs)")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$pdmp embed --exe "$exe" "$dump" -o "$work/section" >/dev/null
$pdmp embed --exe "$exe" "$dump" -o "$work/append" --append >/dev/null

hyperfine -N --warmup 3 --runs 30 --export-json target/bench-embed-write.json \
  "$pdmp embed --exe $exe $dump -o $work/out-embed" \
  "objcopy --add-section .pdmp=$dump --set-section-flags .pdmp=alloc,readonly,contents $exe $work/out-objcopy" \
  "$pdmp extract $work/section -o $work/out-section.pdmp" \
  "$pdmp extract $work/append -o $work/out-append.pdmp" \
  "cp $dump $work/out-cp.pdmp"
hyperfine -N --warmup 20 --runs 200 --export-json target/bench-embed-info.json \
  "$pdmp info $work/section" \
  "$pdmp info $dump"
python3 - <<'PY'
import json
w = json.load(open("target/bench-embed-write.json"))["results"]
i = json.load(open("target/bench-embed-info.json"))["results"]
def ms(r): return f"median {r['median']*1e3:.1f} ms (mean {r['mean']*1e3:.1f})"
embed, objcopy, ext_s, ext_a, cp = w
print(f"pdmp embed: {ms(embed)}; objcopy --add-section: {ms(objcopy)}; ratio {embed['median']/objcopy['median']:.2f}")
print(f"pdmp extract (section): {ms(ext_s)}; cp: {ms(cp)}; ratio {ext_s['median']/cp['median']:.2f}")
print(f"pdmp extract (append, SHA-256 checked): {ms(ext_a)}; ratio to cp {ext_a['median']/cp['median']:.2f}")
info_exe, info_dump = i
print(f"pdmp info on the executable: {ms(info_exe)}; on the dump file: {ms(info_dump)}; ratio {info_exe['median']/info_dump['median']:.2f}")
PY
