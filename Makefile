# crossguard: build, test, lint, bench, demo. Everything it needs it installs itself:
# Rust components through rustup, Python tools in .venv (ignored by git).
SHELL := /bin/bash
CARGO ?= cargo
VENV := .venv
PY := $(VENV)/bin/python
# Where cargo puts binaries: CARGO_TARGET_DIR when set (a shared or fresh build dir).
OUT := $(or $(CARGO_TARGET_DIR),target)
BIN := $(OUT)/release/crossguard
ALLOWLIST := examples/allowlist.toml

# Python tools, pinned: moto server (the local AWS emulator) and cargo-lambda (Lambda
# runtime emulator and packager; ships zig for cross-builds).
MOTO_VERSION := 5.2.5
CARGO_LAMBDA_VERSION := 1.9.2
CFN_LINT_VERSION := 1.58.0
CHECKOV_VERSION := 3.3.30
TOOLS := $(VENV)/.tools-$(MOTO_VERSION)-$(CARGO_LAMBDA_VERSION)-$(CFN_LINT_VERSION)-$(CHECKOV_VERSION)
# make package ARCH=arm64 for Graviton (the template's Architecture parameter must match).
ARCH ?= x86_64
FUNCTIONS := bucket-guard role-guard key-guard queue-guard topic-guard function-guard secret-guard repository-guard bus-guard access-point-guard tamper-guard hub-exporter
STACK ?= crossguard
# Tests and the demo build with this profile (see Cargo.toml).
PROFILE := ci

# The HTML report's test renders it in Debian's chromium (installed when missing).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build test lint lint-infra fmt bench demo demo-cli venv package deploy clean chromium properties fuzz

all: build

build:
	$(CARGO) build --release --workspace

# Unit, property and CLI tests, then the guards end to end on moto server (started and
# stopped by the tests on free ports). The function is built first exactly as
# `cargo lambda watch` builds it, so the runtime-API test finds it ready.
test: $(TOOLS) chromium
	$(CARGO) build --profile $(PROFILE) --manifest-path functions/bucket-guard/Cargo.toml --bin bucket-guard
	CHROMIUM=$(CHROMIUM) CROSSGUARD_PROFILE=$(PROFILE) $(CARGO) test --profile $(PROFILE) --workspace
	# The patched crc-fast's own unit tests, with one of ours on the path it changed (its
	# FFI header test compares against a header its release left stale: skipped).
	cd vendor/crc-fast && $(CARGO) test --lib -- --skip test_ffi_header

# The engine's property tests at 100,000 cases each (CI runs 2,000): a long soak, not CI.
PROPERTY_CASES ?= 100000
properties:
	CROSSGUARD_CASES=$(PROPERTY_CASES) $(CARGO) test --profile $(PROFILE) -p crossguard-engine --test properties

# Fuzzing of the engine (policy text, CloudTrail events, the allowlist loader) under
# AFL++ through cargo-afl on the stable toolchain, FUZZ_SECONDS per target, with the seed
# corpus in fuzz/corpus/: prints executions and crashes per target, fails on a crash.
# Its own cargo project (fuzz/), not part of the workspace, `make test` or CI.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
	@test -x $(CHROMIUM)

lint:
	@rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# The templates, offline: cfn-lint (with the SAM transform) and checkov, zero findings.
lint-infra: $(TOOLS)
	$(VENV)/bin/cfn-lint infra/template.yaml infra/member-account.yaml
	$(VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f infra/template.yaml -f infra/member-account.yaml

# One bootstrap.zip per function (provided.al2023), in target/lambda/NAME/. One build per
# function: built together, cargo would unify the guard core's features and every
# function would link every service's SDK client.
package: $(TOOLS)
	for f in $(FUNCTIONS); do \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/cargo-lambda lambda build --profile deploy \
			--output-format zip $(if $(filter arm64,$(ARCH)),--arm64,--x86-64) \
			-p $$f --bin $$f || exit 1; \
	done

# Deploy the central stack with AWS SAM (needs credentials and `sam`; not run in CI):
#   make deploy ALLOWLIST_BUCKET=my-bucket EXTERNAL_ID=... [MODE=remediate] [ORG_ID=o-...] [SECURITY_HUB=true]
deploy: package
	sam deploy --template-file infra/template.yaml --stack-name $(STACK) \
		--capabilities CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND --resolve-s3 \
		--parameter-overrides Architecture=$(ARCH) Mode=$(or $(MODE),alert) \
		AllowlistBucket=$(ALLOWLIST_BUCKET) MemberExternalId=$(EXTERNAL_ID) \
		OrganizationId=$(ORG_ID) TrailName=$(TRAIL) SecurityHub=$(or $(SECURITY_HUB),false)

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(TOOLS): | $(PY)
	$(VENV)/bin/pip install --quiet "moto[server]==$(MOTO_VERSION)" "cargo-lambda==$(CARGO_LAMBDA_VERSION)" \
		"cfn-lint==$(CFN_LINT_VERSION)" "checkov==$(CHECKOV_VERSION)"
	touch $@

venv: $(TOOLS)

# Cloud Custodian, the benchmarks' baseline, in a venv of its own: its boto3 pins
# conflict with checkov's.
C7N_VENV := .venv-c7n
$(C7N_VENV)/.c7n:
	python3 -m venv $(C7N_VENV)
	$(C7N_VENV)/bin/pip install --quiet "c7n==0.9.53"
	touch $@

# Every row of the README's performance table, each against its baseline in the same
# run: the engine and `check` against Cloud Custodian, replay against zcat, the functions'
# cold start against a hello-world function, their peak memory and package sizes.
bench: $(TOOLS) $(C7N_VENV)/.c7n
	$(CARGO) bench -p crossguard-engine --bench decide
	$(C7N_VENV)/bin/python scripts/bench_compare.py
	$(CARGO) build --release -p crossguard-cli
	$(C7N_VENV)/bin/python scripts/bench_check.py $(BIN)
	# replay vs zcat on a generated 322 MB archive (ci profile: no LTO over the AWS SDK)
	$(CARGO) bench --profile $(PROFILE) -p crossguard-cli --bench replay
	# cold start and peak memory, with the deployed profile (deploy)
	$(CARGO) build --profile deploy -p bucket-guard
	$(CARGO) build --profile deploy -p crossguard-guard --example hello
	CROSSGUARD_BENCH_BIN=$(abspath $(OUT))/deploy $(CARGO) bench --profile $(PROFILE) -p crossguard-emulator-tests --bench lambda
	$(MAKE) --no-print-directory package
	@scripts/package_sizes.sh $(OUT) $(FUNCTIONS)

# The guard Lambdas' story on moto server: what a newcomer should see first.
demo: $(TOOLS)
	@# Both binaries by name: one --bin would select only itself in every package named.
	@$(CARGO) build --quiet --profile $(PROFILE) -p crossguard-emulator-tests -p crossguard-cli \
		--bin crossguard-demo --bin crossguard
	@$(OUT)/$(PROFILE)/crossguard-demo
	@printf '\n== 9. The auditor'"'"'s view\n   crossguard replay over the evidence records the guards wrote:\n\n'
	@$(OUT)/$(PROFILE)/crossguard replay --allowlist $(ALLOWLIST) target/demo/evidence || [ $$? -eq 1 ]
	@$(OUT)/$(PROFILE)/crossguard replay --format html --allowlist $(ALLOWLIST) target/demo/evidence \
		> target/demo/report.html || [ $$? -eq 1 ]
	@echo; echo "   The same as one HTML page for auditors: target/demo/report.html"

# The same story through the CLI, offline: decisions and planned fixes, no emulator.
demo-cli: build
	@scripts/demo.sh $(BIN) $(ALLOWLIST)

clean:
	$(CARGO) clean
	rm -rf $(VENV)
