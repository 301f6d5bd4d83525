#!/usr/bin/env bash
# `make demo`: the database recon_demo with the addon and its demo data
# (created once), served at http://localhost:8069.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_DEMO_DB:-recon_demo}
PORT=${RECON_HTTP_PORT:-8069}
bash scripts/prepare.sh

source scripts/lib.sh
export PGPASSWORD=$(conf db_password)
pg=(-h "$(conf db_host)" -p "$(conf db_port)" -U "$(conf db_user)")

if [ "${1:-}" = reset ]; then
    echo "[demo] dropping '$DB'"
    drop_db "$DB"
    exit 0
fi

if ! psql "${pg[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    echo "[demo] creating '$DB' with recon_addon and its demo data (a few minutes)"
    if ! "$PYTHON" -m odoo -c "$CONF" -d "$DB" -i recon_addon \
            --stop-after-init --no-http --log-level=warn; then
        drop_db "$DB"
        echo "[demo] installing the addon failed; the database was removed. See the log above." >&2
        exit 1
    fi
fi

cat <<MSG
[demo] Odoo is starting at http://localhost:$PORT
[demo] database: $DB   login: admin   password: admin
[demo] stop with Ctrl+C; reset the demo with 'make demo-reset'
MSG
exec "$PYTHON" -m odoo -c "$CONF" -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --log-level=info
