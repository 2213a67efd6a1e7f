# Two commands from a fresh clone (Python 3.11 and make): `make preview` and `make test`.
PYTHON ?= python3
VENV   := venv
STACK  ?= dev
ARGS   ?=

.PHONY: preview test verify bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

preview: $(VENV)/.installed  ## offline preview of a stack (make preview STACK=prod)
	$(VENV)/bin/python -m offline.preview --stack $(STACK) $(ARGS)

test: $(VENV)/.installed  ## the whole test suite
	$(VENV)/bin/python -m pytest -q

verify: $(VENV)/.installed  ## check a deployed stack with boto3 (needs the Pulumi CLI and AWS credentials)
	$(VENV)/bin/python -m verify --stack $(STACK) $(ARGS)

bench: $(VENV)/.installed  ## benchmarks (see BENCHMARKS.md)
	$(VENV)/bin/python -m bench $(ARGS)

clean:
	rm -rf build .pytest_cache
