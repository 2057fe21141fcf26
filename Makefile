# Every tool the project needs is installed here, into .venv, never by hand.
VENV      := .venv
PY        := $(VENV)/bin/python
BIN       := $(VENV)/bin
EVENT     ?= events/scheduled.json
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: all venv demo invoke test lint fmt-check clippy test-rust test-deploy test-bench arm64-toolchain build deploy bench clean

all: test

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## demo: one sweep of the embedded sample org (dataverse-sim + moto), through cargo lambda's emulator
demo: venv
	cargo build --quiet --bins
	$(PY) scripts/local_run.py --demo --event events/scheduled.json

## invoke: the same wiring with any event, e.g. make invoke EVENT=events/dry-run.json
invoke: venv
	cargo build --quiet --bins
	$(PY) scripts/local_run.py --demo --event $(EVENT)

## test: formatting, lints, unit and integration tests, template checks
test: venv fmt-check clippy test-rust test-deploy test-bench

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

test-rust: venv
	cargo test --workspace

test-deploy: venv
	$(BIN)/cfn-lint template.yaml
	$(BIN)/pytest -q tests/deploy

test-bench: venv
	$(BIN)/pytest -q tests/bench

lint: fmt-check clippy

# zig links the arm64 binary; only build and deploy need it, so make test never installs it.
arm64-toolchain: venv
	$(BIN)/pip install --quiet --disable-pip-version-check ziglang==0.17.1
	rustup target add aarch64-unknown-linux-gnu

## build: the arm64 bootstrap for Lambda (cross-compiled with zig)
build: arm64-toolchain
	$(BIN)/cargo-lambda lambda build --release --arm64 --bin session-sweeper
	@ls -l target/lambda/session-sweeper/bootstrap

## deploy: first deployment, guided (needs AWS credentials); sam build cross-compiles with zig too
deploy: arm64-toolchain
	$(BIN)/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0
	$(BIN)/sam build && $(BIN)/sam deploy --guided

## bench: sweeps of 1k, 10k and 100k sessions against dataverse-sim, figures printed
bench: venv
	cargo build --release --workspace --bins
	$(PY) scripts/bench.py

clean:
	cargo clean
	rm -rf $(VENV)

# Mutation testing: cargo-mutants, pinned, installed into .tools/ by this file (not part of test).
# The stamp names the version, so changing MUTANTS_VERSION reinstalls.
MUTANTS_VERSION := 27.1.0
MUTANTS_STAMP   := .tools/.cargo-mutants-$(MUTANTS_VERSION)

.PHONY: mutants

$(MUTANTS_STAMP):
	cargo install --locked --quiet --root .tools cargo-mutants@$(MUTANTS_VERSION)
	touch $@

## mutants: mutate the pure and protocol code (files listed in .cargo/mutants.toml), unit tests only
mutants: $(MUTANTS_STAMP)
	.tools/bin/cargo-mutants mutants --package session-sweeper
