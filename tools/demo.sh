#!/usr/bin/env bash
# The main job on the embedded default data: each paper's claim next to a
# stock OpenMMLab baseline trained the same iterations, batch, data and seed,
# with stock tooling (mim train / mim test):
#   TransFuse-S   vs  mmseg's UNet (S5-D16, 16 channels)   synthetic polyp
#   SMCA-DETR     vs  mmdet's DETR (same backbone/layers)  synthetic shapes
# then one table (model, baseline, metric, both final test values) and one
# PNG of both pairs' validation curves (work_dirs/demo/curves.png).
# Uses a GPU when one is visible (mmengine picks it).
#
# Same table on every run on one machine: the generators and the configs are
# seeded (`randomness=dict(seed=0, deterministic=True)`), and the intra-op
# thread count is pinned, since float reductions depend on it.
#   DEMO_FULL=1     the longer run (TransFuse-S / UNet 200 iterations of
#                   batch 8, SMCA-DETR / DETR 1500 iterations of batch 8)
#   DEMO_THREADS=N  torch intra-op threads (default 2, or 1 on a 1-core
#                   machine; on a machine busy with other jobs 2 threads can
#                   be several times slower than 1: use 1 there. Another
#                   count gives slightly different numbers, since float sums
#                   depend on it)
#   SEG_CONFIG / SEG_BASELINE / DET_CONFIG / DET_BASELINE   other configs
#                   (DET_CONFIG= skips the detection pair)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON=${PYTHON:-python}
BIN="$(dirname "$PYTHON")"
MIM="$BIN/mim"
if [[ "${DEMO_FULL:-0}" == 1 ]]; then
  SEG_CONFIG=${SEG_CONFIG-configs/transfuse/transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py}
  SEG_BASELINE=${SEG_BASELINE-configs/baselines/unet-s5-d16-c16_fcn_1xb8-200_synthetic-polyp-128x128.py}
  DET_CONFIG=${DET_CONFIG-configs/smca_detr/smca-detr_r18_1xb8-1500_synthetic-shapes-128x128.py}
  DET_BASELINE=${DET_BASELINE-configs/baselines/detr_r18_1xb8-1500_synthetic-shapes-128x128.py}
else
  SEG_CONFIG=${SEG_CONFIG-configs/transfuse/transfuse-s_r34-deit-s_1xb4-100_synthetic-polyp-128x128.py}
  SEG_BASELINE=${SEG_BASELINE-configs/baselines/unet-s5-d16-c16_fcn_1xb4-100_synthetic-polyp-128x128.py}
  DET_CONFIG=${DET_CONFIG-configs/smca_detr/smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py}
  DET_BASELINE=${DET_BASELINE-configs/baselines/detr_r18_1xb8-200_synthetic-shapes-128x128.py}
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
STEPS=$([[ -n "$DET_CONFIG" ]] && echo 10 || echo 6)
step=0
say() { step=$((step + 1)); echo; echo "==== [$step/$STEPS] $*"; }

start=$(date +%s)
say "generate the synthetic data (seeded): data/synthetic_polyp, data/synthetic_shapes_128"
if [[ ! -f data/synthetic_polyp/splits/val.txt ]]; then
  "$PYTHON" tools/dataset_generators/generate_synthetic_polyp.py \
    --out data/synthetic_polyp --num-train 160 --num-val 40 --size 128 128 --seed 0
else
  echo "data/synthetic_polyp exists (make clean-demo regenerates it)"
fi
# the convergence study's set (tools/benchmark/convergence.py, CPU preset)
if [[ -n "$DET_CONFIG" && ! -f data/synthetic_shapes_128/annotations/instances_val.json ]]; then
  "$PYTHON" tools/dataset_generators/generate_synthetic_shapes.py \
    --out data/synthetic_shapes_128 --num-train 2000 --num-val 200 --size 128 \
    --num-classes 3 --objects 1 4 --seed 0
elif [[ -n "$DET_CONFIG" ]]; then
  echo "data/synthetic_shapes_128 exists (make clean-demo regenerates it)"
fi

run_job() {  # scope config name label [show]
  local scope=$1 config=$2 name=$3 label=$4 show=${5:-}
  local dir="$WORK/$name"
  rm -rf "$dir"
  say "train $label: mim train $scope $config (log, checkpoints: $dir)"
  "$MIM" train "$scope" "$config" --work-dir "$dir" ${EXTRA[@]+"${EXTRA[@]}"}
  local ckpt test_args=(--work-dir "$dir/test")
  ckpt=$(cat "$dir/last_checkpoint")
  # the package's models also draw their predictions (ground truth | prediction)
  [[ -n "$show" ]] && test_args+=(--show-dir "$ROOT/$dir/show")
  say "test $label: mim test $scope $config --checkpoint $ckpt ${show:+--show-dir $ROOT/$dir/show}"
  "$MIM" test "$scope" "$config" --checkpoint "$ckpt" "${test_args[@]}" \
    ${EXTRA[@]+"${EXTRA[@]}"}
}

run_job mmseg "$SEG_CONFIG" transfuse TransFuse-S show
run_job mmseg "$SEG_BASELINE" unet "UNet (mmseg baseline)"
PAIRS=(--pair TransFuse-S "$WORK/transfuse" UNet "$WORK/unet" mDice,per_image/mDice)
RUNS=(transfuse unet)
if [[ -n "$DET_CONFIG" ]]; then
  run_job mmdet "$DET_CONFIG" smca SMCA-DETR show
  run_job mmdet "$DET_BASELINE" detr "DETR (mmdet baseline)"
  PAIRS+=(--pair SMCA-DETR "$WORK/smca" DETR "$WORK/detr" coco/bbox_mAP,coco/bbox_mAP_50)
  RUNS+=(smca detr)
fi
say "each model next to its baseline (same data, iterations, batch, seed): final test"
"$PYTHON" tools/analysis_tools/summarize_runs.py "${PAIRS[@]}" \
  --plot "$WORK/curves.png" | tee "$WORK/table.txt"
echo
for name in "${RUNS[@]}"; do
  run="$WORK/$name"
  echo "$run: training log $(ls "$run"/*/*.log | head -1)"
  echo "  checkpoint $(cat "$run/last_checkpoint"), test log $(ls "$run"/test/*/*.log | head -1)"
  if [[ -d "$run/show" ]]; then
    # mmseg writes PNGs, mmdet keeps the image's own name (.jpg here)
    shown=$(find "$run/show" -type f \( -name '*.png' -o -name '*.jpg' \) -print -quit)
    echo "  --show-dir images (ground truth | prediction) ${shown:+$(dirname "$shown")}"
  fi
done
echo "demo finished in $(( $(date +%s) - start )) s (threads: $OMP_NUM_THREADS)"
