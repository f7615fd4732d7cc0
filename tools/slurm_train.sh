#!/usr/bin/env bash
# Multi-node training under Slurm, the interface of mmdet/mmseg's
# tools/slurm_train.sh:
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# One task per GPU; tools/train.py reads the rank / world size from Slurm
# (--launcher slurm). PYTHON selects the interpreter (default: python).
# The srun call itself is tools/slurm_launch.sh.
set -euo pipefail
if [ "$#" -lt 4 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
  exit 2
fi
if [ ! -f "$3" ]; then
  echo "$0: config file not found: $3" >&2
  exit 2
fi
exec bash "$(dirname "$0")/slurm_launch.sh" "$1" "$2" train.py "$3" \
    --work-dir="$4" --launcher=slurm "${@:5}"
