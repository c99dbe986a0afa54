# Two commands: `make demo` (set up, build the demo, serve it) and `make test` (set up, run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The lock is resolved against PyPI alone (no machine-local pip config, wheel folders or mirrors),
# so that it installs on any machine with plain pip.
PYPI_ONLY := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null

.PHONY: demo test setup lint bench clean lock

# Installs exactly the locked versions (with hashes), then the project itself without resolving again.
# uv (itself taken from the lock, hash-checked, by pip) installs the lock (decision 2301): from its cache
# alone first (under a second: PyPI is not asked again and PySpark's source package is not built again),
# else from PyPI (about a minute, most of it building PySpark once); where uv cannot reach PyPI (a machine
# with only a pip mirror), pip installs the same lock. Bytecode is compiled at install (pip does so, uv only
# when asked): where PYTHONDONTWRITEBYTECODE is set, as on these machines, every Python process of the tests
# compiled the whole stack again otherwise (5 to 7 s each; decision 2305).
UV_INSTALL = $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r $(LOCK)
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	awk '/^uv==/{p=1; print; next} p && /^ /{print; next} {p=0}' $(LOCK) > $(VENV)/uv-requirement.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	$(UV_INSTALL) --offline 2>/dev/null || $(UV_INSTALL) || $(BIN)/pip install --quiet -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check || (echo "requirements.lock does not match pyproject.toml: run 'make lock'" >&2; exit 1)
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/smecluster demo

test: $(STAMP)
	bash scripts/system-deps.sh
	$(BIN)/ruff check smecluster tests bench scripts
	$(BIN)/python -m compileall -q smecluster
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/smecluster bench import --rows 1000000
	$(BIN)/smecluster bench clusters --enterprises 1000000
	$(BIN)/smecluster bench geo --points 4000000
	$(BIN)/smecluster bench tiers --enterprises 4000000

# After adding or changing a dependency in pyproject.toml: `make lock`, then commit requirements.lock.
# (Not through $(STAMP): a stale lock is what this target repairs.)
lock:
	test -x $(BIN)/pip-compile || ($(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet 'pip-tools>=7.4,<8')
	$(PYPI_ONLY) $(BIN)/pip-compile --quiet --resolver=backtracking --extra test --extra dev --generate-hashes \
	  --allow-unsafe --strip-extras --no-emit-index-url --index-url https://pypi.org/simple \
	  --output-file $(LOCK) pyproject.toml
	rm -f $(STAMP)
	$(MAKE) setup

clean:
	rm -rf $(VENV) smecluster.db
