# Two commands do everything on a fresh machine:
#   make report   create .venv if missing, install gradcheck with the torch and JAX extras, run the sweep
#   make test     the same set-up, then lint, type-check and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# torch 2.13.0 (CPU) lies on this machine's disk under /opt/wheels; pip finds it there.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
# loadgroup: a module marked xdist_group runs on one worker, its module fixture built once.
PYTEST_ARGS ?= -n 2 --dist loadgroup
# The suite runs through gradcheck's own pytest plugin: a session report of every gradient
# check, and the golden gradients of every activation × loss × dtype (see `make baseline`).
GRADCHECK_ARGS ?= --gradcheck-report reports/tests --gradcheck-baseline tests/baselines/core

.PHONY: install test lint typecheck report baseline bench mutation clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(FIND_LINKS) -c constraints.txt -e ".[torch,jax,plots,test,dask]"
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check gradcheck reference_impls tests bench examples
	$(BIN)/ruff format --check gradcheck reference_impls tests bench examples

typecheck: install
	$(BIN)/mypy gradcheck

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(GRADCHECK_ARGS)

report: install
	$(BIN)/gradcheck check --out reports

# Re-record the golden gradients, after a change that is meant to move them.
baseline: install
	$(BIN)/gradcheck baseline record tests/baselines/core --preset registry --dtypes float64,float32

# Mutation testing of the core and the verdict logic (not part of `make test`, not run in CI):
# MUTATION_ARGS="--sample 30" for an estimate in minutes; without it every mutant runs (hours).
MUTATION_ARGS ?=
mutation: install
	$(BIN)/python -m pip install --quiet $(FIND_LINKS) -c constraints.txt -e ".[mutation]"
	$(BIN)/python -m tests.mutation.run --out reports/mutation $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
