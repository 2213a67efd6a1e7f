# Two commands from a fresh clone (Python 3.11 and make): `make preview` and `make test`.
PYTHON ?= python3
VENV   := venv
STACK  ?= dev
ARGS   ?=

.PHONY: preview test engine verify e2e bench clean

PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt

$(VENV)/.installed: requirements.txt constraints.txt  # what the program and `pulumi up` need
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt  # and the tests
	$(PIP) -r requirements-dev.txt
	touch $@

preview: $(VENV)/.installed  ## offline preview of a stack (make preview STACK=prod)
	$(VENV)/bin/python -m offline.preview --stack $(STACK) $(ARGS)

test: $(VENV)/.installed-dev  ## the whole test suite (tests/e2e need `make engine`, else they skip)
	$(VENV)/bin/python -m pytest -q

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
