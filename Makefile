# The two commands of the README, plus helpers. Every target installs what it needs first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
OUT ?= demo-out

.PHONY: setup demo test lint fuzz bench

setup:
	bash scripts/setup.sh

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/swe-srl demo --out $(OUT)

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

fuzz: setup
	HF_HUB_OFFLINE=1 SWE_SRL_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -m fuzz tests

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done
