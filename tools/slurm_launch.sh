#!/usr/bin/env bash
# The srun call shared by slurm_train.sh and slurm_test.sh (the interface of
# mmdet/mmseg's Slurm scripts):
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   tools/slurm_launch.sh PARTITION JOB_NAME TOOL [TOOL arguments]
# runs tools/TOOL as one task per GPU; PYTHON selects the interpreter
# (default: python).
set -euo pipefail
if [ "$#" -lt 3 ]; then
  echo "usage: $0 PARTITION JOB_NAME TOOL [TOOL arguments]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
TOOLS=$(cd "$(dirname "$0")" && pwd)

# the repository root first on PYTHONPATH: its mmplugin_transfuse is imported
PYTHONPATH="$(dirname "$TOOLS")${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$TOOLS/$TOOL" "${@:4}"
