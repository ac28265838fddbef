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

.PHONY: all venv book lab test lint bench clean lock regenerate mathjax student pdf

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

# Offline math: MathJax 3 from the npm registry into the book's static files (git-ignored),
# served as _static/mathjax/ (see _config.yml); the build refuses to run without it.
MATHJAX_VERSION := 3.2.2
MATHJAX := .cache/book-static/mathjax/tex-chtml.js
$(MATHJAX):
	@command -v npm >/dev/null || { echo "error: npm not found (the book serves MathJax $(MATHJAX_VERSION) from the npm package mathjax)" >&2; exit 2; }
	rm -rf .cache/npm-mathjax .cache/book-static/mathjax.tmp
	npm install --no-save --no-audit --no-fund --loglevel=error --prefix .cache/npm-mathjax mathjax@$(MATHJAX_VERSION)
	mkdir -p .cache/book-static/mathjax.tmp
	cd .cache/npm-mathjax/node_modules/mathjax/es5 && cp -r tex-chtml.js input output a11y ui adaptors $(abspath .cache/book-static/mathjax.tmp)/
	rm -rf .cache/book-static/mathjax && mv .cache/book-static/mathjax.tmp .cache/book-static/mathjax

mathjax: $(MATHJAX)

book: $(STAMP) $(MATHJAX)
	$(VENV)/bin/carbonlab book --dataset $(DATASET) --jobs $(JOBS)

# JupyterLab on notebooks/ with the project's kernel (python3 of .venv, with the
# environment above); `make lab LAB_ARGS=--no-browser` on a remote machine.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(abspath notebooks) \
		--MappingKernelManager.default_kernel_name=python3 $(LAB_ARGS)

# The notebooks for students: no solutions, no outputs, an empty answer cell after each
# exercise (`make student STUDENT_DIR=...`; the folder must be new, empty or an earlier edition).
STUDENT_DIR ?= student
student: $(STAMP)
	$(VENV)/bin/carbonlab student-edition $(STUDENT_DIR)

# The built book as PDF, offline: Chromium prints each page of _build/html, pypdf merges them
# into _build/pdf/book.pdf and one PDF per chapter (builds the book first if it is missing).
pdf: $(STAMP)
	test -f _build/html/index.html || $(MAKE) book
	$(VENV)/bin/carbonlab pdf

test: $(STAMP) $(MATHJAX)
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
