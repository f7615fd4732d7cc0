#!/usr/bin/env bash
# One check of the package on a GPU: mmcv.ops kernels, CPU-vs-CUDA fp32
# equality, AMP training steps, images/s against the mmdet/mmseg baselines
# (eager and compiled) and peak memory; one table, non-zero exit on failure.
# Without CUDA it runs the CPU parts and exits 0. Extra arguments go to
# tools/analysis_tools/gpu_check.py (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
if [ -x .venv/bin/python ] && [ "${PYTHON}" = python ]; then
    PYTHON=.venv/bin/python
fi
exec timeout "${GPU_CHECK_TIMEOUT:-300}" "${PYTHON}" tools/analysis_tools/gpu_check.py "$@"
