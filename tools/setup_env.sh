#!/usr/bin/env bash
# One-command set-up of the OpenMMLab 2.x stack on a current torch, then of this package.
#
# - Uses the active virtualenv/conda env; otherwise creates ./.venv (PYTHON picks the
#   interpreter, default python3).
# - Keeps an installed torch (users bring their own CUDA build); installs the pinned
#   torch 2.14.1 + torchvision 0.29.1 only where none is importable.
# - mmcv 2.1.0: from $MMCV_WHEEL_DIR/torch-<torch version>/ when that folder holds a wheel,
#   else from the per-machine wheel cache (tools/mmcv_wheel_cache.py:
#   ${MMPLUGIN_TRANSFUSE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mmplugin_transfuse}/wheels/),
#   else built from PyPI's source distribution (MMCV_WITH_OPS=1, -std=c++20 for torch>=2.10,
#   setuptools<81, --no-build-isolation, unity build + -g0: see build_mmcv below) with
#   progress on screen and the full log in that cache's logs/ folder; the built wheel is
#   cached. Every install is checked with `import mmcv.ops`.
# - openmim without its openxlab dependency, which would pin setuptools~=60 and make pip
#   downgrade torch.
# - Idempotent: when every check passes it exits in seconds.
# - Ends by checking mmcv.ops / mmdet.models / mmseg.models import and that torch's version
#   did not change; fails loudly otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TORCH_PIN="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION="2.1.0"

# every line carries the time since the set-up started (m:ss), so a slow step shows
log() { printf '\033[1m[setup %d:%02d]\033[0m %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }
die() { printf '\033[1;31m[setup] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- interpreter
if [[ -n "${VIRTUAL_ENV:-}" ]]; then
  PY="${VIRTUAL_ENV}/bin/python"
elif [[ -n "${CONDA_PREFIX:-}" ]]; then
  PY="${CONDA_PREFIX}/bin/python"
else
  if [[ ! -x .venv/bin/python ]]; then
    log "no active environment: creating $ROOT/.venv"
    "${PYTHON:-python3}" -m venv .venv
  fi
  PY="$ROOT/.venv/bin/python"
fi
log "python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

# The check that ends a successful set-up; run first so a complete environment costs seconds.
check_env() {
  "$PY" - <<'PYEOF'
import importlib, sys
import torch
import mmcv, mmcv.ops  # noqa: F401  compiled ops must load against this torch
import mmdet.models, mmseg.models  # noqa: F401
import timm, mim, psutil, seaborn  # noqa: F401  (psutil, seaborn: mmdet benchmark.py, analyze_logs.py)
import xdist  # noqa: F401  `make test` runs the suite on every core (pytest-xdist)
import onnx, onnxruntime, onnxscript  # noqa: F401  the `deploy` extra (ONNX export)
import mmplugin_transfuse  # noqa: F401
assert mmcv.__version__ == '2.1.0', mmcv.__version__
import cv2
assert int(cv2.__version__.split('.')[0]) < 5, f'opencv {cv2.__version__}'
# the package is installed with --no-deps: its own requirements are checked here
from importlib import metadata
from packaging.requirements import Requirement
unmet = []
for line in metadata.requires('mmplugin_transfuse') or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({'extra': ''}):
        continue  # an optional extra
    try:
        found = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        unmet.append(f'{req} (not installed)')
        continue
    if not req.specifier.contains(found, prereleases=True):
        unmet.append(f'{req} (found {found})')
assert not unmet, f'unmet requirements of mmplugin_transfuse: {unmet}'
print(torch.__version__)
PYEOF
}

if TV=$(check_env 2>/dev/null | tail -n1) && [[ -n "$TV" ]]; then
  log "environment complete (torch $TV): nothing to do"
  exit 0
fi

# pip byte-compiles at install time on purpose: `--no-compile` would save seconds of a
# set-up, but where PYTHONDONTWRITEBYTECODE=1 is set (common on CI machines) every new
# interpreter would then recompile torch/mmdet/mmseg from source, slowing the suite by ~40 %.
pip_install() { "$PY" -m pip install --disable-pip-version-check "$@"; }

# ---------------------------------------------------------------- torch
if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  log "no torch in this environment: installing $TORCH_PIN"
  pip_install $TORCH_PIN
fi
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
TORCH_BASE=${TORCH_VERSION%%+*}
log "torch $TORCH_VERSION (kept as is from here on)"
# Every later pip call is constrained to this exact torch so no resolver can swap it.
CONSTRAINTS="$(mktemp)"
trap 'rm -f "$CONSTRAINTS"' EXIT
"$PY" - > "$CONSTRAINTS" <<'PYEOF'
import importlib.metadata as md
for name in ('torch', 'torchvision'):
    try:
        print(f'{name}=={md.version(name)}')
    except md.PackageNotFoundError:
        pass
PYEOF
# setuptools: torch>=2.8 needs >=77.0.3; mmcv's build and mim need pkg_resources
# (gone in >=81). In the constraints too, so no later resolve upgrades it.
echo 'setuptools>=77.0.3,<81' >> "$CONSTRAINTS"
# OpenMMLab 2.x (mmcv 2.1, mmseg 1.2, mmdet 3.3) was written against OpenCV 4;
# a fresh resolve now picks OpenCV 5.
echo 'opencv-python>=4.5,<5' >> "$CONSTRAINTS"
# one resolve for the build tools, mmengine and mmcv's run-time libs (declared in its
# requirements; the cached, prebuilt or built wheel is installed with --no-deps)
MMCV_LIB_DEPS="addict numpy opencv-python pillow pyyaml yapf"
log "build tools, mmengine and mmcv's run-time libraries"
pip_install -c "$CONSTRAINTS" setuptools wheel packaging ninja "mmengine==0.10.7" $MMCV_LIB_DEPS

# ---------------------------------------------------------------- mmcv from source
# Builds mmcv's wheel from PyPI's source distribution, installs, checks and caches it.
# tools/mmcv_unity_build.py patches the unpacked source (reasons and measurements in its
# docstring): -std=c++17 -> -std=c++20 (torch >= 2.10 headers need C++20), -g0 (debug
# info doubled the compile time of every file) and a unity build (the 77 op files
# compiled as 2 x MAX_JOBS translation units, so torch's headers are parsed a few times
# instead of 77 times). Should the unity build fail, the build is retried with every op
# file compiled on its own (MMCV_UNITY=0 asks for that directly). ccache is used when
# installed and CXX is not set. Progress on screen; full log under the cache's logs/.
build_mmcv() {
  local jobs="${MAX_JOBS:-$(nproc)}" cache_root build_dir log_file cxx20="" mode wheel=""
  cache_root="$(dirname "$(dirname "$("$PY" "$ROOT/tools/mmcv_wheel_cache.py" dir)")")"
  build_dir="$(mktemp -d)"
  log "mmcv: building $MMCV_VERSION from source with ops (minutes; progress below)"
  "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
    --no-build-isolation -d "$build_dir" "mmcv==$MMCV_VERSION"
  if "$PY" -c "import torch,sys; v=tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(v < (2,10))"; then
    cxx20="--cxx20"
  fi
  if [[ -z "${CXX:-}" ]] && command -v ccache >/dev/null; then
    # ccache in masquerade mode (c++/gcc links to it first on PATH): CXX="ccache c++"
    # would fail torch's compiler check, which runs `$CXX --version` on the first word.
    log "mmcv: compiling through ccache ($(command -v ccache))"
    mkdir -p "$build_dir/ccache-bin"
    for c in c++ g++ cc gcc; do ln -sf "$(command -v ccache)" "$build_dir/ccache-bin/$c"; done
    export PATH="$build_dir/ccache-bin:$PATH"
  fi
  local modes="unity per-file"
  [[ "${MMCV_UNITY:-1}" == 0 ]] && modes="per-file"
  for mode in $modes; do
    local src="$build_dir/$mode/mmcv-$MMCV_VERSION"
    mkdir -p "$build_dir/$mode"
    tar -xzf "$build_dir"/mmcv-"$MMCV_VERSION".tar.gz -C "$build_dir/$mode"
    log_file="$cache_root/logs/mmcv-$MMCV_VERSION-build-$mode-$(date +%Y%m%d-%H%M%S).log"
    "$PY" "$ROOT/tools/mmcv_unity_build.py" "$src" --units $(( jobs < 2 ? 4 : 2 * jobs )) \
      $cxx20 $([[ "$mode" == per-file ]] && echo --no-unity) \
      || die "could not patch the mmcv source in $src (see above)"
    if (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS="$jobs" \
          "$PY" "$ROOT/tools/build_progress.py" --name "mmcv build" --log "$log_file" -- \
          "$PY" -m pip wheel -v --disable-pip-version-check --no-build-isolation --no-deps \
          -w "$build_dir/dist" .); then
      wheel="$(ls "$build_dir"/dist/mmcv-"$MMCV_VERSION"-*.whl | head -n1)"
      break
    fi
    [[ "$mode" == unity ]] && log "mmcv: the unity build failed (log: $log_file); retrying with every op file compiled on its own"
  done
  [[ -n "$wheel" ]] || die "the mmcv build failed; its full log is $log_file"
  pip_install --no-deps --force-reinstall "$wheel"
  "$PY" -c "import mmcv.ops" \
    || die "mmcv $MMCV_VERSION was built but 'import mmcv.ops' fails (build log: $log_file)"
  local stored
  if stored="$("$PY" "$ROOT/tools/mmcv_wheel_cache.py" --mmcv "$MMCV_VERSION" store "$wheel")"; then
    log "mmcv: wheel cached as $stored (later set-ups with this torch/Python reuse it)"
  else
    log "mmcv: could not cache the wheel (see above); the next set-up will build it again"
  fi
  rm -rf "$build_dir"
}

# ---------------------------------------------------------------- mmcv
if "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  log "mmcv $MMCV_VERSION with ops already imports"
else
  WHEEL_SUB="${MMCV_WHEEL_DIR:-}/torch-${TORCH_BASE}"
  PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  if [[ -n "${MMCV_WHEEL_DIR:-}" ]] && ls "$WHEEL_SUB"/mmcv-"$MMCV_VERSION"-"$PYTAG"-*.whl >/dev/null 2>&1; then
    log "mmcv: prebuilt wheel from $WHEEL_SUB"
    pip_install --no-deps --force-reinstall "$(ls "$WHEEL_SUB"/mmcv-"$MMCV_VERSION"-"$PYTAG"-*.whl | head -n1)"
  elif "$PY" "$ROOT/tools/mmcv_wheel_cache.py" --mmcv "$MMCV_VERSION" install; then
    log "mmcv: installed from the wheel cache ($("$PY" "$ROOT/tools/mmcv_wheel_cache.py" dir))"
  else
    build_mmcv
  fi
fi

# ---------------------------------------------------------------- mmdet, mmseg, timm, mim
# openmim's run-time deps are in this resolve; openmim itself comes next, without its
# opendatalab/openxlab deps (they pin setuptools~=60 -> torch downgrade).
log "mmdet, mmseg, timm and the tools' libraries"
pip_install -c "$CONSTRAINTS" "mmdet==3.3.0" "mmsegmentation==1.2.2" "timm>=0.9" \
  "opencv-python>=4.5,<5" ftfy regex pytest pytest-xdist hypothesis nibabel scipy pycocotools psutil seaborn \
  "onnx>=1.16" "onnxruntime>=1.17" onnxscript \
  Click colorama model-index pandas requests rich tabulate
pip_install -c "$CONSTRAINTS" --no-deps "openmim==0.3.9"

# ---------------------------------------------------------------- this package
# --no-deps: setup.py's install_requires are all installed above (and imported by the
# final check); pip's resolve of them again took ~5 s of a ~3 min set-up
log "this package (editable)"
pip_install -c "$CONSTRAINTS" --no-build-isolation --no-deps -e .

# ---------------------------------------------------------------- final check
TV=$(check_env | tail -n1) || die "the environment does not import (see the traceback above)"
[[ "$TV" == "$TORCH_VERSION" ]] || die "torch changed from $TORCH_VERSION to $TV during set-up"
log "done: torch $TV, mmcv $MMCV_VERSION (ops), mmdet, mmseg, timm, mim, mmplugin_transfuse"
