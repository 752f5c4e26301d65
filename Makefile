# Two commands do everything on a fresh machine:
#   make report   create .venv if missing, install gradcheck with the torch and JAX extras, run the sweep
#   make test     the same set-up, then lint, type-check and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# torch 2.13.0 (CPU) lies on this machine's disk under /opt/wheels; pip finds it there.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PYTEST_ARGS ?= -n 2

.PHONY: install test lint typecheck report bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(FIND_LINKS) -c constraints.txt -e ".[torch,jax,plots,test]"
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check gradcheck reference_impls tests bench examples
	$(BIN)/ruff format --check gradcheck reference_impls tests bench examples

typecheck: install
	$(BIN)/mypy gradcheck

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

report: install
	$(BIN)/gradcheck check --out reports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
