#!/usr/bin/env bash
# `make test`: a fresh database with the addon installed, pytest-odoo on the
# addon's tests and on tests/, and the database dropped afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_TEST_DB:-recon_test_$$}
bash scripts/prepare.sh

drop() {
    PGPASSWORD=$(awk -F' = ' '/^db_password/ {print $2}' "$CONF") \
        dropdb --if-exists -h "$(awk -F' = ' '/^db_host/ {print $2}' "$CONF")" \
        -p "$(awk -F' = ' '/^db_port/ {print $2}' "$CONF")" \
        -U "$(awk -F' = ' '/^db_user/ {print $2}' "$CONF")" "$DB" || true
}
trap drop EXIT

echo "[test] installing recon_addon in a fresh database '$DB'"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" -i recon_addon --without-demo=all \
    --stop-after-init --no-http --log-level=warn

targets=(recon_addon/tests)
[ -n "$(find tests -name 'test_*.py' 2>/dev/null)" ] && targets+=(tests)
echo "[test] running pytest-odoo on ${targets[*]}"
"$PYTHON" -m pytest --odoo-config="$CONF" --odoo-database="$DB" -p no:cacheprovider "${targets[@]}" "$@"
