# Two commands do all set-up on a fresh machine:
#   make demo   build the venv (once) and run the main job on the synthetic cohort
#   make test   build the venv (once) and run the test suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= configs/demo.yaml

.PHONY: demo test bench docs venv clean

venv: $(STAMP)

# pyproject.toml accepts torch>=2.6,<3 (a CUDA build installed first satisfies it); here the pinned
# CPU build is installed first so that pip takes it instead of resolving a CUDA build from the range.
# The test extra pulls the record, distill and dask extras: the suite exercises them all.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/biosig run $(CONFIG)

# pytest runs in a private network namespace whose only interface is lo (tests/netns.sh): liblsl's
# data servers listen on every interface, so nothing the LSL tests open can be reached from elsewhere.
# Two pytest-xdist workers share the 2 cores; the LSL tests all run in one of them (tests/conftest.py).
test: $(STAMP)
	$(VENV)/bin/lint-imports
	bash tests/setup_browser.sh
	bash tests/netns.sh $(PY) -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(PY) benchmarks/bench_features.py

# The documentation site, offline (no intersphinx, examples write their own inputs); warnings are errors.
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) reports docs/_build docs/auto_examples docs/generated
