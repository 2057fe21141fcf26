# Every tool the project needs is installed here, into virtual environments under the repo,
# never by hand: .venv (test tools, cargo-lambda and zig), .venv-sam (SAM CLI, make deploy
# only), .venv-lock (uv, make lock only).
PYTHON    ?= python3
VENV      := .venv
SAM_VENV  := .venv-sam
LOCK_VENV := .venv-lock
PY        := $(VENV)/bin/python
BIN       := $(VENV)/bin
EVENT     ?= events/scheduled.json
# The oldest Python that moto, pytest and cfn-lint support; the lock files are resolved for it
# and every later version.
PYTHON_MIN := 3.10
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Stops with one line saying what to install when $(PYTHON) is missing or older than PYTHON_MIN.
CHECK_PYTHON = @$(PYTHON) -c 'import sys, venv; sys.exit(sys.version_info < tuple(map(int, "$(PYTHON_MIN)".split("."))))' 2>/dev/null \
	|| { echo "error: this project needs Python $(PYTHON_MIN) or later with its venv module; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo "not found"): install python$(PYTHON_MIN) or later (and python3-venv on Debian/Ubuntu), or run make PYTHON=/path/to/python3.x" >&2; exit 1; }

.PHONY: all venv demo check invoke binaries test lint fmt-check clippy test-rust test-deploy test-bench \
	arm64-toolchain build deploy bench bench-day lock clean

all: test

$(VENV)/.installed: requirements-dev.txt
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Both binaries a local run starts: the function and the simulator (a plain `cargo build` at
# the root would build only the function's package).
binaries:
	cargo build --quiet --workspace --bin session-sweeper --bin dataverse-sim

## demo: one sweep of the embedded sample org (dataverse-sim + moto), through cargo lambda's
## emulator; fails unless exactly the sample org's eligible sessions were closed
demo: venv binaries
	$(PY) scripts/local_run.py --demo --check-demo --event events/scheduled.json

## check: the read-only check of the settings on the embedded sample org (reads, never writes);
## fails unless the sample org's check answers "ok": true
check: venv binaries
	$(PY) scripts/local_run.py --demo --expect-ok --event events/check.json

## invoke: the same wiring with any event, e.g. make invoke EVENT=events/dry-run.json
invoke: venv binaries
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

# zig (from the ziglang package, pinned in requirements-dev.txt as a dependency of
# cargo-lambda) links the arm64 binary; the Rust target is the only other piece.
arm64-toolchain: venv
	rustup target add aarch64-unknown-linux-gnu

## build: the arm64 bootstrap for Lambda (cross-compiled with zig)
build: arm64-toolchain
	$(BIN)/cargo-lambda lambda build --release --arm64 --bin session-sweeper
	@ls -l target/lambda/session-sweeper/bootstrap

$(SAM_VENV)/.installed: requirements-sam.txt
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-sam.txt
	touch $@

## deploy: first deployment, guided (needs AWS credentials); sam build cross-compiles with
## cargo-lambda and zig from .venv, found on PATH
deploy: arm64-toolchain $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam build && $(SAM_VENV)/bin/sam deploy --guided

## bench: sweeps of 1k, 10k and 100k sessions against dataverse-sim, then the day scenario;
## fails when a target is missed (the day still runs, so both reports are printed)
bench: venv
	cargo build --release --workspace --bins
	@status=0; $(PY) scripts/bench.py || status=1; $(PY) scripts/bench_day.py || status=1; exit $$status

## bench-day: a day of an org in virtual time, four strategies side by side (ARGS=--week for seven days)
bench-day: venv
	cargo build --release --workspace --bins
	$(PY) scripts/bench_day.py $(ARGS)

$(LOCK_VENV)/.installed: requirements-lock.txt
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-lock.txt
	touch $@

## lock: re-resolve requirements-*.txt from requirements-*.in (every dependency pinned, with
## hashes, for Python $(PYTHON_MIN) and later on any platform)
lock: $(LOCK_VENV)/.installed
	$(LOCK_VENV)/bin/uv pip compile --quiet --universal --python-version $(PYTHON_MIN) --generate-hashes \
		--output-file requirements-dev.txt requirements-dev.in
	$(LOCK_VENV)/bin/uv pip compile --quiet --universal --python-version $(PYTHON_MIN) --generate-hashes \
		--output-file requirements-sam.txt requirements-sam.in

clean:
	cargo clean
	rm -rf $(VENV) $(SAM_VENV) $(LOCK_VENV)

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
