#!/usr/bin/env bash
# The main job on the embedded default data: generate the synthetic sets, train
# and evaluate the demo models with stock OpenMMLab tooling (mim train/test),
# then print the metric table. Uses a GPU when one is visible (mmengine picks it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON=${PYTHON:-python}
BIN="$(dirname "$PYTHON")"
MIM="$BIN/mim"
SEG_CONFIG=${SEG_CONFIG:-configs/transfuse/transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py}
DET_CONFIG=${DET_CONFIG:-configs/smca_detr/smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py}
WORK=work_dirs/demo

if [[ ! -f data/synthetic_polyp/splits/val.txt ]]; then
  "$PYTHON" tools/dataset_generators/generate_synthetic_polyp.py \
    --out data/synthetic_polyp --num-train 160 --num-val 40 --size 128 128 --seed 0
fi
if [[ ! -f data/synthetic_shapes/annotations/instances_val.json ]]; then
  "$PYTHON" tools/dataset_generators/generate_synthetic_shapes.py \
    --out data/synthetic_shapes --num-train 200 --num-val 50 --size 160 --seed 0
fi

run_job() {  # scope config name
  local scope=$1 config=$2 name=$3
  local dir="$WORK/$name"
  rm -rf "$dir"
  echo "== mim train $scope $config"
  "$MIM" train "$scope" "$config" --work-dir "$dir"
  local ckpt
  ckpt=$(cat "$dir/last_checkpoint")
  echo "== mim test $scope $config --checkpoint $ckpt"
  "$MIM" test "$scope" "$config" --checkpoint "$ckpt" --work-dir "$dir/test"
}

start=$(date +%s)
run_job mmseg "$SEG_CONFIG" seg
[[ -n "$DET_CONFIG" ]] && run_job mmdet "$DET_CONFIG" det
"$PYTHON" tools/analysis_tools/summarize_runs.py "$WORK"/seg/test ${DET_CONFIG:+"$WORK"/det/test}
echo "demo finished in $(( $(date +%s) - start )) s"
