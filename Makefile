# Kiln: `make demo` runs the platform, `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
KILN := $(VENV)/bin/kiln
STAMP := $(VENV)/.installed
DEMO_ARGS ?= --enterprises 500 --years 3 --seed 42
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test test-fast bench lint messages assets clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required: install it (e.g. 'apt-get install python3.11 python3.11-venv') or set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP) assets

assets: $(STAMP)
	@$(PY) -m kiln.web.assets

demo: install
	$(KILN) migrate --noinput
	$(KILN) demo-data $(DEMO_ARGS) --if-empty
	$(KILN) serve --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -q -m "not slow and not e2e" $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy kiln

messages: install
	cd kiln && ../$(KILN) makemessages -l zh_Hans --no-obsolete --ignore "static/*"
	cd kiln && ../$(KILN) compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var node_modules kiln/static/vendor
