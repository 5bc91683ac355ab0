#!/usr/bin/env bash
# Compression benchmark: pdmp compress/decompress against zstd -19, zstd -3,
# xz -9e and lz4, side by side in one run, on the same file.
#
# Usage: bench/compress.sh [DUMP...]
#   default: the installed Emacs's dump, and a large reference dump made
#   here with `pdmp dump` from the first 600 Lisp sources of emacs-el
#   (57 MB; REFERENCE_FILES=N changes the count, 0 skips it).
# Needs: apt-get install -y zstd xz-utils lz4 hyperfine
# Prints, per dump, a Markdown table: size, ratio, mean compress and
# decompress wall time (hyperfine), and the goal check
#   ratio >= xz -9e's  and  decompress time <= zstd -19's.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in zstd xz lz4 hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y zstd xz-utils lz4 hyperfine" >&2; exit 2; }
done
cargo build --release --quiet
pdmp="$PWD/target/release/pdmp"
dumps=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ${#dumps[@]} -eq 0 ]; then
  dumps=("$(emacs --batch -Q --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))" 2>/dev/null \
            || echo /usr/libexec/emacs/28.2/x86_64-linux-gnu/emacs.pdmp)")
  if [ "${REFERENCE_FILES:-600}" -gt 0 ]; then
    find /usr/share/emacs/28.2/lisp \( -name '*.el.gz' -o -name '*.el' \) | sort > "$work/all"
    head -n "${REFERENCE_FILES:-600}" "$work/all" > "$work/sources"
    xargs "$pdmp" dump -o "$work/reference.pdmp" < "$work/sources" >/dev/null
    dumps+=("$work/reference.pdmp")
  fi
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for dump in "${dumps[@]}"; do
  cp "$dump" "$work/d.pdmp"
  cd "$work"
  # Level-19 and xz -9e compression of a large dump take minutes: one run.
  if [ "$(stat -c %s d.pdmp)" -gt 33554432 ]; then warm=0 runs=${COMPRESS_RUNS:-1}; else warm=1 runs=${COMPRESS_RUNS:-3}; fi
  hyperfine --style none --warmup "$warm" --runs "$runs" --export-json c.json \
    -n pdmp      "$pdmp compress --force -o d.pdmpz d.pdmp" \
    -n pdmp-fast "$pdmp compress --fast --force -o d.fast.pdmpz d.pdmp" \
    -n 'zstd -19' 'zstd -19 -q -f d.pdmp -o d.19.zst' \
    -n 'zstd -3'  'zstd -3 -q -f d.pdmp -o d.3.zst' \
    -n 'xz -9e'   'xz -9e -k -c d.pdmp > d.xz' \
    -n lz4        'lz4 -q -f d.pdmp d.lz4' >/dev/null
  hyperfine --style none --warmup 3 --runs "${DECOMPRESS_RUNS:-30}" --export-json d.json \
    -n pdmp      "$pdmp decompress --force -o out.pdmp d.pdmpz" \
    -n pdmp-fast "$pdmp decompress --force -o out.pdmp d.fast.pdmpz" \
    -n 'zstd -19' 'zstd -d -q -f d.19.zst -o out.pdmp' \
    -n 'zstd -3'  'zstd -d -q -f d.3.zst -o out.pdmp' \
    -n 'xz -9e'   'xz -d -c d.xz > out.pdmp' \
    -n lz4        'lz4 -d -q -f d.lz4 out.pdmp' >/dev/null
  for f in d.pdmpz d.fast.pdmpz; do
    "$pdmp" decompress --force -o out.pdmp "$f" >/dev/null
    cmp -s out.pdmp d.pdmp || { echo "$f does not round-trip" >&2; exit 1; }
  done
  python3 - "$dump" <<'PY'
import json, os, sys
files = {"pdmp": "d.pdmpz", "pdmp-fast": "d.fast.pdmpz", "zstd -19": "d.19.zst",
         "zstd -3": "d.3.zst", "xz -9e": "d.xz", "lz4": "d.lz4"}
size = os.path.getsize("d.pdmp")
c = {r["command"]: r for r in json.load(open("c.json"))["results"]}
d = {r["command"]: r for r in json.load(open("d.json"))["results"]}
print(f"\n{sys.argv[1]}: {size} bytes\n")
print("| tool | compressed bytes | ratio | compress ms | decompress ms (± σ) |")
print("|---|---:|---:|---:|---:|")
for name, f in files.items():
    n = os.path.getsize(f)
    print(f"| {name} | {n} | {size/n:.2f} | {c[name]['mean']*1000:.0f} | "
          f"{d[name]['mean']*1000:.1f} ± {d[name]['stddev']*1000:.1f} |")
ratio = lambda k: size / os.path.getsize(files[k])
ok_ratio = ratio("pdmp") >= ratio("xz -9e")
ok_time = d["pdmp"]["mean"] <= d["zstd -19"]["mean"]
print(f"\ngoal: ratio {ratio('pdmp'):.2f} >= xz -9e {ratio('xz -9e'):.2f}: {'met' if ok_ratio else 'MISSED'}; "
      f"decompress {d['pdmp']['mean']*1000:.1f} ms <= zstd -19 {d['zstd -19']['mean']*1000:.1f} ms: "
      f"{'met' if ok_time else 'MISSED'}")
PY
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  cd - >/dev/null
done
