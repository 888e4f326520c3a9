# Two commands do all set-up on a fresh machine:
#   make demo   build the venv (once) and run the main job on the synthetic cohort
#   make test   build the venv (once) and run the test suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= configs/demo.yaml

.PHONY: demo test bench venv clean

venv: $(STAMP)

# torch is pinned and installed first so that pip takes the local CPU build
# instead of resolving a CUDA build as a dependency of torch-geometric.
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
test: $(STAMP)
	$(VENV)/bin/lint-imports
	bash tests/setup_browser.sh
	bash tests/netns.sh $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_features.py

clean:
	rm -rf $(VENV) reports
