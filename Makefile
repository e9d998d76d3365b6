# Every target creates and uses .venv itself; nothing else needs to be installed first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## The studio: a private Redis (unless REDIS_URL is set), migrations, a Celery worker and Daphne
## at http://127.0.0.1:8000; prints how to log in. Ctrl-C stops them all.
run: $(STAMP)
	$(PY) scripts/run_studio.py

## The linter (rules in pyproject.toml), then every test; installs Debian's chromium for the browser tests first when it can.
test: $(STAMP)
	$(PY) -m ruff check .
	bash scripts/ensure_chromium.sh
	$(PY) -m pytest

bench: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
