# Set-up and the two commands the README documents: `make run` and `make test`.
# Both create .venv with Python 3.11 and install requirements.txt on first use.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test chromium postgres

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py

# Browser tests drive Debian's Chromium; Playwright's own browser download is not used.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium)

# PostgreSQL tests need the server on 127.0.0.1:5432; start the local cluster if it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
		(command -v pg_ctlcluster >/dev/null 2>&1 && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start) || \
		echo "PostgreSQL is not running on 127.0.0.1:5432; its tests will skip (and fail under CI=true)."

test: $(STAMP) chromium postgres
	$(BIN)/python -m pytest
