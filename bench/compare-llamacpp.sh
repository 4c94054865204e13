#!/usr/bin/env bash
# Side-by-side speed of llama.cpp and moescope on one GGUF, same threads:
#   LLAMA_CPP_DIR=/path/to/llama.cpp bench/compare-llamacpp.sh MODEL.gguf [-p 512] [-n 128] [-t THREADS] [-r 3]
# LLAMA_CPP_DIR is a llama.cpp build of yours (its build/bin/llama-bench is used); this project never
# downloads, vendors or builds llama.cpp. Prints both figures, the ratio, and decode as a fraction of
# this machine's streaming-read memory bandwidth.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:?usage: LLAMA_CPP_DIR=... bench/compare-llamacpp.sh MODEL.gguf [-p N] [-n N] [-t N] [-r N]}; shift
prompt=512 gen=128 threads=$(nproc) reps=3
while [ $# -gt 0 ]; do
  case $1 in
    -p) prompt=$2; shift 2;; -n) gen=$2; shift 2;; -t) threads=$2; shift 2;; -r) reps=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
: "${LLAMA_CPP_DIR:?set LLAMA_CPP_DIR to your llama.cpp checkout (with build/bin/llama-bench)}"
llama_bench=$(ls "$LLAMA_CPP_DIR"/build/bin/llama-bench "$LLAMA_CPP_DIR"/llama-bench 2>/dev/null | head -1 || true)
[ -x "$llama_bench" ] || { echo "no llama-bench under $LLAMA_CPP_DIR (build it: cmake --build build --target llama-bench)" >&2; exit 2; }

echo "model: $model   threads: $threads   pp$prompt / tg$gen, $reps repetitions" >&2
lc=$("$llama_bench" -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" -o json 2>/dev/null)
ms=$("$root/bin/moescope" bench -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" --memory --json)
active=$("$root/bin/moescope" inspect "$model" --json | python3 -c '
import json,sys
d=json.load(sys.stdin); total=sum(t["bytes"] for t in d["tensors"]); n=d["parameters_total"]; a=d["parameters_active"]
print(int(total * a / n))')
python3 - "$lc" "$ms" "$active" <<'PY'
import json, sys
lc = json.loads(sys.argv[1]); ms = json.loads(sys.argv[2]); active = int(sys.argv[3])
def lc_rate(kind):
    for r in lc:
        if kind == "pp" and r["n_prompt"] > 0 and r["n_gen"] == 0: return r["avg_ts"], r["stddev_ts"]
        if kind == "tg" and r["n_gen"] > 0 and r["n_prompt"] == 0: return r["avg_ts"], r["stddev_ts"]
def ms_rate(kind):
    for r in ms:
        if str(r.get("test", "")).startswith(kind): return r["tokens_per_second"], r["stddev"]
bw = next(r["gigabytes_per_second"] for r in ms if "gigabytes_per_second" in r)
print(f"{'test':<6} {'llama.cpp t/s':>18} {'moescope t/s':>18} {'ratio':>7}")
for kind in ("pp", "tg"):
    a, b = lc_rate(kind), ms_rate(kind)
    if a and b:
        print(f"{kind:<6} {a[0]:>10.2f} ± {a[1]:>5.2f} {b[0]:>10.2f} ± {b[1]:>5.2f} {b[0]/a[0]:>7.2f}")
tg = ms_rate("tg")
if tg:
    used = tg[0] * active / 1e9
    print(f"\nmemory bandwidth {bw:.2f} GB/s; active weights {active/1e6:.1f} MB/token; "
          f"moescope decode reads {used:.2f} GB/s = {100*used/bw:.0f}% of the limit")
PY
