# linkwatch — the commands a newcomer runs:
#   make demo    crawl the bundled fixture web on the embedded default, print a backlink report
#   make test    install what is needed (Redis, a MongoDB-compatible server, chromium for the
#                dashboard's browser tests), run ruff + pytest
#   make serve   the dashboard of ./linkwatch.db (or $LINKWATCH_STORE) on http://127.0.0.1:8765
#   make bench   the benchmarks (results appended to BENCHMARKS.md)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: install demo test lint servers bench serve clean

# Quiet: pip's and setuptools' chatter goes to $(VENV)/install.log, shown only on failure.
$(VENV)/.installed: pyproject.toml crawler/__init__.py
	@echo "installing linkwatch and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(PYTHON) -m venv $(VENV)
	@{ $(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e '.[test]'; } \
		>$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

install: $(VENV)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

servers:
	bash deploy/install-test-servers.sh

test: install servers lint
	$(BIN)/pytest

demo: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash deploy/demo.sh "$(DEMO_DIR)"

serve: install
	$(BIN)/linkwatch serve

bench: install servers
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
