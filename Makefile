# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	@# Optional: tcmalloc makes the query workers' heavy queries 15-25% faster
	@# (server/allocator.py). Installed when apt can do it without a password.
	@if ! ls /usr/lib/*/libtcmalloc_minimal.so.4 >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo -n"; \
		echo "installing libtcmalloc-minimal4 (optional: faster queries)"; \
		$$SUDO apt-get install -y -qq libtcmalloc-minimal4 >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq libtcmalloc-minimal4 >/dev/null 2>&1; } || \
		echo "libtcmalloc-minimal4 not installed: queries use the system's malloc"; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/diplograph run corpus/

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	@# The endpoint benchmark's load generator: wrk (Debian's package) when apt can install
	@# it; without it the benchmark falls back to its own Python client (benchmarks/README.md).
	@if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo -n"; \
		echo "installing wrk (the endpoint benchmark's load generator)"; \
		$$SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq wrk >/dev/null 2>&1; } || \
		echo "wrk not installed: the endpoint benchmark uses its Python client"; \
	fi
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) var build *.egg-info
