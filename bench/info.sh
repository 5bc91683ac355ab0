#!/usr/bin/env bash
# Benchmark: whole-process `pdmp info` on the installed Emacs's dump against
# its anchor, `readelf -h` on the Emacs executable, in the same hyperfine run.
# Needs: emacs, hyperfine, readelf (binutils). Usage: bench/info.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dump=$(emacs -Q --batch --eval "(princ (cdr (assq 'dump-file-name (pdumper-stats))))")
exe=$(readlink -f "$(command -v emacs)")
hyperfine -N --warmup 50 --runs 500 --export-json target/bench-info.json \
  "target/release/pdmp info $dump" \
  "target/release/pdmp info --json $dump" \
  "readelf -h $exe"
python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("target/bench-info.json"))["results"]}
anchor = next(v for k, v in r.items() if k.startswith("readelf"))
for k, v in r.items():
    print(f"{k}: mean {v['mean']*1e3:.2f} ms, median {v['median']*1e3:.2f} ms, "
          f"ratio to readelf (median) {v['median']/anchor['median']:.2f}")
PY
