#!/usr/bin/env bash
# Scaling of steps 1 and 2 over MPI on this machine, and what it predicts for
# 8 and 64 ranks.
#   bench/scale_out.sh [TEACHER] [DATA]
# TEACHER: a GGUF or HF folder (default: the cached SmolLM2-135M); DATA: a
# `radlads data prepare` folder (default: prepared from the cached held-out
# text). Two ranks, T = 512, one window per rank per step.
#
# Measures, in one run:
#  - tokens/s (median over steps, the first left out) of one process with
#    every core against 2 ranks x (cores/2) threads: ZeRO-1 (the default),
#    a whole AdamW per rank (--zero 0), and for step 1 --align-parallel layers;
#  - the trainable floats F each step exchanges, and the bytes per rank per
#    step: 2(N-1)/N x 4F for reduce-scatter + all-gather (ZeRO-1), 4F sent
#    + 4F broadcast for the chain all-reduce;
#  - AdamW memory per rank as each run reports it;
#  - the collectives' bandwidth per rank (bench_comm) over shared memory and,
#    as root with iproute2, over TCP between two network namespaces
#    (scripts/two_hosts.sh).
# Then the projection: with one window per rank per step, a step at N ranks
# takes the measured compute time of one window on one rank plus
# 2(N-1)/N x 4F / bandwidth (bandwidth-bound: at F of tens of millions of
# floats each message is megabytes, so latency is left out), for each
# measured transport. Every number in the table comes from this run.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
TEACHER=${1:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}
BIN=${RADLADS:-build/radlads}
COMM_BENCH=${COMM_BENCH:-build/bench_comm}
CORES=$(nproc)
N=2
STEPS=${STEPS:-8}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DATA=${2:-}
if [ -z "$DATA" ]; then
  DATA=$WORK/data
  "$BIN" data prepare --tokenizer "$TEACHER" --out "$DATA" "$CACHE/text/heldout.txt" >/dev/null 2>&1
fi
export OMPI_MCA_plm_rsh_agent=false OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np $N -x OMP_NUM_THREADS)
common=(--teacher "$TEACHER" --arch rad-rwkv7 --data "$DATA" --seq-len 512 --batch $N --heldout-windows 1
        --heldout-len 64 --step3-tokens 0)

run() {  # run NAME STEP RANKS [flags...]
  local name=$1 step=$2 ranks=$3
  shift 3
  local toks=(--step1-tokens $((N * 512 * STEPS)) --step2-tokens 0)
  [ "$step" = 2 ] && toks=(--step1-tokens 0 --step2-tokens $((N * 512 * STEPS)))
  if [ "$ranks" = 1 ]; then
    OMP_NUM_THREADS=$CORES "$BIN" --threads "$CORES" convert "${common[@]}" "${toks[@]}" --out "$WORK/$name" "$@" \
      >"$WORK/$name.log" 2>&1
  else
    OMP_NUM_THREADS=$((CORES / N)) "${MPIRUN[@]}" "$BIN" --threads $((CORES / N)) convert "${common[@]}" "${toks[@]}" \
      --out "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1
  fi
}
for step in 1 2; do
  run one$step $step 1
  run zero$step $step $N
  run rep$step $step $N --zero 0
done
run layers1 1 $N --align-parallel layers

echo "== collectives over shared memory, $N ranks" >&2
OMP_NUM_THREADS=1 "${MPIRUN[@]}" "$COMM_BENCH" --json --max-mb 256 >"$WORK/comm_shm.json"
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
  echo "== collectives over TCP between two network namespaces" >&2
  OMP_NUM_THREADS=1 scripts/two_hosts.sh "$COMM_BENCH" --json --max-mb 256 --reps 3 >"$WORK/comm_tcp.json"
fi

python3 - "$WORK" "$N" "$CORES" <<'PY'
import json, os, re, statistics, sys
work, N, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def tok_s(name):
    recs = [json.loads(l) for l in open(f"{work}/{name}/metrics.jsonl")]
    v = [r["tok_s"] for r in recs if r.get("phase") in ("align", "distill")][1:]
    return statistics.median(v)

def log(name):
    return open(f"{work}/{name}.log").read()

def params_m(name):  # trainable parameters (millions) the run reports
    return float(re.search(r"\(([0-9.]+) M\)", log(name)).group(1))

def adamw_mb(name):  # AdamW moments on rank 0 as the run reports them
    t = log(name)
    m = re.search(r"AdamW moments ([0-9.]+) MB", t)
    return float(m.group(1))

def comm(path):
    if not os.path.exists(path):
        return None
    j = json.loads(open(path).read().strip().splitlines()[-1])
    big = max(j["sizes"], key=lambda s: s["bytes"])
    return big["zero_gb_s"], big["all_reduce_gb_s"]

print(f"\n## Measured on this machine ({cores} cores; one window of 512 tokens per rank per step)\n")
print(f"| step | F (M floats) | 1 x {cores} thr tok/s | {N} x {cores//N} thr ZeRO-1 | ratio | {N} x {cores//N} --zero 0 | ratio | layer-parallel | ratio | bytes/rank/step ZeRO-1 | all-reduce | AdamW MB/rank ZeRO-1 | --zero 0 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
rows = {}
for step in (1, 2):
    F = params_m(f"zero{step}") * 1e6
    one, z, r = tok_s(f"one{step}"), tok_s(f"zero{step}"), tok_s(f"rep{step}")
    lay = tok_s("layers1") if step == 1 else None
    zb = 2 * (N - 1) / N * 4 * F
    ab = 2 * 4 * F
    rows[step] = dict(F=F, one=one, zero=z)
    lay_s = f"{lay:.1f} | {lay/one:.3f}" if lay else "– | –"
    print(f"| {step} | {F/1e6:.1f} | {one:.1f} | {z:.1f} | {z/one:.3f} | {r:.1f} | {r/one:.3f} | {lay_s} | "
          f"{zb/1e6:.0f} MB | {ab/1e6:.0f} MB | {adamw_mb(f'zero{step}'):.0f} | {adamw_mb(f'rep{step}'):.0f} |")

nets = {}
for name, path in (("shared memory", f"{work}/comm_shm.json"), ("TCP, two namespaces", f"{work}/comm_tcp.json")):
    c = comm(path)
    if c:
        nets[name] = c[0]
print("\n## Collectives (256 MB buffer, bandwidth per rank = 2(N-1)/N x bytes / time)\n")
print("| transport | ZeRO-1 reduce-scatter + all-gather GB/s | chain all-reduce GB/s |")
print("|---|---|---|")
for name, path in (("shared memory", f"{work}/comm_shm.json"), ("TCP, two namespaces", f"{work}/comm_tcp.json")):
    c = comm(path)
    if c:
        print(f"| {name} | {c[0]:.2f} | {c[1]:.2f} |")

print("\n## Projection to more ranks (ZeRO-1, one window per rank per step)\n")
print("t_step(N) = t_window + 2(N-1)/N x 4F / bandwidth, where t_window = the measured time of one window")
print(f"on one rank of {cores//N} thread(s), less its measured exchange at N = {N}.\n")
print("| step | transport | N | tokens/s | efficiency | AdamW MB/rank |")
print("|---|---|---|---|---|---|")
for step in (1, 2):
    F, z = rows[step]["F"], rows[step]["zero"]
    t_meas = N * 512 / z                      # seconds per step at N ranks, measured over shared memory
    t_win = max(t_meas - 2 * (N - 1) / N * 4 * F / (nets["shared memory"] * 1e9), 1e-9)
    for net, bw in nets.items():
        for n in (N, 8, 64):
            t_comm = 2 * (n - 1) / n * 4 * F / (bw * 1e9)
            t = t_win + t_comm
            print(f"| {step} | {net} | {n} | {n * 512 / t:.0f} | {t_win / t:.2f} | {2 * 4 * F / n / 1e6:.0f} |")
PY
