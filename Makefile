# The two commands: `make run` (the host on the shipped registry.yaml) and `make test` (every test).
# Both install what is missing and are safe to run again.

SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
APT_PACKAGES := libgit2-dev libsqlite3-dev sqlite3 pkg-config git openssl chromium chromium-driver postgresql bubblewrap
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?= registry.yaml
HTTP ?=

.PHONY: run test build deps venv bench clean generated

## Run the host on the embedded default: validate the manifest, then `agenthub serve` (sync on schedule, the
## bridged `time` server from mcp-server-time in .venv, live reload, HTTP on host.http or HTTP=HOST:PORT).
## It prints where it listens and runs until Ctrl-C.
run: deps venv build
	.build/debug/agenthub check --config $(CONFIG)
	AGENTHUB_PYTHON=$(abspath $(PYTHON)) .build/debug/agenthub serve --config $(CONFIG) $(if $(HTTP),--http $(HTTP))

## Run every test: Swift unit and integration tests, the interop tests against the Python tools in .venv, and the
## web console in headless Chromium (screenshots of each page land in .build/console-screenshots).
test: deps venv
	AGENTHUB_PYTHON=$(abspath $(PYTHON)) $(SWIFT) test 2>&1 | tee .build-test.log; exit $${PIPESTATUS[0]}

build: deps
	$(SWIFT) build

## Benchmarks (release build); they print tables and assert nothing about time.
bench: deps
	bench/run

## System packages: installed only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## The Python virtualenv for interop tests (skills-ref is the reference SKILL.md validator).
venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements-test.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements-test.txt
	touch $@

clean:
	rm -rf .build $(VENV) .agenthub .build-test.log

## Regenerate registry.schema.json and the README's settings table from the manifest key table.
generated: build
	.build/debug/agenthub schema > registry.schema.json
	.build/debug/agenthub schema --readme README.md
