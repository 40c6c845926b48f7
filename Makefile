# crossguard: build, test, lint, bench, demo. Everything it needs it installs itself:
# Rust components through rustup, Python tools in .venv (ignored by git).
SHELL := /bin/bash
CARGO ?= cargo
VENV := .venv
PY := $(VENV)/bin/python
BIN := target/release/crossguard
ALLOWLIST := examples/allowlist.toml

.PHONY: all build test lint fmt bench demo clean

all: build

build:
	$(CARGO) build --release --workspace

# Property tests run 2,000 generated cases each: release mode keeps that quick.
test:
	$(CARGO) test --release --workspace

lint:
	@rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.c7n: | $(PY)
	$(VENV)/bin/pip install --quiet "c7n==0.9.53"
	touch $@

# criterion over realistic policies, then Cloud Custodian on the same files, same run.
bench: $(VENV)/.c7n
	$(CARGO) bench -p crossguard-engine --bench decide
	$(PY) scripts/bench_compare.py

# The CLI over the example story: what a newcomer should see.
demo: build
	@scripts/demo.sh $(BIN) $(ALLOWLIST)

clean:
	$(CARGO) clean
	rm -rf $(VENV)
