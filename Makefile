# linkwatch — the commands a newcomer runs:
#   make demo    crawl the bundled fixture web on the embedded default, print a backlink report
#   make test    install what is needed, start Redis and a MongoDB-compatible server, run ruff + pytest
#   make bench   the benchmarks (results appended to BENCHMARKS.md)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: install demo test lint servers bench clean

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

bench: install servers
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
