#!/usr/bin/env bash
# Full `pdmp verify` of the distribution dump against Emacs's own load of the
# same dump (pdumper-stats load-time), measured in the same run.
# Goal: verify <= 0.5 x Emacs's load time.
# BASELINE=path/to/older/pdmp adds that binary to the same hyperfine run
# (before/after figures). RT=1 runs Emacs and hyperfine (and so every
# measured process) at real-time priority (chrt, as root): on a machine
# shared with builds, the closest thing to an idle machine, where verify's
# second thread finds the other core free.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)"; exit 2; }
cargo build --release --quiet
DUMP=${1:-$(emacs -Q --batch --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))")}
RUNS=${RUNS:-30}
prio=()
if [ "${RT:-0}" = 1 ]; then prio=(chrt -f 99); fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Emacs's load time of its dump, as it measures itself (seconds), RUNS times.
load_ms=$(for _ in $(seq "$RUNS"); do
  "${prio[@]}" emacs -Q --batch --dump-file="$DUMP" --eval '(princ (cdr (assq (quote load-time) (pdumper-stats))))'
  echo
done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]*1000}')

json=$(mktemp)
trap 'rm -f "$json"' EXIT
"${prio[@]}" hyperfine --warmup 3 --runs "$RUNS" -N --export-json "$json" \
  "target/release/pdmp verify $DUMP" ${BASELINE:+"$BASELINE verify $DUMP"} >&2
verify_ms=$(python3 -c "import json,sys; print('%.2f' % (json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$json")
cpu=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('user %.2f ms, system %.2f ms' % (r['user']*1000, r['system']*1000))" "$json")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BASELINE:-}" ]; then
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][1]; print('baseline %s median: %.2f ms (user %.2f ms, system %.2f ms)' % (sys.argv[2], r['median']*1000, r['user']*1000, r['system']*1000))" "$json" "$BASELINE"
fi
peak_kb=$( { /usr/bin/time -f '%M' target/release/pdmp verify "$DUMP" >/dev/null; } 2>&1 | tail -1)
echo "dump: $DUMP ($(stat -c %s "$DUMP") bytes)"
echo "pdmp verify median: ${verify_ms} ms ($cpu); peak RSS ${peak_kb} KiB"
echo "Emacs load-time median: ${load_ms} ms"
python3 -c "print('ratio verify/load: %.2f (goal <= 0.5)' % ($verify_ms / $load_ms))"
# Instructions executed (both threads), which the machine's load does not disturb.
if command -v valgrind >/dev/null; then
  refs=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/pdmp verify "$DUMP" 2>&1 >/dev/null |
    sed -n 's/.*refs: *//p')
  echo "instructions: pdmp verify: $refs"
fi
