# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export INVENTORY_DATA_DIR ?= $(CURDIR)/var

.PHONY: install run test lint unit fuzz bench-stock clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## run: install, migrate the SQLite database in ./var, find or start an MQTT broker, serve on INVENTORY_BIND
run: install
	$(BIN)/inventory-service db upgrade
	bash scripts/run-dev.sh

## lint: ruff and the import contracts (domain stays pure, devices and firmware_sim stand alone)
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## test: lint, make sure PostgreSQL and Mosquitto are there, then the whole suite on both databases
test: install lint
	bash scripts/test-services.sh
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit -q

## fuzz: Schemathesis over the whole API on SQLite and PostgreSQL, longer than in `make test`
## (FUZZ_EXAMPLES per operation and phase, default here 100; FUZZ_SEED to vary the run)
FUZZ_EXAMPLES ?= 100
fuzz: install
	bash scripts/test-services.sh
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/integration/test_fuzz_api.py -v

bench-stock: install
	$(BIN)/python bench/stock_queries.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
