# recon_addon: the two commands of the README, and the benchmarks.
# Odoo 18.0 is an installed dependency (see README.md, "Requirements").
PYTHON ?= python3
export PYTHON

.PHONY: demo demo-reset test lint bench prepare pot

## Serve the demo database (created once) at http://localhost:8069
demo:
	@bash scripts/demo.sh

## Drop the demo database; the next `make demo` creates it anew
demo-reset:
	@bash scripts/demo.sh reset

## `make lint`, then a fresh test database, all tests, database dropped afterwards
test:
	@bash scripts/test.sh

## ruff, pylint-odoo and OCA's data file checks; fails on any finding
lint:
	@bash scripts/lint.sh

## Translation templates (i18n/*.pot) exported by Odoo from a fresh database
pot:
	@bash scripts/pot.sh

## Benchmarks against Odoo's own path, measured in the same run
bench:
	@bash scripts/bench.sh $(ARGS)

## Start PostgreSQL, create the role, write .odoo.conf
prepare:
	@bash scripts/prepare.sh

## The README's screenshots (docs/screenshots/) from the demo database
.PHONY: screenshots
screenshots:
	@bash scripts/screenshots.sh $(ARGS)

## The addons' wheels (odoo-addon-recon_addon, odoo-addon-recon_queue_job) into dist/
.PHONY: wheel
wheel:
	@$(PYTHON) -m pip wheel --no-deps --wheel-dir dist ./recon_addon ./recon_queue_job

## Install a released recon_addon (FROM=v18.0.x.y.z, default the previous tag), run its rules, upgrade to this checkout, check nothing is lost
.PHONY: upgrade-test
upgrade-test:
	@FROM=$(FROM) bash scripts/upgrade_test.sh
