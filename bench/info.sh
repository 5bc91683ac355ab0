#!/usr/bin/env bash
# Benchmark: whole-process `pdmp info` on the installed Emacs's dump against
# its anchor, `readelf -h` on the Emacs executable, in the same hyperfine run.
# Needs: emacs, hyperfine, readelf (binutils). Usage: bench/info.sh
# RT=1 runs hyperfine (and so every measured process) at real-time priority
# (chrt, as root): on a machine shared with builds, the closest thing to an
# idle machine, where pdmp's helper thread finds its second core free.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dump=$(emacs -Q --batch --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))")
exe=$(readlink -f "$(command -v emacs)")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
prio=()
if [ "${RT:-0}" = 1 ]; then prio=(chrt -f 10); fi
"${prio[@]}" hyperfine -N --warmup 50 --runs "${RUNS:-500}" --export-json target/bench-info.json \
  "target/release/pdmp info $dump" \
  "target/release/pdmp info --json $dump" \
  "target/release/pdmp --version" \
  "readelf -h $exe"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("target/bench-info.json"))["results"]}
anchor = next(v for k, v in r.items() if k.startswith("readelf"))
for k, v in r.items():
    print(f"{k}: mean {v['mean']*1e3:.2f} ms, median {v['median']*1e3:.2f} ms, "
          f"user {v['user']*1e3:.2f} ms, system {v['system']*1e3:.2f} ms, "
          f"ratio to readelf (median) {v['median']/anchor['median']:.2f}")
PY
# Instructions executed, which the machine's load does not disturb.
if command -v valgrind >/dev/null; then
  for cmd in "target/release/pdmp info $dump" "readelf -h $exe"; do
    refs=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd 2>&1 >/dev/null |
      sed -n 's/.*refs: *//p')
    echo "instructions: $cmd: $refs"
  done
fi
