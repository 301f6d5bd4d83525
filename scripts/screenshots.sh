#!/usr/bin/env bash
# `make screenshots`: the README's screenshots (docs/screenshots/*.png), taken
# from the demo database (created when missing, as `make demo` does) served on
# a free local port, then the server is stopped.
# Extra arguments go to scripts/screenshots.py (e.g. --only threshold_rule).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_DEMO_DB:-recon_demo}
bash scripts/prepare.sh

source scripts/lib.sh
ensure_chromium || exit 5
ensure_demo_db "$DB"

port=$(free_port)
server_log=$(mktemp "${TMPDIR:-/tmp}/recon-screenshots-XXXXXX.log")
echo "[screenshots] serving '$DB' on 127.0.0.1:$port"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" --db-filter="^$DB\$" --http-interface=127.0.0.1 \
    --http-port="$port" --max-cron-threads=0 --log-level=warn >"$server_log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -f "$server_log"; }
trap stop EXIT

if ! "$PYTHON" scripts/screenshots.py --url "http://127.0.0.1:$port" --db "$DB" "$@"; then
    echo "[screenshots] failed; the server's log:" >&2
    tail -n 40 "$server_log" >&2
    exit 1
fi
