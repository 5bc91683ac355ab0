#!/usr/bin/env bash
# Benchmark: whole-process `pdmp info` on the installed Emacs's dump against
# its anchor, `readelf -h` on the Emacs executable, in the same run.
# Goal: info <= 2 x readelf.
#
# One long hyperfine run measures each command at a different moment of the
# other tenants' work, so the commands run in short alternating batches
# (BATCHES hyperfine runs of BATCH runs each, every command in each batch)
# and the per-run times are pooled into medians.
#
# The batches also run `pdmp info` on two copies of the dump, because how
# fast the same bytes read depends on how the page cache holds them:
# - a fresh copy, written by cp in one go (as Emacs writes a new dump): the
#   cache holds it in large folios, and mapping its pages is cheap;
# - a copy dropped from the cache and then read first by pdmp, which asks
#   for huge pages on its maps (DumpFile::open): the cache reads it back in
#   huge folios, cheaper still.
# A dump read back through plain page faults (as Emacs's loader maps it, and
# as pdmp did before it asked) sits in 4 KiB folios, and every page then
# costs the kernel several times more to map and unmap. The installed dump
# is usually in that state: a copy extracted from Debian's package with
# dpkg-deb -x reads as slowly as the installed file.
#
# pdmp itself is timed as `cargo install` puts it (README, Install): a
# copy of the build, which the page cache holds in large folios. The build
# as the linker left it in target/release is timed too: the linker writes
# its output through a memory map, so a freshly linked binary sits in
# 4 KiB folios, and mapping its code at start-up then cost 0.15-0.2 ms
# more than the copy's (`pdmp --version`, interleaved runs).
#
# Two floors run in the same batches (bench/info_floor.c, built static like
# pdmp): a C program that only maps the dump and reads one byte of each page
# `pdmp info` reads, and one that also counts what `pdmp info` counts, on
# one thread; its totals are checked against `pdmp info --json` first.
#
# BASELINE=path/to/older/pdmp adds that binary's `info` to each batch
# (before/after figures). RT=1 runs everything at real-time priority (chrt,
# as root): on a machine shared with builds, the closest thing to an idle
# machine, where pdmp's helper thread finds its second core free.
# Needs: emacs, hyperfine, readelf (binutils), a C compiler with static
# glibc (gcc, libc6-dev); valgrind for instructions.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)"; exit 2; }
cargo build --release --quiet --bin pdmp
dump=${1:-$(emacs -Q --batch --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))")}
exe=$(readlink -f "$(command -v emacs)")
BATCHES=${BATCHES:-10}
BATCH=${BATCH:-40}
prio=()
if [ "${RT:-0}" = 1 ]; then prio=(chrt -f 10); fi
linked=target/release/pdmp

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo install --quiet --locked --path . --bin pdmp --target-dir target --root "$out/installed"
pdmp=$out/installed/bin/pdmp
floor=$out/info_floor
cc -O2 -static -o "$floor" bench/info_floor.c
# The counting floor must count what pdmp counts.
want=$("$pdmp" info --json "$dump" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("relocations %d hot %d objects %d vectorlike %d pvec_types %d" % (
    sum(p["total"] for p in d["relocations"]), d["reloc_counts"]["hot"],
    sum(d["object_starts"].values()), d["object_starts"].get("vectorlike", 0),
    len(d["vectorlike"])))')
got=$("$floor" count "$dump")
[ "$got" = "$want" ] || { echo "info_floor counts '$got', pdmp '$want'"; exit 2; }
fresh=$out/fresh-copy.pdmp
cp "$dump" "$fresh"
first=$out/read-first-by-pdmp.pdmp
cp "$dump" "$first"
sync "$first"
dd if="$first" iflag=nocache count=0 status=none # drops the copy's cached pages
"$pdmp" info "$first" >/dev/null
for b in $(seq "$BATCHES"); do
  cut -d' ' -f1 /proc/loadavg >>"$out/loadavg"
  "${prio[@]}" hyperfine -N --warmup 20 --runs "$BATCH" --style none \
    --export-json "$out/batch.$b.json" \
    "$pdmp info $dump" \
    "$pdmp info --json $dump" \
    "$pdmp info $fresh" \
    "$pdmp info $first" \
    "$pdmp --version" \
    "$linked info $dump" \
    "$linked --version" \
    "$floor touch $dump" \
    "$floor count $dump" \
    ${BASELINE:+"$BASELINE info $dump"} \
    "readelf -h $exe" >/dev/null
done
cut -d' ' -f1 /proc/loadavg >>"$out/loadavg"
echo "dump: $dump; ${RT:+RT=$RT, }$BATCHES batches of $BATCH runs each"

python3 - "$out" <<'EOF'
import glob, json, statistics, sys
out = sys.argv[1]
times, batch_medians = {}, {}
for f in sorted(glob.glob(out + "/batch.*.json")):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(t * 1e3 for t in r["times"])
        batch_medians.setdefault(r["command"], []).append(r["median"] * 1e3)
anchor = next(k for k in times if k.startswith("readelf"))
la = [float(l) for l in open(out + "/loadavg")]
print("load average (1 min) at batch starts: %.2f-%.2f" % (min(la), max(la)))
m = statistics.median(times[anchor])
for k, xs in times.items():
    ratios = [b / a for b, a in zip(batch_medians[k], batch_medians[anchor])]
    print("%s: median %.2f ms (%d runs), ratio to readelf %.2f (batches %.2f-%.2f)"
          % (k, statistics.median(xs), len(xs), statistics.median(xs) / m, min(ratios), max(ratios)))
EOF
# Instructions executed, which the machine's load does not disturb.
if command -v valgrind >/dev/null; then
  for cmd in "$pdmp info $dump" "readelf -h $exe"; do
    refs=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd 2>&1 >/dev/null |
      sed -n 's/.*refs: *//p')
    echo "instructions: $cmd: $refs"
  done
fi
