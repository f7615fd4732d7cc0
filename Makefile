# One-word entry points. `make test` and `make demo` install whatever is missing
# first (tools/setup_env.sh: idempotent, seconds when everything is there).
#   MMCV_WHEEL_DIR=<dir with torch-<version>/mmcv-*.whl>  use a prebuilt mmcv
#   PYTHON=python3.11                                     interpreter for .venv
PY := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV)/bin/python,$(if $(CONDA_PREFIX),$(CONDA_PREFIX)/bin/python,$(CURDIR)/.venv/bin/python))
PYTEST_ARGS ?= -q
# pytest-xdist workers: one per core, at most 4 (each imports torch + mmdet + mmseg);
# a test file stays on one worker, so its module-scoped exports and trainings run once
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

.PHONY: setup test demo clean-demo

setup:
	bash tools/setup_env.sh

test: setup
	$(PY) -m pytest tests -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

demo: setup
	PYTHON=$(PY) bash tools/demo.sh

clean-demo:
	rm -rf work_dirs/demo data/synthetic_polyp data/synthetic_shapes_128
