#!/usr/bin/env bash
# Full `pdmp verify` of the distribution dump against Emacs's own load of the
# same dump (pdumper-stats load-time), measured in the same run.
# Goal: verify <= 0.5 x Emacs's load time.
#
# Two figures, each against Emacs's load-time:
# - in-process (like for like): examples/verify_time.rs times, inside a
#   fresh process, the library calls of `pdmp verify FILE` from opening the
#   file to the verdict, as Emacs times itself from opening its dump to the
#   end of loading;
# - whole-process (strict): hyperfine's wall time of `pdmp verify FILE`,
#   which also holds exec, static start-up and exit's unmapping.
# Each command runs in a fresh process every time. The three are measured
# in short alternating batches (BATCHES x BATCH runs, the order rotating
# from batch to batch) and the per-run times pooled into medians, so that
# a minute of other tenants' load falls on all three alike.
#
# BASELINE=path/to/older/pdmp adds that binary to each hyperfine batch
# (before/after figures, whole process). RT=1 runs everything at real-time
# priority (chrt, as root): on a machine shared with builds, the closest
# thing to an idle machine, where verify's second thread finds the other
# core free.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)"; exit 2; }
cargo build --release --quiet --bin pdmp --example verify_time
DUMP=${1:-$(emacs -Q --batch --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))")}
BATCHES=${BATCHES:-10}
BATCH=${BATCH:-40}
prio=()
if [ "${RT:-0}" = 1 ]; then prio=(chrt -f 99); fi
PDMP=target/release/pdmp
TIMER=target/release/examples/verify_time

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

load() { # Emacs's load time of its dump, as it measures itself (seconds).
  for _ in $(seq "$BATCH"); do
    "${prio[@]}" emacs -Q --batch --dump-file="$DUMP" --eval '(princ (cdr (assq (quote load-time) (pdumper-stats))))'
    echo
  done >>"$out/load"
}
inproc() { # open to verdict inside a fresh process (milliseconds).
  for _ in $(seq "$BATCH"); do
    "${prio[@]}" "$TIMER" "$DUMP" >>"$out/inproc" || [ $? = 1 ]
  done
}
whole() { # the whole `pdmp verify` process, under hyperfine.
  "${prio[@]}" hyperfine --warmup 1 --runs "$BATCH" -N -i --style none \
    --export-json "$out/whole.$1.json" \
    "$PDMP verify $DUMP" ${BASELINE:+"$BASELINE verify $DUMP"} >/dev/null 2>&1
}

steps=(load inproc whole)
for b in $(seq 0 $((BATCHES - 1))); do
  cut -d' ' -f1 /proc/loadavg >>"$out/loadavg"
  for k in 0 1 2; do
    step=${steps[$(((b + k) % 3))]}
    if [ "$step" = whole ]; then whole "$b"; else "$step"; fi
  done
done
cut -d' ' -f1 /proc/loadavg >>"$out/loadavg"
peak_kb=$( { /usr/bin/time -f '%M' "$PDMP" verify "$DUMP" >/dev/null; } 2>&1 | tail -1)
echo "dump: $DUMP ($(stat -c %s "$DUMP") bytes); ${RT:+RT=$RT, }$BATCHES batches of $BATCH runs each"
echo "pdmp verify peak RSS ${peak_kb} KiB"

python3 - "$out" "${BASELINE:-}" <<'EOF'
import glob, json, statistics, sys
out, baseline = sys.argv[1], sys.argv[2]
def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return "median %.2f ms (quartiles %.2f-%.2f, %d runs)" % (q[1], q[0], q[2], len(xs))
loads = [float(l) * 1e3 for l in open(out + "/load") if l.strip()]
inproc = [float(l.split()[0]) for l in open(out + "/inproc") if l.strip()]
whole, base, user, system = [], [], [], []
for f in sorted(glob.glob(out + "/whole.*.json")):
    r = json.load(open(f))["results"]
    whole += [t * 1e3 for t in r[0]["times"]]
    user.append(r[0]["user"] * 1e3); system.append(r[0]["system"] * 1e3)
    if baseline:
        base += [t * 1e3 for t in r[1]["times"]]
la = [float(l) for l in open(out + "/loadavg")]
print("load average (1 min) at batch starts: %.2f-%.2f" % (min(la), max(la)))
print("Emacs load-time:              " + quartiles(loads))
print("pdmp verify in-process:       " + quartiles(inproc))
print("pdmp verify whole process:    " + quartiles(whole) +
      "; user %.2f ms, system %.2f ms (means)" % (statistics.mean(user), statistics.mean(system)))
if baseline:
    print("baseline %s whole process: %s" % (baseline, quartiles(base)))
m = statistics.median(loads)
for name, xs in (("in-process / load-time (like for like)", inproc),
                 ("whole-process / load-time (strict)", whole)) + (
                 (("baseline whole-process / load-time", base),) if baseline else ()):
    r = statistics.median(xs) / m
    print("ratio %s: %.2f (goal <= 0.5: %s)" % (name, r, "met" if r <= 0.5 else "MISSED"))
EOF
# Instructions executed (both threads), which the machine's load does not disturb.
if command -v valgrind >/dev/null; then
  refs=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PDMP" verify "$DUMP" 2>&1 >/dev/null |
    sed -n 's/.*refs: *//p')
  echo "instructions: pdmp verify: $refs"
fi
