# Every target installs what it needs into .venv first: pyproject.toml's ranges, at the exact versions of constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2
MODELS ?=
DATA ?=
SEEDS ?=
SCHEDULER ?=
BUDGET ?=

.PHONY: all demo test bench fuzz oof holdout lint clean install jax-check

all: test

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[models,dev]'
	@touch $(STAMP)

install: $(STAMP)

## The main job: train the zoo on 5,000 bundled MNIST digits, blend every way, judge the claims fairly, end with blend auto.
## Within 15 minutes by default (every learner's plan is fitted to this machine: the tabular learners' rounds, then the CNNs' number, width and epochs); BUDGET=25m for another wall time.
demo: $(STAMP)
	$(BIN)/python -m models.demo --jobs $(JOBS) $(if $(BUDGET),--time-budget $(BUDGET))

## The linter, then the test suite (CI runs exactly this).
test: $(STAMP) lint
	$(BIN)/python -m pytest -q

## Speed and memory, as ratios to a bare reference measured in the same run.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_io.py
	$(BIN)/python benchmarks/bench_caruana.py
	$(BIN)/python benchmarks/bench_caruana_scale.py
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_hillclimb.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_real_data.py
	$(BIN)/python benchmarks/bench_metric_cases.py
	$(BIN)/python benchmarks/bench_levels.py
	$(BIN)/python benchmarks/bench_doctor.py
	$(BIN)/python benchmarks/bench_budget.py

## A longer fuzz run than the suite's (minutes): generated and mutated files through io and the CLI.
fuzz: $(STAMP)
	BLEND_FUZZ_SECONDS=300 $(BIN)/python -m pytest -q tests/test_io_fuzz.py
	$(BIN)/python benchmarks/fuzz.py

## Out-of-fold and test predictions for the zoo: make oof MODELS="rf et cnn_allconv" DATA=path JOBS=2 SEEDS=3 BUDGET=10m SCHEDULER=tcp://host:8786
oof: $(STAMP)
	$(BIN)/python -m models oof $(if $(MODELS),--models "$(MODELS)") $(if $(BUDGET),--time-budget $(BUDGET)) $(if $(DATA),--data "$(DATA)") $(if $(SEEDS),--seeds $(SEEDS)) $(if $(SCHEDULER),--scheduler "$(SCHEDULER)") --jobs $(JOBS)

## Holdout predictions for `blend holdout`.
holdout: $(STAMP)
	$(BIN)/python -m models holdout $(if $(MODELS),--models "$(MODELS)") $(if $(DATA),--data "$(DATA)") $(if $(SEEDS),--seeds $(SEEDS)) $(if $(SCHEDULER),--scheduler "$(SCHEDULER)") --jobs $(JOBS)

## The zoo's CNNs on Keras' JAX backend, on Python 3.12 with no TensorFlow (issue 28): builds .venv-jax at the versions
## of constraints-jax.txt (downloads JAX, about 100 MB, the first time), then runs tests/test_models_backends.py there,
## end to end (python -m models oof, then blend score). Not part of make test: CI need not download JAX every run.
## JAX_PYTHON names another interpreter (with pyenv: make jax-check JAX_PYTHON="$(PYENV_VERSION=3.12.1 pyenv which python)").
JAX_PYTHON ?= python3.12
JAX_VENV := .venv-jax
JAX_PACKAGES := numpy pandas pyarrow scipy scikit-learn threadpoolctl typer rich matplotlib joblib duckdb keras jax jaxlib pytest
jax-check:
	@test -x $(JAX_VENV)/bin/python || $(JAX_PYTHON) -m venv $(JAX_VENV)
	$(JAX_VENV)/bin/python -m pip install --quiet -c constraints-jax.txt $(JAX_PACKAGES)
	PYTHONPATH=. KERAS_BACKEND=jax BLENDER_JAX_PYTHON=$(CURDIR)/$(JAX_VENV)/bin/python $(JAX_VENV)/bin/python -m pytest -q tests/test_models_backends.py

lint: $(STAMP)
	$(BIN)/python -m ruff check --quiet blender models benchmarks tests
	$(BIN)/python -m ruff format --check --quiet blender models benchmarks tests
	$(BIN)/python -m mypy
	$(BIN)/python -m compileall -q blender models benchmarks tests

clean:
	rm -rf blends submissions data benchmarks/_data .pytest_cache
