# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/govops demo

# The browser tests drive Debian's Chromium; install it if this machine lacks it.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The layers first (import-linter's contracts in pyproject.toml), then the suite over every core (pytest-xdist);
# a test file stays on one worker, so its module fixtures are made once. One worker more than the cores: many tests
# wait on a server, a worker or an e-mail, and the extra worker keeps the cores busy meanwhile.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# Compiled modules are kept even where the environment says not to write them (PYTHONDONTWRITEBYTECODE): without
# them every test process rewrites the assertions of each test module and plugin again, seconds of CPU each time.
test: $(STAMP) browser
	$(BIN)/lint-imports --no-cache
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache
