# storytrace: `make demo` and `make test` are the two commands of the README's quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB := demo/storytrace.db

.PHONY: demo test test-fast lint lock model bench-ingest bench-nlp clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The lock file pins what CI and the demo install; pyproject.toml keeps the ranges.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[web]'
	touch $@

# The tests take the `embeddings` extra too (its tests skip without it); the lock pins torch's CPU build.
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,embeddings]'
	touch $@

## demo: install, ingest the bundled sample articles, analyze, and write the report to demo/
demo: $(VENV)/.installed
	mkdir -p demo
	$(BIN)/storytrace --db $(DEMO_DB) ingest examples/
	$(BIN)/storytrace --db $(DEMO_DB) analyze
	$(BIN)/storytrace --db $(DEMO_DB) report -o demo/report.md
	$(BIN)/storytrace --db $(DEMO_DB) report --html -o demo/report.html
	@echo "demo: store $(DEMO_DB), report demo/report.md and demo/report.html"
	@echo "explore it: $(BIN)/storytrace --db $(DEMO_DB) serve   (then open http://127.0.0.1:8000/)"

## test: install what the tests need and run the whole suite (slow tests included)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not slow"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check storytrace tests training
	$(BIN)/mypy storytrace

## lock: re-pin the lock file from a fresh install of the ranges in pyproject.toml
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet torch==2.13.0  # the CPU build this machine's index serves
	.venv-lock/bin/pip install --quiet -e '.[test,embeddings]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^storytrace' > requirements.lock
	rm -rf .venv-lock

## model: rebuild the shipped NLP model from ../shared/data (one to two hours on 2 cores)
model: $(VENV)/.installed-test
	$(BIN)/python training/train.py all

bench-ingest: $(VENV)/.installed
	$(BIN)/storytrace bench ingest --data ../shared/data

bench-nlp: $(VENV)/.installed
	$(BIN)/storytrace bench nlp --data ../shared/data

clean:
	rm -rf demo build dist *.egg-info .pytest_cache
