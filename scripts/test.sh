#!/usr/bin/env bash
# `make test`: `make lint`, then a fresh database with the addon installed,
# pytest-odoo on the addon's tests and on tests/, and the database dropped
# afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_TEST_DB:-recon_test_$$}
bash scripts/prepare.sh

# The linters first: a finding fails the run before any database is made.
bash scripts/lint.sh

source scripts/lib.sh
# Browser tests (Odoo tours) need a headless Chromium.
ensure_chromium || exit 5

# The browser tests serve the test database on a port of their own, so that
# `make test` runs beside `make demo` (port 8069) or another test run.
TEST_CONF=$(mktemp "${TMPDIR:-/tmp}/recon-test-XXXXXX.conf")
port=$(free_port)
{ cat "$CONF"; echo "http_port = $port"; echo "http_interface = 127.0.0.1"; } > "$TEST_CONF"
QUEUE_DB=${DB}_queue
cleanup() { drop_db "$DB"; drop_db "$QUEUE_DB"; rm -f "$TEST_CONF"; }
trap cleanup EXIT

echo "[test] installing recon_addon in a fresh database '$DB'"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" -i recon_addon --without-demo=all \
    --stop-after-init --no-http --log-level=warn

targets=(recon_addon/tests)
[ -n "$(find tests -name 'test_*.py' 2>/dev/null)" ] && targets+=(tests)
echo "[test] running pytest-odoo on ${targets[*]}"
"$PYTHON" -m pytest --odoo-config="$TEST_CONF" --odoo-database="$DB" --odoo-http \
    -p no:cacheprovider "${targets[@]}" "$@"

# The same runs on OCA's job queue: the bridge addon, installed with
# queue_job, in a database of its own (recon_addon alone stays on Odoo's
# scheduler, as tested above).
echo "[test] installing recon_queue_job (recon_addon on queue_job) in a fresh database '$QUEUE_DB'"
"$PYTHON" -m odoo -c "$CONF" -d "$QUEUE_DB" -i recon_queue_job --without-demo=all \
    --stop-after-init --no-http --log-level=warn
echo "[test] running pytest-odoo on recon_queue_job/tests"
"$PYTHON" -m pytest --odoo-config="$TEST_CONF" --odoo-database="$QUEUE_DB" \
    -p no:cacheprovider recon_queue_job/tests "$@"
