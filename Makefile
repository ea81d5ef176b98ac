# Two entry points: `make run` (ingest the bundled sample archive, ask it a question, serve
# the chat at http://127.0.0.1:7860) and `make test` (the whole suite, browser tests
# included, with embedded Chroma and again with a Chroma server).  Both build .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARCHIVE ?= pressqa-archive
QUESTION ?= Which exercises did Russia join in China in 2021?
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test browser lint eval-results bench-ingest bench-answer bench-query bench-ui lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: 2.13.0 is a CPU build; anything else pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

run: $(STAMP)
	$(BIN)/pressqa ingest ingest/sample-archive --archive $(ARCHIVE)
	$(BIN)/pressqa stats --archive $(ARCHIVE)
	$(BIN)/pressqa ask "$(QUESTION)" --archive $(ARCHIVE)
	$(BIN)/pressqa serve --archive $(ARCHIVE)

# The suite twice: archives in their own folders, then on a Chroma server the tests start.
test: $(STAMP) browser
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --chroma=server

# Headless Chromium for the browser tests: Debian's package, installed when missing.
browser:
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  ($(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench eval
	$(BIN)/mypy src

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

bench-answer: $(STAMP)
	$(BIN)/python bench/answer.py

bench-query: $(STAMP)
	$(BIN)/python bench/query.py --quick

eval-results: $(STAMP)
	$(BIN)/python eval/results.py

bench-ui: $(STAMP) browser
	$(BIN)/python bench/ui.py

# Re-pin every dependency after changing pyproject.toml (torch stays pinned there).
lock:
	rm -rf /tmp/pressqa-lock && $(PYTHON) -m venv /tmp/pressqa-lock
	/tmp/pressqa-lock/bin/pip install --quiet torch==2.13.0
	/tmp/pressqa-lock/bin/pip install --quiet -e '.[dev,bench]'
	/tmp/pressqa-lock/bin/pip freeze --exclude-editable | grep -v '^torch==' > requirements.lock

clean:
	rm -rf $(VENV) $(ARCHIVE)
