#!/usr/bin/env bash
# Run every fuzz target (or those named) for SECONDS each, one after another,
# one libFuzzer process each:
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Seeds are made at run time into fuzz/corpus/TARGET/ (kept between runs,
# git-ignored): the reference dumps of testdata/reference/, truncations and
# header mutations of them and of the installed Emacs's dump (never
# committed), their compressed and embedded forms made by pdmp itself, and
# Emacs Lisp sources for the reader. Crashes land in fuzz/artifacts/TARGET/;
# logs in fuzz/logs/. Prints executions and findings per target; exits 1
# when a target found anything.
#
# Works on stable Rust: cargo-fuzz needs -Z flags, which RUSTC_BOOTSTRAP=1
# allows; on a nightly toolchain nothing is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
all=(format verify analysis diff relocate container embed reader)
targets=("${@:-${all[@]}}")
rustc --version | grep -q nightly || export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "fuzz/run.sh: install cargo-fuzz: cargo install cargo-fuzz --locked" >&2; exit 2; }

cargo build --release --quiet --bin pdmp
pdmp=target/release/pdmp

# A copy of FILE truncated to N bytes.
truncated() { head -c "$2" "$1" >"$3"; }
# A copy of FILE with the 4 bytes at OFFSET replaced by the u32 VALUE.
patched() {
  cp "$1" "$4"
  perl -e 'print pack("V", $ARGV[0])' "$3" | dd of="$4" bs=1 seek="$2" conv=notrunc status=none
}

seed_dumps() {
  local dir=$1 f base
  for f in testdata/reference/*.pdmp; do
    base=$(basename "$f" .pdmp)
    cp "$f" "$dir/seed-$base"
    truncated "$f" 4096 "$dir/seed-$base-4k"
    truncated "$f" $(($(stat -c %s "$f") / 2)) "$dir/seed-$base-half"
    # Header fields (Emacs 28 offsets): an object-starts count claiming far
    # more than the file holds, and a cold region starting past the end.
    patched "$f" 76 $(((1 << 31) - 1)) "$dir/seed-$base-count"
    patched "$f" 92 $(((1 << 31) - 1)) "$dir/seed-$base-region"
  done
  local real=/usr/libexec/emacs/28.2/x86_64-linux-gnu/emacs.pdmp
  if [ -f "$real" ]; then
    truncated "$real" 4096 "$dir/seed-emacs-4k"
    truncated "$real" 65536 "$dir/seed-emacs-64k"
    truncated "$real" 1048576 "$dir/seed-emacs-1m"
  fi
}

seed() {
  local target=$1 dir=fuzz/corpus/$1 f
  mkdir -p "$dir"
  case $target in
    format | verify | analysis | relocate) seed_dumps "$dir" ;;
    diff)
      local pairs=("28 29" "27 30" "28 28" "29 30")
      for pair in "${pairs[@]}"; do
        set -- $pair
        local old=testdata/reference/sample-emacs-$1.pdmp new=testdata/reference/sample-emacs-$2.pdmp
        { perl -e 'print pack("V", $ARGV[0])' "$(stat -c %s "$old")"; cat "$old" "$new"; } >"$dir/seed-$1-$2"
      done
      ;;
    container)
      seed_dumps "$dir"
      for f in testdata/reference/*.pdmp; do
        "$pdmp" compress --force "$f" -o "$dir/seed-$(basename "$f" .pdmp).pdmpz" >/dev/null
        "$pdmp" compress --force --fast "$f" -o "$dir/seed-$(basename "$f" .pdmp)-fast.pdmpz" >/dev/null
      done
      ;;
    embed)
      cp /bin/true "$dir/seed-true"
      f=testdata/reference/sample-emacs-28.pdmp
      rm -f "$dir/seed-section" "$dir/seed-append"
      "$pdmp" --quiet embed --exe /bin/true --force "$f" -o "$dir/seed-section" >/dev/null
      "$pdmp" --quiet embed --exe /bin/true --force --append "$f" -o "$dir/seed-append" >/dev/null
      ;;
    reader)
      cp testdata/reference/sample.el "$dir/seed-sample.el"
      for f in emacs-lisp/backquote emacs-lisp/ring emacs-lisp/subr-x emacs-lisp/cl-lib; do
        local src=/usr/share/emacs/28.2/lisp/$f.el.gz
        if [ -f "$src" ]; then
          { gunzip -c "$src" || true; } | head -c 65536 >"$dir/seed-$(basename "$f").el"
        fi
      done
      ;;
  esac
}

cargo fuzz build --debug-assertions
mkdir -p fuzz/logs
found=0
summary=()
for target in "${targets[@]}"; do
  seed "$target"
  case $target in
    reader) max_len=65536 ;;
    *) max_len=1048576 ;;
  esac
  log=fuzz/logs/$target.log
  status=0
  cargo fuzz run --debug-assertions "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=60 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  crashes=$(find "fuzz/artifacts/$target" -type f 2>/dev/null | wc -l)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    found=1
    echo "fuzz/run.sh: $target stopped with status $status; see $log" >&2
    grep -m 3 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" >&2 || true
  fi
  summary+=("$(printf '%-10s %12s executions  %5s corpus  %3s artifacts' "$target" "${runs:-?}" "$corpus" "$crashes")")
done
printf '%s\n' "${summary[@]}"
exit "$found"
