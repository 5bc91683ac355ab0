#!/usr/bin/env bash
# Scale series of the reference dumper and loader: dumps of ~1, 10, 100 and
# 400 MB (the format caps relocation offsets at 512 MiB), made at bench time
# from the Emacs Lisp tree (Debian emacs-el). The tree is ~64 MB of source and
# dumps to ~190 MB; bigger heaps add copies of the tree whose top-level
# definitions are renamed (`(defun foo` -> `(defun foo--copyN`), so a copy adds
# new symbols instead of rebinding old ones. For each size: time to dump
# (read + heap + write) and to load (relocating, and at the preferred base) per
# MB of dump, by hyperfine; and the peak heap of the runtime (malloc, by
# heaptrack), `pdmp info`, `pdmp verify` and the dumper against the file size.
# `pdmp` is linked statically on x86_64 Linux, where heaptrack's preloaded
# library cannot reach it: its heap is its own counter's (PDMP_PEAK_HEAP=1,
# src/peak.rs), which counts both blocks while a moving realloc copies.
# Needs hyperfine, heaptrack, jq. Usage: bench/scale.sh [SIZE_MB...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins >/dev/null
pdmp=$PWD/target/release/pdmp
runtime=$PWD/target/release/pdmp-runtime
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 100 400)

find /usr/share/emacs/28.2/lisp \( -name '*.el.gz' -o -name '*.el' \) | sort > "$dir/tree"
# Two renamed, decompressed copies of the tree; their sizes stand for the
# original's too (renaming adds a few bytes per definition).
for n in 1 2; do
  mkdir -p "$dir/copy$n"
  i=0
  while read -r f; do
    i=$((i + 1))
    zcat -f "$f" | sed -E "s/^\((def[a-z-]*) ([^] ()\"';\\\\[]+)/(\\1 \\2--copy$n/" \
      > "$dir/copy$n/$(printf %04d $i).el"
  done < "$dir/tree"
done
ls "$dir"/copy1/*.el > "$dir/copy1.list"
ls "$dir"/copy2/*.el > "$dir/copy2.list"
cat "$dir/tree" "$dir/copy1.list" "$dir/copy2.list" > "$dir/all"
# Source bytes of each file in that order.
sizes_of() { xargs stat -c %s < "$1"; }
{ sizes_of "$dir/copy1.list"; sizes_of "$dir/copy1.list"; sizes_of "$dir/copy2.list"; } > "$dir/bytes"

# One dump byte per ~0.34 source bytes (measured on the tree): take files in
# order until the source reaches the target.
pick() { # TARGET_MB -> file list
  paste "$dir/bytes" "$dir/all" |
    awk -v want="$(($1 * 340000))" 'total < want { print $2; total += $1 }'
}

heaptrack_peak() { # command... -> peak heap bytes (malloc) heaptrack saw
  heaptrack -o "$dir/ht" "$@" >/dev/null 2>&1 || true
  heaptrack_print "$dir"/ht.* 2>/dev/null |
    sed -n 's/^peak heap memory consumption: //p' |
    awk '{ v = $1; u = substr(v, length(v)); n = v + 0;
           if (u == "K") n *= 1e3; else if (u == "M") n *= 1e6; else if (u == "G") n *= 1e9;
           printf "%d", n }'
  rm -f "$dir"/ht.*
}
# heaptrack's preloaded library brings libstdc++, whose start-up allocation
# (~73 KB) heaptrack counts in every program; pdmp does not link libstdc++.
heaptrack_own=$(heaptrack_peak /bin/true)
heap_of() { # command... -> peak heap bytes of the command itself
  echo $(($(heaptrack_peak "$@") - heaptrack_own))
}
counted_heap_of() { # pdmp arguments... -> peak heap bytes by pdmp's own counter
  PDMP_PEAK_HEAP=1 "$pdmp" "$@" 2>&1 >/dev/null |
    sed -n 's/^pdmp: peak heap: \([0-9]*\) bytes$/\1/p'
}
rss_of() { # command... -> max RSS bytes
  /usr/bin/time -f %M -o "$dir/rss" "$@" >/dev/null 2>&1
  echo $(($(cat "$dir/rss") * 1024))
}
mean() { jq ".results[] | select(.command == \"$2\") | .mean" "$1"; }
median() { jq ".results[] | select(.command == \"$2\") | .median" "$1"; }

printf '| dump | forms from | dump s (s/MB) | load relocating s (ms/MB) | load preferred base s (ms/MB) | ratio build/load | heap: runtime | info | verify | dumper (heap / max RSS) |\n'
printf '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for mb in "${sizes[@]}"; do
  pick "$mb" > "$dir/src$mb"
  mapfile -t files < "$dir/src$mb"
  xargs -s 2000000 -x "$pdmp" dump -q -o "$dir/s.pdmp" < "$dir/src$mb" >/dev/null
  xargs -s 2000000 -x "$pdmp" dump -q --preferred-base 0x7e0000000000 -o "$dir/p.pdmp" < "$dir/src$mb" >/dev/null
  bytes=$(stat -c %s "$dir/s.pdmp")
  runs=5
  [ "$mb" -ge 100 ] && runs=3
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$dir/h.json" \
    -n dump "xargs -s 2000000 -x -a $dir/src$mb $pdmp dump -q -o $dir/scratch.pdmp" \
    -n load "$runtime $dir/s.pdmp --print abbrev-table-name-list" \
    -n pref "$runtime $dir/p.pdmp --print abbrev-table-name-list" >&2
  d=$(mean "$dir/h.json" dump)
  l=$(mean "$dir/h.json" load)
  p=$(mean "$dir/h.json" pref)
  h_rt=$(heap_of "$runtime" "$dir/s.pdmp" --print abbrev-table-name-list)
  h_info=$(counted_heap_of info "$dir/s.pdmp")
  h_verify=$(counted_heap_of verify "$dir/s.pdmp")
  h_dump=$(counted_heap_of dump -q -o "$dir/scratch.pdmp" "${files[@]}")
  r_dump=$(rss_of "$pdmp" dump -q -o "$dir/scratch.pdmp" "${files[@]}")
  awk -v b="$bytes" -v f="$(wc -l < "$dir/src$mb")" -v d="$d" -v l="$l" -v p="$p" \
    -v ld="$(median "$dir/h.json" load)" -v dd="$(median "$dir/h.json" dump)" \
    -v hr="$h_rt" -v hi="$h_info" -v hv="$h_verify" -v hd="$h_dump" -v rd="$r_dump" '
    function pct(x) { return x == "-" ? "-" : sprintf("%.2f %%", 100 * x / b) }
    BEGIN { m = b / 1e6;
      printf "| %.1f MB | %d files | %.3f (%.3f) | %.4f (%.2f) | %.4f (%.3f) | %.0f× (median %.0f×) | %s | %s | %s | %s / %s |\n",
        m, f, d, d / m, l, 1000 * l / m, p, 1000 * p / m, d / l, dd / ld,
        pct(hr), pct(hi), pct(hv), pct(hd), pct(rd) }'
done
