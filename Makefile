# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PORT   ?= 8501

.PHONY: run test bench clean

$(PY):
	python3 -m venv $(VENV)

# Stamps record what was installed, so a changed pyproject.toml reinstalls.
$(VENV)/.core: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[dev,torch]'
	touch $@ $(VENV)/.core

# Large arrays go to mmap and back to the system when freed (as deploy/serve.py sets it): with
# several sessions stepping at once, glibc's per-thread arenas otherwise keep each rerun's
# high-water mark, twice the memory per session (bench/RESULTS.md).
run: $(VENV)/.core
	MALLOC_MMAP_THRESHOLD_=65536 $(PY) -m streamlit run app.py --server.port $(PORT) --server.address localhost \
		--browser.gatherUsageStats false

# Two workers (pytest-xdist): while a browser test waits on its server and chromium, the
# other worker runs (0.83x the serial time on 2 cores: bench/RESULTS.md, test suite).
test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2

bench: $(VENV)/.dev
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
