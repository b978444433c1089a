# Two commands do everything on a fresh clone (only Python and pip needed):
#   make demo   set up .venv and run the main job
#   make test   set up .venv with the test extras and run the whole test suite (+ ruff)
# and one to read along:
#   make notebooks  set up .venv with the notebooks extra and open notebooks/ in JupyterLab
# and two that regenerate what is committed (both need Graphviz's `dot` on PATH, as CI has):
#   make notebook-outputs  run every notebook and write it back with its outputs (tests/notebook_runner.py)
#   make figures           redraw the README's pictures in docs/figures/ (docs/make_figures.py)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test notebooks notebook-outputs figures bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-deps: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[train]'
	touch $@

$(VENV)/.test-deps: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[train,test]'
	touch $@

$(VENV)/.notebook-deps: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[train,notebooks]'
	touch $@

demo: $(VENV)/.demo-deps
	$(BIN)/python -m tinygrad_tx train --out-dir runs/demo --overwrite
	$(BIN)/python -m tinygrad_tx sample --checkpoint runs/demo/ckpt.npz --prompt "The " --length 400

test: $(VENV)/.test-deps
	$(BIN)/ruff check tinygrad_tx tests bench docs notebooks/exercises/make_blanks.py
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest

# JUPYTER_PATH first: the kernel "python3" is then this .venv's, even if a user-level kernel spec
# of another Python has the same name. As root (a container), Jupyter needs --allow-root.
notebooks: $(VENV)/.notebook-deps
	JUPYTER_PATH=$(abspath $(VENV))/share/jupyter $(BIN)/jupyter lab notebooks/ \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# The test extra: the kernel and the packages the notebooks import, as for the test that compares a
# fresh run with these outputs (tests/test_notebooks.py).
notebook-outputs: $(VENV)/.test-deps
	$(BIN)/python -m tests.notebook_runner --write

figures: $(VENV)/.test-deps
	$(BIN)/python docs/make_figures.py

bench: $(VENV)/.test-deps
	$(BIN)/python bench/scalar.py
	$(BIN)/python bench/tensor.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
