# Marelle — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint format stop-db bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Marelle needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start the demo platform on http://localhost:$(PORT) (three communes, demo logins).
demo: $(STAMP)
	@PORT=$(PORT) HOST=$(HOST) ./scripts/demo.sh

## Run the whole test suite in parallel (embedded PostgreSQL unless DATABASE_URL is set).
test: $(STAMP)
	$(BIN)/pytest

## Lint: import layers (contracts in pyproject.toml), then ruff.
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MARELLE_ENV=test DATABASE_URL=postgres://mypy@127.0.0.1:1/mypy $(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Stop the embedded PostgreSQL (it keeps running between commands otherwise).
stop-db: $(STAMP)
	$(BIN)/python -m config.embedded_db stop

bench: $(STAMP)
	MARELLE_ENV=demo $(BIN)/python benchmarks/tenant_creation.py
	MARELLE_ENV=demo $(BIN)/python benchmarks/tenant_resolution.py
	MARELLE_ENV=demo $(BIN)/python benchmarks/booking_throughput.py
	MARELLE_ENV=demo $(BIN)/python benchmarks/load_peak.py --users 40 --seconds 30
