#!/usr/bin/env bash
# The main job on the embedded default data: generate the synthetic sets, train
# and evaluate the demo models with stock OpenMMLab tooling (mim train/test),
# then print the metric table. Uses a GPU when one is visible (mmengine picks it).
#
# Same numbers on every run on one machine: the generators and the configs are
# seeded (`randomness=dict(seed=0, deterministic=True)`), and the intra-op
# thread count is pinned, since float reductions depend on it.
#   DEMO_FULL=1     the longer run (TransFuse-S 200 iterations of batch 8,
#                   SMCA-DETR 36 epochs of batch 8) instead of the quick one
#   DEMO_THREADS=N  torch intra-op threads (default 2, or 1 on a 1-core
#                   machine: the README's numbers are the 2-thread run; on a
#                   quiet 2-core machine 2 threads are ~1.7x faster than 1,
#                   on one busy with other jobs they can be several times
#                   slower: use 1 there. Another count gives slightly
#                   different numbers, since float sums depend on it)
#   SEG_CONFIG / DET_CONFIG   other configs (DET_CONFIG= skips detection)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON=${PYTHON:-python}
BIN="$(dirname "$PYTHON")"
MIM="$BIN/mim"
if [[ "${DEMO_FULL:-0}" == 1 ]]; then
  SEG_CONFIG=${SEG_CONFIG-configs/transfuse/transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py}
  DET_CONFIG=${DET_CONFIG-configs/smca_detr/smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py}
else
  SEG_CONFIG=${SEG_CONFIG-configs/transfuse/transfuse-s_r34-deit-s_1xb4-100_synthetic-polyp-128x128.py}
  DET_CONFIG=${DET_CONFIG-configs/smca_detr/smca-detr_r18_1xb4-10e_synthetic-shapes-160x160.py}
fi
WORK=work_dirs/demo
CORES=$(nproc 2>/dev/null || echo 1)
THREADS=${DEMO_THREADS:-$(( CORES < 2 ? 1 : 2 ))}
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
# torch has no deterministic CUDA backward for some ops the models use
# (bilinear interpolate, adaptive average pooling): seeded, not bit-exact there
EXTRA=()
if "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
  EXTRA=(--cfg-options randomness.deterministic=False)
  echo "GPU visible: seeded, but CUDA kernels are not bit-reproducible"
fi
STEPS=$([[ -n "$DET_CONFIG" ]] && echo 6 || echo 4)
step=0
say() { step=$((step + 1)); echo; echo "==== [$step/$STEPS] $*"; }

start=$(date +%s)
say "generate the synthetic data (seeded): data/synthetic_polyp, data/synthetic_shapes"
if [[ ! -f data/synthetic_polyp/splits/val.txt ]]; then
  "$PYTHON" tools/dataset_generators/generate_synthetic_polyp.py \
    --out data/synthetic_polyp --num-train 160 --num-val 40 --size 128 128 --seed 0
else
  echo "data/synthetic_polyp exists (make clean-demo regenerates it)"
fi
if [[ ! -f data/synthetic_shapes/annotations/instances_val.json ]]; then
  "$PYTHON" tools/dataset_generators/generate_synthetic_shapes.py \
    --out data/synthetic_shapes --num-train 200 --num-val 50 --size 160 --seed 0
else
  echo "data/synthetic_shapes exists (make clean-demo regenerates it)"
fi

run_job() {  # scope config name label
  local scope=$1 config=$2 name=$3 label=$4
  local dir="$WORK/$name"
  rm -rf "$dir"
  say "train $label: mim train $scope $config (log, checkpoints: $dir)"
  "$MIM" train "$scope" "$config" --work-dir "$dir" ${EXTRA[@]+"${EXTRA[@]}"}
  local ckpt
  ckpt=$(cat "$dir/last_checkpoint")
  say "test $label: mim test $scope $config --checkpoint $ckpt --show-dir $ROOT/$dir/show"
  "$MIM" test "$scope" "$config" --checkpoint "$ckpt" --work-dir "$dir/test" \
    --show-dir "$ROOT/$dir/show" ${EXTRA[@]+"${EXTRA[@]}"}
}

run_job mmseg "$SEG_CONFIG" seg TransFuse-S
[[ -n "$DET_CONFIG" ]] && run_job mmdet "$DET_CONFIG" det SMCA-DETR
say "metric table: first validation of each training run vs the final test"
RUNS=("$WORK"/seg)
[[ -n "$DET_CONFIG" ]] && RUNS+=("$WORK"/det)
"$PYTHON" tools/analysis_tools/summarize_runs.py "${RUNS[@]/%//test}" \
  --first-val "${RUNS[@]}"
echo
for run in "${RUNS[@]}"; do
  # mmseg writes PNGs, mmdet keeps the image's own name (.jpg here)
  shown=$(find "$run/show" -type f \( -name '*.png' -o -name '*.jpg' \) 2>/dev/null | head -1)
  echo "$run: training log $(ls "$run"/*/*.log | head -1)"
  echo "  checkpoint $(cat "$run/last_checkpoint")"
  echo "  test log $(ls "$run"/test/*/*.log | head -1)"
  echo "  --show-dir images (ground truth | prediction) ${shown:+$(dirname "$shown")}"
done
echo "demo finished in $(( $(date +%s) - start )) s (threads: $OMP_NUM_THREADS)"
