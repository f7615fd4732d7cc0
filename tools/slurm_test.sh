#!/usr/bin/env bash
# Multi-node evaluation under Slurm, the interface of mmdet/mmseg's
# tools/slurm_test.sh:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# PYTHON selects the interpreter (default: python). The srun call itself is
# tools/slurm_launch.sh.
set -euo pipefail
if [ "$#" -lt 4 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2
  exit 2
fi
for f in "$3" "$4"; do
  if [ ! -f "$f" ]; then
    echo "$0: file not found: $f" >&2
    exit 2
  fi
done
exec bash "$(dirname "$0")/slurm_launch.sh" "$1" "$2" test.py "$3" "$4" \
    --launcher=slurm "${@:5}"
