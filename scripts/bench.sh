#!/usr/bin/env bash
# `make bench`: the benchmarks of bench/ on a fresh database, dropped afterwards.
# Extra arguments go to bench/run.py (e.g. --only spine, --quick).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_BENCH_DB:-recon_bench_$$}
bash scripts/prepare.sh

source scripts/lib.sh
drop() { drop_db "$DB"; }
trap drop EXIT

echo "[bench] installing recon_addon in a fresh database '$DB'"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" -i recon_addon --without-demo=all \
    --stop-after-init --no-http --log-level=warn
"$PYTHON" bench/run.py -c "$CONF" -d "$DB" "$@"
