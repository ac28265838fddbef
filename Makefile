# carbonlab — two commands do everything on a fresh machine with Python 3.11:
#   make book   builds .venv, runs every notebook with papermill, builds _build/html
#   make test   same environment, then pytest
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATASET ?= teaching
JOBS   ?= 2
export CARBONLAB_DATA_DIR ?= $(abspath ../shared/data)
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0

.PHONY: all venv book test lint bench clean lock regenerate

all: book

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (carbonlab needs Python 3.11)" >&2; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(VENV)/bin/carbonlab book --dataset $(DATASET) --jobs $(JOBS)

test: $(STAMP)
	$(PY) -m ruff check carbonlab tests benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check carbonlab tests benchmarks

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

regenerate: $(STAMP)
	$(VENV)/bin/carbonlab data teaching --write

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sed '1i # Pinned environment for `make book` / `make test` (Python 3.11). Regenerate with `make lock`.' > requirements.lock

clean:
	rm -rf _build executed .cache
