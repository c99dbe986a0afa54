# Two commands: `make demo` (set up, build the demo, serve it) and `make test` (set up, run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/smecluster demo

test: $(STAMP)
	bash scripts/system-deps.sh
	$(BIN)/ruff check smecluster tests bench scripts
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/smecluster bench import --rows 1000000
	$(BIN)/smecluster bench clusters --enterprises 1000000
	$(BIN)/smecluster bench geo --points 4000000
	$(BIN)/smecluster bench tiers --enterprises 4000000

clean:
	rm -rf $(VENV) smecluster.db
