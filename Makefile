# One entry point for a fresh machine: `make test` builds .venv on first use, then runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch lies on local disk here and is 10x smaller than the CUDA build an
# unpinned `torch` resolves to. On a GPU machine: make TORCH_SPEC=torch test
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv test lint run bench report reproduce mutate clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check '$(TORCH_SPEC)'
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Two workers (pytest-xdist): the suite is mostly single-threaded and waits on subprocesses.
test: $(STAMP)
	$(PY) -m pytest -n 2

# The tutorial on every backend: table and verdict here, figures and run.json in results/run/.
# Options go through ARGS, e.g. make run ARGS="--lr 0.5 --backends numpy-closed,jax-grad"
run: $(STAMP)
	$(VENV)/bin/gdbench run $(ARGS)

# The benchmark suite (README, "Benchmarks"): make bench ARGS=--quick, then make report.
bench: $(STAMP)
	$(VENV)/bin/gdbench bench $(ARGS)

report: $(STAMP)
	$(VENV)/bin/gdbench report $(ARGS)

# Two runs of the same code back to back, and whether they agree (quick; ARGS=--full for two sweeps).
reproduce: $(STAMP)
	$(VENV)/bin/gdbench reproduce $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Mutation testing of the contract's core (README, "Run the tests"): a habit before a release, not
# part of CI. Niced, at most 40 minutes; writes results/mutation/summary.md, exit 1 below 90%.
# From `gdbench run` only its verdict; the rest of benchmarks/ is mutated but never run.
MUTANTS := 'impls.*' 'benchmarks.core.regression.*' 'benchmarks.commands.run.x_reference__*' \
	$(foreach f,judge deviation verdict,'benchmarks.core.verdict.x_$(f)__*')
mutate: $(STAMP)
	rm -rf mutants
	start=$$(date +%s); timeout 2400 nice -n 19 $(VENV)/bin/mutmut run --max-children 2 $(MUTANTS) > mutants.log 2>&1; \
	  rc=$$?; tail -c 300 mutants.log; echo; [ $$rc -eq 0 ] || echo "mutmut exited $$rc (see mutants.log)"; \
	  $(PY) tools/mutation_summary.py --seconds $$(( $$(date +%s) - start ))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info mutants mutants.log
