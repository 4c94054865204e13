#!/usr/bin/env bash
# Side-by-side speed of llama.cpp and moescope on one GGUF, same threads:
#   LLAMA_CPP_DIR=/path/to/llama.cpp bench/compare-llamacpp.sh MODEL.gguf [-p 512] [-n 128] [-t THREADS] [-r 3] [-R 1]
# LLAMA_CPP_DIR is a llama.cpp build of yours (its build/bin/llama-bench is used); this project never
# downloads, vendors or builds llama.cpp. Prints both figures, the ratio, and decode as a fraction of
# this machine's streaming-read memory bandwidth.
# -R N runs N rounds, each llama-bench and moescope bench (-r repetitions each; which goes first
# alternates between rounds, so use an even N), and reports the
# ratio of each round and their mean: on a machine whose speed drifts (shared VMs), a ratio of two
# neighbouring runs is steadier than one of two long runs minutes apart.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:?usage: LLAMA_CPP_DIR=... bench/compare-llamacpp.sh MODEL.gguf [-p N] [-n N] [-t N] [-r N] [-R N]}; shift
prompt=512 gen=128 threads=$(nproc) reps=3 rounds=1
while [ $# -gt 0 ]; do
  case $1 in
    -p) prompt=$2; shift 2;; -n) gen=$2; shift 2;; -t) threads=$2; shift 2;; -r) reps=$2; shift 2;; -R) rounds=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
: "${LLAMA_CPP_DIR:?set LLAMA_CPP_DIR to your llama.cpp checkout (with build/bin/llama-bench)}"
llama_bench=$(ls "$LLAMA_CPP_DIR"/build/bin/llama-bench "$LLAMA_CPP_DIR"/llama-bench 2>/dev/null | head -1 || true)
[ -x "$llama_bench" ] || { echo "no llama-bench under $LLAMA_CPP_DIR (build it: cmake --build build --target llama-bench)" >&2; exit 2; }
[ "$rounds" -ge 1 ] || { echo "-R must be at least 1" >&2; exit 2; }

echo "model: $model   threads: $threads   pp$prompt / tg$gen, $reps repetitions, $rounds round(s)" >&2
runs=$(mktemp -d); trap 'rm -rf "$runs"' EXIT
llama() { "$llama_bench" -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" -o json 2>/dev/null > "$runs/lc$r.json"; }
moescope() { "$root/bin/moescope" bench -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" $memory --json > "$runs/ms$r.json"; }
for r in $(seq "$rounds"); do
  [ "$rounds" -gt 1 ] && echo "round $r of $rounds" >&2
  memory=""; [ "$r" -eq 1 ] && memory=--memory
  # odd rounds llama-bench first, even rounds moescope first: on a host whose speed sags under
  # sustained load (seen here: both programs lose up to a third within two minutes), the second
  # program of a round would otherwise always run on the slower machine
  if [ $((r % 2)) -eq 1 ]; then llama; moescope; else moescope; llama; fi
done
active=$("$root/bin/moescope" inspect "$model" --json | python3 -c '
import json,sys
d=json.load(sys.stdin); total=sum(t["bytes"] for t in d["tensors"]); n=d["parameters_total"]; a=d["parameters_active"]
print(int(total * a / n))')
python3 - "$runs" "$rounds" "$active" <<'PY'
import json, math, sys
runs, rounds, active = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lcs = [json.load(open(f"{runs}/lc{r}.json")) for r in range(1, rounds + 1)]
mss = [json.load(open(f"{runs}/ms{r}.json")) for r in range(1, rounds + 1)]
def lc_rate(lc, kind):
    for r in lc:
        if kind == "pp" and r["n_prompt"] > 0 and r["n_gen"] == 0: return r["avg_ts"], r["stddev_ts"]
        if kind == "tg" and r["n_gen"] > 0 and r["n_prompt"] == 0: return r["avg_ts"], r["stddev_ts"]
def ms_rate(ms, kind):
    for r in ms:
        if str(r.get("test", "")).startswith(kind): return r["tokens_per_second"], r["stddev"]
def mean_sd(xs):
    m = sum(xs) / len(xs)
    return m, (math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0)
bw = next(r["gigabytes_per_second"] for r in mss[0] if "gigabytes_per_second" in r)
print(f"{'test':<6} {'round':>5} {'llama.cpp t/s':>18} {'moescope t/s':>18} {'ratio':>7}")
decode = []
for kind in ("pp", "tg"):
    ratios = []
    for i in range(rounds):
        a, b = lc_rate(lcs[i], kind), ms_rate(mss[i], kind)
        if a and b:
            ratios.append(b[0] / a[0])
            if kind == "tg": decode.append(b[0])
            print(f"{kind:<6} {i + 1 if rounds > 1 else '':>5} {a[0]:>10.2f} ± {a[1]:>5.2f} {b[0]:>10.2f} ± {b[1]:>5.2f} {ratios[-1]:>7.2f}")
    if len(ratios) > 1:
        m, sd = mean_sd(ratios)
        print(f"{kind:<6} {'mean':>5} {'':>18} {'':>18} {m:>7.2f} ± {sd:.2f} (ratios of {len(ratios)} rounds; range {min(ratios):.2f}-{max(ratios):.2f})")
if decode:
    used = mean_sd(decode)[0] * active / 1e9
    print(f"\nmemory bandwidth {bw:.2f} GB/s; active weights {active/1e6:.1f} MB/token; "
          f"moescope decode reads {used:.2f} GB/s = {100*used/bw:.0f}% of the limit")
PY
