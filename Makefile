# earlywarn: `make help` lists the targets. Everything runs inside .venv.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKED := src tests bench scripts

.DEFAULT_GOAL := help
.PHONY: help install run test lint format typecheck pytest bench schema docs screenshots clean

help: ## List the targets with what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install earlywarn with its development tools and PySpark

run: install ## Install everything, then run the main job on simulated data (5,000 cases)
	$(BIN)/earlywarn run

test: lint typecheck pytest ## Lint, format check, type check, then the whole test suite

lint: install ## ruff lint and format check, and the package's import layers (lint-imports)
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/lint-imports

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(CHECKED)
	$(BIN)/ruff format $(CHECKED)

typecheck: install ## mypy on the packages
	$(BIN)/mypy

TEST_WORKERS ?= 2

pytest: install ## The test suite on TEST_WORKERS processes, after starting PostgreSQL and installing Chromium and Java (ARGS='-m "not slow"' skips the slow tests)
	EARLYWARN_TEST_POSTGRES_URL="$$(bash scripts/test-services.sh | tail -1)" $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

bench: install ## Run every benchmark in bench/ and append its figures to BENCHMARKS.md
	$(BIN)/python bench/run_all.py

schema: install ## Rewrite data/schema/ from the contract in code
	$(BIN)/earlywarn schema --out data/schema/contract-1.0.schema.json

docs: install ## Rewrite the generated parts of docs/ (the feature catalogue, the contract's tables, the step rules)
	$(BIN)/python -m earlywarn.features.catalogue docs/features.md
	$(BIN)/python -m earlywarn.contract.markdown docs/data-contract.md
	$(BIN)/python -m earlywarn.models.steps docs/reasons-and-steps.md

screenshots: install ## Retake docs/screenshots/ (the office page in Chromium, the ledger in LibreOffice)
	bash scripts/test-services.sh >/dev/null
	bash scripts/ledger-tools.sh
	$(BIN)/python scripts/office_demo.py --out docs/screenshots

clean: ## Remove generated files (.earlywarn/, caches); keeps .venv
	rm -rf .earlywarn .pytest_cache .mypy_cache .ruff_cache .hypothesis
