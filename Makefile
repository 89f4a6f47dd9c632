# Redress: the front door.  `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIZES ?= 1000000,10000000,50000000

.PHONY: install demo test bench bench-admin bench-ipf bench-web bench-scale clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/python -m redress.demo --out demo-output

test: install
	sh scripts/install-browser.sh
	$(BIN)/python -m pytest -n 2 -q

CLAIMS ?= 100000
PG_BENCH ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

bench: install
	$(BIN)/python -m redress.bench --sizes $(SIZES)
	$(BIN)/python -m redress.bench.statements --trades 1000000 --statements 3 --data bench-data/statements
	$(BIN)/python -m redress.bench.admin --claims $(CLAIMS) --sqlite --postgresql $(PG_BENCH)
	$(BIN)/python -m redress.bench.ipf --claimants $(CLAIMS) --sqlite --postgresql $(PG_BENCH)
	$(MAKE) --no-print-directory bench-web

bench-admin: install
	$(BIN)/python -m redress.bench.admin --claims $(CLAIMS) --sqlite --postgresql $(PG_BENCH)

# time and peak memory from 1M to 200M trades, in memory, out of core and on a local cluster of 2 workers
SCALE_SIZES ?= 1000000,10000000,50000000,100000000,200000000
bench-scale: install
	$(BIN)/python -m redress.bench.scale --sizes $(SCALE_SIZES) --memory 2GB

bench-ipf: install
	$(BIN)/python -m redress.bench.ipf --claimants $(CLAIMS) --sqlite --postgresql $(PG_BENCH)

# the opening day of a case on the web: uvicorn + locust, then every acceptance checked in the database
WEB_INVESTORS ?= 2000
WEB_SECONDS ?= 30
WEB_USERS ?= 50
WEB_WORKERS ?= 2

bench-web: install
	$(BIN)/python -m redress.bench.web --investors $(WEB_INVESTORS) --seconds $(WEB_SECONDS) --users $(WEB_USERS) \
		--workers $(WEB_WORKERS) --db sqlite --db $(PG_BENCH)

clean:
	rm -rf $(VENV) demo-output build dist .pytest_cache
