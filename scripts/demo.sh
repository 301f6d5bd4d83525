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
if [ "${1:-}" = reset ]; then
    echo "[demo] dropping '$DB'"
    drop_db "$DB"
    exit 0
fi

ensure_demo_db "$DB"

cat <<MSG
[demo] Odoo is starting at http://localhost:$PORT
[demo] database: $DB   login: admin   password: admin
[demo] stop with Ctrl+C; reset the demo with 'make demo-reset'
MSG
exec "$PYTHON" -m odoo -c "$CONF" -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --log-level=info
