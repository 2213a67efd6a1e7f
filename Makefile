# Two commands from a fresh clone (Python 3.11 and make): `make preview` and `make test`.
PYTHON ?= python3
VENV   := venv
STACK  ?= dev
ARGS   ?=

.PHONY: preview test test-engine lint engine verify e2e bench clean

PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt

$(VENV)/.installed: requirements.txt constraints.txt  # what the program and `pulumi up` need
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "make: Python 3.11 or newer is needed, $(PYTHON) is %d.%d (set PYTHON=python3.11)" % v[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt  # and the tests
	$(PIP) -r requirements-dev.txt
	touch $@

preview: $(VENV)/.installed  ## offline preview of a stack (make preview STACK=prod)
	$(VENV)/bin/python -m offline.preview --stack $(STACK) $(ARGS)

test: $(VENV)/.installed-dev  ## the unit tests, on every core (no Pulumi CLI, no JDK)
	$(VENV)/bin/python -m pytest -q -n auto -m "not engine and not hazelcast"

# The real Pulumi CLI on the cloud double (tests/e2e), four at once: they mostly wait on the CLI.
# Then real Hazelcast 3.5 members (needs a JDK), alone: they share 127.0.0.x addresses and time
# their members' start, which a loaded machine slows.
test-engine: $(VENV)/.installed-dev engine  ## the real-engine tests, then the real-Hazelcast ones
	$(VENV)/bin/python -m pytest -q -n 4 -m engine
	$(VENV)/bin/python -m pytest -q -m hazelcast

lint: $(VENV)/.installed-dev  ## ruff: lint and format check (ruff.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

engine:  ## build the Pulumi CLI from its Go module into build/engine/bin (for tests/e2e)
	engine/build

verify: $(VENV)/.installed  ## check a deployed stack with boto3 (needs the Pulumi CLI and AWS credentials)
	$(VENV)/bin/python -m verify $(if $(findstring --outputs,$(ARGS)),,--stack $(STACK)) $(ARGS)

e2e: $(VENV)/.installed  ## deploy a throw-away copy of STACK, verify it, destroy it (Pulumi CLI, AWS account)
	$(VENV)/bin/python -m e2e.run --stack $(STACK) $(ARGS)

bench: $(VENV)/.installed  ## benchmarks (see BENCHMARKS.md)
	$(VENV)/bin/python -m bench $(ARGS)

clean:
	rm -rf build .pytest_cache
