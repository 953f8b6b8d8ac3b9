# The two commands of the README:
#   make run   - set up, load the fictional demo data and run the service on SQLite
#   make test  - set up and run the test suite (SQLite, and PostgreSQL when reachable)
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test check clean screenshots model

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(BIN)/.installed

# A local-only Twilio token so the README's signed test report works; never use it in production.
run: install
	$(BIN)/tepsa demo
	TEPSA_TWILIO_AUTH_TOKEN="$${TEPSA_TWILIO_AUTH_TOKEN:-local-demo-token}" $(BIN)/tepsa serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

# The console's screenshots in docs/screenshots (real Chromium: apt-get install chromium).
screenshots: install
	TEPSA_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/test_console_browser.py -q -k sqlite

# Relearn the triage second opinion after the labelled sets in tests/data change (triage/README.md).
model: install
	$(BIN)/tepsa triage --train tests/data/reports-*.jsonl

# Migrations match the models (run in CI too).
check: install
	TEPSA_DATABASE_URL=sqlite:///$(CURDIR)/.alembic-check.db $(BIN)/alembic upgrade head
	TEPSA_DATABASE_URL=sqlite:///$(CURDIR)/.alembic-check.db $(BIN)/alembic check
	rm -f .alembic-check.db*

clean:
	rm -rf $(VENV) .pytest_cache tepsa.db tepsa.db-wal tepsa.db-shm
