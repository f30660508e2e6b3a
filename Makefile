# The README's contract: `make test` sets everything up and runs every check; `make up` deploys the try-it stack.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= local
# A local state backend: no Pulumi Cloud account needed. Override with PULUMI_BACKEND_URL.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# Debian packages the tests run for real: cloud-init (schema), etcd and busybox (backup jobs), shellcheck.
DEBIAN_PACKAGES := cloud-init etcd-server etcd-client shellcheck busybox

.PHONY: test deps system-deps lint types zizmor pytest mutation up preview plan verify restore restore-list clean

test: deps lint types zizmor pytest

deps: $(VENV)/.installed system-deps

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-tools.txt policies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

system-deps:
	@# dpkg-query's status, not `dpkg -s`: a package removed but not purged ("rc") still answers `dpkg -s`.
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  [ "$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null)" = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(VENV)/.installed
	$(VENV)/bin/mypy components tools policies benchmarks tests __main__.py

# The workflows, audited offline (auditor persona); findings must be allow-listed with a reason.
zizmor: $(VENV)/.installed
	$(PY) .github/zizmor_check.py

pytest: $(VENV)/.installed system-deps
	$(VENV)/bin/pytest -q

# Mutation testing (slow, not part of `make test`): realistic one-line regressions in components/, tools/,
# policies/ and the scheduler scripts, each judged by the tests that cover its file (tools/mutation/).
# Narrow it with ARGS, e.g. ARGS="--files 'policies/*.py'" or ARGS="--sample 0.1"; results accumulate in
# .mutation/results.jsonl, so a rerun judges only new mutants (ARGS=--rejudge for survivors).
mutation: $(VENV)/.installed system-deps
	$(PY) -m tools.mutation --jobs 2 $(ARGS)

# Deploy the try-it stack on the local Docker engine. Needs the Pulumi CLI and Docker.
up: $(VENV)/.installed
	@command -v pulumi >/dev/null || { echo "make up needs the Pulumi CLI (https://www.pulumi.com/docs/install/)"; exit 2; }
	@mkdir -p .pulumi-state
	@# Secrets in a local backend are encrypted with a passphrase: Pulumi asks for it unless
	@# PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE is set. There is no default one.
	pulumi stack select $(STACK) 2>/dev/null || pulumi stack init $(STACK)
	pulumi up --stack $(STACK)

preview: $(VENV)/.installed
	pulumi preview --diff --stack $(STACK) --policy-pack policies

# Offline plan: the program under Pulumi's mocks plus the policy pack; no CLI, no credentials.
plan: $(VENV)/.installed
	$(PY) -m tools.plan --stack $(STACK) $(ARGS)

# After `pulumi up`: health, a temporary collection, backups; `make verify ARGS=--bench` measures.
verify: $(VENV)/.installed
	$(PY) -m tools.verify --stack $(STACK) $(ARGS)

# Restore collections from a named backup: make restore STACK=dev BACKUP=scheduled_20261124_020000 [ARGS=...]
restore: $(VENV)/.installed
	@case "$(origin STACK)" in "command line"|environment) ;; *) echo "make restore needs an explicit STACK=<stack>"; exit 2;; esac
	@test -n "$(BACKUP)" || { echo "make restore needs BACKUP=<backup name> (list them: python -m tools.restore --stack STACK list)"; exit 2; }
	$(PY) -m tools.restore --stack $(STACK) collections --backup $(BACKUP) $(ARGS)

restore-list: $(VENV)/.installed
	$(PY) -m tools.restore --stack $(STACK) list

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
