# Redress: the front door.  `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIZES ?= 1000000,10000000,50000000

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/python -m redress.demo --out demo-output

test: install
	$(BIN)/python -m pytest -n 2 -q

bench: install
	$(BIN)/python -m redress.bench --sizes $(SIZES)

clean:
	rm -rf $(VENV) demo-output build dist .pytest_cache
